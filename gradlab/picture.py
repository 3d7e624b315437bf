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
from collections.abc import Iterable
from typing import Any

import numpy as np

from gradlab._formatting import format_tensor
from gradlab._ops._common import mixed_with_torch
from gradlab._tensor import Tensor
from gradlab.drawing.layout import layout
from gradlab.drawing.render import Renderer
from gradlab.drawing.scene import Box, Edge, Highlight, Scene
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
    """Values as PyTorch prints them, without the ``tensor(...)`` around them."""
    if array is None:
        return "None"
    array = np.asarray(array)
    if array.size > 12:
        return f"<{'×'.join(map(str, array.shape))} values>"
    text = format_tensor(array)
    body = text[len("tensor(") : -1]
    return body.split(", dtype=")[0].replace("\n       ", " ")


def number(value: Any) -> str:
    """A gradient or value in narration: '3.0', '-64.0', '[6.0, 3.0, 2.0]'."""
    array = np.asarray(value, dtype=float)
    if array.size == 1:
        return np.format_float_positional(array.item(), precision=4, trim="0")
    if array.size > 8:
        return f"a {'×'.join(map(str, array.shape))} array"
    return "[" + ", ".join(number(v) for v in array.reshape(-1)) + "]"


def tensor_kind(state: TensorState) -> str:
    """brown 'branch', green 'leaf' on the graph, or yellow 'dried' leaf off it."""
    if state.grad_fn is not None:
        return "branch"
    return "leaf" if state.requires_grad else "dried"


def build_scene(
    rec: Recording,
    states: dict[str, TensorState],
    nodes: Iterable[str],
    forward: Iterable[tuple[str, str, str]],
    memo: dict[Any, Box] | None = None,
) -> Scene:
    """The diagram of the tensors in ``states`` and the given ``nodes`` of a recording.

    ``memo`` keeps boxes between calls, for the many frames of one recording: a box is
    built once per state it shows."""
    memo = {} if memo is None else memo
    nodes = [k for k in nodes if k in rec.nodes]
    anchors: dict[str, str] = {}
    for key, st in states.items():
        if st.grad_fn is not None:
            anchors.setdefault(st.grad_fn, key)
    saved_by: dict[str, list[str]] = {}
    for n in nodes:
        info = rec.nodes[n]
        if info.variable is not None:
            anchors.setdefault(n, info.variable)
        for _, tkey, _, version in info.saved:
            if tkey is not None:
                saved_by.setdefault(tkey, []).append(f"saved by {info.name} @v{version}")
    boxes = []
    for key, st in states.items():
        tag = "; ".join(saved_by.get(key, []))
        box = memo.get((key, id(st), tag))
        if box is None:
            box = memo[(key, id(st), tag)] = _tensor_box(rec, key, st, tag)
        boxes.append(box)
    for n in nodes:
        box = memo.get((n, anchors.get(n)))
        if box is None:
            box = memo[(n, anchors.get(n))] = _node_box(rec, n, anchors.get(n))
        boxes.append(box)
    shown = {b.key for b in boxes}
    edges = [
        Edge(s, d, "forward", label)
        for s, d, label in dict.fromkeys(forward)
        if s in shown and d in shown
    ]
    edges += [Edge(k, st.grad_fn, "grad_fn") for k, st in states.items() if st.grad_fn in shown]
    for n in nodes:
        info = rec.nodes[n]
        edges += [Edge(n, t, "next", str(i)) for t, i in info.next if t in shown]
        if info.variable in shown:
            edges.append(Edge(n, info.variable, "variable"))
    return Scene(tuple(boxes), tuple(edges))


def _tensor_box(rec: Recording, key: str, st: TensorState, tag: str) -> Box:
    rows = [
        f"data: {values(st.data)}",
        f"grad: {values(st.grad)}",
        f"grad_fn: {_node_label(rec, st.grad_fn)}",
        f"is_leaf: {st.is_leaf}",
        f"requires_grad: {st.requires_grad}",
    ]
    if st.version or tag:
        rows.append(f"_version: {st.version}")
    return Box(key, tensor_kind(st), rec.names.get(key, key), tuple(rows), tag=tag)


def _node_box(rec: Recording, key: str, anchor: str | None) -> Box:
    info = rec.nodes[key]
    rows = tuple(
        f"saved {slot}: {_saved_label(rec, tkey, value)}" for slot, tkey, value, _ in info.saved
    )
    return Box(key, "node", info.name, rows, anchor=anchor)


def _node_label(rec: Recording, key: str | None) -> str:
    return "None" if key is None else f"<{rec.nodes[key].name}>" if key in rec.nodes else key


def _saved_label(rec: Recording, tkey: str | None, value: Any) -> str:
    name = rec.names.get(tkey) if tkey is not None else None
    return f"{name} = {values(value)}" if name else values(value)


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


class Picture:
    """A drawn diagram that displays in notebooks (PNG and SVG) and saves to files."""

    def __init__(
        self, scene: Scene, highlight: Highlight | None = None, direction: str = "LR"
    ) -> None:
        self.scene = scene
        self.highlight = highlight
        self._renderer = Renderer(layout(scene, direction))

    def to_svg(self) -> str:
        return self._renderer.svg(self.scene, self.highlight)

    def to_png(self) -> bytes:
        return self._renderer.png(self.scene, self.highlight)

    def save(self, path: str) -> None:
        """Write the picture as .svg or .png, by the file's ending."""
        data = self.to_svg().encode() if path.endswith(".svg") else self.to_png()
        with open(path, "wb") as f:
            f.write(data)

    def __repr__(self) -> str:
        tensors = sum(1 for b in self.scene.boxes if b.kind != "node")
        return f"<gradlab picture: {tensors} tensors, {len(self.scene.boxes) - tensors} nodes>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {
            "image/png": self.to_png(),
            "image/svg+xml": self.to_svg(),
            "text/plain": repr(self),
        }


def show(*tensors: Any, direction: str = "LR") -> Picture:
    """Draw ``tensors`` (or a ``Recording``) with the backward graph behind them.

    Tensors of the calling code that sit on that graph are drawn too, under their
    variable names."""
    if len(tensors) == 1 and isinstance(tensors[0], Recording):
        rec = tensors[0]
        states = final_states(rec)
        return Picture(build_scene(rec, states, rec.nodes, forward_edges(rec)), direction=direction)
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
    return Picture(
        build_scene(rec, states, rec.nodes, _derived_forward(rec, states)), direction=direction
    )


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
