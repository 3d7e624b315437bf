"""Reductions: ``sum`` and ``mean``, whole-tensor or along dimensions.

Backward spreads the incoming gradient back over every element that was summed (divided by
the count for ``mean``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gradlab import _dtype
from gradlab._ops._common import Node, Tensor, announce, make_node
from gradlab._ops.shape import _dim


def _dims(dim: int | Sequence[int], ndim: int) -> tuple[int, ...]:
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(sorted(_dim(d, ndim) for d in dims))


def _spread(
    grad: Any, sizes: tuple[int, ...], dims: tuple[int, ...] | None, keepdim: bool
) -> np.ndarray:
    """``grad`` broadcast back to ``sizes`` over the reduced ``dims`` (None: all)."""
    if dims is not None and not keepdim:
        grad = np.expand_dims(grad, dims)
    return np.broadcast_to(grad, sizes)


class SumBackward0(Node):
    """out = self.sum()  →  every element receives ``grad``."""

    __slots__ = ("_saved_self_sym_sizes",)

    def apply(self, grad: Any) -> tuple[Any]:
        return (_spread(grad, self._saved_self_sym_sizes, None, False),)


class SumBackward1(Node):
    """out = self.sum(dim, keepdim)  →  each element receives the ``grad`` of its sum."""

    __slots__ = ("_saved_self_sym_sizes", "_saved_dim", "_saved_keepdim", "_dims")

    def apply(self, grad: Any) -> tuple[Any]:
        return (_spread(grad, self._saved_self_sym_sizes, self._dims, self._saved_keepdim),)


class MeanBackward0(Node):
    """out = self.mean()  →  every element receives ``grad / numel``."""

    __slots__ = ("_saved_self_sym_sizes", "_saved_self_sym_numel")

    def apply(self, grad: Any) -> tuple[Any]:
        spread = _spread(grad, self._saved_self_sym_sizes, None, False)
        return (spread / np.asarray(self._saved_self_sym_numel, dtype=spread.dtype),)


class MeanBackward1(Node):
    """out = self.mean(dim, keepdim)  →  each element receives ``grad / count`` of its mean."""

    __slots__ = (
        "_saved_self_sym_sizes",
        "_saved_self_sym_numel",
        "_saved_dim",
        "_saved_keepdim",
        "_dims",
    )

    def apply(self, grad: Any) -> tuple[Any]:
        sizes = self._saved_self_sym_sizes
        count = int(np.prod([sizes[d] for d in self._dims]))
        spread = _spread(grad, sizes, self._dims, self._saved_keepdim)
        return (spread / np.asarray(count, dtype=spread.dtype),)


def _reduce(
    name: str,
    x: Tensor,
    dim: Any,
    keepdim: bool,
    whole: type[Node],
    along: type[Node],
    fn: Any,
    dtype: Any = None,
) -> Tensor:
    dims = None if dim is None else _dims(dim, x.ndim)
    data = fn(x._data, axis=dims, keepdims=keepdim and dims is not None, dtype=dtype)
    node = make_node(whole if dims is None else along, x)
    if node is not None:
        node._saved_self_sym_sizes = x._data.shape
        if name == "mean":
            node._saved_self_sym_numel = x.numel()
        if dims is not None:
            # PyTorch saves the dims as given (order and negative numbers kept)
            node._saved_dim = (dim,) if isinstance(dim, int) else tuple(dim)
            node._dims, node._saved_keepdim = dims, bool(keepdim)
    return announce(name, Tensor(data, node), node, x)


def sum(
    x: Tensor,
    dim: int | Sequence[int] | None = None,  # noqa: A001  (PyTorch's name)
    keepdim: bool = False,
) -> Tensor:
    """The sum of all elements, or along ``dim`` (kept as size 1 with ``keepdim``)."""
    dtype = np.int64 if x._data.dtype.kind in "iub" else None
    return _reduce("sum", x, dim, keepdim, SumBackward0, SumBackward1, np.add.reduce, dtype)


def mean(x: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
    """The mean of all elements, or along ``dim``."""
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating "
            f"point or complex dtype. Got: {_dtype.SCALAR_NAMES.get(x._data.dtype.name, 'Long')}"
        )
    return _reduce("mean", x, dim, keepdim, MeanBackward0, MeanBackward1, _mean)


def _mean(data: Any, axis: Any, keepdims: bool, dtype: Any = None) -> Any:
    """``np.mean`` without its Python-level overhead: a sum divided by the count."""
    total = np.add.reduce(data, axis=axis, keepdims=keepdims)
    count = data.size if axis is None else int(np.prod([data.shape[d] for d in axis]))
    return total / total.dtype.type(count) if count else total * np.nan
