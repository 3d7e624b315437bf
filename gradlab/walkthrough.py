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
'MulBackward0 receives 1.0, multiplies by the saved b = 3.0 and sends 3.0 to AccumulateGrad for a.'
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Any

from gradlab.drawing.layout import layout
from gradlab.drawing.render import Renderer
from gradlab.drawing.scene import Highlight, Scene
from gradlab.picture import build_scene, forward_edges, number
from gradlab.recording import Recording, Step, TensorState


@dataclass(frozen=True)
class Frame:
    """One step as shown: what exists, what is lit, and what is said."""

    step: Step
    states: dict[str, TensorState]
    nodes: tuple[str, ...]
    highlight: Highlight
    narration: str


class Walkthrough:
    """Step through a :class:`~gradlab.Recording`: forward steps build the graph, backward
    steps move the gradient along it."""

    def __init__(self, recording: Recording, direction: str = "LR") -> None:
        self.recording = recording
        self.index = 0
        self._forward = forward_edges(recording)
        self.frames = _frames(recording, self._forward)
        if not self.frames:
            raise ValueError("the recording has no steps: record some tensor code first")
        self._boxes: dict = {}  # boxes shared by frames that show the same state
        self._scenes = [self._scene(i) for i in range(len(self.frames))]
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

    # --- pictures -----------------------------------------------------------------------

    def _scene(self, i: int) -> Scene:
        frame = self.frames[i]
        return build_scene(self.recording, frame.states, frame.nodes, self._forward, self._boxes)

    def frame_svg(self, i: int) -> str:
        """Frame ``i`` as SVG (rendered once, then cached)."""
        if i not in self._svg:
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


def _frames(rec: Recording, forward: list[tuple[str, str, str]]) -> list[Frame]:
    states: dict[str, TensorState] = {}
    nodes: dict[str, None] = {}
    frames = []
    for step in rec.steps:
        states = {**states, **step.changed}
        for st in states.values():
            if st.grad_fn is not None:
                _add_with_next(rec, st.grad_fn, nodes)
        if step.kind == "NodeExecuted" and rec.key_of(step.event.node) is not None:
            if rec.nodes[rec.key_of(step.event.node)].variable is not None:
                continue  # AccumulateGrad's own step is told by GradAccumulated
        text, highlight = _tell(rec, step, states)
        frames.append(Frame(step, states, tuple(nodes), highlight, text))
    return frames


def _phase(step: Step) -> str:
    return "error" if step.kind in ("BackwardFailed", "Error") else step.phase


def _add_with_next(rec: Recording, key: str, nodes: dict[str, None]) -> None:
    stack = [key]
    while stack:
        k = stack.pop()
        if k in nodes or k not in rec.nodes:
            continue
        nodes[k] = None
        stack.extend(t for t, _ in rec.nodes[k].next if t is not None)


def _name(rec: Recording, obj: Any) -> str:
    key = rec.key_of(obj)
    return rec.names.get(key, "a tensor") if key is not None else "a tensor"


def _node_phrase(rec: Recording, node_key: str | None) -> str:
    if node_key is None:
        return "nowhere"
    info = rec.nodes[node_key]
    if info.variable is not None:
        return f"AccumulateGrad for {rec.names.get(info.variable, 'a leaf')}"
    return info.name


def _tell(rec: Recording, step: Step, states: dict[str, TensorState]) -> tuple[str, Highlight]:
    """The narration and highlight of one step."""
    teller = _TELLERS.get(step.kind)
    if teller is None:
        return f"{step.kind}.", Highlight()
    return teller(rec, step, states)


def _created(rec: Recording, step: Step, states: dict) -> tuple[str, Highlight]:
    t = step.event.tensor
    key, name = rec.key_of(t), _name(rec, t)
    if states[key].requires_grad:
        text = (
            f"{name} is created: a leaf holding {number(t._data)} with requires_grad=True, "
            f"so it is on the graph and its gradient will land in {name}.grad."
        )
    else:
        text = (
            f"{name} is created: a leaf holding {number(t._data)} that does not require "
            "grad (a 'dried-up' leaf, off the graph)."
        )
    return text, Highlight(active={key})


