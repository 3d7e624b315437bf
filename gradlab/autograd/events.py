"""What the core announces while it works: forward events, and the backward step stream.

Forward ops call :func:`emit` only when someone listens (``listeners`` is non-empty), so
announcing costs one list check per op otherwise. The backward engine
(:mod:`gradlab.autograd.engine`) *yields* the step events below as it executes; that one
stream drives ``Tensor.backward()``, the recorder and the stepper alike.

>>> from gradlab.autograd import events
>>> seen = []
>>> events.listeners.append(seen.append)
>>> import gradlab
>>> c = gradlab.tensor(2.0, requires_grad=True) * 3
>>> events.listeners.remove(seen.append)
>>> [type(e).__name__ for e in seen]
['TensorCreated', 'OpApplied']
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

#: callables that receive every event, from every thread (a listener that cares checks
#: the thread itself); empty when nobody listens
listeners: list[Callable[[Any], None]] = []
_thread = threading.local()  # .muted: this thread announces nothing


def emit(event: Any) -> None:
    """Hand ``event`` to every listener (unless this thread is inside :func:`muted`)."""
    if getattr(_thread, "muted", False):
        return
    for listener in tuple(listeners):
        listener(event)


@contextmanager
def muted() -> Iterator[None]:
    """Announce nothing from this thread inside the block: the ops a custom ``Function`` or
    a hook runs internally belong to that one step, not to the learner's program. Other
    threads, and listeners added or removed meanwhile, are not affected."""
    before = getattr(_thread, "muted", False)
    _thread.muted = True
    try:
        yield
    finally:
        _thread.muted = before


# --- forward events -------------------------------------------------------------------


@dataclass(frozen=True)
class TensorCreated:
    """A tensor made from data (``tensor``, ``zeros``, ...), not by an op."""

    tensor: Any


@dataclass(frozen=True)
class OpApplied:
    """An op ran: its inputs (tensors or Python numbers), outputs and the node it recorded."""

    name: str
    inputs: tuple[Any, ...]
    outputs: tuple[Any, ...]
    node: Any  # None when no graph was recorded


@dataclass(frozen=True)
class InplaceApplied:
    """An in-place op changed ``tensor`` (its version is now ``version``)."""

    name: str
    tensor: Any
    other: Any
    version: int
    node: Any  # the tensor's new grad_fn, or None


@dataclass(frozen=True)
class TensorChanged:
    """A flag of a tensor changed: ``detach``, ``requires_grad_``, ``retain_grad``, a hook."""

    what: str
    tensor: Any
    result: Any = None


# --- backward step stream ---------------------------------------------------------------


@dataclass(frozen=True)
class BackwardStarted:
    """A backward pass starts at ``roots`` (pairs of node, index) seeded with ``grads``."""

    roots: tuple[tuple[Any, int], ...]
    grads: tuple[np.ndarray, ...]


@dataclass(frozen=True)
class NodeExecuted:
    """A node ran: the (summed) gradients it received and the ones it computed, one per
    ``next_functions`` edge (``None`` where no gradient flows)."""

    node: Any
    grads_in: tuple[np.ndarray | None, ...]
    grads_out: tuple[np.ndarray | None, ...]


@dataclass(frozen=True)
class GradientSent:
    """A gradient travels along ``source.next_functions[position]`` to ``(target, index)``;
    ``total`` is what has arrived there so far (the sum where the forward graph split)."""

    source: Any
    position: int
    target: Any
    index: int
    grad: np.ndarray
    total: np.ndarray


@dataclass(frozen=True)
class GradAccumulated:
    """``AccumulateGrad`` added a gradient into a leaf's ``.grad`` (``before`` may be None)."""

    node: Any
    variable: Any
    before: np.ndarray | None
    after: np.ndarray


@dataclass(frozen=True)
class HookFired:
    """A hook ran. ``kind`` is 'tensor', 'retain_grad', 'prehook' or 'hook'."""

    node: Any
    kind: str
    hook: Callable
    grad_before: Any
    grad_after: Any


@dataclass(frozen=True)
class BackwardFailed:
    """``node`` raised ``error``; the pass stops here (earlier accumulations stay)."""

    node: Any
    error: BaseException


@dataclass(frozen=True)
class BackwardFinished:
    """The backward pass completed."""

    nodes_executed: int
