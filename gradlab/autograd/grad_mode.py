"""Switching graph recording off and on: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

>>> import gradlab
>>> a = gradlab.tensor(2.0, requires_grad=True)
>>> with gradlab.no_grad():
...     b = a * 3
>>> b.requires_grad, b.grad_fn
(False, None)
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any


class _GradState(threading.local):
    """The grad mode of the running thread: each thread starts with recording on, as in
    PyTorch, and a ``no_grad`` block in one thread does not affect the others."""

    enabled = True


_state = _GradState()


def is_grad_enabled() -> bool:
    """Whether ops currently record the backward graph (in this thread)."""
    return _state.enabled


class set_grad_enabled:  # noqa: N801  (named like torch.set_grad_enabled)
    """Turn graph recording on or off: as a call, or as a context manager restoring the old mode."""

    def __init__(self, mode: bool) -> None:
        self.prev = _state.enabled
        _state.enabled = bool(mode)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        _state.enabled = self.prev


class _GradMode:
    """A context manager and decorator that sets the grad mode for its block."""

    mode = True

    def __enter__(self) -> None:
        self.prev = _state.enabled
        _state.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _state.enabled = self.prev

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):  # noqa: N801
    """Ops inside the block record no graph; their results do not require grad."""

    mode = False


class enable_grad(_GradMode):  # noqa: N801
    """Ops inside the block record the graph again, even within ``no_grad``."""

    mode = True
