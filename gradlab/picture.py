"""The static picture: forward tensors beside the backward graph, in the classic colours.

``gradlab.show(*tensors)`` draws the given tensors, the graph behind them and the other
tensors of the calling code that sit on that graph, labelled with their variable names.
The result displays as PNG and SVG in a notebook, so a saved lesson still shows it.

>>> import gradlab
>>> a = gradlab.tensor(2.0, requires_grad=True)
>>> c = a * 3
>>> picture = gradlab.show(c)
>>> picture
<gradlab picture: 2 tensors, 2 nodes>
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from gradlab._formatting import format_tensor
from gradlab._ops._common import mixed_with_torch
from gradlab._tensor import Tensor
from gradlab.drawing.layout import Layout, layout
from gradlab.drawing.scene import Box, Edge, Highlight, Scene
from gradlab.drawing.svg import render_svg
from gradlab.frames import SavedValue, Timeline
from gradlab.recording import Recording, TensorState

OP_SYMBOLS = {
    "add": "+",
    "sub": "-",
    "rsub": "-",
    "mul": "*",
    "div": "/",
    "pow": "**",
    "matmul": "@",
    "add_": "+=",
    "sub_": "-=",
    "mul_": "*=",
    "div_": "/=",
}


def values(array: Any) -> str:
    """Values as PyTorch prints them, without the ``tensor(...)`` around them (one line;
    more than 12 values: their shape)."""
    if array is None:
        return "None"
    array = np.asarray(array)
    if array.size > 12:
        return f"<{'×'.join(map(str, array.shape))} values>"
    text = format_tensor(array)
    body = text[len("tensor(") : -1]
    return body.split(", dtype=")[0].replace("\n       ", " ")


#: a compact box shows at most this many rows and columns of a tensor's values
GRID = 4


def is_compact(array: Any) -> bool:
    """True for tensors drawn as a grid under a shape-and-dtype row (not one line)."""
    array = np.asarray(array)
    return array.ndim >= 2 or array.size > GRID


def grid(array: np.ndarray) -> list[str]:
    """Up to GRID×GRID values of ``array`` (its last axis across), then ``…``."""
    from gradlab._formatting import _Formatter

    flat = array.reshape(-1, array.shape[-1]) if array.ndim >= 1 else array.reshape(1, 1)
    shown = flat[:GRID, :GRID]
    if shown.size == 0:
        return ["[]"]
    fmt = _Formatter(shown.reshape(-1))
    more_cols = " …" if flat.shape[1] > GRID else ""
    lines = [
        " [" + ", ".join(fmt.format(v) for v in row.tolist()) + more_cols + "]" for row in shown
    ]
    if flat.shape[0] > GRID:
        lines.append(f" … {flat.shape[0] - GRID} more rows")
    return lines


def value_rows(label: str, array: Any) -> list[str]:
    """'data: 2.' for a few values; for more, 'data: 3×3 float32' and a small grid."""
    if array is None or not is_compact(array):
        return [f"{label}: {values(array)}"]
    array = np.asarray(array)
    shape = "×".join(map(str, array.shape))
    return [f"{label}: {shape} {array.dtype.name}", *grid(array)]


def detail(title: str, state: TensorState) -> str:
    """A tensor's full data and grad as PyTorch prints them (shown on a click)."""
    from gradlab._formatting import format_tensor as fmt

    grad = "None" if state.grad is None else fmt(state.grad)
    return f"{title}\ndata: {fmt(state.data)}\ngrad: {grad}"


def tensor_kind(state: TensorState) -> str:
    """brown 'branch', green 'leaf' on the graph, or yellow 'dried' leaf off it."""
    if state.grad_fn is not None:
        return "branch"
    return "leaf" if state.requires_grad else "dried"


