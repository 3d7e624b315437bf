"""What the walkthrough says at each step: one or two sentences with the real numbers, as
they were at that step.

A node's local derivative is not written here: each backward node declares it beside its
``apply`` as ``derivatives`` (one text per ``next_functions`` slot, or one for all), with
``{grad}`` for the gradient it receives and ``{name}`` for a saved value or attribute, e.g.
``MulBackward0.derivatives == ("{grad} × {other}", "{grad} × {self}")``. The narration
fills in the numbers.

>>> import gradlab
>>> with gradlab.record() as rec:
...     a = gradlab.tensor(2.0, requires_grad=True)
...     b = gradlab.tensor(3.0)
...     c = a * b
...     c.backward()
>>> gradlab.Walkthrough(rec).frames[4].narration
'MulBackward0 of c receives 1.0 and sends 1.0 × b (3.0) = 3.0 to AccumulateGrad of a.'
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from gradlab.drawing.scene import Highlight
from gradlab.frames import Flow, Timeline
from gradlab.recording import Step

#: how many values a narration spells out before it names the shape instead
_SPELLED = 8
#: how many tensors the end-of-backward sentence lists by name
_LISTED = 8
_PLACEHOLDER = re.compile(r"{(\w+)}")


def number(value: Any, noun: str = "tensor") -> str:
    """A value in words: '3.0', '[6.0, 3.0, 2.0]', '[[1.0, 2.0], [3.0, 4.0]]', or, when
    larger, its shape: 'a 3×3 tensor' (``noun`` names what it is)."""
    array = np.asarray(value, dtype=float)
    if array.size > _SPELLED:
        return f"a {shape_text(array.shape)} {noun}"
    if array.ndim == 0:
        return np.format_float_positional(array.item(), precision=4, trim="0")
    return "[" + ", ".join(number(v) for v in array) + "]"


def shape_text(shape: tuple[int, ...]) -> str:
    """'3×3' for (3, 3), '12-element' for (12,)."""
    return f"{shape[0]}-element" if len(shape) == 1 else "×".join(map(str, shape))


def derivative_rule(node: Any, position: int) -> str | None:
    """The local derivative a backward node declares for its ``next_functions`` slot
    ``position`` (``derivatives`` beside its ``apply``), e.g. ``"{grad} × {other}"``."""
    rules = getattr(type(node), "derivatives", ())
    return rules[position] if len(rules) > 1 else rules[0] if rules else None


class Narrator:
    """Tells the steps of one recording in order (it remembers the current backward pass)."""

    def __init__(
        self, timeline: Timeline, hides: Callable[[str], bool] = lambda key: False
    ) -> None:
        self.timeline = timeline
        self.hides = hides  # tensors whose values are told as "?" (--show named others)
        self.rec = timeline.recording
        self._filled: dict[str, None] = {}  # tensors given a grad in this backward pass
        self._freed = 0  # nodes whose saved values this backward pass released

    def tell(self, step: Step, i: int) -> tuple[str, Highlight, tuple[Flow, ...]]:
        """The narration, highlight and gradient flows of ``step`` shown as frame ``i``."""
        teller = getattr(self, "_" + step.kind, None)
        if teller is None:
            return f"{step.kind}.", Highlight(), ()
        text, highlight = teller(step, i)
        return text, highlight, self._flows(step) if step.kind == "NodeExecuted" else ()

    def name(self, key: str | None, fallback: str = "a tensor") -> str:
        return fallback if key is None else self.timeline.display_name(key)

    def key(self, obj: Any) -> str | None:
        return self.rec.key_of(obj)

    def value(self, key: str | None, array: Any) -> str:
        """A tensor's data or grad in words, or "?" for a tensor whose values are hidden."""
        return "?" if key is not None and self.hides(key) else number(array)

    # --- forward ------------------------------------------------------------------------

    def _TensorCreated(self, step: Step, i: int) -> tuple[str, Highlight]:
        key = self.key(step.event.tensor)
        name, state = self.name(key), self.timeline.state_at(key, i)
        value = self.value(key, state.data)
        if state.requires_grad:
            text = (
                f"{name} is created: a leaf holding {value} with requires_grad=True, "
                f"so it is on the graph and its gradient will land in {name}.grad."
            )
        else:
            text = (
                f"{name} is created: a leaf holding {value} that does not require "
                "grad (a 'dried-up' leaf, off the graph)."
            )
        return text, Highlight(active={key})

    def _OpApplied(self, step: Step, i: int) -> tuple[str, Highlight]:
        ev = step.event
        outs = [k for k in map(self.key, ev.outputs) if k is not None]
        names = ", ".join(self.name(k) for k in outs)
        result = ", ".join(self.value(k, self.timeline.state_at(k, i).data) for k in outs)
        inputs = [k for k in map(self.key, ev.inputs) if k is not None]
        lit = set(outs) | set(inputs)
        if ev.node is None:
            text = (
                f"{names} = {result}. No input requires grad, so no graph is recorded: "
                f"{names} is a leaf with grad_fn None."
            )
            return text, Highlight(active=lit)
        node = self.key(ev.node)
        info = self.rec.nodes[node]
        gets = "get" if len(outs) > 1 else "gets"
        text = (
            f"{names} = {result}. An input requires grad, so {names} {gets} grad_fn=<{info.name}>"
        )
        if len(outs) > 1:
            text += f", shared by all {len(outs)} outputs, told apart by output index "
            text += f"0..{len(outs) - 1}"
        saved = [f"{slot} = {self._saved(tkey, value)}" for slot, tkey, value, _ in info.saved]
        text += f"; it saves {', '.join(saved)} for backward." if saved else "; it saves nothing."
        edges = {(x, o) for x in inputs for o in outs} | {(o, node) for o in outs}
        return text, Highlight(active=lit | {node}, active_edges=edges)

    def _saved(self, tkey: str | None, value: Any) -> str:
        return (
            f"{self.name(tkey)} ({self.value(tkey, value)})" if tkey is not None else number(value)
        )

    def _InplaceApplied(self, step: Step, i: int) -> tuple[str, Highlight]:
        ev = step.event
        key = self.key(ev.tensor)
        name = self.name(key)
        text = (
            f"{step.source or ev.name} changes {name} in place to "
            f"{self.value(key, self.timeline.state_at(key, i).data)}: its version goes from "
            f"{ev.version - 1} to {ev.version}."
        )
        if ev.node is not None:
            text += f" Its grad_fn is now <{self.rec.nodes[self.key(ev.node)].name}>."
        appears = self.timeline.appears_at
        tensors = self.rec.tensors
        sharing = [  # views and detached aliases (not the tensor whose .grad this is)
            k
            for k in step.changed
            if k != key and appears[k] < i and tensors[k]._grad is not ev.tensor
        ]
        if sharing:
            names = ", ".join(self.name(k) for k in sharing)
            verb = "shares" if len(sharing) == 1 else "share"
            text += f" {names} {verb} its storage and changed with it."
        notes = {key: f"_version {ev.version - 1} → {ev.version}"}
        return text, Highlight(active={key, *sharing}, box_notes=notes)

    def _TensorChanged(self, step: Step, i: int) -> tuple[str, Highlight]:
        ev = step.event
        key = self.key(ev.tensor)
        name = self.name(key)
        if ev.what == "detach":
            result = self.key(ev.result)
            text = (
                f"{self.name(result)} = {name}.detach() shares {name}'s data "
                f"({self.value(key, self.timeline.state_at(key, i).data)}) but is a leaf off the "
                "graph: requires_grad=False, grad_fn None."
            )
            return text, Highlight(active={key, result})
        if ev.what == "requires_grad_":
            text = (
                f"{name}.requires_grad_() makes {name} a leaf on the graph: from now on, ops "
                f"on {name} are recorded and its gradient will be stored in {name}.grad."
            )
        elif ev.what == "retain_grad":
            node = self.timeline.state_at(key, i).grad_fn
            text = (
                f"{name}.retain_grad() registers a hook on {self.name(node)} that keeps "
                f"{name}'s gradient in {name}.grad (non-leaf grads are not kept otherwise)."
            )
        else:
            text = f"A hook is registered on {name}; it will see {name}'s gradient during backward."
        return text, Highlight(active={key})

    # --- backward -----------------------------------------------------------------------

    def _BackwardStarted(self, step: Step, i: int) -> tuple[str, Highlight]:
        self._filled, self._freed = {}, 0
        ev = step.event
        source = step.source or "backward()"
        parts, edges, notes = [], set(), {}
        for (node, index), grad in zip(ev.roots, ev.grads):
            key = self.key(node)
            owners = self.timeline.owners(key) if key is not None else []
            root = owners[index] if index < len(owners) else None
            who = self.name(root, "the output")
            g = np.asarray(grad)
            if g.size == 1 and g.item() == 1:
                parts.append(
                    f"the gradient of {who} with respect to itself, {number(g)}, is handed "
                    f"to {self.name(key, 'nowhere')}"
                )
            else:
                parts.append(
                    f"the upstream gradient {number(g, 'gradient')} (of the loss with respect "
                    f"to {who}) is handed to {self.name(key, 'nowhere')}, so backward computes "
                    "the vector–Jacobian product: each input's gradient is that vector times "
                    f"the Jacobian of {who}"
                )
            if root is not None and key is not None:
                edges.add((root, key))
                notes[(root, key)] = f"grad {number(g)}"
        text = f"{source} starts the backward pass: {'; '.join(parts)}."
        active = {self.key(n) for n, _ in ev.roots} - {None}
        return text, Highlight(active=active, active_edges=edges, edge_notes=notes)

    def _NodeExecuted(self, step: Step, i: int) -> tuple[str, Highlight]:
        ev = step.event
        key = self.key(ev.node)
        multi = len(ev.grads_in) > 1
        if multi:
            received = ", ".join(
                f"{number(g, 'gradient')} (output {n})"
                for n, g in enumerate(ev.grads_in)
                if g is not None
            )
        else:
            received = number(ev.grads_in[0], "gradient")
        parts, edges, notes, box_notes = [], set(), {}, {}
        for sent in step.sends:
            target = self.key(sent.target)
            edges.add((key, target))
            notes[(key, target)] = f"grad {number(sent.grad)}"
            made = self._derivation(ev.node, key, sent, ev.grads_in)
            text = f"{made} to {self._slot(target, sent.index)}"
            if not _same(sent.total, sent.grad):
                earlier = number(sent.total - sent.grad)
                text += (
                    f" (which now holds {earlier} + {_bracketed(number(sent.grad))} = "
                    f"{number(sent.total)}: a split in the forward pass is a sum here)"
                )
                box_notes[target] = f"Σ grad {number(sent.total)}"
            parts.append(text)
        for owner in self._retained(key):
            self._filled[owner] = None
        if self.rec.freed.get(key) == step.index:
            self._freed += 1
        sends = " and ".join(parts) if parts else "nothing further"
        text = f"{self.name(key)} receives {received} and sends {sends}."
        highlight = Highlight(
            active={key}, active_edges=edges, edge_notes=notes, box_notes=box_notes
        )
        return text, highlight

    def _slot(self, node: str, index: int) -> str:
        """A node, and for a node of several outputs which one a gradient belongs to."""
        owners = self.timeline.owners(node)
        if not self.rec.node_objects[node].multi_output or index >= len(owners):
            return self.name(node)
        return f"{self.name(node)} as output {index} ({self.name(owners[index])})"

    def _derivation(self, node: Any, key: str, sent: Any, grads_in: tuple) -> str:
        """How the gradient on one edge is made, e.g. '1.0 × b (3.0) = 3.0'."""
        rule = derivative_rule(node, sent.position)
        grad = grads_in if len(grads_in) > 1 else grads_in[0]
        value = number(sent.grad, "gradient")
        broadcast = getattr(node, "_fit", None) is not None  # a BinaryNode's inputs differed
        summed = _broadcast_note(grad, sent.grad) if broadcast else ""
        if rule is None:
            return f"{value}{summed}"
        if rule == "{grad}":
            if summed:
                return f"{number(grad, 'gradient')}{summed} = {value}"
            return f"{value} on unchanged"
        saved = {slot: (tkey, v) for slot, tkey, v, _ in self.rec.nodes[key].saved}

        def fill(match: re.Match) -> str:
            token = match.group(1)
            if token == "grad":
                return _bracketed(_grads_text(grad))
            if token == "position":
                return str(sent.position)
            if token in saved:
                tkey, v = saved[token]
                if tkey is not None and np.size(v) > _SPELLED:
                    return self.name(tkey)
                return _bracketed(self._saved(tkey, v))
            return _bracketed(_attribute(node, token))

        made = _PLACEHOLDER.sub(fill, rule) + summed
        return value if made == value else f"{made} = {value}"

    def _retained(self, node: str) -> list[str]:
        return [k for k in self.timeline.owners(node) if self.rec.tensors[k]._retains_grad]

    def _GradAccumulated(self, step: Step, i: int) -> tuple[str, Highlight]:
        ev = step.event
        key, node = self.key(ev.variable), self.key(ev.node)
        self._filled[key] = None
        name = self.name(key, "the leaf")
        before = "None" if ev.before is None else self.value(key, ev.before)
        after = self.value(key, ev.after)
        added = ev.after if ev.before is None else ev.after - ev.before
        text = (
            f"{self.name(node)} adds {number(added, 'gradient')} into {name}.grad: "
            f"it was {before}, now it is {after}."
        )
        return text, Highlight(
            active={key, node},
            active_edges={(node, key)},
            box_notes={key: f"grad {before} → {after}"},
        )

    def _HookFired(self, step: Step, i: int) -> tuple[str, Highlight]:
        ev = step.event
        node = self.key(ev.node)
        owners = self._retained(node)
        if ev.kind == "retain_grad" and owners:
            name = self.name(owners[0])
            text = (
                f"{name}'s retain_grad hook runs before {self.name(node)} and keeps "
                f"{self.value(owners[0], ev.grad_after)} in {name}.grad."
            )
            return text, Highlight(active={node, owners[0]})
        before, after = _grads_text(ev.grad_before), _grads_text(ev.grad_after)
        if ev.kind == "hook":
            text = (
                f"A post-hook on {self.name(node)} sees the gradients it received, {before}, "
                f"and the ones it sends, {after}."
            )
            return text, Highlight(active={node})
        kind = "pre-hook" if ev.kind == "prehook" else f"{ev.kind} hook"
        text = f"A {kind} on {self.name(node)} sees the gradient {before}"
        text += "." if before == after else f" and replaces it with {after}."
        return text, Highlight(active={node})

    def _BackwardFailed(self, step: Step, i: int) -> tuple[str, Highlight]:
        ev = step.event
        if ev.node is None:  # backward() refused to start
            return _error_text(step.source, ev.error), Highlight()
        node = self.key(ev.node)
        saved = getattr(ev.error, "saved", None)
        if saved is None:
            return f"{self.name(node)} fails: {ev.error}", Highlight(error={node})
        tkey = self.key(saved.tensor)
        slot = next((s for s, k, _, _ in self.rec.nodes[node].saved if k == tkey), "tensor")
        text = (
            f"{self.name(node)} unpacks its saved {slot} ({self.name(tkey, 'a saved tensor')}): "
            f"it was saved at version {saved.version} but is now at version "
            f"{ev.error.current_version}, because an in-place op changed it. PyTorch raises "
            "'one of the variables needed for gradient computation has been modified by an "
            "inplace operation'."
        )
        if self._filled:
            done = ", ".join(f"{self.name(k)}.grad" for k in self._filled)
            text += f" Already accumulated before the error: {done}."
        error = {node} | ({tkey} if tkey else set())
        notes = {tkey: f"saved @v{saved.version}, now v{ev.error.current_version}"} if tkey else {}
        return text, Highlight(error=error, box_notes=notes)

    def _Error(self, step: Step, i: int) -> tuple[str, Highlight]:
        return _error_text(step.source, step.event), Highlight()

    def _BackwardFinished(self, step: Step, i: int) -> tuple[str, Highlight]:
        filled = sorted(self._filled, key=lambda k: int(k[1:]))
        grads = [
            f"{self.name(k)}.grad = {self.value(k, self.timeline.state_at(k, i).grad)}"
            for k in filled[:_LISTED]
        ]
        if len(filled) > _LISTED:
            grads.append(f"and {len(filled) - _LISTED} more")
        text = "The backward pass is done"
        text += (": " + ", ".join(grads) + ".") if grads else "."
        if self._freed:
            text += (
                " The saved values of the graph are freed now (no retain_graph=True): a "
                "second backward through it would raise an error."
            )
        return text, Highlight(active=set(filled))

    def _flows(self, step: Step) -> tuple[Flow, ...]:
        source = self.key(step.event.node)
        return tuple(
            Flow(
                sent.source.name(),
                sent.position,
                sent.target.name(),
                sent.index,
                np.asarray(sent.grad),
                source,
                self.key(sent.target),
                np.asarray(sent.total),
            )
            for sent in step.sends
        )


