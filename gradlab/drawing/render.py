"""Deterministic matplotlib rendering of a laid-out :class:`~gradlab.drawing.scene.Scene`.

Colours follow the classic autograd diagram (brown branch, green leaf, yellow dried-up
leaf, blue backward node) and are never the only cue: tensor boxes name their kind in
the header, nodes are rounded, and a legend inside the figure explains both.

Output is byte-for-byte reproducible (fixed SVG hash salt, no dates or creator, PNG
metadata stripped, matplotlib defaults applied through ``rc_context`` without touching
the global ``rcParams``); all text is literal (no mathtext, no TeX) and SVG text stays
text. pyplot is never used.

A :class:`Renderer` builds the figure once per layout; each frame only updates the
artists (visibility, colours, texts), so a stepper re-renders quickly::

    from gradlab.drawing import Highlight, Renderer, layout, render_svg

    lay = layout(frames)                      # all frames: boxes keep their places
    svg = render_svg(frames[0], lay)          # one-off (cached renderer per layout)
    r = Renderer(lay)
    png = r.png(frames[3], Highlight(active={"c.fn"}, edge_notes={("e.fn", "c.fn"): "grad 4."}))
"""

from __future__ import annotations

import io
import math
import threading
import warnings
import weakref
from dataclasses import dataclass
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch, PathPatch, Polygon, Rectangle
from matplotlib.path import Path
from matplotlib.text import Text
from matplotlib.transforms import Affine2D, Transform

from . import _text as tx
from .layout import Layout, Rect, Route, edge_keys, fallback_route
from .scene import Box, Edge, Highlight, Scene

__all__ = ["DEFAULT_DPI", "PALETTE", "Renderer", "render_png", "render_svg"]

DEFAULT_DPI = 100

#: fill, border and text colour of each box kind.
PALETTE = {
    "branch": ("#d4b08a", "#6b4423", "#1f140a"),
    "leaf": ("#a5d6a7", "#2e7d32", "#0f2a10"),
    "dried": ("#f6e27f", "#8d7208", "#2b2300"),
    "node": ("#b3cdf0", "#2f5f98", "#0d1f36"),
}
BORDER_STYLE = {"branch": "solid", "leaf": "solid", "dried": (0, (4.0, 2.5)), "node": "solid"}
EDGE_STYLE: dict[str, dict[str, Any]] = {
    "forward": {"color": "#3a3a3a", "lw": 1.4, "ls": "solid"},
    "grad_fn": {"color": "#5c5c5c", "lw": 1.3, "ls": (0, (5.0, 3.0))},
    "next": {"color": "#2f5f98", "lw": 1.5, "ls": "solid"},
    "variable": {"color": "#2e7d32", "lw": 1.5, "ls": (0, (1.2, 2.4))},
}
ACCENT = "#d9480f"
ERROR = "#c92a2a"
NOTE_FILL = "#fff4e6"
ERROR_FILL = "#fff0f0"
BAND_FILL = "#eef3fa"
TEXT = "#1a1a1a"
ARROW_LEN = 8.0
ARROW_HALF = 3.6

LEGEND_ENTRIES = (
    ("box", "branch", "branch: made by an op, has a grad_fn"),
    ("box", "leaf", "leaf: requires_grad, .grad lands here"),
    ("box", "dried", "dried-up leaf: not on the graph"),
    ("box", "node", "node: backward function (rounded)"),
    ("edge", "forward", "forward op"),
    ("edge", "grad_fn", "grad_fn"),
    ("edge", "next", "next_functions (output index)"),
    ("edge", "variable", "AccumulateGrad.variable"),
    ("band", "", "shaded band: backward graph"),
)

_RC: dict[str, Any] = {
    k: v
    for k, v in matplotlib.rcParamsDefault.items()
    if k not in ("backend", "backend_fallback", "interactive")
}
_RC.update(
    {
        "svg.hashsalt": "gradlab",
        "svg.fonttype": "none",
        "text.usetex": False,
        "text.parse_math": False,
        "path.sketch": None,
        "font.family": "monospace",
        "font.monospace": ["DejaVu Sans Mono"],
        "savefig.facecolor": "white",
        "savefig.edgecolor": "white",
        "savefig.transparent": False,
        "savefig.bbox": None,
        "savefig.pad_inches": 0.0,
        "figure.facecolor": "white",
    }
)
_FAMILY = ["monospace"]  # rc font.monospace: DejaVu Sans Mono (SVG: "DejaVu Sans Mono", monospace)
_SVG_META = {"Date": None, "Creator": None}
_PNG_META = {"Software": None}


