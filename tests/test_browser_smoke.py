"""Smoke test of the browser fixtures: an ipywidgets button updates an HTML widget in Lab."""

from __future__ import annotations

import pytest

from tests.browser import (
    JupyterLab,
    assert_widgets_rendered,
    open_notebook,
    run_all,
    wait_for_widget,
    write_notebook,
)

pytestmark = pytest.mark.browser

CELLS = [
    "import ipywidgets as widgets",
    """\
label = widgets.HTML(value="<b>not clicked</b>")
button = widgets.Button(description="Click me")

def on_click(_):
    label.value = "<b>clicked</b>"

button.on_click(on_click)
widgets.VBox([button, label])""",
]


def test_button_click_updates_html(jupyter_lab: JupyterLab, lab_page) -> None:
    """Run a widget notebook in Lab, click its button and see the HTML widget change."""
    write_notebook(jupyter_lab.root_dir / "smoke.ipynb", CELLS)
    open_notebook(lab_page, jupyter_lab, "smoke.ipynb")
    run_all(lab_page)

    wait_for_widget(lab_page, ".widget-html-content")
    html = lab_page.locator(".widget-html-content")
    assert html.inner_text() == "not clicked"
    lab_page.locator("button.jupyter-button", has_text="Click me").click()
    lab_page.wait_for_function(
        "() => document.querySelector('.widget-html-content')?.innerText === 'clicked'"
    )
    assert_widgets_rendered(lab_page)