def _error_text(source: str, error: BaseException) -> str:
    """An exception in words, with a hint where a learner's next move is clear."""
    text = f"{type(error).__name__}: {error}"
    text = f"{source}: {text}" if source else text
    if str(error).startswith("grad can be implicitly created only for scalar outputs"):
        text += (
            ". backward() without an argument needs a single number to start from. "
            "Hint: call .sum() first or pass gradient= (a tensor of the output's shape)."
        )
    return text


def _same(a: Any, b: Any) -> bool:
    return a is b or np.array_equal(np.asarray(a), np.asarray(b))


def _bracketed(text: str) -> str:
    """A negative number inside a formula, in brackets: '1.0 × (-2.0)'."""
    return f"({text})" if text.startswith("-") else text


def _grads_text(grad: Any) -> str:
    """One gradient, or a tuple of them (one per output or input of a node)."""
    if isinstance(grad, (tuple, list)) and len(grad) == 1:
        grad = grad[0]
    if isinstance(grad, (tuple, list)):
        return "(" + ", ".join("None" if g is None else number(g) for g in grad) + ")"
    return "None" if grad is None else number(grad, "gradient")


def _attribute(node: Any, token: str) -> str:
    """A node's own saved attribute (a dim, a size) in words."""
    for attribute in (f"_saved_{token}", f"_{token}"):
        try:
            value = getattr(node, attribute)
        except (AttributeError, RuntimeError):
            continue
        if value == sys.maxsize:
            return ""  # an open end, as in x[1:]
        if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
            return f"({', '.join(map(str, value))}{',' if len(value) == 1 else ''})"
        return number(value) if not isinstance(value, (int, str)) else str(value)
    return token


def _broadcast_note(grad: Any, sent: Any) -> str:
    """', summed over dim 0 to shape (3,)' when an input was broadcast in the forward pass."""
    big, small = np.shape(grad), np.shape(sent)
    if big == small or len(big) < len(small):
        return ""
    lead = len(big) - len(small)
    dims = [*range(lead)]
    dims += [lead + d for d, n in enumerate(small) if n == 1 and big[lead + d] != 1]
    if not dims:
        return ""
    which = f"dim {dims[0]}" if len(dims) == 1 else "dims " + ", ".join(map(str, dims))
    return f", summed over {which} to shape {small}"
