"""Predict mode as a model: questions from the real flows, right, wrong, reveal, the score,
tensors, typed input, and nothing hidden in what a front end is given."""

from __future__ import annotations

import json

import pytest

import gradlab
from gradlab.predict import HIDDEN_LABEL, Predictor, parse_answer
from tests.recorded import chain_walkthrough


def _only(p: Predictor, n: int) -> int:
    """The frame of the n-th question-asking frame."""
    return p.asking()[n]


def test_questions_are_the_flows_of_the_frames_that_send_gradients():
    w = gradlab.Walkthrough(gradlab.examples.div_add_graph())
    p = Predictor(w)
    asking = p.asking()
    assert asking == tuple(i for i, f in enumerate(w.frames) if f.flows)
    assert len(asking) == 5
    for i in asking:
        flows = w.frames[i].flows
        assert [q.flow for q in p.questions(i)] == list(flows)
        assert [q.key for q in p.questions(i)] == [f"{f.source_key}.{f.position}" for f in flows]
    first = p.questions(asking[0])
    assert [q.prompt for q in first] == [
        "What does MulBackward0 of k send to AddBackward0 of j?",
        "What does MulBackward0 of k send to DivBackward0 of i?",
    ]
    assert p.questions(0) == ()


def test_a_right_answer_gets_a_tick_shows_the_value_and_scores():
    p = Predictor(chain_walkthrough())
    i = _only(p, 1)  # MulBackward0 of c sends 5 × b = 15 to a
    assert p.hidden(i, 0)
    verdict = p.answer(i, 0, "15")
    assert bool(verdict) is True
    assert verdict.message == "✓ Right: 15.0."
    assert p.status(i, 0) == "right" and not p.hidden(i, 0)
    assert (p.right, p.scored, p.score_text) == (1, 1, "1 of 1 right")


def test_a_wrong_answer_gets_the_local_derivative_in_symbols_not_the_value():
    p = Predictor(chain_walkthrough())
    i = _only(p, 1)
    verdict = p.answer(i, 0, "6")
    assert bool(verdict) is False
    assert verdict.message.startswith("✗ Not quite. Hint: ")
    assert "MulBackward0 of c sends grad × b here" in verdict.message
    assert "15" not in verdict.message and "3" not in verdict.message
    assert p.status(i, 0) == "wrong" and p.hidden(i, 0)
    assert p.score_text == "0 of 1 right"
    # a second try may be right: it shows the value, but the first answer counted
    assert p.answer(i, 0, "15")
    assert not p.hidden(i, 0)
    assert p.score_text == "0 of 1 right"


def test_the_hint_names_saved_tensors_results_and_constants():
    with gradlab.record() as rec:
        x = gradlab.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        z = (y * 3.0).sum()
        z.backward()
    p = Predictor(gradlab.Walkthrough(rec))
    hints = [q.hint for i in p.asking() for q in p.questions(i)]
    assert hints == [
        "SumBackward0 of z sends grad copied to every element of shape (2,) here "
        "(grad: what it receives).",
        "MulBackward0 of tmp1 sends grad × 3.0 here (grad: what it receives).",
        "ExpBackward0 of y sends grad × y here (grad: what it receives).",
    ]


def test_reveal_shows_the_answer_and_counts_as_a_miss():
    p = Predictor(chain_walkthrough())
    i = _only(p, 1)
    p.reveal(i)
    assert p.status(i, 0) == "revealed" and not p.hidden(i, 0)
    assert p.public(i)["questions"][0]["message"] == "The answer: 15.0."
    assert p.score_text == "0 of 1 right"
    # answering after the reveal changes neither the status nor the score
    assert p.answer(i, 0, "15")
    assert p.status(i, 0) == "revealed" and p.score_text == "0 of 1 right"


def test_reveal_after_a_right_answer_keeps_it_right():
    p = Predictor(chain_walkthrough())
    i = _only(p, 1)
    p.answer(i, 0, "15")
    p.reveal(i)
    assert p.status(i, 0) == "right" and p.score_text == "1 of 1 right"


def test_the_score_counts_each_question_once_over_a_whole_run():
    w = gradlab.Walkthrough(gradlab.examples.div_add_graph())
    p = Predictor(w)
    # the values a learner works out by hand for lesson 5 (k = (g/h + h) * g/h)
    hand = {"n6": [8, 10], "n5": [8, 8], "n4": [9, -72], "n2": [18], "n1": [36]}
    wrong = {("n4", 1)}  # the learner forgets the minus sign here
    asked = 0
    for i in p.asking():
        for q in p.questions(i):
            asked += 1
            value = hand[q.flow.source_key][q.flow.position]
            if (q.flow.source_key, q.flow.position) in wrong:
                value = -value
            p.answer(i, q.flow.position, str(value))
    assert asked == 8
    assert p.score_text == "7 of 8 right"
    assert p.status(p.asking()[2], 1) == "wrong"


