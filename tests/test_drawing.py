"""The drawing layer: scene model, layered layout, SVG and (matplotlib) PNG rendering."""

from __future__ import annotations

import dataclasses
import random
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from itertools import combinations

import matplotlib
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradlab.drawing import (
    BOX_KINDS,
    EDGE_KINDS,
    Box,
    Edge,
    Highlight,
    Layout,
    Renderer,
    Scene,
    layout,
    render_png,
    render_svg,
)
from gradlab.drawing.layout import QUICK_FROM
from gradlab.drawing.sample_scenes import lesson_scene, synthetic_scene, tensor_box

SVG_NS = "{http://www.w3.org/2000/svg}"

# --------------------------------------------------------------------------------------
# scenes


def chain_scene(n: int = 5) -> Scene:
    """x0 (leaf) -> x1 -> ... -> x{n-1}, one op each, the backward chain under it."""
    boxes = [tensor_box("x0", "leaf", "1."), Box("x0.acc", "node", "AccumulateGrad", anchor="x0")]
    edges = [Edge("x0.acc", "x0", "variable")]
    for i in range(1, n):
        k, fn = f"x{i}", f"x{i}.fn"
        boxes += [
            tensor_box(k, "branch", f"{i}.", grad_fn="<ExpBackward0>"),
            Box(fn, "node", "ExpBackward0", anchor=k),
        ]
        prev_fn = f"x{i - 1}.fn" if i > 1 else "x0.acc"
        edges += [
            Edge(f"x{i - 1}", k, "forward", "exp"),
            Edge(k, fn, "grad_fn"),
            Edge(fn, prev_fn, "next", "0"),
        ]
    return Scene(tuple(boxes), tuple(edges))


def tree_scene(leaves: int = 8) -> Scene:
    """A balanced binary tree of products over leaves that require grad."""
    boxes: list[Box] = []
    edges: list[Edge] = []
    level = []
    for i in range(leaves):
        k = f"l{i}"
        boxes += [
            tensor_box(k, "leaf", f"{i}."),
            Box(f"{k}.acc", "node", "AccumulateGrad", anchor=k),
        ]
        edges.append(Edge(f"{k}.acc", k, "variable"))
        level.append((k, f"{k}.acc"))
    n = 0
    while len(level) > 1:
        nxt = []
        for (a, fa), (b, fb) in zip(level[::2], level[1::2]):
            k, fn = f"p{n}", f"p{n}.fn"
            n += 1
            boxes += [
                tensor_box(k, "branch", "1.", grad_fn="<MulBackward0>"),
                Box(fn, "node", "MulBackward0", anchor=k),
            ]
            edges += [
                Edge(a, k, "forward", "*"),
                Edge(b, k, "forward", "*"),
                Edge(k, fn, "grad_fn"),
                Edge(fn, fa, "next", "0"),
                Edge(fn, fb, "next", "0"),
            ]
            nxt.append((k, fn))
        level = nxt
    return Scene(tuple(boxes), tuple(edges))


def diamond_scene() -> Scene:
    """a -> b = exp(a), c = tanh(a) -> d = b + c."""
    boxes = (
        tensor_box("a", "leaf", "1."),
        Box("a.acc", "node", "AccumulateGrad", anchor="a"),
        tensor_box("b", "branch", "2.7", grad_fn="<ExpBackward0>"),
        Box("b.fn", "node", "ExpBackward0", ("saved result = 2.7",), anchor="b"),
        tensor_box("c", "branch", "0.76", grad_fn="<TanhBackward0>"),
        Box("c.fn", "node", "TanhBackward0", anchor="c"),
        tensor_box("d", "branch", "3.5", grad_fn="<AddBackward0>"),
        Box("d.fn", "node", "AddBackward0", anchor="d"),
    )
    edges = (
        Edge("a.acc", "a", "variable"),
        Edge("a", "b", "forward", "exp"),
        Edge("a", "c", "forward", "tanh"),
        Edge("b", "d", "forward", "+"),
        Edge("c", "d", "forward", "+"),
        Edge("b", "b.fn", "grad_fn"),
        Edge("c", "c.fn", "grad_fn"),
        Edge("d", "d.fn", "grad_fn"),
        Edge("b.fn", "a.acc", "next", "0"),
        Edge("c.fn", "a.acc", "next", "0"),
        Edge("d.fn", "b.fn", "next", "0"),
        Edge("d.fn", "c.fn", "next", "0"),
    )
    return Scene(boxes, edges)


