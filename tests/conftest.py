"""Shared fixtures: the PyTorch oracle, and JupyterLab + headless Chromium for widget tests.

Parity tests take the ``oracle`` fixture (tests/oracle.py): torch live when it is installed,
else torch's answers recorded in tests/torch_expected/. Browser tests need Chromium and
playwright; without them they skip with one summary line, except when
GRADLAB_REQUIRE_ORACLES is set (as in .ci/run): then they fail, so CI can never pass by
skipping them. Browser helpers live in tests/browser.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

from tests.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    JupyterLab,
    browser_missing,
    missing_oracle,
    oracles_required,
    running_jupyter_lab,
)
from tests.oracle import RECORD, TORCH_VERSION, Oracle, Recordings, session_mode

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

TORCH_PIN = f"torch=={TORCH_VERSION}"
RECORDINGS = Recordings()

# In CI, property tests draw the same examples every run: a red build is then reproducible,
# never a roll of the dice. Locally they explore new examples each run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# Notebooks under tests/ are test data, not lessons: keep nbval (--nbval) away from them.
collect_ignore_glob = ["*.ipynb"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record-torch",
        action="store_true",
        help="write torch's answers to tests/torch_expected/ (tools/record_torch_expectations.py)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.oracle_mode = session_mode(config.getoption("--record-torch"))
    if config.oracle_mode == RECORD:
        settings.load_profile("ci")  # the same Hypothesis examples each time: stable files
        import torch

        if torch.__version__.split("+")[0] != TORCH_VERSION:
            raise pytest.UsageError(f"record with {TORCH_PIN}, not torch {torch.__version__}")


def _remember(items: list[pytest.Item]) -> None:
    for item in items:
        path, _, test = item.nodeid.partition("::")
        RECORDINGS.collected(Path(path).stem, test)


def pytest_collection_finish(session: pytest.Session) -> None:
    _remember(session.items)


def pytest_deselected(items: list[pytest.Item]) -> None:
    _remember(items)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if session.config.oracle_mode == RECORD:
        for path in RECORDINGS.write():
            print(f"\nrecorded torch's answers in {path}")


BROWSER_MISSING = browser_missing()


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Without Chromium or playwright, the browser tests skip (or fail in CI) before any
    server starts, all with the same reason: ``-ra`` shows them as one summary line."""
    if BROWSER_MISSING and item.get_closest_marker("browser"):
        missing_oracle(f"browser tests need Chromium: {BROWSER_MISSING}")


@pytest.fixture
def oracle(request: pytest.FixtureRequest) -> Iterator[Oracle]:
    """torch's answers to the test's questions: live, or as recorded (tests/oracle.py)."""
    path, _, test = request.node.nodeid.partition("::")
    mode = request.config.oracle_mode
    answers = Oracle(RECORDINGS, Path(path).stem, test, mode, compare=oracles_required())
    yield answers
    answers.finish()


@pytest.fixture
def torch() -> Iterator[ModuleType]:
    """The real ``torch`` module. Parity tests ask the ``oracle`` fixture instead, which
    works without torch too; a test using this one skips when torch is missing (fails
    under GRADLAB_REQUIRE_ORACLES), and fails if it leaves ``torch.get_default_dtype()``
    changed (it is restored first).
    """
    try:
        import torch as torch_module
    except ImportError:
        missing_oracle(f"torch not installed: pip install {TORCH_PIN} to run parity tests")
    dtype = torch_module.get_default_dtype()
    yield torch_module
    changed = torch_module.get_default_dtype()
    if changed != dtype:
        torch_module.set_default_dtype(dtype)
        pytest.fail(f"test changed torch's default dtype to {changed}; it must stay {dtype}")


@pytest.fixture(scope="session")
def jupyter_lab_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder the session's JupyterLab serves; tests write their notebooks here.

    Override this fixture (same name, in a conftest.py) to serve another folder.
    """
    return tmp_path_factory.mktemp("jupyter-lab-root")


@pytest.fixture(scope="session")
def jupyter_lab(jupyter_lab_root: Path) -> Iterator[JupyterLab]:
    """One headless, token-less JupyterLab on a free loopback port for the whole session.

    Has ``.url`` and ``.root_dir``; its process group is killed at the end of the session.
    For a server on a folder of your own, use ``tests.browser.running_jupyter_lab(path)``.
    """
    with running_jupyter_lab(jupyter_lab_root) as lab:
        yield lab


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's headless Chromium driven by Playwright (never a downloaded browser)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_oracle('playwright not installed: pip install -e ".[test]"')
    if not os.access(CHROMIUM, os.X_OK):
        missing_oracle(f"{CHROMIUM} not found: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium: Browser) -> Iterator[Page]:
    """A fresh page in its own browser context (1280x900), closed after the test."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def lab_page(jupyter_lab: JupyterLab, browser_page: Page) -> Iterator[Page]:
    """A browser page for the session's JupyterLab; its kernels are shut down afterwards."""
    try:
        yield browser_page
    finally:
        jupyter_lab.shutdown_kernels()
