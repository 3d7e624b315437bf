"""Predict mode and the presenter toggle in the Stepper widget, without a browser: what the
front end is sent before and after an answer, the panel's messages, the toggles; and the
exported page's data."""

from __future__ import annotations

import json
import re

import pytest

from gradlab.predict import HIDDEN_LABEL
from gradlab.widgets import Stepper
from tests.fake_walkthrough import FakeWalkthrough
from tests.recorded import chain_walkthrough


class Sent:
    """Everything the stepper's two anywidgets send or sync to the front end."""

    def __init__(self, stepper: Stepper, monkeypatch: pytest.MonkeyPatch) -> None:
        self.messages: list[object] = []
        monkeypatch.setattr(stepper.frame, "send", self.messages.append)
        stepper.predict.observe(lambda change: self.messages.append(change["new"]), "state")
        stepper.narration.observe(lambda change: self.messages.append(change["new"]), "value")

    def text(self) -> str:
        return json.dumps(self.messages, ensure_ascii=False)

    def shows_15(self) -> bool:
        """Whether 15 (the hidden gradient) is anywhere in what was sent, as a number."""
        return _has_15(self.text())


def _has_15(text: str) -> bool:
    return re.search(r"(?<![\d.])15(?![\d])", text) is not None


def _asking(s: Stepper, n: int) -> int:
    return s.predict.predictor.asking()[n]


def test_predict_mode_hides_the_value_until_it_is_answered(monkeypatch):
    s = Stepper(chain_walkthrough(), predict=True)
    sent = Sent(s, monkeypatch)
    i = _asking(s, 1)
    s.goto(i)
    assert not sent.shows_15()
    assert ["e", "n1.0", HIDDEN_LABEL] in sent.messages[0]["steps"][i]["notes"]
    assert "Predict what it sends to AccumulateGrad of a" in s.narration.value
    questions = s.predict.state["questions"]
    assert [(q["key"], q["status"]) for q in questions] == [("n1.0", "open")]
    assert s.predict.state["step"] == i

    s.predict.answer(i, 0, "6")
    assert not sent.shows_15()
    assert s.predict.state["questions"][0]["message"].startswith("✗ Not quite. Hint:")

    del sent.messages[:]
    s.predict.answer(i, 0, "15")
    assert ["e", "n1.0", "grad 15."] in sent.messages[-1]["steps"][i]["notes"]
    assert sent.messages[-1]["to"] == i
    assert s.predict.state["questions"][0]["status"] == "right"
    assert s.predict.state["score"] == "0 of 1 right"
    assert "= 15.0 to AccumulateGrad of a" in s.narration.value


def test_the_front_ends_messages_answer_reveal_and_step():
    s = Stepper(chain_walkthrough(), predict=True)
    i = _asking(s, 0)
    s.goto(i)
    s.predict._on_msg(None, {"answer": [i, 0, "5"]}, [])
    assert s.predict.state["score"] == "1 of 1 right"
    j = _asking(s, 1)
    s.predict._on_msg(None, {"go": j - i}, [])
    assert s.walkthrough.index == j
    s.predict._on_msg(None, {"reveal": [j, None]}, [])
    assert s.predict.state["questions"][0]["message"] == "The answer: 15.0."
    assert s.predict.state["score"] == "1 of 2 right"
    s.predict._on_msg(None, {"go": -1}, [])
    assert s.walkthrough.index == j - 1


def test_without_predict_mode_values_show_and_toggling_hides_them(monkeypatch):
    s = Stepper(chain_walkthrough())
    sent = Sent(s, monkeypatch)
    i = _asking(s, 1)
    s.goto(i)
    assert ["e", "n1.0", "grad 15."] in sent.messages[0]["steps"][i]["notes"]
    del sent.messages[:]
    s.predict.predict = True
    assert not sent.shows_15()
    assert ["e", "n1.0", HIDDEN_LABEL] in sent.messages[-1]["steps"][i]["notes"]
    s.predict.predict = False
    assert "grad 15." in json.dumps(sent.messages[-1])


