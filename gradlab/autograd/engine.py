"""The backward engine: runs the graph's nodes in dependency order, one step at a time.

Like PyTorch's engine it first counts, for every node reachable from the roots, how many
edges lead into it; a node runs once all of them have delivered their gradient (summed
where the forward graph split). Among ready nodes the most recently created runs first, and
``AccumulateGrad`` runs as soon as it is ready. There is no recursion, so a chain of a
million ops is fine.

``GraphTask.steps()`` is a generator: with ``trace=True`` it yields the events of
:mod:`gradlab.autograd.events` as it goes, which is what the recorder and stepper show.

>>> import gradlab
>>> from gradlab.autograd.engine import GraphTask
>>> a = gradlab.tensor(2.0, requires_grad=True)
>>> c = a * 3
>>> task = GraphTask([(c.grad_fn, 0)], [gradlab.ones(()).numpy()], trace=True)
>>> [type(e).__name__ for e in task.steps()][:3]
['BackwardStarted', 'NodeExecuted', 'GradientSent']
>>> a.grad
tensor(3.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from heapq import heappop, heappush
from typing import Any

import numpy as np

from gradlab.autograd import events as ev
from gradlab.autograd.graph import AccumulateGrad, Node
from gradlab.autograd.saved import tensor_type_name


class GraphTask:
    """One backward pass from ``roots`` (``(node, index)`` pairs) seeded with ``grads``.

    ``retain_graph``: keep saved tensors for another pass. ``capture``: edges whose incoming
    gradient to hand back; with it, only nodes that lead to a captured edge run. With
    ``accumulate`` (``backward(inputs=...)``) the captured nodes run too, so captured leaves
    are accumulated into; without it (``autograd.grad``) a captured node runs only when it
    leads to another captured edge: like PyTorch, only its tensor hooks run and its gradient
    is taken, and its saved tensors are kept.
    """

    def __init__(
        self,
        roots: Sequence[tuple[Node, int]],
        grads: Sequence[np.ndarray],
        retain_graph: bool = False,
        capture: Sequence[tuple[Node, int]] | None = None,
        accumulate: bool = True,
        trace: bool = False,
    ) -> None:
        self.roots = tuple(roots)
        self.grads = tuple(grads)
        self.retain_graph = retain_graph
        self.capture = None if capture is None else tuple(capture)
        self.accumulate = accumulate
        self.trace = trace
        self.captured: dict[tuple[Node, int], np.ndarray] = {}

    def run(self) -> None:
        """Run the whole pass without producing events."""
        for _ in self.steps():
            pass

    def steps(self) -> Iterator[Any]:
        trace = self.trace
        capturing = self.capture is not None
        starts = dict.fromkeys(n for n, _ in self.roots)
        skip: set[Node] = set()
        targets: dict[Node, list[int]] = {}
        if not capturing:
            deps = _count_dependencies(starts)
        else:
            deps, useful = _prune(self.roots, {n for n, _ in self.capture})
            starts = {n: None for n in starts if n in useful}
            if not self.accumulate:
                skip = {
                    n
                    for n, _ in self.capture
                    if not any(t in useful for t, _ in n.next_functions if t is not None)
                }
            for node, index in self.capture:
                targets.setdefault(node, []).append(index)
        self._skip = skip
        buffers: dict[Node, Any] = {}
        for (node, index), grad in zip(self.roots, self.grads):
            _deliver(buffers, node, index, grad)
        if trace:
            yield ev.BackwardStarted(self.roots, self.grads)

        ready: list[tuple[int, Node]] = []
        pending = None
        for node in starts:
            if node not in deps:
                if pending is None:
                    pending = node
                else:  # several roots: the newest runs first
                    heappush(ready, (-node._seq, node))
        if ready:
            heappush(ready, (-pending._seq, pending))
            pending = heappop(ready)[1]
        executed = 0
        while True:
            if pending is not None:
                node, pending = pending, None
            elif ready:
                node = heappop(ready)[1]
            else:
                break
            executed += 1
            grads_in = buffers.pop(node, None)
            try:
                if not (trace or capturing or node._hooks is not None) and (
                    type(node) is not AccumulateGrad or not node.variable._hooks
                ):
                    grads_out = None if grads_in is None else node.apply(grads_in)
                else:
                    grads_out = yield from self._execute_with_extras(node, grads_in, targets)
            except Exception as error:
                if isinstance(error, ValueError) and "broadcast" in str(error):
                    # saved values whose shape changed since (``x.data = ...``): numpy's
                    # error, worded as PyTorch's
                    error = _broadcast_error(error)
                if trace:
                    yield ev.BackwardFailed(node, error)
                raise error from None
            if not self.retain_graph and node._saved and not (capturing and node in skip):
                node.release_variables()

            edges = node.next_functions
            for position, grad in enumerate(grads_out or (None,) * len(edges)):
                target, index = edges[position]
                remaining = deps.get(target)
                if remaining is None:  # no node, or pruned from this pass
                    continue
                if grad is not None:
                    total = _deliver(buffers, target, index, grad)
                    if trace:
                        yield ev.GradientSent(node, position, target, index, grad, total)
                if remaining > 1:
                    deps[target] = remaining - 1
                    continue
                del deps[target]
                # keep the newest ready node out of the heap: it runs next
                if pending is None:
                    if not ready or target._seq > -ready[0][0]:
                        pending = target
                    else:
                        heappush(ready, (-target._seq, target))
                elif target._seq > pending._seq:
                    heappush(ready, (-pending._seq, pending))
                    pending = target
                else:
                    heappush(ready, (-target._seq, target))
            # hold no gradient past its hand-over, so AccumulateGrad may keep it uncopied
            grads_in = grads_out = grad = total = None
        if trace:
            yield ev.BackwardFinished(executed)

    def _capture(self, node: Node, grads_in: Any, indices: list[int]) -> None:
        for index in indices:
            grad = grads_in[index] if node.multi_output else grads_in
            if grad is not None:
                self.captured[(node, index)] = grad

    def _execute_with_extras(self, node: Node, grads_in: Any, targets: dict) -> Iterator[Any]:
        """Run ``node`` with its hooks, captures and (when tracing) its events."""
        from gradlab._tensor import Tensor

        trace = self.trace
        multi = node.multi_output
        if multi and grads_in is not None:
            grads_in = list(grads_in)
        hooks = node._hooks
        if type(node) is AccumulateGrad:
            tensor_hooks = {0: node.variable._hooks} if node.variable._hooks else {}
        else:
            tensor_hooks = hooks.tensor_pre if hooks is not None else {}
        retains = hooks.retains_grad if hooks is not None else {}

        def replace(index: int, kind: str, fn: Any) -> Iterator[Any]:
            nonlocal grads_in
            current = grads_in[index] if multi else grads_in
            if current is None and kind == "retain_grad":
                return
            # an output of a multi-output node that got no gradient: the hook sees None
            result = _call_hook(fn, None if current is None else Tensor(current))
            new = current if result is None else _checked_hook_result(fn, current, result)
            if multi:
                grads_in[index] = new
            else:
                grads_in = new
            if trace:
                yield ev.HookFired(node, kind, fn, current, new)

        if grads_in is not None:
            # in the order they were registered, whichever output they belong to
            ordered = sorted(
                (handle, index, fn)
                for index, table in tensor_hooks.items()
                for handle, fn in table.items()
            )
            for _, index, fn in ordered:
                yield from replace(index, "tensor", fn)
            for index, fn in sorted(retains.items()):
                yield from replace(index, "retain_grad", fn)
            if node in targets:
                self._capture(node, grads_in, targets[node])
            if node in self._skip:
                return None  # an input of autograd.grad: its gradient is all that was needed
            if hooks is not None:
                for fn in tuple(hooks.pre.values()):
                    grad_tuple = tuple(grads_in) if multi else (grads_in,)
                    result = _call_hook(
                        fn, tuple(None if g is None else Tensor(g) for g in grad_tuple)
                    )
                    if result is not None:
                        new = _checked_hook_results(fn, grad_tuple, result)
                        grads_in = list(new) if multi else new[0]
                    if trace:
                        yield ev.HookFired(node, "prehook", fn, grad_tuple, grads_in)

        is_accumulator = type(node) is AccumulateGrad
        if grads_in is None or (is_accumulator and not self._accumulates(node)):
            grads_out = None
        else:
            before = None
            if is_accumulator and trace and node.variable._grad is not None:
                before = np.array(node.variable._grad._data)
            grads_out = node.apply(grads_in)
            if hooks is not None and hooks.post:
                grad_tuple = tuple(grads_in) if multi else (grads_in,)
                for fn in tuple(hooks.post.values()):
                    wrapped = tuple(None if g is None else Tensor(g) for g in grads_out)
                    result = _call_hook(
                        fn, wrapped, tuple(None if g is None else Tensor(g) for g in grad_tuple)
                    )
                    if result is not None:
                        grads_out = _checked_hook_results(fn, grads_out, result)
                    if trace:
                        yield ev.HookFired(node, "hook", fn, grad_tuple, grads_out)
            if trace and is_accumulator:
                after = np.array(node.variable._grad._data)
                yield ev.GradAccumulated(node, node.variable, before, after)
        if trace:
            received = tuple(grads_in) if multi and grads_in is not None else (grads_in,)
            yield ev.NodeExecuted(node, received, tuple(grads_out or ()))
        return grads_out

    def _accumulates(self, node: AccumulateGrad) -> bool:
        return self.capture is None or self.accumulate


def _call_hook(fn: Any, *args: Any) -> Any:
    """Run a user's hook; the ops it runs inside belong to the hook's own step."""
    with ev.muted():
        return fn(*args)


def _broadcast_error(error: ValueError) -> Exception:
    """PyTorch's error for numpy's "operands could not be broadcast together with shapes
    (2,) (3,)" (the error itself when it names no shapes)."""
    from gradlab._ops._common import broadcast_error

    shapes = re.findall(r"\(([\d,]*)\)", str(error).split("->")[0])
    if len(shapes) < 2:
        return error
    a, b = (tuple(int(n) for n in s.split(",") if n) for s in shapes[:2])
    return broadcast_error(np.broadcast_to(0.0, a), np.broadcast_to(0.0, b))