class Boxes:
    """What the boxes of one recording say: tensor boxes from a state, node boxes with
    their saved values as of a moment (freed, or out of date when the tensor's version
    moved on). ``name`` gives each key its label (``Walkthrough.display_name``)."""

    def __init__(
        self,
        rec: Recording,
        name: Callable[[str], str],
        hides: Callable[[str], bool] = lambda key: False,
    ) -> None:
        self.rec = rec
        self.name = name
        self.hides = hides  # tensors whose values are left out ("?"), as --show asks
        self.saved_by: dict[str, list[str]] = {}  # tensor key -> nodes that saved it
        for key, info in rec.nodes.items():
            for _, tkey, _, _ in info.saved:
                if tkey is not None and key not in self.saved_by.setdefault(tkey, []):
                    self.saved_by[tkey].append(key)

    def tensor(self, key: str, st: TensorState) -> Box:
        hidden = self.hides(key)
        rows = [
            *(["data: ?", "grad: ?"] if hidden else value_rows("data", st.data)),
            *([] if hidden else value_rows("grad", st.grad)),
            f"grad_fn: {self._node_label(st.grad_fn)}",
            f"is_leaf: {st.is_leaf}",
            f"requires_grad: {st.requires_grad}",
        ]
        savers = self.saved_by.get(key, [])
        if st.version or savers:
            rows.append(f"_version: {st.version}")
        tag = ""
        if savers:
            more = f" and {len(savers) - 2} more" if len(savers) > 2 else ""
            tag = "saved by " + ", ".join(self.name(n) for n in savers[:2]) + more
        return Box(key, tensor_kind(st), self.name(key), tuple(rows), tag=tag)

    def node(self, key: str, anchor: str | None, saved: Sequence[SavedValue], freed: bool) -> Box:
        """``saved``: the node's saved values as of the moment drawn (``Walkthrough.saved_at``);
        ``freed``: a backward pass released them (PyTorch refuses to unpack them)."""
        if freed:
            slots = [v.slot for v in saved]
            node = self.rec.node_objects.get(key)
            if not slots and node is not None:  # released before it was recorded
                slots = [s.lstrip("_") for s in node._saved]
            rows = tuple(f"saved {s}: (freed)" for s in slots)
            return Box(key, "node", self.name(key), rows, anchor=anchor)
        rows = []
        for v in saved:
            label = self.name(v.tensor_key) if v.tensor_key is not None else None
            if v.stale:
                rows.append(
                    f"saved {v.slot}: {label or 'output'} @v{v.version}, now v{v.current_version}"
                )
            else:
                hidden = v.tensor_key is not None and self.hides(v.tensor_key)
                text = "?" if hidden else values(v.value)
                rows.append(
                    f"saved {v.slot}: {label} = {text}" if label else f"saved {v.slot}: {text}"
                )
        return Box(key, "node", self.name(key), tuple(rows), anchor=anchor)

    def detail(self, key: str, st: TensorState) -> str:
        """What a click on tensor ``key``'s box shows (:func:`detail`, or "?" for its values)."""
        if self.hides(key):
            return f"{self.name(key)}\ndata: ?\ngrad: ?"
        return detail(self.name(key), st)

    def _node_label(self, key: str | None) -> str:
        if key is None:
            return "None"
        return f"<{self.rec.nodes[key].name}>" if key in self.rec.nodes else key


def graph_edges(rec: Recording, nodes: Iterable[str]) -> list[Edge]:
    """The backward graph's own edges among ``nodes``: ``next`` (one per slot of
    ``next_functions``, labelled by the output index) and AccumulateGrad's ``variable``."""
    edges = []
    for n in nodes:
        info = rec.nodes[n]
        edges += [
            Edge(n, t, "next", str(i), position=p)
            for p, (t, i) in enumerate(info.next)
            if t is not None
        ]
        if info.variable is not None:
            edges.append(Edge(n, info.variable, "variable"))
    return edges


