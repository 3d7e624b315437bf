"""The walkthrough: a recording as a sequence of frames you can step through.

A plain-Python model (no widgets): ``len(w)``, ``w.index``, ``w.goto(i)``, ``w.next()``,
``w.prev()``, ``w.narration`` (the current step in words, with the real numbers),
``w.to_svg()`` and ``w.save(path)`` (the current frame) and ``w.to_html()`` (one page that steps
without a kernel). In a notebook it displays as the stepper widget.

Each frame is data (see :mod:`gradlab.frames`): ``w.frames[i].flows`` are the gradients a
node sent in that step, one :class:`Flow` per ``next_functions`` slot (draw edge labels
keyed by ``(flow.source_key, flow.position)``; ``flow.total`` is the sum arrived at the
target so far). The seed of ``backward()`` is no flow: its ``BackwardStarted`` frame puts
it in ``highlight.edge_notes[(root tensor key, root node key)]``. Accumulation into a leaf
is the flow into its AccumulateGrad node, then the ``GradAccumulated`` frame's
``highlight.box_notes[leaf key]`` ("grad None → 3.0"). ``w.state_at(key, i)``,
``w.appears_at``, ``w.display_name(key)``, ``w.saved_at(node, i)`` (saved and current
versions, freed) answer the rest without scanning the recording.

>>> import gradlab
>>> with gradlab.record() as rec:
...     a = gradlab.tensor(2.0, requires_grad=True)
...     b = gradlab.tensor(3.0)
...     c = a * b
...     c.backward()
>>> w = gradlab.Walkthrough(rec)
>>> w.goto(4)
>>> w.narration
'MulBackward0 of c receives 1.0 and sends 1.0 × b (3.0) = 3.0 to AccumulateGrad of a.'
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping

from gradlab.drawing.svg import render_svg
from gradlab.frames import Flow, Frame, SavedValue, Timeline
from gradlab.narration import Narrator
from gradlab.page import page
from gradlab.recording import Recording, Step, TensorState
from gradlab.stepview import StepView

__all__ = ["Flow", "Frame", "SavedValue", "Walkthrough"]


class Walkthrough:
    """Step through a :class:`~gradlab.Recording`: forward steps build the graph, backward
    steps move the gradient along it."""

    def __init__(
        self, recording: Recording, direction: str = "auto", show: Iterable[str] | None = None
    ) -> None:
        self.recording = recording
        self.index = 0
        self._timeline = Timeline(recording)
        self._shown: set[str] | None = None
        if show is not None:
            self._shown = set(_named(recording, show))
        self.frames = _frames(recording, self._timeline, self.hides)
        if not self.frames:
            raise ValueError("the recording has no steps: record some tensor code first")
        self._direction = direction
        self._view: StepView | None = None  # built with the first picture

    # --- stepping -----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.frames)

    def goto(self, index: int) -> None:
        """Show step ``index`` (clamped to the first and last step)."""
        self.index = max(0, min(int(index), len(self.frames) - 1))

    def next(self) -> None:
        self.goto(self.index + 1)

    def prev(self) -> None:
        self.goto(self.index - 1)

    def reset(self) -> None:
        self.goto(0)

    @property
    def frame(self) -> Frame:
        return self.frames[self.index]

    @property
    def narration(self) -> str:
        """The current step in one or two sentences, with the real numbers."""
        return self.frame.narration

    @property
    def source(self) -> str:
        """The line of code that caused the current step."""
        return self.frame.step.source

    @property
    def phase(self) -> str:
        """'forward', 'backward' or 'error'."""
        return _phase(self.frame.step)

    # --- what each frame shows, as data ------------------------------------------------

    def state_at(self, key: str, i: int) -> TensorState | None:
        """Tensor ``key``'s state as of frame ``i`` (None before it exists)."""
        return self._timeline.state_at(key, i)

    def states_at(self, i: int) -> Mapping[str, TensorState]:
        """Every tensor present at frame ``i`` with its state then (looked up lazily)."""
        return self._timeline.states_at(i)

    def nodes_at(self, i: int) -> tuple[str, ...]:
        """The node keys in the picture at frame ``i``."""
        return self._timeline.nodes_at(i)

    @property
    def appears_at(self) -> Mapping[str, int]:
        """For each tensor and node key, the first frame at which it is in the picture."""
        return self._timeline.appears_at

    def display_name(self, key: str) -> str:
        """How pictures and narration call a tensor or node: ``"a"``,
        ``"MulBackward0 of e"``, ``"AccumulateGrad of a"``."""
        return self._timeline.display_name(key)

    def hides(self, key: str) -> bool:
        """True for a tensor whose values are left out ("?"): ``show`` named the others."""
        return self._shown is not None and key not in self._shown and key in self.recording.tensors

    def retold(self, held: Callable[[int], Container[str]]) -> list[str]:
        """Every frame's narration again, with the values of the tensors ``held(i)`` names
        at frame ``i`` told as "?" (presenter mode holds a step's new values back)."""
        now: list[Container[str]] = [()]
        narrator = Narrator(self._timeline, lambda key: key in now[0] or self.hides(key))
        texts: list[str] = []
        for step in self.recording.steps:
            if not _folded(self.recording, step):
                now[0] = held(len(texts))
                texts.append(narrator.tell(step, len(texts))[0])
        return texts

    def owners(self, node: str) -> list[str]:
        """The tensor keys a node belongs to (its outputs; a leaf for AccumulateGrad)."""
        return self._timeline.owners(node)

    def saved_at(self, node: str, i: int) -> tuple[SavedValue, ...]:
        """What node ``node`` saved, as of frame ``i``: each value's slot, tensor, saved and
        current version (``.stale`` when they differ) and whether backward freed it."""
        return self._timeline.saved_at(node, i)

    def freed_at(self, node: str) -> int | None:
        """The first frame at which ``node``'s saved values are freed (None: never)."""
        return self._timeline.freed_at(node)

    # --- pictures -----------------------------------------------------------------------

    @property
    def view(self) -> StepView:
        """The picture of the whole recording: laid out and drawn once (on first use),
        each step a small change against it."""
        if self._view is None:
            self._view = StepView(self, self._direction)
        return self._view

    def frame_svg(self, i: int) -> str:
        """Frame ``i`` as a whole SVG picture (for saving; the stepper sends only changes)."""
        v = self.view
        return render_svg(
            v.scene_at(i), v.layout, self.frames[i].highlight, False, v.edge_labels(i)
        )

    def to_svg(self) -> str:
        """The current frame as SVG."""
        return self.frame_svg(self.index)

    def save(self, path: str) -> None:
        """Write the current frame to ``path``: SVG for a ``.svg`` name, else PNG.

        >>> w.save("step.png")                 # doctest: +SKIP
        """
        if str(path).lower().endswith(".svg"):
            data = self.to_svg().encode()
        else:
            from gradlab.picture import png

            v, i = self.view, self.index
            hl = self.frames[i].highlight
            data = png(v.scene_at(i), v.layout, hl, v.edge_labels(i), legend=False)
        with open(path, "wb") as f:
            f.write(data)

    def to_html(self, title: str = "gradlab walkthrough") -> str:
        """One self-contained page: the picture stored once plus each step's changes, with
        the stepper's focus view, overview, zoom and click (the widget's own script). It
        needs no kernel and loads nothing from the network."""
        return page(self.view, title)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        from gradlab.widgets import Stepper

        display(Stepper(self))

    def __repr__(self) -> str:
        return f"<Walkthrough: step {self.index + 1} of {len(self)}>"


