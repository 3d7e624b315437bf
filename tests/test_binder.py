"""Binder: repo2docker's generated Dockerfile installs gradlab[lessons] on Python 3.11.

``jupyter-repo2docker --no-build --no-run`` only prints the Dockerfile it would build (it
needs no Docker engine and takes well under a second); ``--debug`` makes it print it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dockerfile() -> str:
    """The Dockerfile repo2docker generates for this repository."""
    exe = shutil.which("jupyter-repo2docker")
    if exe is None:
        pytest.fail('jupyter-repo2docker is not installed: pip install -e ".[test]"')
    result = subprocess.run(
        [exe, "--no-build", "--debug", "--no-run", str(REPO)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _decoded(dockerfile: str) -> str:
    """Undo repo2docker's escaping of file names (``-2e`` is ``.``, ``-2d`` is ``-``)."""
    return re.sub(r"-([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), dockerfile)


def test_binder_files() -> None:
    """binder/ pins Python 3.11 and installs this repository with the lessons extra."""
    assert (REPO / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    requirements = (REPO / "binder" / "requirements.txt").read_text().splitlines()
    assert [r for r in requirements if r.strip() and not r.startswith("#")] == ["-e .[lessons]"]


def test_dockerfile_uses_python_311(dockerfile: str) -> None:
    """The conda environment repo2docker picks is its Python 3.11 one."""
    assert "environment.py-3.11-linux-64.lock" in _decoded(dockerfile)


def test_dockerfile_installs_requirements_after_copying_the_repo(dockerfile: str) -> None:
    """``pip install -r binder/requirements.txt`` runs from the repo root, once it is copied."""
    install = '/bin/pip install --no-cache-dir -r "binder/requirements.txt"'
    assert install in dockerfile
    assert "WORKDIR ${REPO_DIR}" in dockerfile
    copy_repo = dockerfile.index("COPY --chown=0:0 src/ ${REPO_DIR}/")
    assert copy_repo < dockerfile.index(install), "`-e .` needs the repository copied first"