def build_scene(
    rec: Recording, timeline: Timeline, forward: Iterable[tuple[str, str, str]]
) -> Scene:
    """The diagram of every tensor and node a recording knows, as ``timeline`` has them at
    its frame 0 (one snapshot of a live graph)."""
    boxes_of = Boxes(rec, timeline.display_name)
    states = timeline.states_at(0)
    anchors = node_anchors(rec, states)
    boxes = [boxes_of.tensor(key, st) for key, st in states.items()]
    for n in rec.nodes:
        freed = timeline.freed_at(n) is not None
        boxes.append(boxes_of.node(n, anchors.get(n), timeline.saved_at(n, 0), freed))
    shown = {b.key for b in boxes}
    edges = [
        Edge(s, d, "forward", label)
        for s, d, label in dict.fromkeys(forward)
        if s in shown and d in shown
    ]
    edges += [Edge(k, st.grad_fn, "grad_fn") for k, st in states.items() if st.grad_fn in shown]
    edges += [e for e in graph_edges(rec, rec.nodes) if e.dst in shown]
    return Scene(tuple(boxes), tuple(edges))


def node_anchors(rec: Recording, states: Mapping[str, TensorState]) -> dict[str, str]:
    """The tensor each node is drawn with: the first output it is grad_fn of, or the leaf
    of an AccumulateGrad."""
    anchors: dict[str, str] = {}
    for key, st in states.items():
        if st.grad_fn is not None:
            anchors.setdefault(st.grad_fn, key)
    for n, info in rec.nodes.items():
        if info.variable is not None:
            anchors.setdefault(n, info.variable)
    return anchors


def forward_edges(rec: Recording) -> list[tuple[str, str, str]]:
    """Input → output tensor arrows, from the recorded ops."""
    edges = []
    for step in rec.steps:
        event = step.event
        if step.kind == "OpApplied":
            label = OP_SYMBOLS.get(event.name, event.name)
            for out_index, out in enumerate(event.outputs):
                out_key = rec.key_of(out)
                for x in event.inputs:
                    if isinstance(x, Tensor) and out_key is not None:
                        text = f"{label}[{out_index}]" if len(event.outputs) > 1 else label
                        edges.append((rec.key_of(x), out_key, text))
        elif step.kind == "InplaceApplied" and isinstance(event.other, Tensor):
            edges.append(
                (
                    rec.key_of(event.other),
                    rec.key_of(event.tensor),
                    OP_SYMBOLS.get(event.name, event.name),
                )
            )
        elif step.kind == "TensorChanged" and event.what == "detach":
            edges.append((rec.key_of(event.tensor), rec.key_of(event.result), "detach"))
    return edges


def png(
    scene: Scene,
    lay: Layout,
    highlight: Highlight | None,
    edge_labels: Mapping[str, str],
    legend: bool = True,
) -> bytes:
    """``scene`` drawn as PNG by matplotlib at the positions of ``lay``, as its SVG is;
    without matplotlib, an error that names the widgets extra."""
    try:
        from gradlab.drawing.render import render_png
    except ModuleNotFoundError as error:
        from gradlab.cli import install_hint

        raise ModuleNotFoundError(
            f"a PNG picture needs {error.name}, from gradlab's widgets extra: "
            f"{install_hint('widgets')}",
            name=error.name,
        ) from error
    return render_png(scene, lay, highlight, legend, edge_labels=edge_labels)


#: from this many boxes on, a picture's notebook repr is SVG only (matplotlib takes seconds)
PNG_BOXES = 200


