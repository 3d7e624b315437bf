"""Deterministic matplotlib rendering of a laid-out :class:`~gradlab.drawing.scene.Scene`
as PNG (``show()``'s picture, ``Walkthrough.save("x.png")``): the same scene, layout and
colours as the SVG that :mod:`gradlab.drawing.svg` writes.

Colours follow the classic autograd diagram (brown branch, green leaf, yellow dried-up
leaf, blue backward node) and are never the only cue: tensor boxes name their kind in
the header, dried-up leaves have a dashed border, nodes are rounded, and a legend inside
the figure explains all of it.

Output is byte-for-byte reproducible (no PNG metadata, matplotlib's default rcParams
applied through ``rc_context`` without touching the global ones); all text is literal (no
mathtext, no TeX). pyplot is never used.

A :class:`Renderer` builds the figure once per layout; each frame only updates artists
(visibility, colours, texts). For PNG, every box is drawn from a cached bitmap of its
current look, so a step that changes two boxes re-renders two boxes::

    from gradlab.drawing import Highlight, Renderer, layout, render_png

    lay = layout(frames)                      # all frames: boxes keep their places
    png = render_png(frames[0], lay)          # one-off call (renderer cached per layout)
    r = Renderer(lay)
    png = r.png(frames[3], Highlight(active={"c.fn"}, edge_notes={("e.fn", "c.fn"): "grad 4."}))
"""

from __future__ import annotations

import math
import struct
import threading
import warnings
import weakref
import zlib
from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib
import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch, PathPatch, Polygon, Rectangle
from matplotlib.path import Path
from matplotlib.text import Text
from matplotlib.transforms import Affine2D, Transform

from . import _text as tx
from .layout import EdgeKey, Layout, Rect, Route, edge_keys, fallback_route
from .scene import Box, Edge, Highlight, Scene
from .svg import (
    ACCENT,
    ARROW_HALF,
    ARROW_LEN,
    BAND_FILL,
    ERROR,
    NOTE_FILL,
    PALETTE,
    edge_id,
)
from .svg import EDGE_STYLE as SVG_EDGE_STYLE

__all__ = [
    "DEFAULT_DPI",
    "MAX_PNG_PIXELS",
    "PALETTE",
    "Renderer",
    "get_renderer",
    "render_png",
]

DEFAULT_DPI = 100
#: PNG size budget: without an explicit dpi, big pictures get a lower dpi (not below 36)
#: so that a frame stays under this many pixels (PNG encoding time grows with them).
MAX_PNG_PIXELS = 4_000_000

#: fill, border and text colour of each box kind.
BORDER_STYLE: dict[str, Any] = {
    "branch": "solid",
    "leaf": "solid",
    "dried": (0, (4.0, 2.5)),
    "node": "solid",
}


def _dashes(pattern: str) -> Any:
    return (0, tuple(float(v) for v in pattern.split())) if pattern else "solid"


#: the SVG's edge styles (one source: gradlab/drawing/svg.py) as matplotlib wants them
EDGE_STYLE: dict[str, dict[str, Any]] = {
    kind: {"color": colour, "lw": width, "ls": _dashes(dash)}
    for kind, (colour, width, dash) in SVG_EDGE_STYLE.items()
}
ERROR_FILL = "#fff0f0"
TEXT = "#1a1a1a"
NODE_ROUND = "round,pad=0,rounding_size=7"
SQUARE = "square,pad=0"

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
LEGEND_PAD = 16.0
LEGEND_ROW = 22.0

