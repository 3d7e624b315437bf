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
from gradlab._ops.views import NO_GRAD_MODE, rebase, refresh_views, set_grad_fn
from gradlab.autograd import events
from gradlab.autograd.grad_mode import is_grad_enabled
from gradlab.autograd.saved import SavedTensor

_LEAF_MESSAGE = "a leaf Variable that requires grad is being used in an in-place operation."


def check_inplace(x: Tensor, other: Any = None, overlap: str = "partial") -> None:
    """Raise PyTorch's error if ``x`` may not be changed in place by an op that also reads
    ``other``, before anything is written. ``overlap``: which sharing of memory between
    them is refused, "partial", "any" (``index_put_``) or "none" (``fill_``, which reads
    its value first)."""
    if is_grad_enabled() and (x.requires_grad or needs_grad(other)):
        _check_autograd(x)
    if type(other) is Tensor and overlap != "none":
        _check_overlap(x, other, full_too=overlap == "any")


def _check_autograd(x: Tensor) -> None:
    """PyTorch's refusals of in-place changes it could not differentiate."""
    if x._view_of is not None:
        base, made = x._view_of
        if made == NO_GRAD_MODE:
            raise RuntimeError(
                "A view was created in no_grad mode and is being modified inplace with grad "
                "mode enabled. Given that this use case is ambiguous and error-prone, it is "
                "forbidden. You can clarify your code by moving both the view and the inplace "
                "either both inside the no_grad block (if you don't want the inplace to be "
                "tracked) or both outside (if you want the inplace to be tracked)."
            )
        if made is not None:
            raise RuntimeError(
                f"Output {x._output_nr} of {made} is a view and is being modified inplace. "
                "This view is the output of a function that returns multiple views. Such "
                "functions do not allow the output views to be modified inplace. You should "
                "replace the inplace operation by an out-of-place one."
            )
        if x.requires_grad and base._grad_fn is None:
            raise RuntimeError("a view of " + _LEAF_MESSAGE)
    if x._grad_fn is None and x._requires_grad:
        raise RuntimeError(_LEAF_MESSAGE)


def _check_overlap(x: Tensor, other: Tensor, full_too: bool = False) -> None:
    """PyTorch's refusal to read and write partly the same memory in one op (it checks
    dense tensors only; the same elements in the same layout are fine, unless
    ``full_too``, as for ``index_put_``)."""
    out, data = x._data, other._data
    if not (isinstance(out, np.ndarray) and isinstance(data, np.ndarray)):
        return
    if out.base is None and data.base is None and out is not data:
        return  # two arrays that own their memory: two allocations (the common case)
    if not out.size or not data.size or not np.may_share_memory(out, data):
        return
    if not (_dense(out) and _dense(data)):
        return
    a, b = _extent(out), _extent(data)
    if a == b and out.ndim == data.ndim and not full_too:
        # the same memory with the same strides (numpy gives a dimension of size 1 that
        # broadcasting added stride 0, where PyTorch's expand gives it a regular one,
        # unless it expands a single element)
        spread = any(data.strides)
        if all(
            s == t or n == m == 1 and spread and 0 in (s, t)
            for n, m, s, t in zip(out.shape, data.shape, out.strides, data.strides)
        ):
            return
    if a[0] < b[1] and b[0] < a[1]:
        raise RuntimeError(
            "unsupported operation: some elements of the input tensor and the written-to "
            "tensor refer to a single memory location. Please clone() the tensor before "
            "performing the operation."
        )


def _dense(a: np.ndarray) -> bool:
    """Whether ``a``'s elements fill a block of memory with no gaps or repeats, in some
    order of its dimensions (PyTorch's ``is_non_overlapping_and_dense``)."""
    expected = a.itemsize
    for stride, size in sorted((abs(s), n) for n, s in zip(a.shape, a.strides) if n != 1):
        if stride != expected:
            return False
        expected *= size
    return True


def _extent(a: np.ndarray) -> tuple[int, int]:
    start = a.__array_interface__["data"][0]
    return start, start + a.size * a.itemsize


def finish_inplace(
    name: str, x: Tensor, other: Any, node: Node | None, shown: Tensor | None = None
) -> Tensor:
    """Bump ``x``'s version and put ``node`` on the graph: as ``x``'s new ``grad_fn``, or,
    for a view, wrapped in its base's ``CopySlices``; then announce the change of ``x`` (or
    of ``shown``, the tensor the user changed through the hidden view ``x``)."""
    vc = x._version_counter()
    vc.value += 1
    if node is not None and x._data.dtype.kind == "f":  # other dtypes take no gradient
        if x._view_of is None:
            set_grad_fn(x, node)
        else:
            rebase(x, node)
    if vc.views:
        refresh_views(x)
    if events.listeners:
        shown = x if shown is None else shown
        events.emit(events.InplaceApplied(name, shown, other, x._version, shown._grad_fn))
    return x


def _apply(
    name: str,
    x: Tensor,
    other: Any,
    compute: Callable[..., tuple[Any, Node | None]],
    *alpha: Any,
) -> Tensor:
    check_inplace(x, other)
    if not (is_grad_enabled() and (x.requires_grad or needs_grad(other))) and _fits(x, other):
        return _apply_in_storage(name, x, other, *alpha)
    data, node = compute(x, other, *alpha)
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


def _apply_in_storage(name: str, x: Tensor, other: Any, alpha: Any = 1) -> Tensor:
    """Nothing to record (an SGD step under ``no_grad``, say): compute straight into the
    storage, with no temporary array."""
    storage = x._storage()
    operand = other._data if type(other) is Tensor else other
    if alpha != 1:
        operand = quiet.run(np.multiply, operand, alpha)
    quiet.run(_UFUNCS[name], storage, operand, out=storage)
    return finish_inplace(name, x, other, None)


def _keep_old_values(node: Node, x: Tensor) -> None:
    """A node that saved ``x`` as its ``self`` needs the values from before the write: save
    a copy, as PyTorch does (``original_self``). ``x`` saved as the other operand
    (``y.mul_(y)``) stays ``x`` itself, so backward raises the version error."""
    saved = getattr(node, "_self", None)
    if type(saved) is SavedTensor and saved.tensor is x:
        node._self = SavedTensor(Tensor(np.array(x._data, copy=True)))


def add_(x: Tensor, other: Any, alpha: Any = 1) -> Tensor:
    """``x += alpha * other``."""
    return _apply("add_", x, other, add_data, alpha)


def sub_(x: Tensor, other: Any, alpha: Any = 1) -> Tensor:
    """``x -= alpha * other``."""
    return _apply("sub_", x, other, sub_data, alpha)


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
