"""``gradlab.show``: what the static picture contains, and how it displays."""

from __future__ import annotations

import gradlab


def lesson5_tensors() -> dict[str, gradlab.Tensor]:
    a, b, d, f = (gradlab.tensor(2.0) for _ in range(4))
    h = gradlab.tensor(2.0, requires_grad=True)
    c = a * b
    c.requires_grad_()
    e = c * d
    g = e * f
    i = g / h
    j = i + h
    k = j * i
    return dict(a=a, b=b, c=c, d=d, e=e, f=f, g=g, h=h, i=i, j=j, k=k)


def test_show_draws_the_graph_with_the_callers_names_and_colours() -> None:
    t = lesson5_tensors()
    globals().update(t)  # the picture names tensors from the calling code
    try:
        scene = gradlab.show(t["k"]).scene
    finally:
        for name in t:
            globals().pop(name)
    kinds = {box.title: box.kind for box in scene.boxes if box.kind != "node"}
    assert kinds == {
        "c": "leaf",
        "d": "dried",
        "e": "branch",
        "f": "dried",
        "g": "branch",
        "h": "leaf",
        "i": "branch",
        "j": "branch",
        "k": "branch",
    }
    nodes = sorted(box.title for box in scene.boxes if box.kind == "node")
    assert nodes == [  # told apart by the tensor they belong to
        "AccumulateGrad of c",
        "AccumulateGrad of h",
        "AddBackward0 of j",
        "DivBackward0 of i",
        "MulBackward0 of e",
        "MulBackward0 of g",
        "MulBackward0 of k",
    ]
    by_key = {box.key: box for box in scene.boxes}
    next_edges = {
        (by_key[e.src].title, by_key[e.dst].title, e.label) for e in scene.edges if e.kind == "next"
    }
    assert ("AddBackward0 of j", "DivBackward0 of i", "0") in next_edges
    assert ("DivBackward0 of i", "AccumulateGrad of h", "0") in next_edges
    k_box = next(b for b in scene.boxes if b.title == "k")
    assert k_box.rows[:3] == ("data: 80.", "grad: None", "grad_fn: <MulBackward0>")


def test_show_displays_as_png_svg_and_plain_text() -> None:
    a = gradlab.tensor(2.0, requires_grad=True)
    c = a * 3
    bundle = gradlab.show(c)._repr_mimebundle_()
    assert bundle["image/png"].startswith(b"\x89PNG")
    assert bundle["image/svg+xml"].startswith("<svg xmlns=")
    assert bundle["text/plain"] == "<gradlab picture: 2 tensors, 2 nodes>"


def test_show_of_a_recording_shows_the_final_state() -> None:
    with gradlab.record() as rec:
        a = gradlab.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b, c, d = a.unbind()
        e = b * c * d
        e.backward()
    scene = gradlab.show(rec).scene
    a_box = next(box for box in scene.boxes if box.title == "a")
    assert "grad: [6., 3., 2.]" in a_box.rows
    labels = sorted(
        e.label
        for e in scene.edges
        if e.kind == "next"
        and next(b for b in scene.boxes if b.key == e.dst).title.startswith("UnbindBackward0")
    )
    assert labels == ["0", "1", "2"]


def test_show_rejects_what_is_not_a_tensor() -> None:
    import pytest

    with pytest.raises(TypeError, match=r"takes tensors or one Recording; got int"):
        gradlab.show(gradlab.tensor(1.0), 5)
    with pytest.raises(TypeError, match="got nothing"):
        gradlab.show()


def test_matrices_get_compact_boxes_with_shape_dtype_and_a_small_grid() -> None:
    w = gradlab.tensor([[float(i * 6 + j) for j in range(6)] for i in range(5)], requires_grad=True)
    scene = gradlab.show(w).scene
    rows = next(b for b in scene.boxes if b.title == "w").rows
    assert rows[0] == "data: 5×6 float32"
    assert rows[1:6] == (
        " [ 0.,  1.,  2.,  3. …]",
        " [ 6.,  7.,  8.,  9. …]",
        " [12., 13., 14., 15. …]",
        " [18., 19., 20., 21. …]",
        " … 1 more rows",
    )
    assert rows[6] == "grad: None"
    assert max(len(r) for r in rows) < 30  # never the whole matrix on one line