def unbind_scene() -> Scene:
    """Lesson 4: b, c, d = a.unbind(); e = b * c * d (indices 0, 1, 2 on next edges)."""
    boxes = [
        tensor_box("a", "leaf", "[1., 2., 3.]"),
        Box("a.acc", "node", "AccumulateGrad", anchor="a"),
        Box("unbind", "node", "UnbindBackward0"),
    ]
    edges = [Edge("a.acc", "a", "variable"), Edge("unbind", "a.acc", "next", "0")]
    for i, k in enumerate("bcd"):
        boxes.append(tensor_box(k, "branch", f"{i + 1}.", grad_fn="<UnbindBackward0>"))
        edges += [Edge("a", k, "forward", f"unbind[{i}]"), Edge(k, "unbind", "grad_fn")]
    boxes += [
        tensor_box("bc", "branch", "2.", grad_fn="<MulBackward0>"),
        Box("bc.fn", "node", "MulBackward0", anchor="bc"),
        tensor_box("e", "branch", "6.", grad_fn="<MulBackward0>"),
        Box("e.fn", "node", "MulBackward0", anchor="e"),
    ]
    edges += [
        Edge("b", "bc", "forward", "*"),
        Edge("c", "bc", "forward", "*"),
        Edge("bc", "e", "forward", "*"),
        Edge("d", "e", "forward", "*"),
        Edge("bc", "bc.fn", "grad_fn"),
        Edge("e", "e.fn", "grad_fn"),
        Edge("bc.fn", "unbind", "next", "0"),
        Edge("bc.fn", "unbind", "next", "1"),
        Edge("e.fn", "bc.fn", "next", "0"),
        Edge("e.fn", "unbind", "next", "2"),
    ]
    return Scene(tuple(boxes), tuple(edges))


def chaos_scene(n: int, seed: int) -> Scene:
    """Anything goes: random kinds, bad anchors, cycles, self-loops, edges of every kind
    between any two boxes, duplicates, edges to missing boxes, odd text."""
    rng = random.Random(seed)
    texts = ["x", "grad_fn: <MulBackward0>", "$a_b$", "<b>&amp;</b>", "é漢字", "\\n", ""]
    boxes = []
    for i in range(n):
        kind = rng.choice(BOX_KINDS)
        rows = tuple(rng.choice(texts) for _ in range(rng.randint(0, 6)))
        anchor = f"b{rng.randrange(n + 2)}" if kind == "node" and rng.random() < 0.7 else None
        boxes.append(
            Box(
                f"b{i}",
                kind,
                rng.choice(texts) or f"b{i}",
                rows,
                anchor,
                rng.choice(["", "", "saved by MulBackward0 @v0"]),
            )
        )
    edges = []
    for _ in range(rng.randint(0, 2 * n)):
        src, dst = f"b{rng.randrange(n + 1)}", f"b{rng.randrange(n + 1)}"
        edges.append(Edge(src, dst, rng.choice(EDGE_KINDS), rng.choice(["", "0", "*"])))
    return Scene(tuple(boxes), tuple(edges))


# --------------------------------------------------------------------------------------
# geometry checks


def assert_no_overlaps(lay: Layout, pad: float = 1.0) -> None:
    rects = list(lay.boxes.items())
    for (ka, a), (kb, b) in combinations(rects, 2):
        assert not a.overlaps(b, pad), f"{ka} {a} overlaps {kb} {b}"
    for k, r in rects:
        assert r.x >= 0 and r.y >= 0 and r.right <= lay.width and r.bottom <= lay.height, k


def _orient(a, b, c) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _on(a, b, p, eps: float) -> bool:
    return (
        min(a[0], b[0]) - eps <= p[0] <= max(a[0], b[0]) + eps
        and min(a[1], b[1]) - eps <= p[1] <= max(a[1], b[1]) + eps
    )