def test_several_flows_in_one_step_are_asked_and_shown_one_by_one():
    w = gradlab.Walkthrough(gradlab.examples.div_add_graph())
    p = Predictor(w)
    i = p.asking()[0]  # MulBackward0 of k sends 8 to j's node and 10 to i's node
    p.answer(i, 1, "10")
    assert p.hidden(i, 0) and not p.hidden(i, 1)
    assert not p.settled(i)
    labels = {q["key"]: q["label"] for q in p.public(i)["questions"]}
    assert labels == {"n6.0": HIDDEN_LABEL, "n6.1": "grad 10."}
    assert p.narration(i).startswith("MulBackward0 of k receives 1.0. Predict what it sends")
    assert "10" not in p.narration(i)
    p.answer(i, 0, "8")
    assert p.settled(i)
    assert p.narration(i) == w.frames[i].narration


def test_tensor_answers_compare_element_by_element_and_by_shape():
    w = gradlab.Walkthrough(gradlab.examples.unbind())
    p = Predictor(w)
    i = p.asking()[-1]  # UnbindBackward0 sends [6, 3, 2] to AccumulateGrad of a
    assert not p.answer(i, 0, "[6, 3]")
    assert "Wrong shape" in p.answer(i, 0, "[6, 3]").message
    assert "1 of 3 numbers are off" in p.answer(i, 0, "[6, 3, 3]").message
    assert p.answer(i, 0, "[6.0, 3, 2.00001]")
    assert p.score_text == "0 of 1 right"


def test_a_broadcast_input_gets_its_gradient_summed_back():
    with gradlab.record() as rec:
        x = gradlab.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        b = gradlab.tensor([10.0, 20.0], requires_grad=True)
        y = (x + b).sum()
        y.backward()
    p = Predictor(gradlab.Walkthrough(rec))
    i = p.asking()[-1]  # AddBackward0 sends ones to x and [2, 2] to b
    q_x, q_b = p.questions(i)
    assert "summed back" in q_b.hint
    assert p.answer(i, q_x.flow.position, "[[1, 1], [1, 1]]")
    assert not p.answer(i, q_b.flow.position, "[[1, 1], [1, 1]]")
    assert p.answer(i, q_b.flow.position, "[2, 2]")


def test_answers_are_the_engines_flows_not_a_recomputation():
    class Twice(gradlab.autograd.Function):  # a backward that is deliberately not the derivative
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            return grad * 42.0

    with gradlab.record() as rec:
        a = gradlab.tensor(1.0, requires_grad=True)
        Twice.apply(a).backward()
    p = Predictor(gradlab.Walkthrough(rec))
    i = p.asking()[-1]
    assert not p.answer(i, 0, "1")
    assert p.answer(i, 0, "42")
    assert "what your backward(ctx, grad) returned for input 0" in p.questions(i)[0].hint


def test_hidden_values_are_not_in_what_the_front_end_gets_before_the_answer():
    w = chain_walkthrough()
    p = Predictor(w)
    i = _only(p, 1)
    record = w.view.step(i)
    assert ["e", "n1.0", "grad 15."] in record["notes"]  # the picture's own label
    before = json.dumps([p.public(i), p.redact(record, i)], ensure_ascii=False)
    assert "15" not in before
    assert HIDDEN_LABEL in before
    p.answer(i, 0, "14")
    assert "15" not in json.dumps([p.public(i), p.redact(record, i)], ensure_ascii=False)
    p.answer(i, 0, "15")
    after = p.redact(record, i)
    assert ["e", "n1.0", "grad 15."] in after["notes"]
    assert after["text"] == w.frames[i].narration and "15" in after["text"]


def test_the_sum_at_a_target_stays_hidden_with_the_value_that_made_it():
    w = gradlab.Walkthrough(gradlab.examples.div_add_graph())
    p = Predictor(w)
    i = p.asking()[1]  # AddBackward0 of j: DivBackward0 of i now holds 10 + 8 = 18
    record = w.view.step(i)
    assert any(n[0] == "b" and "18" in n[2] for n in record["notes"])
    hidden = p.redact(record, i)
    assert "18" not in json.dumps(hidden)
    assert record["notes"] != hidden["notes"]  # the record itself is not changed
    p.reveal(i)
    assert p.redact(record, i) == record