def _rc() -> Any:
    return matplotlib.rc_context(_RC)


@dataclass
class _BoxArt:
    patch: FancyBboxPatch
    rule: Line2D
    title: Text
    word: Text
    rows: list[Text]
    tag: Text
    note: Text
    state: tuple[Any, ...] = ()


@dataclass
class _EdgeArt:
    route: Route
    line: PathPatch
    head: Polygon
    label: Text | None
    note: Text
    state: tuple[Any, ...] = ()


class Renderer:
    """Draws frames of one layout: builds the figure once, then updates it per frame.

    Not thread-safe (calls are serialised with a lock). Boxes of a frame that the layout
    does not know are skipped; edges with an absent end are skipped; edges the layout did
    not route get a best-effort curve.
    """

    def __init__(self, layout: Layout, legend: bool = True) -> None:
        self.layout = layout
        self.legend = legend
        self._lock = threading.Lock()
        with _rc():
            self._build()

    # ---- building ----------------------------------------------------------------------

    def _build(self) -> None:
        lay = self.layout
        self.legend_h, legend_items = self._legend_plan() if self.legend else (0.0, [])
        self.width = max(lay.width, self._legend_min_width() if self.legend else 0.0)
        self.height = lay.height + self.legend_h
        fig = Figure(figsize=(self.width / 72, self.height / 72), dpi=72)
        fig.patch.set_facecolor("white")
        self.fig = fig
        # points with y down -> inches with y up -> pixels
        self.tr: Transform = (
            Affine2D().scale(1 / 72, -1 / 72).translate(0, self.height / 72)
            + fig.dpi_scale_trans
        )
        if lay.band is not None:
            b = lay.band
            band_w = self.width if lay.direction == "LR" else b.w
            band_h = b.h if lay.direction == "LR" else lay.height
            self._add(Rectangle((b.x, b.y), band_w, band_h, fc=BAND_FILL, ec="none", zorder=0))
        self.boxes: dict[str, _BoxArt] = {k: self._box_art(r) for k, r in lay.boxes.items()}
        self.edges: dict[tuple[str, str, str, str, int], _EdgeArt] = {
            k: self._edge_art(r, k[3]) for k, r in lay.routes.items()
        }
        for item in legend_items:
            item()

    def _add(self, artist: Any) -> Any:
        artist.set_transform(self.tr)
        self.fig.add_artist(artist)
        return artist

    def _text(self, x: float, y: float, size: float = tx.ROW_SIZE, **kw: Any) -> Text:
        kw.setdefault("color", TEXT)
        t = Text(
            x,
            y,
            "",
            fontsize=size,
            family=_FAMILY,
            parse_math=False,
            usetex=False,
            **kw,
        )
        t.set_clip_on(False)
        return self._add(t)

    def _box_art(self, r: Rect) -> _BoxArt:
        patch = self._add(
            FancyBboxPatch((r.x, r.y), r.w, r.h, boxstyle="square,pad=0", lw=1.4, zorder=2)
        )
        hy = r.y + tx.header_height()
        rule = self._add(Line2D([r.x, r.right], [hy, hy], lw=0.8, zorder=3))
        ty = r.y + tx.PAD_Y + tx.TITLE_SIZE * tx.LINE / 2
        title = self._text(
            r.x + tx.PAD_X, ty, tx.TITLE_SIZE, ha="left", va="center_baseline",
            fontweight="bold", zorder=4,
        )
        word = self._text(
            r.right - tx.PAD_X, ty, ha="right", va="center_baseline", style="italic", zorder=4
        )
        tag = self._text(
            r.x + tx.PAD_X + 3, 0.0, ha="left", va="center_baseline", zorder=5,
            bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "#555555", "lw": 0.8},
        )
        note = self._text(
            r.x, r.y - 5, ha="left", va="bottom", fontweight="bold", zorder=8,
            bbox={"boxstyle": "round,pad=0.3", "fc": NOTE_FILL, "ec": ACCENT, "lw": 1.4},
        )
        for a in (patch, rule, title, word, tag, note):
            a.set_visible(False)
        return _BoxArt(patch, rule, title, word, [], tag, note)

    def _edge_art(self, route: Route, label: str) -> _EdgeArt:
        line = self._add(PathPatch(_path(route, ARROW_LEN), fill=False, zorder=1.5))
        line.set_capstyle("butt")
        line.set_joinstyle("round")
        head = self._add(Polygon(_arrowhead(route, ARROW_LEN, ARROW_HALF), closed=True, lw=0))
        head.set_zorder(1.6)
        lab = None
        if label:
            x, y = route.label_at
            if route.kind == "next":
                bbox = {"boxstyle": "round,pad=0.22", "fc": "white", "ec": "#2f5f98", "lw": 1.0}
            else:
                bbox = {"boxstyle": "round,pad=0.12", "fc": "white", "ec": "none"}
            lab = self._text(x, y, ha="center", va="center", fontweight="bold", zorder=6, bbox=bbox)
            lab.set_text(tx.clean(label))
        x, y = route.label_at
        note = self._text(
            x, y, ha="center", va="center", fontweight="bold", zorder=7,
            bbox={"boxstyle": "round,pad=0.3", "fc": NOTE_FILL, "ec": ACCENT, "lw": 1.4},
        )
        for a in (line, head, note, lab):
            if a is not None:
                a.set_visible(False)
        return _EdgeArt(route, line, head, lab, note)

    # ---- legend ------------------------------------------------------------------------

    def _legend_entries_w(self) -> list[float]:
        return [34.0 + tx.text_width(text) + 18.0 for _, _, text in LEGEND_ENTRIES]

    def _legend_min_width(self) -> float:
        return max(self._legend_entries_w()) + 2 * 16.0

    def _legend_rows(self, width: float) -> list[list[int]]:
        avail = width - 2 * 16.0
        rows: list[list[int]] = [[]]
        used = 0.0
        for i, w in enumerate(self._legend_entries_w()):
            if rows[-1] and used + w > avail:
                rows.append([])
                used = 0.0
            rows[-1].append(i)
            used += w
        return rows

    def _legend_plan(self) -> tuple[float, list[Any]]:
        width = max(self.layout.width, self._legend_min_width())
        rows = self._legend_rows(width)
        row_h = 22.0
        height = 14.0 + row_h * len(rows) + 8.0
        top = self.layout.height
        widths = self._legend_entries_w()
        items: list[Any] = []

        def draw_rule() -> None:
            self._add(Line2D([10, width - 10], [top + 4, top + 4], lw=0.8, color="#bbbbbb"))

        items.append(draw_rule)
        for r, row in enumerate(rows):
            x = 16.0
            y = top + 14.0 + r * row_h + row_h / 2
            for i in row:
                items.append(self._legend_item_drawer(i, x, y))
                x += widths[i]
        return height, items

    def _legend_item_drawer(self, i: int, x: float, y: float) -> Any:
        what, kind, text = LEGEND_ENTRIES[i]

        def draw() -> None:
            if what == "box":
                fill, edge, _ = PALETTE[kind]
                style = "round,pad=0,rounding_size=4" if kind == "node" else "square,pad=0"
                self._add(
                    FancyBboxPatch(
                        (x, y - 7), 26, 14, boxstyle=style, fc=fill, ec=edge, lw=1.3,
                        ls=BORDER_STYLE[kind],
                    )
                )
            elif what == "band":
                self._add(Rectangle((x, y - 7), 26, 14, fc=BAND_FILL, ec="#9db4d3", lw=0.8))
            else:
                st = EDGE_STYLE[kind]
                route = Route(kind, (((x, y), (x + 28, y)),), (x + 12, y))
                p = self._add(PathPatch(_path(route, ARROW_LEN), fill=False, ec=st["color"]))
                p.set_linewidth(st["lw"])
                p.set_linestyle(st["ls"])
                self._add(
                    Polygon(_arrowhead(route, ARROW_LEN, ARROW_HALF), fc=st["color"], lw=0)
                )
                if kind == "next":
                    t = self._text(x + 11, y, ha="center", va="center", fontweight="bold")
                    t.set_text("0")
                    t.set_bbox(
                        {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "#2f5f98", "lw": 0.8}
                    )
            t = self._text(x + 34, y, ha="left", va="center_baseline")
            t.set_text(text)

        return draw

    # ---- per frame ---------------------------------------------------------------------

    def _apply(self, scene: Scene, hl: Highlight) -> list[Any]:
        present = {b.key for b in scene.boxes if b.key in self.boxes}
        for key, art in self.boxes.items():
            box = scene.get(key) if key in present else None
            self._set_box(key, art, box, hl)
        shown: set[tuple[str, str, str, str, int]] = set()
        extra: list[Any] = []
        for key, edge in zip(edge_keys(scene.edges), scene.edges):
            if edge.src not in present or edge.dst not in present:
                continue
            if key in self.edges:
                shown.add(key)
            else:  # not routed by the layout: a temporary best-effort curve
                r = fallback_route(
                    edge.kind, self.layout.rect(edge.src), self.layout.rect(edge.dst)
                )
                art = self._edge_art(r, edge.label)
                self._set_edge(art, edge, hl)
                extra.append(art)
        for key, art in self.edges.items():
            e = Edge(key[0], key[1], key[2], key[3])
            self._set_edge(art, e if key in shown else None, hl)
        return extra

    def _set_box(self, key: str, art: _BoxArt, box: Box | None, hl: Highlight) -> None:
        note = hl.box_notes.get(key, "") if box is not None else ""
        state = (
            box,
            key in hl.active,
            key in hl.error,
            note,
        )
        if state == art.state:
            return
        art.state = state
        everything = [art.patch, art.rule, art.title, art.word, art.tag, art.note, *art.rows]
        if box is None:
            for a in everything:
                a.set_visible(False)
            return
        r = self.layout.rect(key)
        fill, edge, ink = PALETTE[box.kind]
        p = art.patch
        p.set_boxstyle("round,pad=0,rounding_size=7" if box.is_node else "square,pad=0")
        p.set_facecolor(fill)
        error, active = key in hl.error, key in hl.active
        if error:
            p.set_edgecolor(ERROR)
            p.set_linewidth(3.4)
            p.set_linestyle((0, (5.0, 2.0)))
        elif active:
            p.set_edgecolor(ACCENT)
            p.set_linewidth(3.4)
            p.set_linestyle("solid")
        else:
            p.set_edgecolor(edge)
            p.set_linewidth(1.4)
            p.set_linestyle(BORDER_STYLE[box.kind])
        p.set_visible(True)
        has_body = bool(box.rows or box.tag)
        art.rule.set_color(edge)
        art.rule.set_visible(has_body)
        if box.is_node and not has_body:  # a one-line node: centre the title
            art.title.set_position((r.x + r.w / 2, r.y + r.h / 2))
            art.title.set_horizontalalignment("center")
        else:
            art.title.set_position((r.x + tx.PAD_X, r.y + tx.PAD_Y + tx.TITLE_SIZE * tx.LINE / 2))
            art.title.set_horizontalalignment("left")
        art.title.set_text(tx.clean(box.title))
        art.title.set_color(ink)
        art.title.set_visible(True)
        word = tx.kind_word(box)
        art.word.set_text(word)
        art.word.set_color(ink)
        art.word.set_visible(bool(word))
        y = r.y + tx.header_height() + tx.HEADER_GAP + tx.ROW_SIZE * tx.LINE / 2
        while len(art.rows) < len(box.rows):
            art.rows.append(self._text(r.x + tx.PAD_X, 0.0, ha="left", va="center_baseline",
                                       zorder=4))
        for i, t in enumerate(art.rows):
            if i < len(box.rows):
                t.set_text(tx.clean(box.rows[i]))
                t.set_y(y + i * tx.ROW_SIZE * tx.LINE)
                t.set_color(ink)
                t.set_visible(True)
            else:
                t.set_visible(False)
        if box.tag:
            art.tag.set_text(tx.clean(box.tag))
            art.tag.set_y(y + len(box.rows) * tx.ROW_SIZE * tx.LINE + tx.TAG_GAP)
            art.tag.set_visible(True)
        else:
            art.tag.set_visible(False)
        if note:
            art.note.set_text(tx.clean(note))
            bb = art.note.get_bbox_patch()
            if bb is not None:
                bb.set_edgecolor(ERROR if error else ACCENT)
                bb.set_facecolor(ERROR_FILL if error else NOTE_FILL)
            art.note.set_color(ERROR if error else TEXT)
            art.note.set_visible(True)
        else:
            art.note.set_visible(False)

    def _set_edge(self, art: _EdgeArt, edge: Edge | None, hl: Highlight) -> None:
        pair = (edge.src, edge.dst) if edge is not None else None
        active = pair in hl.active_edges
        note = hl.edge_notes.get(pair, "") if pair is not None else ""
        state = (edge is not None, active, note)
        if state == art.state:
            return
        art.state = state
        if edge is None:
            for a in (art.line, art.head, art.note, art.label):
                if a is not None:
                    a.set_visible(False)
            return
        st = EDGE_STYLE[art.route.kind]
        color = ACCENT if active else st["color"]
        art.line.set_edgecolor(color)
        art.line.set_linewidth(st["lw"] * 2.2 if active else st["lw"])
        art.line.set_linestyle(st["ls"])
        art.line.set_visible(True)
        scale = 1.5 if active else 1.0
        art.head.set_xy(_arrowhead(art.route, ARROW_LEN * scale, ARROW_HALF * scale))
        art.head.set_facecolor(color)
        art.head.set_visible(True)
        if art.label is not None:
            art.label.set_visible(True)
        if note:
            x, y = art.route.label_at
            if art.label is not None:  # keep the label readable: the note sits beside it
                if self.layout.direction == "LR":
                    y -= 17.0
                else:
                    x += tx.text_width(note) / 2 + 14.0
            art.note.set_position((x, y))
            art.note.set_text(tx.clean(note))
            art.note.set_visible(True)
        else:
            art.note.set_visible(False)

    # ---- output ------------------------------------------------------------------------

    def _save(self, scene: Scene, highlight: Highlight | None, fmt: str, dpi: float) -> bytes:
        hl = highlight if highlight is not None else Highlight()
        with self._lock, _rc(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. a glyph missing from the font
            extra = self._apply(scene, hl)
            try:
                buf = io.BytesIO()
                meta = _SVG_META if fmt == "svg" else _PNG_META
                self.fig.savefig(buf, format=fmt, dpi=dpi, metadata=meta)
            finally:
                for art in extra:
                    for a in (art.line, art.head, art.label, art.note):
                        if a is not None:
                            a.remove()
        return buf.getvalue()

    def svg(self, scene: Scene, highlight: Highlight | None = None) -> str:
        """The frame as an SVG document (text kept as text)."""
        return self._save(scene, highlight, "svg", 72).decode("utf-8")

    def png(
        self, scene: Scene, highlight: Highlight | None = None, dpi: float = DEFAULT_DPI
    ) -> bytes:
        """The frame as PNG bytes (no metadata)."""
        return self._save(scene, highlight, "png", dpi)


# --------------------------------------------------------------------------------------
# geometry helpers


def _end_direction(route: Route) -> tuple[float, float]:
    for seg in reversed(route.segments):
        ex, ey = seg[-1]
        for px, py in reversed(seg[:-1]):
            dx, dy = ex - px, ey - py
            n = math.hypot(dx, dy)
            if n > 1e-6:
                return dx / n, dy / n
    return 1.0, 0.0


def _arrowhead(route: Route, length: float, half: float) -> list[tuple[float, float]]:
    ex, ey = route.end
    dx, dy = _end_direction(route)
    bx, by = ex - dx * length, ey - dy * length
    return [(ex, ey), (bx - dy * half, by + dx * half), (bx + dy * half, by - dx * half)]


def _path(route: Route, head: float) -> Path:
    """The route as a matplotlib path, its last straight piece shortened under the head."""
    verts: list[tuple[float, float]] = [route.start]
    codes = [Path.MOVETO]
    for seg in route.segments:
        if len(seg) == 2:
            verts.append(seg[1])
            codes.append(Path.LINETO)
        else:
            verts.extend(seg[1:])
            codes.extend([Path.CURVE4] * 3)
    if codes[-1] == Path.LINETO:
        (px, py), (ex, ey) = verts[-2], verts[-1]
        n = math.hypot(ex - px, ey - py)
        if n > head:
            k = (n - head * 0.7) / n
            verts[-1] = (px + (ex - px) * k, py + (ey - py) * k)
    return Path(verts, codes)


# --------------------------------------------------------------------------------------
# one-call API with a small per-layout cache

_CACHE: dict[tuple[int, bool], tuple[weakref.ref[Layout], Renderer]] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 8


def _renderer(layout: Layout, legend: bool) -> Renderer:
    key = (id(layout), legend)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0]() is layout:
            _CACHE[key] = _CACHE.pop(key)  # most recently used last
            return hit[1]
    r = Renderer(layout, legend)
    with _CACHE_LOCK:
        _CACHE[key] = (weakref.ref(layout), r)
        for k in [k for k, (ref, _) in _CACHE.items() if ref() is None]:
            del _CACHE[k]
        while len(_CACHE) > _CACHE_SIZE:
            del _CACHE[next(iter(_CACHE))]
    return r


def render_svg(
    scene: Scene, layout: Layout, highlight: Highlight | None = None, legend: bool = True
) -> str:
    """``scene`` drawn at the positions of ``layout``, as an SVG document."""
    return _renderer(layout, legend).svg(scene, highlight)


def render_png(
    scene: Scene,
    layout: Layout,
    highlight: Highlight | None = None,
    legend: bool = True,
    dpi: float = DEFAULT_DPI,
) -> bytes:
    """``scene`` drawn at the positions of ``layout``, as PNG bytes."""
    return _renderer(layout, legend).png(scene, highlight, dpi)
