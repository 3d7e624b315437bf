"""The backward graph: ``Node`` (a ``grad_fn``), ``AccumulateGrad``, and hook handles.

Every op that records history creates one ``Node``. Its ``next_functions`` say where the
gradients it computes go: one ``(node, output_index)`` pair per input of the forward op,
``(AccumulateGrad, 0)`` for a leaf that requires grad, ``(None, 0)`` for an input that
needs no gradient.

>>> import gradlab
>>> a = gradlab.tensor(2.0, requires_grad=True)
>>> c = a * 3.0
>>> c.grad_fn, c.grad_fn.next_functions
(<MulBackward0>, ((<AccumulateGrad>, 0), (None, 0)))
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from gradlab.autograd.saved import FREED

_sequence = itertools.count()
_handle_ids = itertools.count()

NO_EDGE = (None, 0)


class RemovableHandle:
    """Returned by ``register_hook``: ``handle.remove()`` unregisters the hook."""

    __slots__ = ("_hooks", "id")

    def __init__(self, hooks: dict[int, Callable]) -> None:
        self._hooks = hooks
        self.id = next(_handle_ids)

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def add_hook(hooks: dict[int, Callable], fn: Callable) -> RemovableHandle:
    """Append ``fn`` to an ordered hook table and return the handle that removes it."""
    handle = RemovableHandle(hooks)
    hooks[handle.id] = fn
    return handle


class NodeHooks:
    """The hooks attached to one node, created only when the first hook is registered."""

    __slots__ = ("pre", "post", "tensor_pre", "retains_grad")

    def __init__(self) -> None:
        self.pre: dict[int, Callable] = {}  # fn(grad_outputs) -> new grad_outputs | None
        self.post: dict[int, Callable] = {}  # fn(grad_inputs, grad_outputs) -> new | None
        self.tensor_pre: dict[int, dict[int, Callable]] = {}  # output_nr -> tensor hooks
        self.retains_grad: dict[int, Callable] = {}  # output_nr -> the retain_grad hook


class Node:
    """One step of the backward pass: the gradient function of one forward op.

    ``apply`` receives the gradient of the op's output (a numpy array) and returns one
    gradient per entry of ``next_functions`` (``None`` where no gradient is needed).
    """

    __slots__ = ("next_functions", "_seq", "_hooks", "__weakref__")

    #: names of the slots that hold saved values, freed after backward
    _saved: tuple[str, ...] = ()
    #: whether the forward op had several outputs (apply then gets a list of gradients)
    multi_output = False

    def __init__(self, next_functions: tuple[tuple[Node | None, int], ...]) -> None:
        self.next_functions = next_functions
        self._seq = next(_sequence)
        self._hooks: NodeHooks | None = None

    def name(self) -> str:
        """The node's PyTorch name, e.g. ``'MulBackward0'``."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def apply(self, grad: Any) -> tuple[Any, ...]:
        raise NotImplementedError

    def __call__(self, *grads: Any) -> tuple[Any, ...]:
        """Run this node's backward on gradient tensors, as PyTorch allows."""
        from gradlab._tensor import Tensor, as_array

        arrays = [as_array(g) for g in grads]
        out = self.apply(arrays if self.multi_output else arrays[0])
        wrapped = tuple(None if g is None else Tensor(g) for g in out)
        return wrapped if len(wrapped) != 1 else wrapped[0]

    def _sequence_nr(self) -> int:
        return self._seq

    def release_variables(self) -> None:
        """Free the saved values (called after a backward without ``retain_graph``)."""
        for slot in self._saved:
            if getattr(self, slot) is not None:
                setattr(self, slot, FREED)

    def _hooks_or_new(self) -> NodeHooks:
        if self._hooks is None:
            self._hooks = NodeHooks()
        return self._hooks

    def register_prehook(self, fn: Callable) -> RemovableHandle:
        """``fn(grad_outputs)`` runs before this node; it may return replacement gradients."""
        return add_hook(self._hooks_or_new().pre, fn)

    def register_hook(self, fn: Callable) -> RemovableHandle:
        """``fn(grad_inputs, grad_outputs)`` runs after this node; it may return new grad_inputs."""
        return add_hook(self._hooks_or_new().post, fn)

    def output_shapes(self) -> tuple[tuple[int, ...], ...]:
        """Shapes of the forward op's outputs (for zero gradients of unused outputs)."""
        return ()


