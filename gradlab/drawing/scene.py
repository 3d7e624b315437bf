"""The plain data model of an autograd diagram: boxes, edges, a scene and per-frame emphasis.

Nothing here knows about tensors or autograd; a recorder turns recordings into these
objects and :mod:`gradlab.drawing.layout` / :mod:`gradlab.drawing.render` draw them.

Example::

    from gradlab.drawing import Box, Edge, Scene, Highlight

    scene = Scene(
        boxes=(
            Box("a", "leaf", "a", ("data: 2.", "grad: None", "requires_grad: True")),
            Box("c", "branch", "c", ("data: 6.", "grad_fn: <MulBackward0>")),
            Box("c.fn", "node", "MulBackward0", anchor="c"),
            Box("a.acc", "node", "AccumulateGrad", anchor="a"),
        ),
        edges=(
            Edge("a", "c", "forward", "*"),
            Edge("c", "c.fn", "grad_fn"),
            Edge("c.fn", "a.acc", "next", "0"),
            Edge("a.acc", "a", "variable"),
        ),
    )
    scene.box("c").title                       # 'c'
    Highlight(active={"c.fn"}, edge_notes={("c.fn", "a.acc"): "grad 3."})
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "BOX_KINDS",
    "EDGE_KINDS",
    "TENSOR_KINDS",
    "Box",
    "Edge",
    "FrozenMap",
    "Highlight",
    "Scene",
]

#: Tensor kinds: brown branch, green leaf (on the graph), yellow dried-up leaf.
TENSOR_KINDS = ("branch", "leaf", "dried")
#: All box kinds; "node" is a blue backward-graph node (MulBackward0, AccumulateGrad...).
BOX_KINDS = (*TENSOR_KINDS, "node")
#: Edge kinds: forward op (tensor->tensor), grad_fn (tensor->its node, dashed),
#: next (node->next node, labelled by output index), variable (AccumulateGrad->leaf, dotted).
EDGE_KINDS = ("forward", "grad_fn", "next", "variable")

K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(Mapping[K, V]):
    """A small immutable, hashable mapping (insertion order kept, equality ignores order)."""

    __slots__ = ("_data", "_hash")

    def __init__(self, items: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        self._data: dict[K, V] = dict(items)
        self._hash: int | None = None

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._data == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"


def _set(obj: Any, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


@dataclass(frozen=True)
class Box:
    """One box of the diagram.

    ``kind`` is one of :data:`BOX_KINDS`. Tensor boxes list ``rows`` such as
    ``"data: 6."``; node boxes have a title like ``"MulBackward0"`` and maybe rows like
    ``"saved self = 2."``. ``anchor`` (nodes only) is the key of the tensor box the node
    belongs to, used to align it with that tensor. ``tag`` is a short badge text.
    """

    key: str
    kind: str
    title: str
    rows: tuple[str, ...] = ()
    anchor: str | None = None
    tag: str = ""

    def __post_init__(self) -> None:
        if self.kind not in BOX_KINDS:
            raise ValueError(f"Box kind must be one of {BOX_KINDS}, got {self.kind!r}")
        if isinstance(self.rows, str):
            raise TypeError("Box rows must be a sequence of strings, not one string")
        _set(self, "rows", tuple(str(r) for r in self.rows))
        _set(self, "key", str(self.key))
        _set(self, "title", str(self.title))
        _set(self, "tag", str(self.tag or ""))
        if self.anchor is not None:
            _set(self, "anchor", str(self.anchor))

    @property
    def is_node(self) -> bool:
        """True for backward-graph nodes (kind ``"node"``)."""
        return self.kind == "node"


@dataclass(frozen=True)
class Edge:
    """A directed edge between two box keys; ``kind`` is one of :data:`EDGE_KINDS`.

    ``position`` is, for a ``next`` edge, its slot in the source node's
    ``next_functions``: it tells parallel edges between the same two nodes apart."""

    src: str
    dst: str
    kind: str
    label: str = ""
    position: int = -1

    def __post_init__(self) -> None:
        if self.kind not in EDGE_KINDS:
            raise ValueError(f"Edge kind must be one of {EDGE_KINDS}, got {self.kind!r}")
        _set(self, "src", str(self.src))
        _set(self, "dst", str(self.dst))
        _set(self, "label", str(self.label or ""))


@dataclass(frozen=True)
class Scene:
    """The boxes and edges of one picture (keys unique, order = drawing/tie-break order)."""

    boxes: tuple[Box, ...] = ()
    edges: tuple[Edge, ...] = ()
    _index: Mapping[str, Box] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        boxes = tuple(self.boxes)
        edges = tuple(self.edges)
        index: dict[str, Box] = {}
        for box in boxes:
            if not isinstance(box, Box):
                raise TypeError(f"Scene boxes must be Box objects, got {box!r}")
            if box.key in index:
                raise ValueError(f"duplicate box key {box.key!r}")
            index[box.key] = box
        for edge in edges:
            if not isinstance(edge, Edge):
                raise TypeError(f"Scene edges must be Edge objects, got {edge!r}")
        _set(self, "boxes", boxes)
        _set(self, "edges", edges)
        _set(self, "_index", FrozenMap(index))

    def box(self, key: str) -> Box:
        """The box with this key (``KeyError`` if absent)."""
        return self._index[key]

    def get(self, key: str, default: Box | None = None) -> Box | None:
        """The box with this key, or ``default``."""
        return self._index.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __len__(self) -> int:
        return len(self.boxes)

    @property
    def keys(self) -> tuple[str, ...]:
        """Box keys in scene order."""
        return tuple(self._index)

    def subset(self, keys: Iterable[str]) -> Scene:
        """The boxes whose key is in ``keys`` and the edges between them."""
        wanted = set(keys)
        return Scene(
            tuple(b for b in self.boxes if b.key in wanted),
            tuple(e for e in self.edges if e.src in wanted and e.dst in wanted),
        )

    def replace(self, *boxes: Box) -> Scene:
        """A copy where the given boxes replace (or are appended to) the boxes with their key."""
        new = {b.key: b for b in boxes}
        kept = tuple(new.pop(b.key, b) for b in self.boxes)
        return Scene(kept + tuple(new.values()), self.edges)

    @staticmethod
    def union(scenes: Iterable[Scene]) -> Scene:
        """All boxes (the last version of each key, first-appearance order) and all edges
        (each distinct edge as many times as its largest multiplicity in one scene).

        For a layout of several frames prefer ``layout(frames)``: it sizes each box to fit
        every version of it, not just the last one.
        """
        boxes: dict[str, Box] = {}
        counts: dict[Edge, int] = {}
        for scene in scenes:
            for box in scene.boxes:
                boxes[box.key] = box
            here: dict[Edge, int] = {}
            for edge in scene.edges:
                here[edge] = here.get(edge, 0) + 1
            for edge, n in here.items():
                counts[edge] = max(counts.get(edge, 0), n)
        edges = tuple(e for e, n in counts.items() for _ in range(n))
        return Scene(tuple(boxes.values()), edges)


def _frozen_keys(value: Iterable[Any]) -> frozenset[Any]:
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(tuple(v) if isinstance(v, list) else v for v in value)


def _frozen_map(value: Mapping[Any, str] | Iterable[tuple[Any, str]]) -> FrozenMap[Any, str]:
    items = value.items() if isinstance(value, Mapping) else value
    return FrozenMap((tuple(k) if isinstance(k, list) else k, str(v)) for k, v in items)


@dataclass(frozen=True)
class Highlight:
    """Per-frame emphasis.

    ``active`` boxes and ``active_edges`` (``(src, dst)`` pairs) are drawn thick;
    ``edge_notes`` put a value on an edge (``{("mul", "acc_a"): "grad 3."}``);
    ``box_notes`` put a note by a box (``{"a": "+= 3."}``); ``error`` boxes get an
    error outline. Mappings are stored as hashable :class:`FrozenMap` objects.
    """

    active: frozenset[str] = frozenset()
    active_edges: frozenset[tuple[str, str]] = frozenset()
    edge_notes: Mapping[tuple[str, str], str] = FrozenMap()
    box_notes: Mapping[str, str] = FrozenMap()
    error: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        _set(self, "active", _frozen_keys(self.active))
        _set(self, "active_edges", _frozen_keys(self.active_edges))
        _set(self, "error", _frozen_keys(self.error))
        _set(self, "edge_notes", _frozen_map(self.edge_notes))
        _set(self, "box_notes", _frozen_map(self.box_notes))

    def __bool__(self) -> bool:
        return bool(
            self.active or self.active_edges or self.edge_notes or self.box_notes or self.error
        )
