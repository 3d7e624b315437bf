"""A deterministic, pure-Python layered layout for autograd diagrams.

The picture has two bands. Forward tensors flow along the layer axis (left to right for
``"LR"``, top to bottom for ``"TB"``); the backward graph sits in a second band (below
for ``"LR"``, to the right for ``"TB"``), every node in the column of the tensor it
belongs to (its ``anchor``, or the tensor linked to it by a ``grad_fn``/``variable``
edge), so its dashed link runs straight across the band gap. How:

* columns: longest-path layers of the forward edges (and of the reversed ``next``
  edges), taken in depth-first evaluation order; a tensor and its nodes share a column;
  leaves sit right before their first use. A computed tensor that owns a node gets a
  column of its own when that keeps links from crossing edges; a few capacities are
  tried and the arrangement with the fewest weighted crossings wins (edge over edge
  counts 3, dashed link over edge 1), within ``max_columns`` where possible;
* order within a column: the linked tensors' nodes mirror their tensors so links nest;
  pass-through slots of long edges, free tensors and free nodes go over or under that
  block; barycenter sweeps, then a greedy polish; ties by scene order: no randomness;
* coordinates: each band balanced by weighted least squares (chains of computed tensors
  and long edges pulled straight), never overlapping;
* routes: S-curves between columns, straight through columns; links straight down the
  column or along nested lanes beside it.

Everything is in points (1/72 inch), origin top-left, y down. Compute the layout once
for all the frames of a stepper (boxes sized to fit every version) and draw each frame
with it, so nothing moves between steps::

    from gradlab.drawing import Box, Edge, Scene, layout

    s = Scene((Box("a", "leaf", "a", ("data: 2.",)), Box("b", "branch", "b")),
              (Edge("a", "b", "forward", "*"),))
    lay = layout(s)                      # or layout([frame1, frame2, ...], "TB")
    lay.rect("a")                        # Rect(x=..., y=..., w=..., h=...)
    lay.route(s.edges[0]).segments       # lines and cubic curves, source to target
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ._text import box_size
from .scene import Edge, FrozenMap, Scene

__all__ = ["DIRECTIONS", "EdgeKey", "Layout", "Point", "Rect", "Route", "edge_keys", "layout"]

DIRECTIONS = ("LR", "TB")

Point = tuple[float, float]
#: (src, dst, kind, label, occurrence): identifies one drawn edge, even among duplicates.
EdgeKey = tuple[str, str, str, str, int]

MARGIN = 24.0  # around the drawing (room for notes above the top boxes)
SEP = 22.0  # between boxes stacked in a column
SEP_DUMMY = 12.0  # next to a pass-through slot
DUMMY = 4.0  # thickness of a pass-through slot
BAND_GAP = 44.0  # between the tensor band and the node band
GAP = {"LR": 64.0, "TB": 54.0}  # between columns (S-curves and labels live here)
LANE = 9.0  # between link lanes
LANE_MARGIN = 7.0  # between the innermost lane and the column / the S-curves
STUB = 10.0  # where a lane link leaves/enters a box, from its in-side
STUB_DROP = 9.0  # how far a lane link's stub runs into the separation
PORT_SPACING = 11.0
SWEEPS = 12
BALANCE_ROUNDS = 10
CHAIN_WEIGHT = 4.0
MAX_COLUMNS = 12
CAPACITIES = (1, 2, 3, 4, 6)  # barriers per column tried (then: unlimited)
BIG_SCENE = 300  # boxes: from here on, only try one per column and unlimited
#: boxes: from here on the quick layout (linear time, see :func:`_quick_layout`) is used;
#: the crossing-minimising one grows faster than linearly with long edges
QUICK_FROM = 80
SCREEN = 16 / 9  # the screen shape "auto" aims for
FAN = 6.0  # between the stubs of several links on one box


@dataclass(frozen=True)
class Rect:
    """A box position: top-left corner, width and height, in points (y down)."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def center(self) -> Point:
        return (self.x + self.w / 2, self.y + self.h / 2)

    def overlaps(self, other: Rect, pad: float = 0.0) -> bool:
        """True when the two rectangles (grown by ``pad`` each) share interior area."""
        return (
            self.x - pad < other.right + pad
            and other.x - pad < self.right + pad
            and self.y - pad < other.bottom + pad
            and other.y - pad < self.bottom + pad
        )


Segment = tuple[Point, ...]  # 2 points: a line; 4 points: a cubic Bezier curve


@dataclass(frozen=True)
class Route:
    """How one edge is drawn: connected line / cubic segments from source to target."""

    kind: str
    segments: tuple[Segment, ...]
    label_at: Point
    routed: bool = True  # False for a best-effort fallback (e.g. an edge closing a cycle)

    @property
    def start(self) -> Point:
        return self.segments[0][0]

    @property
    def end(self) -> Point:
        return self.segments[-1][-1]

    def polyline(self, samples: int = 12) -> list[Point]:
        """The route as a polyline (cubic segments sampled ``samples`` times)."""
        pts = [self.segments[0][0]]
        for seg in self.segments:
            if len(seg) == 2:
                pts.append(seg[1])
            else:
                pts.extend(_bezier(seg, i / samples) for i in range(1, samples + 1))
        return pts


def _bezier(seg: Segment, t: float) -> Point:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = seg
    a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
    return (a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3)


@dataclass(frozen=True, eq=False)  # identity equality: layouts are cache keys
class Layout:
    """Positions of every box (``boxes``), every edge's route (``routes``), total size.

    ``band`` is the backward-graph band (``None`` when there are no nodes).
    """

    direction: str
    width: float
    height: float
    boxes: Mapping[str, Rect]
    routes: Mapping[EdgeKey, Route]
    band: Rect | None
    columns: Mapping[str, int]

    def rect(self, key: str) -> Rect:
        """The rectangle of the box with this key."""
        return self.boxes[key]

    @property
    def size(self) -> tuple[float, float]:
        return (self.width, self.height)

    def route(self, edge: Edge, occurrence: int = 0) -> Route | None:
        """The route of ``edge`` (its ``occurrence``-th duplicate), if the layout knows it."""
        return self.routes.get((edge.src, edge.dst, edge.kind, edge.label, occurrence))


