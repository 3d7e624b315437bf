"""Shared fixtures: the PyTorch oracle, and JupyterLab + headless Chromium for widget tests.

Tests that need a tool which may be missing (torch, chromium, playwright, JupyterLab) skip
with an install hint, except when GRADLAB_REQUIRE_ORACLES is set (as in .ci/run): then they
fail, so CI can never pass by skipping them. Browser helpers live in tests/browser.py.
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
    missing_oracle,
    running_jupyter_lab,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

TORCH_PIN = "torch==2.13.0"

# In CI, property tests draw the same examples every run: a red build is then reproducible,
# never a roll of the dice. Locally they explore new examples each run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# Notebooks under tests/ are test data, not lessons: keep nbval (--nbval) away from them.
collect_ignore_glob = ["*.ipynb"]


@pytest.fixture
def torch() -> Iterator[ModuleType]:
    """The real ``torch`` module, the reference gradlab is compared against.

    Skips when torch is missing (fails under GRADLAB_REQUIRE_ORACLES), and fails a test that
    leaves ``torch.get_default_dtype()`` changed (it is restored first).
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
