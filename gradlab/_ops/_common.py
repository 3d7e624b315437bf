"""What every op shares: finding its inputs' gradient edges, creating its node only when a
graph is to be recorded, PyTorch's dtype and broadcasting rules, and announcing the result."""

from __future__ import annotations

import contextvars
import threading
from numbers import Number
from typing import Any

import numpy as np

from gradlab import _dtype
from gradlab._tensor import Tensor
from gradlab.autograd import events
from gradlab.autograd.grad_mode import _state as _grad_mode
from gradlab.autograd.graph import NO_EDGE, Node

__all__ = [
    "NO_EDGE",
    "Node",
    "Tensor",
    "edge",
    "make_node",
    "make_binary_node",
    "announce",
    "operands",
    "mixed_with_torch",
    "compute",
    "BinaryNode",
    "sum_to",
    "as_float",
    "scalar",
    "grad_enabled",
    "needs_grad",
    "quiet",
    "run_op",
]


def _quiet_context() -> contextvars.Context:
    """A context in which numpy ignores floating-point errors: its ``errstate`` is entered
    there once and never left."""
    context = contextvars.copy_context()
    context.run(np.errstate(all="ignore").__enter__)
    return context


class Quiet(threading.local):
    """``quiet.run(fn, *args, **kwargs)``: ``fn(...)`` without numpy's RuntimeWarnings for
    inf and nan, which PyTorch does not give; in this thread's quiet context (a context may
    be entered by one thread at a time, and never re-entered: ``fn`` is numpy code that
    does not call back into gradlab). A tiny fraction of the cost of ``np.errstate()``,
    which would double the time of a small op."""

    def __init__(self) -> None:
        self.run = _quiet_context().run


quiet = Quiet()


def edge(x: Any) -> tuple[Node | None, int]:
    """The ``next_functions`` entry for an op input: where its gradient must go."""
    if type(x) is Tensor:
        fn = x._grad_fn
        if fn is not None:
            return (fn, x._output_nr)
        if x._requires_grad:
            return (x._grad_accumulator(), 0)
    return NO_EDGE


def _follows_base(x: Any) -> bool:
    """A view that requires grad only because its base does (``b.requires_grad_()`` after
    ``v = b[0:2]``): like PyTorch, an op on it records a node, whose edge to it leads
    nowhere."""
    return type(x) is Tensor and x._view_of is not None and x._view_of[0].requires_grad


def grad_enabled() -> bool:
    return _grad_mode.enabled


def needs_grad(x: Any) -> bool:
    """Whether an op input wants a gradient (only tensors can)."""
    return type(x) is Tensor and x.requires_grad


def make_binary_node(cls: type[Node], a: Tensor, b: Any) -> Node | None:
    """``make_node`` for the two inputs of an arithmetic op (the hot path, kept call-free)."""
    if not _grad_mode.enabled:
        return None
    fn = a._grad_fn
    edge_a = (
        (fn, a._output_nr)
        if fn is not None
        else (a._grad_accumulator(), 0)
        if a._requires_grad
        else NO_EDGE
    )
    edge_b = edge(b) if type(b) is Tensor else NO_EDGE
    if edge_a is NO_EDGE and edge_b is NO_EDGE and not (_follows_base(a) or _follows_base(b)):
        return None
    return cls((edge_a, edge_b))


def make_node(cls: type[Node], *inputs: Any) -> Node | None:
    """A new ``cls`` node wired to ``inputs``, or None when there is no graph to record
    (grad mode is off, or no input requires grad)."""
    if not _grad_mode.enabled:
        return None
    if len(inputs) == 1:  # most ops: one input, one edge
        only = edge(inputs[0])
        if only is NO_EDGE and not _follows_base(inputs[0]):
            return None
        return cls((only,))
    edges = tuple(map(edge, inputs))
    if all(e is NO_EDGE for e in edges) and not any(map(_follows_base, inputs)):
        return None
    return cls(edges)


def announce(name: str, out: Tensor, node: Node | None, *inputs: Any) -> Tensor:
    """Tell listeners (the recorder) that op ``name`` produced ``out``; return ``out``."""
    if events.listeners:
        events.emit(events.OpApplied(name, inputs, (out,), node))
    return out


def scalar(value: Any) -> Any:
    """A Python number taking part in an op, or None if ``value`` is not a number."""
    if type(value) is float or type(value) is int:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Number) and not isinstance(value, complex):
        return value
    return None


def mixed_with_torch(value: Any) -> TypeError | None:
    """The error for a PyTorch tensor handed to gradlab (its type's module is torch), or
    None for anything else. Called on error paths only."""
    kind = type(value)
    if not kind.__module__.split(".")[0] == "torch":
        return None
    return TypeError(
        f"got a torch.{kind.__name__}, but gradlab works on gradlab tensors: a PyTorch "
        "tensor and a gradlab tensor do not mix. Make it with gradlab.tensor(...) instead "
        "(gradlab.tensor(t.tolist()) converts one)."
    )


