"""Build the executed lesson notebooks in lessons/ from their sources in lessons/src/.

Each lesson is one MyST markdown file in ``lessons/src/`` (jupytext's ``md:myst`` format):
prose is plain markdown, cells are separated by ``+++``, and each code cell is a
```` ```{code-cell} ```` block whose options (``:tags: [raises-exception]``, or a YAML block
for ``jupyter: {source_hidden: true}``) sit on its first lines. To change a lesson, edit its
source and run one command::

    python tools/build_lessons.py          # rebuild and execute every lesson
    python tools/build_lessons.py 06 01    # only the lessons whose names start like this

The notebooks run side by side, each in a fresh kernel and a scratch folder of its own,
against this checkout's gradlab; lessons/ changes only if every notebook ran (cells tagged
``raises-exception`` may raise, as under nbval). The saved outputs are deterministic: no
timings, and cell ids and widget model ids are numbered in order, so a rebuild without
changes leaves the notebooks unchanged.
Then ``python -m pytest lessons -q -p no:cacheprovider`` re-runs them under nbval.
"""

from __future__ import annotations

import asyncio
import configparser
import hashlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"
SOURCES = LESSONS / "src"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MODEL_REFERENCE = re.compile(r"IPY_MODEL_([0-9a-f]{32})")
SANITIZE = ROOT / "tests" / "nbval-sanitize.cfg"
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def read_source(path: Path) -> nbformat.NotebookNode:
    """Read one lesson source into an unexecuted notebook with stable cell ids."""
    nb = jupytext.read(path, fmt="md:myst")
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    for number, cell in enumerate(nb.cells):
        cell.id = f"{path.stem[:2]}-{number:03d}"
    return nb


async def execute(nb: nbformat.NotebookNode, folder: Path) -> None:
    """Run every cell in a fresh kernel whose working folder is ``folder`` (made here)."""
    folder.mkdir()
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(folder)}},
    )
    await client.async_execute()


async def execute_all(notebooks: dict[str, nbformat.NotebookNode], folder: Path) -> list[str]:
    """Run the notebooks side by side (each in its own kernel); return the names that failed."""
    results = await asyncio.gather(
        *(execute(nb, folder / name) for name, nb in notebooks.items()), return_exceptions=True
    )
    failed = []
    for name, result in zip(notebooks, results):
        if isinstance(result, BaseException):
            print(f"{name}: {result}", file=sys.stderr)
            failed.append(name)
    return failed


def _widget_ids_in_order(nb: nbformat.NotebookNode) -> list[str]:
    """The notebook's widget model ids, in the order the outputs reach them."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    order: dict[str, None] = {}

    def visit(model_id: str) -> None:
        if model_id in order or model_id not in state:
            return
        order[model_id] = None
        text = json.dumps(state[model_id], sort_keys=True)
        for referenced in MODEL_REFERENCE.findall(text):
            visit(referenced)

    for cell in nb.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view:
                visit(view["model_id"])
    rest = sorted(set(state) - set(order), key=lambda m: json.dumps(state[m], sort_keys=True))
    return [*order, *rest]


def _sanitize_streams(nb: nbformat.NotebookNode) -> None:
    """Apply nbval's sanitizing rules to printed text (e.g. the kernel's temporary file name
    in a warning), so no build-machine path is saved; nbval sanitizes its run the same way."""
    rules = configparser.ConfigParser()
    rules.read(SANITIZE)
    patterns = [(re.compile(rules[s]["regex"]), rules[s]["replace"]) for s in rules.sections()]
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                for pattern, replacement in patterns:
                    output.text = pattern.sub(replacement, output.text)


def normalized(nb: nbformat.NotebookNode, stem: str) -> nbformat.NotebookNode:
    """The notebook with machine details removed and its random widget model ids replaced by
    ids numbered in order."""
    _sanitize_streams(nb)
    text = nbformat.writes(nb)
    for number, old in enumerate(_widget_ids_in_order(nb)):
        new = hashlib.md5(f"{stem}-{number}".encode()).hexdigest()
        text = text.replace(old, new)
    return nbformat.reads(text, as_version=4)


def selected_sources(prefixes: list[str]) -> list[Path]:
    """The lesson sources, all of them or those whose names start with one of ``prefixes``."""
    sources = sorted(SOURCES.glob("*.md"))
    if prefixes:
        sources = [p for p in sources if any(p.name.startswith(x) for x in prefixes)]
    return sources


def main(argv: list[str]) -> int:
    sources = selected_sources(argv)
    if not sources:
        print(f"no lesson source in {SOURCES} matches {argv}", file=sys.stderr)
        return 2
    # the kernels import gradlab from this checkout, whatever is installed
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    notebooks = {source.stem: read_source(source) for source in sources}
    with tempfile.TemporaryDirectory() as scratch:
        failed = asyncio.run(execute_all(notebooks, Path(scratch)))
    if failed:
        print(f"a cell failed in {', '.join(failed)}: lessons/ left unchanged", file=sys.stderr)
        return 1
    for stem, nb in notebooks.items():
        nb = normalized(nb, stem)
        nbformat.validate(nb)
        nbformat.write(nb, LESSONS / f"{stem}.ipynb")
    print("built and executed", ", ".join(notebooks))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
