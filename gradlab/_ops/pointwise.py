"""One-input elementwise ops (exp, log, tanh, ...) and comparisons.

Each node's docstring gives its derivative; it saves its input (``_saved_self``) or its
output (``_saved_result``) exactly where PyTorch does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradlab._ops._common import Node, Tensor, announce, as_float, make_node, operands
from gradlab.autograd import events
from gradlab.autograd.saved import SavedTensor, saved_attribute, unpack


def unary(
    name: str, cls: type[Node], data: Any, x: Tensor, inputs: tuple[Any, ...] | None = None
) -> Tensor:
    """The output of a one-input op, with a ``cls`` node saving what ``cls._saved`` names."""
    node = make_node(cls, x)
    out = Tensor(data, node)
    if node is not None:
        for slot in cls._saved:
            saved = (
                SavedTensor(out, output_of=cls.__name__) if slot == "_result" else SavedTensor(x)
            )
            setattr(node, slot, saved)
    return announce(name, out, node, *(inputs or (x,))) if events.listeners else out


class _SavesSelf(Node):
    __slots__ = ("_self",)
    _saved = ("_self",)
    _saved_self = saved_attribute("_self")


class _SavesResult(Node):
    __slots__ = ("_result",)
    _saved = ("_result",)
    _saved_result = saved_attribute("_result")


class NegBackward0(Node):
    """out = -self  →  ``-grad``."""

    derivatives = ("-{grad}",)

    __slots__ = ()

    def apply(self, grad: Any) -> tuple[Any]:
        return (-grad,)


class CloneBackward0(Node):
    """out = self.clone()  →  ``grad``."""

    derivatives = ("{grad}",)

    __slots__ = ()

    def apply(self, grad: Any) -> tuple[Any]:
        return (grad,)


class ExpBackward0(_SavesResult):
    """out = exp(self)  →  ``grad * out``."""

    derivatives = ("{grad} × {result}",)

    __slots__ = ()

    def apply(self, grad: Any) -> tuple[Any]:
        return (grad * unpack(self._result),)


class LogBackward0(_SavesSelf):
    """out = log(self)  →  ``grad / self``."""

    derivatives = ("{grad} / {self}",)

    __slots__ = ()

    def apply(self, grad: Any) -> tuple[Any]:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (grad / unpack(self._self),)


class TanhBackward0(_SavesResult):
    """out = tanh(self)  →  ``grad * (1 - out²)``."""

    derivatives = ("{grad} × (1 - {result}²)",)

    __slots__ = ()

    def apply(self, grad: Any) -> tuple[Any]:
        out = unpack(self._result)
        return (grad * (1 - out * out),)


class SigmoidBackward0(_SavesResult):
    """out = sigmoid(self)  →  ``grad * out * (1 - out)``."""

    derivatives = ("{grad} × {result} × (1 - {result})",)

    __slots__ = ()

    def apply(self, grad: Any) -> tuple[Any]:
        out = unpack(self._result)
        return (grad * out * (1 - out),)


class ReluBackward0(_SavesResult):
    """out = relu(self)  →  ``grad`` where out > 0, else 0."""

    derivatives = ("{grad} where {result} > 0, else 0",)

    __slots__ = ()

    def apply(self, grad: Any) -> tuple[Any]:
        return (np.where(unpack(self._result) > 0, grad, 0),)  # 0, never -0 (grad * False)


class AbsBackward0(_SavesSelf):
    """out = |self|  →  ``grad * sign(self)``."""

    derivatives = ("{grad} × sign({self})",)

    __slots__ = ()

    def apply(self, grad: Any) -> tuple[Any]:
        return (grad * np.sign(unpack(self._self)),)


class SqrtBackward0(_SavesResult):
    """out = sqrt(self)  →  ``grad / (2 * out)``."""

    derivatives = ("{grad} / (2 × {result})",)

    __slots__ = ()

    def apply(self, grad: Any) -> tuple[Any]:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (grad / (2 * unpack(self._result)),)


class ReciprocalBackward0(_SavesResult):
    """out = 1 / self  →  ``-grad * out²``."""

    derivatives = ("-{grad} × {result}²",)

    __slots__ = ()

    def apply(self, grad: Any) -> tuple[Any]:
        out = unpack(self._result)
        return (-grad * out * out,)


def _quiet(fn: Any, data: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return fn(data)


def _sigmoid(x: Any) -> Any:
    with np.errstate(over="ignore"):
        return (1 / (1 + np.exp(-x))).astype(x.dtype, copy=False)


def neg(x: Tensor) -> Tensor:
    """``-x``."""
    if x._data.dtype.kind == "b":
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. "
            "If you are trying to invert a mask, use the `~` or "
            "`logical_not()` operator instead."
        )
    return unary("neg", NegBackward0, -x._data, x)


def clone(x: Tensor) -> Tensor:
    """A copy of ``x`` that stays on the graph."""
    return unary("clone", CloneBackward0, np.array(x._data, copy=True), x)


def exp(x: Tensor) -> Tensor:
    """Elementwise e**x."""
    return unary("exp", ExpBackward0, _quiet(np.exp, as_float(x)), x)


def log(x: Tensor) -> Tensor:
    """Elementwise natural logarithm."""
    return unary("log", LogBackward0, _quiet(np.log, as_float(x)), x)


def tanh(x: Tensor) -> Tensor:
    """Elementwise hyperbolic tangent."""
    return unary("tanh", TanhBackward0, np.tanh(as_float(x)), x)


def sigmoid(x: Tensor) -> Tensor:
    """Elementwise 1 / (1 + e**-x)."""
    return unary("sigmoid", SigmoidBackward0, _sigmoid(as_float(x)), x)


def relu(x: Tensor) -> Tensor:
    """Elementwise max(x, 0)."""
    data = x._data
    return unary("relu", ReluBackward0, np.maximum(data, data.dtype.type(0)), x)


def abs(x: Tensor) -> Tensor:  # noqa: A001  (PyTorch's name)
    """Elementwise |x|."""
    return unary("abs", AbsBackward0, np.abs(x._data), x)


def sqrt(x: Tensor) -> Tensor:
    """Elementwise square root."""
    return unary("sqrt", SqrtBackward0, _quiet(np.sqrt, as_float(x)), x)


def compare(a: Tensor, b: Any, ufunc: Any) -> Tensor:
    """An elementwise comparison; the bool result is never on the graph."""
    pair = operands(a, b)
    if pair is None:
        return NotImplemented
    from gradlab._ops._common import broadcast_error

    try:
        data = ufunc(*pair)
    except ValueError:
        raise broadcast_error(*pair) from None
    return announce(ufunc.__name__, Tensor(data), None, a, b)
