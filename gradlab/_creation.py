"""Making tensors: ``tensor`` from data, and ``zeros``, ``ones``, ``arange``, ``randn``, ...

>>> import gradlab
>>> gradlab.tensor([1, 2, 3]).dtype, gradlab.tensor([1.0, 2.0]).dtype
(gradlab.int64, gradlab.float32)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradlab import _data, _dtype
from gradlab._args import int_list, type_name
from gradlab._ops._common import scalar
from gradlab._tensor import Tensor
from gradlab.autograd import events

_rng = np.random.default_rng(0)
_COPY_WARNING = (
    "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() "
    "or sourceTensor.detach().clone().requires_grad_(True), rather than "
    "gradlab.tensor(sourceTensor)."
)


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


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (a number, nested lists, a numpy array or
    a tensor). Python floats become float32 and ints int64, as in PyTorch; a numpy array keeps
    its dtype.

    >>> gradlab.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    tensor([[1., 2.],
            [3., 4.]], requires_grad=True)
    """
    target = _dtype.to_numpy(dtype, "tensor")
    if isinstance(data, Tensor):
        warnings.warn(_COPY_WARNING, UserWarning, stacklevel=2)
        array = np.array(data._data, copy=True)
    elif isinstance(data, np.ndarray):
        _dtype.from_numpy(data.dtype)
        array = np.array(data, copy=True)
    else:  # Python data is parsed straight into the target dtype
        return _new(_data.to_array(data, target), requires_grad)
    if target is not None:
        array = array.astype(target, copy=False)
    return _new(array, requires_grad)


def _size(fn: str, size: tuple[Any, ...]) -> tuple[int, ...]:
    """The shape argument of ``fn``, with PyTorch's errors for bad or negative sizes."""
    shape = int_list(fn, "size", size)
    if min(shape, default=0) < 0:
        if fn == "zeros":
            raise RuntimeError("zeros: Dimension size must be non-negative.")
        bad = next(n for n in shape if n < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {bad}: {list(shape)}")
    return shape


def _float(dtype: Any, fn: str) -> np.dtype:
    return np.dtype(np.float32) if dtype is None else _dtype.to_numpy(dtype, fn)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros (float32 unless ``dtype`` says otherwise)."""
    return _new(np.zeros(_size("zeros", size), _float(dtype, "zeros")), requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return _new(np.ones(_size("ones", size), _float(dtype, "ones")), requires_grad)


def full(
    size: Sequence[int], fill_value: Any, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """A tensor filled with ``fill_value`` (its dtype follows the value, as in PyTorch)."""
    if not isinstance(size, (tuple, list)):
        raise TypeError(
            f"full(): argument 'size' (position 1) must be tuple of ints, not {type_name(size)}"
        )
    if scalar(fill_value) is None:
        raise TypeError(
            "full(): argument 'fill_value' (position 2) must be Number, "
            f"not {type_name(fill_value)}"
        )
    target = _dtype.result_type(fill_value) if dtype is None else _dtype.to_numpy(dtype, "full")
    return _new(np.full(_size("full", (size,)), fill_value, target), requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and dtype) of ``t``."""
    target = _dtype.to_numpy(dtype, "zeros_like") or t._data.dtype
    return _new(np.zeros(t.shape, target), requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and dtype) of ``t``."""
    target = _dtype.to_numpy(dtype, "ones_like") or t._data.dtype
    return _new(np.ones(t.shape, target), requires_grad)


def arange(
    start: Any, end: Any = None, step: Any = 1, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """``start, start + step, ...`` up to (not including) ``end``; int64 for integer bounds."""
    given = {"end": start} if end is None else {"start": start, "end": end, "step": step}
    for position, (name, value) in enumerate(given.items(), 1):
        if scalar(value) is None:
            raise TypeError(
                f"arange(): argument '{name}' (position {position}) must be Number, "
                f"not {type_name(value)}"
            )
    if end is None:
        start, end = 0, start
    if dtype is None:
        target = _dtype.result_type(start, end, step)
        target = np.dtype(np.int64) if target.kind in "iub" else target
    else:
        target = _not_bool(_dtype.to_numpy(dtype, "arange"), "arange_cpu")
        if target == np.int64:  # PyTorch reads the bounds and step as int64 then
            start, end, step = int(start), int(end), int(step)
            if not step:
                raise ValueError("step must be nonzero")
    _check_range(start, end, step)
    return _new(np.arange(start, end, step, dtype=target), requires_grad)


def _not_bool(target: np.dtype, kernel: str) -> np.dtype:
    """``target``, or PyTorch's error for a creation function without a bool version."""
    if target.kind == "b":
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    return target


def _check_range(start: Any, end: Any, step: Any) -> None:
    """PyTorch's checks of ``arange``'s bounds and step."""
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {start:g} -> {end:g}")
    if not (step > 0 and end >= start or step < 0 and end <= start):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")


def linspace(
    start: float, end: float, steps: int, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if type(steps) is not int and not isinstance(steps, np.integer):
        raise TypeError(
            "linspace() received an invalid combination of arguments - got "
            f"({', '.join(type_name(x) for x in (start, end, steps))}), but expected one of: "
            "(Number start, Number end, int steps)"
        )
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    target = _not_bool(_float(dtype, "linspace"), "linspace_cpu")
    return _new(np.linspace(start, end, steps, dtype=target), requires_grad)


def rand(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform random numbers in [0, 1) (seeded by ``manual_seed``)."""
    target = _random_float(_float(dtype, "rand"), "check_uniform_bounds")
    return _new(_rng.random(_size("rand", size)).astype(target), requires_grad)


def randn(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal random numbers (seeded by ``manual_seed``)."""
    target = _random_float(_float(dtype, "randn"), "normal_kernel_cpu")
    return _new(_rng.standard_normal(_size("randn", size)).astype(target), requires_grad)


def _random_float(target: np.dtype, kernel: str) -> np.dtype:
    """``target``, or PyTorch's error: random numbers come in floating dtypes only."""
    if target.kind != "f":
        name = _dtype.SCALAR_NAMES[target.name]
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{name}'")
    return target


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing ``array``'s memory."""
    _dtype.from_numpy(array.dtype)
    return _new(array, False)