def edge_keys(edges: Iterable[Edge]) -> list[EdgeKey]:
    """Keys for ``edges`` in order, numbering duplicates 0, 1, ..."""
    seen: dict[Edge, int] = {}
    out = []
    for e in edges:
        n = seen.get(e, 0)
        seen[e] = n + 1
        out.append((e.src, e.dst, e.kind, e.label, n))
    return out


# --------------------------------------------------------------------------------------
# the algorithm, in abstract coordinates: u along the layers, v across them

Item = str | tuple[str, int, int]  # a box key or a pass-through slot (~, edge, col)


def layout(
    scene: Scene | Iterable[Scene],
    direction: str = "LR",
    *,
    max_columns: int | None = MAX_COLUMNS,
) -> Layout:
    """Lay out ``scene`` (or the union of several frames, each box sized to fit all its
    versions) with forward tensors flowing ``"LR"`` (left to right) or ``"TB"``; with
    ``"auto"``, the one whose shape is closer to a 16:9 screen.

    Each computed tensor gets a column of its own, so that no dashed ``grad_fn`` link
    crosses an edge. When that would make more than ``max_columns`` columns, computed
    tensors share columns (as few per column as keep within ``max_columns``, or within
    the graph's depth) and some links cross edges. ``max_columns=None`` never shares.
    """
    if direction not in (*DIRECTIONS, "auto"):
        raise ValueError(f"direction must be one of {DIRECTIONS} or 'auto', got {direction!r}")
    if max_columns is not None and max_columns < 1:
        raise ValueError(f"max_columns must be at least 1 or None, got {max_columns!r}")
    scenes = [scene] if isinstance(scene, Scene) else list(scene)
    size: dict[str, tuple[float, float]] = {}  # each box fits all its versions
    for s in scenes:
        for b in s.boxes:
            w, h = box_size(b)
            ow, oh = size.get(b.key, (0.0, 0.0))
            size[b.key] = (max(w, ow), max(h, oh))
    if direction != "auto":
        return _Layouter(scenes, size, direction, max_columns).run()
    lr = _Layouter(scenes, size, "LR", max_columns).run()
    tb = _Layouter(scenes, size, "TB", max_columns).run()
    return min((lr, tb), key=lambda lay: abs(math.log(lay.width / lay.height / SCREEN)))


