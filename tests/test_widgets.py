"""The stepper widget, without a browser: buttons, slider, escaping, no Output writes.

Runs against a fake walkthrough (tests/fake_walkthrough.py) and, when the recorder and
``gradlab.Walkthrough`` are available, against a real one.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import ipywidgets
import pytest

from gradlab.widgets import Stepper
from tests.fake_walkthrough import LESSON1, FakeStep, FakeWalkthrough


def real_walkthrough() -> object:
    """``c = a * b; c.backward()`` recorded and wrapped in a real ``gradlab.Walkthrough``."""
    import gradlab

    return gradlab.Walkthrough(gradlab.examples.multiply())


WALKTHROUGHS = [
    pytest.param(FakeWalkthrough.lesson1, id="fake"),
    pytest.param(real_walkthrough, id="real"),
]


@pytest.fixture(params=WALKTHROUGHS)
def make(request: pytest.FixtureRequest) -> Callable[[], object]:
    return request.param


def test_starts_at_step_one(make: Callable[[], object]) -> None:
    w = make()
    s = Stepper(w)
    n = len(w)
    assert n >= 3
    assert w.index == 0 and s.slider.value == 0
    assert (s.slider.min, s.slider.max) == (0, n - 1)
    assert (s.play.min, s.play.max) == (0, n - 1)
    assert f"step 1 / {n}" in s.counter.value
    assert w.phase in s.counter.value
    assert s.prev_button.disabled and s.reset_button.disabled
    assert not s.next_button.disabled
    assert "<svg" in s.frame.value


def test_next_advances_index_slider_and_narration(make: Callable[[], object]) -> None:
    w = make()
    s = Stepper(w)
    narrations = [s.narration.value]
    frames = [s.frame.value]
    s.next_button.click()
    assert w.index == 1 and s.slider.value == 1
    assert f"step 2 / {len(w)}" in s.counter.value
    assert not s.prev_button.disabled and not s.reset_button.disabled
    for _ in range(len(w) - 2):
        s.next_button.click()
        narrations.append(s.narration.value)
        frames.append(s.frame.value)
    assert len(set(narrations)) > 1
    assert len(set(frames)) > 1


def test_prev_and_reset(make: Callable[[], object]) -> None:
    w = make()
    s = Stepper(w)
    s.next_button.click()
    s.next_button.click()
    s.prev_button.click()
    assert w.index == 1 and s.slider.value == 1
    s.next_button.click()
    s.reset_button.click()
    assert w.index == 0 and s.slider.value == 0
    assert s.prev_button.disabled and s.reset_button.disabled


def test_ends_disable_buttons_and_clamp(make: Callable[[], object]) -> None:
    w = make()
    s = Stepper(w)
    last = len(w) - 1
    for _ in range(last + 3):
        s.next_button.click()
    assert w.index == last and s.slider.value == last
    assert s.next_button.disabled and not s.prev_button.disabled
    assert f"step {last + 1} / {last + 1}" in s.counter.value
    s.goto(last + 10)
    assert w.index == last
    s.goto(-5)
    assert w.index == 0 and s.slider.value == 0
    assert s.prev_button.disabled and not s.next_button.disabled


def test_slider_change_updates_everything(make: Callable[[], object]) -> None:
    w = make()
    s = Stepper(w)
    frame0, narration0 = s.frame.value, s.narration.value
    last = len(w) - 1
    s.slider.value = last  # what the browser does when Play or the slider moves
    assert w.index == last
    assert s.frame.value != frame0
    assert s.narration.value != narration0
    assert s.next_button.disabled
    assert w.phase in s.counter.value


def test_play_is_linked_to_slider_in_the_browser(make: Callable[[], object]) -> None:
    s = Stepper(make())
    link = s._link
    assert isinstance(link, ipywidgets.widgets.widget_link.Link)
    assert link.source == (s.play, "value") and link.target == (s.slider, "value")
    assert s.play.interval >= 500  # readable when played on a projector


def test_refresh_follows_walkthrough_moved_directly(make: Callable[[], object]) -> None:
    w = make()
    s = Stepper(w)
    w.next()
    w.next()
    s.refresh()
    assert s.slider.value == 2
    assert "step 3 /" in s.counter.value


def test_text_is_escaped() -> None:
    steps = [
        FakeStep("x = <script>alert(1)</script>", "forward", "a <script>alert(1)</script> & b"),
        FakeStep("y = x * 2", "error", "version <b>0</b> expected"),
    ]
    s = Stepper(FakeWalkthrough(steps))
    assert "<script>" not in s.narration.value and "<script>" not in s.source.value
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; b" in s.narration.value
    assert "x = &lt;script&gt;" in s.source.value
    s.next_button.click()
    assert "<b>0</b>" not in s.narration.value
    assert "&lt;b&gt;0&lt;/b&gt;" in s.narration.value
    assert "error" in s.counter.value


def test_svg_is_inlined_without_xml_prolog() -> None:
    s = Stepper(FakeWalkthrough.lesson1())
    assert "<?xml" not in s.frame.value
    assert '<svg style="max-width:100%;height:auto"' in s.frame.value
    assert 'data-step="0"' in s.frame.value


def test_frames_come_from_the_walkthrough_cache() -> None:
    w = FakeWalkthrough.lesson1()
    s = Stepper(w)
    for _ in range(3):
        s.next_button.click()
    s.reset_button.click()
    for _ in range(3):
        s.next_button.click()
    assert sorted(w.rendered) == [0, 1, 2, 3]  # each frame rendered once


def test_no_output_widget_and_no_printing(
    make: Callable[[], object], capsys: pytest.CaptureFixture[str]
) -> None:
    s = Stepper(make())

    def descendants(widget: object) -> list[object]:
        children = list(getattr(widget, "children", ()))
        return children + [d for c in children for d in descendants(c)]

    assert not any(isinstance(d, ipywidgets.Output) for d in descendants(s))
    s.next_button.click()
    s.slider.value = s.slider.max
    s.reset_button.click()
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_frame_and_html_widgets_have_a_layout_width() -> None:
    s = Stepper(FakeWalkthrough.lesson1())
    assert s.frame.layout.width == "100%"
    assert s.widget is s
    assert isinstance(s, ipywidgets.VBox)


def test_repr_is_short_and_stable() -> None:
    s = Stepper(FakeWalkthrough(LESSON1))
    text = s._repr_mimebundle_()["text/plain"]
    assert text == repr(s) == "Stepper(6 steps; run the notebook to step through them)"
    assert "0x" not in text


def test_import_gradlab_does_not_import_ipywidgets() -> None:
    code = "import sys, gradlab; assert 'ipywidgets' not in sys.modules, 'ipywidgets loaded'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_full_size_toggle_switches_between_fitted_and_natural_size() -> None:
    s = Stepper(FakeWalkthrough.lesson1())
    assert "max-width:100%;height:auto" in s.frame.value
    s.full_size.value = True
    assert 'style="max-width:none"' in s.frame.value
    s.next_button.click()  # stays at full size while stepping
    assert 'style="max-width:none"' in s.frame.value
    s.full_size.value = False
    assert "max-width:100%;height:auto" in s.frame.value