def test_freed_saved_tensors_are_drawn_as_freed_and_stale_ones_marked() -> None:
    a = gradlab.tensor(2.0, requires_grad=True)
    b = a * a
    b.backward()
    freed = next(x for x in gradlab.show(b).scene.boxes if x.title == "MulBackward0 of b")
    assert freed.rows == ("saved self: (freed)", "saved other: (freed)")

    c = gradlab.tensor(3.0, requires_grad=True) * 1
    d = c * c
    with gradlab.no_grad():
        c.add_(4.0)
    node = next(x for x in gradlab.show(d).scene.boxes if x.title == "MulBackward0 of d")
    assert node.rows == ("saved self: c @v0, now v1", "saved other: c @v0, now v1")
    assert "now v1" in gradlab.show(d).to_svg()


# --- the walkthrough's picture (gradlab/stepview.py) -------------------------------------


def test_parallel_edges_each_carry_their_own_flow_label() -> None:
    """unbind: the three edges into UnbindBackward0 carry 6, 3 and 2, each on its own edge."""
    import re

    w = gradlab.Walkthrough(gradlab.examples.unbind())
    into_unbind = {}
    for i, frame in enumerate(w.frames):
        for f in frame.flows:
            if f.target == "UnbindBackward0":
                into_unbind[f"{f.source_key}.{f.position}"] = (i, float(f.value))
    assert sorted(v for _, v in into_unbind.values()) == [2.0, 3.0, 6.0]
    for eid, (i, value) in into_unbind.items():
        record = w.view.step(i)
        assert ["e", eid, f"grad {value:.0f}."] in record["notes"]
        assert eid in record["lit"]
        w.goto(i)
        svg = w.to_svg()
        # the note sits where that edge (and no other) puts its note
        edge = re.search(rf'<g class="edge[^"]*" data-k="{re.escape(eid)}" data-l="([^"]+)"', svg)
        assert edge is not None
        x, y = (float(v) for v in edge[1].split())
        text_x = float(
            re.search(rf'<text x="([^"]+)" y="{y + 3.5:g}">grad {value:.0f}\.</text>', svg)[1]
        )
        assert abs(text_x + 5 + 6.02 * len(f"grad {value:.0f}.") / 2 - (x + 5)) < 1
    # two of them join the same two nodes: told apart by their next_functions slot
    sources = {eid.rsplit(".", 1)[0] for eid in into_unbind}
    assert len(sources) == 2


def test_stepper_marks_out_of_date_saved_tensors_and_steps_back() -> None:
    w = gradlab.Walkthrough(gradlab.examples.version_counter())
    view = w.view
    i = next(k for k, f in enumerate(w.frames) if f.step.kind == "InplaceApplied")
    node = next(k for k in view.nodes if w.display_name(k) == "MulBackward0 of e")
    record = view.step(i)
    assert record["rows"][node][0] == "saved self: c @v0, now v1"
    assert record["undo"][node][0] == "saved self: c = 6."  # the version-0 value
    failed = view.step(len(w) - 1)
    assert node in failed["err"]


def test_stepper_draws_saved_tensors_freed_after_backward() -> None:
    w = gradlab.Walkthrough(gradlab.examples.unbind())
    view = w.view
    node = next(k for k in view.nodes if w.display_name(k) == "MulBackward0 of e")
    ran = next(k for k, f in enumerate(w.frames) if f.flows and f.flows[0].source_key == node)
    assert not any("(freed)" in r for r in view.scene_at(ran).box(node).rows)
    later = view.scene_at(ran + 1).box(node).rows
    assert later == ("saved self: (freed)", "saved other: (freed)")
    assert view.step(ran + 1)["rows"][node] == list(later)


def test_save_writes_the_current_frame_as_svg_or_png(tmp_path) -> None:
    w = gradlab.Walkthrough(gradlab.examples.div_add_graph())
    w.goto(len(w) - 1)
    w.save(str(tmp_path / "step.svg"))
    w.save(str(tmp_path / "step.png"))
    svg = (tmp_path / "step.svg").read_text()
    assert svg.startswith("<svg xmlns=") and "grad: -64." in svg and "grad: 36." in svg
    assert (tmp_path / "step.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    w.goto(0)
    w.save(str(tmp_path / "first.svg"))
    assert "grad: -64." not in (tmp_path / "first.svg").read_text()


def test_the_drawing_is_made_once_with_each_element_tagged_by_its_first_frame() -> None:
    import re

    w = gradlab.Walkthrough(gradlab.examples.div_add_graph())
    drawing = w.view.drawing()
    boxes = dict(
        re.findall(r'<g class="box [^"]*" data-k="([^"]+)" data-r="[^"]+" data-at="(\d+)"', drawing)
    )
    assert boxes == {k: str(i) for k, i in w.appears_at.items()}
    for eid, at in re.findall(r'<g class="edge [^"]*" data-k="([^"]+)" data-at="(\d+)"', drawing):
        assert int(at) <= len(w) - 1, eid
    assert drawing.count("<svg") == 1
