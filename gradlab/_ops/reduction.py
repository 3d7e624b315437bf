"""Reductions: ``sum`` and ``mean``, whole-tensor or along dimensions.

Backward spreads the incoming gradient back over every element that was summed (divided by
the count for ``mean``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gradlab import _dtype
from gradlab._args import ALL, int_list, type_name
from gradlab._ops._common import Node, Tensor, announce, make_node, quiet
from gradlab._ops.shape import _dim


def _dims(name: str, dim: Any, ndim: int) -> tuple[tuple[int, ...] | None, tuple[int, ...]]:
    """The dims as given (PyTorch saves them so) and as sorted non-negative numbers; None,
    () and [] mean all of them."""
    if type(dim) is int:  # the common case, sum(1)
        return (dim,), (_dim(dim, ndim),)
    if dim is None:
        return None, tuple(range(ndim))
    if isinstance(dim, (tuple, list)):
        given = int_list(name, "dim", (dim,)) if dim else ()
    elif isinstance(dim, (int, np.integer)) and not isinstance(dim, bool):
        given = (int(dim),)
    else:
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got "
            f"({type_name(dim)}), but expected one of:"
        )
    if not given:
        return given, tuple(range(ndim))
    dims = sorted(_dim(d, ndim) for d in given)
    for a, b in zip(dims, dims[1:]):
        if a == b:
            raise RuntimeError(f"dim {a} appears multiple times in the list of dims")
    return given, tuple(dims)


def _spread(
    grad: Any, sizes: tuple[int, ...], dims: tuple[int, ...] | None, keepdim: bool
) -> np.ndarray:
    """``grad`` broadcast back to ``sizes`` over the reduced ``dims`` (None: all)."""
    if dims is not None and not keepdim:
        grad = np.expand_dims(grad, dims)
    return np.broadcast_to(grad, sizes)


class SumBackward0(Node):
    """out = self.sum()  →  every element receives ``grad``."""

    derivatives = ("{grad} copied to every element of shape {self_sym_sizes}",)

    __slots__ = ("_saved_self_sym_sizes",)

    def apply(self, grad: Any) -> tuple[Any]:
        return (_spread(grad, self._saved_self_sym_sizes, None, False),)


class SumBackward1(Node):
    """out = self.sum(dim, keepdim)  →  each element receives the ``grad`` of its sum."""

    derivatives = ("{grad} copied along dim {dim} to shape {self_sym_sizes}",)

    __slots__ = ("_saved_self_sym_sizes", "_saved_dim", "_saved_keepdim", "_dims")

    def apply(self, grad: Any) -> tuple[Any]:
        return (_spread(grad, self._saved_self_sym_sizes, self._dims, self._saved_keepdim),)


class MeanBackward0(Node):
    """out = self.mean()  →  every element receives ``grad / numel``."""

    derivatives = ("{grad} / {self_sym_numel} copied to every element of shape {self_sym_sizes}",)

    __slots__ = ("_saved_self_sym_sizes", "_saved_self_sym_numel")

    def apply(self, grad: Any) -> tuple[Any]:
        spread = _spread(grad, self._saved_self_sym_sizes, None, False)
        return (spread / np.asarray(self._saved_self_sym_numel, dtype=spread.dtype),)


class MeanBackward1(Node):
    """out = self.mean(dim, keepdim)  →  each element receives ``grad / count`` of its mean."""

    derivatives = (
        "{grad} / (the count averaged) copied along dim {dim} to shape {self_sym_sizes}",
    )

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
    if dim is ALL:  # no dim given, not even None: the whole-tensor op
        if keepdim:
            raise TypeError(
                f"{name}() received an invalid combination of arguments - got "
                "(keepdim=bool, ), but expected one of:"
            )
        given = dims = None
    else:
        given, dims = _dims(name, dim, x.ndim)
    data = quiet.run(fn, x._data, axis=dims, keepdims=bool(keepdim), dtype=dtype)
    node = make_node(whole if dims is None else along, x)
    if node is not None:
        node._saved_self_sym_sizes = x._data.shape
        if name == "mean":
            node._saved_self_sym_numel = x.numel()
        if dims is not None:  # PyTorch saves the dims as given (order, negatives kept)
            node._saved_dim, node._dims, node._saved_keepdim = given, dims, bool(keepdim)
    return announce(name, Tensor(data, node), node, x)


def sum(
    x: Tensor,
    dim: int | Sequence[int] | None = ALL,  # noqa: A001  (PyTorch's name)
    keepdim: bool = False,
) -> Tensor:
    """The sum of all elements, or along ``dim`` (kept as size 1 with ``keepdim``; None,
    () and [] are all dims)."""
    dtype = np.int64 if x._data.dtype.kind in "iub" else None
    return _reduce("sum", x, dim, keepdim, SumBackward0, SumBackward1, np.add.reduce, dtype)


def mean(x: Tensor, dim: int | Sequence[int] | None = ALL, keepdim: bool = False) -> Tensor:
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
