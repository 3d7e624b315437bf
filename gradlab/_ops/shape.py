"""Ops that move values around: views (reshape, transpose, permute, unbind) and joins
(stack, cat); indexing is in :mod:`gradlab._ops.indexing`. Their backward puts each
gradient back where its value came from.

A view shares its input's storage and version counter, as in PyTorch: an in-place change
through either is seen by both.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradlab._ops._common import Node, Tensor, announce, make_node, sum_to
from gradlab._ops.views import view_of
from gradlab.autograd import events
from gradlab.autograd.saved import type_name


def _dim(dim: int, ndim: int) -> int:
    """``dim`` wrapped into range, with PyTorch's IndexError otherwise."""
    low, high = (-ndim, ndim - 1) if ndim else (-1, 0)
    if not low <= dim <= high:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{low}, {high}], but got {dim})"
        )
    return dim % max(ndim, 1)


class _ShapeNode(Node):
    __slots__ = ("_self_sizes",)

    @property
    def _saved_self_sym_sizes(self) -> tuple[int, ...]:
        return self._self_sizes


class ViewBackward0(_ShapeNode):
    """out = self.view(shape)  →  ``grad`` reshaped back to self's shape."""

    __slots__ = ()

    def apply(self, grad: Any) -> tuple[Any]:
        return (np.reshape(grad, self._self_sizes),)


def _shape_arg(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], Sequence):
        shape = tuple(shape[0])
    return tuple(operator.index(n) for n in shape)


def reshape(x: Tensor, shape: tuple[Any, ...], name: str = "reshape") -> Tensor:
    """``x`` with a new shape (one entry may be -1); a view where the memory allows."""
    shape = _shape_arg(shape)
    try:
        data = x._storage().reshape(shape)
    except ValueError:
        raise RuntimeError(
            f"shape '{list(shape)}' is invalid for input of size {x.numel()}"
        ) from None
    if data.size and not np.shares_memory(data, x._storage()):
        if name == "view":
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one "
                "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
            )
        return _reshape_copy(x, shape)
    cls = ViewBackward0
    if name == "reshape" and not x._storage().flags.c_contiguous:
        cls = ReshapeAliasBackward0
    node = make_node(cls, x)
    if node is not None:
        node._self_sizes = x._data.shape
    return announce(name, view_of(x, data, node, name), node, x)


class ReshapeAliasBackward0(ViewBackward0):
    """out = self.reshape(shape) of a non-contiguous self whose memory allows a view."""

    __slots__ = ()


class UnsafeViewBackward0(ViewBackward0):
    """out = contiguous copy of self, reshaped (what ``reshape`` does when it cannot view)."""

    __slots__ = ()


