"""Predict mode and the presenter toggle in a real browser: one predict round in JupyterLab
(a stepper made by ``%%walkthrough --predict``) and one in the page ``to_html()`` writes,
opened from file://, each played with the keyboard. Every wait is on a condition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gradlab
from gradlab.checking import check
from gradlab.predict import parse_answer
from tests.browser import (
    JupyterLab,
    assert_widgets_rendered,
    box_key,
    open_notebook,
    read_picture,
    run_all,
    wait_for_picture,
    wait_for_step,
    wait_for_widget,
    write_notebook,
)
from tests.recorded import program_source

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# lesson 5's program: MulBackward0 of k sends 8 to j's node and 10 to i's node first
PROGRAM = program_source(gradlab.examples.div_add_graph)
CELLS = ["import gradlab\n%load_ext gradlab", "%%walkthrough --predict\n" + PROGRAM]
#: presenter mode's big type: a row of the picture (10 drawing units) at 1.6 × 12 px or more
BIG_ROW_PX = 19

_PANEL_JS = """() => {
  const panel = document.querySelector('.gl-predict');
  if (!panel) return null;
  return {
    predict: panel.querySelector('.gl-predict-on').checked,
    presenter: panel.querySelector('.gl-presenter-on').checked,
    score: panel.querySelector('.gl-score').textContent,
    questions: [...panel.querySelectorAll('.gl-q')].map(q => ({
      prompt: q.querySelector('.gl-prompt').textContent,
      status: q.dataset.status,
      verdict: q.querySelector('.gl-verdict').textContent,
    })),
  };
}"""


def _panel(page: Any) -> dict[str, Any] | None:
    return page.evaluate(_PANEL_JS)


def _wait_panel(page: Any, condition: Any) -> dict[str, Any]:
    page.wait_for_function(
        f"() => {{ const s = ({_PANEL_JS})(); return !!s && ({condition}); }}", timeout=15_000
    )
    return _panel(page)


def _first_round(page: Any, notes: Any) -> None:
    """At MulBackward0 of k: 8 and 10 hidden; a wrong answer, a right one (Enter), a reveal
    (keyboard), and the values then on the edges."""
    state = _wait_panel(page, "s.questions.length === 2")
    assert [q["prompt"] for q in state["questions"]] == [
        "What does MulBackward0 of k send to AddBackward0 of j?",
        "What does MulBackward0 of k send to DivBackward0 of i?",
    ]
    assert notes().count("grad ?") == 2
    assert "grad 8." not in notes() and "grad 10." not in notes()

    first = page.locator(".gl-predict .gl-answer").first
    first.focus()
    page.keyboard.type("-8")
    page.keyboard.press("Enter")
    state = _wait_panel(page, "s.questions[0].status === 'wrong'")
    assert state["questions"][0]["verdict"].startswith("✗ Not quite. Hint: MulBackward0 of k")
    assert "grad × i" in state["questions"][0]["verdict"]
    assert state["score"] == "0 of 1 right"

    first.fill("")
    first.focus()
    page.keyboard.type("8")
    page.keyboard.press("Enter")
    state = _wait_panel(page, "s.questions[0].status === 'right'")
    assert state["questions"][0]["verdict"] == "✓ Right: 8.0."
    # the focus moves on to the next hidden value; Tab reaches its Reveal button
    page.wait_for_function(
        "() => document.activeElement === document.querySelectorAll('.gl-predict .gl-answer')[1]"
    )
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    state = _wait_panel(page, "s.questions[1].status === 'revealed'")
    assert state["questions"][1]["verdict"] == "The answer: 10.0."
    assert state["score"] == "0 of 2 right"


def test_predict_round_in_jupyterlab(jupyter_lab: JupyterLab, lab_page: Any) -> None:
    page = lab_page
    write_notebook(jupyter_lab.root_dir / "predict.ipynb", CELLS)
    open_notebook(page, jupyter_lab, "predict.ipynb")
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    run_all(page)
    wait_for_widget(page, ".gradlab-stepper-predict .gl-predict-on")
    wait_for_widget(page, ".gradlab-stepper-frame svg")
    _wait_panel(page, "s.predict && !s.presenter")

    def notes() -> list[str]:
        return (read_picture(page) or {"notes": []})["notes"]

    # Next to the first backward node that sends gradients
    step = 1
    while "Predict what it sends" not in page.inner_text(".gradlab-stepper-narration"):
        page.locator(".gradlab-stepper-next").click()
        step += 1
        wait_for_step(page, step)
    narration = page.inner_text(".gradlab-stepper-narration")
    assert narration.startswith("MulBackward0 of k receives 1.0.")
    assert "8" not in narration and "10" not in narration
    wait_for_picture(page, lambda p: "grad ?" in p["notes"])
    # the hidden values are nowhere in the page, not only not shown
    assert "grad 8." not in page.content() and "grad 10." not in page.content()

    _first_round(page, notes)
    wait_for_picture(page, lambda p: {"grad 8.", "grad 10."} <= set(p["notes"]))
    page.wait_for_function(
        "() => document.querySelector('.gradlab-stepper-narration').innerText"
        ".includes('= 10.0 to DivBackward0 of i')"
    )

    # presenter: big type, and → / ← step from the keyboard
    page.locator(".gl-predict .gl-presenter-on").click()
    page.wait_for_selector(".gradlab-stepper.gl-presenter")
    page.locator(".gradlab-stepper-narration").click()  # focus out of the inputs
    page.keyboard.press("ArrowRight")
    wait_for_step(page, step + 1)
    page.keyboard.press("ArrowLeft")
    wait_for_step(page, step)
    page.keyboard.press(" ")
    step += 1
    wait_for_step(page, step)
    size = page.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector("
        "'.gradlab-stepper-narration .widget-html-content')).fontSize)"
    )
    assert size >= 18
    # the picture's text is big too: a row 10 drawing units high, at least 19 px on screen
    wait_for_picture(page, lambda p: p["rowPx"] >= BIG_ROW_PX)

    # presenter holds a step's new values back: h's grad, until R
    h = box_key(page, "h")
    while "now it is ?" not in page.inner_text(".gradlab-stepper-narration"):
        step += 1
        page.keyboard.press("ArrowRight")
        wait_for_step(page, step)
    assert page.inner_text(".gradlab-stepper-narration").startswith("AccumulateGrad of h adds")
    wait_for_picture(page, lambda p: "grad: ?" in p["box"], key=h)
    page.keyboard.press("r")
    wait_for_picture(page, lambda p: "grad: -64." in p["box"], key=h)
    page.wait_for_function(
        "() => document.querySelector('.gradlab-stepper-narration').innerText"
        ".includes('now it is -64.0')"
    )
    assert_widgets_rendered(page)


# typed answers, and the expected value they are checked against in the page
TABLE = [
    ("3", 3.0),
    ("-64.0", -64.0),
    ("1/3", 0.33333),
    ("1/3", 0.3),
    ("2×3", 6.0),
    ("[6, 3, 2]", [6.0, 3.0, 2.0]),
    ("[6, 3]", [6.0, 3.0, 2.0]),
    ("[6, 3, 3]", [6.0, 3.0, 2.0]),
    ("tensor([[1., -2.], [0.5, 3]])", [[1.0, -2.0], [0.5, 3.0]]),
    ("[[1, 2], [3]]", [1.0, 2.0]),
    ("abc", 1.0),
    ("1/0", 1.0),
    ("", 1.0),
]


def _python_verdict(text: str, expected: Any) -> list:
    try:
        value = parse_answer(text)
    except ValueError:
        return ["unreadable"]
    verdict = check(value, np.asarray(expected))
    return ["right"] if verdict else ["wrong", *verdict.message.split()[:3]]


_PAGE_VERDICT_JS = """([text, expected]) => {
  let value;
  try { value = parseAnswer(text); } catch (e) { return ['unreadable']; }
  const p = problem(value, expected);
  return p === null ? ['right'] : ['wrong', ...('\\u2717 ' + p).split(' ').slice(0, 3)];
}"""


def test_predict_round_in_the_exported_page(tmp_path: Path, browser_page: Any) -> None:
    walkthrough = gradlab.Walkthrough(gradlab.examples.div_add_graph())
    path = tmp_path / "walkthrough.html"
    path.write_text(walkthrough.to_html(), encoding="utf-8")
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())

    def notes() -> list[str]:
        return page.evaluate(
            "() => [...document.querySelectorAll('#frame g.note text')].map(t => t.textContent)"
        )

    page.locator(".gl-predict-on").check()
    _wait_panel(page, "s.predict")
    page.locator("#narration").click()
    while "Predict what it sends" not in page.inner_text("#narration"):
        page.keyboard.press("ArrowRight")
    assert page.inner_text("#narration").startswith("MulBackward0 of k receives 1.0.")
    _first_round(page, notes)
    assert {"grad 8.", "grad 10."} <= set(notes())
    assert "= 10.0 to DivBackward0 of i" in page.inner_text("#narration")

    # presenter in the page: big type, space and arrows step, R reveals
    step = int(page.evaluate("() => document.querySelector('#frame').dataset.step"))
    page.locator(".gl-presenter-on").check()
    page.wait_for_selector("body.gl-presenter")
    page.wait_for_function(
        "px => [...document.querySelectorAll('#frame g.box:not(.hidden) text.row')]"
        ".some(t => t.getBoundingClientRect().height >= px)",
        arg=BIG_ROW_PX,
    )
    page.locator("#narration").click()
    page.keyboard.press(" ")
    page.wait_for_function(f"() => document.querySelector('#frame').dataset.step === '{step + 1}'")
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"() => document.querySelector('#frame').dataset.step === '{step}'")
    while "Predict what it sends" not in page.inner_text("#narration"):
        page.keyboard.press("ArrowRight")
    assert "grad ?" in notes()
    page.keyboard.press("r")
    page.wait_for_function(
        "() => !document.querySelector('#narration').innerText.includes('Predict what it sends')"
    )
    assert "grad ?" not in notes()

    # presenter holds an op's result back: c = a * b reads "?" in words and in its box
    def c_rows() -> list[str]:
        return page.evaluate(
            "() => [...document.querySelectorAll('#frame g.box[data-k=\"t2\"] text.row')]"
            ".map(t => t.textContent)"
        )

    page.locator("#reset").click()
    page.locator("#narration").click()
    while not page.inner_text("#narration").startswith("c = "):
        page.keyboard.press("ArrowRight")
    assert page.inner_text("#narration").startswith("c = ?.")
    assert "data: ?" in c_rows() and page.locator(".gl-held").is_visible()
    page.keyboard.press("r")
    assert page.inner_text("#narration").startswith("c = 4.0.")
    assert "data: 4." in c_rows() and not page.locator(".gl-held").is_visible()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    assert "data: 4." in c_rows()  # revealed stays revealed

    # the page reads and checks answers as gradlab.check does
    for text, expected in TABLE:
        ours = page.evaluate(_PAGE_VERDICT_JS, [text, expected])
        assert ours == _python_verdict(text, expected), (text, expected)

    assert errors == []
    assert all(url.startswith("file:") for url in requests), "the page loaded from the network"
