"""Indexing: ``x[i]``, ``x[a:b]``, ``x[None]``, index tensors and masks, and ``x[i] = v``.

Basic indexing is a chain of views, one PyTorch node per step (``SelectBackward0``,
``SliceBackward0``, ``UnsqueezeBackward0``); advanced indexing gathers a copy
(``IndexBackward0``). Writing through an index is an in-place change (``CopySlices``).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from gradlab._args import type_name
from gradlab._dtype import SCALAR_NAMES
from gradlab._ops._common import Node, Tensor, announce, make_node, scalar, sum_to
from gradlab._ops.shape import _ShapeNode, expand, reshape, unsqueeze
from gradlab._ops.views import view_of
from gradlab.autograd import events
from gradlab.autograd.saved import tensor_class_name, unpack


class SelectBackward0(_ShapeNode):
    """out = self[..., index, ...] along ``dim``  →  zeros with ``grad`` placed at ``index``."""

    derivatives = ("zeros of shape {self_sym_sizes} with {grad} at index {index} of dim {dim}",)

    __slots__ = ("_saved_dim", "_saved_index")

    def apply(self, grad: Any) -> tuple[Any]:
        full = np.zeros(self._self_sizes, dtype=np.asarray(grad).dtype)
        np.moveaxis(full, self._saved_dim, 0)[self._saved_index] = grad
        return (full,)


class SliceBackward0(_ShapeNode):
    """out = self[start:end:step] along ``dim``  →  zeros with ``grad`` placed in the slice."""

    derivatives = (
        "zeros of shape {self_sym_sizes} with {grad} in {start}:{end}:{step} of dim {dim}",
    )

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

    derivatives = ("zeros of shape {self_sym_sizes} with {grad} added at the indices",)

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
        node._self_sizes, node._saved_dim, node._saved_index = x._data.shape, dim, index
    data = np.moveaxis(x._storage(), dim, 0)[index, ...]  # `...`: a 0-d view, not a copy
    return announce("select", view_of(x, data, node, "select"), node, x)


def _slice(x: Tensor, dim: int, where: slice) -> Tensor:
    start, stop, step = where.indices(x.shape[dim])
    if step <= 0:
        raise ValueError("step must be greater than zero")
    node = make_node(SliceBackward0, x)
    if node is not None:
        node._self_sizes, node._saved_dim, node._saved_step = x._data.shape, dim, step
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


_INVALID_INDEX = (
    "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
    "valid indices"
)


def _integer(item: Any) -> Any:
    """A 0-d integer tensor indexes as the integer it holds (a view, ``SelectBackward0``),
    as in PyTorch; anything else is returned unchanged."""
    if type(item) is Tensor and item._data.ndim == 0 and item._data.dtype.kind in "iu":
        return int(item._data)
    return item


def _as_index(item: Any) -> Any:
    """An index item as numpy takes it, with PyTorch's IndexError for what it refuses."""
    if isinstance(item, Tensor):
        data = item._storage()
    elif isinstance(item, list):
        data = np.asarray(item) if item else np.zeros(0, np.int64)
    elif isinstance(item, np.ndarray):
        data = item
    elif _is_basic(item) or isinstance(item, bool):
        return item
    else:
        raise IndexError(f"{_INVALID_INDEX} (got {type_name(item)})")
    if data.dtype.kind not in "iub":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return data


def _items(index: Any) -> tuple[Any, ...]:
    return tuple(
        i if _is_basic(i) else _as_index(i)
        for i in map(_integer, index if isinstance(index, tuple) else (index,))
    )


