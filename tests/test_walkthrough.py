"""The recording and the walkthrough model, stepped end to end on the SPEC's five programs."""

from __future__ import annotations

import gc
import re
import tracemalloc
import xml.etree.ElementTree as ET

import pytest

import gradlab
from gradlab.autograd.engine import GraphTask
from gradlab.examples import chained_multiply as lesson2
from gradlab.examples import div_add_graph as lesson5
from gradlab.examples import multiply as lesson1
from gradlab.examples import unbind as lesson4
from gradlab.examples import version_counter as lesson3
from tests.recorded import program_source

FREED = (
    " The saved values of the graph are freed now (no retain_graph=True): a second backward "
    "through it would raise an error."
)


def narrations(rec: gradlab.Recording) -> list[str]:
    walk = gradlab.Walkthrough(rec)
    out = []
    for index in range(len(walk)):
        walk.goto(index)
        out.append(walk.narration)
    return out


def test_lesson1_narrates_the_multiply_with_real_numbers() -> None:
    rec = lesson1()
    assert [s.kind for s in rec.steps] == [
        "TensorCreated",
        "TensorCreated",
        "OpApplied",
        "BackwardStarted",
        "NodeExecuted",
        "GradAccumulated",
        "NodeExecuted",
        "BackwardFinished",
    ]
    assert rec.names == {"t0": "a", "t1": "b", "t2": "c"}
    told = narrations(rec)
    assert (
        "MulBackward0 of c receives 1.0 and sends 1.0 × b (3.0) = 3.0 to AccumulateGrad of a."
    ) in told
    assert "AccumulateGrad of a adds 3.0 into a.grad: it was None, now it is 3.0." in told
    assert told[-1] == "The backward pass is done: a.grad = 3.0." + FREED


def test_source_lines_point_at_the_code() -> None:
    rec = lesson1()
    assert [s.source for s in rec.steps[:4]] == [
        "a = gradlab.tensor(2.0, requires_grad=True)",
        "b = gradlab.tensor(3.0)",
        "c = a * b",
        "c.backward()",
    ]


def test_lesson2_chained_grads() -> None:
    told = " ".join(narrations(lesson2()))
    assert "The backward pass is done: a.grad = 12.0, b.grad = 8.0, d.grad = 6.0." in told
    assert (  # c is passed 4, not stored
        "MulBackward0 of e receives 1.0 and sends 1.0 × d (4.0) = 4.0 to MulBackward0 of c "
        "and 1.0 × c (6.0) = 6.0 to AccumulateGrad of d."
    ) in told


def test_lesson3_error_is_a_step_naming_the_saved_tensor_and_versions() -> None:
    rec = lesson3()
    walk = gradlab.Walkthrough(rec)
    walk.goto(len(walk) - 1)
    assert walk.phase == "error"
    assert "unpacks its saved self (c)" in walk.narration
    assert "saved at version 0 but is now at version 1" in walk.narration
    inplace = [s for s in rec.steps if s.kind == "InplaceApplied"]
    assert inplace and inplace[0].event.version == 1


def test_lesson4_unbind_indices_and_grads() -> None:
    rec = lesson4()
    told = " ".join(narrations(rec))
    assert "shared by all 3 outputs" in told
    # the two parallel edges into UnbindBackward0 carry different gradients
    assert (
        "MulBackward0 of tmp1 receives 3.0 and sends 3.0 × c (2.0) = 6.0 to UnbindBackward0 "
        "of b, c, d as output 0 (b) and 3.0 × b (1.0) = 3.0 to UnbindBackward0 of b, c, d as "
        "output 1 (c)."
    ) in told
    assert (
        "UnbindBackward0 of b, c, d receives 6.0 (output 0), 3.0 (output 1), 2.0 (output 2) "
        "and sends the outputs' gradients (6.0, 3.0, 2.0) stacked along dim 0 = "
        "[6.0, 3.0, 2.0] to AccumulateGrad of a."
    ) in told
    assert "a.grad = [6.0, 3.0, 2.0]" in told


def test_lesson5_convergence_and_final_grads() -> None:
    told = narrations(lesson5())
    joined = " ".join(told)
    assert "8.0 + (-72.0) = -64.0" in joined  # h receives two gradients
    assert "10.0 + 8.0 = 18.0" in joined  # i's gradients converge at DivBackward0
    assert "i's retain_grad hook runs before DivBackward0 of i and keeps 18.0 in i.grad." in told
    assert told[-1] == (
        "The backward pass is done: c.grad = 36.0, h.grad = -64.0, i.grad = 18.0." + FREED
    )


