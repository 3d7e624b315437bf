"""Ops that move values around: views (reshape, transpose, permute, unbind) and joins
(stack, cat); indexing is in :mod:`gradlab._ops.indexing`. Their backward puts each
gradient back where its value came from.

A view shares its input's storage and version counter, as in PyTorch: an in-place change
through either is seen by both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gradlab._args import int_list, is_int, type_name
from gradlab._dtype import result_type
from gradlab._ops._common import Node, Tensor, announce, make_node, sum_to
from gradlab._ops.views import view_of
from gradlab.autograd import events
from gradlab.autograd.saved import tensor_type_name


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

    derivatives = ("{grad} reshaped to {self_sym_sizes}",)

    __slots__ = ()

    def apply(self, grad: Any) -> tuple[Any]:
        return (np.reshape(grad, self._self_sizes),)


def _shape_arg(name: str, args: tuple[Any, ...]) -> tuple[int, ...]:
    """The new shape of ``reshape``/``view``, with PyTorch's errors for bad entries."""
    if name == "view" and (not args or len(args) == 1 and not _sizes_like(args[0])):
        got = ", ".join(type_name(a) for a in args)
        raise TypeError(
            f"view() received an invalid combination of arguments - got ({got}), but "
            "expected one of: (gradlab.dtype dtype), (tuple of ints size)"
        )
    shape = int_list(name, "shape" if name == "reshape" else "size", args)
    for i, n in enumerate(shape):
        if n < -1:
            raise RuntimeError(f"invalid shape dimension {n} at index {i} of shape {list(shape)}")
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    return shape


def _sizes_like(x: Any) -> bool:
    return isinstance(x, (tuple, list)) or is_int(x, first=True)


def reshape(x: Tensor, shape: tuple[Any, ...], name: str = "reshape") -> Tensor:
    """``x`` with a new shape (one entry may be -1); a view where the memory allows."""
    shape = _shape_arg(name, shape)
    if -1 in shape and not x._data.size and not np.prod([n for n in shape if n != -1]):
        raise RuntimeError(
            f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
            "unspecified dimension size -1 can be any value and is ambiguous"
        )
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

    derivatives = ("{grad} transposed back (dims {dim0} and {dim1})",)

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

    derivatives = ("{grad} permuted back from dims {dims}",)

    __slots__ = ("_saved_dims", "_dims")

    def apply(self, grad: Any) -> tuple[Any]:
        return (np.transpose(grad, np.argsort(self._dims)),)


def permute(x: Tensor, dims: tuple[Any, ...]) -> Tensor:
    """``x`` with its dimensions reordered (a view); ``x.T`` reverses them."""
    given = int_list("permute", "dims", dims)
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

    derivatives = ("{grad} with dim {dim} removed",)

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

    derivatives = ("{grad} with dim 0 put back",)

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

    derivatives = ("{grad} summed back to shape {self_sym_sizes}",)

    __slots__ = ()

    def apply(self, grad: Any) -> tuple[Any]:
        return (sum_to(grad, self._self_sizes),)


def expand(x: Tensor, sizes: tuple[int, ...]) -> Tensor:
    """``x`` broadcast to ``sizes`` without copying (a view)."""
    shape = x.shape
    if len(sizes) < len(shape):
        raise RuntimeError(
            f"expand({tensor_type_name(x._data)}{{{list(shape)}}}, size={list(sizes)}): the "
            f"number of sizes provided ({len(sizes)}) must be greater or equal to the number "
            f"of dimensions in the tensor ({len(shape)})"
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

    derivatives = ("the outputs' gradients {grad} stacked along dim {dim}",)

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


def _in_dtypes(parts: Any, dtypes: tuple[np.dtype, ...] | None) -> tuple[Any, ...]:
    """Each input's part of the gradient in that input's dtype (None: all as the output)."""
    if dtypes is None:
        return tuple(parts)
    return tuple(p.astype(d, copy=False) for p, d in zip(parts, dtypes))


def _joined(tensors: tuple[Tensor, ...]) -> tuple[np.dtype, tuple[np.dtype, ...] | None]:
    """The dtype of a join of ``tensors`` (PyTorch's promotion), and the inputs' dtypes
    when they differ from it (their gradients are cast back)."""
    dtype = result_type(*tensors)
    dtypes = tuple(t._data.dtype for t in tensors)
    return dtype, None if all(d == dtype for d in dtypes) else dtypes


class StackBackward0(Node):
    """out = stack(tensors, dim)  →  each input receives its slice of ``grad``."""

    __slots__ = ("_saved_dim", "_dtypes")

    derivatives = ("slice {position} of {grad} along dim {dim}",)

    def apply(self, grad: Any) -> tuple[Any, ...]:
        return _in_dtypes(np.moveaxis(grad, self._saved_dim, 0), self._dtypes)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join equal-shaped tensors along a new dimension ``dim``."""
    tensors = _tensor_list(tensors)
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
    dtype, dtypes = _joined(tensors)
    data = np.stack([t._data for t in tensors], axis=dim, dtype=dtype, casting="unsafe")
    node = make_node(StackBackward0, *tensors)
    if node is not None:
        node._saved_dim, node._dtypes = given, dtypes
    return announce("stack", Tensor(data, node), node, *tensors)


def _tensor_list(tensors: Sequence[Tensor]) -> tuple[Tensor, ...]:
    """The tensors of a stack or cat, with PyTorch's error for anything else in the list."""
    from gradlab._ops._common import mixed_with_torch

    tensors = tuple(tensors)
    for i, t in enumerate(tensors):
        if type(t) is not Tensor:
            error = mixed_with_torch(t)
            raise error or TypeError(
                f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}"
            )
    return tensors


class CatBackward0(Node):
    """out = cat(tensors, dim)  →  each input receives its stretch of ``grad``."""

    __slots__ = ("_saved_dim", "_sizes", "_dtypes")

    derivatives = ("part {position} of {grad} along dim {dim}",)

    def apply(self, grad: Any) -> tuple[Any, ...]:
        parts = np.split(grad, np.cumsum(self._sizes)[:-1], axis=self._saved_dim)
        return _in_dtypes(parts, self._dtypes)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors end to end along the existing dimension ``dim``."""
    tensors = _tensor_list(tensors)
    if not tensors:
        raise ValueError("gradlab.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not t.ndim:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
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
    dtype, dtypes = _joined(tensors)
    data = np.concatenate([t._data for t in tensors], axis=dim, dtype=dtype, casting="unsafe")
    node = make_node(CatBackward0, *tensors)
    if node is not None:
        node._saved_dim, node._sizes = given, [t.shape[dim] for t in tensors]
        node._dtypes = dtypes
    return announce("cat", Tensor(data, node), node, *tensors)
