"""Text cleaning and monospace text metrics shared by the layout and the renderer.

All sizes are in points (1/72 inch). Box texts are drawn in DejaVu Sans Mono, whose
advance width is 0.602 em for every character it covers; wide (East Asian) characters
count as two cells.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from .scene import Box

#: The box font (ships with matplotlib; covers ≠ → ∂ ∇ × ÷ … α β λ and friends).
MONO_FAMILY = ("DejaVu Sans Mono",)
ADVANCE = 0.602  # DejaVu Sans Mono advance width, in em
ROW_SIZE = 10.0  # rows, tags, kind words, edge labels, legend (projector: >= 10 pt)
TITLE_SIZE = 11.0
LINE = 1.32  # line height, in em
PAD_X = 7.0
PAD_Y = 5.0
HEADER_GAP = 4.0  # between the header rule and the first row
TAG_GAP = 5.0
MIN_TENSOR_W = 84.0
MIN_NODE_W = 72.0
MIN_NODE_H = 30.0

#: Words that say a box's kind (never colour alone).
KIND_WORDS = {
    "branch": "branch",
    "leaf": "leaf",
    "dried": "dried-up leaf",
    "node": "node",
}


@lru_cache(maxsize=4096)
def clean(text: str) -> str:
    """The text with control characters, line breaks and lone surrogates made visible.

    Keeps a box to one line per row and keeps the SVG valid XML.
    """
    if text.isascii() and text.isprintable():
        return text
    out = []
    for ch in text:
        o = ord(ch)
        if ch == "\t":
            out.append("    ")
        elif o < 0x20 or 0x7F <= o <= 0x9F or 0xD800 <= o <= 0xDFFF or o in (0xFFFE, 0xFFFF):
            out.append(f"\\x{o:02x}" if o <= 0xFF else f"\\u{o:04x}")
        else:
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=4096)
def cells(text: str) -> int:
    """Monospace cells taken by ``text`` (wide characters take two, combining marks none)."""
    if text.isascii():
        return len(text)
    n = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        n += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return n


def text_width(text: str, size: float = ROW_SIZE) -> float:
    """Width in points of one line of ``text`` at ``size`` points."""
    return cells(clean(text)) * ADVANCE * size


def kind_word(box: Box) -> str:
    """The word shown in a tensor box's header ("" for nodes: shape and title say it)."""
    return "" if box.is_node else KIND_WORDS[box.kind]


def header_height() -> float:
    return PAD_Y + TITLE_SIZE * LINE + 1.0


def box_size(box: Box) -> tuple[float, float]:
    """Width and height in points that fit the box's title, kind word, rows and tag."""
    word = kind_word(box)
    head = text_width(box.title, TITLE_SIZE)
    if word:
        head += 12.0 + text_width(word, ROW_SIZE)
    body = max((text_width(r) for r in box.rows), default=0.0)
    tag = text_width(box.tag) + 10.0 if box.tag else 0.0
    w = 2 * PAD_X + max(head, body, tag)
    h = header_height()
    if box.rows:
        h += HEADER_GAP + len(box.rows) * ROW_SIZE * LINE
    if box.tag:
        h += TAG_GAP + ROW_SIZE * LINE + 2.0
    h += PAD_Y
    if box.is_node:
        w, h = max(w, MIN_NODE_W), max(h, MIN_NODE_H)
    else:
        w = max(w, MIN_TENSOR_W)
    return round(w, 2), round(h, 2)