def test_backward_steps_follow_the_engines_real_order() -> None:
    rec = lesson5()
    recorded = [rec.key_of(s.event.node) for s in rec.steps if s.kind == "NodeExecuted"]
    # PyTorch's order: newest node first among the ready ones, AccumulateGrad at once
    names = [rec.nodes[key].name for key in recorded]
    assert names == [
        "MulBackward0",
        "AddBackward0",
        "DivBackward0",
        "AccumulateGrad",
        "MulBackward0",
        "MulBackward0",
        "AccumulateGrad",
    ]
    x = gradlab.tensor(2.0, requires_grad=True)
    y = x * 3
    task = GraphTask([(y.grad_fn, 0)], [gradlab.ones(()).numpy()], trace=True)
    kinds = [type(e).__name__ for e in task.steps()]
    assert kinds == [
        "BackwardStarted",
        "NodeExecuted",
        "GradientSent",
        "GradAccumulated",
        "NodeExecuted",
        "BackwardFinished",
    ]


def test_exception_in_block_is_recorded_then_propagates() -> None:
    with pytest.raises(RuntimeError, match="must match the size"):
        with gradlab.record() as rec:
            x = gradlab.ones(3)
            y = gradlab.ones(4)
            x + y
    assert rec.steps[-1].kind == "Error"
    assert rec.steps[-1].source == "x + y"
    assert gradlab.autograd.events.listeners == []


def test_explicit_names_for_code_outside_the_block() -> None:
    def make() -> gradlab.Tensor:
        return gradlab.name(gradlab.tensor(1.0, requires_grad=True), "weight")

    with gradlab.record() as rec:
        w = make()
        loss = w * 2
    assert rec.name_of(w) == "weight"
    assert rec.name_of(loss) == "loss"


def test_frames_render_the_same_bytes_twice_and_parse() -> None:
    first = gradlab.Walkthrough(lesson5())
    second = gradlab.Walkthrough(lesson5())
    for index in (0, 10, len(first) - 1):
        assert first.frame_svg(index) == second.frame_svg(index)
        ET.fromstring(first.frame_svg(index))
    assert gradlab.show(lesson1()).to_png() == gradlab.show(lesson1()).to_png()


def test_names_are_escaped_in_svg_and_html() -> None:
    with gradlab.record() as rec:
        x = gradlab.name(gradlab.tensor(2.0, requires_grad=True), "<script>alert(1)</script>")
        y = x * 2
        y.backward()
    walk = gradlab.Walkthrough(rec)
    svg = walk.to_svg()
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    page = walk.to_html()
    assert page.count("<script") == 1  # only the page's own stepping code
    assert "\\u003cscript>alert(1)" in page


def test_html_export_stores_the_picture_once_and_every_step_and_no_network() -> None:
    walk = gradlab.Walkthrough(lesson1())
    page = walk.to_html()
    assert page.count("\\u003csvg") == 1  # the drawing once; each step is a small record
    from gradlab.stepview import to_json

    assert all(to_json(f.narration)[1:-1] in page for f in walk.frames)
    assert "function createView" in page and "export " not in page
    # XML namespace names are no loads; nothing is fetched by src/href/url()
    assert not re.search(r"""(src|href)\s*=\s*\\?["']https?:|url\(\s*["']?https?:""", page)


def test_goto_clamps_and_steps() -> None:
    walk = gradlab.Walkthrough(lesson1())
    walk.goto(-5)
    assert walk.index == 0
    walk.next()
    walk.next()
    walk.prev()
    assert walk.index == 1
    walk.goto(999)
    assert walk.index == len(walk) - 1
    walk.reset()
    assert walk.index == 0 and walk.phase == "forward"