def segments_cross(p1, p2, p3, p4, eps: float = 1e-6) -> bool:
    """True when the segments cross or touch (touching counts: a curve passing exactly
    through another's sample point must not hide a crossing)."""
    d1, d2 = _orient(p3, p4, p1), _orient(p3, p4, p2)
    d3, d4 = _orient(p1, p2, p3), _orient(p1, p2, p4)
    if ((d1 > eps and d2 < -eps) or (d1 < -eps and d2 > eps)) and (
        (d3 > eps and d4 < -eps) or (d3 < -eps and d4 > eps)
    ):
        return True
    return any(
        abs(d) <= eps and _on(a, b, p, 1e-3)
        for d, a, b, p in ((d1, p3, p4, p1), (d2, p3, p4, p2), (d3, p1, p2, p3), (d4, p1, p2, p4))
    )


def polyline_segments(route) -> list:
    pts = route.polyline(16)
    return [(a, b) for a, b in zip(pts, pts[1:]) if a != b]


def crossings(lay: Layout) -> list[tuple]:
    routes = list(lay.routes.items())
    segs = {k: polyline_segments(r) for k, r in routes}
    found = []
    for (ka, _), (kb, _) in combinations(routes, 2):
        if any(segments_cross(*s, *t) for s in segs[ka] for t in segs[kb]):
            found.append((ka, kb))
    return found


def boxes_hit(lay: Layout) -> list[tuple]:
    """(edge, box) pairs where an edge's route passes through a box it does not touch."""
    hits = []
    rects = [
        (bk, r.x + 0.5, r.y + 0.5, r.right - 0.5, r.bottom - 0.5) for bk, r in lay.boxes.items()
    ]
    for key, route in lay.routes.items():
        if not route.routed:
            continue
        segs = polyline_segments(route)
        for bk, x0, y0, x1, y1 in rects:
            if bk in key[:2]:
                continue
            sides = [
                ((x0, y0), (x1, y0)),
                ((x1, y0), (x1, y1)),
                ((x1, y1), (x0, y1)),
                ((x0, y1), (x0, y0)),
            ]
            for a, b in segs:
                if max(a[0], b[0]) < x0 or min(a[0], b[0]) > x1:
                    continue
                if max(a[1], b[1]) < y0 or min(a[1], b[1]) > y1:
                    continue
                inside = any(x0 < p[0] < x1 and y0 < p[1] < y1 for p in (a, b))
                if inside or any(segments_cross(a, b, *s) for s in sides):
                    hits.append((key, bk))
                    break
    return hits


# --------------------------------------------------------------------------------------
# the model


def test_box_and_edge_validate_kinds() -> None:
    with pytest.raises(ValueError):
        Box("a", "tensor", "a")
    with pytest.raises(ValueError):
        Edge("a", "b", "backward")
    with pytest.raises(TypeError):
        Box("a", "leaf", "a", rows="data: 1.")  # type: ignore[arg-type]
    assert Box("a", "leaf", "a", ["data: 1."]).rows == ("data: 1.",)


def test_scene_lookup_subset_union() -> None:
    s = lesson_scene()
    assert s.box("c").kind == "branch" and "c" in s and s.get("zz") is None
    with pytest.raises(KeyError):
        s.box("zz")
    with pytest.raises(ValueError):
        Scene((Box("a", "leaf", "a"), Box("a", "dried", "a")))
    sub = s.subset({"a", "b", "c"})
    assert sub.keys == ("a", "b", "c") and all(e.kind == "forward" for e in sub.edges)
    bigger = s.replace(dataclasses.replace(s.box("a"), rows=("data: 2.", "grad: 12.")))
    u = Scene.union([s, bigger])
    assert u.box("a").rows[-1] == "grad: 12." and len(u.edges) == len(s.edges)


