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
from gradlab.autograd.saved import unpack


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
    if data.size and not np.shares_memory(data, x._storage()):
        if name == "view":
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one "
                "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
            )
        return _reshape_copy(x, shape)
    node = make_node(ViewBackward0, x)
    if node is not None:
        node._self_sizes = x.shape
    return announce(name, view_of(x, data, node, name), node, x)


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
        node._self_sizes = copy.shape
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
    data = np.expand_dims(x._storage(), dim)
    return announce("unsqueeze", view_of(x, data, node, "unsqueeze"), node, x)


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
        node._self_sizes = x.shape
    out = view_of(x, np.squeeze(x._storage(), 0), node, "squeeze")
    out._bump_version()  # PyTorch's matmul squeezes its result in place: version 1
    return announce("squeeze", out, node, x)


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


class _SavesIndices(Node):
    """A node that keeps an advanced index (freed after backward, like a saved tensor)."""

    __slots__ = ()
    _saved = ("_index",)

    @property
    def _saved_indices(self) -> tuple[Tensor | None, ...]:
        """The index tensors, ``None`` for a dimension taken whole (PyTorch's view)."""
        index = unpack(self._index)
        return tuple(None if isinstance(i, slice) else Tensor(np.asarray(i)) for i in index)


class IndexBackward0(_SavesIndices, _ShapeNode):
    """out = self[indices] (advanced indexing)  →  ``grad`` added back at the indices."""

    __slots__ = ("_index",)

    def apply(self, grad: Any) -> tuple[Any]:
        full = np.zeros(self._self_sizes, dtype=np.asarray(grad).dtype)
        np.add.at(full, unpack(self._index), grad)
        return (full,)


def _select(x: Tensor, dim: int, index: int, position: int) -> Tensor:
    """``x`` at ``index`` along ``dim``; an error names the index's ``position`` in the
    indexing tuple, as PyTorch's does."""
    size = x.shape[dim]
    if not -size <= index < size:
        raise IndexError(
            f"index {index} is out of bounds for dimension {position} with size {size}"
        )
    node = make_node(SelectBackward0, x)
    if node is not None:
        node._self_sizes, node._saved_dim, node._saved_index = x.shape, dim, index
    data = np.moveaxis(x._storage(), dim, 0)[index, ...]  # `...`: a 0-d view, not a copy
    return announce("select", view_of(x, data, node, "select"), node, x)


def _slice(x: Tensor, dim: int, where: slice) -> Tensor:
    start, stop, step = where.indices(x.shape[dim])
    if step <= 0:
        raise ValueError("step must be greater than zero")
    node = make_node(SliceBackward0, x)
    if node is not None:
        node._self_sizes, node._saved_dim, node._saved_step = x.shape, dim, step
        node._saved_start = 0 if where.start is None else operator.index(where.start)
        node._saved_end = _INT64_MAX if where.stop is None else operator.index(where.stop)
    data = np.moveaxis(np.moveaxis(x._storage(), dim, 0)[start:stop:step], 0, dim)
    return announce("slice", view_of(x, data, node, "slice"), node, x)


_INT64_MAX = 9223372036854775807


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
    items = tuple(
        i if _is_basic(i) else _as_index(i)
        for i in (index if isinstance(index, tuple) else (index,))
    )
    consumed = sum(_width(i) for i in items)
    if consumed > x.ndim:
        raise IndexError(f"too many indices for tensor of dimension {x.ndim}")
    out, dim = x, 0
    advanced: dict[int, np.ndarray] = {}
    for position, item in enumerate(items):
        if not _is_basic(item):
            advanced[dim] = item
            dim += _width(item)
        elif item is Ellipsis:
            dim += x.ndim - consumed
        elif item is None:
            out = unsqueeze(out, dim)
            dim += 1
        elif isinstance(item, slice):
            # PyTorch skips a full ':' inside a tuple, but not a lone one (x[:])
            if item != slice(None) or not isinstance(index, tuple):
                out = _slice(out, dim, item)
            dim += 1
        else:
            out = _select(out, dim, operator.index(item), position)
    if advanced:
        key, dim = [], 0
        while dim <= max(advanced):
            key.append(advanced.get(dim, slice(None)))
            dim += _width(key[-1])
        return _gather(out, tuple(key))
    return out if out is not x else _alias(x)


def _width(item: Any) -> int:
    """How many dimensions of the tensor an index item consumes."""
    if item is None or item is Ellipsis:
        return 0
    if isinstance(item, np.ndarray) and item.dtype == np.bool_:
        return max(item.ndim, 1)
    return 1


class AliasBackward0(Node):
    """out = self (a new view of the same values, as ``x[...]``)  →  ``grad``."""

    __slots__ = ()

    def apply(self, grad: Any) -> tuple[Any]:
        return (grad,)