def _op(rec: Recording, step: Step, states: dict) -> tuple[str, Highlight]:
    ev = step.event
    outs = [rec.key_of(o) for o in ev.outputs if rec.key_of(o) is not None]
    names = ", ".join(rec.names.get(k, "?") for k in outs)
    result = ", ".join(number(states[k].data) for k in outs)
    inputs = [rec.key_of(x) for x in ev.inputs if rec.key_of(x) is not None]
    lit = set(outs) | set(inputs)
    if ev.node is None:
        text = (
            f"{names} = {result}. No input requires grad, so no graph is recorded: "
            f"{names} is a leaf with grad_fn None."
        )
        return text, Highlight(active=lit)
    node_key = rec.key_of(ev.node)
    info = rec.nodes[node_key]
    text = f"{names} = {result}. An input requires grad, so {names} gets grad_fn=<{info.name}>"
    if len(outs) > 1:
        text += (
            f", shared by all {len(outs)} outputs, told apart by output index 0..{len(outs) - 1}"
        )
    saved = [f"{slot} = {_saved_value(rec, tkey, value)}" for slot, tkey, value, _ in info.saved]
    text += f"; it saves {', '.join(saved)} for backward." if saved else "; it saves nothing."
    edges = {(i, o) for i in inputs for o in outs} | {(o, node_key) for o in outs}
    return text, Highlight(active=lit | {node_key}, active_edges=edges)


def _saved_value(rec: Recording, tkey: str | None, value: Any) -> str:
    name = rec.names.get(tkey) if tkey is not None else None
    return f"{name} ({number(value)})" if name else number(value)


def _inplace(rec: Recording, step: Step, states: dict) -> tuple[str, Highlight]:
    ev = step.event
    key, name = rec.key_of(ev.tensor), _name(rec, ev.tensor)
    text = (
        f"{step.source or ev.name} changes {name} in place to {number(states[key].data)}: "
        f"its version goes from {ev.version - 1} to {ev.version}."
    )
    if ev.node is not None:
        text += f" Its grad_fn is now <{rec.nodes[rec.key_of(ev.node)].name}>."
    return text, Highlight(
        active={key}, box_notes={key: f"_version {ev.version - 1} → {ev.version}"}
    )


def _changed(rec: Recording, step: Step, states: dict) -> tuple[str, Highlight]:
    ev = step.event
    key, name = rec.key_of(ev.tensor), _name(rec, ev.tensor)
    if ev.what == "detach":
        rkey = rec.key_of(ev.result)
        text = (
            f"{rec.names.get(rkey)} = {name}.detach() shares {name}'s data "
            f"({number(ev.tensor._data)}) but is a leaf off the graph: requires_grad=False, "
            "grad_fn None."
        )
        return text, Highlight(active={key, rkey})
    if ev.what == "requires_grad_":
        text = (
            f"{name}.requires_grad_() makes {name} a leaf on the graph: from now on, ops "
            f"on {name} are recorded and its gradient will be stored in {name}.grad."
        )
    elif ev.what == "retain_grad":
        node = states[key].grad_fn
        text = (
            f"{name}.retain_grad() registers a hook on {rec.nodes[node].name} that keeps "
            f"{name}'s gradient in {name}.grad (non-leaf grads are not kept otherwise)."
        )
    else:
        text = f"A hook is registered on {name}; it will see {name}'s gradient during backward."
    return text, Highlight(active={key})


