"""The instructor copy of a lesson: every exercise answered by its solution.

In a lesson, an exercise is three code cells: the learner's guess (tagged ``exercise``,
``my_guess = ...``), the cell that checks it with ``gradlab.check``, and a collapsed
solution (tagged ``solution``, source hidden) that assigns the answer. In the copy each
solution is shown and moved up to follow its exercise, so running the notebook fills the
guesses before they are checked; the checks' saved "not answered yet" outputs are cleared.
``gradlab lessons --solutions`` makes this copy. Works on notebooks read as plain JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _tags(cell: dict[str, Any]) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def with_solutions(notebook: dict[str, Any]) -> dict[str, Any]:
    """``notebook`` with its solutions shown right after their exercises (changed in place)."""
    ordered: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] | None = None  # the cells between an exercise and its solution
    for cell in notebook["cells"]:
        tags = _tags(cell)
        if "exercise" in tags:
            ordered += checks or []
            ordered.append(cell)
            checks = []
        elif "solution" in tags:
            _show(cell)
            for checking in checks or []:
                if checking["cell_type"] == "code":
                    checking["outputs"], checking["execution_count"] = [], None
            ordered += [cell, *(checks or [])]
            checks = None
        elif checks is not None:
            checks.append(cell)
        else:
            ordered.append(cell)
    notebook["cells"] = ordered + (checks or [])
    return notebook


def _show(cell: dict[str, Any]) -> None:
    jupyter = cell["metadata"].get("jupyter", {})
    jupyter.pop("source_hidden", None)
    if not jupyter:
        cell["metadata"].pop("jupyter", None)


def write_solutions(path: Path) -> None:
    """Rewrite the notebook at ``path`` as its instructor copy."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    text = json.dumps(with_solutions(notebook), indent=1, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