def test_presenter_mode_hides_values_and_shows_the_picture_big(monkeypatch):
    s = Stepper(chain_walkthrough(), presenter=True)
    assert s.frame.big is True
    sent = Sent(s, monkeypatch)
    i = _asking(s, 1)
    s.goto(i)
    assert not sent.shows_15()
    s.predict.reveal(i)
    assert "grad 15." in json.dumps(sent.messages[-1])
    s.predict.presenter = False
    assert s.frame.big is False


def test_a_stepper_of_another_walkthrough_has_no_predict_panel():
    s = Stepper(FakeWalkthrough.lesson1())
    assert s.predict is None
    assert len(s.children) == 4


def test_the_panel_is_an_anywidget_with_its_esm_in_the_package():
    s = Stepper(chain_walkthrough())
    esm = s.predict._esm
    text = esm.read_text() if hasattr(esm, "read_text") else str(esm)
    assert "export default { render: renderPanel }" in text
    assert "gradlab-stepper-predict" in s.predict._dom_classes


def test_the_page_carries_its_questions_and_hides_nothing_it_shows_first():
    w = chain_walkthrough()
    text = w.to_html()
    data = json.loads(re.search(r"const PREDICT = (.*);\n", text).group(1))
    i = max(i for i, f in enumerate(w.frames) if f.flows)  # MulBackward0 of c sends 15
    entry = data[str(i)]
    assert entry["questions"][0]["answer"] == 15.0
    assert entry["questions"][0]["right"] == "✓ Right: 15.0."
    assert not _has_15(entry["text"]) and not _has_15(json.dumps(entry["notes"]))
    assert ["e", "n1.0", HIDDEN_LABEL] in entry["notes"]
    assert "export " not in text.split("<script>")[1]
    assert "function localPredictor" in text and "function createView" in text


def test_walkthrough_magic_predict_option_starts_the_stepper_in_predict_mode(monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    import gradlab.magic

    shown: list = []
    monkeypatch.setattr(gradlab.magic, "display", shown.append)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "gradlab")
    try:
        shell.run_cell("import gradlab")
        cell = "a = gradlab.tensor(2.0, requires_grad=True)\nc = a * 3\nc.backward()\n"
        assert shell.run_cell("%%walkthrough --predict\n" + cell).success
        assert shell.run_cell("%%walkthrough\n" + cell).success
    finally:
        shell.reset()
    stepper, walkthrough = shown
    assert isinstance(stepper, Stepper) and stepper.predict.predict is True
    assert stepper.walkthrough.display_name("t0") == "a"
    assert stepper.predict.predictor.asking()  # c = a * 3 sends a gradient to a
    assert isinstance(walkthrough, gradlab.Walkthrough)


def test_presenter_mode_masks_an_ops_result_until_revealed(monkeypatch):
    s = Stepper(chain_walkthrough(), presenter=True)
    sent = Sent(s, monkeypatch)
    op = [f.step.kind for f in s.walkthrough.frames].index("OpApplied")
    s.goto(op)
    assert sent.messages[0]["steps"][op]["mask"] == ["t2"]
    assert s.narration.value.count("c = ?.") == 1
    assert s.predict.state["held"] is True
    s.predict._on_msg(None, {"reveal": [op, None]}, [])
    assert "mask" not in sent.messages[-1]["steps"][op]
    assert "c = 6.0." in s.narration.value and s.predict.state["held"] is False


def test_the_page_carries_what_presenter_mode_holds_back():
    w = chain_walkthrough()
    data = json.loads(re.search(r"const PREDICT = (.*);\n", w.to_html()).group(1))
    op = [f.step.kind for f in w.frames].index("OpApplied")
    assert data[str(op)]["mask"] == ["t2"]
    assert data[str(op)]["text"].startswith("c = ?.") and data[str(op)]["questions"] == []
