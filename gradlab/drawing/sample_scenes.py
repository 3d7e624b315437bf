"""Ready-made scenes: the classic lesson picture and seeded synthetic graphs.

Used by the tests and benchmarks, and handy to try a renderer::

    from gradlab.drawing import layout, render_png
    from gradlab.drawing.sample_scenes import lesson_scene, synthetic_scene

    s = lesson_scene()
    png = render_png(s, layout(s))
    big = synthetic_scene(100, seed=1)          # about 100 boxes, autograd-shaped
"""

from __future__ import annotations

import random

from .scene import Box, Edge, Scene

__all__ = ["lesson_scene", "synthetic_scene", "tensor_box"]


def tensor_box(
    key: str,
    kind: str,
    data: str,
    grad: str = "None",
    grad_fn: str = "None",
    title: str | None = None,
    version: int | None = None,
) -> Box:
    """A tensor box with the classic rows (``data``, ``grad``, ``grad_fn``, ...)."""
    rows = [
        f"data: {data}",
        f"grad: {grad}",
        f"grad_fn: {grad_fn}",
        f"is_leaf: {kind != 'branch'}",
        f"requires_grad: {kind != 'dried'}",
    ]
    if version is not None:
        rows.append(f"_version: {version}")
    return Box(key, kind, title or key, tuple(rows))


def lesson_scene() -> Scene:
    """``a`` (requires grad) = 2, ``b`` = 3 (does not), ``c = a * b``, ``d`` = 4 (requires
    grad), ``e = c * d``, with the backward graph: two MulBackward0 nodes and an
    AccumulateGrad for ``a`` and for ``d``."""
    boxes = (
        tensor_box("a", "leaf", "2."),
        tensor_box("b", "dried", "3."),
        tensor_box("c", "branch", "6.", grad_fn="<MulBackward0>"),
        tensor_box("d", "leaf", "4."),
        tensor_box("e", "branch", "24.", grad_fn="<MulBackward0>"),
        Box("c.grad_fn", "node", "MulBackward0", ("saved self = 2.", "saved other = 3."), "c"),
        Box("e.grad_fn", "node", "MulBackward0", ("saved self = 6.", "saved other = 4."), "e"),
        Box("a.acc", "node", "AccumulateGrad", anchor="a"),
        Box("d.acc", "node", "AccumulateGrad", anchor="d"),
    )
    edges = (
        Edge("a", "c", "forward", "*"),
        Edge("b", "c", "forward", "*"),
        Edge("c", "e", "forward", "*"),
        Edge("d", "e", "forward", "*"),
        Edge("c", "c.grad_fn", "grad_fn"),
        Edge("e", "e.grad_fn", "grad_fn"),
        Edge("e.grad_fn", "c.grad_fn", "next", "0"),
        Edge("e.grad_fn", "d.acc", "next", "0"),
        Edge("c.grad_fn", "a.acc", "next", "0"),
        Edge("a.acc", "a", "variable"),
        Edge("d.acc", "d", "variable"),
    )
    return Scene(boxes, edges)


_OPS = (
    ("*", "MulBackward0", 2),
    ("+", "AddBackward0", 2),
    ("-", "SubBackward0", 2),
    ("/", "DivBackward0", 2),
    ("exp", "ExpBackward0", 1),
    ("tanh", "TanhBackward0", 1),
    ("sum", "SumBackward0", 1),
)


def synthetic_scene(n_boxes: int, seed: int = 0) -> Scene:
    """An autograd-shaped scene of about ``n_boxes`` boxes: leaves (some not requiring
    grad), ops mostly on recent results, a node per result that requires grad,
    AccumulateGrad nodes for leaves that do, ``next`` edges as PyTorch would draw them."""
    rng = random.Random(seed)
    boxes: list[Box] = []
    edges: list[Edge] = []
    tensors: list[str] = []
    kind: dict[str, str] = {}
    fn: dict[str, str] = {}  # tensor -> its node (grad_fn or AccumulateGrad)

    def leaf() -> str:
        k = f"t{len(tensors)}"
        kd = "leaf" if rng.random() < 0.7 else "dried"
        boxes.append(tensor_box(k, kd, f"{rng.randint(1, 9)}."))
        tensors.append(k)
        kind[k] = kd
        return k

    def node_for(t: str) -> str | None:
        if kind[t] == "dried":
            return None
        if t not in fn:  # a leaf's AccumulateGrad, created on first use
            n = f"{t}.acc"
            boxes.append(Box(n, "node", "AccumulateGrad", anchor=t))
            edges.append(Edge(n, t, "variable"))
            fn[t] = n
        return fn[t]

    for _ in range(2):
        leaf()
    while len(boxes) < n_boxes:
        sym, name, arity = _OPS[rng.randrange(len(_OPS))]
        inputs = []
        for _ in range(arity):
            if rng.random() < 0.35 or len(tensors) < 2:
                inputs.append(leaf())
            else:
                recent = tensors[-6:]
                inputs.append(recent[rng.randrange(len(recent))])
        k = f"t{len(tensors)}"
        needs = any(kind[i] != "dried" for i in inputs)
        kd = "branch" if needs else "dried"
        grad_fn = f"<{name}>" if needs else "None"
        boxes.append(tensor_box(k, kd, f"{rng.randint(1, 99)}.", grad_fn=grad_fn))
        tensors.append(k)
        kind[k] = kd
        for i in inputs:
            edges.append(Edge(i, k, "forward", sym))
        if needs:
            n = f"{k}.grad_fn"
            boxes.append(Box(n, "node", name, anchor=k))
            edges.append(Edge(k, n, "grad_fn"))
            fn[k] = n
            for i in inputs:
                target = node_for(i)
                if target is not None:
                    edges.append(Edge(n, target, "next", "0"))
    return Scene(tuple(boxes), tuple(edges))
