"""Packaging: README commands agree with CI and pyproject, and the wheel ships the lessons."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.browser import write_notebook

REPO = Path(__file__).resolve().parent.parent
TEST_COMMAND = 'pip install -e ".[test]" && python -m pytest'
LESSONS_COMMAND = 'pip install -e ".[lessons]" && gradlab lessons'


def readme_commands(section: str) -> list[str]:
    """Return the lines of the fenced code blocks under the README heading ``## {section}``."""
    text = (REPO / "README.md").read_text()
    match = re.search(rf"^## {re.escape(section)}\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README.md has no '## {section}' section"
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", match.group(1), re.M | re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_readme_commands() -> None:
    """The README's two commands: set up and run the tests, set up and open the lessons."""
    assert readme_commands("Run the tests") == [TEST_COMMAND]
    assert readme_commands("Open the lessons") == [LESSONS_COMMAND]


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run ends with the README's test command verbatim, so its status is CI's status."""
    [command] = readme_commands("Run the tests")
    script = (REPO / ".ci" / "run").read_text()
    lines = [line.strip() for line in script.splitlines()]
    code = [line for line in lines if line and not line.startswith("#")]
    assert code[-1] == command, "the test command must be the last command of .ci/run"
    assert "set -euo pipefail" in code
    assert "export GRADLAB_REQUIRE_ORACLES=1" in code
    assert "pip install torch==2.13.0" in code
    # first, as a new user: the same command in a fresh venv, before torch and Chromium
    fresh = code[: code.index("pip install torch==2.13.0")]
    assert command in fresh
    assert any(line.startswith("python3 -m venv") for line in fresh)
    assert "unset GRADLAB_REQUIRE_ORACLES" in fresh


def test_license_matches_pyproject() -> None:
    """The LICENSE file is the license pyproject.toml declares."""
    tomllib = pytest.importorskip("tomllib", reason="needs Python 3.11+")
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["license"]
    assert declared == {"text": "MIT"}
    assert (REPO / "LICENSE").read_text().startswith("MIT License\n")


def test_pyproject_extras_and_command() -> None:
    """The extras the README and Binder use exist, and so does the ``gradlab`` command."""
    tomllib = pytest.importorskip("tomllib", reason="needs Python 3.11+")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert {"widgets", "lessons", "test"} <= set(project["optional-dependencies"])
    assert project["scripts"]["gradlab"] == "gradlab.cli:main"


def _copy_project(dest: Path) -> Path:
    """Copy what a wheel is built from (not build output or caches) to ``dest``."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".ipynb_checkpoints")
    dest.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(REPO / name, dest / name)
    shutil.copytree(REPO / "gradlab", dest / "gradlab", ignore=ignore)
    if (REPO / "lessons").is_dir():
        shutil.copytree(REPO / "lessons", dest / "lessons", ignore=ignore)
    return dest


def _isolation_flags() -> list[str]:
    """Build in this environment when it meets pyproject.toml's build requirements (offline,
    fast); else with build isolation, as a user's pip does, fetching them (a fresh venv's
    setuptools 65 has no ``bdist_wheel``)."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import Requirement

    try:
        import tomllib
    except ImportError:  # Python 3.10
        return []
    build = tomllib.loads((REPO / "pyproject.toml").read_text())["build-system"]["requires"]
    for requirement in map(Requirement, build):
        try:
            if not requirement.specifier.contains(version(requirement.name)):
                return []
        except PackageNotFoundError:
            return []
    return ["--no-build-isolation"]


@pytest.mark.slow
def test_wheel_ships_the_lessons(tmp_path: Path) -> None:
    """A wheel carries every lesson file as gradlab/lessons/..., and the package's modules.

    Built from a copy of the project with an extra dummy notebook, so the test holds before
    the real lessons exist. Then the unpacked wheel's ``lessons_source()`` must find them.
    """
    project = _copy_project(tmp_path / "project")
    write_notebook(project / "lessons" / "99_dummy.ipynb", ["1 + 1"])
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", *_isolation_flags()]
        + ["-w", str(tmp_path / "dist"), str(project)],
        check=True,
    )
    [wheel] = (tmp_path / "dist").glob("gradlab-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())

    lessons = [
        p.relative_to(project / "lessons").as_posix()
        for p in (project / "lessons").rglob("*")
        if p.is_file()
    ]
    assert "99_dummy.ipynb" in lessons
    missing = [f for f in lessons if f"gradlab/lessons/{f}" not in names]
    assert not missing, f"lesson files missing from the wheel: {missing}"
    modules = [p.relative_to(project).as_posix() for p in (project / "gradlab").rglob("*.py")]
    assert "gradlab/cli.py" in modules
    missing = [m for m in modules if m not in names]
    assert not missing, f"modules missing from the wheel (no __init__.py?): {missing}"

    unpacked = tmp_path / "unpacked"
    zipfile.ZipFile(wheel).extractall(unpacked)
    found = subprocess.run(
        [sys.executable, "-c", "from gradlab.cli import lessons_source; print(lessons_source())"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(found) == unpacked / "gradlab" / "lessons"


def test_ruff_finds_nothing_to_fix() -> None:
    """The code stays lint-clean and formatted (ruff, configured in pyproject.toml)."""
    root = Path(__file__).resolve().parent.parent
    for command in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command], cwd=root, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
