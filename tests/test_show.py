"""``Walkthrough(rec, show=NAMES)`` and ``%%walkthrough --show``: only the named tensors'
data and grad are shown; the others' read "?" in the narration, the boxes, the details, and
nowhere in what the front end is sent (the gradients along the edges still show)."""

from __future__ import annotations

import json

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import gradlab
import gradlab.magic


def _program() -> gradlab.Recording:
    with gradlab.record() as rec:
        a = gradlab.tensor(7.25, requires_grad=True)
        b = gradlab.tensor(11.0)
        c = a * b
        c.backward()
    del a, b, c
    return rec


def _everything(w: gradlab.Walkthrough) -> str:
    """All the front end is ever sent (the drawing, the details and every step) but the
    lines of code, which show the numbers typed in them."""
    records = [{k: v for k, v in w.view.step(i).items() if k != "source"} for i in range(len(w))]
    return json.dumps([w.view.start(), records], ensure_ascii=False)


def test_without_show_every_value_is_there():
    w = gradlab.Walkthrough(_program())
    everything = _everything(w)
    assert "7.25" in everything and "79.75" in everything
    assert not w.hides("t0")


def test_show_hides_the_other_tensors_values_everywhere():
    w = gradlab.Walkthrough(_program(), show=["b"])
    assert [w.hides(k) for k in ("t0", "t1", "t2")] == [True, False, True]
    texts = [f.narration for f in w.frames]
    assert texts[0].startswith("a is created: a leaf holding ? ")
    assert texts[1].startswith("b is created: a leaf holding 11.0 ")
    assert texts[2].startswith("c = ?. ") and "other = b (11.0)" in texts[2]
    assert texts[-1].startswith("The backward pass is done: a.grad = ?")
    everything = _everything(w)
    assert "7.25" not in everything and "79.75" not in everything
    assert "data: ?" in w.view.start()["svg"]
    assert w.view.start()["details"]["t0"] == "a\ndata: ?\ngrad: ?"
    assert w.view.start()["details"]["t1"] == "b\ndata: tensor(11.)\ngrad: None"
    # the gradient along the edge into a still shows (predict mode is what hides those)
    assert any(
        "grad 11." in note for r in json.loads(everything)[1] for note in map(str, r["notes"])
    )


def test_show_refuses_a_name_no_tensor_has():
    with pytest.raises(
        ValueError, match="show: no tensor is named 'z' \\(named tensors: a, b, c\\)"
    ):
        gradlab.Walkthrough(_program(), show=["a", "z"])


def test_the_magic_passes_show_names_by_spaces_or_commas(monkeypatch):
    shown: list = []
    monkeypatch.setattr(gradlab.magic, "display", shown.append)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "gradlab")
    cell = "a = gradlab.tensor(7.0, requires_grad=True)\nb = a * 11\nc = b * 2\nc.backward()\n"
    try:
        shell.run_cell("import gradlab")
        assert shell.run_cell("%%walkthrough --show a c\n" + cell).success
        assert shell.run_cell("%%walkthrough --show a,c --direction TB\n" + cell).success
        with pytest.raises(UsageError, match="no tensor is named 'x'"):
            shell.run_cell_magic("walkthrough", "--show x", cell)
    finally:
        shell.reset()
    for w in shown:
        names = {w.display_name(k): w.hides(k) for k in w.recording.tensors}
        assert names == {"a": False, "b": True, "c": False}
