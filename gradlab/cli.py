"""The ``gradlab`` command: ``gradlab lessons`` sets up the lesson notebooks and opens JupyterLab.

This module imports only the standard library, so the command starts fast and can explain a
missing JupyterLab instead of crashing on an import. ``python -m gradlab`` runs it too.
"""

from __future__ import annotations

import argparse
import errno
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

START_NOTEBOOK = "00_start_here.ipynb"
DEFAULT_DIR = "gradlab-lessons"
SOURCE_ENV = "GRADLAB_LESSONS_SOURCE"
_SKIPPED = {"__init__.py", "__pycache__"}


def checkout() -> Path | None:
    """The source checkout gradlab runs from (an editable install), or None if installed."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() and (root / "lessons").is_dir() else None


def install_hint(extra: str) -> str:
    """The command that installs one of gradlab's extras, for a checkout or an install.

    >>> install_hint("widgets")  # doctest: +SKIP
    'pip install -e ".[widgets]"'
    """
    root = checkout()
    if root is None:
        return f'pip install "gradlab[{extra}]"'
    where = "" if root == Path.cwd().resolve() else f" (in {root})"
    return f'pip install -e ".[{extra}]"{where}'


def missing_jupyterlab() -> str:
    return f"JupyterLab is not installed. Install the lessons extra: {install_hint('lessons')}"


def lessons_source() -> Path:
    """Return the folder holding the lesson notebooks to copy.

    A regular install carries them inside the package as ``gradlab/lessons`` (setup.py maps
    the repository's ``lessons/`` there); an editable install or a source checkout uses the
    repository's top-level ``lessons/`` folder directly. The environment variable
    ``GRADLAB_LESSONS_SOURCE`` names another folder instead (for tests, or an instructor's
    own notebooks).
    """
    override = os.environ.get(SOURCE_ENV)
    if override:
        return Path(override).expanduser().resolve()
    package_dir = Path(__file__).resolve().parent
    shipped = package_dir / "lessons"
    if shipped.is_dir():
        return shipped
    checkout = package_dir.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "lessons").is_dir():
        return checkout / "lessons"
    raise FileNotFoundError(f"gradlab's lesson notebooks were not found next to {package_dir}")


def _lesson_files(source: Path) -> list[Path]:
    """List the lesson files under ``source``, relative to it, skipping hidden and cache files."""
    files = []
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if path.is_file() and not any(p.startswith(".") or p in _SKIPPED for p in rel.parts):
            files.append(rel)
    return files


def copy_lessons(source: Path, dest: Path) -> tuple[list[Path], list[Path]]:
    """Copy the lessons from ``source`` into ``dest``, never overwriting a file already there.

    Returns ``(copied, kept)``: relative paths of the files copied, and of the files left
    alone because the learner already has them (possibly edited).
    """
    dest.mkdir(parents=True, exist_ok=True)
    copied: list[Path] = []
    kept: list[Path] = []
    for rel in _lesson_files(source):
        target = dest / rel
        if target.exists():
            kept.append(rel)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / rel, target)
        copied.append(rel)
    return copied, kept


def jupyterlab_available() -> bool:
    """Tell whether JupyterLab can be imported by this Python."""
    return importlib.util.find_spec("jupyterlab") is not None


def jupyterlab_command(
    folder: Path, *, no_browser: bool = False, port: int | None = None, extra: Sequence[str] = ()
) -> list[str]:
    """Build the command line that runs JupyterLab on ``folder``, opening the start notebook."""
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}"]
    if no_browser:
        cmd.append("--no-browser")
    if port is not None:
        cmd.append(f"--ServerApp.port={port}")
        if not any(arg.startswith("--ServerApp.port_retries") for arg in extra):
            cmd.append("--ServerApp.port_retries=0")  # that port or none, never another
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        cmd.append("--allow-root")  # containers often run as root; JupyterLab refuses otherwise
    cmd.extend(extra)
    start = folder / START_NOTEBOOK
    if start.is_file():
        cmd.append(str(start))
    return cmd


def _build_parser() -> argparse.ArgumentParser:
    """Describe the command line."""
    from gradlab import __version__

    parser = argparse.ArgumentParser(
        prog="gradlab", description="Learn how PyTorch's autograd works, inside Jupyter."
    )
    parser.add_argument("--version", action="version", version=f"gradlab {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    lessons = commands.add_parser(
        "lessons",
        help="copy the lesson notebooks into a folder and open them in JupyterLab",
        description=(
            "Copy the lesson notebooks into a working folder (files you already have there are "
            "kept as they are) and open them in JupyterLab. Arguments after -- go to JupyterLab "
            "unchanged, e.g. gradlab lessons -- --allow-root"
        ),
    )
    lessons.add_argument(
        "--dir",
        type=Path,
        default=Path(DEFAULT_DIR),
        help=f"working folder for your copy of the lessons (default: ./{DEFAULT_DIR})",
    )
    lessons.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    lessons.add_argument("--port", type=int, help="port for JupyterLab (default: its own)")
    return parser


def folder_problem(folder: Path) -> str | None:
    """Why the lessons cannot be written into ``folder``, or None if they can."""
    if folder.exists() and not folder.is_dir():
        return "it is a file, not a folder"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def port_problem(port: int) -> str | None:
    """Why JupyterLab could not listen on ``port`` (on localhost), or None if it can."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} is busy: choose another with --port, or stop what uses it"
            return f"port {port} cannot be used: {exc.strerror or exc}"
    return None


def run_lessons(folder: Path, *, no_browser: bool, port: int | None, extra: Sequence[str]) -> int:
    """Copy the lessons into ``folder`` and run JupyterLab there until it stops; return its code."""
    if not jupyterlab_available():
        print(missing_jupyterlab(), file=sys.stderr)
        return 1
    problem = None if port is None else port_problem(port)
    if problem:
        print(f"gradlab lessons: {problem}", file=sys.stderr)
        return 1
    folder = folder.expanduser().resolve()
    problem = folder_problem(folder)
    if problem:
        print(f"gradlab lessons: cannot use --dir {folder}: {problem}", file=sys.stderr)
        return 1
    try:
        source = lessons_source()
        if not source.is_dir():
            raise FileNotFoundError(f"{source} is not a folder")
    except FileNotFoundError as exc:
        print(f"Cannot find the lesson notebooks: {exc}", file=sys.stderr)
        return 1
    try:
        copied, kept = copy_lessons(source, folder)
    except OSError as exc:
        print(f"gradlab lessons: cannot copy the lessons into {folder}: {exc}", file=sys.stderr)
        return 1
    if copied:
        print(f"Copied {len(copied)} lesson file(s) into {folder}")
    if kept:
        names = ", ".join(str(p) for p in kept)
        print(f"Kept your own copies (not overwritten): {names}")
        print("Delete or rename a file to get the original lesson back.")
    cmd = jupyterlab_command(folder, no_browser=no_browser, port=port, extra=extra)
    if "--allow-root" in cmd and "--allow-root" not in extra:
        print("Running as root: starting JupyterLab with --allow-root")
    return _launch(cmd, folder)


def _launch(cmd: list[str], cwd: Path) -> int:
    """Run ``cmd`` in ``cwd`` as JupyterLab's own process, so Ctrl-C and signals reach it."""
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        os.chdir(cwd)
        os.execv(cmd[0], cmd)  # does not return
    proc = subprocess.Popen(cmd, cwd=cwd)
    while True:
        try:
            return proc.wait()
        except KeyboardInterrupt:  # JupyterLab got the Ctrl-C too and decides whether to stop
            continue


def main(argv: list[str] | None = None) -> int:
    """Run the ``gradlab`` command line; return the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in args:
        cut = args.index("--")
        args, extra = args[:cut], args[cut + 1 :]
    parser = _build_parser()
    options = parser.parse_args(args)
    if options.command is None:
        parser.print_help()
        return 0
    if options.command == "lessons":
        return run_lessons(
            options.dir, no_browser=options.no_browser, port=options.port, extra=extra
        )
    return 2  # pragma: no cover - argparse rejects unknown commands first


if __name__ == "__main__":
    sys.exit(main())
