"""How fast the drawing layer lays out and draws a scene (timings printed, never asserted).

    python benchmarks/bench_drawing.py

For synthetic autograd scenes of about 25, 100 and 1,000 boxes it prints the layout's time
(the careful layout below ``QUICK_FROM`` boxes, the linear-time one above), the SVG of the
whole scene (written directly, as the stepper's drawing is), and a PNG of it (matplotlib, as
``show()`` and ``Walkthrough.save()`` make it), each also as a ratio to the layout (the peer
measured in the same run); then the first picture in a fresh process (imports included).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable

FIRST_PICTURE = """
import time
t0 = time.perf_counter()
from gradlab.drawing import layout, render_{fmt}
from gradlab.drawing.sample_scenes import synthetic_scene
t1 = time.perf_counter()
s = synthetic_scene({n}, seed=7)
render_{fmt}(s, layout(s))
t2 = time.perf_counter()
print(f"{{(t1 - t0) * 1000:.0f}} {{(t2 - t1) * 1000:.0f}}")
"""


def best_of(fn: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench(n_boxes: int) -> None:
    from gradlab.drawing import layout, render_png, render_svg
    from gradlab.drawing.sample_scenes import synthetic_scene

    scene = synthetic_scene(n_boxes, seed=7)
    lay = layout(scene)
    t_layout = best_of(lambda: layout(scene))
    t_svg = best_of(lambda: render_svg(scene, lay))
    t_png = best_of(lambda: render_png(scene, lay, dpi=36), runs=1)
    print(
        f"{len(scene.boxes):>6} boxes  layout {t_layout * 1000:8.1f} ms   "
        f"svg {t_svg * 1000:8.1f} ms ({t_svg / t_layout:5.2f}x)   "
        f"png {t_png * 1000:8.1f} ms ({t_png / t_layout:5.2f}x)   "
        f"picture {lay.width:.0f} x {lay.height:.0f} pt"
    )


def first_picture(n_boxes: int, fmt: str) -> None:
    code = FIRST_PICTURE.format(n=n_boxes, fmt=fmt)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    print(
        f"  first {fmt} picture, {n_boxes} boxes, fresh process: import {out[0]} ms, "
        f"then layout + render {out[1]} ms"
    )


def main() -> None:
    print("gradlab.drawing benchmark (medians; smaller is better)")
    for n in (25, 100, 1000):
        bench(n)
    print()
    for n in (25, 100):
        for fmt in ("svg", "png"):
            first_picture(n, fmt)


if __name__ == "__main__":
    main()
