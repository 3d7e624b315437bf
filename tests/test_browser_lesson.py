"""A lesson as a student meets it: lesson 5 opened in JupyterLab in headless Chromium, all
cells run, and its stepper clicked through the whole backward pass."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.browser import (
    JupyterLab,
    assert_widgets_rendered,
    open_notebook,
    read_stepper,
    run_all,
    wait_for_step,
    wait_for_widget,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LESSON = Path(__file__).resolve().parent.parent / "lessons" / "05_div_add_graph.ipynb"


def test_lesson5_stepper_reaches_the_final_gradients(
    jupyter_lab: JupyterLab, lab_page: Any
) -> None:
    shutil.copy(LESSON, jupyter_lab.root_dir / LESSON.name)
    page = lab_page
    open_notebook(page, jupyter_lab, LESSON.name)
    run_all(page, timeout=120)
    wait_for_widget(page, ".gradlab-stepper-frame svg")
    # Lab renders only the cells in view: bring the stepper there
    page.locator(".gradlab-stepper").first.scroll_into_view_if_needed()
    wait_for_step(page, 1)

    states = [read_stepper(page)]
    total = states[0]["total"]
    while states[-1]["step"] < total:
        page.locator(".gradlab-stepper-next").first.click()
        wait_for_step(page, states[-1]["step"] + 1)
        states.append(read_stepper(page))

    narrations = [s["narration"] for s in states]
    assert any("AccumulateGrad of h" in n and "-64.0" in n for n in narrations)
    assert any("AccumulateGrad of c" in n and "36.0" in n for n in narrations)
    assert "h.grad = -64.0" in narrations[-1] and "c.grad = 36.0" in narrations[-1]
    assert {s["phase"] for s in states} >= {"forward", "backward"}
    assert states[-1]["nextDisabled"]
    assert_widgets_rendered(page)
    errors = page.evaluate(
        "() => [...document.querySelectorAll('.jp-OutputArea-output[data-mime-type="
        '"application/vnd.jupyter.stderr"]\')].map(e => e.innerText)'
        ".filter(t => t.includes('Traceback') && !t.includes('RuntimeError'))"
    )
    assert errors == [], errors  # only the lesson's intended RuntimeErrors
