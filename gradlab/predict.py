"""Predict mode: each gradient a backward step sends stays hidden until the learner says it.

Over a :class:`~gradlab.Walkthrough`, every frame whose node sends gradients asks one
question per edge (one per :class:`~gradlab.frames.Flow`). The learner types a value ("3",
"-64.0", "[6, 3, 2]", "1/3") and gets ✓, or ✗ with a hint naming the node's local
derivative in symbols ("grad × b"), never the numbers of the answer; they can reveal it at
any time. The first answer to a question counts for the score (a reveal counts as a miss);
after a ✗ they may try again. The answers are the engine's own flows, never recomputed.

:meth:`Predictor.public` and :meth:`Predictor.redact` give what a front end may show of a
frame: a hidden value appears there only once it is answered right or revealed. With
``presenter = True`` (the presenter toggle) each step's new values are also held back ("?")
until the step is revealed: an op's results, a grad that arrives.

>>> import gradlab
>>> with gradlab.record() as rec:
...     a = gradlab.tensor(2.0, requires_grad=True)
...     b = gradlab.tensor(3.0)
...     c = a * b
...     c.backward()
>>> p = Predictor(gradlab.Walkthrough(rec))
>>> p.asking()
(4,)
>>> p.questions(4)[0].prompt
'What does MulBackward0 of c send to AccumulateGrad of a?'
>>> p.answer(4, 0, "2")
✗ Not quite. Hint: MulBackward0 of c sends grad × b here (grad: what it receives).
>>> p.answer(4, 0, "3")
✓ Right: 3.0.
>>> p.score_text
'0 of 1 right'
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from gradlab.checking import Verdict, check
from gradlab.frames import Flow
from gradlab.narration import _PLACEHOLDER, _attribute, _grads_text, derivative_rule, number
from gradlab.picture import values

if TYPE_CHECKING:
    from gradlab.walkthrough import Walkthrough

__all__ = ["Predictor", "Question", "parse_answer"]

#: the edge label of a gradient still to be predicted
HIDDEN_LABEL = "grad ?"

OPEN, WRONG, RIGHT, REVEALED = "open", "wrong", "right", "revealed"

#: the steps whose new values presenter mode holds back until revealed
HOLDING = ("OpApplied", "InplaceApplied", "GradAccumulated", "HookFired")


class Question(NamedTuple):
    """One hidden gradient: the flow along one edge at frame ``frame``."""

    frame: int
    flow: Flow
    prompt: str
    hint: str

    @property
    def key(self) -> str:
        """The edge's label key in the picture: ``"<source node key>.<position>"``."""
        return f"{self.flow.source_key}.{self.flow.position}"