def test_highlight_is_frozen_and_hashable() -> None:
    h = Highlight(
        active={"a"},
        active_edges={("a", "b")},
        edge_notes={("a", "b"): "grad 3."},
        box_notes={"a": "+= 3."},
        error=["c"],
    )
    assert isinstance(h.active, frozenset) and h.error == frozenset({"c"})
    assert h.edge_notes[("a", "b")] == "grad 3." and h.box_notes == {"a": "+= 3."}
    assert hash(h) == hash(
        Highlight(
            active={"a"},
            active_edges={("a", "b")},
            edge_notes={("a", "b"): "grad 3."},
            box_notes={"a": "+= 3."},
            error={"c"},
        )
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        h.active = frozenset()  # type: ignore[misc]
    with pytest.raises(TypeError):
        h.box_notes["b"] = "x"  # type: ignore[index]
    assert not Highlight() and h


# --------------------------------------------------------------------------------------
# the layout


@pytest.mark.parametrize("direction", ["LR", "TB"])
@pytest.mark.parametrize("seed", range(8))
def test_no_overlaps_on_random_dags(direction: str, seed: int) -> None:
    rng = random.Random(seed)
    for n in (2, rng.randint(3, 30), rng.randint(30, QUICK_FROM - 12), QUICK_FROM - 12):
        s = synthetic_scene(n, seed=seed)
        for max_columns in (12, None):
            lay = layout(s, direction, max_columns=max_columns)
            assert set(lay.boxes) == set(s.keys)
            assert_no_overlaps(lay)
            assert not boxes_hit(lay), "an edge runs through a box"


@pytest.mark.parametrize("direction", ["LR", "TB"])
@pytest.mark.parametrize("seed", range(6))
def test_no_overlaps_on_chaos(direction: str, seed: int) -> None:
    for n in (1, 2, 7, 40, 120):
        s = chaos_scene(n, seed)
        lay = layout(s, direction)
        assert set(lay.boxes) == set(s.keys)
        assert_no_overlaps(lay)
        drawable = [e for e in s.edges if e.src in s and e.dst in s]
        assert len(lay.routes) == len(drawable)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 60),
    seed=st.integers(0, 10**6),
    direction=st.sampled_from(["LR", "TB"]),
    chaos=st.booleans(),
    max_columns=st.sampled_from([1, 3, 12, None]),
)
def test_no_overlaps_property(
    n: int, seed: int, direction: str, chaos: bool, max_columns: int | None
) -> None:
    s = chaos_scene(n, seed) if chaos else synthetic_scene(n, seed)
    assert_no_overlaps(layout(s, direction, max_columns=max_columns))


@pytest.mark.parametrize("direction", ["LR", "TB"])
@pytest.mark.parametrize("make", [lesson_scene, lambda: synthetic_scene(60, 4), unbind_scene])
def test_nodes_aligned_under_their_anchor(direction: str, make) -> None:
    s = make()
    lay = layout(s, direction)
    anchored = [b for b in s.boxes if b.is_node and b.anchor in s]
    assert anchored
    for b in anchored:
        node, tensor = lay.rect(b.key), lay.rect(b.anchor)
        (nx, ny), (tx_, ty) = node.center, tensor.center
        if direction == "LR":  # same column, node band below
            assert nx == pytest.approx(tx_, abs=0.02) and node.y > tensor.bottom
        else:  # same row, node band to the right
            assert ny == pytest.approx(ty, abs=0.02) and node.x > tensor.right
    band = lay.band
    assert band is not None
    for b in s.boxes:
        r = lay.rect(b.key)
        inside = (
            band.x <= r.x and r.right <= band.right and band.y <= r.y and r.bottom <= band.bottom
        )
        assert inside == b.is_node, b.key


@pytest.mark.parametrize("direction", ["LR", "TB"])
@pytest.mark.parametrize(
    "make, max_columns",
    [(chain_scene, 12), (tree_scene, 12), (lesson_scene, 12), (lambda: tree_scene(16), None)],
    ids=["chain", "tree", "lesson", "tree16-unlimited-columns"],
)
def test_zero_crossings_on_chains_and_trees(direction: str, make, max_columns) -> None:
    s = make()
    lay = layout(s, direction, max_columns=max_columns)
    assert len(lay.routes) == len(s.edges)
    assert all(r.routed for r in lay.routes.values())
    assert crossings(lay) == []
    assert boxes_hit(lay) == []


@pytest.mark.parametrize("direction", ["LR", "TB"])
@pytest.mark.parametrize(
    "make, most", [(diamond_scene, 2), (unbind_scene, 3)], ids=["diamond", "unbind"]
)
def test_diamond_edges_never_cross_only_a_dashed_link_must(direction: str, make, most: int) -> None:
    """A diamond's two paths enclose its upper branch, so that branch's dashed grad_fn
    link must cross the lower path on its way to the node band: the forward edges and
    the backward edges themselves stay uncrossed (same for the outputs of unbind)."""
    lay = layout(make(), direction)
    found = crossings(lay)
    assert 0 < len(found) <= most
    links = {"grad_fn", "variable"}
    assert all((a[2] in links) != (b[2] in links) for a, b in found), found
    assert boxes_hit(lay) == []