def test_core_import_stays_free_of_the_drawing_stack() -> None:
    import subprocess
    import sys

    code = (
        "import sys, gradlab; print(sorted(m for m in ('matplotlib', 'ipywidgets', "
        "'networkx', 'gradlab.recording') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_memory_growth_over_many_record_step_close_cycles() -> None:
    def cycle() -> None:
        with gradlab.record() as rec:
            a = gradlab.tensor(2.0, requires_grad=True)
            b = gradlab.tensor(3.0)
            c = a * b
            c.backward()
        walk = gradlab.Walkthrough(rec)
        walk.goto(3)
        walk.next()

    for _ in range(20):
        cycle()
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(200):
            cycle()
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(800):
            cycle()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after - before < 200_000, f"grew by {after - before} bytes over 800 cycles"


def test_ops_inside_custom_functions_and_hooks_are_not_steps_of_their_own() -> None:
    class Square(gradlab.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    with gradlab.record() as rec:
        z = gradlab.tensor(3.0, requires_grad=True)
        z.register_hook(lambda g: g * 2)
        s = Square.apply(z)
        s.backward()
    kinds = [step.kind for step in rec.steps]
    assert kinds.count("OpApplied") == 1  # Square itself; not the x * x inside it
    assert rec.steps[kinds.index("OpApplied")].event.name == "Square"
    assert kinds.count("HookFired") == 1
    assert z.grad.item() == 12.0


def test_each_step_checks_only_the_tensors_it_can_have_changed(monkeypatch) -> None:
    checked: list[int] = []
    touched = gradlab.Recording._touched

    def counting(self, event):
        keys = touched(self, event)
        checked.append(len(keys))
        return keys

    monkeypatch.setattr(gradlab.Recording, "_touched", counting)
    with gradlab.record() as rec:
        x0 = gradlab.tensor(1.0, requires_grad=True)
        x = x0
        for _ in range(300):
            x = x * 1.01 + x0
        x.backward()
    assert len(checked) == len(rec.steps) == 1205
    # an op checks its inputs and outputs, a backward step its node's tensors: never all
    assert max(checked) <= 3
    assert len(rec.tensors) == 601


def test_in_place_changes_reach_every_tensor_sharing_the_storage() -> None:
    with gradlab.record() as rec:
        p = gradlab.tensor([1.0, 2.0], requires_grad=True)
        (p * p).sum().backward()
        with gradlab.no_grad():
            view = p[0:1]
            p -= 0.5 * p.grad
        p.grad.zero_()
    walk = gradlab.Walkthrough(rec)
    last = len(walk) - 1
    key_p, key_view = rec.key_of(p), rec.key_of(view)
    assert walk.state_at(key_p, last).data.tolist() == [0.0, 0.0]
    assert walk.state_at(key_view, last).data.tolist() == [0.0]  # changed through p
    assert walk.state_at(key_p, last).grad.tolist() == [0.0, 0.0]  # p.grad.zero_()
    assert walk.state_at(key_p, 0).data.tolist() == [1.0, 2.0]  # as it was created


def test_frames_hold_flows_and_no_copy_of_the_state() -> None:
    walk = gradlab.Walkthrough(lesson4())
    assert not hasattr(walk.frames[0], "states") and not hasattr(walk.frames[0], "nodes")
    rec = walk.recording
    mul_tmp = next(f for f in walk.frames if f.narration.startswith("MulBackward0 of tmp"))
    flows = [(f.source, f.position, f.target, f.index, f.value.tolist()) for f in mul_tmp.flows]
    assert flows == [
        ("MulBackward0", 0, "UnbindBackward0", 0, 6.0),
        ("MulBackward0", 1, "UnbindBackward0", 1, 3.0),
    ]
    a = rec.key_of(rec.tensors["t0"])
    acc = rec.nodes[mul_tmp.flows[0].target_key].next[0][0]
    assert walk.display_name(a) == "a"
    assert walk.display_name(acc) == "AccumulateGrad of a"
    assert walk.display_name(mul_tmp.flows[0].source_key) == "MulBackward0 of tmp1"
    assert walk.display_name(mul_tmp.flows[0].target_key) == "UnbindBackward0 of b, c, d"
    assert walk.appears_at[a] == 0 and walk.appears_at[acc] == 1  # with unbind's node
    assert walk.state_at(a, 0).grad is None
    assert walk.state_at(a, len(walk) - 1).grad.tolist() == [6.0, 3.0, 2.0]
    assert walk.state_at("t4", 1) is None  # e does not exist yet


def test_unnamed_tensors_get_one_automatic_name_in_show_and_the_stepper() -> None:
    with gradlab.record() as rec:
        a = gradlab.tensor(2.0, requires_grad=True)
        e = (a * 3) * a
    hidden = e.grad_fn.next_functions[0][0]
    walk = gradlab.Walkthrough(rec)
    (inner,) = [k for k in rec.tensors if rec.names[k] not in ("a", "e")]
    name = walk.display_name(inner)
    assert re.fullmatch(r"tmp\d+", name)
    assert hidden is rec.tensors[inner].grad_fn
    picture = gradlab.show(e)
    assert name in [b.title for b in picture.scene.boxes]


@pytest.mark.parametrize("program", gradlab.examples.ALL, ids=lambda f: f.__name__)
def test_examples_are_the_lessons_recorded_programs(program) -> None:
    import json
    import pathlib
    import textwrap

    number = gradlab.examples.ALL.index(program) + 1
    (path,) = pathlib.Path(__file__).parent.parent.glob(f"lessons/0{number}_*.ipynb")
    cells = ["".join(c["source"]) for c in json.loads(path.read_text())["cells"]]
    (cell,) = [c for c in cells if c.startswith("with gradlab.record() as rec:")]
    in_lesson = cell.split("\n\n")[0].replace("gradlab.record()", "record()")
    in_example = "with record() as rec:\n" + textwrap.indent(program_source(program), "    ")
    assert in_example.strip() == in_lesson.strip()


def told(rec: gradlab.Recording, kind: str) -> list[str]:
    return [f.narration for f in gradlab.Walkthrough(rec).frames if f.step.kind == kind]


def test_values_are_told_as_they_were_at_that_step() -> None:
    with gradlab.record() as rec:
        p = gradlab.tensor(1.0, requires_grad=True)
        loss = p * 3
        loss.backward()
        with gradlab.no_grad():
            p -= 0.1 * p.grad
        loss = p * 3
        loss.backward()
    assert told(rec, "TensorCreated") == [
        "p is created: a leaf holding 1.0 with requires_grad=True, so it is on the graph and "
        "its gradient will land in p.grad."
    ]
    assert told(rec, "InplaceApplied") == [
        "p -= 0.1 * p.grad changes p in place to 0.7: its version goes from 0 to 1."
    ]
    assert told(rec, "GradAccumulated") == [
        "AccumulateGrad of p adds 3.0 into p.grad: it was None, now it is 3.0.",
        "AccumulateGrad of p adds 3.0 into p.grad: it was 3.0, now it is 6.0.",
    ]
    walk = gradlab.Walkthrough(rec)
    key = rec.key_of(p)
    assert [walk.state_at(key, i).data.item() for i in (0, len(walk) - 1)] == [
        1.0,
        pytest.approx(0.7),
    ]


def test_an_upstream_gradient_is_told_as_a_vector_jacobian_product() -> None:
    with gradlab.record() as rec:
        x = gradlab.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.backward(gradient=gradlab.tensor([1.0, -1.0]))
    assert told(rec, "BackwardStarted") == [
        "y.backward(gradient=gradlab.tensor([1.0, -1.0])) starts the backward pass: the "
        "upstream gradient [1.0, -1.0] (of the loss with respect to y) is handed to "
        "MulBackward0 of y, so backward computes the vector–Jacobian product: each input's "
        "gradient is that vector times the Jacobian of y."
    ]


def test_broadcasting_is_told_as_a_sum_and_shapes_are_kept() -> None:
    with gradlab.record() as rec:
        m = gradlab.ones(3, 3, requires_grad=True)
        b = gradlab.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = m * b
        y.sum().backward()
    assert told(rec, "NodeExecuted")[1] == (
        "MulBackward0 of y receives a 3×3 gradient and sends a 3×3 gradient × b "
        "([1.0, 2.0, 3.0]) = a 3×3 gradient to AccumulateGrad of m and a 3×3 gradient × m, "
        "summed over dim 0 to shape (3,) = [3.0, 3.0, 3.0] to AccumulateGrad of b."
    )


def test_a_failing_backward_is_a_step_with_a_hint() -> None:
    hint = (
        "y.backward(): RuntimeError: grad can be implicitly created only for scalar outputs. "
        "backward() without an argument needs a single number to start from. Hint: call "
        ".sum() first or pass gradient= (a tensor of the output's shape)."
    )
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        with gradlab.record() as rec:
            x = gradlab.tensor([1.0, 2.0], requires_grad=True)
            y = x * 3
            y.backward()
    with gradlab.record() as caught:
        x = gradlab.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        try:
            y.backward()
        except RuntimeError:
            pass
    for recording in (rec, caught):
        assert [s.kind for s in recording.steps][-1] == "BackwardFailed"
        walk = gradlab.Walkthrough(recording)
        walk.goto(len(walk) - 1)
        assert walk.phase == "error"
        assert walk.narration == hint


def test_saved_values_are_freed_after_backward_and_marked_when_their_version_moved() -> None:
    walk = gradlab.Walkthrough(lesson5())
    rec = walk.recording
    (div,) = [k for k in rec.nodes if walk.display_name(k) == "DivBackward0 of i"]
    ran = next(i for i, f in enumerate(walk.frames) if f.flows and f.flows[0].source_key == div)
    assert walk.freed_at(div) == ran + 1
    assert [s.freed for s in walk.saved_at(div, ran)] == [False, False]
    assert [(s.slot, s.freed) for s in walk.saved_at(div, ran + 1)] == [
        ("self", True),
        ("other", True),
    ]
    (add,) = [k for k in rec.nodes if walk.display_name(k) == "AddBackward0 of j"]
    assert walk.freed_at(add) is None  # it saved nothing

    walk = gradlab.Walkthrough(lesson3())
    rec = walk.recording
    (node,) = [k for k in rec.nodes if walk.display_name(k) == "MulBackward0 of e"]
    changed = next(i for i, f in enumerate(walk.frames) if f.step.kind == "InplaceApplied")
    before, after = walk.saved_at(node, changed - 1), walk.saved_at(node, changed)
    assert [(s.slot, s.version, s.current_version, s.stale) for s in before] == [
        ("self", 0, 0, False),
        ("other", 0, 0, False),
    ]
    assert [(s.slot, s.version, s.current_version, s.stale) for s in after] == [
        ("self", 0, 1, True),
        ("other", 0, 0, False),
    ]
    assert float(after[0].value) == 6.0  # the value it saved, not c's 7 now


def test_a_graph_seen_after_backward_knows_its_saved_values_were_freed() -> None:
    a = gradlab.tensor(2.0, requires_grad=True)
    c = a * a
    before = gradlab.Recording()
    seen_before = before.nodes[before._node_key(c.grad_fn)]
    c.backward()
    after = gradlab.Recording()
    assert not seen_before.freed and seen_before.saved
    seen_after = after.nodes[after._node_key(c.grad_fn)]
    assert seen_after.freed and not seen_after.saved


def test_a_torch_tensor_handed_to_gradlab_names_the_mix_up(torch) -> None:
    a = gradlab.tensor([1.0, 2.0], requires_grad=True)
    t = torch.tensor([1.0, 2.0])
    sentence = "got a torch.Tensor, but gradlab works on gradlab tensors"
    for mix in (
        lambda: a * t,
        lambda: t + a,
        lambda: a @ t,
        lambda: gradlab.stack([a, t]),
        lambda: gradlab.cat([a, t]),
        lambda: gradlab.show(t),
    ):
        with pytest.raises(TypeError, match=sentence):
            mix()


def test_a_sum_is_noted_where_the_gradients_meet() -> None:
    walk = gradlab.Walkthrough(lesson5())
    (frame,) = [f for f in walk.frames if f.narration.startswith("AddBackward0 of j")]
    (div,) = [k for k in walk.recording.nodes if walk.display_name(k) == "DivBackward0 of i"]
    assert dict(frame.highlight.box_notes) == {div: "Σ grad 18.0"}
    into_div = [f for f in frame.flows if f.target_key == div]
    assert [(f.value.item(), f.total.item()) for f in into_div] == [(8.0, 18.0)]
    into_h = [f for f in frame.flows if walk.display_name(f.target_key) == "AccumulateGrad of h"]
    assert [(f.value.item(), f.total.item()) for f in into_h] == [(8.0, 8.0)]


def test_an_in_place_change_names_the_tensors_sharing_the_storage() -> None:
    with gradlab.record() as rec:
        x = gradlab.tensor([1.0, 2.0], requires_grad=True)
        d = x.detach()
        d.add_(1)
        (x * x).sum().backward()
        x.grad.zero_()
    assert told(rec, "InplaceApplied") == [
        "d.add_(1) changes d in place to [2.0, 3.0]: its version goes from 0 to 1. x shares "
        "its storage and changed with it.",
        # PyTorch's first .grad is at version 1 (torch 2.13: x.grad._version is 1, then 2)
        "x.grad.zero_() changes x.grad in place to [0.0, 0.0]: its version goes from 1 to 2.",
    ]


def test_node_hooks_are_told_with_what_they_see() -> None:
    with gradlab.record() as rec:
        x = gradlab.tensor(2.0, requires_grad=True)
        y = x * 3
        y.grad_fn.register_prehook(lambda grads: (grads[0] * 2,))
        y.grad_fn.register_hook(lambda sent, received: None)
        z = y * y
        z.backward()
    assert told(rec, "HookFired") == [
        "A pre-hook on MulBackward0 of y sees the gradient 12.0 and replaces it with 24.0.",
        "A post-hook on MulBackward0 of y sees the gradients it received, 24.0, and the ones "
        "it sends, (72.0, None).",
    ]
