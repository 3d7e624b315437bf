"""Making tensors: ``tensor`` from data, and ``zeros``, ``ones``, ``arange``, ``randn``, ...

>>> import gradlab
>>> gradlab.tensor([1, 2, 3]).dtype, gradlab.tensor([1.0, 2.0]).dtype
(gradlab.int64, gradlab.float32)
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Number
from typing import Any

import numpy as np

from gradlab import _dtype
from gradlab._tensor import Tensor
from gradlab.autograd import events

_rng = np.random.default_rng(0)


def manual_seed(seed: int) -> None:
    """Seed ``rand`` and ``randn`` so that their numbers repeat (not PyTorch's numbers)."""
    global _rng
    _rng = np.random.default_rng(seed)


def _new(data: np.ndarray, requires_grad: bool) -> Tensor:
    if requires_grad and data.dtype.kind != "f":
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    out = Tensor(data, requires_grad=bool(requires_grad))
    if events.listeners:
        events.emit(events.TensorCreated(out))
    return out


def _check_nested(data: Any, dim: int = 0) -> int | None:
    """The length of a nested sequence level, with PyTorch's error for ragged ones."""
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if isinstance(data, Tensor) or isinstance(data, Number) or isinstance(data, np.generic):
        return None
    if not isinstance(data, Sequence):
        raise TypeError(f"Could not infer dtype of {type(data).__name__}")
    lengths = [_check_nested(item, dim + 1) for item in data]
    if lengths and any(n != lengths[0] for n in lengths):
        bad = next(n for n in lengths if n != lengths[0])
        raise ValueError(f"expected sequence of length {lengths[0]} at dim {dim + 1} (got {bad})")
    return len(data)


def _infer_dtype(array: np.ndarray) -> np.dtype:
    kind = array.dtype.kind
    if kind == "f":
        return np.dtype(np.float32)
    if kind in "iu":
        return np.dtype(np.int64)
    if kind == "b":
        return np.dtype(np.bool_)
    raise TypeError(f"Could not infer dtype of {array.dtype}")


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (a number, nested lists, a numpy array or
    a tensor). Python floats become float32 and ints int64, as in PyTorch; a numpy array keeps
    its dtype.

    >>> gradlab.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    tensor([[1., 2.],
            [3., 4.]], requires_grad=True)
    """
    if isinstance(data, Tensor):
        array = np.array(data._data, copy=True)
    elif isinstance(data, np.ndarray):
        _dtype.from_numpy(data.dtype)
        array = np.array(data, copy=True)
    else:
        _check_nested(data)
        if isinstance(data, Sequence):
            data = [d.tolist() if isinstance(d, Tensor) else d for d in data]
        array = np.array(data)
        array = array.astype(_infer_dtype(array), copy=False)
    if dtype is not None:
        array = array.astype(_dtype.to_numpy(dtype), copy=False)
    return _new(array, requires_grad)


def _size(size: tuple[Any, ...]) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], Sequence):
        size = tuple(size[0])
    return tuple(int(n) for n in size)


def _float(dtype: Any) -> np.dtype:
    return np.dtype(np.float32) if dtype is None else _dtype.to_numpy(dtype)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros (float32 unless ``dtype`` says otherwise)."""
    return _new(np.zeros(_size(size), _float(dtype)), requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return _new(np.ones(_size(size), _float(dtype)), requires_grad)


def full(
    size: Sequence[int], fill_value: Any, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """A tensor filled with ``fill_value`` (its dtype follows the value, as in PyTorch)."""
    if dtype is None:
        dtype = _dtype.result_type(fill_value)
    return _new(np.full(_size((size,)), fill_value, _dtype.to_numpy(dtype)), requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and dtype) of ``t``."""
    return _new(np.zeros(t.shape, _dtype.to_numpy(dtype) or t._data.dtype), requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and dtype) of ``t``."""
    return _new(np.ones(t.shape, _dtype.to_numpy(dtype) or t._data.dtype), requires_grad)


def arange(
    start: Any, end: Any = None, step: Any = 1, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """``start, start + step, ...`` up to (not including) ``end``; int64 for integer bounds."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        dtype = _dtype.result_type(start, end, step)
        dtype = np.dtype(np.int64) if dtype.kind in "iub" else dtype
    return _new(np.arange(start, end, step, dtype=_dtype.to_numpy(dtype)), requires_grad)


def linspace(
    start: float, end: float, steps: int, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    return _new(np.linspace(start, end, steps, dtype=_float(dtype)), requires_grad)


def rand(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform random numbers in [0, 1) (seeded by ``manual_seed``)."""
    return _new(_rng.random(_size(size)).astype(_float(dtype)), requires_grad)


def randn(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal random numbers (seeded by ``manual_seed``)."""
    return _new(_rng.standard_normal(_size(size)).astype(_float(dtype)), requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing ``array``'s memory."""
    _dtype.from_numpy(array.dtype)
    return _new(array, False)