class Predictor:
    """Predict mode over one walkthrough: questions, answers, reveals and the score."""

    def __init__(self, walkthrough: Walkthrough) -> None:
        self.w = walkthrough
        #: presenter mode: also hold back each step's new values (data, grad) until revealed
        self.presenter = False
        self._status: dict[tuple[int, int], str] = {}  # (frame, position) -> status
        self._messages: dict[tuple[int, int], str] = {}
        self._scored: dict[tuple[int, int], bool] = {}  # first answer or reveal: right?
        self._shown: set[int] = set()  # frames whose held values were revealed
        self._held_texts: list[str] | None = None  # narrations with them held back

    # --- questions ----------------------------------------------------------------------

    def asking(self) -> tuple[int, ...]:
        """The frames that ask something (those whose node sends gradients)."""
        return tuple(i for i, frame in enumerate(self.w.frames) if frame.flows)

    def questions(self, i: int) -> tuple[Question, ...]:
        """The questions of frame ``i``, one per gradient sent (none for other frames)."""
        frame = self.w.frames[i]
        return tuple(self._question(i, flow) for flow in frame.flows)

    def _question(self, i: int, flow: Flow) -> Question:
        source = self.w.display_name(flow.source_key)
        prompt = f"What does {source} send to {self._target(flow)}?"
        node = self.w.recording.node_objects[flow.source_key]
        rule = derivative_rule(node, flow.position)
        if rule is None:
            hint = f"{source} sends what its backward computes for this input."
        elif rule == "{grad}":
            hint = f"{source} passes grad on unchanged (grad: what it receives)."
        else:
            made = _PLACEHOLDER.sub(lambda m: self._symbol(flow, node, m.group(1)), rule)
            hint = f"{source} sends {made} here (grad: what it receives)."
        if getattr(node, "_fit", None) is not None:  # a BinaryNode's inputs were broadcast
            hint += " Where an input was broadcast, the gradient is summed back to its shape."
        return Question(i, flow, prompt, hint)

    def _target(self, flow: Flow) -> str:
        """The target node, and for a node of several outputs which one the gradient is for."""
        target = self.w.display_name(flow.target_key)
        owners = self.w.owners(flow.target_key)
        if self.w.recording.node_objects[flow.target_key].multi_output and flow.index < len(owners):
            return f"{target} for output {flow.index} ({self.w.display_name(owners[flow.index])})"
        return target

    def _symbol(self, flow: Flow, node: Any, token: str) -> str:
        """A placeholder of a derivative rule as a symbol: a tensor's name, not its value."""
        if token == "grad":
            return "grad"
        if token == "position":
            return str(flow.position)
        for slot, tkey, value, _ in self.w.recording.nodes[flow.source_key].saved:
            if slot != token:
                continue
            if tkey is not None:
                return self.w.display_name(tkey)
            owners = self.w.owners(flow.source_key)
            if slot == "result" and owners:
                return self.w.display_name(owners[0])
            return number(value) if np.size(value) == 1 else slot
        return _attribute(node, token)

    # --- answers ------------------------------------------------------------------------

    def answer(self, i: int, position: int, text: Any) -> Verdict:
        """The learner's value for the gradient on edge ``position`` of frame ``i`` (text
        as typed, or a number or list): ✓, or ✗ with the hint. The first answer counts."""
        q = self._find(i, position)
        slot = (i, position)
        try:
            value = parse_answer(text) if isinstance(text, str) else text
        except ValueError as error:
            verdict = Verdict(False, f"✗ {error}")
        else:
            verdict = check(value, q.flow.value, hint=q.hint)
            if verdict:
                verdict = Verdict(True, _right(q.flow))
            self._scored.setdefault(slot, bool(verdict))
            if self._status.get(slot) != REVEALED:
                self._status[slot] = RIGHT if verdict else WRONG
        self._messages[slot] = verdict.message
        return verdict

    def reveal(self, i: int, position: int | None = None) -> None:
        """Show the answer of one question of frame ``i`` (all of them, and the values it
        holds back, without ``position``); a question not answered yet counts as a miss."""
        if position is not None:
            self._find(i, position)
        else:
            self._shown.add(i)
        for q in self.questions(i):
            if position is not None and q.flow.position != position:
                continue
            slot = (i, q.flow.position)
            self._scored.setdefault(slot, False)
            if self._status.get(slot) != RIGHT:
                self._status[slot] = REVEALED
                self._messages[slot] = _revealed(q.flow)

    def status(self, i: int, position: int) -> str:
        """'open', 'wrong' (tried, still hidden), 'right' or 'revealed'."""
        self._find(i, position)
        return self._status.get((i, position), OPEN)

    def hidden(self, i: int, position: int) -> bool:
        """True while the value on that edge is not to be shown."""
        return self.status(i, position) in (OPEN, WRONG)

    def held(self, i: int) -> tuple[str, ...]:
        """The tensors whose new values frame ``i`` shows (an op's results, a grad that
        arrives): presenter mode holds them back until revealed."""
        step = self.w.frames[i].step
        if step.kind not in HOLDING:
            return ()
        return tuple(k for k in step.changed if k in self.w.recording.tensors)

    def holding(self, i: int) -> bool:
        """True while presenter mode holds back frame ``i``'s new values."""
        return self.presenter and i not in self._shown and bool(self.held(i))

    def settled(self, i: int) -> bool:
        """True when frame ``i`` hides nothing (every value answered right or revealed)."""
        return not any(self.hidden(i, q.flow.position) for q in self.questions(i))

    @property
    def right(self) -> int:
        """How many questions were answered right the first time."""
        return sum(self._scored.values())

    @property
    def scored(self) -> int:
        """How many questions were answered or revealed."""
        return len(self._scored)

    @property
    def score_text(self) -> str:
        """The running score: '7 of 9 right'."""
        return f"{self.right} of {self.scored} right"

    def _find(self, i: int, position: int) -> Question:
        for q in self.questions(i):
            if q.flow.position == position:
                return q
        raise IndexError(f"step {i + 1} sends no gradient along edge {position}")

    # --- what a front end may see -------------------------------------------------------

    def narration(self, i: int) -> str:
        """Frame ``i``'s narration, or while it hides values, its question without them
        (or, in presenter mode, its narration with the held values told as "?")."""
        frame = self.w.frames[i]
        if self.holding(i):
            if self._held_texts is None:
                self._held_texts = self.w.retold(self.held)
            return self._held_texts[i]
        if self.settled(i):
            return frame.narration
        node = self.w.display_name(frame.flows[0].source_key)
        received = _grads_text(frame.step.event.grads_in)
        targets = [self._target(f) for f in frame.flows]
        return (
            f"{node} receives {received}. Predict what it sends to {' and to '.join(targets)}: "
            'type a value for each edge marked "grad ?", or reveal the answer.'
        )

    def public(self, i: int) -> dict[str, Any]:
        """Frame ``i`` as a front end may show it: the narration, each question (its edge
        key, prompt, status, label and last message) and the score; no hidden value."""
        questions = []
        for q in self.questions(i):
            slot = (i, q.flow.position)
            hidden = self.hidden(i, q.flow.position)
            questions.append(
                {
                    "key": q.key,
                    "position": q.flow.position,
                    "prompt": q.prompt,
                    "status": self._status.get(slot, OPEN),
                    "label": HIDDEN_LABEL if hidden else _label(q.flow),
                    "message": self._messages.get(slot, ""),
                }
            )
        return {
            "text": self.narration(i),
            "questions": questions,
            "held": self.holding(i),
            "score": self.score_text,
        }

    def page_data(self, records: Mapping[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
        """What the exported page needs to ask, check and reveal without a kernel: for each
        frame that asks or holds values back (in presenter mode), its narration with the
        values held back, the notes of its picture record (from ``records``, the
        ``StepView.step`` records) with them hidden, the boxes to mask, and its questions
        with their answers. (A page is a file: its answers are in it, shown on demand.)"""
        fresh = Predictor(self.w)
        fresh.presenter = True
        out = {}
        for i in range(len(self.w.frames)):
            if not (self.w.frames[i].flows or fresh.held(i)):
                continue
            questions = [
                {
                    "key": q.key,
                    "position": q.flow.position,
                    "prompt": q.prompt,
                    "hint": q.hint,
                    "answer": np.asarray(q.flow.value, dtype=float).tolist(),
                    "right": _right(q.flow),
                    "reveal": _revealed(q.flow),
                }
                for q in fresh.questions(i)
            ]
            held = fresh.redact(records[i], i)
            out[i] = {
                "text": held["text"],
                "notes": held["notes"],
                "mask": held.get("mask", []),
                "questions": questions,
            }
        return out

    def redact(self, record: dict[str, Any], i: int) -> dict[str, Any]:
        """A picture step record (``StepView.step(i)``) with frame ``i``'s hidden values
        taken out: their edge labels read "grad ?", and the sums at their targets go; in
        presenter mode, ``mask`` names the boxes whose values the front end shows as "?"."""
        hidden = [q for q in self.questions(i) if self.hidden(i, q.flow.position)]
        held = self.held(i) if self.holding(i) else ()
        if not hidden and not held:
            return record
        keys = {q.key for q in hidden}
        targets = {q.flow.target_key for q in hidden} | set(held)
        out = copy.copy(record)
        if held:
            out["mask"] = list(held)
        out["notes"] = [
            [kind, key, HIDDEN_LABEL, *more]
            if kind == "e" and key in keys
            else [kind, key, text, *more]
            for kind, key, text, *more in record["notes"]
            if not (kind == "b" and key in targets)
        ]
        out["text"] = self.narration(i)
        return out


def _right(flow: Flow) -> str:
    return f"✓ Right: {number(flow.value, 'gradient')}."


def _revealed(flow: Flow) -> str:
    return f"The answer: {number(flow.value, 'gradient')}."


def _label(flow: Flow) -> str:
    """The edge label the picture shows for a flow."""
    return f"grad {values(flow.value)}"


# --- reading what the learner typed --------------------------------------------------------

_UNICODE = str.maketrans({"−": "-", "×": "*", "÷": "/"})
_WRAPPERS = re.compile(r"^\s*(?:\w+\.)?(?:tensor|array)\((.*)\)\s*$", re.S)


def parse_answer(text: str) -> float | list:
    """A typed prediction as a number or a (nested) list of numbers.

    Numbers, ``-``, ``+ - * /`` and ``**`` between numbers, brackets; a ``tensor(...)``
    or ``array(...)`` around it is read through.

    >>> parse_answer("1/3"), parse_answer("[6, 3, 2]"), parse_answer("tensor([[1., -2.]])")
    (0.3333333333333333, [6, 3, 2], [[1.0, -2.0]])
    """
    source = text.translate(_UNICODE).strip()
    wrapped = _WRAPPERS.match(source)
    if wrapped:
        source = wrapped.group(1)
    if not source:
        raise ValueError("Type a number, or a list of numbers like [6, 3, 2].")
    try:
        tree = ast.parse(source, mode="eval").body
        return _value(tree)
    except (SyntaxError, ValueError, ArithmeticError):
        raise ValueError(
            f"{text.strip()!r} cannot be read as a number or a list of numbers "
            "(examples: 3, -64.0, 1/3, [6, 3, 2])."
        ) from None


_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}


def _value(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_value(item) for item in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _value(node.operand)
        if isinstance(value, list):
            raise ValueError("a sign before a list")
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _value(node.left), _value(node.right)
        if isinstance(left, list) or isinstance(right, list):
            raise ValueError("arithmetic on a list")
        if isinstance(node.op, ast.Pow) and abs(right) > 64:
            raise ValueError("too large a power")
        return _BINARY[type(node.op)](left, right)
    raise ValueError("not a number")