def _reshape_copy(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """``reshape`` of a tensor whose memory allows no view: as in PyTorch, a contiguous
    ``clone`` (``CloneBackward0``) viewed in the new shape (``UnsafeViewBackward0``)."""
    from gradlab._ops.pointwise import CloneBackward0, unary

    copy = unary("clone", CloneBackward0, np.ascontiguousarray(x._data), x)
    node = make_node(UnsafeViewBackward0, copy)
    if node is not None:
        node._self_sizes = copy._data.shape
    return announce("reshape", Tensor(copy._data.reshape(shape), node), node, copy)


class TransposeBackward0(Node):
    """out = self.transpose(dim0, dim1)  →  ``grad`` transposed back."""

    __slots__ = ("_saved_dim0", "_saved_dim1")

    def apply(self, grad: Any) -> tuple[Any]:
        return (np.swapaxes(grad, self._saved_dim0, self._saved_dim1),)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """``x`` with two dimensions swapped (a view)."""
    d0, d1 = _dim(dim0, x.ndim), _dim(dim1, x.ndim)
    node = make_node(TransposeBackward0, x)
    if node is not None:
        node._saved_dim0, node._saved_dim1 = dim0, dim1
    data = np.swapaxes(x._storage(), d0, d1)
    return announce("transpose", view_of(x, data, node, "transpose"), node, x)


class TBackward0(Node):
    """out = self.t() (a 0-d, 1-d or 2-d tensor)  →  ``grad`` transposed back."""

    __slots__ = ()

    def apply(self, grad: Any) -> tuple[Any]:
        return (np.transpose(grad),)


def t(x: Tensor) -> Tensor:
    """``x`` with its two dimensions swapped (a view; a 0-d or 1-d tensor stays as it is,
    but still comes back as a new view, as in PyTorch)."""
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    node = make_node(TBackward0, x)
    data = np.transpose(x._storage())
    return announce("t", view_of(x, data, node, "t"), node, x)


class PermuteBackward0(Node):
    """out = self.permute(dims)  →  ``grad`` permuted back."""

    __slots__ = ("_saved_dims", "_dims")

    def apply(self, grad: Any) -> tuple[Any]:
        return (np.transpose(grad, np.argsort(self._dims)),)


def permute(x: Tensor, dims: tuple[Any, ...]) -> Tensor:
    """``x`` with its dimensions reordered (a view); ``x.T`` reverses them."""
    given = _shape_arg(dims)
    dims = tuple(_dim(d, x.ndim) for d in given)
    if len(dims) == x.ndim and len(set(dims)) < len(dims):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    if sorted(dims) != list(range(x.ndim)):
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does "
            "not match the length of the desired ordering of dimensions i.e. "
            f"input.dim() = {x.ndim} is not equal to len(dims) = {len(dims)}"
        )
    node = make_node(PermuteBackward0, x)
    if node is not None:
        node._saved_dims, node._dims = given, dims
    data = np.transpose(x._storage(), dims)
    return announce("permute", view_of(x, data, node, "permute"), node, x)


class UnsqueezeBackward0(Node):
    """out = self.unsqueeze(dim)  →  ``grad`` with that dimension removed."""

    __slots__ = ("_saved_dim",)

    def apply(self, grad: Any) -> tuple[Any]:
        return (np.squeeze(grad, self._saved_dim),)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """``x`` with a new dimension of size 1 at ``dim`` (a view)."""
    given, dim = dim, _dim(dim, x.ndim + 1)
    node = make_node(UnsqueezeBackward0, x)
    if node is not None:
        node._saved_dim = given
    data = _with_new_dim(x._storage(), dim)
    return announce("unsqueeze", view_of(x, data, node, "unsqueeze"), node, x)


def _with_new_dim(a: np.ndarray, dim: int) -> np.ndarray:
    """``a`` viewed with a new dimension of size 1 at ``dim``, strided as PyTorch strides
    it (size × stride of the dimension after it), which a saved ``sym_strides`` shows."""
    stride = a.shape[dim] * a.strides[dim] if dim < a.ndim else a.itemsize
    shape = (*a.shape[:dim], 1, *a.shape[dim:])
    strides = (*a.strides[:dim], stride, *a.strides[dim:])
    return np.lib.stride_tricks.as_strided(a, shape, strides)


class SqueezeBackward4(_ShapeNode):
    """out = self.squeeze(0)  →  ``grad`` with dimension 0 put back."""

    __slots__ = ()
    _saved_dim = 0

    def apply(self, grad: Any) -> tuple[Any]:
        return (np.expand_dims(grad, 0),)


def squeeze0(x: Tensor) -> Tensor:
    """``x`` without its leading dimension of size 1 (how ``vector @ matrix`` ends)."""
    node = make_node(SqueezeBackward4, x)
    if node is not None:
        node._self_sizes = x._data.shape
    # PyTorch's matmul squeezes its own result in place (squeeze_): no view, version 1
    out = Tensor(np.squeeze(x._storage(), 0), node)
    out._bump_version()
    return announce("squeeze", out, node, x)


class ExpandBackward0(_ShapeNode):
    """out = self.expand(sizes)  →  ``grad`` summed back over the expanded dimensions."""

    __slots__ = ()

    def apply(self, grad: Any) -> tuple[Any]:
        return (sum_to(grad, self._self_sizes),)


