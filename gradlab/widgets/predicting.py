"""The stepper's predict mode and presenter toggle: a panel under the picture
(``predict.js``, shared with the exported page) and the :class:`~gradlab.predict.Predictor`
that checks the answers in Python, so a hidden value never reaches the browser before it
is answered right or revealed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from gradlab.predict import Predictor

__all__ = ["PredictPanel"]

ESM = Path(__file__).with_name("predict.js")


class PredictPanel(anywidget.AnyWidget):
    """Two toggles (Predict, Presenter), one input per hidden gradient, the score.

    ``state`` is :meth:`Predictor.public` of the current step plus its index; the front end
    sends ``answer``, ``reveal`` and ``go`` messages, handled here with the predictor and
    the ``go`` and ``changed`` callbacks the stepper gives."""

    _esm = ESM
    predict = traitlets.Bool(False).tag(sync=True)
    presenter = traitlets.Bool(False).tag(sync=True)
    state = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        predictor: Predictor,
        go: Callable[[int], None],
        changed: Callable[[], None],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.predictor = predictor
        self._go = go
        self._changed = changed
        self.on_msg(self._on_msg)

    @property
    def hiding(self) -> bool:
        """True when the step's gradients are hidden until answered or revealed."""
        return self.predict or self.presenter

    def show(self, i: int) -> None:
        """Show step ``i``'s questions (with the current modes)."""
        self.state = {"step": i, **self.predictor.public(i)}

    def answer(self, i: int, position: int, text: str) -> None:
        """What the front end does on Enter (also for tests and scripts)."""
        self.predictor.answer(i, position, text)
        self._changed()

    def reveal(self, i: int, position: int | None = None) -> None:
        self.predictor.reveal(i, position)
        self._changed()

    def _on_msg(self, _: Any, content: Any, buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        if "answer" in content:
            i, position, text = content["answer"]
            self.answer(int(i), int(position), str(text))
        elif "reveal" in content:
            i, position = content["reveal"]
            self.reveal(int(i), None if position is None else int(position))
        elif "go" in content:
            self._go(int(content["go"]))
