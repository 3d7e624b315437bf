"""The stepper's picture in a real browser: the focus view at readable size, wheel zoom,
a click on a box showing its full values, and lesson 5 stepped to h.grad = -64 and
c.grad = 36, in JupyterLab 4 and in Notebook 7; the exported page stepped from file://.

Every wait is on a condition (the picture's step, a text), never a sleep.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import (
    JupyterLab,
    assert_widgets_rendered,
    box_key,
    click_box,
    open_notebook,
    open_notebook7,
    read_picture,
    read_stepper,
    run_all,
    running_jupyter_lab,
    wait_for_picture,
    wait_for_step,
    wait_for_widget,
    write_notebook,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CELLS = [
    "import gradlab\n\nrec = gradlab.examples.div_add_graph()",
    "gradlab.widgets.Stepper(gradlab.Walkthrough(rec))",
]
#: at 1280 px wide, a row of the focus view (10 drawing units) is at least 12 px high
MIN_ROW_PX = 12


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    with running_jupyter_lab(tmp_path_factory.mktemp("nb7-root"), notebook7=True) as server:
        yield server


@pytest.fixture
def small_page(chromium: Any) -> Iterator[Any]:
    """A 1280x720 page (a projector)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()


def step_lesson5_to_the_end(page: Any) -> None:
    """Click Next through lesson 5's walkthrough, checking the focus view at every step;
    then h.grad and c.grad read -64 and 36 in their boxes and in the narration."""
    wait_for_widget(page, ".gradlab-stepper-frame svg")
    page.locator(".gradlab-stepper").first.scroll_into_view_if_needed()
    wait_for_step(page, 1)
    first = wait_for_picture(page, lambda p: p["step"] == 0)
    total = read_stepper(page)["total"]
    h, c = box_key(page, "h"), box_key(page, "c")
    assert h and c
    for step in range(1, total):
        page.locator(".gradlab-stepper-next").first.click()
        wait_for_step(page, step + 1)
        state = wait_for_picture(page, lambda p, k=step: p["step"] == k)
        assert state["rowPx"] >= MIN_ROW_PX, f"step {step + 1}: text {state['rowPx']} px"
        assert state["lit"] or state["notes"], f"step {step + 1} shows nothing lit"
    assert state["viewBox"] != first["viewBox"]  # the focus followed the steps
    narration = read_stepper(page)["narration"]
    assert "h.grad = -64.0" in narration and "c.grad = 36.0" in narration
    assert "grad: -64." in read_picture(page, h)["box"]
    assert "grad: 36." in read_picture(page, c)["box"]


def zoom_and_click(page: Any) -> None:
    """The wheel zooms the focus view; a click on h's box shows its full data and grad."""
    before = read_picture(page)["viewBox"]
    focus = page.locator(".gradlab-view .gl-focus").first
    box = focus.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, 400)  # out
    zoomed = wait_for_picture(page, lambda p: p["viewBox"] != before)
    width = lambda p: float(p["viewBox"].split()[2])  # noqa: E731
    assert width(zoomed) > float(before.split()[2])
    h = box_key(page, "h")
    click_box(page, h)
    shown = wait_for_picture(page, lambda p: p["detail"].startswith("h\n"))
    assert "data: tensor(2.)" in shown["detail"]
    assert "grad: tensor(-64.)" in shown["detail"]


def test_lesson5_focus_zoom_and_click_in_jupyterlab(
    jupyter_lab: JupyterLab, chromium: Any, small_page: Any
) -> None:
    page = small_page
    write_notebook(jupyter_lab.root_dir / "view.ipynb", CELLS)
    try:
        open_notebook(page, jupyter_lab, "view.ipynb")
        page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
        run_all(page)
        step_lesson5_to_the_end(page)
        zoom_and_click(page)
        assert_widgets_rendered(page)
    finally:
        jupyter_lab.shutdown_kernels()


def test_lesson5_focus_zoom_and_click_in_notebook7(notebook7: JupyterLab, small_page: Any) -> None:
    page = small_page
    write_notebook(notebook7.root_dir / "view.ipynb", CELLS)
    try:
        open_notebook7(page, notebook7, "view.ipynb")
        run_all(page)
        step_lesson5_to_the_end(page)
        zoom_and_click(page)
        assert_widgets_rendered(page)
    finally:
        notebook7.shutdown_kernels()


def test_exported_page_from_file(tmp_path: Path, small_page: Any) -> None:
    """The page steps from file:// with no network: lesson 5 to -64 and 36, focus at
    readable size, zoom, and a click on a matrix box shows every value."""
    import gradlab

    with gradlab.record() as rec:
        w = gradlab.tensor([[float(i * 6 + j) for j in range(6)] for i in range(5)])
        w.requires_grad_()
        loss = (w * 2.0).sum()
        loss.backward()
    walkthrough = gradlab.Walkthrough(gradlab.examples.div_add_graph())
    page = small_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    path = tmp_path / "lesson5.html"
    path.write_text(walkthrough.to_html(), encoding="utf-8")
    page.goto(path.as_uri())
    k = box_key(page, "k")
    assert wait_for_picture(page, lambda p: p["step"] == 0, k)["hidden"]  # not made yet
    for step in range(1, len(walkthrough)):
        page.locator("#next").click()
        state = wait_for_picture(page, lambda p, k=step: p["step"] == k)
        assert state["rowPx"] >= MIN_ROW_PX
    narration = page.locator("#narration").inner_text()
    assert "h.grad = -64.0" in narration and "c.grad = 36.0" in narration
    assert page.locator("#next").is_disabled()
    assert not read_picture(page, k)["hidden"]
    zoom_and_click(page)
    page.keyboard.press("ArrowLeft")
    wait_for_picture(page, lambda p: p["step"] == len(walkthrough) - 2)
    page.locator("#reset").click()
    assert wait_for_picture(page, lambda p: p["step"] == 0, k)["hidden"]

    path = tmp_path / "matrix.html"
    path.write_text(gradlab.Walkthrough(rec).to_html(), encoding="utf-8")
    page.goto(path.as_uri())
    wait_for_picture(page, lambda p: p["step"] == 0)
    key = box_key(page, "w")
    assert "data: 5×6 float32" in read_picture(page, key)["box"]
    click_box(page, key)
    shown = wait_for_picture(page, lambda p: p["detail"].startswith("w\n"))
    assert "29." in shown["detail"] and "…" not in shown["detail"]  # every value

    assert errors == []
    assert all(url.startswith("file:") for url in requests), "the page loaded from the network"
