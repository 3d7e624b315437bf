"""Ops that move values around: views (reshape, transpose, indexing, unbind) and joins
(stack, cat). Their backward puts each gradient back where its value came from.

A view shares its input's storage and version counter, as in PyTorch: an in-place change
through either is seen by both.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradlab._ops._common import Node, Tensor, announce, edge, grad_enabled, make_node, sum_to
from gradlab.autograd import events


def _dim(dim: int, ndim: int) -> int:
    """``dim`` wrapped into range, with PyTorch's IndexError otherwise."""
    low, high = (-ndim, ndim - 1) if ndim else (-1, 0)
    if not low <= dim <= high:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{low}, {high}], but got {dim})"
        )
    return dim % max(ndim, 1)


def view_of(
    base: Tensor,
    data: Any,
    node: Node | None,
    name: str,
    output_nr: int = 0,
    multi: str | None = None,
) -> Tensor:
    """A tensor viewing ``base``'s storage (sharing its version counter when it shares memory)."""
    out = Tensor(data, node, output_nr)
    if isinstance(data, np.ndarray) and np.shares_memory(data, base._storage()):
        out._vc = base._version_counter()
        out._view_of = (base, multi)
    return out


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
    node = make_node(ViewBackward0, x)
    if node is not None:
        node._self_sizes = x.shape
    return announce(name, view_of(x, data, node, name), node, x)


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


class PermuteBackward0(Node):
    """out = self.permute(dims)  →  ``grad`` permuted back."""

    __slots__ = ("_saved_dims",)

    def apply(self, grad: Any) -> tuple[Any]:
        return (np.transpose(grad, np.argsort(self._saved_dims)),)


def permute(x: Tensor, dims: tuple[Any, ...]) -> Tensor:
    """``x`` with its dimensions reordered (a view); ``x.T`` reverses them."""
    dims = tuple(_dim(d, x.ndim) for d in _shape_arg(dims))
    if sorted(dims) != list(range(x.ndim)):
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does "
            "not match the length of the desired ordering of dimensions i.e. "
            f"input.dim() = {x.ndim} is not equal to len(dims) = {len(dims)}"
        )
    node = make_node(PermuteBackward0, x)
    if node is not None:
        node._saved_dims = dims
    data = np.transpose(x._storage(), dims)
    return announce("permute", view_of(x, data, node, "permute"), node, x)


class UnsqueezeBackward0(Node):
    """out = self.unsqueeze(dim)  →  ``grad`` with that dimension removed."""

    __slots__ = ("_saved_dim",)

    def apply(self, grad: Any) -> tuple[Any]:
        return (np.squeeze(grad, self._saved_dim),)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """``x`` with a new dimension of size 1 at ``dim`` (a view)."""
    dim = _dim(dim, x.ndim + 1)
    node = make_node(UnsqueezeBackward0, x)
    if node is not None:
        node._saved_dim = dim
    data = np.expand_dims(x._storage(), dim)
    return announce("unsqueeze", view_of(x, data, node, "unsqueeze"), node, x)


class SqueezeBackward4(Node):
    """out = self.squeeze(0)  →  ``grad`` with dimension 0 put back."""

    __slots__ = ()

    def apply(self, grad: Any) -> tuple[Any]:
        return (np.expand_dims(grad, 0),)


def squeeze0(x: Tensor) -> Tensor:
    """``x`` without its leading dimension of size 1 (how ``vector @ matrix`` ends)."""
    node = make_node(SqueezeBackward4, x)
    data = np.squeeze(x._storage(), 0)
    return announce("squeeze", view_of(x, data, node, "squeeze"), node, x)


# --- indexing ----------------------------------------------------------------------------


class SelectBackward0(_ShapeNode):
    """out = self[..., index, ...] along ``dim``  →  zeros with ``grad`` placed at ``index``."""

    __slots__ = ("_saved_dim", "_saved_index")

    def apply(self, grad: Any) -> tuple[Any]:
        full = np.zeros(self._self_sizes, dtype=np.asarray(grad).dtype)
        np.moveaxis(full, self._saved_dim, 0)[self._saved_index] = grad
        return (full,)


class SliceBackward0(_ShapeNode):
    """out = self[start:end:step] along ``dim``  →  zeros with ``grad`` placed in the slice."""

    __slots__ = ("_saved_dim", "_saved_start", "_saved_end", "_saved_step")

    def apply(self, grad: Any) -> tuple[Any]:
        full = np.zeros(self._self_sizes, dtype=np.asarray(grad).dtype)
        where = slice(self._saved_start, self._saved_end, self._saved_step)
        np.moveaxis(full, self._saved_dim, 0)[where] = np.moveaxis(grad, self._saved_dim, 0)
        return (full,)


class IndexBackward0(_ShapeNode):
    """out = self[indices] (advanced indexing)  →  ``grad`` added back at the indices."""

    __slots__ = ("_index",)

    @property
    def _saved_indices(self) -> tuple[Tensor, ...]:
        return tuple(Tensor(np.asarray(i)) for i in self._index if isinstance(i, np.ndarray))

    def apply(self, grad: Any) -> tuple[Any]:
        full = np.zeros(self._self_sizes, dtype=np.asarray(grad).dtype)
        np.add.at(full, self._index, grad)
        return (full,)