class _Layouter:
    def __init__(
        self,
        scenes: list[Scene],
        size: Mapping[str, tuple[float, float]],
        direction: str,
        max_columns: int | None,
    ) -> None:
        self.direction = direction
        self.max_columns = max_columns
        self.union = Scene.union(scenes)
        self.order = {b.key: i for i, b in enumerate(self.union.boxes)}
        lr = direction == "LR"
        self.du = {k: (w if lr else h) for k, (w, h) in size.items()}
        self.dv = {k: (h if lr else w) for k, (w, h) in size.items()}
        self.is_node = {b.key: b.is_node for b in self.union.boxes}
        self.edges = [
            (i, e)
            for i, e in enumerate(self.union.edges)
            if e.src in self.order and e.dst in self.order
        ]
        self.keys = edge_keys(self.union.edges)

    def _by_order(self, keys: Iterable[str]) -> list[str]:
        return sorted(keys, key=self.order.__getitem__)

    # ---- groups and the layering DAG -----------------------------------------------------

    def _is_link(self, e: Edge) -> bool:
        if e.kind == "grad_fn":
            return not self.is_node[e.src] and self.is_node[e.dst]
        if e.kind == "variable":
            return self.is_node[e.src] and not self.is_node[e.dst]
        return False

    def _groups(self) -> None:
        """Tensors and the nodes linked to them (anchor, grad_fn, variable) share a column."""
        parent = {k: k for k in self.order}

        def find(k: str) -> str:
            while parent[k] != k:
                parent[k] = parent[parent[k]]
                k = parent[k]
            return k

        def join(a: str, b: str) -> None:
            ra, rb = find(a), find(b)
            if ra != rb:
                if self.order[ra] > self.order[rb]:
                    ra, rb = rb, ra
                parent[rb] = ra

        for b in self.union.boxes:
            if b.is_node and b.anchor in self.is_node and not self.is_node[b.anchor]:
                join(b.key, b.anchor)
        for _, e in self.edges:
            if self._is_link(e):
                join(e.src, e.dst)
        self.group = {k: find(k) for k in self.order}
        self.tensors_of: dict[str, list[str]] = {}
        self.nodes_of: dict[str, list[str]] = {}
        for k in self.order:  # scene order
            g = self.group[k]
            self.tensors_of.setdefault(g, [])
            self.nodes_of.setdefault(g, [])
            (self.nodes_of if self.is_node[k] else self.tensors_of)[g].append(k)
        self.groups = [k for k in self.order if self.group[k] == k]

    def _group_edges(self) -> Iterator[tuple[str, str]]:
        """The edges that order groups into columns, as (earlier group, later group): forward
        ops between tensors, and next edges between nodes reversed (the backward graph is
        drawn in forward order); edges inside one group are left out."""
        for _, e in self.edges:
            if e.kind == "forward" and not self.is_node[e.src] and not self.is_node[e.dst]:
                a, b = self.group[e.src], self.group[e.dst]
            elif e.kind == "next" and self.is_node[e.src] and self.is_node[e.dst]:
                a, b = self.group[e.dst], self.group[e.src]
            else:
                continue
            if a != b:
                yield a, b

    def _dag(self) -> None:
        succ: dict[str, list[str]] = {g: [] for g in self.groups}
        pred: dict[str, list[str]] = {g: [] for g in self.groups}

        def reaches(a: str, b: str) -> bool:
            stack, seen = [a], {a}
            while stack:
                x = stack.pop()
                if x == b:
                    return True
                for y in succ[x]:
                    if y not in seen:
                        seen.add(y)
                        stack.append(y)
            return False

        for a, b in self._group_edges():
            if b in succ[a] or reaches(b, a):
                continue  # a duplicate, or closing a cycle: not layered
            succ[a].append(b)
            pred[b].append(a)
        self.succ, self.pred = succ, pred

    def _is_barrier(self, g: str) -> bool:
        """Tensors with inputs that own nodes: a link from a tensor above them in their
        column would have to cross their edges."""
        return bool(self.tensors_of[g]) and bool(self.nodes_of[g]) and bool(self.pred[g])

    def _postorder(self) -> list[str]:
        """Groups in depth-first post-order from the sinks, inputs in scene order: the
        order a program evaluates an expression, which keeps each subtree's columns
        together (a tree then needs no long edges across its other branches)."""
        out: list[str] = []
        done: set[str] = set()
        for sink in self.groups:
            if self.succ[sink] or sink in done:
                continue
            done.add(sink)
            stack = [(sink, iter(self._by_order(self.pred[sink])))]
            while stack:
                g, preds = stack[-1]
                for p in preds:
                    if p not in done:
                        done.add(p)
                        stack.append((p, iter(self._by_order(self.pred[p]))))
                        break
                else:
                    stack.pop()
                    out.append(g)
        return out

    # ---- columns: one trial per capacity -----------------------------------------------

    def _assign(self, capacity: int) -> dict[str, int]:
        """Longest-path columns with at most ``capacity`` barrier groups per column;
        sources right before their first use; empty columns dropped."""
        col: dict[str, int] = {}
        taken: dict[int, int] = {}
        for g in self.post:
            c = max((col[p] + 1 for p in self.pred[g]), default=0)
            if self._is_barrier(g):
                while taken.get(c, 0) >= capacity:
                    c += 1
                taken[c] = taken.get(c, 0) + 1
            col[g] = c
        for g in self.groups:
            if not self.pred[g] and self.succ[g]:
                col[g] = min(col[s] for s in self.succ[g]) - 1
        remap = {c: i for i, c in enumerate(sorted(set(col.values())))}
        return {g: remap[c] for g, c in col.items()}

    def _columns(self) -> None:
        """Try a few capacities (barriers per column) and keep the arrangement with the
        fewest weighted crossings: edges crossing edges of their own band count triple,
        a dashed link crossing an edge counts once; more than ``max_columns`` columns is
        ruled out where a capacity avoids it."""
        self.post = self._postorder()
        n_barriers = sum(1 for g in self.groups if self._is_barrier(g))
        unlimited = self._assign(n_barriers + 1)
        per_col: dict[int, int] = {}
        for g, c in unlimited.items():
            if self._is_barrier(g):
                per_col[c] = per_col.get(c, 0) + 1
        widest = max(per_col.values(), default=1)
        caps = [c for c in CAPACITIES if c < widest] + [widest]
        if len(self.order) > BIG_SCENE:
            caps = [caps[0], caps[-1]] if len(caps) > 1 else caps
        trials = []
        for cap in caps:
            gcol = self._assign(cap)
            ncols = max(gcol.values(), default=-1) + 1
            trials.append((cap, gcol, ncols))
        shortest = min(n for _, _, n in trials)
        target = None if self.max_columns is None else max(self.max_columns, shortest)
        best: tuple[float, int] | None = None
        saved: dict[str, object] = {}
        for _cap, gcol, ncols in trials:
            if target is not None and ncols > target:
                continue  # the unlimited trial always fits: target >= shortest
            self._setup(gcol)
            self._order()
            score = self.score
            if best is None or (score, ncols) < best:
                best = (score, ncols)
                saved = {k: getattr(self, k) for k in _TRIAL_STATE}
            if score == 0:
                break
        for k, v in saved.items():
            setattr(self, k, v)

    def _setup(self, gcol: dict[str, int]) -> None:
        """Columns, per-band chains of items (long edges get pass-through slots), links
        and the column groups, for one trial."""
        self.gcol = gcol
        self.col = {k: gcol[self.group[k]] for k in self.order}
        self.ncols = max(gcol.values(), default=-1) + 1
        n = self.ncols
        self.chains: dict[int, list[Item]] = {}  # edge index -> items in adjacent columns
        self.chain_band: dict[int, str] = {}
        self.links: list[tuple[int, str, str]] = []  # (edge index, tensor, node)
        self.fallback: list[int] = []
        self.top: list[list[Item]] = [[] for _ in range(n)]  # pass-throughs, unlinked
        self.x: list[list[str]] = [[] for _ in range(n)]  # barrier groups
        self.low: list[list[str]] = [[] for _ in range(n)]  # linked source groups
        self.bottom: list[list[Item]] = [[] for _ in range(n)]  # free nodes, pass-throughs
        self.tlow: list[list[Item]] = [[] for _ in range(n)]  # pass-throughs under links
        self.ntop: list[list[Item]] = [[] for _ in range(n)]  # pass-throughs over links
        for i, e in self.edges:
            cs, cd = self.col[e.src], self.col[e.dst]
            sn, dn = self.is_node[e.src], self.is_node[e.dst]
            if e.kind == "forward" and not sn and not dn and cs < cd:
                slots: list[Item] = [("~", i, c) for c in range(cs + 1, cd)]
                for c in range(cs + 1, cd):
                    self.top[c].append(("~", i, c))
                self.chains[i], self.chain_band[i] = [e.src, *slots, e.dst], "t"
            elif e.kind == "next" and sn and dn and cd < cs:
                slots = [("~", i, c) for c in range(cs - 1, cd, -1)]
                for c in range(cs - 1, cd, -1):
                    self.bottom[c].append(("~", i, c))
                self.chains[i], self.chain_band[i] = [e.src, *slots, e.dst], "n"
            elif self._is_link(e):
                t, nd = (e.src, e.dst) if e.kind == "grad_fn" else (e.dst, e.src)
                self.links.append((i, t, nd))
            else:
                self.fallback.append(i)
        for g in self.groups:
            c = gcol[g]
            if not self.tensors_of[g]:
                self.bottom[c].extend(self.nodes_of[g])
            elif not self.nodes_of[g]:
                self.top[c].extend(self.tensors_of[g])
            elif self.pred[g]:
                self.x[c].append(g)
            else:
                self.low[c].append(g)
        self.nbrs: dict[Item, list[tuple[Item, float]]] = {}
        for chain in self.chains.values():
            for a, b in zip(chain, chain[1:]):
                w = CHAIN_WEIGHT if self._chainy(a) and self._chainy(b) else 1.0
                self.nbrs.setdefault(a, []).append((b, w))
                self.nbrs.setdefault(b, []).append((a, w))
        self._index_edges()
        self.members = {g: list(ts) for g, ts in self.tensors_of.items() if len(ts) > 1}
        for g in self.groups:
            self.members.setdefault(g, self.tensors_of[g])
        for c in range(n):
            for seq in (self.top[c], self.bottom[c]):
                seq.sort(key=self._sort_key)
            for groups in (self.x[c], self.low[c]):
                groups.sort(key=self.order.__getitem__)

    def _chainy(self, item: Item) -> bool:
        return isinstance(item, tuple) or bool(self.pred[self.group[item]])

    def _sort_key(self, item: Item) -> tuple[int, int]:
        if isinstance(item, tuple):
            return (self.order[self.union.edges[item[1]].src], item[1])
        return (self.order[item], -1)

    def tband(self, c: int) -> list[Item]:
        """Column ``c``'s tensor band, top to bottom (abstract v)."""
        linked = [t for g in (*self.x[c], *self.low[c]) for t in self.members[g]]
        return [*self.top[c], *linked, *self.tlow[c]]

    def _mirrored(self, c: int) -> list[Item]:
        """The linked groups' nodes, in the reverse order of their tensors: links nest."""
        return [n for g in reversed(self.x[c] + self.low[c]) for n in self.nodes_of[g]]

    def nband(self, c: int) -> list[Item]:
        """Column ``c``'s node band, top to bottom (abstract v)."""
        return [*self.ntop[c], *self._mirrored(c), *self.bottom[c]]

    def _item_col(self, item: Item) -> int:
        return item[2] if isinstance(item, tuple) else self.col[item]  # type: ignore[return-value]

    # ---- order within columns ------------------------------------------------------------

    def _positions(self) -> dict[Item, int]:
        pos: dict[Item, int] = {}
        for c in range(self.ncols):
            for seq in (self.tband(c), self.nband(c)):
                for i, it in enumerate(seq):
                    pos[it] = i
        return pos

    def _col_positions(self, c: int, pos: dict[Item, int]) -> None:
        for seq in (self.tband(c), self.nband(c)):
            for i, it in enumerate(seq):
                pos[it] = i

    def _index_edges(self) -> None:
        """What the crossing counts need and the ordering never changes: each gap's
        segments per band, how many edges enter or leave each item, links per column."""
        self.gap_segs: dict[int, list[tuple[Item, Item, bool]]] = {}
        self.entering: dict[Item, int] = {}
        self.leaving: dict[Item, int] = {}
        for i, chain in self.chains.items():
            for a, b in zip(chain, chain[1:]):
                ca, cb = self._item_col(a), self._item_col(b)
                if ca > cb:
                    a, b, ca = b, a, cb
                self.gap_segs.setdefault(ca, []).append((a, b, self.chain_band[i] == "n"))
            if self.chain_band[i] == "t":
                for b in chain[1:]:
                    self.entering[b] = self.entering.get(b, 0) + 1
            else:
                for a in chain[:-1]:
                    self.leaving[a] = self.leaving.get(a, 0) + 1
        self.col_links: dict[int, list[tuple[str, str]]] = {}
        for _, t, nd in self.links:
            self.col_links.setdefault(self.col[t], []).append((t, nd))

    def _gap_crossings(self, gap: int, pos: dict[Item, int]) -> int:
        """Crossings between edges of one band in the gap after column ``gap`` (the two
        bands never share a gap's segments: an item belongs to one band)."""
        segs = [(pos[a], pos[b], nb) for a, b, nb in self.gap_segs.get(gap, ())]
        n = 0
        for j, (a1, b1, n1) in enumerate(segs):
            for a2, b2, n2 in segs[j + 1 :]:
                if n1 == n2 and (a1 - a2) * (b1 - b2) < 0:
                    n += 1
        return n

    def _crossings(self) -> int:
        """Crossings between edges of the same band in the same gap (combinatorial)."""
        pos = self._positions()
        return sum(self._gap_crossings(g, pos) for g in range(self.ncols - 1))

    def _col_link_crossings(self, c: int) -> int:
        """Edges that column ``c``'s lane links (left of the column) will cross: edges
        entering tensors, and edges leaving nodes, that sit between a link's two ends."""
        links = self.col_links.get(c)
        if not links:
            return 0
        ts, ns = self.tband(c), self.nband(c)
        n = 0
        for t, nd in links:
            ti, ni = ts.index(t), ns.index(nd)
            if ti == len(ts) - 1 and ni == 0:
                continue  # straight down
            n += sum(self.entering.get(it, 0) for it in ts[ti + 1 :])
            n += sum(self.leaving.get(it, 0) for it in ns[:ni])
        return n

    def _link_crossings(self) -> int:
        return sum(self._col_link_crossings(c) for c in range(self.ncols))

    def _local_score(self, c: int) -> float:
        """The part of the score that reordering column ``c`` can change."""
        pos: dict[Item, int] = {}
        for k in (c - 1, c, c + 1):
            if 0 <= k < self.ncols:
                self._col_positions(k, pos)
        band = sum(self._gap_crossings(g, pos) for g in (c - 1, c) if 0 <= g < self.ncols - 1)
        return 3.0 * band + self._col_link_crossings(c)

    def _bary(self, members: list[Item], side: int, pos: dict[Item, int]) -> float | None:
        ps = [
            pos[o]
            for it in members
            for o, _ in self.nbrs.get(it, ())
            if self._item_col(o) == self._item_col(it) + side
        ]
        return sum(ps) / len(ps) if ps else None

    def _sort_items(self, seq: list[Item], side: int, pos: dict[Item, int]) -> None:
        keyed = []
        for idx, it in enumerate(seq):
            b = self._bary([it], side, pos)
            keyed.append((float(idx) if b is None else b, idx, it))
        seq[:] = [it for _, _, it in sorted(keyed, key=lambda k: (k[0], k[1]))]

    def _sort_groups(self, groups: list[str], side: int, pos: dict[Item, int]) -> None:
        keyed = []
        for idx, g in enumerate(groups):
            b = self._bary(list(self.members[g]), side, pos)
            start = pos[self.members[g][0]]
            keyed.append((float(start) if b is None else b, idx, g))
        groups[:] = [g for _, _, g in sorted(keyed, key=lambda k: (k[0], k[1]))]

    def _score(self) -> float:
        """Edges crossing edges of their own band count triple, a dashed link crossing
        an edge once."""
        self.crossings = self._crossings()
        return 3.0 * self.crossings + self._link_crossings()

    def _order(self) -> None:
        best = self._score()
        saved = self._snapshot()
        for sweep in range(SWEEPS):
            if best == 0:
                break
            side = -1 if sweep % 2 == 0 else 1
            cols = range(1, self.ncols) if side == -1 else range(self.ncols - 2, -1, -1)
            for c in cols:
                pos = self._positions()
                self._sort_groups(self.x[c], side, pos)
                self._sort_groups(self.low[c], side, pos)
                for g in (*self.x[c], *self.low[c]):
                    if len(self.members[g]) > 1:  # several outputs of one node (unbind)
                        self._sort_items(self.members[g], side, pos)  # type: ignore[arg-type]
                linked = [t for g in (*self.x[c], *self.low[c]) for t in self.members[g]]
                self._sort_free(self.top[c], self.tlow[c], linked, side, pos)
                self._sort_free(self.ntop[c], self.bottom[c], self._mirrored(c), side, pos)
            score = self._score()
            if score < best:
                best, saved = score, self._snapshot()
        self._restore(saved)
        self.score = best
        if best > 0:
            self._flip_free()

    def _flip_free(self) -> None:
        """Greedy polish: move single free items across their column's linked block
        (a pass-through over or under the dashed links) while that lowers the score."""
        for _ in range(2):
            improved = False
            for c in range(self.ncols):
                for above, below in ((self.top[c], self.tlow[c]), (self.ntop[c], self.bottom[c])):
                    for it in [*above, *below]:
                        before = self._local_score(c)
                        if before == 0:
                            break
                        src, dst = (above, below) if it in above else (below, above)
                        i = src.index(it)
                        src.pop(i)
                        if dst is below:
                            dst.insert(0, it)
                        else:
                            dst.append(it)
                        if self._local_score(c) < before:
                            improved = True
                        else:
                            dst.remove(it)
                            src.insert(i, it)
            if not improved:
                break
        self.score = self._score()

    def _sort_free(
        self,
        above: list[Item],
        below: list[Item],
        block: list[Item],
        side: int,
        pos: dict[Item, int],
    ) -> None:
        """Sort a band's free items (pass-throughs, unlinked tensors, free nodes) by
        barycenter, on either side of the column's linked block (below it, a pass-through
        crosses the block's dashed links; above it, it may cross edges instead)."""
        items = [*above, *below]
        if not items:
            return
        keyed = []
        for idx, it in enumerate(items):
            b = self._bary([it], side, pos)
            keyed.append((float(pos[it]) if b is None else b, idx, it))
        keyed.sort(key=lambda k: (k[0], k[1]))
        if not block:
            above[:], below[:] = [it for *_, it in keyed], []
            return
        b = self._bary(block, side, pos)
        mark = float(pos[block[0]]) if b is None else b
        above[:] = [it for k, _, it in keyed if k <= mark]
        below[:] = [it for k, _, it in keyed if k > mark]

    def _snapshot(self) -> tuple[Any, ...]:
        lists = tuple(
            [list(s) for s in lst]
            for lst in (self.top, self.x, self.low, self.tlow, self.ntop, self.bottom)
        )
        return (*lists, {g: list(m) for g, m in self.members.items()})

    def _restore(self, snap: tuple[Any, ...]) -> None:
        self.top, self.x, self.low, self.tlow, self.ntop, self.bottom = (
            [list(s) for s in lst] for lst in snap[:6]
        )
        self.members = {g: list(m) for g, m in snap[6].items()}

    # ---- coordinates -------------------------------------------------------------------

    def _size_v(self, it: Item) -> float:
        return DUMMY if isinstance(it, tuple) else self.dv[it]

    def _gaps(self, seq: list[Item]) -> list[float]:
        return [
            SEP if isinstance(a, str) and isinstance(b, str) else SEP_DUMMY
            for a, b in zip(seq, seq[1:])
        ]

    def _extent(self, seq: list[Item]) -> float:
        return sum(self._size_v(i) for i in seq) + sum(self._gaps(seq))

    def _balance(self) -> None:
        tb = [self.tband(c) for c in range(self.ncols)]
        nb = [self.nband(c) for c in range(self.ncols)]
        t_ext = max((self._extent(s) for s in tb), default=0.0)
        n_ext = max((self._extent(s) for s in nb), default=0.0)
        self.t_lo, self.t_hi = 0.0, t_ext
        self.n_lo = t_ext + BAND_GAP if t_ext > 0 else 0.0
        self.n_hi = self.n_lo + n_ext
        v: dict[Item, float] = {}  # top of each item
        for seqs, lo, hi, bottom_align in (
            (tb, self.t_lo, self.t_hi, True),
            (nb, self.n_lo, self.n_hi, False),
        ):
            for seq in seqs:
                if not seq:
                    continue
                p = hi - self._extent(seq) if bottom_align else lo
                for it, g in zip(seq, [*self._gaps(seq), 0.0]):
                    v[it] = p
                    p += self._size_v(it) + g
        for rnd in range(BALANCE_ROUNDS):
            cols = range(self.ncols) if rnd % 2 == 0 else range(self.ncols - 1, -1, -1)
            for c in cols:
                for seq, lo, hi in ((tb[c], self.t_lo, self.t_hi), (nb[c], self.n_lo, self.n_hi)):
                    if seq:
                        self._place(seq, v, lo, hi)
        self.v = v

    def _place(self, seq: list[Item], v: dict[Item, float], lo: float, hi: float) -> None:
        """Move a column's items towards their neighbours' centers (weighted least
        squares), keeping their order, their gaps and the band's bounds."""
        sizes = [self._size_v(i) for i in seq]
        gaps = self._gaps(seq)
        offs = [0.0]
        for s, g in zip(sizes, gaps):
            offs.append(offs[-1] + s + g)
        total = offs[-1] + sizes[-1]
        targets, weights = [], []
        for it, s, off in zip(seq, sizes, offs):
            nb = self.nbrs.get(it, ())
            wsum = sum(w for _, w in nb)
            if wsum:
                center = sum((v[o] + self._size_v(o) / 2) * w for o, w in nb) / wsum
            else:
                center, wsum = v[it] + s / 2, 0.25
            targets.append(center - s / 2 - off)
            weights.append(wsum)
        blocks: list[list[float]] = []  # pool adjacent violators: [value, weight, count]
        for t, w in zip(targets, weights):
            blocks.append([t, w, 1])
            while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
                v2, w2, n2 = blocks.pop()
                v1, w1, n1 = blocks.pop()
                blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
        q: list[float] = []
        for val, _, n in blocks:
            q.extend([min(max(val, lo), hi - total)] * int(n))
        for it, qi, off in zip(seq, q, offs):
            v[it] = round(qi + off, 2)

    def _lanes(self) -> None:
        """Which links go straight down and which lane (0 = innermost) the others take;
        where several links leave one tensor or enter one node, their stubs fan out."""
        self.lane_of: dict[int, int] = {}
        self.nlanes = [0] * self.ncols
        per_col: dict[int, list[tuple[int, int, int, int]]] = {}
        for i, t, n in self.links:
            c = self.col[t]
            ts, ns = self.tband(c), self.nband(c)
            ti, ni = ts.index(t), ns.index(n)
            if ti == len(ts) - 1 and ni == 0:
                self.lane_of[i] = -1
            else:
                span = (len(ts) - ti) + ni
                per_col.setdefault(c, []).append((span, self.order[n], self.order[t], i))
        for c, lst in per_col.items():
            lst.sort()
            for k, (*_, i) in enumerate(lst):
                self.lane_of[i] = k
            self.nlanes[c] = len(lst)
        self.stub: dict[tuple[int, str], int] = {}  # (link, box) -> fan index, outer first
        ends: dict[str, list[tuple[int, int]]] = {}
        for i, t, n in self.links:
            if self.lane_of[i] >= 0:
                for k in (t, n):
                    ends.setdefault(k, []).append((-self.lane_of[i], i))
        self.stubs_on = {k: len(lst) for k, lst in ends.items()}
        for k, lst in ends.items():
            for j, (_, i) in enumerate(sorted(lst)):
                self.stub[(i, k)] = j

    def _columns_u(self) -> None:
        gap = GAP[self.direction]
        self.cu0: list[float] = []
        self.cw: list[float] = []
        self.approach: list[float] = []
        widths = [0.0] * self.ncols
        for k in self.order:
            widths[self.col[k]] = max(widths[self.col[k]], self.du[k])
        u = MARGIN
        for c in range(self.ncols):
            lanes = self.nlanes[c] * LANE + (LANE_MARGIN if self.nlanes[c] else 0.0)
            u += (gap if c else 0.0) + lanes
            self.cu0.append(u)
            self.cw.append(widths[c])
            self.approach.append(u - lanes)
            u += widths[c]
        self.u_end = u

    # ---- routes ------------------------------------------------------------------------

    def _rects_uv(self) -> None:
        self.u0 = {
            k: round(self.cu0[self.col[k]] + (self.cw[self.col[k]] - self.du[k]) / 2, 2)
            for k in self.order
        }

    def _center_v(self, it: Item) -> float:
        return self.v[it] + self._size_v(it) / 2

    def _ports(self) -> dict[tuple[int, str], float]:
        """v of each chain end on its box's side, spread in the order of the far ends."""
        sides: dict[tuple[str, str], list[tuple[float, int, int]]] = {}
        for i, chain in self.chains.items():
            # forward edges leave on the out side (u max), next edges on the in side
            first, last = ("out", "in") if self.chain_band[i] == "t" else ("in", "out")
            for end, nxt, side in ((chain[0], chain[1], first), (chain[-1], chain[-2], last)):
                far = (self._center_v(nxt), self.order.get(nxt, -1), i)  # type: ignore[arg-type]
                sides.setdefault((end, side), []).append(far)  # type: ignore[arg-type]
        ports: dict[tuple[int, str], float] = {}
        self.port_rank: dict[tuple[int, str], tuple[int, int]] = {}
        for (key, _side), lst in sides.items():
            lst.sort()
            n = len(lst)
            h = self.dv[key]
            margin = min(8.0, h / 4)
            sp = min(PORT_SPACING, (h - 2 * margin) / (n - 1)) if n > 1 else 0.0
            mid = self.v[key] + h / 2
            for j, (_, _, i) in enumerate(lst):
                ports[(i, key)] = round(mid + (j - (n - 1) / 2) * sp, 2)
                self.port_rank[(i, key)] = (j, n)
        return ports

    @staticmethod
    def _curve(p: Point, q: Point) -> Segment:
        m = (p[0] + q[0]) / 2
        return (p, (m, p[1]), (m, q[1]), q)

    def _chain_route(self, i: int, ports: dict[tuple[int, str], float]) -> Route:
        """Forward edges run right along u, next edges left; each gap is an S-curve, each
        column crossed straight (through a pass-through slot or into the box)."""
        chain = self.chains[i]
        rightwards = self.chain_band[i] == "t"
        src = chain[0]
        assert isinstance(src, str)
        c = self.col[src]
        if rightwards:
            start = (self.u0[src] + self.du[src], ports[(i, src)])
            p = (self.cu0[c] + self.cw[c], start[1])
        else:
            start = (self.u0[src], ports[(i, src)])
            p = (self.approach[c], start[1])
        segs: list[Segment] = [(start, p)]
        curves: list[Segment] = []
        for it in chain[1:]:
            c = self._item_col(it)
            vv = ports[(i, it)] if isinstance(it, str) else self._center_v(it)
            enter, leave = (
                (self.approach[c], self.cu0[c] + self.cw[c])
                if rightwards
                else (self.cu0[c] + self.cw[c], self.approach[c])
            )
            q = (enter, vv)
            curves.append(self._curve(p, q))
            segs.append(curves[-1])
            if isinstance(it, str):  # into the box
                end_u = self.u0[it] if rightwards else self.u0[it] + self.du[it]
            else:  # straight through the column
                end_u = leave
            p = (end_u, vv)
            segs.append((q, p))
        kind = self.union.edges[i].kind
        # many forward edges may leave a tensor but few enter one; next edges the other
        # way round (the AccumulateGrad of a much-used leaf): label where edges are few,
        # staggered along the curve when that box has several
        end = chain[0] if kind == "next" else chain[-1]
        j, n = self.port_rank[(i, end)]  # type: ignore[index]
        t = 0.5 if n == 1 else 0.3 + 0.4 * j / (n - 1)
        label = _bezier(curves[0] if kind == "next" else curves[-1], t)
        return Route(kind, tuple(s for s in segs if s[0] != s[-1]), label)

    def _link_route(self, i: int, t: str, n: str) -> Route:
        """Straight down the column, or: out of the tensor's bottom, along a lane left of
        the column, into the node's top (outer lanes leave and enter further left)."""
        c = self.col[t]
        kind = self.union.edges[i].kind
        t_end, n_top = self.v[t] + self.dv[t], self.v[n]
        lane = self.lane_of[i]
        if lane < 0:
            cu = round(self.cu0[c] + self.cw[c] / 2, 2)
            pts = [(cu, t_end), (cu, n_top)]
        else:
            lu = self.cu0[c] - LANE_MARGIN - lane * LANE
            jt, jn = self.stub[(i, t)], self.stub[(i, n)]
            drop = STUB_DROP / 2
            su_t, su_n = self._stub_u(t, jt), self._stub_u(n, jn)
            vt = t_end + drop + min(jt, 2) * drop / 2
            vn = n_top - drop - min(jn, 2) * drop / 2
            pts = [(su_t, t_end), (su_t, vt), (lu, vt), (lu, vn), (su_n, vn), (su_n, n_top)]
        if kind == "variable":
            pts.reverse()
        segs = tuple((a, b) for a, b in zip(pts, pts[1:]) if a != b)
        a, b = pts[len(pts) // 2 - 1], pts[len(pts) // 2]
        return Route(kind, segs, ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2))

    def _stub_u(self, k: str, j: int) -> float:
        """Where the j-th lane stub meets box ``k``: in the in-side half of its edge, so it
        never meets a straight link (which runs down the middle)."""
        du, n = self.du[k], self.stubs_on[k]
        first = min(STUB, du / 4)
        room = du / 2 - 4.0 - first
        step = min(FAN, room / (n - 1)) if n > 1 else 0.0
        return round(self.u0[k] + first + j * max(step, 0.0), 2)

    # ---- assemble ----------------------------------------------------------------------

    def run(self) -> Layout:
        self._groups()
        if len(self.order) >= QUICK_FROM:
            return self._quick()
        self._dag()
        self._columns()
        self._balance()
        self._lanes()
        self._columns_u()
        self._rects_uv()
        ports = self._ports()
        routes_uv = {i: self._chain_route(i, ports) for i in self.chains}
        for i, t, n in self.links:
            routes_uv[i] = self._link_route(i, t, n)
        width_u = self.u_end + MARGIN
        width_v = max(self.t_hi, self.n_hi) + 2 * MARGIN
        lr = self.direction == "LR"

        def xy(p: Point) -> Point:
            u, v = round(p[0], 2), round(p[1] + MARGIN, 2)
            return (u, v) if lr else (v, u)

        rects: dict[str, Rect] = {}
        for k in self.order:
            (x, y), w, h = xy((self.u0[k], self.v[k])), self.du[k], self.dv[k]
            rects[k] = Rect(x, y, w, h) if lr else Rect(x, y, h, w)
        routes: dict[EdgeKey, Route] = {}
        for i, r in routes_uv.items():
            segs = tuple(tuple(xy(p) for p in s) for s in r.segments)
            routes[self.keys[i]] = Route(r.kind, segs, xy(r.label_at))
        for i in self.fallback:
            e = self.union.edges[i]
            routes[self.keys[i]] = fallback_route(e.kind, rects[e.src], rects[e.dst])
        return self._finish(rects, routes, width_u, width_v, self.n_lo, self.n_hi)

    # ---- the quick layout for big graphs ----------------------------------------------

    def _quick(self) -> Layout:
        """Linear-time layout for big graphs: longest-path columns of the groups,
        one barycenter pass for the order in a column, boxes stacked in each band, edges
        as S-curves between their columns (long edges may pass over boxes), links
        straight down their column."""
        succ: dict[str, list[str]] = {g: [] for g in self.groups}
        for a, b in self._group_edges():
            succ[a].append(b)
        order = _topological(self.groups, succ)  # drops the edges that close a cycle
        pred: dict[str, list[str]] = {g: [] for g in self.groups}
        for g in self.groups:
            for t in succ[g]:
                pred[t].append(g)
        col: dict[str, int] = {}
        for g in order:
            col[g] = max((col[p] + 1 for p in pred[g]), default=0)
        for g in self.groups:  # sources right before their first use
            if not pred[g] and succ[g]:
                col[g] = min(col[s] for s in succ[g]) - 1
        remap = {c: i for i, c in enumerate(sorted(set(col.values())))}
        col = {g: remap[c] for g, c in col.items()}
        ncols = len(remap)
        rank: dict[str, float] = {}
        members: list[list[str]] = [[] for _ in range(ncols)]
        for g in sorted(self.groups, key=lambda g: (col[g], self.order[g])):
            preds = [rank[p] for p in pred[g] if p in rank]
            rank[g] = sum(preds) / len(preds) if preds else len(members[col[g]])
            members[col[g]].append(g)
        for gs in members:
            gs.sort(key=lambda g: (rank[g], self.order[g]))
            for i, g in enumerate(gs):
                rank[g] = i
        self.col = {k: col[self.group[k]] for k in self.order}
        tb = [[k for g in gs for k in self.tensors_of[g]] for gs in members]
        nb = [[k for g in gs for k in self.nodes_of[g]] for gs in members]
        v: dict[str, float] = {}
        t_ext = 0.0
        for seq in tb:
            p = 0.0
            for k in seq:
                v[k] = p
                p += self.dv[k] + SEP
            t_ext = max(t_ext, p - SEP if seq else 0.0)
        n_lo = t_ext + BAND_GAP if t_ext > 0 else 0.0
        n_hi = n_lo
        for seq in nb:
            p = n_lo
            for k in seq:
                v[k] = p
                p += self.dv[k] + SEP
            n_hi = max(n_hi, p - SEP if seq else n_lo)
        widths = [0.0] * ncols
        for k in self.order:
            widths[self.col[k]] = max(widths[self.col[k]], self.du[k])
        gap = GAP[self.direction]
        cu0, u = [], MARGIN
        for c in range(ncols):
            cu0.append(u)
            u += widths[c] + gap
        u0 = {k: cu0[self.col[k]] + (widths[self.col[k]] - self.du[k]) / 2 for k in self.order}
        lr = self.direction == "LR"

        def xy(p: Point) -> Point:
            return (p[0], p[1] + MARGIN) if lr else (p[1] + MARGIN, p[0])

        def rect(k: str) -> Rect:
            (x, y), du, dv = xy((u0[k], v[k])), self.du[k], self.dv[k]
            return Rect(x, y, du, dv) if lr else Rect(x, y, dv, du)

        rects = {k: rect(k) for k in self.order}
        routes: dict[EdgeKey, Route] = {}
        for i, e in self.edges:
            cs, cd = self.col[e.src], self.col[e.dst]
            rightwards = e.kind == "forward" and cs < cd
            leftwards = e.kind == "next" and cd < cs
            if rightwards or leftwards:
                s_u = u0[e.src] + (self.du[e.src] if rightwards else 0.0)
                d_u = u0[e.dst] + (0.0 if rightwards else self.du[e.dst])
                p = (s_u, v[e.src] + self.dv[e.src] / 2)
                q = (d_u, v[e.dst] + self.dv[e.dst] / 2)
                seg = _Layouter._curve(p, q)
                seg = tuple(xy(pt) for pt in seg)
                routes[self.keys[i]] = Route(e.kind, (seg,), _bezier(seg, 0.5))
            elif self._is_link(e) and cs == cd:
                t, n = (e.src, e.dst) if e.kind == "grad_fn" else (e.dst, e.src)
                cu = u0[t] + self.du[t] / 2
                pts = [xy((cu, v[t] + self.dv[t])), xy((cu, v[n]))]
                if e.kind == "variable":
                    pts.reverse()
                mid = ((pts[0][0] + pts[1][0]) / 2, (pts[0][1] + pts[1][1]) / 2)
                routes[self.keys[i]] = Route(e.kind, ((pts[0], pts[1]),), mid)
            else:
                routes[self.keys[i]] = fallback_route(e.kind, rects[e.src], rects[e.dst])
        width_u = u - gap + MARGIN
        width_v = max(t_ext, n_hi) + 2 * MARGIN
        return self._finish(rects, routes, width_u, width_v, n_lo, n_hi)

    def _finish(
        self,
        rects: dict[str, Rect],
        routes: dict[EdgeKey, Route],
        width_u: float,
        width_v: float,
        n_lo: float,
        n_hi: float,
    ) -> Layout:
        """The layout from boxes and routes placed along u (the flow) and v (across it):
        the backward graph's band spans the nodes, from ``n_lo`` to ``n_hi`` across."""
        lr = self.direction == "LR"
        band = None
        if any(self.is_node.values()):
            lo, hi = n_lo + MARGIN - 14.0, n_hi + MARGIN + 14.0
            band = Rect(0.0, lo, width_u, hi - lo) if lr else Rect(lo, 0.0, hi - lo, width_u)
        w, h = (width_u, width_v) if lr else (width_v, width_u)
        return Layout(
            direction=self.direction,
            width=round(w, 2),
            height=round(h, 2),
            boxes=FrozenMap(rects),
            routes=FrozenMap(routes),
            band=band,
            columns=FrozenMap(self.col),
        )


