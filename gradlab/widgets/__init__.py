"""Jupyter widgets for gradlab: stock ipywidgets for the controls and text, and one
anywidget (``stepper.js``, plain ESM shipped in the package, no front-end build) for the
picture: the drawing is sent once, then each step's small changes.

This is the only gradlab module that imports ipywidgets and anywidget; ``import gradlab``
loads it lazily, on first use of ``gradlab.widgets``.

>>> import gradlab
>>> with gradlab.record() as rec:                       # doctest: +SKIP
...     a = gradlab.tensor(2.0, requires_grad=True)
...     c = a * 3
...     c.backward()
>>> gradlab.widgets.Stepper(gradlab.Walkthrough(rec))   # doctest: +SKIP
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import anywidget
import ipywidgets as widgets
import traitlets

from gradlab.predict import Predictor
from gradlab.walkthrough import Walkthrough
from gradlab.widgets.predicting import PredictPanel

__all__ = ["PictureView", "PredictPanel", "Stepper", "WalkthroughLike"]

#: the front end of the picture, shared with the page ``Walkthrough.to_html()`` writes
ESM = Path(__file__).with_name("stepper.js")

#: Milliseconds between steps while playing: slow enough to read a step on a projector.
PLAY_INTERVAL_MS = 1500

_PHASE_COLOURS = {"forward": "#3a3a3a", "backward": "#2f5f98", "error": "#b3261e"}


class StepViewLike(Protocol):
    """What :class:`PictureView` needs: the drawing once, then one record per step."""

    def start(self) -> dict[str, Any]: ...

    def step(self, i: int) -> dict[str, Any]: ...


class WalkthroughLike(Protocol):
    """What :class:`Stepper` needs from a walkthrough (``gradlab.Walkthrough`` has it all)."""

    index: int
    narration: str
    source: str
    phase: str
    view: StepViewLike

    def __len__(self) -> int: ...

    def goto(self, i: int) -> None: ...


class PictureView(anywidget.AnyWidget):
    """The walkthrough's picture: focus view, overview, zoom and pan, click for values.

    The front end gets the drawing once (``start``); :meth:`show` then sends only the
    records of the steps between the last shown step and the new one (one for Next).
    A front end that lacks records (a new view of the same widget) asks for them."""

    _esm = ESM
    start = traitlets.Dict().tag(sync=True)
    #: big type in a tall focus view (presenter mode)
    big = traitlets.Bool(False).tag(sync=True)

    def __init__(self, view: StepViewLike, index: int = 0, **kwargs: Any) -> None:
        super().__init__(start=view.start(), **kwargs)
        self.view = view
        self.index = index
        #: what each step's record goes through before it is sent (predict mode hides values)
        self.redact: Callable[[dict[str, Any], int], dict[str, Any]] = lambda record, i: record
        self.on_msg(self._on_msg)

    def show(self, i: int) -> None:
        """Move the picture to step ``i``."""
        lo, hi = (self.index + 1, i) if i > self.index else (i, self.index)
        self.index = i
        self._send_steps(lo, hi)

    def set_tall(self, tall: bool) -> None:
        """A taller focus view (the Full size toggle)."""
        self.send({"tall": bool(tall)})

    def resend(self) -> None:
        """Send the current step's record again (after predict mode hid or showed a value)."""
        self._send_steps(self.index, self.index)

    def _send_steps(self, lo: int, hi: int) -> None:
        steps = {k: self.redact(self.view.step(k), k) for k in range(lo, hi + 1)}
        self.send({"steps": steps, "to": self.index})

    def _on_msg(self, _: Any, content: Any, buffers: Any) -> None:
        if isinstance(content, dict) and "need" in content:
            lo, hi = (int(v) for v in content["need"])
            self._send_steps(max(lo, 0), hi)
        elif isinstance(content, dict) and content.get("ready"):
            self.send({"to": self.index})