def expand(x: Tensor, sizes: tuple[int, ...]) -> Tensor:
    """``x`` broadcast to ``sizes`` without copying (a view)."""
    shape = x.shape
    if len(sizes) < len(shape):
        raise RuntimeError(
            f"expand({type_name(x._data)}{{{list(shape)}}}, size={list(sizes)}): the number of "
            "sizes "
            f"provided ({len(sizes)}) must be greater or equal to the number of dimensions in "
            f"the tensor ({len(shape)})"
        )
    for i in reversed(range(len(sizes))):
        d = len(shape) - len(sizes) + i
        size = shape[d] if d >= 0 else 1
        if size != sizes[i] and size != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({sizes[i]}) must match the existing size "
                f"({size}) at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  "
                f"Tensor sizes: {list(shape)}"
            )
    node = make_node(ExpandBackward0, x)
    if node is not None:
        node._self_sizes = x._data.shape
    data = np.broadcast_to(x._storage(), sizes)
    return announce("expand", view_of(x, data, node, "expand"), node, x)


# --- splitting and joining ---------------------------------------------------------------


class UnbindBackward0(Node):
    """outs = self.unbind(dim)  →  the outputs' gradients stacked back along ``dim``
    (zeros for outputs that received none)."""

    __slots__ = ("_saved_dim", "_shapes", "_dtype")
    multi_output = True

    def output_shapes(self) -> tuple[tuple[int, ...], ...]:
        return self._shapes

    def apply(self, grads: list[Any]) -> tuple[Any]:
        parts = [np.zeros(s, self._dtype) if g is None else g for g, s in zip(grads, self._shapes)]
        return (np.stack(parts, axis=self._saved_dim),)


def unbind(x: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """Split ``x`` along ``dim`` into views, one per index; all share one ``UnbindBackward0``
    and tell it which they are by their output index (0, 1, 2, ...)."""
    if x.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    given, dim = dim, _dim(dim, x.ndim)
    storage = np.moveaxis(x._storage(), dim, 0)
    node = make_node(UnbindBackward0, x)
    if node is not None:
        shape = storage.shape[1:]
        node._saved_dim, node._shapes, node._dtype = given, (shape,) * len(storage), x._data.dtype
    outs = tuple(
        view_of(x, storage[i, ...], node, "unbind", i if node is not None else 0, multi="Unbind")
        for i in range(len(storage))
    )
    if events.listeners:
        events.emit(events.OpApplied("unbind", (x,), outs, node))
    return outs


class StackBackward0(Node):
    """out = stack(tensors, dim)  →  each input receives its slice of ``grad``."""

    __slots__ = ("_saved_dim",)

    def apply(self, grad: Any) -> tuple[Any, ...]:
        return tuple(np.moveaxis(grad, self._saved_dim, 0))


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join equal-shaped tensors along a new dimension ``dim``."""
    tensors = tuple(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got "
                f"{list(tensors[0].shape)} at entry 0 and {list(t.shape)} at "
                f"entry {i}"
            )
    given, dim = dim, _dim(dim, tensors[0].ndim + 1)
    data = np.stack([t._data for t in tensors], axis=dim)
    node = make_node(StackBackward0, *tensors)
    if node is not None:
        node._saved_dim = given
    return announce("stack", Tensor(data, node), node, *tensors)


class CatBackward0(Node):
    """out = cat(tensors, dim)  →  each input receives its stretch of ``grad``."""

    __slots__ = ("_saved_dim", "_sizes")

    def apply(self, grad: Any) -> tuple[Any, ...]:
        return tuple(np.split(grad, np.cumsum(self._sizes)[:-1], axis=self._saved_dim))


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors end to end along the existing dimension ``dim``."""
    tensors = tuple(tensors)
    if not tensors:
        raise ValueError("gradlab.cat(): expected a non-empty list of Tensors")
    given, dim = dim, _dim(dim, tensors[0].ndim)
    first = tensors[0].shape
    for i, t in enumerate(tensors[1:], start=1):
        for d, (n, m) in enumerate(zip(first, t.shape)):
            if d != dim and n != m:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. "
                    f"Expected size {n} but got size {m} for tensor number {i} "
                    "in the list."
                )
    data = np.concatenate([t._data for t in tensors], axis=dim)
    node = make_node(CatBackward0, *tensors)
    if node is not None:
        node._saved_dim, node._sizes = given, [t.shape[dim] for t in tensors]
    return announce("cat", Tensor(data, node), node, *tensors)
