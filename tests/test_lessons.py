"""The lesson notebooks are built from their sources, and their saved outputs are clean.

nbval (``python -m pytest lessons``) checks that the saved outputs are what the code prints;
these tests check what nbval cannot: that each notebook is the build of its source in
lessons/src/, that no output leaks the build machine, and that exercises keep their answers
out of the saved outputs.
"""

from __future__ import annotations

import ast
import asyncio
import copy
import hashlib
import importlib.util
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from gradlab import cli
from gradlab.checking import UNANSWERED
from gradlab.lesson_solutions import with_solutions

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


# --- exercises ---------------------------------------------------------------------------


def _tags(cell: nbformat.NotebookNode) -> list[str]:
    return cell.metadata.get("tags", [])


def _exercises(nb: nbformat.NotebookNode) -> list[tuple[nbformat.NotebookNode, ...]]:
    """(exercise, check, solution) cells: an exercise is always followed by those two."""
    cells = nb.cells
    return [tuple(cells[i : i + 3]) for i, c in enumerate(cells) if "exercise" in _tags(c)]


def _assigned(source: str) -> dict[str, ast.expr]:
    """The names a cell assigns, with their value expressions (one plain assignment each)."""
    statements = ast.parse(source).body
    assert all(isinstance(s, ast.Assign) and len(s.targets) == 1 for s in statements), source
    return {s.targets[0].id: s.value for s in statements}


def _value(expression: ast.expr):
    """A solution's value: numbers, lists, tuples, None, True/False and arithmetic (1 / 3)."""
    names = {n.id for n in ast.walk(expression) if isinstance(n, ast.Name)}
    assert not names, f"a solution is a plain value, not code using {names}"
    return eval(compile(ast.Expression(expression), "<solution>", "eval"), {"__builtins__": {}})


def _numbers(value) -> list[float]:
    if isinstance(value, (list, tuple)):
        return [x for item in value for x in _numbers(item)]
    return [float(value)] if isinstance(value, (int, float)) else []


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_lesson_has_exercises_made_of_guess_check_and_hidden_solution(notebook: Path):
    nb = nbformat.read(notebook, as_version=4)
    exercises = _exercises(nb)
    assert len(exercises) >= (3 if notebook.stem.startswith("06") else 2)
    for guess, checking, solution in exercises:
        guesses = _assigned(guess.source)
        assert guesses and all(
            isinstance(v, ast.Constant) and v.value is Ellipsis for v in guesses.values()
        ), "an exercise only assigns the placeholder ... to each guess"
        checked = [
            call.args[0].id
            for call in ast.walk(ast.parse(checking.source))
            if isinstance(call, ast.Call)
            and ast.unparse(call.func) == "gradlab.check"
            and isinstance(call.args[0], ast.Name)
        ]
        assert sorted(checked) == sorted(guesses), "the next cell checks every guess"
        assert "solution" in _tags(solution)
        assert solution.metadata["jupyter"]["source_hidden"] is True
        answers = _assigned(solution.source)
        assert sorted(answers) == sorted(guesses)
        for value in answers.values():
            _value(value)  # a solution is a plain value, readable at a glance
        assert solution.outputs == []
    solutions = [c for c in nb.cells if "solution" in _tags(c)]
    assert len(solutions) == len(exercises), "every solution belongs to an exercise"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_saved_checks_show_the_unanswered_state_never_the_answer(notebook: Path):
    nb = nbformat.read(notebook, as_version=4)
    for _guess, checking, solution in _exercises(nb):
        text = _outputs_text(checking)
        assert text.strip() == UNANSWERED
        answers = [_value(v) for v in _assigned(solution.source).values()]
        shown = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", text)]
        for number in _numbers(answers):
            assert all(abs(number - x) > 1e-9 for x in shown), f"{number} in {text!r}"


@pytest.mark.slow
def test_the_solutions_copies_answer_every_exercise(tmp_path: Path):
    """Run as the instructor copy, every check of every lesson says ✓: the solutions are
    right. (The lessons run side by side, each in its own kernel.)"""
    from nbclient import NotebookClient

    answered, expected = {}, {}
    for notebook in NOTEBOOKS:
        nb = nbformat.read(notebook, as_version=4)
        expected[notebook.stem] = {c.id: "✓ Right." for _g, c, _s in _exercises(nb)}
        answered[notebook.stem] = nbformat.from_dict(with_solutions(copy.deepcopy(nb)))
        for cell in answered[notebook.stem].cells:
            if "solution" in _tags(cell):
                assert "source_hidden" not in cell.metadata.get("jupyter", {})

    notebooks = list(answered.values())

    async def run_all() -> None:
        clients = [NotebookClient(nb, timeout=300, kernel_name="python3") for nb in notebooks]
        await asyncio.gather(*(c.async_execute(cwd=str(tmp_path)) for c in clients))

    # in a thread of its own: an event loop may already run in this one (Playwright's)
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, run_all()).result()
    verdicts = {
        stem: {c.id: _outputs_text(c).strip() for c in nb.cells if c.id in expected[stem]}
        for stem, nb in answered.items()
    }
    assert verdicts == expected


def test_solutions_copy_moves_each_solution_before_its_check():
    nb = nbformat.read(LESSONS / "01_multiply.ipynb", as_version=4)
    triples = _exercises(nb)
    answered = with_solutions(copy.deepcopy(nb))
    ids = [c.id for c in answered.cells]
    assert sorted(ids) == sorted(c.id for c in nb.cells), "no cell lost or added"
    for guess, checking, solution in triples:
        at = ids.index(guess.id)
        assert ids[at : at + 3] == [guess.id, solution.id, checking.id]
        assert answered.cells[at + 2].outputs == []


def test_lessons_command_with_solutions_opens_the_instructor_copy(tmp_path: Path, monkeypatch):
    launched = []
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "lessons_source", lambda: LESSONS)
    monkeypatch.setattr(cli, "jupyterlab_available", lambda: True)
    monkeypatch.setattr(cli, "_launch", lambda cmd, cwd: launched.append(cwd) or 0)
    assert cli.main(["lessons", "--solutions", "--no-browser"]) == 0
    folder = tmp_path / cli.SOLUTIONS_DIR
    assert launched == [folder]
    assert sorted(p.name for p in folder.iterdir()) == [p.name for p in NOTEBOOKS]  # no src/
    nb = nbformat.read(folder / "01_multiply.ipynb", as_version=4)
    solutions = [c for c in nb.cells if "solution" in _tags(c)]
    assert solutions and all("jupyter" not in c.metadata for c in solutions)
    assert cli.main(["lessons", "--no-browser"]) == 0  # the learner's copy is another folder
    learner = nbformat.read(tmp_path / cli.DEFAULT_DIR / "01_multiply.ipynb", as_version=4)
    assert all(
        c.metadata["jupyter"]["source_hidden"] for c in learner.cells if "solution" in _tags(c)
    )