def _hook_name(fn: Any) -> str:
    return getattr(fn, "__name__", type(fn).__name__)


def _checked_hook_result(fn: Any, current: np.ndarray | None, result: Any) -> np.ndarray | None:
    """A hook's replacement gradient, with PyTorch's checks: a tensor (or None), of the
    gradient's dtype and shape."""
    if result is None:
        return None
    data = getattr(result, "_data", None)
    if data is None:
        raise TypeError(f"expected Variable, but hook returned '{type(result).__name__}'")
    if current is None:
        raise RuntimeError("can't replace a empty gradient with a non-empty value")
    if data.dtype != np.asarray(current).dtype:
        raise RuntimeError(
            f"hook '{_hook_name(fn)}' has changed the type of value (was "
            f"{tensor_type_name(current)} got {tensor_type_name(data)})"
        )
    if np.shape(data) != np.shape(current):
        raise RuntimeError(f"hook '{_hook_name(fn)}' has changed the size of value")
    return data


def _checked_hook_results(fn: Any, current: Sequence[Any], result: Any) -> tuple[Any, ...]:
    """A node hook's replacement gradients: one per gradient it was given, each checked."""
    result = tuple(result)
    if len(result) != len(current):
        raise RuntimeError(
            f"hook '{_hook_name(fn)}' has returned an incorrect number of values "
            f"(got {len(result)}, but expected {len(current)})"
        )
    return tuple(_checked_hook_result(fn, c, r) for c, r in zip(current, result))


