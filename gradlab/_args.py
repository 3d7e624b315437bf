"""Integer arguments (sizes, shapes, dims) read as PyTorch's argument parser reads them,
with its ``TypeError`` words for anything else.

>>> int_list("zeros", "size", (2, 3)), int_list("zeros", "size", ([2, 3],))
((2, 3), (2, 3))
"""

from __future__ import annotations

from typing import Any

import numpy as np


class _All:
    """The default ``dim`` of ``sum`` and ``mean``: no dim given (not even None)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "all"


ALL = _All()


def type_name(x: Any) -> str:
    """A type as PyTorch's messages name it: ``float``, ``numpy.float64``, ``Tensor``."""
    kind = type(x)
    module = kind.__module__
    numpy = module == "numpy" or module.startswith("numpy.")
    return f"{module}.{kind.__name__}" if numpy else kind.__name__


def is_int(x: Any, first: bool) -> bool:
    """An integer as PyTorch takes it (a bool only after the first position)."""
    kind = type(x)
    if kind is int or isinstance(x, np.integer):
        return True
    if kind is bool:
        return not first
    data = getattr(x, "_data", None)  # a one-element integer tensor
    return isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind in "iu" and data.size == 1


def int_list(fn: str, arg: str, args: tuple[Any, ...]) -> tuple[int, ...]:
    """The ints of ``fn(*args)`` for a ``tuple of ints`` parameter ``arg``, given as
    separate numbers (``zeros(2, 3)``) or as one sequence (``zeros((2, 3))``)."""
    for n in args:  # the common case, zeros(2, 3), decided without a call
        if type(n) is not int:
            break
    else:
        if args:
            return args
        raise TypeError(f'{fn}() missing 1 required positional arguments: "{arg}"')
    items = args
    if not is_int(args[0], first=True):
        if len(args) > 1:
            raise TypeError(f"{fn}() takes 1 positional argument but {len(args)} were given")
        items = args[0]
        if not isinstance(items, (tuple, list)):
            raise TypeError(
                f"{fn}(): argument '{arg}' (position 1) must be tuple of ints, "
                f"not {type_name(items)}"
            )
    for i, x in enumerate(items):
        if not is_int(x, first=i == 0):
            if i == 0:
                raise TypeError(
                    f"{fn}(): argument '{arg}' (position 1) must be tuple of ints, but found "
                    f"element of type {type_name(x)} at pos 0"
                )
            raise TypeError(
                f"{fn}(): argument '{arg}' failed to unpack the object at pos {i + 1} with "
                f'error "type must be tuple of ints,but got {type_name(x)}"'
            )
    return tuple(int(x) for x in items)


def int_arg(fn: str, arg: str, x: Any) -> int:
    """An ``int`` parameter (``size(dim)``), with PyTorch's error for anything else."""
    if type(x) is int:
        return x
    if type(x) is bool or not is_int(x, first=True):
        raise TypeError(f"{fn}(): argument '{arg}' (position 1) must be int, not {type_name(x)}")
    return int(x)