def test_chain_is_straight() -> None:
    lay = layout(chain_scene(6))
    ys = {lay.rect(f"x{i}").center[1] for i in range(6)}
    xs = [lay.rect(f"x{i}").x for i in range(6)]
    assert len(ys) == 1 and xs == sorted(xs)


def test_layout_is_deterministic_and_sizes_fit_every_frame() -> None:
    s = synthetic_scene(40, 2)
    a, b = layout(s), layout(s)
    assert dict(a.boxes) == dict(b.boxes) and dict(a.routes) == dict(b.routes)
    wide = dataclasses.replace(s.box("t0"), rows=(*s.box("t0").rows, "x" * 60, "_version: 3"))
    frames = [s.subset(s.keys[:10]), s, s.replace(wide)]
    lay = layout(frames)
    assert lay.rect("t0").w > layout(s).rect("t0").w
    assert lay.rect("t0").h > layout(s).rect("t0").h


def test_quick_layout_of_big_graphs_has_no_overlaps_and_keeps_nodes_in_their_column() -> None:
    s = chain_scene(600)  # 1,199 boxes: past QUICK_FROM
    lay = layout(s)
    assert set(lay.boxes) == set(s.keys)
    assert_no_overlaps(lay)
    assert len(lay.routes) == len(s.edges)
    for b in s.boxes:
        if b.is_node and b.anchor is not None:
            assert lay.columns[b.key] == lay.columns[b.anchor]


def test_max_columns_trades_width_for_crossings() -> None:
    s = synthetic_scene(QUICK_FROM - 12, 0)  # fewer boxes than QUICK_FROM
    strict, compact = layout(s, max_columns=None), layout(s, max_columns=12)
    assert max(compact.columns.values()) + 1 <= 12 < max(strict.columns.values()) + 1
    assert compact.width < strict.width
    with pytest.raises(ValueError):
        layout(s, max_columns=0)
    with pytest.raises(ValueError):
        layout(s, "RL")


# --------------------------------------------------------------------------------------
# the renderer


def svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter(f"{SVG_NS}text")]


def svg_title_position(svg: str, title: str) -> tuple[str, str]:
    root = ET.fromstring(svg)
    for t in root.iter(f"{SVG_NS}text"):
        if "".join(t.itertext()) == title and t.get("class") == "title":
            return t.get("x", ""), t.get("y", "")
    raise AssertionError(f"no title {title!r}")


def test_svg_is_xml_with_text_as_text_and_legend() -> None:
    s = lesson_scene()
    svg = render_svg(s, layout(s))
    texts = svg_texts(svg)
    for word in ("MulBackward0", "AccumulateGrad", "data: 24.", "grad_fn: <MulBackward0>"):
        assert word in texts
    legend = " ".join(texts)
    for word in ("branch: made by an op", "leaf: requires_grad", "dried-up leaf", "node: backward"):
        assert word in legend
    no_legend = " ".join(svg_texts(render_svg(s, layout(s), legend=False)))
    assert "made by an op" not in no_legend


def test_each_kind_says_its_name_in_words() -> None:
    s = Scene(
        (
            tensor_box("a", "leaf", "1."),
            tensor_box("b", "dried", "2."),
            tensor_box("c", "branch", "3."),
            Box("n", "node", "MulBackward0", anchor="c"),
        ),
        (Edge("a", "c", "forward", "*"), Edge("b", "c", "forward", "*"), Edge("c", "n", "grad_fn")),
    )
    texts = svg_texts(render_svg(s, layout(s), legend=False))
    for word in ("leaf", "dried-up leaf", "branch", "MulBackward0"):
        assert word in texts


