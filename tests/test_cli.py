"""The ``gradlab lessons`` command: copying the lessons safely, and really starting JupyterLab.

The tests use their own dummy lesson folder (``GRADLAB_LESSONS_SOURCE`` or a monkeypatched
``lessons_source``), so they do not depend on the real lessons.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from gradlab import cli
from tests.browser import free_port, stop_process_group, wait_for_http_ok, write_notebook

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A dummy shipped-lessons folder, with files that must not be copied."""
    src = tmp_path / "shipped"
    write_notebook(src / cli.START_NOTEBOOK, ["print('start here')"])
    write_notebook(src / "01_mul.ipynb", ["2 * 3"])
    (src / "img").mkdir()
    (src / "img" / "graph.svg").write_text("<svg/>")
    (src / "__init__.py").write_text("")
    (src / ".ipynb_checkpoints").mkdir()
    (src / ".ipynb_checkpoints" / "01_mul-checkpoint.ipynb").write_text("{}")
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "x.pyc").write_bytes(b"")
    return src


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Map every file under ``folder`` to its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_copy_lessons_copies_only_missing_files(source: Path, tmp_path: Path) -> None:
    """A learner's edited lesson is kept; missing lessons and assets are copied."""
    dest = tmp_path / "work"
    dest.mkdir()
    edited = b'{"my": "edits"}'
    (dest / "01_mul.ipynb").write_bytes(edited)
    before = _snapshot(source)

    copied, kept = cli.copy_lessons(source, dest)

    assert sorted(map(str, copied)) == [cli.START_NOTEBOOK, "img/graph.svg"]
    assert kept == [Path("01_mul.ipynb")]
    assert (dest / "01_mul.ipynb").read_bytes() == edited
    assert (dest / cli.START_NOTEBOOK).read_bytes() == before[cli.START_NOTEBOOK]
    assert sorted(_snapshot(dest)) == sorted([cli.START_NOTEBOOK, "01_mul.ipynb", "img/graph.svg"])
    assert _snapshot(source) == before, "the shipped lessons must not change"

    assert cli.copy_lessons(source, dest) == ([], sorted(map(Path, _snapshot(dest))))


