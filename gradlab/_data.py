"""Python data (numbers, nested lists, numpy scalars, one-element tensors) to a numpy array,
by PyTorch's rules for ``torch.tensor(data)``.

The shape comes from the first element at each level; the dtype from every element (Python
floats: float32, ints: int64, bools: bool, numpy scalars and tensors their own), promoted as
PyTorch promotes; the values are parsed straight into the target dtype (a float64 tensor
of ``0.1`` holds the double nearest 0.1, never a float32 rounding of it). Bad data gets
PyTorch's exception type and words.

>>> to_array([[1, 2], [3, 4.5]]).dtype, to_array([0.1], np.dtype("float64")).item()
(dtype('float32'), 0.1)
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from numbers import Real
from typing import Any

import numpy as np

from gradlab import _dtype
from gradlab._tensor import Tensor
from gradlab._warn import warn_once

_FLOAT = np.dtype(np.float32)  # PyTorch's default dtype
_LONG = np.dtype(np.int64)
_BOOL = np.dtype(np.bool_)
_MAX_DIMS = 64
_PYTHON_NUMBERS = {float, int, bool}
_LONG_RANGE = (-(2**63), 2**63)
_NDARRAY_WARNING = (
    "Creating a tensor from a list of numpy.ndarrays is extremely slow. Please consider "
    "converting the list to a single numpy.ndarray with numpy.array() before converting "
    "to a tensor."
)


def _is_sequence(x: Any) -> bool:
    """What PyTorch walks into: lists, tuples, ranges, strings, arrays (not tensors)."""
    return isinstance(x, (Sequence, np.ndarray)) and not isinstance(x, Tensor)


def _sizes(data: Any) -> list[int]:
    """The shape, read from the first element at each level."""
    sizes: list[int] = []
    while _is_sequence(data):
        sizes.append(len(data))
        if len(sizes) > _MAX_DIMS:
            raise ValueError(f"too many dimensions '{type(data).__name__}'")
        if not sizes[-1]:
            break
        data = data[0]
    return sizes


def infer_dtype(x: Any) -> np.dtype:
    """The dtype PyTorch gives ``x`` and, for a sequence, all its elements promoted."""
    kind = type(x)
    if kind is float:
        return _FLOAT
    if kind is int:
        return _LONG
    if kind is bool:
        return _BOOL
    if isinstance(x, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{kind.__name__}'")
    if isinstance(x, Tensor):
        return x._data.dtype
    if isinstance(x, (np.ndarray, np.generic)):
        return _dtype.from_numpy(x.dtype).numpy
    if isinstance(x, complex):
        raise TypeError("gradlab has no complex dtypes (complex64, complex128)")
    if isinstance(x, bool):
        return _BOOL
    if isinstance(x, int):
        return _LONG
    if isinstance(x, Real):
        return _FLOAT
    if _is_sequence(x):
        kinds = set(map(type, x))
        if kinds <= _PYTHON_NUMBERS:  # the common case, a row of Python numbers
            return _FLOAT if float in kinds or not kinds else _LONG if int in kinds else _BOOL
        result = None
        for item in x:
            d = infer_dtype(item)
            result = d if result is None else _dtype.promote_types(result, d)
        return result
    raise RuntimeError(f"Could not infer dtype of {kind.__name__}")


def _store(x: Any, sizes: list[int], dim: int, flat: list[Any]) -> int:
    """Append the scalars of ``x`` (at depth ``dim``) to ``flat``, checking the shape; the
    number of numpy arrays met on the way (PyTorch warns about each)."""
    if dim == len(sizes):
        flat.append(x)
        return 0
    arrays = 0
    if isinstance(x, np.ndarray):
        x, arrays = x.tolist(), 1
    elif not _is_sequence(x):
        raise TypeError("not a sequence" + _NESTING)
    if len(x) != sizes[dim]:
        raise ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} (got {len(x)})")
    if dim + 1 == len(sizes):
        flat.extend(x)
        return arrays
    return arrays + sum(_store(item, sizes, dim + 1, flat) for item in x)


_NESTING = "; tensor() data must nest evenly, like [[1, 2], [3, 4]]"


def _as_float(x: Any) -> float:
    if isinstance(x, (Real, np.generic, Tensor)):
        return float(x)
    raise TypeError(
        f"must be real number, not {type(x).__name__}" + (_NESTING if _is_sequence(x) else "")
    )


def _as_long(x: Any) -> Any:
    """PyTorch's reading of an integer: a float as it is (range-checked and truncated
    later), anything else through ``__index__``."""
    if isinstance(x, float):
        return x
    try:
        return operator.index(x)
    except TypeError as error:
        raise TypeError(str(error) + (_NESTING if _is_sequence(x) else "")) from None


def _check_range(values: list[Any], target: np.dtype) -> list[int]:
    """The values as ints, with PyTorch's errors for ones beyond int64 or beyond what
    ``target`` holds (uint8 lets negative numbers down to -255 wrap around, as in PyTorch)."""
    info = np.iinfo(target)
    low = -info.max if target == np.uint8 else info.min
    out = []
    for v in values:
        if isinstance(v, float):
            if math.isnan(v) or not info.min <= v <= info.max:
                raise _overflow(target)
            v = int(v)
        elif not low <= v <= info.max:
            if not _LONG_RANGE[0] <= v < _LONG_RANGE[1]:
                raise ValueError("Overflow when unpacking long long")
            raise _overflow(target)
        out.append(v)
    return out


def _overflow(target: np.dtype) -> RuntimeError:
    return RuntimeError(f"value cannot be converted to type {target.name} without overflow")


def _convert(flat: list[Any], target: np.dtype) -> np.ndarray:
    if target.kind == "f":
        values = [x if type(x) is float else _as_float(x) for x in flat]
        with np.errstate(over="ignore"):  # 1e300 in float32 is inf, as in PyTorch
            return np.array(values, dtype=np.float64).astype(target, copy=False)
    if target.kind == "b":
        return np.array([x if isinstance(x, float) else operator.index(x) for x in flat], bool)
    values = _check_range([x if type(x) is int else _as_long(x) for x in flat], target)
    return np.array(values, dtype=np.int64).astype(target, copy=False)


def to_array(data: Any, dtype: np.dtype | None = None) -> np.ndarray:
    """``data`` as a new array of ``dtype`` (default: PyTorch's inferred dtype)."""
    if type(data) is float and (dtype is None or dtype.kind == "f"):  # tensor(2.0)
        with np.errstate(over="ignore"):
            return np.array(data, dtype or _FLOAT)
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    sizes = _sizes(data)
    target = infer_dtype(data) if dtype is None else dtype
    flat: list[Any] = []
    if math.prod(sizes):
        for _ in range(_store(data, sizes, 0, flat)):
            warn_once(_NDARRAY_WARNING, stacklevel=3)  # at the learner's tensor(...) line
    return _convert(flat, target).reshape(sizes)
