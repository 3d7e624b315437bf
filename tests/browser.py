"""Helpers for testing widgets in a real JupyterLab driven by headless Chromium.

Follows shared/recipes/browser-test.md. The fixtures in tests/conftest.py build on these:
``jupyter_lab`` (one server per test session) and ``lab_page`` (a fresh browser page whose
kernels are shut down afterwards). A test writes notebooks into ``jupyter_lab.root_dir``,
then::

    open_notebook(lab_page, jupyter_lab, "demo.ipynb")
    run_all(lab_page)
    wait_for_widget(lab_page, "button.jupyter-button")
    lab_page.locator("button.jupyter-button").click()
    assert_widgets_rendered(lab_page)

ipywidgets 8 DOM classes: ``button.jupyter-button``, ``.widget-html-content``,
``.widget-image``, ``.widget-output``, ``.widget-vbox``, ``.widget-slider``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

# Debian's Chromium; GRADLAB_CHROMIUM names another one (or a missing path, to run the
# suite as a machine without a browser does)
CHROMIUM = os.environ.get("GRADLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REQUIRE_ORACLES_ENV = "GRADLAB_REQUIRE_ORACLES"
RENDER_FAILURES = ("Error displaying widget", "VBox(children=", "HBox(children=")

_KERNEL_IDLE_JS = """() => {
  const w = window.jupyterapp?.shell?.currentWidget;
  return w?.sessionContext?.session?.kernel?.status === 'idle';
}"""


def oracles_required() -> bool:
    """Tell whether missing test oracles (torch, chromium, ...) must fail instead of skip."""
    return os.environ.get(REQUIRE_ORACLES_ENV, "") not in ("", "0")


def missing_oracle(reason: str) -> NoReturn:
    """Skip the current test for a missing tool, or fail it when oracles are required (CI)."""
    if oracles_required():
        pytest.fail(f"{reason} ({REQUIRE_ORACLES_ENV} is set)", pytrace=False)
    pytest.skip(reason)


def browser_missing() -> str | None:
    """Why the browser tests cannot run on this machine, or None when they can."""
    if importlib.util.find_spec("playwright") is None:
        return 'playwright is not installed (pip install -e ".[test]")'
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} not found (apt-get install chromium, or set GRADLAB_CHROMIUM)"
    return None


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http_ok(
    url: str,
    *,
    timeout: float = 60.0,
    headers: dict[str, str] | None = None,
    proc: subprocess.Popen[bytes] | None = None,
) -> None:
    """Poll ``url`` until it answers 200; raise TimeoutError, or RuntimeError if ``proc`` dies."""
    request = urllib.request.Request(url, headers=headers or {})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before {url} was up")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer 200 within {timeout:.0f} s")


def stop_process_group(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Stop a process started with ``start_new_session=True`` and everything in its group."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=timeout)
        except ProcessLookupError:
            pass
    # kernels live in the same group and may outlast the server
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass
class JupyterLab:
    """A running headless JupyterLab server: open ``url`` + "/lab/tree/NAME" for a notebook."""

    url: str
    root_dir: Path
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        """Return the server's log so far (for failure messages)."""
        return self.log_path.read_text(errors="replace")

    def api(self, method: str, path: str) -> object:
        """Call the server's REST API (no token needed) and return the decoded JSON, if any."""
        request = urllib.request.Request(self.url + path, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Shut down every kernel session, so notebooks opened by one test don't pile up."""
        for session in self.api("GET", "/api/sessions") or []:  # type: ignore[union-attr]
            try:
                self.api("DELETE", f"/api/sessions/{session['id']}")
            except urllib.error.HTTPError:
                pass


def jupyter_lab_command(root_dir: Path, port: int) -> list[str]:
    """Return the recipe's command line for a token-less headless JupyterLab on loopback."""
    return [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        "--ServerApp.disable_check_xsrf=True",
        f"--ServerApp.root_dir={root_dir}",
        "--expose-app-in-browser",
        f"--LabApp.user_settings_dir={root_dir / '.user-settings'}",
        f"--LabApp.workspaces_dir={root_dir / '.workspaces'}",
    ]


@contextmanager
def running_jupyter_lab(root_dir: Path, *, timeout: float = 90.0) -> Iterator[JupyterLab]:
    """Run JupyterLab on ``root_dir`` for the duration of the ``with`` block."""
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        missing_oracle('JupyterLab not installed: pip install -e ".[test]"')
    root_dir = Path(root_dir).resolve()
    root_dir.mkdir(parents=True, exist_ok=True)
    settings = root_dir / ".user-settings/@jupyterlab/apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    port = free_port()
    log_path = root_dir / ".jupyter-lab.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            jupyter_lab_command(root_dir, port),
            cwd=root_dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    lab = JupyterLab(f"http://127.0.0.1:{port}", root_dir, port, proc, log_path)
    try:
        try:
            wait_for_http_ok(lab.url + "/api/status", timeout=timeout, proc=proc)
        except (TimeoutError, RuntimeError) as exc:
            pytest.fail(f"JupyterLab did not start: {exc}\n--- server log ---\n{lab.log()}")
        yield lab
    finally:
        stop_process_group(proc)


def write_notebook(path: Path, cells: Sequence[str]) -> Path:
    """Write a Python notebook at ``path`` with one code cell per string; return the path."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def wait_idle(page: Page, timeout: float = 60.0) -> None:
    """Wait until the current notebook's kernel reports ``idle``."""
    page.wait_for_function(_KERNEL_IDLE_JS, timeout=timeout * 1000)


def open_notebook(page: Page, lab: JupyterLab, name: str, timeout: float = 60.0) -> None:
    """Open ``name`` (relative to the server root) in Lab and wait until its kernel is idle."""
    page.goto(f"{lab.url}/lab/tree/{name}?reset", timeout=timeout * 1000)
    page.wait_for_function(
        "name => window.jupyterapp?.shell?.currentWidget?.context?.path === name",
        arg=name,
        timeout=timeout * 1000,
    )
    wait_idle(page, timeout)


def run_all(page: Page, timeout: float = 60.0) -> None:
    """Run every cell of the current notebook, waiting until execution finished."""
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    wait_idle(page, timeout)


def wait_for_widget(page: Page, selector: str, timeout: float = 30.0) -> None:
    """Wait until ``selector`` is in the page; fail at once if a widget failed to render.

    A widget whose front-end is missing shows as text (``VBox(children=...``): waiting for its
    DOM would only time out, so the failure is reported as soon as that text appears.
    """
    page.wait_for_function(
        """([selector, failures]) => {
          if (document.querySelector(selector)) return true;
          const text = document.querySelector('.jp-Notebook')?.innerText ?? '';
          return failures.some(f => text.includes(f));
        }""",
        arg=[selector, list(RENDER_FAILURES)],
        timeout=timeout * 1000,
    )
    assert_widgets_rendered(page)


def assert_widgets_rendered(page: Page) -> None:
    """Fail if any widget fell back to its text repr or showed a rendering error."""
    text = page.locator(".jp-Notebook").inner_text()
    for failure in RENDER_FAILURES:
        assert failure not in text, f"widget did not render: found {failure!r}"


# --- the gradlab stepper widget ------------------------------------------------------

COUNTER = re.compile(r"step (\d+) / (\d+) · (\w+)")

# Everything a test needs from the stepper's DOM, read in one round trip.
_READ_STEPPER_JS = """() => {
  const q = part => document.querySelector('.gradlab-stepper-' + part);
  const content = part => q(part)?.querySelector('.widget-html-content');
  return {
    counter: content('counter')?.innerText ?? '',
    source: content('source')?.innerText ?? '',
    narration: content('narration')?.innerText ?? '',
    frame: content('frame')?.innerHTML ?? '',
    prevDisabled: q('prev')?.disabled ?? null,
    nextDisabled: q('next')?.disabled ?? null,
  };
}"""


def _stepper_state(page: Page) -> dict[str, Any] | None:
    """The first stepper's state, or None while it shows no step counter."""
    state = page.evaluate(_READ_STEPPER_JS)
    match = COUNTER.search(state["counter"])
    if not match:
        return None
    state["step"], state["total"], state["phase"] = int(match[1]), int(match[2]), match[3]
    return state


def read_stepper(page: Page) -> dict[str, Any]:
    """The first gradlab stepper on the page: counter (parsed), source, narration, frame,
    and whether Prev/Next are disabled."""
    state = _stepper_state(page)
    assert state is not None, f"no step counter in {page.evaluate(_READ_STEPPER_JS)!r}"
    return state


def wait_for_stepper(
    page: Page, condition: Callable[[dict[str, Any]], bool], timeout: float = 15.0
) -> dict[str, Any]:
    """Wait until the stepper's state (as :func:`read_stepper` gives it) meets ``condition``
    and return that state. The kernel updates the parts one message at a time, so a test
    waits for what it expects instead of reading right after a click."""
    deadline = time.monotonic() + timeout
    while True:
        state = _stepper_state(page)
        if state is not None and condition(state):
            return state
        if time.monotonic() > deadline:
            raise AssertionError(f"the stepper never met the condition; it shows {state}")
        page.wait_for_timeout(50)


def wait_until_settled(
    page: Page, consistent: Callable[[dict[str, Any]], bool], timeout: float = 30.0
) -> dict[str, Any]:
    """Wait until the stepper shows a ``consistent`` state that stays the same once the
    kernel is idle (e.g. after pausing Play, while the kernel catches up with the slider)."""
    deadline = time.monotonic() + timeout
    while True:
        state = wait_for_stepper(page, consistent, max(deadline - time.monotonic(), 0.1))
        wait_idle(page, max(deadline - time.monotonic(), 0.1))
        if _stepper_state(page) == state:
            return state


def wait_for_step(page: Page, step: int) -> None:
    """Wait until the stepper shows ``step`` (1-based), buttons included."""
    page.wait_for_function(
        """step => {
          const q = part => document.querySelector('.gradlab-stepper-' + part);
          const c = q('counter')?.querySelector('.widget-html-content')?.innerText ?? '';
          const m = c.match(/^step (\\d+) \\/ (\\d+)/);
          return !!m && +m[1] === step && q('prev').disabled === (step === 1)
            && q('next').disabled === (step === +m[2]);
        }""",
        arg=step,
        timeout=10_000,
    )
