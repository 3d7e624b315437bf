"""gradlab.autograd: run the backward graph, and write your own differentiable ops.

>>> import gradlab
>>> a = gradlab.tensor(2.0, requires_grad=True)
>>> (g,) = gradlab.autograd.grad(a * a, [a])
>>> g
tensor(4.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gradlab.autograd import events
from gradlab.autograd.engine import GraphTask
from gradlab.autograd.function import Function, FunctionCtx
from gradlab.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from gradlab.autograd.graph import AccumulateGrad, Node, gradient_edge

__all__ = [
    "AccumulateGrad",
    "Function",
    "FunctionCtx",
    "Node",
    "backward",
    "enable_grad",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
]


def _as_list(x: Any) -> list[Any]:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _seeds(grad_outputs: Any, count: int) -> list[Any]:
    """The seed gradients as PyTorch reads them: None, one tensor, or a sequence of tensors
    and Nones (a list of numbers is a sequence of numbers, and is refused)."""
    from gradlab._tensor import Tensor

    if grad_outputs is None:
        return [None] * count
    grads = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)
    for grad in grads:
        if grad is not None and not isinstance(grad, Tensor):
            raise TypeError(
                f"gradients can be either Tensors or None, but got {type(grad).__name__}"
            )
    return grads


def _roots(outputs: Sequence[Any], grad_outputs: Any) -> tuple[list, list]:
    """The graph edges to start from and their seed gradients, with PyTorch's checks."""
    grads = _seeds(grad_outputs, len(outputs))
    roots, seeds = [], []
    for i, (out, grad) in enumerate(zip(outputs, grads, strict=True)):
        if grad is None:
            if out.requires_grad and out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            grad_data = np.ones(out._data.shape, dtype=out._data.dtype)
        else:
            grad_data = grad._data
            if np.shape(grad_data) != out.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of "
                    f"gradlab.Size({list(np.shape(grad_data))}) and output[{i}] has a shape of "
                    f"gradlab.Size({list(out.shape)})."
                )
        root = gradient_edge(out)
        if root[0] is None:  # (also a view that requires grad only through its base)
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
            )
        roots.append(root)
        seeds.append(grad_data)
    return roots, seeds


def _run(task: GraphTask) -> None:
    """Drain the task's step stream, handing each step to the listeners (the recorder).
    The backward formulas meet inf and nan without numpy's warnings (PyTorch gives none)."""
    with np.errstate(all="ignore"):
        if task.trace:
            for step in task.steps():
                events.emit(step)
        else:
            task.run()


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Sequence[Any] | None = None,
) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the graph's leaves
    (or only of ``inputs``). See ``Tensor.backward``."""
    if create_graph:
        raise NotImplementedError(
            "gradlab does not record the backward pass itself "
            "(create_graph=True); higher-order gradients need PyTorch."
        )
    try:
        roots, seeds = _roots(_as_list(tensors), grad_tensors)
    except RuntimeError as error:
        if events.listeners:  # a recording shows the failed call as a step
            events.emit(events.BackwardFailed(None, error))
        raise
    if inputs is None:
        _run(GraphTask(roots, seeds, bool(retain_graph), trace=bool(events.listeners)))
        return
    inputs = _as_list(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    for t in inputs:
        t.retain_grad()  # as PyTorch does: a non-leaf's .grad fills now and in later passes
    # the inputs' own nodes run: AccumulateGrad adds into a leaf's .grad
    task = GraphTask(
        roots,
        seeds,
        bool(retain_graph),
        capture=[gradient_edge(t) for t in inputs],
        accumulate=True,
        trace=bool(events.listeners),
    )
    _run(task)


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    materialize_grads: bool = False,
) -> tuple[Any, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, returned instead of being
    accumulated into ``.grad``.

    >>> import gradlab
    >>> x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    >>> gradlab.autograd.grad((x ** 2).sum(), x)
    (tensor([2., 4.]),)
    """
    from gradlab._tensor import Tensor

    if create_graph:
        raise NotImplementedError(
            "gradlab does not record the backward pass itself "
            "(create_graph=True); higher-order gradients need PyTorch."
        )
    inputs = _as_list(inputs)
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    roots, seeds = _roots(_as_list(outputs), grad_outputs)
    edges = [gradient_edge(t) for t in inputs]
    task = GraphTask(
        roots,
        seeds,
        bool(retain_graph),
        capture=edges,
        accumulate=False,
        trace=bool(events.listeners),
    )
    _run(task)
    result = []
    for i, (t, e) in enumerate(zip(inputs, edges)):
        g = task.captured.get(e)
        if g is None:
            if not (allow_unused or materialize_grads):
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in "
                    "the graph. Set allow_unused=True if this is the desired behavior."
                )
            result.append(Tensor(np.zeros(t.shape, t._data.dtype)) if materialize_grads else None)
        else:
            result.append(Tensor(np.array(np.broadcast_to(g, t.shape), dtype=t._data.dtype)))
    return tuple(result)


from gradlab.autograd.gradcheck import gradcheck  # noqa: E402  (uses grad above)
