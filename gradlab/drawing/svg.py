"""The diagram as SVG text, written directly (no matplotlib): fast and deterministic.

Every box and edge carries a stable ``data-k`` attribute (a box's key, an edge's
:func:`edge_id`), so a front end can light, hide and relabel them without redrawing.
Colours live in one ``<style>`` block as classes (``k-leaf``, ``lit``, ``err``...);
colour is never the only cue: a box names its kind in its header, dried-up leaves have a
dashed border, nodes are rounded. ::

    from gradlab.drawing import Box, Edge, Highlight, Scene, layout
    from gradlab.drawing.svg import render_svg

    s = Scene((Box("a", "leaf", "a", ("data: 2.",)), Box("b", "branch", "b")),
              (Edge("a", "b", "forward", "*"),))
    svg = render_svg(s, layout(s), Highlight(active={"b"}))
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from html import escape

from . import _text as tx
from .layout import Layout, Rect, Route, edge_keys, fallback_route
from .scene import Box, Edge, Highlight, Scene

__all__ = ["PALETTE", "edge_id", "render_svg", "svg_document"]

#: fill, border and text colour of each box kind.
PALETTE = {
    "branch": ("#d4b08a", "#6b4423", "#1f140a"),
    "leaf": ("#a5d6a7", "#2e7d32", "#0f2a10"),
    "dried": ("#f6e27f", "#8d7208", "#2b2300"),
    "node": ("#b3cdf0", "#2f5f98", "#0d1f36"),
}
EDGE_STYLE = {  # colour, width, dash pattern
    "forward": ("#3a3a3a", 1.4, ""),
    "grad_fn": ("#5c5c5c", 1.3, "5 3"),
    "next": ("#2f5f98", 1.5, ""),
    "variable": ("#2e7d32", 1.5, "1.2 2.4"),
}
ACCENT = "#d9480f"
ERROR = "#c92a2a"
NOTE_FILL = "#fff4e6"
BAND_FILL = "#eef3fa"
FONT = "'DejaVu Sans Mono', monospace"
ARROW_LEN = 8.0
ARROW_HALF = 3.6
LEGEND = (
    ("branch", "branch: made by an op, has a grad_fn"),
    ("leaf", "leaf: requires_grad, .grad lands here"),
    ("dried", "dried-up leaf: not on the graph"),
    ("node", "node: backward function (rounded)"),
)
LEGEND_H = 30.0


def _style() -> str:
    rules = [
        f"text{{font-family:{FONT};font-size:{tx.ROW_SIZE}px;white-space:pre}}",
        f".title{{font-size:{tx.TITLE_SIZE}px;font-weight:bold}}",
        ".word{font-style:italic}",
        ".box>rect{stroke-width:1.4}",
        ".k-dried>rect{stroke-dasharray:4 2.5}",
        f".lit>rect{{stroke:{ACCENT}!important;stroke-width:3.4;stroke-dasharray:none}}",
        f".err>rect{{stroke:{ERROR}!important;stroke-width:3.4;stroke-dasharray:5 2}}",
        ".edge>path{fill:none}",
        f".edge.lit>path{{stroke:{ACCENT}!important;stroke-width:3.2}}",
        f".edge.lit>polygon{{fill:{ACCENT}!important}}",
        ".hidden{display:none}",
        f".note>rect{{fill:{NOTE_FILL};stroke:{ACCENT};stroke-width:1.4}}",
        f".note.err>rect{{fill:#fff0f0;stroke:{ERROR}}}",
        ".note>text{font-weight:bold}",
        ".elabel>rect{fill:white;stroke:#2f5f98;stroke-width:1}",
        ".elabel>text{font-weight:bold}",
        ".freed{fill-opacity:.55;text-decoration:line-through}",
        ".stale{fill:#c92a2a;font-weight:bold}",
    ]
    for kind, (fill, edge, ink) in PALETTE.items():
        rules.append(f".k-{kind}>rect{{fill:{fill};stroke:{edge}}}")
        rules.append(f".k-{kind} text{{fill:{ink}}}")
        rules.append(f".k-{kind}>line{{stroke:{edge};stroke-width:.8}}")
    for kind, (colour, width, dash) in EDGE_STYLE.items():
        dashes = f";stroke-dasharray:{dash}" if dash else ""
        rules.append(f".e-{kind}>path{{stroke:{colour};stroke-width:{width}{dashes}}}")
        rules.append(f".e-{kind}>polygon{{fill:{colour}}}")
    return "".join(rules)


STYLE = _style()


def edge_id(edge: Edge, occurrence: int = 0) -> str:
    """The stable id of a drawn edge: ``"n3.1"`` for the ``next`` edge in slot 1 of node
    n3's ``next_functions`` (so parallel edges are told apart), else kind, ends and the
    occurrence among equal edges."""
    if edge.kind == "next" and edge.position >= 0:
        return f"{edge.src}.{edge.position}"
    return f"{edge.kind}:{edge.src}>{edge.dst}:{occurrence}"


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _path(route: Route) -> str:
    parts = [f"M{_f(route.start[0])} {_f(route.start[1])}"]
    segs = list(route.segments)
    last = segs[-1]
    if len(last) == 2:  # shorten the last straight piece under the arrowhead
        (px, py), (ex, ey) = last
        n = math.hypot(ex - px, ey - py)
        if n > ARROW_LEN:
            k = (n - ARROW_LEN * 0.7) / n
            segs[-1] = ((px, py), (px + (ex - px) * k, py + (ey - py) * k))
    for seg in segs:
        if len(seg) == 2:
            parts.append(f"L{_f(seg[1][0])} {_f(seg[1][1])}")
        else:
            parts.append("C" + " ".join(f"{_f(x)} {_f(y)}" for x, y in seg[1:]))
    return "".join(parts)


def _arrowhead(route: Route) -> str:
    ex, ey = route.end
    dx, dy = 1.0, 0.0
    for seg in reversed(route.segments):
        found = False
        for px, py in reversed(seg[:-1]):
            n = math.hypot(seg[-1][0] - px, seg[-1][1] - py)
            if n > 1e-6:
                dx, dy = (seg[-1][0] - px) / n, (seg[-1][1] - py) / n
                found = True
                break
        if found:
            break
    bx, by = ex - dx * ARROW_LEN, ey - dy * ARROW_LEN
    pts = ((ex, ey), (bx - dy * ARROW_HALF, by + dx * ARROW_HALF))
    pts += ((bx + dy * ARROW_HALF, by - dx * ARROW_HALF),)
    return " ".join(f"{_f(x)},{_f(y)}" for x, y in pts)


def _text(x: float, y: float, text: str, cls: str = "", anchor: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    a = f' text-anchor="{anchor}"' if anchor else ""
    return f'<text x="{_f(x)}" y="{_f(y)}"{c}{a}>{escape(tx.clean(text), quote=False)}</text>'


def row_y(r: Rect, i: int) -> float:
    """Baseline of row ``i`` of a box (rows start under the header)."""
    pitch = tx.ROW_SIZE * tx.LINE
    return r.y + tx.header_height() + tx.HEADER_GAP + i * pitch + pitch / 2 + tx.ROW_SIZE * 0.35


def box_svg(box: Box, r: Rect, cls: str = "", attrs: str = "") -> str:
    """One box: its rectangle, header, rows and tag, as an SVG group."""
    rx = ' rx="7"' if box.is_node else ""
    out = [
        f'<g class="box k-{box.kind}{" " + cls if cls else ""}" data-k="{escape(box.key)}"'
        f' data-r="{_f(r.x)} {_f(r.y)} {_f(r.w)} {_f(r.h)}"{attrs}>',
        f'<rect x="{_f(r.x)}" y="{_f(r.y)}" width="{_f(r.w)}" height="{_f(r.h)}"{rx}/>',
    ]
    body = bool(box.rows or box.tag)
    title_y = r.y + tx.PAD_Y + tx.TITLE_SIZE * tx.LINE / 2 + tx.TITLE_SIZE * 0.35
    if box.is_node and not body:
        out.append(_text(r.x + r.w / 2, r.y + r.h / 2 + 4, box.title, "title", "middle"))
    else:
        out.append(_text(r.x + tx.PAD_X, title_y, box.title, "title"))
        hy = r.y + tx.header_height()
        out.append(f'<line x1="{_f(r.x)}" y1="{_f(hy)}" x2="{_f(r.right)}" y2="{_f(hy)}"/>')
    word = tx.kind_word(box)
    if word:
        out.append(_text(r.right - tx.PAD_X, title_y, word, "word", "end"))
    out.extend(
        _text(r.x + tx.PAD_X, row_y(r, i), row, _row_class(row)) for i, row in enumerate(box.rows)
    )
    if box.tag:
        out.append(_text(r.x + tx.PAD_X, row_y(r, len(box.rows)) + tx.TAG_GAP, box.tag, "tag"))
    out.append("</g>")
    return "".join(out)


def _row_class(row: str) -> str:
    """Rows about a freed or out-of-date saved tensor are styled as such."""
    if "(freed)" in row:
        return "row freed"
    if "now v" in row:
        return "row stale"
    return "row"


def edge_svg(
    edge_key: str, route: Route, label: str, direction: str, cls: str = "", attrs: str = ""
) -> str:
    """One edge: its path, arrowhead and (for ``next`` edges) its output-index label;
    ``data-l`` is where a note on it goes."""
    kind = route.kind
    lx, ly = edge_note_at(route, direction, bool(label))
    attrs += f' data-l="{_f(lx)} {_f(ly)}"'
    out = [
        f'<g class="edge e-{kind}{" " + cls if cls else ""}" data-k="{escape(edge_key)}"{attrs}>',
        f'<path d="{_path(route)}"/><polygon points="{_arrowhead(route)}"/></g>',
    ]
    if label:
        x, y = route.label_at
        w = tx.text_width(label) + 8
        out.append(
            f'<g class="elabel{" " + cls if "hidden" in cls else ""}" data-k="{escape(edge_key)}">'
            f'<rect x="{_f(x - w / 2)}" y="{_f(y - 8)}" width="{_f(w)}" height="16" rx="4"/>'
            + _text(x, y + 3.5, label, anchor="middle")
            + "</g>"
        )
    return "".join(out)


def note_svg(x: float, y: float, text: str, anchor: str = "middle", error: bool = False) -> str:
    """A highlight note: a value on an edge or a change by a box."""
    w = tx.text_width(text) + 10
    left = x - w / 2 if anchor == "middle" else x
    cls = "note err" if error else "note"
    return (
        f'<g class="{cls}"><rect x="{_f(left)}" y="{_f(y - 9)}" width="{_f(w)}" height="18"'
        f' rx="5"/>{_text(left + 5, y + 3.5, text)}</g>'
    )


def edge_note_at(route: Route, direction: str, labelled: bool) -> tuple[float, float]:
    """Where a note on an edge goes: on its label point, beside the label if it has one."""
    x, y = route.label_at
    if labelled:
        if direction == "LR":
            y -= 17.0
        else:
            x += 40.0
    return x, y


def svg_document(width: float, height: float, body: Iterable[str], cls: str = "") -> str:
    """An SVG document (sized in px, 1 pt of layout = 1 px) around ``body``."""
    c = f' class="{cls}"' if cls else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg"{c} width="{_f(width)}" height="{_f(height)}"'
        f' viewBox="0 0 {_f(width)} {_f(height)}"><style>{STYLE}</style>'
        f'<rect width="100%" height="100%" fill="white"/>' + "".join(body) + "</svg>"
    )


def band_svg(lay: Layout) -> str:
    """The shaded band behind the backward graph."""
    b = lay.band
    if b is None:
        return ""
    if lay.direction == "LR":
        x, y, w, h = 0.0, b.y, lay.width, b.h
    else:
        x, y, w, h = b.x, 0.0, b.w, lay.height
    return f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}" fill="{BAND_FILL}"/>'


def legend_svg(y: float) -> str:
    """One line of legend: what each colour means (also said in words in each box)."""
    out, x = [], 16.0
    for kind, text in LEGEND:
        rx = ' rx="4"' if kind == "node" else ""
        out.append(
            f'<g class="box k-{kind}"><rect x="{_f(x)}" y="{_f(y + 8)}" width="26" height="14"'
            f"{rx}/></g>" + _text(x + 32, y + 19, text)
        )
        x += 32 + tx.text_width(text) + 18
    return "".join(out)


def legend_width() -> float:
    return 16.0 + sum(32 + tx.text_width(t) + 18 for _, t in LEGEND)


def routes_of(scene: Scene, lay: Layout) -> list[tuple[Edge, str, Route]]:
    """Each edge of ``scene`` whose ends are both drawn, with its id and route (edges the
    layout did not route get a best-effort curve)."""
    out = []
    for key, edge in zip(edge_keys(scene.edges), scene.edges):
        if edge.src not in lay.boxes or edge.dst not in lay.boxes:
            continue
        route = lay.routes.get(key) or _fallback(edge, lay)
        out.append((edge, edge_id(edge, key[4]), route))
    return out


def _fallback(edge: Edge, lay: Layout) -> Route:
    return fallback_route(edge.kind, lay.rect(edge.src), lay.rect(edge.dst))


def render_svg(
    scene: Scene,
    layout: Layout,
    highlight: Highlight | None = None,
    legend: bool = True,
    edge_labels: Mapping[str, str] | None = None,
) -> str:
    """``scene`` drawn at the positions of ``layout`` as an SVG document; ``highlight``
    lights boxes and edges and puts notes on them, ``edge_labels`` puts a value on the edge
    with that :func:`edge_id` (one label per edge, also for parallel edges)."""
    hl = highlight if highlight is not None else Highlight()
    labels = dict(edge_labels or {})
    shown = {b.key for b in scene.boxes if b.key in layout.boxes}
    body = [band_svg(layout)]
    notes = []
    for edge, eid, route in routes_of(scene, layout):
        if edge.src not in shown or edge.dst not in shown:
            continue
        pair = (edge.src, edge.dst)
        lit = pair in hl.active_edges or eid in labels
        body.append(edge_svg(eid, route, edge.label, layout.direction, "lit" if lit else ""))
        note = labels.get(eid) or hl.edge_notes.get(pair, "")
        if note:
            x, y = edge_note_at(route, layout.direction, bool(edge.label))
            notes.append(note_svg(x, y, note))
    for box in scene.boxes:
        if box.key not in shown:
            continue
        r = layout.rect(box.key)
        cls = "err" if box.key in hl.error else "lit" if box.key in hl.active else ""
        body.append(box_svg(box, r, cls))
        note = hl.box_notes.get(box.key)
        if note:
            notes.append(note_svg(r.x, r.y - 12, note, "start", box.key in hl.error))
    body.extend(notes)
    width, height = layout.width, layout.height
    if legend:
        body.append(legend_svg(height))
        width, height = max(width, legend_width()), height + LEGEND_H
    return svg_document(width, height, body)
