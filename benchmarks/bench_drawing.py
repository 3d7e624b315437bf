"""How fast the drawing layer renders a stepper's frames (timings printed, never asserted).

    python benchmarks/bench_drawing.py

For a ~25-box and a 100-box synthetic autograd scene it builds stepper-like frames
(the forward graph growing box by box, then backward steps that highlight a node, put
gradients on its edges and fill in leaves' ``grad`` rows), lays out all frames once,
and prints: the first picture's time (layout + renderer + first frame), then the median
time per frame for SVG and PNG while stepping through frames seen for the first time.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from dataclasses import replace

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


def stepper_frames(n_boxes: int, seed: int = 7) -> list[tuple[object, object]]:
    """(scene, highlight) pairs: forward build-up, then backward steps."""
    from gradlab.drawing import Highlight, Scene
    from gradlab.drawing.sample_scenes import synthetic_scene

    full = synthetic_scene(n_boxes, seed=seed)
    frames: list[tuple[object, object]] = []
    tensors = [b.key for b in full.boxes if not b.is_node]
    for i in range(1, len(tensors) + 1):  # forward: one more tensor (and its nodes) per step
        keep = set(tensors[:i])
        keep |= {b.key for b in full.boxes if b.is_node and b.anchor in keep}
        frames.append((full.subset(keep), Highlight(active={tensors[i - 1]})))
    scene = full
    nodes = [b for b in full.boxes if b.is_node and b.title != "AccumulateGrad"]
    for step, node in enumerate(reversed(nodes)):  # backward: one node per step
        out = [e for e in full.edges if e.src == node.key and e.kind == "next"]
        notes = {(e.src, e.dst): f"grad {step + 1}." for e in out}
        for e in out:
            target = scene.box(e.dst)
            if target.title == "AccumulateGrad" and target.anchor in scene:
                leaf = scene.box(target.anchor)
                rows = tuple(
                    f"grad: {step + 1}." if r.startswith("grad:") else r for r in leaf.rows
                )
                scene = scene.replace(replace(leaf, rows=rows))
        hl = Highlight(active={node.key}, active_edges=set(notes), edge_notes=notes)
        frames.append((Scene(scene.boxes, scene.edges), hl))
    return frames


def bench(n_boxes: int) -> None:
    from gradlab.drawing import Renderer, layout

    frames = stepper_frames(n_boxes)
    scenes = [f[0] for f in frames]
    t0 = time.perf_counter()
    lay = layout(scenes)
    t1 = time.perf_counter()
    print(
        f"\n{n_boxes}-box scene: {len(scenes[-1].boxes)} boxes, {len(frames)} frames, "
        f"figure {lay.width:.0f} x {lay.height:.0f} pt; layout of all frames "
        f"{(t1 - t0) * 1000:.1f} ms"
    )
    for fmt in ("svg", "png"):
        r = Renderer(lay)
        render = r.svg if fmt == "svg" else r.png
        times = []
        for scene, hl in frames:
            t = time.perf_counter()
            render(scene, hl)  # type: ignore[arg-type]
            times.append((time.perf_counter() - t) * 1000)
        first, rest = times[0], times[1:]
        print(
            f"  {fmt}: first frame {first:6.1f} ms, then median {statistics.median(rest):6.1f}"
            f" ms / frame (max {max(rest):6.1f})"
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
    print("gradlab.drawing benchmark (medians over stepper frames; smaller is better)")
    for n in (25, 100):
        bench(n)
    print()
    for n in (25, 100):
        for fmt in ("svg", "png"):
            first_picture(n, fmt)


if __name__ == "__main__":
    main()