_RC: dict[str, Any] = {
    k: v
    for k, v in matplotlib.rcParamsDefault.items()
    if k not in ("backend", "backend_fallback", "interactive")
}
_RC.update(
    {
        "text.usetex": False,
        "text.parse_math": False,
        "path.sketch": None,
        "text.hinting": "no_hinting",  # faster, and glyph advances match the layout's
        "font.family": ["monospace"],
        "font.monospace": list(tx.MONO_FAMILY),
        "savefig.facecolor": "white",
        "savefig.edgecolor": "white",
        "savefig.transparent": False,
        "savefig.bbox": None,
        "savefig.pad_inches": 0.0,
        "figure.facecolor": "white",
    }
)
_TILE_BYTES = 32 * 2**20  # bitmaps kept per renderer (boxes' looks, labels, legend)
_FRAME_CACHE = 16  # whole frames kept per renderer (a stepper going back and forth)


def _rc() -> Any:
    return matplotlib.rc_context(_RC)


def _font(size: float, weight: str = "normal", style: str = "normal") -> FontProperties:
    return FontProperties(family=["monospace"], size=size, weight=weight, style=style)


class _Group(Artist):
    """Draws member artists in zorder; on Agg through a cached bitmap of their look.

    ``key`` must change whenever the members' look changes (``None``: never cached).
    ``bounds`` (x0, y0, x1, y1) in points, y down, must contain everything drawn.
    """

    def __init__(self, owner: Renderer, members: Sequence[Artist], zorder: float) -> None:
        super().__init__()
        self.owner = owner
        self.members = list(members)
        self.key: Hashable | None = None
        self.bounds = (0.0, 0.0, 0.0, 0.0)
        self.set_zorder(zorder)

    def add(self, artist: Artist) -> None:
        self.members.append(artist)
        self.members.sort(key=lambda a: a.get_zorder())

    def draw(self, renderer: Any) -> None:
        if not self.get_visible():
            return
        if isinstance(renderer, RendererAgg) and self.key is not None:
            tile, x, y = self.owner._tile(self, renderer)
            gc = renderer.new_gc()
            renderer.draw_image(gc, x, y, tile)
            gc.restore()
        else:
            for m in self.members:
                m.draw(renderer)
        self.stale = False


@dataclass
class _BoxArt:
    group: _Group
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
    label: _Group | None
    note: Text
    state: tuple[Any, ...] = ()