def test_text_is_literal_and_escaped() -> None:
    evil = "<script>alert(1)</script>"
    rows = (
        "$x^2$ & $y$",
        "a_b __c__ \\frac{1}{2} \\\\",
        "tab\there",
        "nul\x00 esc\x1b",
        "]]> <!-- -->",
    )
    s = Scene(
        (
            Box("e", "leaf", evil, rows, tag="<img src=x onerror=alert(1)>"),
            Box("n", "node", "$\\alpha$ <b>", anchor="e"),
        ),
        (Edge("n", "e", "variable"),),
    )
    lay = layout(s)
    svg = render_svg(
        s, lay, Highlight(box_notes={"e": "</text><script>"}, edge_notes={("n", "e"): "&amp; <g>"})
    )
    root = ET.fromstring(svg)  # still well-formed XML
    assert not [el for el in root.iter() if el.tag.split("}")[-1].lower() == "script"]
    assert "<script" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    texts = svg_texts(svg)
    assert evil in texts and "$x^2$ & $y$" in texts and "$\\alpha$ <b>" in texts
    assert "a_b __c__ \\frac{1}{2} \\\\" in texts
    assert "</text><script>" in texts and "&amp; <g>" in texts
    assert "nul\\x00 esc\\x1b" in texts and "tab    here" in texts
    png = render_png(s, lay)  # the Agg path takes the same text
    assert png.startswith(b"\x89PNG")


def test_same_bytes_twice_and_across_processes() -> None:
    s = lesson_scene()
    hl = Highlight(
        active={"c.grad_fn"},
        edge_notes={("e.grad_fn", "c.grad_fn"): "grad 4."},
        box_notes={"a": "+= 12."},
        error={"c"},
    )
    lay = layout(s)
    svg1, png1 = render_svg(s, lay, hl), Renderer(lay).png(s, hl)
    r = Renderer(layout(s))  # a fresh layout and renderer, other frames first
    r.png(s.subset({"a", "b", "c"}))
    assert render_svg(s, layout(s), hl) == svg1 and r.png(s, hl) == png1
    code = (
        "import sys, hashlib\n"
        "from gradlab.drawing import Highlight, layout, render_png, render_svg\n"
        "from gradlab.drawing.sample_scenes import lesson_scene\n"
        "s = lesson_scene()\n"
        "hl = Highlight(active={'c.grad_fn'}, edge_notes={('e.grad_fn', 'c.grad_fn'): 'grad 4.'},"
        " box_notes={'a': '+= 12.'}, error={'c'})\n"
        "lay = layout(s)\n"
        "print(hashlib.sha256(render_svg(s, lay, hl).encode()).hexdigest())\n"
        "print(hashlib.sha256(render_png(s, lay, hl)).hexdigest())\n"
    )
    import hashlib

    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**__import__("os").environ, "PYTHONHASHSEED": "12345"},
    )
    assert out.stdout.split() == [
        hashlib.sha256(svg1.encode()).hexdigest(),
        hashlib.sha256(png1).hexdigest(),
    ]


def test_svg_and_png_carry_no_metadata() -> None:
    s = lesson_scene()
    lay = layout(s)
    svg = render_svg(s, lay)
    assert "<dc:date>" not in svg and "Matplotlib v" not in svg and "<dc:creator>" not in svg
    png = render_png(s, lay, dpi=50)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    pos, chunks = 8, []
    while pos < len(png):
        length = int.from_bytes(png[pos : pos + 4], "big")
        chunks.append(png[pos + 4 : pos + 8])
        pos += 12 + length
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND"
    assert not {b"tEXt", b"iTXt", b"zTXt", b"tIME"} & set(chunks)


def test_positions_unchanged_when_rendering_subsets() -> None:
    s = lesson_scene()
    frames = [s.subset({"a", "b"}), s.subset({"a", "b", "c", "c.grad_fn", "a.acc"}), s]
    lay = layout(frames)
    full = render_svg(s, lay)
    for f in frames:
        part = render_svg(f, lay)
        for b in f.boxes:
            if not b.is_node:  # tensor titles are unique: find them in both pictures
                assert svg_title_position(part, b.title) == svg_title_position(full, b.title)
    assert dict(layout(list(reversed(frames))).boxes) != {}  # any frame order works
    assert dict(layout(frames).boxes) == dict(lay.boxes)


def test_subset_draws_only_its_boxes_and_skips_dangling_edges() -> None:
    s = lesson_scene()
    lay = layout(s)
    part = Scene(
        (s.box("a"), s.box("c"), Box("ghost", "leaf", "ghost")),
        (*s.edges, Edge("a", "ghost", "forward", "*"), Edge("c", "a", "forward", "?")),
    )
    texts = svg_texts(render_svg(part, lay, legend=False))
    assert "a" in texts and "c" in texts
    assert "b" not in texts and "e" not in texts and "ghost" not in texts
    assert "MulBackward0" not in texts
    assert "?" in texts  # an edge the layout never saw gets a best-effort curve
    render_png(part, lay, dpi=40)


