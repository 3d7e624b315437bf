"""In-place ops: ``add_ sub_ mul_ div_ zero_ fill_`` and ``+= -= *= /=``.

An in-place op writes into the tensor's storage, bumps its version (so nodes that saved
the old values notice), and, on the graph, makes the op's node the tensor's new ``grad_fn``.
Everything is checked before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradlab._args import type_name
from gradlab._dtype import SCALAR_NAMES
from gradlab._ops._common import Node, Tensor, make_node, needs_grad, quiet, scalar
from gradlab._ops.arithmetic import add_data, div_data, mul_data, sub_data
from gradlab.autograd import events
from gradlab.autograd.grad_mode import is_grad_enabled
from gradlab.autograd.saved import SavedTensor

_LEAF_MESSAGE = "a leaf Variable that requires grad is being used in an in-place operation."


def check_inplace(x: Tensor, through: str | None = None) -> None:
    """Raise PyTorch's error if ``x`` may not be changed in place right now (``through``:
    the view op, e.g. "Select", when the change goes through a new view of ``x``, as
    ``x[0] = 1`` does)."""
    if x._grad_fn is None and x._requires_grad and is_grad_enabled():
        raise RuntimeError(("a view of " if through else "") + _LEAF_MESSAGE)
    if x._view_of is not None and x.requires_grad and is_grad_enabled():
        base, multi = x._view_of
        if multi is not None:  # the error names the view being changed
            output = f"Output 0 of {through}" if through else f"Output {x._output_nr} of {multi}"
            raise RuntimeError(
                f"{output} is a view and is being modified inplace. "
                "This view is the output of a function that returns multiple views. Such "
                "functions do not allow the output views to be modified inplace. You should "
                "replace the inplace operation by an out-of-place one."
            )
        raise RuntimeError(
            "gradlab does not support in-place ops on a view of a tensor that requires grad "
            "(PyTorch rewrites the base's history for this); use an out-of-place op instead."
        )


def finish_inplace(name: str, x: Tensor, other: Any, node: Node | None) -> Tensor:
    """Bump ``x``'s version, hang ``node`` on it as its new ``grad_fn``, and announce it."""
    x._bump_version()
    if node is not None:
        x._grad_fn, x._output_nr = node, 0
    if events.listeners:
        events.emit(events.InplaceApplied(name, x, other, x._version, node))
    return x


def _apply(
    name: str, x: Tensor, other: Any, compute: Callable[[Tensor, Any], tuple[Any, Node | None]]
) -> Tensor:
    check_inplace(x)
    if not (is_grad_enabled() and (x.requires_grad or needs_grad(other))) and _fits(x, other):
        return _apply_in_storage(name, x, other)
    data, node = compute(x, other)
    if data is NotImplemented:
        return data
    if np.shape(data) != x._data.shape:
        raise RuntimeError(
            f"output with shape {list(x.shape)} doesn't match the broadcast "
            f"shape {list(np.shape(data))}"
        )
    if not np.can_cast(data.dtype, x._data.dtype, casting="same_kind"):
        raise RuntimeError(
            f"result type {SCALAR_NAMES[data.dtype.name]} can't be cast to the "
            f"desired output type {SCALAR_NAMES[x._data.dtype.name]}"
        )
    if node is not None:
        _keep_old_values(node, x)
    quiet.run(np.copyto, x._storage(), data, casting="unsafe")  # 1e300 into float32: inf
    return finish_inplace(name, x, other, node)


_UFUNCS = {"add_": np.add, "sub_": np.subtract, "mul_": np.multiply, "div_": np.true_divide}


def _fits(x: Tensor, other: Any) -> bool:
    """Whether ``other`` combines with the float tensor ``x`` with no conversion: a Python
    number, or a tensor of the same dtype that broadcasts to ``x``'s shape."""
    data = x._data
    if data.dtype.kind != "f":
        return False
    if type(other) is float or type(other) is int:
        return True
    if type(other) is not Tensor or other._data.dtype != data.dtype:
        return False
    shape = other._data.shape
    return (
        shape == data.shape
        or len(shape) <= data.ndim
        and all(n in (1, m) for n, m in zip(shape[::-1], data.shape[::-1]))
    )


def _apply_in_storage(name: str, x: Tensor, other: Any) -> Tensor:
    """Nothing to record (an SGD step under ``no_grad``, say): compute straight into the
    storage, with no temporary array."""
    storage = x._storage()
    operand = other._data if type(other) is Tensor else other
    quiet.run(_UFUNCS[name], storage, operand, out=storage)
    return finish_inplace(name, x, other, None)


def _keep_old_values(node: Node, x: Tensor) -> None:
    """A node that saved ``x`` itself needs the values from before the write: save a copy."""
    for slot in node._saved:
        saved = getattr(node, slot)
        if type(saved) is SavedTensor and saved.tensor is x:
            setattr(node, slot, SavedTensor(Tensor(np.array(x._data, copy=True))))


def add_(x: Tensor, other: Any) -> Tensor:
    """``x += other``."""
    return _apply("add_", x, other, add_data)


def sub_(x: Tensor, other: Any) -> Tensor:
    """``x -= other``."""
    return _apply("sub_", x, other, sub_data)


def mul_(x: Tensor, other: Any) -> Tensor:
    """``x *= other``."""
    return _apply("mul_", x, other, mul_data)


def div_(x: Tensor, other: Any) -> Tensor:
    """``x /= other``."""
    return _apply("div_", x, other, div_data)


class ZeroBackward0(Node):
    """self.zero_()  →  the old values no longer matter: their gradient is 0."""

    derivatives = ("zeros: the old values no longer matter",)

    __slots__ = ()

    def apply(self, grad: Any) -> tuple[Any]:
        return (np.zeros_like(grad),)


class FillBackward2(ZeroBackward0):
    """self.fill_(value)  →  the old values no longer matter: their gradient is 0."""

    __slots__ = ()


def _overwrite(name: str, x: Tensor, value: Any, cls: type[Node]) -> Tensor:
    check_inplace(x)
    if scalar(value) is None:
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got "
            f"({type_name(value)}), but expected one of: (Number value)"
        )
    node = make_node(cls, x)
    x._storage()[...] = value
    return finish_inplace(name, x, value, node)


def zero_(x: Tensor) -> Tensor:
    """Set every element to 0."""
    return _overwrite("zero_", x, 0, ZeroBackward0)


def fill_(x: Tensor, value: Any) -> Tensor:
    """Set every element to ``value``."""
    return _overwrite("fill_", x, value, FillBackward2)
