"""How fast and how big the walkthrough is, against issue 7's targets (printed, never asserted).

The program is a chain ``x = x * 1.01 + x0`` recorded, then ``backward()``; "ops" counts the
recorded ops (two per round). For each size it prints: ``Walkthrough(rec)``, the first
picture (the stepper widget built: layout, drawing, first step), each step's widget update
(median and max over Next clicks, messages serialised as the kernel would), the exported
page's size, and the peak memory of a fresh process doing all of it. Then lesson 5's step,
the layout of 1,000 boxes, and, when Chromium is there, the exported page's step in the
browser (click to the next painted frame). Times are also shown as a ratio to recording
the same program (the peer measured in the same run).

    python benchmarks/bench_stepper.py            # 1,000 and 5,000 ops
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import gradlab

TARGETS = {
    "walkthrough": 1.0,
    "first": 1.0,
    "step": 0.050,
    "page_mb": 5.0,
    "peak_mb": 1024.0,
    "browser_step": 0.100,
    "layout": 1.0,
}


def chain(ops: int) -> gradlab.Recording:
    """``x = x * 1.01 + x0``, ``ops // 2`` times, then backward."""
    with gradlab.record() as rec:
        x0 = gradlab.tensor(1.0, requires_grad=True)
        x = x0
        for _ in range(ops // 2):
            x = x * 1.01 + x0
        x.backward()
    return rec


def steps_of(walk: gradlab.Walkthrough, clicks: int) -> list[float]:
    """Seconds per Next click of the stepper widget (kernel side, message serialised)."""
    from gradlab.widgets import Stepper

    stepper = Stepper(walk)
    stepper.frame.send = lambda msg: json.dumps(msg)  # what the comm would do
    times = []
    for _ in range(min(clicks, len(walk) - 1)):
        t = time.perf_counter()
        stepper.next_button.click()
        times.append(time.perf_counter() - t)
    return times


def measure(ops: int) -> dict[str, float]:
    from gradlab.widgets import Stepper

    t = time.perf_counter()
    rec = chain(ops)
    record = time.perf_counter() - t
    t = time.perf_counter()
    walk = gradlab.Walkthrough(rec)
    walkthrough = time.perf_counter() - t
    t = time.perf_counter()
    Stepper(walk)
    first = time.perf_counter() - t
    steps = steps_of(walk, 300)
    t = time.perf_counter()
    page = walk.to_html()
    page_s = time.perf_counter() - t
    return {
        "ops": ops,
        "frames": len(walk),
        "boxes": len(walk.view.scene.boxes),
        "record": record,
        "walkthrough": walkthrough,
        "first": first,
        "step": statistics.median(steps),
        "step_max": max(steps),
        "page_mb": len(page.encode()) / 1e6,
        "page_s": page_s,
    }


def peak_memory_mb(ops: int) -> float:
    """Peak resident memory of a fresh process that records, builds the walkthrough and
    the stepper, steps 100 times and writes the page."""
    code = (
        "import resource, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from bench_stepper import chain, steps_of\n"
        "import gradlab\n"
        f"w = gradlab.Walkthrough(chain({ops}))\n"
        "steps_of(w, 100)\n"
        "w.to_html()\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


def layout_of_boxes(n: int) -> tuple[int, float]:
    from gradlab.drawing import layout
    from gradlab.drawing.sample_scenes import synthetic_scene

    scene = synthetic_scene(n, seed=3)
    layout(scene)  # imports
    t = time.perf_counter()
    layout(scene)
    return len(scene.boxes), time.perf_counter() - t


def browser_step(ops: int) -> float | None:
    """Median ms from a click on Next to the next painted frame, in Chromium, for the
    exported page of an ``ops``-op walkthrough (None without playwright/Chromium)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    if not os.access(CHROMIUM, os.X_OK):
        return None
    walk = gradlab.Walkthrough(chain(ops))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "page.html"
        path.write_text(walk.to_html(), encoding="utf-8")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(path.as_uri())
            page.wait_for_selector(".gradlab-view[data-step='0']")
            times = page.evaluate(
                """async (n) => {
                  const next = document.getElementById('next'), out = [];
                  const frame = () => new Promise(r => requestAnimationFrame(() => r()));
                  for (let k = 0; k < n; k++) {
                    const t = performance.now();
                    next.click();
                    await frame(); await frame();
                    out.push(performance.now() - t);
                  }
                  return out;
                }""",
                200,
            )
            browser.close()
    return statistics.median(times) / 1000


def main() -> None:
    measure(20)  # warm up imports and fonts
    print("issue 7's table (chain x = x * 1.01 + x0, recorded, then backward)\n")
    print(
        f"{'ops':>6}{'frames':>7}{'boxes':>7}{'record':>9}{'Walkthrough':>13}{'first pic':>11}"
        f"{'step med/max':>17}{'page':>14}{'peak mem':>10}"
    )
    rows = []
    for ops in (1000, 5000):
        m = measure(ops)
        m["peak_mb"] = peak_memory_mb(ops)
        rows.append(m)
        print(
            f"{ops:>6}{m['frames']:>7}{m['boxes']:>7}{m['record']:>8.2f}s"
            f"{m['walkthrough']:>12.2f}s{m['first']:>10.2f}s"
            f"{m['step'] * 1000:>9.2f}/{m['step_max'] * 1000:.1f} ms"
            f"{m['page_mb']:>7.2f} MB {m['page_s']:.1f}s{m['peak_mb']:>8.0f} MB"
        )
    print("\nas a ratio to recording the program (same run):")
    for m in rows:
        print(
            f"  {m['ops']} ops: Walkthrough {m['walkthrough'] / m['record']:.2f}x, first picture "
            f"{m['first'] / m['record']:.2f}x, one step {m['step'] / m['record']:.5f}x"
        )
    lesson = statistics.median(steps_of(gradlab.Walkthrough(gradlab.examples.div_add_graph()), 30))
    boxes, lay = layout_of_boxes(1000)
    browser = browser_step(1000)
    m = rows[0]
    checks = [
        ("1,000 ops: Walkthrough(rec)", m["walkthrough"], "walkthrough", "s"),
        ("1,000 ops: first picture", m["first"], "first", "s"),
        ("1,000 ops: each step (median)", m["step"], "step", "s"),
        ("1,000 ops: exported page", m["page_mb"], "page_mb", "MB"),
        ("5,000 ops: peak memory", rows[1]["peak_mb"], "peak_mb", "MB"),
        ("lesson 5: each step (median)", lesson, "step", "s"),
        (f"layout of {boxes} boxes", lay, "layout", "s"),
    ]
    if browser is not None:
        checks.append(("1,000 ops: page step in Chromium", browser, "browser_step", "s"))
    print()
    for label, value, target, unit in checks:
        met = "met" if value <= TARGETS[target] else "NOT met"
        if unit == "s":
            shown, goal = f"{value * 1000:.1f} ms", f"{TARGETS[target] * 1000:.0f} ms"
        else:
            shown, goal = f"{value:.2f} {unit}", f"{TARGETS[target]:.0f} {unit}"
        print(f"  {label:<36}{shown:>12}   target <= {goal:<8} {met}")
    if browser is None:
        print("  (no Chromium/playwright: the page's browser step was not measured)")


if __name__ == "__main__":
    main()
