"""How fast the pictures and the stepper respond (printed, never asserted).

For the lesson-5 graph and a graph of about 100 boxes: the first picture (record, build the
walkthrough, render frame 0), and the median time of one step (model update + rendering a
frame not seen before). Targets: first picture <= 0.5 s; a step <= 50 ms on lesson 5 and
<= 150 ms at 100 boxes.

    python benchmarks/bench_stepper.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import gradlab


def hundred_boxes() -> gradlab.Recording:
    """Two leaves and 24 rounds of (multiply, tanh): about 100 tensor and node boxes."""
    with gradlab.record() as rec:
        x = gradlab.tensor(0.5, requires_grad=True)
        w = gradlab.tensor(1.1, requires_grad=True)
        y = x
        for _ in range(24):
            y = (y * w).tanh()
        y.backward()
    return rec


def measure(make: Callable[[], gradlab.Recording]) -> tuple[float, float, int, int]:
    start = time.perf_counter()
    walk = gradlab.Walkthrough(make())
    walk.to_svg()
    first = time.perf_counter() - start
    steps = []
    for index in range(1, len(walk)):
        t0 = time.perf_counter()
        walk.goto(index)
        walk.to_svg()
        steps.append(time.perf_counter() - t0)
    boxes = len(walk._scenes[-1].boxes)
    return first, statistics.median(steps), len(walk), boxes


def main() -> None:
    measure(gradlab.examples.div_add_graph)  # warm up imports and fonts
    print(
        f"{'graph':<14}{'boxes':>6}{'steps':>7}{'first picture':>15}{'step (median)':>15}"
        f"{'targets':>22}"
    )
    for label, make, step_target in (
        ("lesson 5", gradlab.examples.div_add_graph, 50),
        ("100 boxes", hundred_boxes, 150),
    ):
        first, step, n, boxes = measure(make)
        met = "met" if first <= 0.5 and step * 1000 <= step_target else "NOT met"
        print(
            f"{label:<14}{boxes:>6}{n:>7}{first * 1000:>12.0f} ms{step * 1000:>12.1f} ms"
            f"   <=500 ms, <={step_target} ms  {met}"
        )


if __name__ == "__main__":
    main()