def _deliver(buffers: dict[Node, Any], node: Node, index: int, grad: Any) -> Any:
    """Add ``grad`` into ``node``'s input buffer slot ``index``; return the slot's total."""
    if node.multi_output:
        slots = buffers.get(node)
        if slots is None:
            slots = buffers[node] = [None] * len(node.output_shapes())
        total = grad if slots[index] is None else slots[index] + grad
        slots[index] = total
        return total
    old = buffers.get(node)
    if old is None:
        total = grad
    else:
        total = old + grad
        if type(node) is AccumulateGrad and _summable_in_place(old, grad):
            node.summed = True
    buffers[node] = total
    return total


def _summable_in_place(old: Any, grad: Any) -> bool:
    """Whether PyTorch would add ``grad`` into ``old`` in place (a fresh dense array that is
    not also the gradient added; ``a + a`` hands one array to both edges)."""
    return type(old) is np.ndarray and old.base is None and old is not grad


def _count_dependencies(roots: Iterator[Node]) -> dict[Node, int]:
    """For each node reachable from ``roots``, how many edges lead into it."""
    deps: dict[Node, int] = {}
    stack = list(dict.fromkeys(roots))
    starts = set(stack)  # already on the stack
    while stack:
        for target, _ in stack.pop().next_functions:
            if target is None:
                continue
            if target in deps:
                deps[target] += 1
            else:
                deps[target] = 1
                if target not in starts:
                    stack.append(target)
    return deps


def _prune(roots: Sequence[tuple[Node, int]], goals: set[Node]) -> tuple[dict, set]:
    """The nodes on a path to one of ``goals``, and their dependency counts among them."""
    order: list[Node] = []  # reverse topological: every node after all nodes it leads to
    stack: list[tuple[Node, bool]] = [(n, False) for n, _ in roots]
    seen: set[Node] = set()
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        stack.extend((t, False) for t, _ in node.next_functions if t is not None and t not in seen)
    useful = set()
    for node in order:
        if node in goals or any(t in useful for t, _ in node.next_functions if t is not None):
            useful.add(node)
    pruned: dict[Node, int] = {}
    for node in useful:
        for target, _ in node.next_functions:
            if target in useful:
                pruned[target] = pruned.get(target, 0) + 1
    return pruned, useful