def _select(x: Tensor, dim: int, index: int) -> Tensor:
    size = x.shape[dim]
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of bounds for dimension {dim} with size {size}")
    node = make_node(SelectBackward0, x)
    if node is not None:
        node._self_sizes, node._saved_dim, node._saved_index = x.shape, dim, index
    data = np.moveaxis(x._storage(), dim, 0)[index]
    return announce("select", view_of(x, data, node, "select"), node, x)


def _slice(x: Tensor, dim: int, where: slice) -> Tensor:
    start, stop, step = where.indices(x.shape[dim])
    if step <= 0:
        raise ValueError("step must be greater than zero")
    node = make_node(SliceBackward0, x)
    if node is not None:
        node._self_sizes, node._saved_dim = x.shape, dim
        node._saved_start, node._saved_step = start, step
        node._saved_end = where.stop if where.stop is not None else 9223372036854775807
    data = np.moveaxis(np.moveaxis(x._storage(), dim, 0)[start:stop:step], 0, dim)
    return announce("slice", view_of(x, data, node, "slice"), node, x)


def _is_basic(item: Any) -> bool:
    return (
        item is None
        or item is Ellipsis
        or isinstance(item, (int, slice, np.integer))
        and not isinstance(item, bool)
    )


def _as_index(item: Any) -> Any:
    if isinstance(item, Tensor):
        return item._storage()
    if isinstance(item, list):
        return np.asarray(item)
    return item


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]``: integers select, slices slice, ``None`` adds a dimension (each a view
    with PyTorch's node); index tensors, lists and masks gather a copy (``IndexBackward0``)."""
    items = index if isinstance(index, tuple) else (index,)
    if not all(_is_basic(i) for i in items):
        return _gather(x, tuple(_as_index(i) for i in items))
    consumed = sum(1 for i in items if i is not None and i is not Ellipsis)
    if consumed > x.ndim:
        raise IndexError(f"too many indices for tensor of dimension {x.ndim}")
    out, dim = x, 0
    for item in items:
        if item is Ellipsis:
            dim += x.ndim - consumed
        elif item is None:
            out = unsqueeze(out, dim)
            dim += 1
        elif isinstance(item, slice):
            if item != slice(None):
                out = _slice(out, dim, item)
            dim += 1
        else:
            out = _select(out, dim, operator.index(item))
    return out if out is not x else view_of(x, x._storage()[...], None, "alias")


def _gather(x: Tensor, index: tuple[Any, ...]) -> Tensor:
    try:
        data = x._storage()[index]
    except IndexError as error:
        raise IndexError(str(error)) from None
    node = make_node(IndexBackward0, x)
    if node is not None:
        node._self_sizes, node._index = x.shape, index
    return announce("index", Tensor(data, node), node, x)


class CopySlices(Node):
    """self[index] = value  →  ``grad`` with the overwritten part zeroed for self, and the
    gradient of that part (summed to value's shape) for value."""

    __slots__ = ("_index", "_value_shape")

    def apply(self, grad: Any) -> tuple[Any, Any]:
        rest = np.array(grad, copy=True)
        rest[self._index] = 0
        part = sum_to(np.asarray(grad)[self._index], self._value_shape)
        return rest, part


def setitem(x: Tensor, index: Any, value: Any) -> None:
    """``x[index] = value``: an in-place change (the version goes up)."""
    from gradlab._ops.inplace import check_inplace, finish_inplace

    check_inplace(x)
    items = index if isinstance(index, tuple) else (index,)
    key = tuple(_as_index(i) for i in items)
    value_data = value._data if isinstance(value, Tensor) else value
    storage = x._storage()
    np.broadcast_shapes(np.shape(storage[key]), np.shape(value_data))  # fail before writing
    node = None
    if grad_enabled() and (x.requires_grad or isinstance(value, Tensor) and value.requires_grad):
        node = CopySlices((edge(x), edge(value)))
        node._index, node._value_shape = key, np.shape(value_data)
    storage[key] = value_data
    finish_inplace("setitem", x, value, node)


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
    dim = _dim(dim, x.ndim)
    storage = np.moveaxis(x._storage(), dim, 0)
    node = make_node(UnbindBackward0, x)
    if node is not None:
        shape = storage.shape[1:]
        node._saved_dim, node._shapes, node._dtype = dim, (shape,) * len(storage), x._data.dtype
    outs = tuple(
        view_of(x, part, node, "unbind", i, multi="Unbind") for i, part in enumerate(storage)
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
    dim = _dim(dim, tensors[0].ndim + 1)
    data = np.stack([t._data for t in tensors], axis=dim)
    node = make_node(StackBackward0, *tensors)
    if node is not None:
        node._saved_dim = dim
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
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    dim = _dim(dim, tensors[0].ndim)
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
        node._saved_dim, node._sizes = dim, [t.shape[dim] for t in tensors]
    return announce("cat", Tensor(data, node), node, *tensors)