def test_bad_input_is_told_and_changes_nothing():
    p = Predictor(chain_walkthrough())
    i = _only(p, 1)
    verdict = p.answer(i, 0, "fifteen")
    assert not verdict and "cannot be read as a number" in verdict.message
    assert p.status(i, 0) == "open" and p.score_text == "0 of 0 right"
    with pytest.raises(IndexError, match="sends no gradient along edge 3"):
        p.answer(i, 3, "15")
    with pytest.raises(IndexError):
        p.reveal(i, 3)
    with pytest.raises(IndexError):
        p.reveal(0, 0)
    assert p.scored == 0


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("-64.0", -64.0),
        (" 1/3 ", 1 / 3),
        ("−2", -2),
        ("2×3", 6),
        ("2**3", 8),
        ("1e-3", 0.001),
        ("[6, 3, 2]", [6, 3, 2]),
        ("(6, 3, 2)", [6, 3, 2]),
        ("[[1, -2], [1/2, +3]]", [[1, -2], [0.5, 3]]),
        ("tensor([6., 3., 2.])", [6.0, 3.0, 2.0]),
        ("torch.tensor(-1.5)", -1.5),
        ("np.array([1, 2])", [1, 2]),
    ],
)
def test_typed_answers_are_read_as_numbers(text, value):
    assert parse_answer(text) == value


@pytest.mark.parametrize(
    "text",
    ["", "   ", "abc", "__import__('os')", "1/0", "[1, 2] * 2", "-[1]", "True", "'3'", "9**999"],
)
def test_anything_else_is_refused_with_examples(text):
    with pytest.raises(ValueError, match="number"):
        parse_answer(text)


def _converging(L):
    """Lesson 5's shape with tensors: c and h reach k along several paths."""
    a, b = L.tensor([1.0, -2.0]), L.tensor(2.0)
    c = a * b
    c.requires_grad_()
    h = L.tensor([0.5, 4.0], requires_grad=True)
    return ((c / h + h) * (c / h)).sum()


def _sent_by_each_node(torch):
    """What each of torch's nodes sends, in the order they run (node post-hooks)."""
    k = _converging(torch)
    sent, seen, stack = [], set(), [k.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen or node.name().endswith("AccumulateGrad"):
            continue
        seen.add(node)
        node.register_hook(
            lambda gi, go, n=node: sent.append(
                [n.name(), [None if g is None else g.tolist() for g in gi]]
            )
        )
        stack.extend(nxt for nxt, _ in node.next_functions)
    k.backward()
    return sent


def test_parity_each_answer_is_torchs_gradient_on_that_edge(oracle):
    with gradlab.record() as rec:
        _converging(gradlab).backward()
    p = Predictor(gradlab.Walkthrough(rec))
    theirs = oracle(_sent_by_each_node)
    assert [p.questions(i)[0].flow.source for i in p.asking()] == [n for n, _ in theirs]
    for (_, grads), i in zip(theirs, p.asking()):
        assert [q.flow.position for q in p.questions(i)] == [
            n for n, g in enumerate(grads) if g is not None
        ]
        for q in p.questions(i):
            assert p.answer(i, q.flow.position, json.dumps(grads[q.flow.position]))
    asked = sum(g is not None for _, grads in theirs for g in grads)
    assert p.score_text == f"{asked} of {asked} right"


def test_presenter_mode_holds_back_each_steps_new_values_until_revealed():
    w = chain_walkthrough()
    p = Predictor(w)
    kinds = [f.step.kind for f in w.frames]
    op = kinds.index("OpApplied")  # c = a * b = 6
    acc = kinds.index("GradAccumulated")  # a.grad: None -> 15
    assert not p.holding(op)  # predict mode alone holds nothing back
    assert p.narration(op) == w.frames[op].narration
    p.presenter = True
    assert p.held(op) == ("t2",) and p.held(acc) == ("t0",)
    assert p.held(0) == ()  # a created: its value is in the line of code
    assert p.holding(op) and p.public(op)["held"] is True
    assert p.narration(op).startswith("c = ?. An input requires grad")
    assert p.narration(acc).endswith("it was None, now it is ?.")
    record = w.view.step(acc)
    assert ["b", "t0", "grad None → 15.0", ""] in record["notes"]
    held = p.redact(record, acc)
    assert held["mask"] == ["t0"] and not any(n[1] == "t0" for n in held["notes"])
    assert held["text"] == p.narration(acc)
    p.reveal(acc)
    assert not p.holding(acc) and p.redact(record, acc) == record
    assert p.narration(acc) == w.frames[acc].narration
    assert p.holding(op)  # each step is revealed on its own
    assert p.score_text == "0 of 0 right"  # revealing a forward value scores nothing
