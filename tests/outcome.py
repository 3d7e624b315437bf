"""What a small program shows a learner, as plain data (numbers, strings, tuples, lists and
:class:`tests.parity.Num`), so that torch's side can be compared live or recorded to JSON.

``outcome(L, program)`` runs ``program(L)`` (``L`` is ``gradlab`` or ``torch``) with every
warning caught and gives ``{"result": ..., "warnings": [...]}``: tensors become
``["tensor", dtype, shape, Num(values)]``, an exception ``["raises", type name, leading
words]``; torch's spelling (``torch.``, "(Triggered internally at ...)") is normalized away.
Everything is lists, dicts with string keys, strings, numbers, None and ``Num``, so that a
JSON round trip gives the same data back.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from tests.parity import Num, is_tensor, normalize


def _head(text: str) -> str:
    """A message without torch's "Hint" or "(Triggered internally ...)" tail."""
    text = normalize(text)
    for tail in ("Hint", "(Triggered internally"):
        text = text.split(tail)[0]
    return text.strip()


def plain(x: Any) -> Any:
    """``x`` as plain data: tensors by dtype, shape and values; sequences by type name and
    items; dtypes by name."""
    if is_tensor(x):
        dtype = normalize(repr(x.dtype)).removeprefix("gradlab.")
        return ["tensor", dtype, list(x.shape), Num(x.detach().numpy().copy(), dtype)]
    if isinstance(x, (tuple, list)):
        return [type(x).__name__, [plain(v) for v in x]]
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    if type(x).__name__ == "dtype":
        return ["dtype", normalize(repr(x))]
    if hasattr(x, "dtype") and hasattr(x, "shape"):  # a numpy array or scalar
        return ["array", str(x.dtype), Num(x, str(x.dtype))]
    return ["other", type(x).__name__]


def outcome(L: Any, program: Callable[[Any], Any]) -> dict[str, Any]:
    """The result (or error) and the warnings of ``program(L)``, as plain data; warnings
    that a library gives once per process are given every time for the comparison."""
    always = L.is_warn_always_enabled()
    L.set_warn_always(True)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = plain(program(L))
            except Exception as error:  # noqa: BLE001  (the error is what is compared)
                result = ["raises", type(error).__name__, _head(str(error))]
    finally:
        L.set_warn_always(always)
    return {
        "result": result,
        "warnings": [[w.category.__name__, _head(str(w.message))] for w in caught],
    }
