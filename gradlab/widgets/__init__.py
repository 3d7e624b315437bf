"""Jupyter widgets for gradlab, built from stock ipywidgets only (no front-end build).

This is the only gradlab module that imports ipywidgets; ``import gradlab`` loads it lazily,
on first use of ``gradlab.widgets``.

>>> import gradlab
>>> with gradlab.record() as rec:                       # doctest: +SKIP
...     a = gradlab.tensor(2.0, requires_grad=True)
...     c = a * 3
...     c.backward()
>>> gradlab.widgets.Stepper(gradlab.Walkthrough(rec))   # doctest: +SKIP
"""

from __future__ import annotations

import html
import re
from typing import Any, Protocol

import ipywidgets as widgets

__all__ = ["Stepper", "WalkthroughLike"]

#: Milliseconds between steps while playing: slow enough to read a step on a projector.
PLAY_INTERVAL_MS = 1500

_SVG_START = re.compile(r"<svg\b", re.IGNORECASE)

_PHASE_COLOURS = {"forward": "#3a3a3a", "backward": "#2f5f98", "error": "#b3261e"}


class WalkthroughLike(Protocol):
    """What :class:`Stepper` needs from a walkthrough (``gradlab.Walkthrough`` has it all)."""

    index: int
    narration: str
    source: str
    phase: str

    def __len__(self) -> int: ...

    def goto(self, i: int) -> None: ...

    def frame_svg(self, i: int) -> str: ...


def _inline_svg(svg: str, fit: bool = True) -> str:
    """Make an SVG document embeddable in HTML: drop the XML prolog and, with ``fit``, let
    it shrink to the available width (else it keeps its own size and the frame scrolls).

    >>> _inline_svg('<?xml version="1.0"?><svg width="10pt"></svg>')
    '<svg style="max-width:100%;height:auto" width="10pt"></svg>'
    >>> _inline_svg('<?xml version="1.0"?><svg width="10pt"></svg>', fit=False)
    '<svg style="max-width:none" width="10pt"></svg>'
    """
    match = _SVG_START.search(svg)
    if match is None:
        return svg
    style = "max-width:100%;height:auto" if fit else "max-width:none"
    return f'<svg style="{style}"' + svg[match.end() :]


class Stepper(widgets.VBox):
    """Step through a walkthrough: Prev / Next / Reset, Play, a slider, the narration, the frame.

    Every update only sets widget values (no ``Output`` widget), so a notebook that shows a
    stepper keeps stable outputs. Play and the slider are linked in the browser (``jslink``),
    so playing needs no round trip except the frame update itself.

    >>> stepper = Stepper(walkthrough)        # doctest: +SKIP
    >>> stepper.next_button.click()           # doctest: +SKIP
    >>> stepper.walkthrough.index             # doctest: +SKIP
    1
    """

    def __init__(self, walkthrough: WalkthroughLike, **kwargs: Any) -> None:
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
            tooltip="Show the picture at its full size (scroll to move around)",
            layout=widgets.Layout(width="auto", min_width="6em"),
        )
        self.source = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.narration = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.frame = widgets.HTML(layout=widgets.Layout(width="100%", overflow="auto"))
        self._link = widgets.jslink((self.play, "value"), (self.slider, "value"))

        self.prev_button.on_click(lambda _: self._go(self.walkthrough.index - 1))
        self.next_button.on_click(lambda _: self._go(self.walkthrough.index + 1))
        self.reset_button.on_click(lambda _: self._go(0))
        self.slider.observe(self._on_slider, names="value")
        self.full_size.observe(lambda _: self._show_frame(), names="value")

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
        kwargs.setdefault("layout", widgets.Layout(width="100%"))
        super().__init__([controls, self.source, self.narration, self.frame], **kwargs)
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
        for part, widget in parts.items():
            widget.add_class(f"gradlab-stepper-{part}")
        self.walkthrough.goto(start)
        self.refresh()

    def _show_frame(self) -> None:
        w = self.walkthrough
        svg = _inline_svg(w.frame_svg(int(w.index)), fit=not self.full_size.value) if len(w) else ""
        self.frame.value = f'<div class="gradlab-frame" style="max-width:100%">{svg}</div>'

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
        self._show_frame()
        narration = html.escape(str(w.narration)).replace("\n", "<br>")
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

    def _go(self, i: int) -> None:
        self.walkthrough.goto(int(i))
        self.refresh()

    def _on_slider(self, change: dict[str, Any]) -> None:
        self.walkthrough.goto(int(change["new"]))
        self.refresh()
