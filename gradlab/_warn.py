"""Warnings PyTorch gives once per process (``TORCH_WARN_ONCE``), and its switch to give
them every time.

>>> import gradlab
>>> gradlab.set_warn_always(True); gradlab.is_warn_always_enabled()
True
>>> gradlab.set_warn_always(False)
"""

from __future__ import annotations

import warnings

_state = {"always": False}
_given: set[str] = set()


def set_warn_always(b: bool) -> None:
    """Give the once-per-process warnings every time (``True``), or once (``False``)."""
    _state["always"] = bool(b)


def is_warn_always_enabled() -> bool:
    """Whether once-per-process warnings are given every time."""
    return _state["always"]


def warn_once(message: str, stacklevel: int = 2) -> None:
    """A ``UserWarning``, the first time only (unless ``set_warn_always(True)``); the
    warning points at the caller's caller, the learner's line."""
    if message in _given and not _state["always"]:
        return
    _given.add(message)
    warnings.warn(message, UserWarning, stacklevel=stacklevel + 1)