def _alias(x: Tensor) -> Tensor:
    node = make_node(AliasBackward0, x)
    return announce("alias", view_of(x, x._storage()[...], node, "alias"), node, x)


def _gather(x: Tensor, index: tuple[Any, ...]) -> Tensor:
    try:
        data = x._storage()[index]
    except IndexError as error:
        raise IndexError(str(error).replace(" axis ", " dimension ")) from None
    node = make_node(IndexBackward0, x)
    if node is not None:
        node._self_sizes, node._index = x.shape, index
    return announce("index", Tensor(data, node), node, x)


class CopySlices(Node):
    """self[index] = value  →  ``grad`` with the overwritten part zeroed for self, and the
    gradient of that part (summed to value's shape) for value."""

    __slots__ = ("_index", "_value_shape")

    def name(self) -> str:
        return "torch::autograd::CopySlices"

    def apply(self, grad: Any) -> tuple[Any, Any]:
        index = unpack(self._index)
        rest = np.array(grad, copy=True)
        rest[index] = 0
        part = sum_to(np.asarray(grad)[index], self._value_shape)
        return rest, part


class CopyBackwards(CopySlices):
    """self[:] = value (the whole tensor, no view in between): ``copy_``."""

    __slots__ = ()

    def name(self) -> str:
        return "torch::autograd::CopyBackwards"


class FillBackward3(CopySlices):
    """self[:] = number or 0-d tensor (the whole tensor): ``fill_``."""

    __slots__ = ()

    def name(self) -> str:
        return "FillBackward3"


class IndexPutBackward0(_SavesIndices, CopySlices):
    """self[indices] = value with index tensors, lists or a mask: the same gradients as
    ``CopySlices``; the indices are saved (and freed after backward)."""

    __slots__ = ()
    _saved_accumulate = False

    def name(self) -> str:
        return type(self).__name__


def setitem(x: Tensor, index: Any, value: Any) -> None:
    """``x[index] = value``: an in-place change (the version goes up)."""
    from gradlab._ops.inplace import check_inplace, finish_inplace

    items = index if isinstance(index, tuple) else (index,)
    basic = any(map(_is_basic, items))
    if basic and _setitem_node(items, value, basic) is CopySlices:
        check_inplace(x, "a view of ")  # PyTorch writes through a view of x
    else:
        check_inplace(x)
    key = tuple(_as_index(i) for i in items)
    storage = x._storage()
    try:
        target = np.shape(storage[key])
    except IndexError as error:
        raise IndexError(str(error).replace(" axis ", " dimension ")) from None
    if isinstance(value, Tensor):
        value = _fit_value(value, target, basic)  # fails before anything is written
    node = None
    if grad_enabled() and (x.requires_grad or isinstance(value, Tensor) and value.requires_grad):
        node = _setitem_node(items, value, basic)((edge(x), edge(value)))
        node._index = key
        node._value_shape = np.shape(value._data if isinstance(value, Tensor) else value)
    storage[key] = value._data if isinstance(value, Tensor) else value
    finish_inplace("setitem", x, value, node)


def _setitem_node(items: tuple[Any, ...], value: Any, basic: bool) -> type[Node]:
    """PyTorch's node for ``x[items] = value``: on a view of ``x`` (``CopySlices``), with
    index tensors (``IndexPutBackward0``), or on all of ``x`` (``copy_`` or ``fill_``)."""
    if not basic:
        return IndexPutBackward0
    if all(i is Ellipsis or i == slice(None) for i in items):
        return CopyBackwards if isinstance(value, Tensor) and value.ndim else FillBackward3
    return CopySlices


def _fit_value(value: Tensor, target: tuple[int, ...], basic: bool) -> Tensor:
    """The value of ``x[index] = value`` in the indexed part's shape, as PyTorch makes it:
    leading 1s dropped (``view``), then ``expand``ed; a 0-d value is used as it is."""
    if value.shape == target or value.ndim == 0:
        return value
    sizes = list(value.shape)
    while sizes and sizes[0] == 1:
        sizes.pop(0)
    if not basic:
        try:
            np.broadcast_to(np.empty(sizes, np.bool_), target)
        except ValueError:
            raise RuntimeError(
                f"shape mismatch: value tensor of shape {list(value.shape)} cannot be broadcast "
                f"to indexing result of shape {list(target)}"
            ) from None
        return value
    value = reshape(value, tuple(sizes), "view")
    return value if value.shape == target else expand(value, target)


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
            f"expand({_type_name(x)}{{{list(shape)}}}, size={list(sizes)}): the number of sizes "
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
        node._self_sizes = shape
    data = np.broadcast_to(x._storage(), sizes)
    return announce("expand", view_of(x, data, node, "expand"), node, x)


def _type_name(x: Tensor) -> str:
    from gradlab.autograd.saved import _TYPE_NAMES

    return f"gradlab.{_TYPE_NAMES.get(x._data.dtype.name, 'Tensor')}"


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
