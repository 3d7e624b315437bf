"""The walkthrough's picture: one layout and one drawing for the whole recording, then
each step as a small change against them.

Nothing per step costs in proportion to the recording: a step is which boxes and edges
are lit or in error, the notes on them (edge values come from the frame's flows, one per
edge, keyed by the source node and its ``next_functions`` slot), the rows of the boxes
whose state changed in that step (and what they said before, to step back), and the
rectangle to focus on. Each element of the drawing carries the frame it appears at
(``data-at``) and, for a ``grad_fn`` link an in-place op replaced, the frame it goes at
(``data-until``). The widget and the exported page apply these steps with the same
JavaScript (``gradlab/widgets/stepper.js``).

>>> import gradlab
>>> w = gradlab.Walkthrough(gradlab.examples.multiply())
>>> view = StepView(w)
>>> sorted(view.step(4))
['det', 'err', 'focus', 'lit', 'notes', 'phase', 'rows', 'source', 'text', 'undet', 'undo']
>>> view.step(4)["notes"]
[['e', 'n0.0', 'grad 3.']]
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from gradlab.drawing import svg
from gradlab.drawing.layout import Layout, layout
from gradlab.drawing.scene import Box, Edge, Highlight, Scene
from gradlab.picture import Boxes, forward_edges, graph_edges, node_anchors, values

if TYPE_CHECKING:
    from gradlab.walkthrough import Walkthrough

__all__ = ["StepView"]

#: around the focus rectangle, in drawing units
FOCUS_PAD = 30.0


class StepView:
    """One walkthrough drawn once: :meth:`drawing` (SVG with stable ids), :meth:`step`
    (what changes at a frame), :meth:`scene_at` (a whole frame, for saving)."""

    def __init__(self, walkthrough: Walkthrough, direction: str = "auto") -> None:
        w = self.w = walkthrough
        rec = self.rec = w.recording
        n = len(w.frames)
        self.last = n - 1
        appears = w.appears_at
        self.tensors = [k for k in appears if k in rec.tensors]
        self.nodes = [k for k in appears if k in rec.nodes]
        self.boxes_of = Boxes(rec, w.display_name, w.hides)
        self._boxes: dict[tuple[str, int], Box] = {}
        final = {k: w.state_at(k, self.last) for k in self.tensors}
        self.anchors = node_anchors(rec, final)
        self.freed_at: dict[int, list[str]] = {}  # frame -> nodes whose saved values go
        for k in self.nodes:
            at = w.freed_at(k)
            if at is not None:
                self.freed_at.setdefault(at, []).append(k)
        # grad_fn links, with the frames they hold: in-place ops move a tensor's grad_fn
        self.links: dict[tuple[str, str], list[int]] = {}
        seen: dict[str, str | None] = {}
        for i, frame in enumerate(w.frames):
            for key, st in frame.step.changed.items():
                old = seen.get(key)
                if key in seen and old != st.grad_fn and old is not None:
                    self.links[(key, old)].append(i)  # [at, until]
                if st.grad_fn is not None and old != st.grad_fn:
                    self.links.setdefault((key, st.grad_fn), [i])
                seen[key] = st.grad_fn
        first = [self._tensor_box(k, appears[k]) for k in self.tensors]
        first += [self._node_box(k, appears[k]) for k in self.nodes]
        last = [self._tensor_box(k, self.last) for k in self.tensors]
        last += [self._node_box(k, self.last) for k in self.nodes]
        edges = self._edges()
        self.scene = Scene(tuple(first), tuple(edges))
        # boxes sized to fit their first and last look
        self.layout: Layout = layout([self.scene, Scene(tuple(last))], direction)
        self.routes = svg.routes_of(self.scene, self.layout)
        self.edge_ids: dict[tuple[str, str], list[str]] = {}
        self.edge_ends: dict[str, tuple[str, str]] = {}
        for edge, eid, _ in self.routes:
            self.edge_ids.setdefault((edge.src, edge.dst), []).append(eid)
            self.edge_ends[eid] = (edge.src, edge.dst)
        self.saved_by = self.boxes_of.saved_by

    # --- the drawing, once --------------------------------------------------------------

    def _edges(self) -> list[Edge]:
        rec = self.rec
        present = set(self.tensors) | set(self.nodes)
        edges = [
            Edge(s, d, "forward", label)
            for s, d, label in dict.fromkeys(forward_edges(rec))
            if s in present and d in present
        ]
        edges += [Edge(t, n, "grad_fn") for t, n in self.links if n in present]
        edges += [e for e in graph_edges(rec, self.nodes) if e.dst in present]
        return edges

    def _edge_span(self, edge: Edge) -> tuple[int, int | None]:
        """The first frame an edge is drawn at, and the frame it goes (None: stays)."""
        appears = self.w.appears_at
        at = max(appears[edge.src], appears[edge.dst])
        if edge.kind == "grad_fn":
            span = self.links[(edge.src, edge.dst)]
            return max(at, span[0]), (span[1] if len(span) > 1 else None)
        return at, None

    def drawing(self) -> str:
        """The whole diagram as SVG: every box as it first appears, every edge, each
        element tagged with the frame it appears at."""
        lay, appears = self.layout, self.w.appears_at
        body = [svg.band_svg(lay)]
        for edge, eid, route in self.routes:
            at, until = self._edge_span(edge)
            attrs = f' data-at="{at}"' + (f' data-until="{until}"' if until is not None else "")
            body.append(svg.edge_svg(eid, route, edge.label, lay.direction, attrs=attrs))
        for box in self.scene.boxes:
            body.append(svg.box_svg(box, lay.rect(box.key), attrs=f' data-at="{appears[box.key]}"'))
        return svg.svg_document(lay.width, lay.height, body, cls="gradlab-drawing")

    def details(self, i: int, keys: Iterable[str]) -> dict[str, str]:
        """Full data and grad of these tensors as of frame ``i`` (shown on a click)."""
        out = {}
        for k in keys:
            st = self.w.state_at(k, i) if k in self.rec.tensors else None
            if st is not None:
                out[k] = self.boxes_of.detail(k, st)
        return out

    # --- boxes at a frame ---------------------------------------------------------------

    def _tensor_box(self, key: str, i: int) -> Box:
        st = self.w.state_at(key, i)
        if st is None:  # not there yet: as it first appears
            st = self.w.state_at(key, self.w.appears_at[key])
        box = self._boxes.get((key, id(st)))
        if box is None:  # a state is drawn once (a frame keeps the states it points to)
            box = self._boxes[(key, id(st))] = self.boxes_of.tensor(key, st)
        return box

    def _node_box(self, key: str, i: int) -> Box:
        at = self.w.freed_at(key)
        freed = at is not None and at <= i
        return self.boxes_of.node(key, self.anchors.get(key), self.w.saved_at(key, i), freed)

    def scene_at(self, i: int) -> Scene:
        """Frame ``i`` as a whole scene (every box present then, as it is then)."""
        appears = self.w.appears_at
        boxes = [self._tensor_box(k, i) for k in self.tensors if appears[k] <= i]
        boxes += [self._node_box(k, i) for k in self.nodes if appears[k] <= i]
        edges = []
        for edge in self.scene.edges:
            at, until = self._edge_span(edge)
            if at <= i and (until is None or i < until):
                edges.append(edge)
        return Scene(tuple(boxes), tuple(edges))

    def edge_labels(self, i: int) -> dict[str, str]:
        """The value on each edge a gradient moved along in frame ``i`` (from its flows)."""
        return {
            f"{f.source_key}.{f.position}": f"grad {values(f.value)}"
            for f in self.w.frames[i].flows
        }

    # --- one step -----------------------------------------------------------------------

    def _changed_boxes(self, i: int) -> set[str]:
        """Boxes whose rows may differ between frames i-1 and i (i > 0)."""
        appears = self.w.appears_at
        out = set()
        for key, _st in self.w.frames[i].step.changed.items():
            if key in appears and appears[key] < i:
                out.add(key)
                out.update(n for n in self.saved_by.get(key, ()) if appears.get(n, i) < i)
        out.update(k for k in self.freed_at.get(i, ()) if appears[k] < i)
        return out

    def _rows(self, key: str, i: int) -> list[str]:
        box = self._tensor_box(key, i) if key in self.rec.tensors else self._node_box(key, i)
        return list(box.rows) + ([box.tag] if box.tag else [])

    def step(self, i: int) -> dict[str, Any]:
        """What frame ``i`` changes: lit and error ids, notes, rows of changed boxes
        (``undo``: their rows at frame i-1), the focus rectangle and the texts."""
        frame = self.w.frames[i]
        hl: Highlight = frame.highlight
        labels = self.edge_labels(i)
        lit = [k for k in sorted(hl.active) if k in self.layout.boxes]
        lit_edges = set(labels)
        for pair in hl.active_edges:
            lit_edges.update(self.edge_ids.get(tuple(pair), ()))
        notes: list[list[str]] = [["e", eid, text] for eid, text in sorted(labels.items())]
        for pair, text in hl.edge_notes.items():
            ids = [e for e in self.edge_ids.get(tuple(pair), ()) if e not in labels]
            notes += [["e", e, text] for e in ids[:1]]
        for key, text in sorted(hl.box_notes.items()):
            if key in self.layout.boxes:
                notes.append(["b", key, text, "err" if key in hl.error else ""])
        rows, undo = {}, {}
        changed = sorted(self._changed_boxes(i)) if i > 0 else []
        for key in changed:
            now, before = self._rows(key, i), self._rows(key, i - 1)
            if now != before:
                rows[key], undo[key] = now, before
        phase = "error" if frame.step.kind in ("BackwardFailed", "Error") else frame.step.phase
        return {
            "lit": lit + sorted(lit_edges),
            "err": [k for k in sorted(hl.error) if k in self.layout.boxes],
            "notes": notes,
            "rows": rows,
            "undo": undo,
            "focus": self.focus(i, lit, lit_edges | set(rows)),
            "det": self.details(i, changed),
            "undet": self.details(i - 1, changed),
            "text": frame.narration,
            "source": frame.step.source,
            "phase": phase,
        }

    def focus(self, i: int, boxes: list[str], edges: Iterable[str]) -> list[float]:
        """The rectangle around what frame ``i`` is about (x, y, w, h)."""
        keys = set(boxes)
        for k in edges:
            keys.update(self.edge_ends.get(k, (k,)))
        if not keys:
            keys = set(self.w.frames[i].step.changed) & set(self.layout.boxes)
        if not keys:
            keys = {k for k in self.tensors[:1]}
        rects = [self.layout.rect(k) for k in keys if k in self.layout.boxes]
        if not rects:
            return [0.0, 0.0, self.layout.width, self.layout.height]
        x0 = min(r.x for r in rects) - FOCUS_PAD
        y0 = min(r.y for r in rects) - FOCUS_PAD
        x1 = max(r.right for r in rects) + FOCUS_PAD
        y1 = max(r.bottom for r in rects) + FOCUS_PAD
        return [round(x0, 1), round(y0, 1), round(x1 - x0, 1), round(y1 - y0, 1)]

    def start(self) -> dict[str, Any]:
        """What the front end gets once: the drawing, the number of steps and the full
        values of every tensor as it first appears (later values come with the steps)."""
        appears = self.w.appears_at
        details = {k: self.boxes_of.detail(k, self.w.state_at(k, appears[k])) for k in self.tensors}
        return {"svg": self.drawing(), "n": len(self.w.frames), "details": details}


def to_json(data: Any) -> str:
    """JSON safe to put inside a ``<script>`` element."""
    return json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")