class Renderer:
    """Draws frames of one layout: builds the figure once, then updates it per frame.

    Calls are serialised with a lock. Boxes of a frame that the layout does not know are
    skipped; edges with an absent end are skipped; edges the layout did not route get a
    best-effort curve. ``legend`` adds the colour/word legend below the diagram.
    """

    def __init__(self, layout: Layout, legend: bool = True) -> None:
        self.layout = layout
        self.legend = legend
        self._lock = threading.Lock()
        self._tiles: OrderedDict[Hashable, tuple[np.ndarray, int, int]] = OrderedDict()
        self._frames: OrderedDict[Hashable, bytes] = OrderedDict()
        self._scratch: RendererAgg | None = None
        self._tile_bytes = 0
        self._fonts = {
            "row": _font(tx.ROW_SIZE),
            "bold": _font(tx.ROW_SIZE, "bold"),
            "italic": _font(tx.ROW_SIZE, style="italic"),
            "title": _font(tx.TITLE_SIZE, "bold"),
        }
        with _rc():
            self._build()

    # ---- building ----------------------------------------------------------------------

    def _build(self) -> None:
        lay = self.layout
        widths = self._legend_widths()
        self.width = max(lay.width, max(widths) + 2 * LEGEND_PAD if self.legend else 0.0)
        rows = self._legend_rows(widths) if self.legend else []
        self.legend_h = 14.0 + LEGEND_ROW * len(rows) + 8.0 if self.legend else 0.0
        self.height = lay.height + self.legend_h
        fig = Figure(figsize=(self.width / 72, self.height / 72), dpi=72)
        fig.patch.set_facecolor("white")
        self.fig = fig
        self.canvas = FigureCanvasAgg(fig)
        # points, y down  ->  inches, y up  ->  pixels
        self.tr: Transform = (
            Affine2D().scale(1 / 72, -1 / 72).translate(0, self.height / 72) + fig.dpi_scale_trans
        )
        if lay.band is not None:
            b = lay.band
            if lay.direction == "LR":
                band = Rectangle((0, b.y), self.width, b.h)
            else:
                band = Rectangle((b.x, 0), b.w, lay.height)
            band.set(facecolor=BAND_FILL, edgecolor="none", zorder=0)
            self._add(band)
        self.boxes: dict[str, _BoxArt] = {k: self._box_art(k, r) for k, r in lay.boxes.items()}
        self.edges: dict[EdgeKey, _EdgeArt] = {
            k: self._edge_art(r, k[3]) for k, r in lay.routes.items()
        }
        if self.legend:
            self._build_legend(rows, widths)

    def _prep(self, artist: Artist) -> Artist:
        artist.set_transform(self.tr)
        artist.set_figure(self.fig)
        return artist

    def _add(self, artist: Artist) -> Any:
        self._prep(artist)
        self.fig.add_artist(artist)
        return artist

    def _text(self, x: float, y: float, font: str = "row", **kw: Any) -> Text:
        kw.setdefault("color", TEXT)
        t = Text(x, y, "", fontproperties=self._fonts[font], parse_math=False, usetex=False, **kw)
        t.set_clip_on(False)
        self._prep(t)
        return t

    def _box_art(self, key: str, r: Rect) -> _BoxArt:
        patch = FancyBboxPatch((r.x, r.y), r.w, r.h, boxstyle=SQUARE, lw=1.4, zorder=2)
        hy = r.y + tx.header_height()
        rule = Line2D([r.x, r.right], [hy, hy], lw=0.8, zorder=3)
        ty = r.y + tx.PAD_Y + tx.TITLE_SIZE * tx.LINE / 2
        title = self._text(r.x + tx.PAD_X, ty, "title", ha="left", va="center_baseline", zorder=4)
        word = self._text(
            r.right - tx.PAD_X, ty, "italic", ha="right", va="center_baseline", zorder=4
        )
        tag = self._text(
            r.x + tx.PAD_X + 3,
            0.0,
            ha="left",
            va="center_baseline",
            zorder=5,
            bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "#555555", "lw": 0.8},
        )
        members = [self._prep(a) for a in (patch, rule, title, word, tag)]
        group = _Group(self, members, zorder=2)
        group.bounds = (r.x - 4, r.y - 4, r.right + 4, r.bottom + 4)
        group.set_visible(False)
        self._add(group)
        note = self._note(r.x, r.y - 5, ha="left", va="bottom", zorder=8)
        return _BoxArt(group, patch, rule, title, word, [], tag, note)

    def _note(self, x: float, y: float, **kw: Any) -> Text:
        """A hidden highlight note (a value on an edge, a change by a box), shown per frame."""
        note = self._text(
            x,
            y,
            "bold",
            bbox={"boxstyle": "round,pad=0.3", "fc": NOTE_FILL, "ec": ACCENT, "lw": 1.4},
            **kw,
        )
        note.set_visible(False)
        self.fig.add_artist(note)
        return note

    def _edge_art(self, route: Route, label: str) -> _EdgeArt:
        line = PathPatch(_path(route, ARROW_LEN), fill=False, zorder=1.5)
        line.set_capstyle("butt")
        line.set_joinstyle("round")
        head = Polygon(_arrowhead(route, ARROW_LEN, ARROW_HALF), closed=True, lw=0, zorder=1.6)
        for a in (line, head):
            a.set_visible(False)
            self._add(a)
        lab = None
        if label:
            x, y = route.label_at
            if route.kind == "next":
                bbox = {"boxstyle": "round,pad=0.22", "fc": "white", "ec": "#2f5f98", "lw": 1.0}
            else:
                bbox = {"boxstyle": "round,pad=0.12", "fc": "white", "ec": "none"}
            t = self._text(x, y, "bold", ha="center", va="center", zorder=6, bbox=bbox)
            text = tx.clean(label)
            t.set_text(text)
            lab = _Group(self, [t], zorder=6)
            half_w, half_h = tx.text_width(text) / 2 + 8, 12.0
            lab.bounds = (x - half_w, y - half_h, x + half_w, y + half_h)
            lab.key = ("label", route.kind, text)
            lab.set_visible(False)
            self._add(lab)
        x, y = route.label_at
        note = self._note(x, y, ha="center", va="center", zorder=7)
        return _EdgeArt(route, line, head, lab, note)

    # ---- legend ------------------------------------------------------------------------

    @staticmethod
    def _legend_widths() -> list[float]:
        return [34.0 + tx.text_width(text) + 18.0 for _, _, text in LEGEND_ENTRIES]

    def _legend_rows(self, widths: list[float]) -> list[list[int]]:
        avail = self.width - 2 * LEGEND_PAD
        rows: list[list[int]] = [[]]
        used = 0.0
        for i, w in enumerate(widths):
            if rows[-1] and used + w > avail:
                rows.append([])
                used = 0.0
            rows[-1].append(i)
            used += w
        return rows

    def _build_legend(self, rows: list[list[int]], widths: list[float]) -> None:
        top = self.layout.height
        group = _Group(self, [], zorder=1)
        group.bounds = (0.0, top, self.width, self.height)
        group.key = ("legend",)
        group.add(
            self._prep(Line2D([10, self.width - 10], [top + 4, top + 4], lw=0.8, color="#bbbbbb"))
        )
        for r, row in enumerate(rows):
            x = LEGEND_PAD
            y = top + 14.0 + r * LEGEND_ROW + LEGEND_ROW / 2
            for i in row:
                for a in self._legend_item(i, x, y):
                    group.add(a)
                x += widths[i]
        self._add(group)

    def _legend_item(self, i: int, x: float, y: float) -> list[Artist]:
        what, kind, text = LEGEND_ENTRIES[i]
        out: list[Artist] = []
        if what == "box":
            fill, edge, _ = PALETTE[kind]
            style = "round,pad=0,rounding_size=4" if kind == "node" else SQUARE
            out.append(
                FancyBboxPatch(
                    (x, y - 7),
                    26,
                    14,
                    boxstyle=style,
                    fc=fill,
                    ec=edge,
                    lw=1.3,
                    ls=BORDER_STYLE[kind],
                )
            )
        elif what == "band":
            out.append(Rectangle((x, y - 7), 26, 14, fc=BAND_FILL, ec="#9db4d3", lw=0.8))
        else:
            st = EDGE_STYLE[kind]
            route = Route(kind, (((x, y), (x + 28, y)),), (x + 12, y))
            line = PathPatch(_path(route, ARROW_LEN), fill=False, ec=st["color"], lw=st["lw"])
            line.set_linestyle(st["ls"])
            out.append(line)
            out.append(Polygon(_arrowhead(route, ARROW_LEN, ARROW_HALF), fc=st["color"], lw=0))
            if kind == "next":
                t = self._text(x + 11, y, "bold", ha="center", va="center", zorder=3)
                t.set_text("0")
                t.set_bbox(
                    {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "#2f5f98", "lw": 0.8}
                )
                out.append(t)
        t = self._text(x + 34, y, ha="left", va="center_baseline", zorder=3)
        t.set_text(text)
        out.append(t)
        return [self._prep(a) for a in out]

    # ---- per frame ---------------------------------------------------------------------

    def _apply(self, scene: Scene, hl: Highlight, labels: Mapping[str, str]) -> list[_EdgeArt]:
        present = {b.key for b in scene.boxes if b.key in self.boxes}
        for key, art in self.boxes.items():
            self._set_box(key, art, scene.get(key) if key in present else None, hl)
        shown: set[EdgeKey] = set()
        by_key: dict[EdgeKey, Edge] = {}
        extra: list[_EdgeArt] = []
        for key, edge in zip(edge_keys(scene.edges), scene.edges):
            if edge.src not in present or edge.dst not in present:
                continue
            if key in self.edges:
                shown.add(key)
                by_key[key] = edge
            else:  # not routed by the layout: a temporary best-effort curve
                rect = self.layout.rect
                art = self._edge_art(
                    fallback_route(edge.kind, rect(edge.src), rect(edge.dst)), edge.label
                )
                self._set_edge(art, edge, hl, labels.get(edge_id(edge, key[4]), ""))
                extra.append(art)
        for key, art in self.edges.items():
            e = by_key.get(key)
            note = labels.get(edge_id(e, key[4]), "") if e is not None else ""
            self._set_edge(art, e, hl, note)
        return extra

    def _set_box(self, key: str, art: _BoxArt, box: Box | None, hl: Highlight) -> None:
        active, error = key in hl.active, key in hl.error
        note = hl.box_notes.get(key, "") if box is not None else ""
        state = (box, active, error, note)
        if state == art.state:
            return
        art.state = state
        art.group.key = (key, box, active, error)
        if box is None:
            art.group.set_visible(False)
            art.note.set_visible(False)
            return
        r = self.layout.rect(key)
        fill, edge, ink = PALETTE[box.kind]
        p = art.patch
        p.set_boxstyle(NODE_ROUND if box.is_node else SQUARE)
        p.set_facecolor(fill)
        if error:
            p.set(edgecolor=ERROR, linewidth=3.4, linestyle=(0, (5.0, 2.0)))
        elif active:
            p.set(edgecolor=ACCENT, linewidth=3.4, linestyle="solid")
        else:
            p.set(edgecolor=edge, linewidth=1.4, linestyle=BORDER_STYLE[box.kind])
        has_body = bool(box.rows or box.tag)
        art.rule.set_color(edge)
        art.rule.set_visible(has_body)
        t = art.title
        if box.is_node and not has_body:  # a one-line node: centre its title
            t.set_position((r.x + r.w / 2, r.y + r.h / 2))
            t.set_horizontalalignment("center")
        else:
            t.set_position((r.x + tx.PAD_X, r.y + tx.PAD_Y + tx.TITLE_SIZE * tx.LINE / 2))
            t.set_horizontalalignment("left")
        t.set_text(tx.clean(box.title))
        t.set_color(ink)
        word = tx.kind_word(box)
        art.word.set_text(word)
        art.word.set_color(ink)
        art.word.set_visible(bool(word))
        pitch = tx.ROW_SIZE * tx.LINE
        y = r.y + tx.header_height() + tx.HEADER_GAP + pitch / 2
        while len(art.rows) < len(box.rows):
            row = self._text(r.x + tx.PAD_X, 0.0, ha="left", va="center_baseline", zorder=4)
            art.rows.append(row)
            art.group.add(row)
        for i, row in enumerate(art.rows):
            if i < len(box.rows):
                row.set_text(tx.clean(box.rows[i]))
                row.set_y(y + i * pitch)
                row.set_color(ink)
                row.set_visible(True)
            else:
                row.set_visible(False)
        if box.tag:
            art.tag.set_text(tx.clean(box.tag))
            art.tag.set_y(y + len(box.rows) * pitch + tx.TAG_GAP)
        art.tag.set_visible(bool(box.tag))
        art.group.set_visible(True)
        if note:
            art.note.set_text(tx.clean(note))
            bb = art.note.get_bbox_patch()
            if bb is not None:
                bb.set_edgecolor(ERROR if error else ACCENT)
                bb.set_facecolor(ERROR_FILL if error else NOTE_FILL)
            art.note.set_color(ERROR if error else TEXT)
        art.note.set_visible(bool(note))

    def _set_edge(self, art: _EdgeArt, edge: Edge | None, hl: Highlight, label: str) -> None:
        pair = (edge.src, edge.dst) if edge is not None else None
        active = pair in hl.active_edges or bool(label)
        note = label or (hl.edge_notes.get(pair, "") if pair is not None else "")
        state = (edge is not None, active, note)
        if state == art.state:
            return
        art.state = state
        shown = edge is not None
        for a in (art.line, art.head, art.label):
            if a is not None:
                a.set_visible(shown)
        if not shown:
            art.note.set_visible(False)
            return
        st = EDGE_STYLE[art.route.kind]
        color = ACCENT if active else st["color"]
        art.line.set(
            edgecolor=color, linewidth=st["lw"] * 2.2 if active else st["lw"], linestyle=st["ls"]
        )
        scale = 1.5 if active else 1.0
        art.head.set_xy(_arrowhead(art.route, ARROW_LEN * scale, ARROW_HALF * scale))
        art.head.set_facecolor(color)
        if note:
            x, y = art.route.label_at
            if art.label is not None:  # keep the label readable: the note sits beside it
                if self.layout.direction == "LR":
                    y -= 17.0
                else:
                    x += tx.text_width(note) / 2 + 14.0
            art.note.set_position((x, y))
            art.note.set_text(tx.clean(note))
        art.note.set_visible(bool(note))

    # ---- bitmaps -----------------------------------------------------------------------

    def _tile(self, group: _Group, renderer: RendererAgg) -> tuple[np.ndarray, int, int]:
        dpi = float(renderer.dpi)
        key = (group.key, group.bounds, dpi)
        hit = self._tiles.get(key)
        if hit is not None:
            self._tiles.move_to_end(key)
            return hit
        s = dpi / 72
        x0, y0, x1, y1 = group.bounds
        ix0, ix1 = math.floor(x0 * s), math.ceil(x1 * s)
        iy0, iy1 = math.floor((self.height - y1) * s), math.ceil((self.height - y0) * s)
        tw, th = max(ix1 - ix0, 1), max(iy1 - iy0, 1)
        off = self._scratch_for(tw, th, dpi)
        shift = Affine2D().translate(-ix0, -iy0)  # the tile's corner to the scratch's origin
        for m in group.members:
            tr = Artist.get_transform(m)  # not Patch.get_transform: that adds the patch's own
            m.set_transform(tr + shift)
            try:
                m.draw(off)
            finally:
                m.set_transform(tr)
        buf = np.asarray(off.buffer_rgba())
        # rows run top to bottom; draw_image wants them bottom to top
        tile = np.ascontiguousarray(buf[buf.shape[0] - th :, :tw][::-1])
        out = (tile, ix0, iy0)
        self._tiles[key] = out
        self._tile_bytes += tile.nbytes
        while self._tile_bytes > _TILE_BYTES and len(self._tiles) > 1:
            self._tile_bytes -= self._tiles.popitem(last=False)[1][0].nbytes
        return out

    def _scratch_for(self, w: int, h: int, dpi: float) -> RendererAgg:
        """A cleared offscreen renderer at least ``w`` x ``h`` pixels, reused across tiles
        (which also lets matplotlib reuse text metrics between boxes and frames)."""
        r = self._scratch
        if r is None or r.dpi != dpi or r.width < w or r.height < h:
            if r is not None and r.dpi == dpi:
                w, h = max(w, int(r.width)), max(h, int(r.height))
            r = self._scratch = RendererAgg(w, h, dpi)
        else:
            r.clear()
        return r

    # ---- output ------------------------------------------------------------------------

    def _render(
        self, scene: Scene, highlight: Highlight | None, dpi: float, labels: Mapping[str, str]
    ) -> bytes:
        hl = highlight if highlight is not None else Highlight()
        fkey = (scene, hl, tuple(sorted(labels.items())), float(dpi))
        with self._lock:
            hit = self._frames.get(fkey)
            if hit is not None:
                self._frames.move_to_end(fkey)
                return hit
            with _rc(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. a glyph missing from the font
                extra = self._apply(scene, hl, labels)
                try:
                    out = self._png(dpi)
                finally:
                    for art in extra:
                        for a in (art.line, art.head, art.label, art.note):
                            if a is not None:
                                a.remove()
            self._frames[fkey] = out
            while len(self._frames) > _FRAME_CACHE:
                self._frames.popitem(last=False)
            return out

    def _png(self, dpi: float) -> bytes:
        if self.fig.dpi != dpi:
            self.fig.set_dpi(dpi)
        self.canvas.draw()
        w, h = self.canvas.get_width_height(physical=True)
        return _encode_png(np.asarray(self.canvas.buffer_rgba()).reshape(h, w, 4))

    def png_dpi(self, dpi: float | None = None) -> float:
        """The dpi a PNG is drawn at: ``dpi`` if given, else :data:`DEFAULT_DPI` lowered
        (to a whole number, at least 36) to keep within :data:`MAX_PNG_PIXELS`."""
        if dpi is not None:
            if not dpi > 0:
                raise ValueError(f"dpi must be positive, got {dpi!r}")
            return float(dpi)
        inches2 = (self.width / 72) * (self.height / 72)
        return float(max(36, min(DEFAULT_DPI, math.floor(math.sqrt(MAX_PNG_PIXELS / inches2)))))

    def png(
        self,
        scene: Scene,
        highlight: Highlight | None = None,
        dpi: float | None = None,
        edge_labels: Mapping[str, str] | None = None,
    ) -> bytes:
        """The frame as PNG bytes (opaque RGBA, no metadata) at :meth:`png_dpi` (``dpi``);
        ``edge_labels`` put a value on the edge with that id (see ``svg.edge_id``)."""
        return self._render(scene, highlight, self.png_dpi(dpi), edge_labels or {})

    @property
    def size(self) -> tuple[float, float]:
        """Figure width and height in points, legend included."""
        return (self.width, self.height)


# --------------------------------------------------------------------------------------
# helpers


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _encode_png(rgba: np.ndarray) -> bytes:
    """An opaque RGBA image as a minimal PNG (IHDR, IDAT, IEND: no metadata), every row
    with the "sub" filter and fast zlib: flat pictures compress quickly and well."""
    h, w, _ = rgba.shape
    flat = rgba.reshape(h, 4 * w)
    rows = np.empty((h, 1 + 4 * w), np.uint8)
    rows[:, 0] = 1  # filter type: sub
    rows[:, 1:5] = flat[:, :4]
    np.subtract(flat[:, 4:], flat[:, :-4], out=rows[:, 5:])  # uint8: modulo 256
    header = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(rows, 1)),
            _png_chunk(b"IEND", b""),
        )
    )


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

_CACHE: OrderedDict[tuple[int, bool], tuple[weakref.ref[Layout], Renderer]] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 4


def get_renderer(layout: Layout, legend: bool = True) -> Renderer:
    """A :class:`Renderer` for ``layout``, shared with earlier calls (a few are kept)."""
    key = (id(layout), legend)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0]() is layout:
            _CACHE.move_to_end(key)
            return hit[1]
    r = Renderer(layout, legend)
    with _CACHE_LOCK:
        _CACHE[key] = (weakref.ref(layout), r)
        for k in [k for k, (ref, _) in _CACHE.items() if ref() is None]:
            del _CACHE[k]
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return r


def render_png(
    scene: Scene,
    layout: Layout,
    highlight: Highlight | None = None,
    legend: bool = True,
    dpi: float | None = None,
    edge_labels: Mapping[str, str] | None = None,
) -> bytes:
    """``scene`` drawn at the positions of ``layout``, as PNG bytes (``dpi=None``:
    :data:`DEFAULT_DPI`, lower for pictures beyond :data:`MAX_PNG_PIXELS`)."""
    return get_renderer(layout, legend).png(scene, highlight, dpi, edge_labels)