def test_lessons_command_copies_then_launches_jupyterlab(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """--dir/--no-browser/--port and arguments after -- reach JupyterLab's command line."""
    launched: list[tuple[list[str], Path]] = []
    monkeypatch.setattr(cli, "lessons_source", lambda: source)
    monkeypatch.setattr(cli, "jupyterlab_available", lambda: True)
    monkeypatch.setattr(cli, "_launch", lambda cmd, cwd: launched.append((cmd, cwd)) or 0)
    dest = tmp_path / "work"
    dest.mkdir()
    (dest / "01_mul.ipynb").write_text("mine")

    args = ["lessons", "--dir", str(dest), "--no-browser", "--port", "8999", "--", "--x=1"]
    assert cli.main(args) == 0

    [(cmd, cwd)] = launched
    assert cwd == dest.resolve()
    assert cmd[:3] == [sys.executable, "-m", "jupyterlab"]
    assert f"--ServerApp.root_dir={dest.resolve()}" in cmd
    assert "--no-browser" in cmd
    assert "--ServerApp.port=8999" in cmd
    assert "--x=1" in cmd
    assert cmd[-1] == str(dest.resolve() / cli.START_NOTEBOOK), "opens the start notebook"
    out = capsys.readouterr().out
    assert "Copied 2 lesson file(s)" in out
    assert "Kept your own copies (not overwritten): 01_mul.ipynb" in out
    assert (dest / "01_mul.ipynb").read_text() == "mine"


def test_lessons_command_defaults(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without options: ./gradlab-lessons is created, a browser opens, Lab picks its port."""
    launched: list[list[str]] = []
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(cli.SOURCE_ENV, str(source))
    monkeypatch.setattr(cli, "jupyterlab_available", lambda: True)
    monkeypatch.setattr(cli, "_launch", lambda cmd, cwd: launched.append(cmd) or 0)

    assert cli.main(["lessons"]) == 0

    assert (tmp_path / cli.DEFAULT_DIR / cli.START_NOTEBOOK).is_file()
    [cmd] = launched
    assert "--no-browser" not in cmd
    assert not any(arg.startswith("--ServerApp.port") for arg in cmd)


def test_missing_jupyterlab_says_how_to_install(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """Without JupyterLab the command fails with the install hint and touches nothing."""
    monkeypatch.setattr(cli, "checkout", lambda: None)  # an installed gradlab
    monkeypatch.setattr(cli, "lessons_source", lambda: source)
    monkeypatch.setattr(cli, "jupyterlab_available", lambda: False)
    monkeypatch.setattr(cli, "_launch", lambda cmd, cwd: pytest.fail("must not launch"))
    dest = tmp_path / "work"

    assert cli.main(["lessons", "--dir", str(dest)]) != 0

    err = capsys.readouterr().err
    assert (
        'JupyterLab is not installed. Install the lessons extra: pip install "gradlab[lessons]"'
        in err
    )
    assert not dest.exists()


def test_jupyterlab_available_checks_the_import(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check looks for an importable ``jupyterlab`` module."""
    real_find_spec = cli.importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        return None if name == "jupyterlab" else real_find_spec(name, *args)

    monkeypatch.setattr(cli.importlib.util, "find_spec", find_spec)
    assert not cli.jupyterlab_available()


def test_missing_lessons_folder_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """A source folder that does not exist gives a message, not a traceback."""
    monkeypatch.setenv(cli.SOURCE_ENV, str(tmp_path / "nope"))
    monkeypatch.setattr(cli, "jupyterlab_available", lambda: True)
    assert cli.main(["lessons", "--dir", str(tmp_path / "work")]) == 1
    assert "Cannot find the lesson notebooks" in capsys.readouterr().err


def test_lessons_source_of_a_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from a clone (editable install), the source is the repository's lessons/ folder."""
    monkeypatch.delenv(cli.SOURCE_ENV, raising=False)
    if Path(cli.__file__).resolve().parent.parent != REPO:
        pytest.skip("gradlab is not imported from this checkout")
    assert cli.lessons_source() == REPO / "lessons"


def _console_script() -> str:
    """Path of the installed ``gradlab`` command of this Python environment."""
    script = Path(sys.executable).parent / "gradlab"
    found = str(script) if script.is_file() else shutil.which("gradlab")
    if not found:
        pytest.fail('the gradlab command is not installed: pip install -e ".[test]"')
    return found


@pytest.mark.slow
def test_gradlab_lessons_really_serves_jupyterlab(source: Path, tmp_path: Path) -> None:
    """`gradlab lessons --no-browser --port P --dir D` starts a JupyterLab serving the copies."""
    dest = tmp_path / "work"
    dest.mkdir()
    (dest / "01_mul.ipynb").write_text("mine")
    port = free_port()
    token = secrets.token_hex(16)
    env = {**os.environ, cli.SOURCE_ENV: str(source), "JUPYTER_TOKEN": token}
    cmd = [_console_script(), "lessons", "--no-browser", "--port", str(port), "--dir", str(dest)]
    cmd += ["--", "--allow-root", "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0"]
    log_path = tmp_path / "gradlab-lessons.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"token {token}"}
        try:
            wait_for_http_ok(f"{base}/api/status", headers=auth, timeout=90, proc=proc)
        except (TimeoutError, RuntimeError) as exc:
            pytest.fail(f"{exc}\n--- output ---\n{log_path.read_text(errors='replace')}")
        wait_for_http_ok(f"{base}/api/contents/{cli.START_NOTEBOOK}", headers=auth, timeout=10)
    finally:
        stop_process_group(proc)

    out = log_path.read_text(errors="replace")
    assert "Copied 2 lesson file(s)" in out
    assert "Kept your own copies (not overwritten): 01_mul.ipynb" in out
    assert f"Serving notebooks from local directory: {dest.resolve()}" in out
    assert (dest / "01_mul.ipynb").read_text() == "mine"


# --- clear one-line errors, help and version ----------------------------------------------


@pytest.fixture
def lessons_ready(source: Path, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The lessons command with dummy lessons and JupyterLab 'installed'; returns the list of
    command lines it would launch."""
    launched: list[list[str]] = []
    monkeypatch.setattr(cli, "lessons_source", lambda: source)
    monkeypatch.setattr(cli, "jupyterlab_available", lambda: True)
    monkeypatch.setattr(cli, "_launch", lambda cmd, cwd: launched.append(cmd) or 0)
    return launched


def _read_only_folder(tmp_path: Path) -> Path:
    """A folder where no file can be created (root ignores permissions: then /sys, which
    containers mount read-only)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    for candidate in (folder, Path("/sys")):
        try:
            tempfile.TemporaryFile(dir=candidate).close()
        except OSError:
            return candidate
    pytest.fail("this machine has no read-only folder to test with")


@pytest.mark.parametrize("where", ["file", "under_file", "read_only"])
def test_a_dir_that_cannot_hold_the_lessons_is_one_clear_line(
    where: str, tmp_path: Path, lessons_ready: list, capsys: pytest.CaptureFixture
) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    folder = {
        "file": a_file,
        "under_file": a_file / "lessons",
        "read_only": _read_only_folder(tmp_path),
    }[where]
    reason = {
        "file": "it is a file, not a folder",
        "under_file": "Not a directory",
        "read_only": "",
    }[where]

    assert cli.main(["lessons", "--dir", str(folder)]) == 1

    err = capsys.readouterr().err
    assert err.startswith(f"gradlab lessons: cannot use --dir {folder}: {reason}")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert lessons_ready == []
    assert a_file.read_text() == "x"


def test_a_busy_port_is_reported_not_moved(
    tmp_path: Path, lessons_ready: list, capsys: pytest.CaptureFixture
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert cli.main(["lessons", "--dir", str(tmp_path / "w"), "--port", str(port)]) == 1
    err = capsys.readouterr().err
    busy_port = f"port {port} is busy: choose another with --port, or stop what uses it"
    assert err == f"gradlab lessons: {busy_port}\n"
    assert lessons_ready == []


def test_a_chosen_port_is_never_swapped_for_another() -> None:
    cmd = cli.jupyterlab_command(Path("/tmp/x"), port=8999)
    assert "--ServerApp.port=8999" in cmd and "--ServerApp.port_retries=0" in cmd
    assert not any("port_retries" in arg for arg in cli.jupyterlab_command(Path("/tmp/x")))


def test_allow_root_is_announced(
    tmp_path: Path, lessons_ready: list, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr(cli.os, "geteuid", lambda: 0)
    assert cli.main(["lessons", "--dir", str(tmp_path / "w")]) == 0
    assert "--allow-root" in lessons_ready[0]
    assert "Running as root: starting JupyterLab with --allow-root" in capsys.readouterr().out
    monkeypatch.setattr(cli.os, "geteuid", lambda: 1000)
    assert cli.main(["lessons", "--dir", str(tmp_path / "w")]) == 0
    assert "--allow-root" not in lessons_ready[1]
    assert "allow-root" not in capsys.readouterr().out


@pytest.mark.parametrize("how", ["console_script", "python_m"])
def test_version_help_and_python_m(how: str) -> None:
    import gradlab

    base = [_console_script()] if how == "console_script" else [sys.executable, "-m", "gradlab"]
    version = subprocess.run(base + ["--version"], capture_output=True, text=True, check=True)
    assert version.stdout == f"gradlab {gradlab.__version__}\n"
    bare = subprocess.run(base, capture_output=True, text=True)
    assert bare.returncode == 0
    assert bare.stdout.startswith("usage: gradlab") and "lessons" in bare.stdout


def test_missing_extra_names_the_checkout_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.setattr(cli, "checkout", lambda: Path.cwd().resolve())
    monkeypatch.setattr(cli, "jupyterlab_available", lambda: False)
    assert cli.main(["lessons", "--dir", str(tmp_path / "w")]) == 1
    assert capsys.readouterr().err == (
        'JupyterLab is not installed. Install the lessons extra: pip install -e ".[lessons]"\n'
    )
    monkeypatch.setattr(cli, "checkout", lambda: tmp_path)
    assert cli.install_hint("widgets") == f'pip install -e ".[widgets]" (in {tmp_path})'


def test_show_without_matplotlib_names_the_extra() -> None:
    code = (
        "import sys\n"
        "sys.modules['matplotlib'] = None  # as if it were not installed\n"
        "import gradlab\n"
        "try:\n"
        "    gradlab.show\n"
        "except ModuleNotFoundError as error:\n"
        "    print(error)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    hint = cli.install_hint("widgets")
    assert out == f"gradlab.show needs matplotlib, from gradlab's widgets extra: {hint}\n"