def _started(rec: Recording, step: Step, states: dict) -> tuple[str, Highlight]:
    (node, _), grad = step.event.roots[0], step.event.grads[0]
    key = rec.key_of(node)
    root = next((k for k, st in states.items() if st.grad_fn == key), None)
    who = rec.names.get(root, "the output") if root else "the output"
    text = (
        f"{step.source or 'backward()'} starts the backward pass: the gradient of {who} "
        f"with respect to itself, {number(grad)}, is handed to {_node_phrase(rec, key)}."
    )
    edges = {(root, key)} if root else set()
    return text, Highlight(
        active={key}, active_edges=edges, edge_notes={e: f"grad {number(grad)}" for e in edges}
    )


def _executed(rec: Recording, step: Step, states: dict) -> tuple[str, Highlight]:
    ev = step.event
    key = rec.key_of(ev.node)
    info = rec.nodes[key]
    grad_in = ev.grads_in[0] if len(ev.grads_in) == 1 else ev.grads_in
    received = (
        number(grad_in)
        if len(ev.grads_in) == 1
        else ", ".join(
            f"{number(g)} (output {i})" for i, g in enumerate(ev.grads_in) if g is not None
        )
    )
    parts = []
    notes, edges, box_notes = {}, set(), {}
    for sent in step.sends:
        target = rec.key_of(sent.target)
        where = _node_phrase(rec, target)
        edges.add((key, target))
        notes[(key, target)] = f"grad {number(sent.grad)}"
        text = f"{_formula(rec, info, sent.position, grad_in)}{number(sent.grad)} to {where}"
        if not _same(sent.total, sent.grad):
            earlier = number(sent.total - sent.grad)
            text += (
                f" (which now holds {earlier} + {number(sent.grad)} = "
                f"{number(sent.total)}: a split in the forward pass is a sum here)"
            )
            box_notes[target] = f"Σ grad {number(sent.total)}"
        parts.append(text)
    how = _how(rec, info)
    sends = " and ".join(parts) if parts else "nothing further"
    text = f"{info.name} receives {received}{how} and sends {sends}."
    return text, Highlight(active={key}, active_edges=edges, edge_notes=notes, box_notes=box_notes)


def _same(a: Any, b: Any) -> bool:
    import numpy as np

    return a is b or np.array_equal(np.asarray(a), np.asarray(b))


def _formula(rec: Recording, info: Any, position: int, grad_in: Any) -> str:
    """How the gradient on one edge is made, e.g. '1.0 × i (8.0) = ', where the node's
    rule differs between its inputs."""
    saved = {slot: (tkey, value) for slot, tkey, value, _ in info.saved}
    g = number(grad_in)
    if info.name == "MulBackward0" and len(saved) == 2:
        factor = saved["other" if position == 0 else "self"]
        return f"{g} × {_saved_value(rec, *factor)} = "
    if info.name == "DivBackward0" and "other" in saved:
        other = _saved_value(rec, *saved["other"])
        if position == 0:
            return f"{g} / {other} = "
        if "self" in saved:
            return f"-{g} × {_saved_value(rec, *saved['self'])} / {other}² = "
    return ""


def _how(rec: Recording, info: Any) -> str:
    """The node's rule in words, with its saved values."""
    saved = {slot: (tkey, value) for slot, tkey, value, _ in info.saved}
    if info.name == "MulBackward0":
        if len(saved) != 1:
            return ""
        ((tkey, value),) = saved.values()
        name = rec.names.get(tkey) if tkey is not None else None
        return f", multiplies by the saved {name + ' = ' if name else ''}{number(value)}"
    if info.name in ("AddBackward0",):
        return ", passes it on unchanged"
    if info.name == "SubBackward0":
        return ", passes it on (negated for the right-hand side)"
    if info.name == "UnbindBackward0":
        return ", stacks the gradients of its outputs back into one"
    return ""


