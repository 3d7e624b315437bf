"""A deterministic, pure-Python layered layout for autograd diagrams.

The picture has two bands. Forward tensors flow along the layer axis (left to right for
``"LR"``, top to bottom for ``"TB"``); the backward graph sits in a second band (below
for ``"LR"``, to the right for ``"TB"``), each node in the column of the tensor it
belongs to (its ``anchor``). How it is done:

* columns: a longest-path layering of the forward edges (and the reversed ``next``
  edges), tensors and their anchored nodes sharing a column; leaves are pulled next to
  their first use; a column holds at most one tensor that both has inputs and owns nodes
  (otherwise its dashed ``grad_fn`` link would have to cross that tensor's edges);
* order within a column: fixed groups (pass-through edges and unlinked tensors on top,
  then the computed tensor, then leaves; in the node band the leaves' AccumulateGrad
  nodes mirrored, then the computed tensor's node, then free nodes), each group sorted
  by barycenter sweeps, keeping the order with the fewest crossings, ties by scene order;
* coordinates: each band is balanced by a weighted least-squares pass (chains of
  computed tensors and long edges pulled straight), without overlaps;
* edges: S-curves between columns, long edges through reserved slots, tensor-to-node
  links straight down or along nested lanes beside the column.

Everything is in points (1/72 inch), origin top-left, y pointing down. Compute the
layout once for all frames of a stepper and draw every frame with it::

    from gradlab.drawing import Box, Edge, Scene, layout

    s = Scene((Box("a", "leaf", "a", ("data: 2.",)), Box("b", "branch", "b")),
              (Edge("a", "b", "forward", "*"),))
    lay = layout(s)                      # or layout([frame1, frame2, ...])
    lay.rect("a")                        # Rect(x=..., y=..., w=..., h=...)
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

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
    versions) with forward tensors flowing ``"LR"`` (left to right) or ``"TB"``.

    Each computed tensor gets a column of its own, so that no dashed ``grad_fn`` link
    crosses an edge. When that would make more than ``max_columns`` columns, computed
    tensors share columns (as few per column as keep within ``max_columns``, or within
    the graph's depth) and some links cross edges. ``max_columns=None`` never shares.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    if max_columns is not None and max_columns < 1:
        raise ValueError(f"max_columns must be at least 1 or None, got {max_columns!r}")
    scenes = [scene] if isinstance(scene, Scene) else list(scene)
    return _Layouter(scenes, direction, max_columns).run()


class _Layouter:
    def __init__(self, scenes: list[Scene], direction: str, max_columns: int | None) -> None:
        self.direction = direction
        self.max_columns = max_columns
        self.union = Scene.union(scenes)
        self.order = {b.key: i for i, b in enumerate(self.union.boxes)}
        size: dict[str, tuple[float, float]] = {}
        for s in scenes:
            for b in s.boxes:
                w, h = box_size(b)
                ow, oh = size.get(b.key, (0.0, 0.0))
                size[b.key] = (max(w, ow), max(h, oh))
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

    # ---- groups and columns ----------------------------------------------------------

    def _groups(self) -> None:
        anchor: dict[str, str] = {}
        for b in self.union.boxes:
            if b.is_node and b.anchor in self.is_node and not self.is_node[b.anchor]:
                anchor[b.key] = b.anchor
        for _, e in self.edges:
            if e.kind == "grad_fn" and not self.is_node[e.src] and self.is_node[e.dst]:
                anchor.setdefault(e.dst, e.src)
            elif e.kind == "variable" and self.is_node[e.src] and not self.is_node[e.dst]:
                anchor.setdefault(e.src, e.dst)
        self.group = {k: anchor.get(k, k) for k in self.order}
        self.nodes_of: dict[str, list[str]] = {k: [] for k in self.order}
        for k in self.order:
            if k in anchor:
                self.nodes_of[anchor[k]].append(k)
        self.groups = [k for k in self.order if self.group[k] == k]

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

        for _, e in self.edges:
            if e.kind == "forward" and not self.is_node[e.src] and not self.is_node[e.dst]:
                a, b = self.group[e.src], self.group[e.dst]
            elif e.kind == "next" and self.is_node[e.src] and self.is_node[e.dst]:
                a, b = self.group[e.dst], self.group[e.src]
            else:
                continue
            if a == b or b in succ[a] or reaches(b, a):
                continue
            succ[a].append(b)
            pred[b].append(a)
        self.succ, self.pred = succ, pred

    def _is_tensor_group(self, g: str) -> bool:
        return not self.is_node[g]

    def _is_barrier(self, g: str) -> bool:
        """A tensor with inputs that owns nodes: at most one per column."""
        return self._is_tensor_group(g) and bool(self.nodes_of[g]) and bool(self.pred[g])

    def _assign(self, capacity: int) -> dict[str, int]:
        """Longest-path columns, at most ``capacity`` barrier tensors per column."""
        indeg = {g: len(self.pred[g]) for g in self.groups}
        heap = [(self.order[g], g) for g in self.groups if indeg[g] == 0]
        heapq.heapify(heap)
        col: dict[str, int] = {}
        taken: dict[int, int] = {}
        while heap:
            _, g = heapq.heappop(heap)
            c = max((col[p] + 1 for p in self.pred[g]), default=0)
            if self._is_barrier(g):
                while taken.get(c, 0) >= capacity:
                    c += 1
                taken[c] = taken.get(c, 0) + 1
            col[g] = c
            for s in self.succ[g]:
                indeg[s] -= 1
                if indeg[s] == 0:
                    heapq.heappush(heap, (self.order[s], s))
        for g in self.groups:  # sources right before their first use
            if not self.pred[g] and self.succ[g]:
                col[g] = min(col[s] for s in self.succ[g]) - 1
        used = sorted(set(col.values()))
        remap = {c: i for i, c in enumerate(used)}
        return {g: remap[c] for g, c in col.items()}

    def _columns(self) -> None:
        """One barrier per column (no link crossings) unless that makes the picture more
        than ``max_columns`` columns long where sharing columns would make it shorter."""
        gcol = self._assign(1)
        ncols = max(gcol.values(), default=-1) + 1
        if self.max_columns is not None and ncols > self.max_columns:
            n_barriers = sum(1 for g in self.groups if self._is_barrier(g))
            shortest = max(self._assign(n_barriers + 1).values(), default=-1) + 1
            target = max(self.max_columns, shortest)
            for capacity in range(2, n_barriers + 2):
                gcol = self._assign(capacity)
                ncols = max(gcol.values(), default=-1) + 1
                if ncols <= target:
                    break
        self.gcol = gcol
        self.col = {k: gcol[self.group[k]] for k in self.order}
        self.ncols = max(gcol.values(), default=-1) + 1

    # ---- items, chains, orders ---------------------------------------------------------

    def _chains(self) -> None:
        """Split routable edges into per-band chains of items in adjacent columns."""
        self.chains: dict[int, list[Item]] = {}  # edge index -> items
        self.chain_band: dict[int, str] = {}
        self.links: list[tuple[int, str, str]] = []  # (edge index, tensor, node)
        self.fallback: list[int] = []
        top: list[list[Item]] = [[] for _ in range(self.ncols)]
        bottom: list[list[Item]] = [[] for _ in range(self.ncols)]
        for i, e in self.edges:
            cs, cd = self.col[e.src], self.col[e.dst]
            sn, dn = self.is_node[e.src], self.is_node[e.dst]
            if e.kind == "forward" and not sn and not dn and cs < cd:
                dummies: list[Item] = [("~", i, c) for c in range(cs + 1, cd)]
                for d in dummies:
                    top[d[2]].append(d)  # type: ignore[index]
                self.chains[i] = [e.src, *dummies, e.dst]
                self.chain_band[i] = "t"
            elif e.kind == "next" and sn and dn and cd < cs:
                dummies = [("~", i, c) for c in range(cs - 1, cd, -1)]
                for d in dummies:
                    bottom[d[2]].append(d)  # type: ignore[index]
                self.chains[i] = [e.src, *dummies, e.dst]
                self.chain_band[i] = "n"
            elif e.kind == "grad_fn" and not sn and dn and self.group[e.dst] == e.src:
                self.links.append((i, e.src, e.dst))
            elif e.kind == "variable" and sn and not dn and self.group[e.src] == e.dst:
                self.links.append((i, e.dst, e.src))
            else:
                self.fallback.append(i)
        # column groups
        self.top, self.bottom = top, bottom
        self.x: list[list[str]] = [[] for _ in range(self.ncols)]
        self.low: list[list[str]] = [[] for _ in range(self.ncols)]
        for g in self.groups:
            c = self.gcol[g]
            if not self._is_tensor_group(g):
                bottom[c].append(g)
            elif not self.nodes_of[g]:
                top[c].append(g)
            elif self.pred[g]:
                self.x[c].append(g)
            else:
                self.low[c].append(g)
        # neighbours along chains, per band
        self.nbrs: dict[Item, list[tuple[Item, float]]] = {}
        for i, chain in self.chains.items():
            for a, b in zip(chain, chain[1:]):
                w = CHAIN_WEIGHT if self._chainy(a) and self._chainy(b) else 1.0
                self.nbrs.setdefault(a, []).append((b, w))
                self.nbrs.setdefault(b, []).append((a, w))

    def _chainy(self, item: Item) -> bool:
        if isinstance(item, tuple):
            return True
        return bool(self.pred[self.group[item]])

    def _acc(self, c: int) -> list[str]:
        """Nodes of the column's linked tensors, mirrored so that their links nest."""
        return [n for t in reversed(self.x[c] + self.low[c]) for n in self.nodes_of[t]]

    def tband(self, c: int) -> list[Item]:
        return [*self.top[c], *self.x[c], *self.low[c]]

    def nband(self, c: int) -> list[Item]:
        return [*self._acc(c), *self.bottom[c]]

    def _item_col(self, item: Item) -> int:
        return item[2] if isinstance(item, tuple) else self.col[item]  # type: ignore[return-value]

    def _positions(self) -> dict[Item, int]:
        pos: dict[Item, int] = {}
        for c in range(self.ncols):
            for seq in (self.tband(c), self.nband(c)):
                for i, it in enumerate(seq):
                    pos[it] = i
        return pos

    def _crossings(self) -> int:
        pos = self._positions()
        by_gap: dict[tuple[int, str], list[tuple[int, int]]] = {}
        for i, chain in self.chains.items():
            for a, b in zip(chain, chain[1:]):
                ca, cb = self._item_col(a), self._item_col(b)
                if ca > cb:
                    a, b, ca = b, a, cb
                by_gap.setdefault((ca, self.chain_band[i]), []).append((pos[a], pos[b]))
        n = 0
        for segs in by_gap.values():
            for j, (a1, b1) in enumerate(segs):
                for a2, b2 in segs[j + 1 :]:
                    if (a1 - a2) * (b1 - b2) < 0:
                        n += 1
        return n

    def _sort_by_barycenter(self, seq: list[Item], side: int, pos: dict[Item, int]) -> None:
        def bary(idx_item: tuple[int, Item]) -> tuple[float, int]:
            idx, it = idx_item
            ps = [
                pos[o]
                for o, _ in self.nbrs.get(it, ())
                if self._item_col(o) == self._item_col(it) + side
            ]
            return (sum(ps) / len(ps) if ps else float(idx), idx)

        ranked = sorted(enumerate(seq), key=bary)
        seq[:] = [it for _, it in ranked]

    def _order(self) -> None:
        key = self._sort_key
        for c in range(self.ncols):
            for seq in (self.top[c], self.low[c], self.bottom[c], self.x[c]):
                seq.sort(key=key)
        best = self._crossings()
        saved = self._snapshot()
        for sweep in range(SWEEPS):
            if best == 0:
                break
            side = -1 if sweep % 2 == 0 else 1
            cols = range(1, self.ncols) if side == -1 else range(self.ncols - 2, -1, -1)
            for c in cols:
                pos = self._positions()
                for seq in (self.top[c], self.x[c], self.low[c], self.bottom[c]):
                    self._sort_by_barycenter(seq, side, pos)  # type: ignore[arg-type]
            n = self._crossings()
            if n < best:
                best, saved = n, self._snapshot()
        self._restore(saved)
        self.crossings = best

    def _sort_key(self, item: Item) -> tuple[int, int]:
        if isinstance(item, tuple):
            e = self.union.edges[item[1]]
            return (self.order[e.src], item[1])
        return (self.order[item], -1)

    def _snapshot(self) -> tuple[list[list[Item]], ...]:
        return tuple(
            [list(s) for s in lst] for lst in (self.top, self.x, self.low, self.bottom)
        )

    def _restore(self, snap: tuple[list[list[Item]], ...]) -> None:
        self.top = [list(s) for s in snap[0]]
        self.x = [list(s) for s in snap[1]]  # type: ignore[misc]
        self.low = [list(s) for s in snap[2]]  # type: ignore[misc]
        self.bottom = [list(s) for s in snap[3]]

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
        blocks: list[list[float]] = []  # [value, weight, count]
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
        """Per column: which links go straight and which lane (0 = innermost) the rest use."""
        self.lane_of: dict[int, int] = {}
        self.nlanes = [0] * self.ncols
        per_col: dict[int, list[tuple[int, int, int, str]]] = {}
        for i, t, n in self.links:
            c = self.col[t]
            ts, ns = self.tband(c), self.nband(c)
            ti, ni = ts.index(t), ns.index(n)
            if ti == len(ts) - 1 and ni == 0:
                self.lane_of[i] = -1
            else:
                span = (len(ts) - ti) + ni
                per_col.setdefault(c, []).append((span, self.order[n], i, n))
        for c, lst in per_col.items():
            lst.sort()
            for k, (_, _, i, _) in enumerate(lst):
                self.lane_of[i] = k
            self.nlanes[c] = len(lst)

    def _columns_u(self) -> None:
        gap = GAP[self.direction]
        self.cu0: list[float] = []
        self.cw: list[float] = []
        self.approach: list[float] = []
        u = MARGIN
        for c in range(self.ncols):
            real = [k for k in self.order if self.col[k] == c]
            w = max((self.du[k] for k in real), default=0.0)
            lanes = self.nlanes[c] * LANE
            u += (gap if c else 0.0) + lanes + (LANE_MARGIN if lanes else 0.0)
            self.cu0.append(u)
            self.cw.append(w)
            self.approach.append(u - lanes - (LANE_MARGIN if lanes else 0.0))
            u += w
        self.u_end = u

    # ---- routes ------------------------------------------------------------------------

    def _rects_uv(self) -> None:
        self.u0: dict[str, float] = {}
        for k in self.order:
            c = self.col[k]
            self.u0[k] = round(self.cu0[c] + (self.cw[c] - self.du[k]) / 2, 2)

    def _ports(self) -> dict[tuple[int, str], float]:
        """v of each chain end on its box side, spread in the order of the far ends."""
        sides: dict[tuple[str, str], list[tuple[float, int, int]]] = {}
        for i, chain in self.chains.items():
            band = self.chain_band[i]
            # forward edges leave on the out side (u max), next edges on the in side
            first_side, last_side = ("out", "in") if band == "t" else ("in", "out")
            for end, nxt, side in ((chain[0], chain[1], first_side), (chain[-1], chain[-2], last_side)):
                c = self._center_v(nxt)
                sides.setdefault((end, side), []).append((c, self.order.get(nxt, -1), i))  # type: ignore[arg-type]
        ports: dict[tuple[int, str], float] = {}
        for (key, _side), lst in sides.items():
            lst.sort()
            n = len(lst)
            h = self.dv[key]
            margin = min(8.0, h / 4)
            sp = min(PORT_SPACING, (h - 2 * margin) / (n - 1)) if n > 1 else 0.0
            mid = self.v[key] + h / 2
            for j, (_, _, i) in enumerate(lst):
                ports[(i, key)] = round(mid + (j - (n - 1) / 2) * sp, 2)
        return ports

    def _center_v(self, it: Item) -> float:
        return self.v[it] + self._size_v(it) / 2

    @staticmethod
    def _curve(p: Point, q: Point) -> Segment:
        m = (p[0] + q[0]) / 2
        return (p, (m, p[1]), (m, q[1]), q)

    def _chain_route(self, i: int, ports: dict[tuple[int, str], float]) -> Route:
        chain = self.chains[i]
        band = self.chain_band[i]
        segs: list[Segment] = []
        curves: list[Segment] = []
        src, dst = chain[0], chain[-1]
        assert isinstance(src, str) and isinstance(dst, str)
        if band == "t":  # rightwards along u
            start = (self.u0[src] + self.du[src], ports[(i, src)])
            p = (self.cw[self.col[src]] + self.cu0[self.col[src]], start[1])
            segs.append((start, p))
            for it in chain[1:]:
                c = self._item_col(it)
                vv = ports[(i, it)] if isinstance(it, str) else self._center_v(it)
                q = (self.approach[c], vv)
                curves.append(self._curve(p, q))
                segs.append(curves[-1])
                end_u = self.u0[it] if isinstance(it, str) else self.cu0[c] + self.cw[c]
                segs.append((q, (end_u, vv)))
                p = (end_u, vv)
        else:  # leftwards along u
            start = (self.u0[src], ports[(i, src)])
            p = (self.approach[self.col[src]], start[1])
            segs.append((start, p))
            for it in chain[1:]:
                c = self._item_col(it)
                vv = ports[(i, it)] if isinstance(it, str) else self._center_v(it)
                q = (self.cu0[c] + self.cw[c], vv)
                curves.append(self._curve(p, q))
                segs.append(curves[-1])
                end_u = self.u0[it] + self.du[it] if isinstance(it, str) else self.approach[c]
                segs.append((q, (end_u, vv)))
                p = (end_u, vv)
        kind = self.union.edges[i].kind
        # many forward edges can leave a tensor but few enter one; next edges the other
        # way round (AccumulateGrad of a much-used leaf): label where edges are few
        label = _bezier(curves[0] if kind == "next" else curves[-1], 0.5)
        return Route(kind, tuple(s for s in segs if s[0] != s[-1] or len(s) == 4), label)

    def _link_route(self, i: int, t: str, n: str) -> Route:
        c = self.col[t]
        kind = self.union.edges[i].kind
        t_end = self.v[t] + self.dv[t]
        n_top = self.v[n]
        lane = self.lane_of[i]
        if lane < 0:
            cu = round(self.cu0[c] + self.cw[c] / 2, 2)
            pts = [(cu, t_end), (cu, n_top)]
        else:
            lu = self.cu0[c] - LANE_MARGIN - lane * LANE
            su_t, su_n = self.u0[t] + STUB, self.u0[n] + STUB
            vt, vn = t_end + STUB_DROP, n_top - STUB_DROP
            pts = [(su_t, t_end), (su_t, vt), (lu, vt), (lu, vn), (su_n, vn), (su_n, n_top)]
        if kind == "variable":
            pts.reverse()
        segs = tuple((a, b) for a, b in zip(pts, pts[1:]) if a != b)
        mid = len(pts) // 2
        a, b = pts[mid - 1], pts[mid]
        return Route(kind, segs, ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2))

    # ---- assemble ----------------------------------------------------------------------

    def run(self) -> Layout:
        self._groups()
        self._dag()
        self._columns()
        self._chains()
        self._order()
        self._balance()
        self._lanes()
        self._columns_u()
        self._rects_uv()
        ports = self._ports()
        routes_uv: dict[int, Route] = {}
        for i in self.chains:
            routes_uv[i] = self._chain_route(i, ports)
        for i, t, n in self.links:
            routes_uv[i] = self._link_route(i, t, n)
        width_u = self.u_end + MARGIN
        v_end = max(self.t_hi, self.n_hi)
        width_v = v_end + 2 * MARGIN
        lr = self.direction == "LR"

        def xy(p: Point) -> Point:
            u, v = p[0], p[1] + MARGIN
            return (round(u, 2), round(v, 2)) if lr else (round(v, 2), round(u, 2))

        rects: dict[str, Rect] = {}
        for k in self.order:
            u, v = self.u0[k], self.v[k] + MARGIN
            if lr:
                rects[k] = Rect(u, round(v, 2), self.du[k], self.dv[k])
            else:
                rects[k] = Rect(round(v, 2), u, self.dv[k], self.du[k])
        routes: dict[EdgeKey, Route] = {}
        for i, r in routes_uv.items():
            segs = tuple(tuple(xy(p) for p in s) for s in r.segments)
            routes[self.keys[i]] = Route(r.kind, segs, xy(r.label_at))
        for i in self.fallback:
            e = self.union.edges[i]
            routes[self.keys[i]] = fallback_route(e.kind, rects[e.src], rects[e.dst])
        band = None
        if any(self.is_node.values()):
            lo, hi = self.n_lo + MARGIN - 14.0, self.n_hi + MARGIN + 14.0
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


def fallback_route(kind: str, a: Rect, b: Rect) -> Route:
    """A best-effort gently curved route between two boxes (for edges the layering could
    not place, e.g. an edge closing a cycle or joining two boxes of one column)."""
    (ax, ay), (bx, by) = a.center, b.center
    if a is b or (ax, ay) == (bx, by):  # a self-loop: a small loop on the right side
        r = a.right
        pts = ((r, ay - 6), (r + 28, ay - 22), (r + 28, ay + 22), (r, ay + 6))
        return Route(kind, (pts,), (r + 22, ay), routed=False)
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
