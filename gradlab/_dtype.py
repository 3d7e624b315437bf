"""Data types, and PyTorch's rules for the dtype of an op's result.

>>> import gradlab
>>> (gradlab.tensor([1, 2]) * 1.5).dtype     # int tensor * Python float: the default float
gradlab.float32
"""

from __future__ import annotations

import numpy as np

from gradlab._args import type_name


class dtype:  # noqa: N801  (named like torch.dtype)
    """A tensor element type, e.g. ``gradlab.float32``; wraps a numpy dtype."""

    __slots__ = ("name", "numpy", "is_floating_point", "itemsize")

    def __init__(self, name: str, numpy_dtype: np.dtype) -> None:
        self.name = name
        self.numpy = np.dtype(numpy_dtype)
        self.is_floating_point = self.numpy.kind == "f"
        self.itemsize = self.numpy.itemsize

    def __repr__(self) -> str:
        return f"gradlab.{self.name}"

    def __reduce__(self) -> str:
        return self.name


float16 = dtype("float16", np.float16)
float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)
uint8 = dtype("uint8", np.uint8)
int8 = dtype("int8", np.int8)
int16 = dtype("int16", np.int16)
int32 = dtype("int32", np.int32)
int64 = dtype("int64", np.int64)
bool_ = dtype("bool", np.bool_)

#: the C++ names PyTorch's error messages use ("float != double") ...
CPP_NAMES = {
    "float16": "c10::Half",
    "float32": "float",
    "float64": "double",
    "int64": "long int",
    "int32": "int",
    "int16": "short int",
    "int8": "signed char",
    "uint8": "unsigned char",
    "bool": "bool",
}
#: ... and its ScalarType names ("Float", "Double")
SCALAR_NAMES = {
    "float16": "Half",
    "float32": "Float",
    "float64": "Double",
    "int64": "Long",
    "int32": "Int",
    "int16": "Short",
    "int8": "Char",
    "uint8": "Byte",
    "bool": "Bool",
}

_BY_NUMPY = {
    d.numpy: d for d in (float16, float32, float64, uint8, int8, int16, int32, int64, bool_)
}


def from_numpy(numpy_dtype: np.dtype) -> dtype:
    """The gradlab dtype of a numpy dtype (``TypeError`` for ones PyTorch lacks)."""
    try:
        return _BY_NUMPY[numpy_dtype]
    except KeyError:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{numpy_dtype.type.__name__}. The only "
            "supported types are: float64, float32, float16, int64, int32, int16, "
            "int8, uint8, and bool."
        ) from None


def to_numpy(d: dtype | type | None, fn: str = "tensor") -> np.dtype | None:
    """The numpy dtype for the ``dtype=`` argument of ``fn``: a gradlab dtype, or Python's
    ``float``, ``int`` or ``bool`` as PyTorch takes them (float64, int64, bool)."""
    if d is None:
        return d
    if isinstance(d, dtype):
        return d.numpy
    if d is float or d is int or d is bool:
        return np.dtype(d)
    raise TypeError(f"{fn}(): argument 'dtype' must be gradlab.dtype, not {type_name(d)}")


_FLOAT = np.dtype(np.float32)
_LONG = np.dtype(np.int64)
_BOOL = np.dtype(np.bool_)


def _category(d: np.dtype) -> int:
    return 2 if d.kind == "f" else 0 if d.kind == "b" else 1


def promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """PyTorch's ``promote_types``: the higher category wins, else the wider type."""
    ca, cb = _category(a), _category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _wrapped_dtype(value: object) -> np.dtype:
    """The dtype PyTorch gives a Python number taking part in an op."""
    if isinstance(value, bool):
        return _BOOL
    if isinstance(value, int):
        return _LONG
    return _FLOAT


def result_type(*operands: object) -> np.dtype:
    """The dtype PyTorch gives an op's result: tensors with dimensions outrank 0-d tensors,
    which outrank Python numbers, unless a lower-ranked one is of a higher category
    (bool < integer < floating)."""
    groups: list[np.dtype | None] = [None, None, None]
    for x in operands:
        data = getattr(x, "_data", None)
        if data is None:
            rank, d = 2, _wrapped_dtype(x)
        else:
            rank, d = (0 if data.ndim else 1), data.dtype
        groups[rank] = d if groups[rank] is None else promote_types(groups[rank], d)
    result = None
    for d in groups:
        if d is None:
            continue
        if result is None or _category(d) > _category(result):
            result = d if result is None else promote_types(result, d)
    return result