class AccumulateGrad(Node):
    """The end of the backward graph for a leaf: adds the incoming gradient into ``.grad``."""

    __slots__ = ("variable", "summed")

    def __init__(self, variable: Any) -> None:
        super().__init__(())
        # run as soon as ready, like PyTorch (later-made accumulators first)
        self._seq = sys.maxsize - self._seq
        self.variable = variable
        #: set by the engine when the arriving gradient is a sum of several (PyTorch
        #: sums them in place, so a new .grad starts at version 1)
        self.summed = False

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def apply(self, grad: np.ndarray) -> tuple[()]:
        from gradlab._tensor import Tensor

        var = self.variable
        if var._grad_fn is not None:  # an in-place op made the leaf a computed tensor
            raise RuntimeError("leaf variable has been moved into the graph interior")
        if not var._requires_grad:  # requires_grad_(False) after the graph was built
            return ()
        data = var._data
        summed, self.summed = self.summed, False
        if var._grad is None:
            if _unshared(grad) and grad.dtype == data.dtype and _same_layout(grad, data):
                var._grad = Tensor(grad)  # held by nobody else: kept, as in PyTorch
            elif isinstance(grad, np.generic) and grad.dtype == data.dtype and not data.shape:
                var._grad = Tensor(np.array(grad))  # a 0-d result: nobody else holds it
            else:  # PyTorch copies (copy_) into a new tensor of the leaf's shape
                new = np.empty(data.shape, data.dtype)
                new[...] = grad
                var._grad = Tensor(new)
                summed = True
            if summed:
                var._grad._bump_version()
        else:
            var._grad._storage()[...] += grad
            var._grad._bump_version()
        return ()


class Invalid(Node):
    """The ``grad_fn`` of a view PyTorch no longer differentiates: one output of a
    multi-output op (``unbind``) or a view made under ``no_grad``, after its base changed
    in place. Reading ``grad_fn`` raises ``message``, and so does a backward through it."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        super().__init__(())
        self.message = message

    def apply(self, grad: Any) -> tuple[()]:
        raise RuntimeError(self.message)


def _holders_of_a_fresh_argument() -> int:
    """What ``sys.getrefcount`` says of an array held by one caller's local variable and
    passed on as an argument: how the engine hands a gradient to ``apply``."""

    def apply(grad: np.ndarray) -> int:
        return sys.getrefcount(grad)

    grads_in = np.empty(1)
    return apply(grads_in)


_FRESH = _holders_of_a_fresh_argument()


def _unshared(grad: object) -> bool:
    """True for a writable array that only the engine's hand-over refers to (so keeping
    it as ``.grad`` aliases nothing)."""
    return (
        type(grad) is np.ndarray
        and grad.base is None
        and grad.flags.writeable
        and sys.getrefcount(grad) - 1 == _FRESH
    )


def _same_layout(grad: np.ndarray, data: Any) -> bool:
    """Whether contiguous arrays of the two shapes have the same strides (PyTorch keeps a
    gradient of another shape then: ``.data`` of another size)."""
    shape = data.shape
    return grad.shape == shape or grad.ndim == len(shape) and grad.shape[1:] == shape[1:]


def gradient_edge(tensor: Any) -> tuple[Node | None, int]:
    """The ``(node, index)`` pair through which a gradient reaches ``tensor``."""
    if tensor._grad_fn is not None:
        return (tensor._grad_fn, tensor._output_nr)
    if tensor._requires_grad:
        return (tensor._grad_accumulator(), 0)
    return NO_EDGE
