"""The lesson notebooks are built from their sources, and their saved outputs are clean.

nbval (``python -m pytest lessons``) checks that the saved outputs are what the code prints;
these tests check what nbval cannot: that each notebook is the build of its source in
lessons/src/, that no output leaks the build machine, and that exercises keep their answers
out of the saved outputs.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"
SOURCES = sorted((LESSONS / "src").glob("*.md"))
NOTEBOOKS = sorted(LESSONS.glob("*.ipynb"))


def _build_tool():
    spec = importlib.util.spec_from_file_location("build_lessons", ROOT / "tools/build_lessons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _outputs_text(cell: nbformat.NotebookNode) -> str:
    """Everything a code cell's saved outputs show as text (not pictures)."""
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.extend(output.get("traceback", []))
        data = output.get("data", {})
        parts.append(data.get("text/plain", ""))
        parts.append(data.get("text/html", ""))
    return "\n".join(parts)


def test_every_lesson_has_one_source_and_one_notebook():
    assert [p.stem for p in SOURCES] == [p.stem for p in NOTEBOOKS]
    assert len(NOTEBOOKS) >= 7


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_is_the_build_of_its_source(source: Path):
    """Editing a source without rebuilding is caught here (the cells would differ)."""
    built = _build_tool().read_source(source)
    saved = nbformat.read(LESSONS / f"{source.stem}.ipynb", as_version=4)
    assert [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in saved.cells] == [
        (c.cell_type, c.source, c.metadata.get("tags", [])) for c in built.cells
    ]
    hidden = [c.metadata.get("jupyter", {}) for c in built.cells]
    assert [c.metadata.get("jupyter", {}) for c in saved.cells] == hidden


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_saved_outputs_hold_no_machine_details(notebook: Path):
    nb = nbformat.read(notebook, as_version=4)
    text = "\n".join(_outputs_text(c) for c in nb.cells if c.cell_type == "code")
    assert not re.search(r"0x[0-9a-fA-F]{6,}", text), "a memory address in a saved output"
    for leak in (str(ROOT), "site-packages", "/tmp/", "ipykernel_", "Traceback (most recent"):
        assert leak not in text
    assert all("execution" not in c.metadata for c in nb.cells), "timings are not saved"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_errors_are_short_and_only_where_expected(notebook: Path):
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if errors:
            assert "raises-exception" in cell.metadata.get("tags", [])
            assert len(errors[0].traceback) == 1  # %xmode Minimal: "Error: message" only


def test_widget_ids_are_numbered_in_order():
    """Rebuilding gives the same widget ids, so an unchanged lesson gives no diff."""
    nb = nbformat.read(LESSONS / "01_multiply.ipynb", as_version=4)
    first = _build_tool()._widget_ids_in_order(nb)[0]
    assert first == hashlib.md5(b"01_multiply-0").hexdigest()
