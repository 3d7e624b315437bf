"""A stand-in for ``gradlab.Walkthrough`` with the same interface, for widget tests.

It lets the stepper be tested without the recorder: fixed steps, a tiny drawing, and a
count of the step records made (to check what the stepper sends)::

    from tests.fake_walkthrough import FakeWalkthrough
    w = FakeWalkthrough.lesson1()
    w.next(); w.narration
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FakeStep:
    """One step: the code line, the phase and the narration."""

    source: str
    phase: str
    narration: str


LESSON1 = (
    FakeStep(
        "a = gradlab.tensor(2.0, requires_grad=True)",
        "forward",
        "a is a leaf that requires grad: data 2.0, grad None.",
    ),
    FakeStep(
        "b = gradlab.tensor(3.0)", "forward", "b is a leaf that does not require grad: data 3.0."
    ),
    FakeStep(
        "c = a * b", "forward", "c = a * b = 6.0; MulBackward0 saves b = 3.0 for the backward pass."
    ),
    FakeStep("c.backward()", "backward", "backward() seeds c's gradient with 1.0."),
    FakeStep(
        "c.backward()",
        "backward",
        "MulBackward0 receives 1.0, multiplies by the saved b = 3.0 and sends 3.0 to "
        "AccumulateGrad for a.",
    ),
    FakeStep("c.backward()", "backward", "AccumulateGrad adds 3.0 to a.grad, which becomes 3.0."),
)


class FakeWalkthrough:
    """The ``gradlab.Walkthrough`` interface over a fixed list of :class:`FakeStep`."""

    def __init__(self, steps: tuple[FakeStep, ...] | list[FakeStep] = LESSON1) -> None:
        self.steps = list(steps)
        self.index = 0
        self.rendered: list[int] = []  # step records made

    @classmethod
    def lesson1(cls) -> FakeWalkthrough:
        """The six steps of ``c = a * b; c.backward()``."""
        return cls(LESSON1)

    def __len__(self) -> int:
        return len(self.steps)

    def goto(self, i: int) -> None:
        self.index = min(max(int(i), 0), len(self.steps) - 1)

    def next(self) -> None:
        self.goto(self.index + 1)

    def prev(self) -> None:
        self.goto(self.index - 1)

    def reset(self) -> None:
        self.goto(0)

    @property
    def narration(self) -> str:
        return self.steps[self.index].narration

    @property
    def source(self) -> str:
        return self.steps[self.index].source

    @property
    def phase(self) -> str:
        return self.steps[self.index].phase

    @property
    def view(self) -> FakeView:
        return FakeView(self)


class FakeView:
    """The picture side: a tiny drawing, one record per step (counted in ``rendered``)."""

    def __init__(self, walkthrough: FakeWalkthrough) -> None:
        self.w = walkthrough

    def start(self) -> dict:
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="60" '
            'viewBox="0 0 320 60"><rect width="320" height="60" fill="#b3cdf0"/></svg>'
        )
        return {"svg": svg, "n": len(self.w), "details": {}}

    def step(self, i: int) -> dict:
        self.w.rendered.append(i)
        step = self.w.steps[i]
        return {
            "lit": [],
            "err": [],
            "notes": [],
            "rows": {},
            "undo": {},
            "det": {},
            "undet": {},
            "focus": [0, 0, 320, 60],
            "text": step.narration,
            "source": step.source,
            "phase": step.phase,
        }