def _topological(nodes: list[str], succ: dict[str, list[str]]) -> list[str]:
    """``nodes`` in topological order of ``succ`` (depth-first, iterative); an edge that
    closes a cycle is removed from ``succ``."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    out: list[str] = []
    for root in nodes:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, 0)]
        while stack:
            g, i = stack[-1]
            kids = succ[g]
            if i < len(kids):
                stack[-1] = (g, i + 1)
                k = kids[i]
                if state.get(k) == 1:  # back edge: drop it
                    kids.pop(i)
                    stack[-1] = (g, i)
                elif k not in state:
                    state[k] = 1
                    stack.append((k, 0))
            else:
                state[g] = 2
                out.append(g)
                stack.pop()
    out.reverse()
    return out


_TRIAL_STATE = (
    "gcol",
    "col",
    "ncols",
    "chains",
    "chain_band",
    "links",
    "fallback",
    "top",
    "x",
    "low",
    "tlow",
    "ntop",
    "bottom",
    "members",
    "nbrs",
    "crossings",
    "score",
    "gap_segs",
    "entering",
    "leaving",
    "col_links",
)


def fallback_route(kind: str, a: Rect, b: Rect) -> Route:
    """A best-effort gently curved route between two boxes (for edges the layering could
    not place, e.g. an edge closing a cycle or joining two boxes of one column)."""
    (ax, ay), (bx, by) = a.center, b.center
    if a is b or (ax, ay) == (bx, by):  # a self-loop (an in-place op): round a corner
        r, b = a.right, a.bottom  # the out-side corner in both directions, away from ports
        pts = ((r, b - 12), (r + 30, b - 12), (r - 12, b + 30), (r - 12, b))
        return Route(kind, (pts,), _bezier(pts, 0.5), routed=False)
    p, q = _clip(a, (bx, by)), _clip(b, (ax, ay))
    dx, dy = q[0] - p[0], q[1] - p[1]
    nx, ny = -dy * 0.18, dx * 0.18
    c1 = (p[0] + dx / 3 + nx, p[1] + dy / 3 + ny)
    c2 = (p[0] + 2 * dx / 3 + nx, p[1] + 2 * dy / 3 + ny)
    seg = (p, c1, c2, q)
    return Route(kind, (seg,), _bezier(seg, 0.5), routed=False)


def _clip(r: Rect, towards: Point) -> Point:
    """Where the segment from ``r``'s center towards ``towards`` leaves ``r``."""
    cx, cy = r.center
    dx, dy = towards[0] - cx, towards[1] - cy
    if dx == 0 and dy == 0:
        return (cx, cy)
    sx = (r.w / 2) / abs(dx) if dx else float("inf")
    sy = (r.h / 2) / abs(dy) if dy else float("inf")
    s = min(sx, sy, 1.0)
    return (round(cx + dx * s, 2), round(cy + dy * s, 2))
