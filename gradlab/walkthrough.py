"""The walkthrough: a recording as a sequence of frames you can step through.

A plain-Python model (no widgets): ``len(w)``, ``w.index``, ``w.goto(i)``, ``w.next()``,
``w.prev()``, ``w.narration`` (the current step in words, with the real numbers),
``w.to_svg()`` (the current frame) and ``w.to_html()`` (every frame in one page that steps
without a kernel). In a notebook it displays as the stepper widget.

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

import html
import json
from collections.abc import Mapping

from gradlab.drawing.layout import layout
from gradlab.drawing.render import Renderer
from gradlab.drawing.scene import Scene
from gradlab.frames import Flow, Frame, Timeline
from gradlab.narration import Narrator
from gradlab.picture import build_scene, forward_edges
from gradlab.recording import Recording, Step, TensorState

__all__ = ["Flow", "Frame", "Walkthrough"]


class Walkthrough:
    """Step through a :class:`~gradlab.Recording`: forward steps build the graph, backward
    steps move the gradient along it."""

    def __init__(self, recording: Recording, direction: str = "LR") -> None:
        self.recording = recording
        self.index = 0
        self._timeline = Timeline(recording)
        self.frames = _frames(recording, self._timeline)
        if not self.frames:
            raise ValueError("the recording has no steps: record some tensor code first")
        self._forward = forward_edges(recording)
        self._boxes: dict = {}  # boxes shared by frames that show the same state
        self._scenes: list[Scene] | None = None  # built with the first picture
        self._direction = direction
        self._renderer: Renderer | None = None  # built with the first picture
        self._svg: dict[int, str] = {}

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

    def owners(self, node: str) -> list[str]:
        """The tensor keys a node belongs to (its outputs; a leaf for AccumulateGrad)."""
        return self._timeline.owners(node)

    # --- pictures -----------------------------------------------------------------------

    def _scene(self, i: int) -> Scene:
        return build_scene(
            self.recording, self.states_at(i), self.nodes_at(i), self._forward, self._boxes
        )

    def frame_svg(self, i: int) -> str:
        """Frame ``i`` as SVG (rendered once, then cached)."""
        if i not in self._svg:
            if self._scenes is None:
                self._scenes = [self._scene(k) for k in range(len(self.frames))]
            if self._renderer is None:
                # one layout for all frames, so nothing moves between steps
                self._renderer = Renderer(layout(self._scenes, self._direction))
            self._svg[i] = self._renderer.svg(self._scenes[i], self.frames[i].highlight)
        return self._svg[i]

    def to_svg(self) -> str:
        """The current frame as SVG."""
        return self.frame_svg(self.index)

    def to_html(self, title: str = "gradlab walkthrough") -> str:
        """One self-contained page with every frame and Prev/Next buttons (arrow keys
        work too); it needs no kernel and loads nothing from the network."""
        frames = [
            {
                "svg": self.frame_svg(i),
                "text": f.narration,
                "source": f.step.source,
                "phase": _phase(f.step),
            }
            for i, f in enumerate(self.frames)
        ]
        data = json.dumps(frames).replace("<", "\\u003c")  # no markup inside the script
        head, rest = _PAGE.split("{{title}}")
        middle, tail = rest.split("{{frames}}")
        return head + html.escape(title) + middle + data + tail

    def _ipython_display_(self) -> None:
        from IPython.display import display

        from gradlab.widgets import Stepper

        display(Stepper(self))

    def __repr__(self) -> str:
        return f"<Walkthrough: step {self.index + 1} of {len(self)}>"


# --- from recorded steps to frames ---------------------------------------------------------


def _frames(rec: Recording, timeline: Timeline) -> list[Frame]:
    """One frame per step (an AccumulateGrad node's own step is told by its
    GradAccumulated step); the timeline learns each step's changes on the way."""
    narrator = Narrator(timeline)
    frames: list[Frame] = []
    for step in rec.steps:
        i = len(frames)
        timeline.record(i, step.changed)
        if step.kind == "NodeExecuted":
            key = rec.key_of(step.event.node)
            if key is not None and rec.nodes[key].variable is not None:
                continue
        text, highlight, flows = narrator.tell(step, i)
        frames.append(Frame(step, text, highlight, flows))
    return frames


def _phase(step: Step) -> str:
    return "error" if step.kind in ("BackwardFailed", "Error") else step.phase


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{title}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
#controls button { font-size: 1.1em; padding: .3em .9em; margin-right: .4em; }
#source { font-family: monospace; background: #f4f4f4; padding: .3em .6em; }
#narration { font-size: 1.15em; margin: .6em 0; min-height: 2.6em; }
#frame svg { max-width: 100%; height: auto; }
</style></head><body>
<div id="controls"><button id="prev">&#9664; Prev</button><button id="next">Next &#9654;</button>
<button id="reset">Reset</button> <span id="counter"></span></div>
<p><code id="source"></code></p><p id="narration"></p><div id="frame"></div>
<script>
const frames = {{frames}};
let i = 0;
function show(k) {
  i = Math.max(0, Math.min(frames.length - 1, k));
  const f = frames[i];
  document.getElementById("frame").innerHTML = f.svg;
  document.getElementById("narration").textContent = f.text;
  document.getElementById("source").textContent = f.source;
  document.getElementById("counter").textContent =
    "step " + (i + 1) + " / " + frames.length + " \\u00b7 " + f.phase;
  document.getElementById("prev").disabled = i === 0;
  document.getElementById("next").disabled = i === frames.length - 1;
}
document.getElementById("prev").onclick = () => show(i - 1);
document.getElementById("next").onclick = () => show(i + 1);
document.getElementById("reset").onclick = () => show(0);
document.addEventListener("keydown", e => {
  if (e.key === "ArrowRight") show(i + 1);
  if (e.key === "ArrowLeft") show(i - 1);
});
show(0);
</script></body></html>
"""
