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
    assert "<svg" in s.frame.start["svg"]


class Sent:
    """The custom messages a PictureView sends to the front end."""

    def __init__(self, stepper: Stepper, monkeypatch: pytest.MonkeyPatch) -> None:
        self.messages: list[dict] = []
        monkeypatch.setattr(stepper.frame, "send", self.messages.append)

    def last_step(self) -> dict:
        return self.messages[-1]["steps"][self.messages[-1]["to"]]


def test_next_advances_index_slider_and_narration(
    make: Callable[[], object], monkeypatch: pytest.MonkeyPatch
) -> None:
    w = make()
    s = Stepper(w)
    sent = Sent(s, monkeypatch)
    narrations = [s.narration.value]
    frames = []
    s.next_button.click()
    assert w.index == 1 and s.slider.value == 1
    assert f"step 2 / {len(w)}" in s.counter.value
    assert not s.prev_button.disabled and not s.reset_button.disabled
    for _ in range(len(w) - 2):
        s.next_button.click()
        narrations.append(s.narration.value)
        frames.append(sent.last_step()["text"])
    assert len(set(narrations)) > 1
    assert len(set(frames)) > 1
    # Next sends the record of the new step only
    assert all(list(m["steps"]) == [m["to"]] for m in sent.messages)


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


def test_slider_change_updates_everything(
    make: Callable[[], object], monkeypatch: pytest.MonkeyPatch
) -> None:
    w = make()
    s = Stepper(w)
    sent = Sent(s, monkeypatch)
    narration0 = s.narration.value
    last = len(w) - 1
    s.slider.value = last  # what the browser does when Play or the slider moves
    assert w.index == last
    assert sent.messages[-1]["to"] == last
    assert sorted(sent.messages[-1]["steps"]) == list(range(1, last + 1))  # for the rows
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


def test_a_new_front_end_asks_for_the_steps_it_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    w = FakeWalkthrough.lesson1()
    s = Stepper(w)
    for _ in range(3):
        s.next_button.click()
    sent = Sent(s, monkeypatch)
    s.frame._on_msg(s.frame, {"ready": True}, [])
    assert sent.messages == [{"to": 3}]
    s.frame._on_msg(s.frame, {"need": [0, 3]}, [])
    assert sorted(sent.messages[-1]["steps"]) == [0, 1, 2, 3]
    assert sent.messages[-1]["to"] == 3


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


def test_the_picture_is_an_anywidget_with_its_esm_in_the_package() -> None:
    import anywidget

    from gradlab.widgets import ESM, PictureView

    s = Stepper(FakeWalkthrough.lesson1())
    assert isinstance(s.frame, PictureView) and isinstance(s.frame, anywidget.AnyWidget)
    assert ESM.is_file() and "export default" in ESM.read_text()
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


def test_full_size_toggle_makes_the_picture_taller(monkeypatch: pytest.MonkeyPatch) -> None:
    s = Stepper(FakeWalkthrough.lesson1())
    sent = Sent(s, monkeypatch)
    s.full_size.value = True
    assert sent.messages == [{"tall": True}]
    s.full_size.value = False
    assert sent.messages[-1] == {"tall": False}


def test_step_messages_do_not_grow_with_the_recording(monkeypatch: pytest.MonkeyPatch) -> None:
    """What Next sends is bounded by the step, not by the recording's length."""
    import json

    import gradlab

    def chain(ops: int) -> gradlab.Recording:
        with gradlab.record() as rec:
            x0 = gradlab.tensor(1.0, requires_grad=True)
            x = x0
            for _ in range(ops // 2):
                x = x * 1.01 + x0
            x.backward()
        return rec

    sizes = {}
    for ops in (100, 1000):
        w = gradlab.Walkthrough(chain(ops))
        s = Stepper(w)
        sent = Sent(s, monkeypatch)
        for _ in range(len(w) - 1):  # the 1,000-op walkthrough renders and steps to the end
            s.next_button.click()
        assert w.index == len(w) - 1
        assert "The backward pass is done" in s.narration.value
        sizes[ops] = max(len(json.dumps(m)) for m in sent.messages)
        records = [m["steps"][m["to"]] for m in sent.messages]
        sizes[ops, "elements"] = max(len(r["lit"]) + len(r["rows"]) for r in records)
    assert sizes[1000] <= sizes[100] * 1.2
    assert sizes[1000, "elements"] <= sizes[100, "elements"]
