"""Regenerate docs/stepper.png, the README's picture of the stepper: lesson 5's program in
JupyterLab, stepped to the first backward step that runs DivBackward0, at twice the pixel
density. Needs Chromium (/usr/bin/chromium, or GRADLAB_CHROMIUM) and the test extra.

    python tools/screenshot_stepper.py [output.png]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.browser import (  # noqa: E402  (the repository root is on the path first)
    CHROMIUM,
    CHROMIUM_ARGS,
    open_notebook,
    run_all,
    running_jupyter_lab,
    wait_for_stepper,
    wait_for_widget,
    write_notebook,
)

CELLS = [
    "import gradlab\n\nrec = gradlab.examples.div_add_graph()",
    "gradlab.widgets.Stepper(gradlab.Walkthrough(rec))",
]


def main(out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as root, running_jupyter_lab(Path(root)) as lab:
        write_notebook(lab.root_dir / "stepper.ipynb", CELLS)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=2)
            open_notebook(page, lab, "stepper.ipynb")
            page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
            run_all(page)
            wait_for_widget(page, ".gradlab-stepper-frame svg")
            state = wait_for_stepper(page, lambda s: True)
            while not (state["phase"] == "backward" and state["narration"].startswith("Div")):
                if state["step"] == state["total"]:
                    raise SystemExit("no backward step narrates DivBackward0")
                page.locator(".gradlab-stepper-next").click()
                state = wait_for_stepper(page, lambda s, k=state["step"]: s["step"] == k + 1)
            stepper = page.locator(".gradlab-stepper")
            stepper.evaluate("el => el.scrollIntoView({block: 'start'})")
            out.parent.mkdir(parents=True, exist_ok=True)
            stepper.screenshot(path=str(out))
            browser.close()
    print(f"wrote {out} (step {state['step']} of {state['total']})")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "stepper.png")
