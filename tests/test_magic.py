"""The %%walkthrough cell magic, in an IPython shell and in an executed notebook."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from nbclient import NotebookClient

import gradlab
import gradlab.magic

pytest.importorskip("ipywidgets")

CELL = """\
a = gradlab.tensor(2.0, requires_grad=True)
b = gradlab.tensor(3.0)
c = a * b
c.backward()
"""
FAILING_CELL = """\
a = gradlab.tensor(2.0, requires_grad=True)
c = a * 3
e = c * c
c += 1
e.backward()
"""


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    """An IPython shell with gradlab imported and the extension loaded."""
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "gradlab")
    ip.run_cell("import gradlab")
    yield ip
    ip.reset()


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> list:
    """What the magic displays."""
    displayed: list = []
    monkeypatch.setattr(gradlab.magic, "display", displayed.append)
    return displayed


def test_cell_runs_in_the_notebook_namespace_and_names_the_tensors(shell, shown):
    result = shell.run_cell("%%walkthrough\n" + CELL)
    assert result.success
    assert repr(shell.user_ns["a"].grad) == "tensor(3.)"  # the cell's variables stay defined
    [walk] = shown
    assert isinstance(walk, gradlab.Walkthrough)
    for var in "abc":
        assert walk.recording.name_of(shell.user_ns[var]) == var
    assert walk.frames[0].step.source == "a = gradlab.tensor(2.0, requires_grad=True)"
    assert walk.frames[0].step.lineno == 1  # the cell's own line numbers
    assert "_gradlab_walkthrough_recording" not in shell.user_ns


def test_direction_option_reaches_the_walkthrough(shell, shown, monkeypatch):
    made = []
    monkeypatch.setattr(gradlab, "Walkthrough", lambda rec, direction: made.append(direction))
    shell.run_cell("%%walkthrough --direction TB\n" + CELL)
    shell.run_cell("%%walkthrough\n" + CELL)
    assert made == ["TB", "LR"]


def test_bad_option_is_a_usage_error_and_runs_nothing(shell, shown):
    with pytest.raises(UsageError):
        shell.run_cell_magic("walkthrough", "--direction XY", CELL)
    assert "a" not in shell.user_ns and shown == []


def test_an_error_in_the_cell_is_the_last_step_and_still_raised(shell, shown):
    result = shell.run_cell("%%walkthrough\n" + FAILING_CELL)
    assert isinstance(result.error_in_exec, RuntimeError)
    assert str(result.error_in_exec).startswith("one of the variables needed for gradient")
    [walk] = shown
    walk.goto(len(walk) - 1)
    assert walk.phase == "error"
    assert walk.source == "e.backward()"
    assert "_gradlab_walkthrough_recording" not in shell.user_ns


def test_an_error_outside_gradlab_is_a_step_too(shell, shown):
    result = shell.run_cell("%%walkthrough\nx = gradlab.tensor(1.0)\ny = 1 / 0\n")
    assert isinstance(result.error_in_exec, ZeroDivisionError)
    [walk] = shown
    walk.goto(len(walk) - 1)
    assert (walk.phase, walk.source, walk.frame.step.lineno) == ("error", "y = 1 / 0", 2)


def test_a_syntax_error_shows_no_stepper(shell, shown):
    result = shell.run_cell("%%walkthrough\nx = (\n")
    assert isinstance(result.error_in_exec, SyntaxError)
    assert shown == []


def test_a_cell_without_tensors_says_so(shell, shown, capsys):
    assert shell.run_cell("%%walkthrough\nx = 1 + 1\n").success
    assert shown == [] and shell.user_ns["x"] == 2
    assert "Nothing to step through" in capsys.readouterr().out


def test_the_magic_in_an_executed_notebook(tmp_path: Path):
    cells = [
        "import gradlab\n%load_ext gradlab\n%xmode Minimal",
        "%%walkthrough --direction TB\n" + CELL,
        "print(a.grad, c.grad_fn.name())",
        "%%walkthrough\n" + FAILING_CELL,
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute(
        cwd=str(tmp_path)
    )
    walked, printed, failed = (nb.cells[i].outputs for i in (1, 2, 3))
    assert [o.output_type for o in walked] == ["display_data"]
    assert "application/vnd.jupyter.widget-view+json" in walked[0].data
    assert printed[0].text == "tensor(3.) MulBackward0\n"
    assert [o.output_type for o in failed] == ["display_data", "error"]
    assert "application/vnd.jupyter.widget-view+json" in failed[0].data
    assert failed[1].ename == "RuntimeError"
    assert len(failed[1].traceback) == 1