class Stepper(widgets.VBox):
    """Step through a walkthrough: Prev / Next / Reset, Play, a slider, the narration, the frame.

    With ``predict=True`` it starts in predict mode, with ``presenter=True`` in presenter
    mode (both are toggles in its panel; see :mod:`gradlab.widgets.predicting`).

    Every update only sets widget values (no ``Output`` widget), so a notebook that shows a
    stepper keeps stable outputs. Play and the slider are linked in the browser (``jslink``),
    so playing needs no round trip except the frame update itself.

    >>> stepper = Stepper(walkthrough)        # doctest: +SKIP
    >>> stepper.next_button.click()           # doctest: +SKIP
    >>> stepper.walkthrough.index             # doctest: +SKIP
    1
    """

    def __init__(
        self,
        walkthrough: WalkthroughLike,
        predict: bool = False,
        presenter: bool = False,
        **kwargs: Any,
    ) -> None:
        self.walkthrough = walkthrough
        last = max(len(walkthrough) - 1, 0)
        start = min(max(int(walkthrough.index), 0), last)

        def button(description: str, tooltip: str, style: str = "") -> widgets.Button:
            layout = widgets.Layout(width="auto", min_width="6em")
            return widgets.Button(
                description=description, tooltip=tooltip, button_style=style, layout=layout
            )

        self.prev_button = button("◀ Prev", "Previous step")
        self.next_button = button("Next ▶", "Next step", "primary")
        self.reset_button = button("Reset", "Back to the first step")
        steps = {"value": start, "min": 0, "max": last, "step": 1}  # Play and slider agree
        self.play = widgets.Play(
            **steps,
            interval=PLAY_INTERVAL_MS,
            show_repeat=False,
            tooltip="Play the steps",
        )
        self.slider = widgets.IntSlider(
            **steps,
            readout=False,
            continuous_update=True,
            description="",
            layout=widgets.Layout(flex="1 1 auto", min_width="8em"),
        )
        self.counter = widgets.HTML(layout=widgets.Layout(margin="0 0.5em 0 0.8em"))
        # on a projector a wide graph fitted to the width gets small: show it at full size
        self.full_size = widgets.ToggleButton(
            value=False,
            description="Full size",
            tooltip="A taller picture (wheel to zoom, drag to move around)",
            layout=widgets.Layout(width="auto", min_width="6em"),
        )
        self.source = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.narration = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.frame = PictureView(walkthrough.view, start, layout=widgets.Layout(width="100%"))
        self._link = widgets.jslink((self.play, "value"), (self.slider, "value"))

        self.prev_button.on_click(lambda _: self._go(self.walkthrough.index - 1))
        self.next_button.on_click(lambda _: self._go(self.walkthrough.index + 1))
        self.reset_button.on_click(lambda _: self._go(0))
        self.slider.observe(self._on_slider, names="value")
        self.full_size.observe(lambda c: self.frame.set_tall(c["new"]), names="value")

        controls = widgets.HBox(
            [
                self.prev_button,
                self.next_button,
                self.reset_button,
                self.play,
                self.slider,
                self.counter,
                self.full_size,
            ],
            layout=widgets.Layout(align_items="center", width="100%"),
        )
        #: predict mode and the presenter toggle (for a recorded walkthrough; see predicting.py)
        self.predict: PredictPanel | None = None
        parts = [controls, self.source, self.narration, self.frame]
        if isinstance(walkthrough, Walkthrough):
            self.predict = PredictPanel(
                Predictor(walkthrough),
                go=lambda delta: self._go(self.walkthrough.index + delta),
                changed=self._predict_changed,
                predict=predict,
                presenter=presenter,
            )
            self.frame.redact = self._redact
            self.predict.observe(self._modes_changed, names=["predict", "presenter"])
            self.frame.big = self.predict.predictor.presenter = presenter
            parts.insert(3, self.predict)
        kwargs.setdefault("layout", widgets.Layout(width="100%"))
        super().__init__(parts, **kwargs)
        self.add_class("gradlab-stepper")
        parts = {
            "prev": self.prev_button,
            "next": self.next_button,
            "reset": self.reset_button,
            "play": self.play,
            "slider": self.slider,
            "counter": self.counter,
            "full-size": self.full_size,
            "source": self.source,
            "narration": self.narration,
            "frame": self.frame,
        }
        if self.predict is not None:
            parts["predict"] = self.predict
        for part, widget in parts.items():
            widget.add_class(f"gradlab-stepper-{part}")
        self.walkthrough.goto(start)
        self.refresh()

    def __repr__(self) -> str:
        """A short, stable text (shown where widgets cannot render, compared by nbval)."""
        return f"Stepper({len(self.walkthrough)} steps; run the notebook to step through them)"

    @property
    def widget(self) -> Stepper:
        """The widget to display (the stepper itself), for symmetry with wrapper classes."""
        return self

    def goto(self, i: int) -> None:
        """Show step ``i`` (clamped to the first and last step).

        >>> stepper.goto(3)                   # doctest: +SKIP
        """
        self._go(i)

    def refresh(self) -> None:
        """Update every part of the view from the walkthrough's current step.

        Call it after moving the walkthrough directly (``walkthrough.next()``).
        """
        w = self.walkthrough
        n = len(w)
        i = int(w.index)
        if self.slider.value != i:
            # the slider observer calls back into refresh() once the value is set
            self.slider.value = i
            return
        phase = str(w.phase)
        colour = _PHASE_COLOURS.get(phase, "#3a3a3a")
        # The counter is set last, so a front end showing the new counter has the rest too.
        self.frame.show(i)
        text = w.narration
        if self.predict is not None:
            self.predict.show(i)
            if self.predict.hiding:
                text = self.predict.predictor.narration(i)
        narration = html.escape(str(text)).replace("\n", "<br>")
        self.narration.value = (
            '<div style="font-size:1.15em;line-height:1.45;margin:0.2em 0 0.4em 0;'
            f'color:{colour if phase == "error" else "inherit"}">{narration}</div>'
        )
        self.source.value = (
            '<pre style="margin:0.3em 0;padding:0.3em 0.6em;background:#f4f4f4;color:#1f1f1f;'
            "border-left:4px solid #2f5f98;font-size:1.1em;white-space:pre-wrap;"
            'font-family:var(--jp-code-font-family,monospace)">'
            f"{html.escape(str(w.source))}</pre>"
        )
        self.prev_button.disabled = i <= 0
        self.reset_button.disabled = i <= 0
        self.next_button.disabled = i >= n - 1
        self.counter.value = (
            '<span style="font-size:1.1em;white-space:nowrap">'
            f"step {i + 1} / {n} · "
            f'<b style="color:{colour}">{html.escape(phase)}</b></span>'
        )

    def _redact(self, record: dict[str, Any], i: int) -> dict[str, Any]:
        if self.predict is None or not self.predict.hiding:
            return record
        return self.predict.predictor.redact(record, i)

    def _predict_changed(self) -> None:
        """An answer or a reveal: the narration, the questions and the edge labels again."""
        self.refresh()
        self.frame.resend()

    def _modes_changed(self, change: dict[str, Any]) -> None:
        if change["name"] == "presenter":
            self.frame.big = self.predict.predictor.presenter = bool(change["new"])
        self._predict_changed()

    def _go(self, i: int) -> None:
        self.walkthrough.goto(int(i))
        self.refresh()

    def _on_slider(self, change: dict[str, Any]) -> None:
        self.walkthrough.goto(int(change["new"]))
        self.refresh()