class Picture:
    """A drawn diagram that displays in notebooks (PNG and SVG) and saves to files."""

    def __init__(
        self, scene: Scene, highlight: Highlight | None = None, direction: str = "auto"
    ) -> None:
        self.scene = scene
        self.highlight = highlight
        self.edge_labels: dict[str, str] = {}
        self.layout = layout(scene, direction)

    def to_svg(self) -> str:
        return render_svg(self.scene, self.layout, self.highlight, edge_labels=self.edge_labels)

    def to_png(self) -> bytes:
        """The same scene and layout drawn by matplotlib (from the widgets extra)."""
        return png(self.scene, self.layout, self.highlight, self.edge_labels)

    def save(self, path: str) -> None:
        """Write the picture as .svg or .png, by the file's ending."""
        data = self.to_svg().encode() if path.endswith(".svg") else self.to_png()
        with open(path, "wb") as f:
            f.write(data)

    def __repr__(self) -> str:
        tensors = sum(1 for b in self.scene.boxes if b.kind != "node")
        return f"<gradlab picture: {tensors} tensors, {len(self.scene.boxes) - tensors} nodes>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """SVG and text; PNG too (with matplotlib) for pictures small enough to draw it fast
        (a saved notebook shows either without a kernel)."""
        bundle = {"image/svg+xml": self.to_svg(), "text/plain": repr(self)}
        if len(self.scene.boxes) < PNG_BOXES:
            try:
                bundle["image/png"] = self.to_png()
            except ModuleNotFoundError:
                pass  # without matplotlib: SVG only
        return bundle


def show(*tensors: Any, direction: str = "auto") -> Picture:
    """Draw ``tensors`` (or a ``Recording``) with the backward graph behind them.

    Tensors of the calling code that sit on that graph are drawn too, under their
    variable names."""
    if len(tensors) == 1 and isinstance(tensors[0], Recording):
        from gradlab.walkthrough import Walkthrough

        w = Walkthrough(tensors[0], direction)  # the stepper's last frame, as it draws it
        return Picture(w.view.scene_at(len(w) - 1), direction=direction)
    wrong = [type(t).__name__ for t in tensors if not isinstance(t, Tensor)]
    mixup = next(filter(None, map(mixed_with_torch, tensors)), None)
    if mixup is not None:
        raise TypeError(f"gradlab.show() {mixup}")
    if wrong or not tensors:
        got = f"got {', '.join(wrong)}" if wrong else "got nothing"
        raise TypeError(f"gradlab.show() takes tensors or one Recording; {got}")
    rec = Recording(sys._getframe(1))
    for t in tensors:
        rec._tensor_key(t)
        if t._grad_fn is not None:
            rec._node_key(t._grad_fn)
    _add_connected(rec, sys._getframe(1))
    rec._name_from_frame()
    rec.finish(None)
    states = rec._changes()
    timeline = Timeline(rec)  # names, saved values: as the stepper has them
    timeline.record(0, states)
    return Picture(build_scene(rec, timeline, _derived_forward(rec, states)), direction=direction)


def final_states(rec: Recording) -> dict[str, TensorState]:
    """Each recorded tensor's state after the last step."""
    states: dict[str, TensorState] = {}
    for step in rec.steps:
        states.update(step.changed)
    return states


def _add_connected(rec: Recording, frame: Any) -> None:
    """Register the caller's tensors that are on the graph already known."""
    variables = dict(frame.f_globals) | dict(frame.f_locals)
    graph = {id(n) for n in rec.node_objects.values()}
    for value in variables.values():
        if isinstance(value, Tensor):
            acc = value._accumulator() if value._accumulator is not None else None
            if id(value._grad_fn) in graph or (acc is not None and id(acc) in graph):
                rec._tensor_key(value)


def _derived_forward(rec: Recording, states: dict[str, TensorState]) -> list:
    """Forward arrows read off a live graph: each node's inputs are the tensors at the
    other end of its ``next_functions`` (or that it saved)."""
    producer = {}
    for key, st in states.items():
        if st.grad_fn is not None:
            producer[(st.grad_fn, rec.tensors[key]._output_nr)] = key
    for info in rec.nodes.values():
        if info.variable is not None:
            producer[(info.key, 0)] = info.variable
    edges = []
    for key, st in states.items():
        if st.grad_fn is None:
            continue
        info = rec.nodes[st.grad_fn]
        label = OP_SYMBOLS.get(info.name.split("Backward")[0].lower(), "")
        inputs = [producer.get((n, i)) for n, i in info.next if n is not None]
        inputs += [tkey for _, tkey, _, _ in info.saved if tkey is not None]
        edges += [(src, key, label) for src in inputs if src is not None and src != key]
    return edges