def _accumulated(rec: Recording, step: Step, states: dict) -> tuple[str, Highlight]:
    ev = step.event
    key, node = rec.key_of(ev.variable), rec.key_of(ev.node)
    name = rec.names.get(key, "the leaf")
    before = "None" if ev.before is None else number(ev.before)
    added = ev.after if ev.before is None else ev.after - ev.before
    text = (
        f"AccumulateGrad for {name} adds {number(added)} into {name}.grad: "
        f"it was {before}, now it is {number(ev.after)}."
    )
    return text, Highlight(
        active={key, node},
        active_edges={(node, key)},
        box_notes={key: f"grad {before} → {number(ev.after)}"},
    )


def _hook(rec: Recording, step: Step, states: dict) -> tuple[str, Highlight]:
    ev = step.event
    node = rec.key_of(ev.node)
    owners = [k for k, st in states.items() if st.grad_fn == node and st.retains_grad]
    if ev.kind == "retain_grad" and owners:
        name = rec.names.get(owners[0])
        text = (
            f"{name}'s retain_grad hook runs before {rec.nodes[node].name} and keeps "
            f"{number(ev.grad_after)} in {name}.grad."
        )
        return text, Highlight(active={node, owners[0]})
    text = (
        f"A {ev.kind} hook on {_node_phrase(rec, node)} sees the gradient {number(ev.grad_before)}"
    )
    text += (
        "."
        if _same(ev.grad_before, ev.grad_after)
        else f" and replaces it with {number(ev.grad_after)}."
    )
    return text, Highlight(active={node})


def _failed(rec: Recording, step: Step, states: dict) -> tuple[str, Highlight]:
    ev = step.event
    node = rec.key_of(ev.node)
    saved = getattr(ev.error, "saved", None)
    if saved is None:
        return f"{_node_phrase(rec, node)} fails: {ev.error}", Highlight(error={node})
    tensor = saved.tensor
    tkey = rec.key_of(tensor)
    name = rec.names.get(tkey, "a saved tensor")
    done = [rec.names.get(k) for k, st in states.items() if st.grad is not None and st.is_leaf]
    text = (
        f"{rec.nodes[node].name} unpacks its saved {_slot_of(rec.nodes[node], tkey)} "
        f"({name}): it was "
        f"saved at version {saved.version} but is now at version "
        f"{ev.error.current_version}, because an in-place op changed it. PyTorch raises "
        "'one of the variables needed for gradient computation has been modified by an "
        "inplace operation'."
    )
    if done:
        text += f" Already accumulated before the error: {', '.join(done)}.grad."
    error = {node} | ({tkey} if tkey else set())
    notes = {tkey: f"saved @v{saved.version}, now v{ev.error.current_version}"} if tkey else {}
    return text, Highlight(error=error, box_notes=notes)


def _slot_of(info: Any, tensor_key: str | None) -> str:
    """Which saved slot of a node holds a tensor ('self', 'other', ...)."""
    return next((slot for slot, key, _, _ in info.saved if key == tensor_key), "tensor")


def _error(rec: Recording, step: Step, states: dict) -> tuple[str, Highlight]:
    err = step.event
    return f"{step.source}: {type(err).__name__}: {err}", Highlight()


def _finished(rec: Recording, step: Step, states: dict) -> tuple[str, Highlight]:
    grads = [
        f"{rec.names.get(k)}.grad = {number(st.grad)}"
        for k, st in states.items()
        if st.grad is not None
    ]
    text = "The backward pass is done"
    text += (": " + ", ".join(grads) + ".") if grads else "."
    return text, Highlight(active={k for k, st in states.items() if st.grad is not None})


_TELLERS = {
    "TensorCreated": _created,
    "OpApplied": _op,
    "InplaceApplied": _inplace,
    "TensorChanged": _changed,
    "BackwardStarted": _started,
    "NodeExecuted": _executed,
    "GradAccumulated": _accumulated,
    "HookFired": _hook,
    "BackwardFailed": _failed,
    "Error": _error,
    "BackwardFinished": _finished,
}

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
