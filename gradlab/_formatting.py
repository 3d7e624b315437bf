"""PyTorch's tensor ``repr``, reproduced for numpy data.

This is a port of ``torch/_tensor_str.py`` (the dense, CPU, real-dtype paths) fixed to
torch's default print options: 4 digits of precision, summarization ("...") above
1000 elements with 3 edge items per dimension, 80-character lines and automatic
choice of scientific notation.  ``gradlab.`` replaces ``torch.`` in dtype names, and
lines break exactly where torch breaks them (measured in torch's spelling).

Example::

    >>> import numpy as np
    >>> format_tensor(np.array(6.0, dtype=np.float32), ["grad_fn=<MulBackward0>"])
    'tensor(6., grad_fn=<MulBackward0>)'
    >>> print(format_tensor(np.array([[0.5, -1.0], [2.0, 1e-5]]), ["requires_grad=True"]))
    tensor([[ 5.0000e-01, -1.0000e+00],
            [ 2.0000e+00,  1.0000e-05]], dtype=gradlab.float64, requires_grad=True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["format_tensor"]

# torch's default print options (torch.set_printoptions(profile="default")).
PRECISION = 4
THRESHOLD = 1000
EDGEITEMS = 3
LINEWIDTH = 80

_PREFIX = "tensor("
_NAMESPACE = "gradlab."
_SUPPORTED_DTYPES = frozenset(
    ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]
)
_DEFAULT_FLOAT = "float32"
# dtypes torch leaves implicit for a non-empty tensor: its values already reveal them.
_IMPLICIT_DTYPES = frozenset([_DEFAULT_FLOAT, "int64", "bool"])


def format_tensor(data: np.ndarray, suffixes: Sequence[str] = ()) -> str:
    """The repr PyTorch gives a tensor holding `data`, e.g. 'tensor(6., grad_fn=<MulBackward0>)'.

    `suffixes` are extra, already formatted items (such as ``"requires_grad=True"``).
    They follow the ``size=``/``dtype=`` items this function adds itself, as in torch.
    """
    data = np.asarray(data)
    dtype_name = _dtype_name(data)
    own_suffixes = []
    if data.size == 0:
        if data.ndim != 1:  # torch, like numpy, shows any shape but (0,)
            own_suffixes.append(f"size={tuple(data.shape)}")
        if dtype_name != _DEFAULT_FLOAT:  # no values to tell an int tensor by
            own_suffixes.append(f"dtype={_NAMESPACE}{dtype_name}")
        body = "[]"
    else:
        if dtype_name not in _IMPLICIT_DTYPES:
            own_suffixes.append(f"dtype={_NAMESPACE}{dtype_name}")
        body = _tensor_str(data, indent=len(_PREFIX))
    return _add_suffixes(_PREFIX + body, [*own_suffixes, *suffixes], indent=len(_PREFIX))


def _dtype_name(data: np.ndarray) -> str:
    name = data.dtype.name
    if name not in _SUPPORTED_DTYPES:
        raise TypeError(f"cannot format a tensor of numpy dtype {data.dtype}")
    return name


class _Formatter:
    """Decides one common format and width for every element shown (torch's _Formatter).

    Floats print in "int mode" (``6.``) when every finite value is integral, and in
    scientific notation when the nonzero finite magnitudes span more than 1000x, exceed
    1e8 or go below 1e-4.  nan, inf and zeros take no part in these choices.
    """

    def __init__(self, shown: np.ndarray) -> None:
        """`shown` is a flat array of the elements that will be printed."""
        self.floating = shown.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        if self.floating:
            self._fit_floats(shown)
        else:
            self.max_width = max(self.max_width, *(len(str(v)) for v in shown.tolist()))

    def _fit_floats(self, shown: np.ndarray) -> None:
        values = shown[np.isfinite(shown) & (shown != 0)]
        if values.size == 0:
            return
        magnitudes = np.abs(values).astype(np.float64)
        smallest, largest = float(magnitudes.min()), float(magnitudes.max())
        self.int_mode = bool(np.all(values == np.ceil(values)))
        self.sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
        if self.sci_mode:
            spec, extra = f".{PRECISION}e", 0
        elif self.int_mode:
            spec, extra = ".0f", 1  # room for the trailing "." of "6."
        else:
            spec, extra = f".{PRECISION}f", 0
        widths = (len(format(v, spec)) + extra for v in values.tolist())
        self.max_width = max(self.max_width, *widths)

    def format(self, value: float | int | bool) -> str:
        """`value` as text, right-aligned to the common width."""
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = format(value, f"{self.max_width}.{PRECISION}e")
        elif self.int_mode:
            text = f"{value:.0f}"
            if math.isfinite(value):
                text += "."
        else:
            text = format(value, f".{PRECISION}f")
        return text.rjust(self.max_width)


def _tensor_str(data: np.ndarray, indent: int) -> str:
    """The bracketed body of a non-empty tensor's repr."""
    summarize = data.size > THRESHOLD
    formatter = _Formatter(_summarized(data) if summarize else data.reshape(-1))
    return _nested_str(data, indent, summarize, formatter)


def _summarized(data: np.ndarray) -> np.ndarray:
    """The elements a summarized print shows, flattened (torch's get_summarized_data)."""
    if data.ndim == 0:
        return data.reshape(-1)
    if data.shape[0] > 2 * EDGEITEMS:
        data = np.concatenate([data[:EDGEITEMS], data[-EDGEITEMS:]])
    if data.ndim == 1:
        return data
    return np.concatenate([_summarized(row) for row in data])


def _nested_str(data: np.ndarray, indent: int, summarize: bool, formatter: _Formatter) -> str:
    """One (sub)tensor: a scalar, a vector, or brackets around its rows."""
    if data.ndim == 0:
        return formatter.format(data.item())
    if data.ndim == 1:
        return _vector_str(data, indent, summarize, formatter)

    def row_str(row: np.ndarray) -> str:
        return _nested_str(row, indent + 1, summarize, formatter)

    if summarize and data.shape[0] > 2 * EDGEITEMS:
        rows = [*map(row_str, data[:EDGEITEMS]), "...", *map(row_str, data[-EDGEITEMS:])]
    else:
        rows = [row_str(row) for row in data]
    # Rows of a matrix go on the next line; blocks of a 3-d tensor get a blank line between.
    separator = "," + "\n" * (data.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(rows) + "]"


def _vector_str(data: np.ndarray, indent: int, summarize: bool, formatter: _Formatter) -> str:
    """A 1-d row, wrapped to fit LINEWIDTH with its continuation lines indented."""
    element_length = formatter.max_width + 2  # the value plus ", "
    per_line = max(1, math.floor((LINEWIDTH - indent) / element_length))
    values = data.tolist()
    if summarize and len(values) > 2 * EDGEITEMS:
        head, tail = values[:EDGEITEMS], values[-EDGEITEMS:]
        items = [*map(formatter.format, head), " ...", *map(formatter.format, tail)]
    else:
        items = [formatter.format(value) for value in values]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _add_suffixes(tensor_str: str, suffixes: Sequence[str], indent: int) -> str:
    """Append ", suffix" items and the closing ")", starting a new line when one won't fit."""
    parts = [tensor_str]
    # torch's arithmetic, kept as is: it counts 2 more than the last line's length.
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        suffix_len = _torch_len(suffix)
        if last_line_len + suffix_len + 2 > LINEWIDTH:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + suffix_len
        else:
            parts.append(", " + suffix)
            last_line_len += suffix_len + 2
    parts.append(")")
    return "".join(parts)


def _torch_len(suffix: str) -> int:
    """The length `suffix` has in torch, where ``dtype=gradlab.float64`` is ``torch.float64``.

    Measuring this way keeps gradlab's line breaks identical to torch's, at the cost of a
    line sometimes running 2 characters past LINEWIDTH.
    """
    return len(suffix.replace(_NAMESPACE, "torch."))
