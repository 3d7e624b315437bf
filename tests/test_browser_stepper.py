"""The stepper in a real browser: lesson 5 stepped in JupyterLab, and ``to_html()`` stepped
from a file:// page, both in headless Chromium.

``docs/stepper.png``, the README's picture of the stepper, is made by
tools/screenshot_stepper.py, not by a test.
"""

from __future__ import annotations

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
    wait_for_stepper,
    wait_for_widget,
    wait_until_settled,
    write_notebook,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# the spec's lesson-5 program, recorded (gradlab/examples.py)
CELLS = [
    "import gradlab\n\nrec = gradlab.examples.div_add_graph()",
    "gradlab.widgets.Stepper(gradlab.Walkthrough(rec))",
]


def _shows_backward_node(state: dict[str, Any]) -> bool:
    return state["phase"] == "backward" and state["narration"].startswith("DivBackward0")


def test_stepper_steps_through_lesson5_in_lab(jupyter_lab: JupyterLab, lab_page: Any) -> None:
    """Click Next to the last step: narration and frame change, gradients -64 and 36 show."""
    page = lab_page
    write_notebook(jupyter_lab.root_dir / "stepper.ipynb", CELLS)
    open_notebook(page, jupyter_lab, "stepper.ipynb")
    # the file browser would take a quarter of the width the picture needs
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    run_all(page)
    wait_for_widget(page, ".gradlab-stepper-frame svg")
    outputs = page.evaluate(
        "() => [...document.querySelectorAll('.jp-OutputArea')].map(o => o.innerText).join()"
    )
    for fallback in ("Stepper(", "VBox(", "Traceback", "Error"):
        assert fallback not in outputs

    states = [read_stepper(page)]
    first = states[0]
    assert (first["step"], first["phase"]) == (1, "forward")
    assert first["prevDisabled"] and not first["nextDisabled"]
    assert "<svg" in first["frame"]
    total = first["total"]
    assert total > 15

    next_button = page.locator(".gradlab-stepper-next")
    while states[-1]["step"] < total:
        next_button.click()
        wait_for_step(page, states[-1]["step"] + 1)
        states.append(read_stepper(page))

    last = states[-1]
    assert last["step"] == total and last["nextDisabled"] and not last["prevDisabled"]
    assert len({s["narration"] for s in states}) == total
    assert len({s["frame"] for s in states}) > total // 2
    assert {s["phase"] for s in states} == {"forward", "backward"}
    narrations = " ".join(s["narration"] for s in states)
    assert "-64" in narrations  # h.grad
    assert "36" in narrations  # c.grad
    assert any(s["source"] == "k.backward()" for s in states)
    assert any(map(_shows_backward_node, states)), "no backward step narrated DivBackward0"

    # back to the start: Reset disables Prev again
    page.locator(".gradlab-stepper-reset").click()
    wait_for_step(page, 1)
    assert read_stepper(page)["prevDisabled"]

    # Play moves the slider in the browser (jslink), and the kernel follows the slider
    play_pause = page.locator(".gradlab-stepper-play button").first  # the next one is Stop
    play_pause.click()
    wait_for_stepper(page, lambda s: s["step"] >= 3)
    play_pause.click()
    # the kernel may still be catching up with the steps Play reached: wait, don't read now
    paused = wait_until_settled(
        page, lambda s: s["narration"] == states[s["step"] - 1]["narration"]
    )
    assert paused["step"] >= 3
    assert_widgets_rendered(page)


def test_walkthrough_html_steps_without_a_kernel(tmp_path: Path, browser_page: Any) -> None:
    """``Walkthrough.to_html()`` opened from a file steps with its buttons and arrow keys."""
    import gradlab

    walkthrough = gradlab.Walkthrough(gradlab.examples.div_add_graph())
    page_path = tmp_path / "walkthrough.html"
    page_path.write_text(walkthrough.to_html(), encoding="utf-8")

    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(page_path.as_uri())

    narration = page.locator("#narration")
    seen = [narration.inner_text()]
    frames = [page.locator("#frame").inner_html()]
    assert seen[0] and "<svg" in frames[0]
    assert page.locator("#prev").is_disabled()
    for _ in range(len(walkthrough) - 1):
        page.locator("#next").click()
        seen.append(narration.inner_text())
        frames.append(page.locator("#frame").inner_html())
    assert page.locator("#next").is_disabled()
    assert len(set(seen)) == len(walkthrough)
    assert len(set(frames)) > 1
    assert "-64" in " ".join(seen) and "36" in " ".join(seen)

    page.keyboard.press("ArrowLeft")
    assert narration.inner_text() == seen[-2]
    page.keyboard.press("ArrowRight")
    assert narration.inner_text() == seen[-1]

    assert errors == []
    assert all(url.startswith("file:") for url in requests), "the page loaded from the network"