def _basic_part(
    x: Tensor, items: tuple[Any, ...], skip_whole: bool
) -> tuple[Tensor, tuple[Any, ...]]:
    """Apply the basic items of an index (a chain of views, one node each) and return the
    result with the numpy key of the advanced items still to apply (``()`` when none).
    ``skip_whole``: skip slices that take a whole dimension, as PyTorch does inside a tuple
    and when writing."""
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
            size = out.shape[dim]
            if not (skip_whole and item.indices(size) == (0, size, 1)):
                out = _slice(out, dim, item)
            dim += 1
        else:
            out = _select(out, dim, operator.index(item), position)
    key, dim = [], 0
    while advanced and dim <= max(advanced):
        key.append(advanced.get(dim, slice(None)))
        dim += _width(key[-1])
    return out, tuple(key)


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]``: integers select, slices slice, ``None`` adds a dimension (each a view
    with PyTorch's node); index tensors, lists and masks gather a copy (``IndexBackward0``)."""
    # PyTorch skips whole-dimension slices inside a tuple, but not a lone one (x[:])
    out, key = _basic_part(x, _items(index), isinstance(index, tuple))
    if key:
        return _gather(out, key)
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

    derivatives = ("{grad}",)

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
        node._self_sizes, node._index = x._data.shape, index
    return announce("index", Tensor(data, node), node, x)


class CopyBackwards(Node):
    """self.copy_(value) (``x[...] = value`` writes it into the indexed part)  →  zeros for
    self (its old values are gone), ``grad`` summed back to value's shape and dtype for
    value."""

    __slots__ = ("_value_shape", "_value_dtype")

    def name(self) -> str:
        return "torch::autograd::CopyBackwards"

    def apply(self, grad: Any) -> tuple[Any, Any]:
        return np.zeros_like(grad), _value_grad(self, grad)


class FillBackward3(CopyBackwards):
    """self.fill_(value) with a number or 0-d tensor  →  zeros for self, the sum of
    ``grad`` for value."""

    __slots__ = ()

    def name(self) -> str:
        return "FillBackward3"


def _value_grad(node: Any, grad: Any) -> Any:
    part = sum_to(grad, node._value_shape)
    return np.asarray(part, dtype=node._value_dtype)


class IndexPutBackward0(_SavesIndices):
    """self[indices] = value with index tensors, lists or a mask  →  ``grad`` with the
    overwritten elements zeroed for self, their gradient for value; the indices are saved
    (and freed after backward)."""

    __slots__ = ("_index", "_value_shape", "_value_dtype")
    _saved_accumulate = False

    def apply(self, grad: Any) -> tuple[Any, Any]:
        index = unpack(self._index)
        rest = np.array(grad, copy=True)
        rest[index] = 0
        return rest, _value_grad(self, np.asarray(grad)[index])


def setitem(x: Tensor, index: Any, value: Any) -> None:
    """``x[index] = value``: an in-place change (the version goes up). As in PyTorch, the
    basic part of the index makes a view of ``x``, which ``copy_``, ``fill_`` or (with
    index tensors) ``index_put_`` changes in place."""
    from gradlab._ops.inplace import check_inplace, finish_inplace

    if not isinstance(value, Tensor) and scalar(value) is None:
        raise TypeError(f"can't assign a {type_name(value)} to a {tensor_class_name(x._data)}")
    with events.muted():
        part, key = _basic_part(x, _items(index), skip_whole=True)
    storage = part._storage()
    try:
        target = np.shape(storage[key])
    except IndexError as error:
        raise IndexError(str(error).replace(" axis ", " dimension ")) from None
    if key:  # index_put_: autograd is checked before the value, and any overlap refused
        check_inplace(part, value, overlap="any")
    if isinstance(value, Tensor):
        value = _fit_value(value, target, not key)  # fails before anything is written
        if key and value._data.dtype != storage.dtype:
            raise RuntimeError(
                "Index put requires the source and destination dtypes match, got "
                f"{SCALAR_NAMES[storage.dtype.name]} for the destination and "
                f"{SCALAR_NAMES[value._data.dtype.name]} for the source."
            )
    # copy_ takes a value of the part's own shape (0-d too); fill_ a number or 0-d value,
    # which it reads before writing (so it may overlap)
    fills = not (key or isinstance(value, Tensor) and value.ndim or not target)
    if not key:
        check_inplace(part, value, overlap="none" if fills else "partial")
    cls = IndexPutBackward0 if key else FillBackward3 if fills else CopyBackwards
    node = make_node(cls, part, value)
    if node is not None:
        if key:
            node._index = key
        data = value._data if isinstance(value, Tensor) else np.asarray(value)
        node._value_shape, node._value_dtype = data.shape, data.dtype
    storage[key] = value._data if isinstance(value, Tensor) else value
    finish_inplace("setitem", part, value, node, shown=x)


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
                f"shape mismatch: value tensor of shape {sizes} cannot be broadcast "
                f"to indexing result of shape {list(target)}"
            ) from None
        return value if len(sizes) == value.ndim else reshape(value, (tuple(sizes),), "view")
    value = reshape(value, (tuple(sizes),), "view")
    return value if value.shape == target else expand(value, target)
