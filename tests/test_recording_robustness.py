"""The recorder under awkward use: names on tensors of any size, in-place ops on named
tensors, recordings in two threads, and tensors full of NaN."""

from __future__ import annotations

import gc
import threading

import numpy as np

import gradlab
from gradlab.autograd import events
from gradlab.recording import _explicit_names


def test_naming_a_multi_element_tensor_then_recording_and_showing():
    w = gradlab.name(gradlab.ones(3, requires_grad=True), "w")
    b = gradlab.name(gradlab.tensor([1.0, 2.0, 3.0]), "b")
    with gradlab.record() as rec:
        u = w * b
        u.sum().backward()
    assert rec.name_of(w) == "w" and rec.name_of(b) == "b"
    assert w.grad.tolist() == [1.0, 2.0, 3.0]
    walkthrough = gradlab.Walkthrough(rec)
    assert all("<svg" in walkthrough.frame_svg(i) for i in range(len(walkthrough)))
    assert "<svg" in gradlab.show(u).to_svg()


def test_naming_a_one_element_tensor_records_no_comparison():
    with gradlab.record() as rec:
        a = gradlab.tensor(2.0, requires_grad=True)
        gradlab.name(a, "x")
        gradlab.name(a, "x")
        c = a * 3
    assert [s.kind for s in rec.steps] == ["TensorCreated", "OpApplied"]
    assert rec.steps[1].event.name == "mul" and rec.name_of(a) == "x" and rec.name_of(c) == "c"


def test_inplace_on_a_named_tensor_inside_record():
    u = gradlab.name(gradlab.zeros(3), "u")
    with gradlab.record() as rec:
        u.add_(1)
    assert u.tolist() == [1.0, 1.0, 1.0] and u._version == 1
    assert rec.name_of(u) == "u"
    assert [s.kind for s in rec.steps] == ["InplaceApplied"]


def test_a_name_is_forgotten_with_its_tensor():
    t = gradlab.name(gradlab.ones(4), "gone")
    key = id(t)
    assert _explicit_names[key] == "gone"
    del t
    gc.collect()
    assert key not in _explicit_names


def _record_in_thread(barrier: threading.Barrier, out: dict, who: str) -> None:
    try:
        with gradlab.record() as rec:
            barrier.wait()
            mine = [gradlab.tensor(float(k), requires_grad=True) for k in range(100)]
            total = mine[0] * 1
            for t in mine[1:]:
                total = total + t * 2
            total.backward()
            barrier.wait()
        out[who] = (rec, mine, total)
    except Exception as error:  # noqa: BLE001  (reported by the test)
        out[who] = error


def test_two_threads_record_only_their_own_program():
    barrier, out = threading.Barrier(2), {}
    threads = [threading.Thread(target=_record_in_thread, args=(barrier, out, who)) for who in "AB"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for who in "AB":
        assert not isinstance(out[who], Exception), out[who]
        rec, mine, total = out[who]
        own = {id(t) for t in mine} | {id(total)}
        assert all(rec.key_of(t) is not None for t in mine)
        created = [s.event.tensor for s in rec.steps if s.kind == "TensorCreated"]
        assert len(created) == 100 and all(id(t) in own for t in created)
        assert [s.kind for s in rec.steps].count("BackwardStarted") == 1
    assert events.listeners == []


def test_a_block_ending_during_another_threads_backward_detaches_its_listener():
    in_hook, closed = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def backward_with_a_slow_hook():
        try:
            a = gradlab.tensor(1.0, requires_grad=True)
            b = a * 2
            b.register_hook(lambda g: (in_hook.set(), closed.wait(30), None)[-1])
            b.backward()
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    with gradlab.record():
        worker = threading.Thread(target=backward_with_a_slow_hook)
        worker.start()
        assert in_hook.wait(30)
    closed.set()  # the block has ended while the other thread was inside its hook
    worker.join(30)
    assert errors == []
    assert events.listeners == []


def test_a_nan_tensor_is_snapshotted_once_not_at_every_step():
    with gradlab.record() as rec:
        big = gradlab.tensor(np.full(100, np.nan))
        for _ in range(20):
            gradlab.ones(2) * 2
    key = rec.key_of(big)
    assert sum(key in step.changed for step in rec.steps) == 1
