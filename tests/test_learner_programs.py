"""The walkthrough of programs learners write (tests/learner_programs.py), checked against
torch: every gradient a frame shows moving along an edge is the one torch sends along that
edge, watched with node hooks; and every backward step is told with its numbers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import gradlab
from gradlab.narration import number, shape_text
from tests.learner_programs import PROGRAMS

Flows = list[list[tuple[int, str, int, str, int, np.ndarray]]]


def numbered(root: Any) -> list[Any]:
    """The nodes reachable from ``root``, breadth first in ``next_functions`` order: the
    same numbering in both libraries, whose graphs have the same shape."""
    order, seen = [root], {id(root)}
    for node in order:
        for target, _ in node.next_functions:
            if target is not None and id(target) not in seen:
                seen.add(id(target))
                order.append(target)
    return order


def torch_flows(torch: Any, program: Callable) -> Flows:
    """What each torch node sends along each ``next_functions`` slot, per backward pass:
    ``(node number, node name, slot, target name, target index, gradient)``."""
    passes: Flows = []

    def backward(y: Any, **kwargs: Any) -> None:
        flows: list = []

        def watch(k: int, node: Any) -> Callable:
            def hook(grad_inputs: tuple, grad_outputs: tuple) -> None:
                for position, ((target, index), grad) in enumerate(
                    zip(node.next_functions, grad_inputs)
                ):
                    if target is not None and grad is not None:
                        value = np.array(grad.detach().numpy(), copy=True)
                        flows.append((k, node.name(), position, target.name(), index, value))

            return hook

        nodes = enumerate(numbered(y.grad_fn))
        handles = [node.register_hook(watch(k, node)) for k, node in nodes if node.next_functions]
        try:
            y.backward(**kwargs)
        finally:
            for handle in handles:
                handle.remove()
            passes.append(sorted(flows, key=lambda f: f[:3]))

    program(torch, backward)
    return passes


def gradlab_walk(program: Callable) -> gradlab.Walkthrough:
    with gradlab.record() as rec:
        program(gradlab, lambda y, **kwargs: y.backward(**kwargs))
    return gradlab.Walkthrough(rec)


def gradlab_flows(walk: gradlab.Walkthrough) -> Flows:
    """The walkthrough's flows in the same form as :func:`torch_flows`."""
    rec = walk.recording
    passes: Flows = []
    for frame in walk.frames:
        if frame.step.kind == "BackwardStarted":
            ids = {id(n): k for k, n in enumerate(numbered(frame.step.event.roots[0][0]))}
            passes.append([])
        for f in frame.flows:
            source = ids[id(rec.node_objects[f.source_key])]
            passes[-1].append((source, f.source, f.position, f.target, f.index, f.value))
    return [sorted(flows, key=lambda f: f[:3]) for flows in passes]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__)
def test_every_flow_is_the_gradient_torch_sends_on_that_edge(oracle, program) -> None:
    theirs = oracle(lambda torch: torch_flows(torch, program))
    ours = gradlab_flows(gradlab_walk(program))
    assert [len(p) for p in ours] == [len(p) for p in theirs]
    assert any(ours), "the program moves no gradient"
    for our_pass, their_pass in zip(ours, theirs):
        assert [f[:5] for f in our_pass] == [tuple(f[:5]) for f in their_pass]
        for ours_flow, theirs_flow in zip(our_pass, their_pass):
            np.testing.assert_allclose(
                ours_flow[5], theirs_flow[5], rtol=1e-5, atol=1e-6, err_msg=str(ours_flow[:5])
            )


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__)
def test_every_backward_step_is_told_with_its_numbers_and_shapes(program) -> None:
    walk = gradlab_walk(program)
    rec = walk.recording
    for frame in walk.frames:
        text = frame.narration
        assert text and "{" not in text and not re.search(r"\btensor \d", text)
        if frame.step.kind == "OpApplied":
            for out in frame.step.event.outputs:
                data = walk.state_at(rec.key_of(out), walk.frames.index(frame)).data
                if data.size > 8:
                    assert f"a {shape_text(data.shape)} tensor" in text
        if frame.step.kind != "NodeExecuted":
            continue
        node = frame.step.event.node
        assert text.startswith(f"{walk.display_name(rec.key_of(node))} receives ")
        assert type(node).derivatives  # the local derivative is declared beside backward
        for flow in frame.flows:
            value = number(flow.value, "gradient")
            assert f" {value} " in text or f" {value}" in text.split(" to ")[0] + " "
            assert f" to {walk.display_name(flow.target_key)}" in text
            if flow.value.size > 8:
                assert f"a {shape_text(flow.value.shape)} gradient" in text


def test_the_corpus_covers_every_op_the_narration_must_explain() -> None:
    seen = set()
    for program in PROGRAMS:
        walk = gradlab_walk(program)
        seen |= {info.name for info in walk.recording.nodes.values()}
    wanted = {
        "PowBackward0",
        "PowBackward1",
        "PowBackward2",
        "SumBackward0",
        "SumBackward1",
        "MeanBackward0",
        "MeanBackward1",
        "MmBackward0",
        "MvBackward0",
        "DotBackward0",
        "ReluBackward0",
        "TanhBackward0",
        "ExpBackward0",
        "LogBackward0",
        "SigmoidBackward0",
        "SqrtBackward0",
        "AbsBackward0",
        "DivBackward0",
        "SubBackward0",
        "RsubBackward1",
        "NegBackward0",
        "ViewBackward0",
        "TransposeBackward0",
        "PermuteBackward0",
        "UnsqueezeBackward0",
        "SelectBackward0",
        "SliceBackward0",
        "IndexBackward0",
        "CatBackward0",
        "StackBackward0",
        "UnbindBackward0",
        "CloneBackward0",
        "CubeBackward",
    }
    assert wanted <= seen, sorted(wanted - seen)
    assert len(PROGRAMS) >= 25


def test_a_thousand_op_recording_builds_its_walkthrough_and_steps() -> None:
    with gradlab.record() as rec:
        x0 = gradlab.tensor(1.0, requires_grad=True)
        x = x0
        for _ in range(500):
            x = x * 1.01 + x0
        x.backward()
    walk = gradlab.Walkthrough(rec)
    assert len(walk) == len(rec.steps) - 1  # AccumulateGrad's step is told by its accumulation
    seen = 0
    while walk.index < len(walk) - 1:
        walk.next()
        seen += bool(walk.narration)
    assert seen == len(walk) - 1
    grad = walk.state_at(rec.key_of(x0), len(walk) - 1).grad
    assert grad == pytest.approx(sum(1.01**k for k in range(501)), rel=1e-4)  # float32 sums
    assert walk.narration.startswith(f"The backward pass is done: x0.grad = {number(grad)}. ")