def test_highlight_notes_are_drawn() -> None:
    s = lesson_scene()
    lay = layout(s)
    hl = Highlight(
        active={"e.grad_fn"},
        active_edges={("e.grad_fn", "c.grad_fn")},
        edge_notes={("e.grad_fn", "c.grad_fn"): "grad 4."},
        box_notes={"c": "version 1 ≠ saved 0"},
        error={"c"},
    )
    plain, lit = render_svg(s, lay), render_svg(s, lay, hl)
    assert "grad 4." in svg_texts(lit) and "version 1 ≠ saved 0" in svg_texts(lit)
    assert "grad 4." not in svg_texts(plain)
    assert 'data-k="e.grad_fn"' in lit and ' lit" data-k="e.grad_fn"' in lit
    assert ' err" data-k="c"' in lit and ' lit"' not in plain and ' err"' not in plain


def test_fonts_are_at_least_10pt_and_rc_is_untouched() -> None:
    before = dict(matplotlib.rcParams)
    s = synthetic_scene(30, 1)
    svg = render_svg(s, layout(s, "TB"))
    sizes = [float(v) for v in re.findall(r"font-size:([0-9.]+)px", svg)]
    assert sizes and min(sizes) >= 10
    assert "'DejaVu Sans Mono', monospace" in svg
    after = dict(matplotlib.rcParams)
    assert {k for k in before if before[k] != after.get(k)} == set()


def test_drawing_does_not_import_pyplot() -> None:
    code = (
        "import sys\nfrom gradlab.drawing import layout, render_png\n"
        "from gradlab.drawing.sample_scenes import lesson_scene\n"
        "s = lesson_scene(); render_png(s, layout(s))\n"
        "print('matplotlib.pyplot' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_renderer_handles_kind_changes_and_growing_rows() -> None:
    s = lesson_scene()
    c = s.box("c")
    frames = [
        s,
        s.replace(
            dataclasses.replace(
                c, kind="leaf", rows=(*c.rows, "_version: 1"), tag="saved by MulBackward0 @v0"
            )
        ),
    ]
    lay = layout(frames, "TB")
    r = Renderer(lay)
    texts = svg_texts(render_svg(frames[1], lay))
    assert "_version: 1" in texts and "saved by MulBackward0 @v0" in texts
    assert "_version: 1" not in svg_texts(render_svg(frames[0], lay))
    assert r.png(frames[1], dpi=30) != r.png(frames[0], dpi=30)


def test_png_size_follows_dpi_within_a_pixel_budget() -> None:
    from gradlab.drawing.render import DEFAULT_DPI, MAX_PNG_PIXELS

    small, big = lesson_scene(), synthetic_scene(100, 7)
    r_small, r_big = Renderer(layout(small)), Renderer(layout(big))
    assert r_small.png_dpi() == DEFAULT_DPI and r_small.png_dpi(150) == 150
    w, h = r_big.size
    assert 36 <= r_big.png_dpi() < DEFAULT_DPI
    assert (w / 72 * r_big.png_dpi()) * (h / 72 * r_big.png_dpi()) <= MAX_PNG_PIXELS
    png = r_small.png(small, dpi=36)
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    w, h = r_small.size
    assert (width, height) == (int(w / 72 * 36), int(h / 72 * 36))
    with pytest.raises(ValueError):
        r_small.png(small, dpi=0)


def test_auto_direction_picks_the_shape_closer_to_16_9() -> None:
    import math

    def off(lay: Layout) -> float:
        return abs(math.log(lay.width / lay.height / (16 / 9)))

    fan = Scene(  # eight leaves into one sum: tall from left to right, wide from the top
        (*(tensor_box(f"l{i}", "leaf", "1.") for i in range(8)), tensor_box("s", "branch", "8.")),
        tuple(Edge(f"l{i}", "s", "forward", "+") for i in range(8)),
    )
    for s in (fan, chain_scene(6), lesson_scene()):
        lr, tb, auto = layout(s, "LR"), layout(s, "TB"), layout(s, "auto")
        assert auto.direction == min((lr, tb), key=off).direction
        assert dict(auto.boxes) == dict((lr if auto.direction == "LR" else tb).boxes)
    assert layout(fan, "auto").direction == "TB"
    assert layout(chain_scene(600), "auto").direction == "LR"  # a long chain runs along