def operands(a: Tensor, b: Any) -> tuple[Any, Any] | None:
    """The numpy operands of a binary op, cast to the dtype PyTorch computes in
    (None when ``b`` is neither a tensor nor a number)."""
    ad = a._data
    kind = type(b)
    if kind is float or kind is int:  # the common case, decided without a call
        bd = b
        if kind is int or ad.dtype.kind == "f":
            return ad, bd
    elif kind is Tensor:
        bd = b._data
        if ad.dtype == bd.dtype:
            return ad, bd
    else:
        bd = scalar(b)
        if bd is None:
            error = mixed_with_torch(b)
            if error is not None:
                raise error
            return None
        if ad.dtype.kind == "f" or not isinstance(bd, float):
            return ad, bd
    dt = _dtype.result_type(a, b)
    ad = quiet.run(ad.astype, dt, copy=False)  # a 0-d float64 1e300 in float32 is inf
    if type(b) is Tensor:
        bd = quiet.run(bd.astype, dt, copy=False)
    return ad, bd


def run_op(op: Any, x: Any, y: Any) -> Any:
    """``op(x, y)`` quietly; a Python int that the other's integer dtype cannot hold
    (numpy's OverflowError) is wrapped around into that dtype, as PyTorch does: uint8 3 + -1
    is 2."""
    try:
        return quiet.run(op, x, y)
    except OverflowError:
        return quiet.run(op, *_wrapped(x, y))


def _wrapped(x: Any, y: Any) -> tuple[Any, Any]:
    if type(x) is int:
        x = np.array(x, np.int64).astype(y.dtype)  # OverflowError beyond int64, as in torch
    if type(y) is int:
        y = np.array(y, np.int64).astype(x.dtype)
    return x, y


def compute(op: Any, a: Tensor, b: Any) -> Any:
    """``op(a, b)`` on the data, in PyTorch's result dtype, with PyTorch's broadcasting
    error; NotImplemented when ``b`` is neither a tensor nor a number."""
    ad = a._data
    kind = type(b)
    if kind is float and ad.dtype.kind == "f" or kind is Tensor and ad.dtype == b._data.dtype:
        pair = (ad, b if kind is float else b._data)  # the common case, decided without a call
    else:
        pair = operands(a, b)
        if pair is None:
            return NotImplemented
    try:
        return quiet.run(op, *pair)
    except ValueError:
        raise broadcast_error(*pair) from None
    except OverflowError:  # as run_op, which this inlines
        return quiet.run(op, *_wrapped(*pair))


def as_float(x: Tensor) -> np.ndarray:
    """The data of ``x`` as floats: PyTorch computes exp, log, ... of integers in float32."""
    data = x._data
    return data if data.dtype.kind == "f" else data.astype(np.float32)


def broadcast_error(a: Any, b: Any) -> RuntimeError:
    """PyTorch's message for shapes that do not broadcast."""
    sa, sb = np.shape(a), np.shape(b)
    n = max(len(sa), len(sb))
    for k in range(1, n + 1):
        da = sa[-k] if k <= len(sa) else 1
        db = sb[-k] if k <= len(sb) else 1
        if da != db and da != 1 and db != 1:
            return RuntimeError(
                f"The size of tensor a ({da}) must match the size of tensor b ({db}) "
                f"at non-singleton dimension {n - k}"
            )
    return RuntimeError(f"shapes {list(sa)} and {list(sb)} cannot be broadcast")


def sum_to(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum a gradient over the dimensions that broadcasting expanded, back to ``shape``
    (a fresh array, so ``AccumulateGrad`` may keep it without copying)."""
    if np.shape(grad) == shape:
        return grad
    grad = np.asarray(grad)
    lead = grad.ndim - len(shape)
    if lead:
        grad = np.add.reduce(grad, axis=tuple(range(lead)))
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if ones:
        grad = np.add.reduce(grad, axis=ones, keepdims=True)
    return grad


def _cast(grad: Any, dtype: np.dtype) -> Any:
    return grad if getattr(grad, "dtype", None) == dtype else np.asarray(grad, dtype=dtype)


class BinaryNode(Node):
    """A node of a two-input op; ``fit`` undoes broadcasting and dtype promotion."""

    __slots__ = ("_fit",)

    def fit(self, grad_a: Any, grad_b: Any) -> tuple[Any, Any]:
        """Each input's gradient in that input's own shape and dtype."""
        if self._fit is None:
            return grad_a, grad_b
        (shape_a, dtype_a), (shape_b, dtype_b) = self._fit
        if grad_a is not None:
            grad_a = _cast(sum_to(grad_a, shape_a), dtype_a)
        if grad_b is not None:
            grad_b = _cast(sum_to(grad_b, shape_b), dtype_b)
        return grad_a, grad_b

    def remember_inputs(self, out: Any, a: Any, b: Any) -> None:
        """Note input shapes and dtypes that differ from the output's, for ``fit``.
        (A Python number gets no gradient, so it counts as matching.)"""
        shape, dt = out.shape, out.dtype
        sa, da = (a._data.shape, a._data.dtype) if type(a) is Tensor else (shape, dt)
        sb, db = (b._data.shape, b._data.dtype) if type(b) is Tensor else (shape, dt)
        same = sa == shape and sb == shape and da == dt and db == dt
        self._fit = None if same else ((sa, da), (sb, db))