# --- from recorded steps to frames ---------------------------------------------------------


def _named(rec: Recording, names: Iterable[str]) -> list[str]:
    """The keys of the tensors called ``names`` (refusing a name no tensor has)."""
    keys = {name: key for key, name in rec.names.items()}
    missing = [name for name in names if name not in keys]
    if missing:
        known = ", ".join(sorted(keys)) or "none"
        raise ValueError(f"show: no tensor is named {missing[0]!r} (named tensors: {known})")
    return [keys[name] for name in names]


def _frames(
    rec: Recording, timeline: Timeline, hides: Callable[[str], bool] = lambda key: False
) -> list[Frame]:
    """One frame per step (an AccumulateGrad node's own step is told by its
    GradAccumulated step); the timeline learns each step's changes on the way."""
    narrator = Narrator(timeline, hides)
    frames: list[Frame] = []
    for step in rec.steps:
        i = len(frames)
        timeline.record(i, step.changed)
        if _folded(rec, step):
            continue
        text, highlight, flows = narrator.tell(step, i)
        frames.append(Frame(step, text, highlight, flows))
    return frames


def _folded(rec: Recording, step: Step) -> bool:
    """An AccumulateGrad node's own step: its GradAccumulated step tells it."""
    if step.kind != "NodeExecuted":
        return False
    key = rec.key_of(step.event.node)
    return key is not None and rec.nodes[key].variable is not None


def _phase(step: Step) -> str:
    return "error" if step.kind in ("BackwardFailed", "Error") else step.phase
