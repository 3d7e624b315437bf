"""Recording: capture what the core does inside a ``with`` block, step by step.

Every tensor created, op applied, in-place change, flag change and every step of the
backward pass (taken from the engine's own step stream) becomes one :class:`Step`, with
the source line that caused it and a snapshot of each tensor whose state changed. Tensors
are labelled with the names the recording code gave them.

>>> import gradlab
>>> with gradlab.record() as rec:
...     a = gradlab.tensor(2.0, requires_grad=True)
...     b = gradlab.tensor(3.0)
...     c = a * b
...     c.backward()
>>> [step.kind for step in rec.steps][:4]
['TensorCreated', 'TensorCreated', 'OpApplied', 'BackwardStarted']
>>> rec.name_of(c)
'c'
"""

from __future__ import annotations

import linecache
import os
import sys
import threading
import weakref
from dataclasses import dataclass, field
from types import FrameType, TracebackType
from typing import Any

import numpy as np

from gradlab._tensor import Tensor
from gradlab.autograd import events
from gradlab.autograd.graph import AccumulateGrad, Node
from gradlab.autograd.saved import FREED, SavedTensor

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
#: gradlab's own example programs are user code as far as source lines go
_EXAMPLES = os.path.join(_PACKAGE_DIR, "examples.py")
#: id(tensor) -> label; keyed by identity (a weak-key dict would compare tensors with
#: ``Tensor.__eq__``), each entry dropped by a finalizer when its tensor dies
_explicit_names: dict[int, str] = {}


def name(tensor: Tensor, label: str) -> Tensor:
    """Give ``tensor`` a label for pictures and narration (for code outside the recording
    block, where gradlab cannot see your variable names); returns the tensor.

    >>> import gradlab
    >>> w = gradlab.name(gradlab.ones(3, requires_grad=True), "weights")
    >>> with gradlab.record() as rec:
    ...     y = w * 2
    >>> rec.name_of(w)
    'weights'
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"name() expects a Tensor, got {type(tensor).__name__}")
    if id(tensor) not in _explicit_names:
        weakref.finalize(tensor, _explicit_names.pop, id(tensor), None)
    _explicit_names[id(tensor)] = str(label)
    for rec in _active:
        if rec._thread == threading.get_ident():
            rec._label(tensor, str(label))
    return tensor


@dataclass(frozen=True)
class TensorState:
    """What a tensor's box shows at one moment."""

    data: np.ndarray
    grad: np.ndarray | None
    grad_fn: str | None  # key of the grad_fn node
    requires_grad: bool
    version: int
    retains_grad: bool

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None


@dataclass(frozen=True)
class NodeInfo:
    """A backward-graph node as the recording knows it."""

    key: str
    name: str
    next: tuple[tuple[str | None, int], ...]  # (node key or None, output index)
    saved: tuple[tuple[str, str | None, Any, int | None], ...]  # slot, tensor key, value, version
    variable: str | None = None  # for AccumulateGrad: key of its leaf


@dataclass
class Step:
    """One recorded event: its kind, the core event, where it came from, and what changed."""

    index: int
    kind: str
    event: Any
    phase: str  # "forward" or "backward"
    source: str
    lineno: int | None
    changed: dict[str, TensorState] = field(default_factory=dict)
    sends: list[Any] = field(default_factory=list)  # GradientSent events of a node step


class Recording:
    """The steps captured by ``gradlab.record()``, with the tensors and nodes they touched."""

    def __init__(self, frame: FrameType | None = None) -> None:
        self.steps: list[Step] = []
        self.tensors: dict[str, Tensor] = {}  # key -> tensor (kept alive while recorded)
        self.names: dict[str, str] = {}  # key -> label
        self.nodes: dict[str, NodeInfo] = {}
        self.node_objects: dict[str, Node] = {}
        self._keys: dict[int, str] = {}  # id(tensor or node) -> key
        self._signatures: dict[str, tuple] = {}
        self._frame = frame
        self._thread = threading.get_ident()  # only this thread's events are recorded

    # --- what the pictures ask ------------------------------------------------------

    def key_of(self, obj: Any) -> str | None:
        """The key of a recorded tensor or node (None if it was never seen)."""
        return self._keys.get(id(obj))

    def name_of(self, tensor: Tensor) -> str | None:
        """The label of a recorded tensor."""
        key = self.key_of(tensor)
        return None if key is None else self.names.get(key)

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return f"<Recording: {len(self.steps)} steps, {len(self.tensors)} tensors>"

    # --- building -----------------------------------------------------------------------

    def _tensor_key(self, tensor: Tensor) -> str:
        key = self._keys.get(id(tensor))
        if key is None:
            key = f"t{len(self.tensors)}"
            self._keys[id(tensor)] = key
            self.tensors[key] = tensor
            label = _explicit_names.get(id(tensor))
            if label is not None:
                self._label(tensor, label)
        return key

    def _label(self, tensor: Tensor, label: str) -> None:
        key = self._tensor_key(tensor)
        taken = {v for k, v in self.names.items() if k != key}
        unique, n = label, 1
        while unique in taken:
            n += 1
            unique = f"{label}_{n}"
        self.names[key] = unique

    def _node_key(self, node: Node) -> str:
        """Register ``node`` and every node reachable from it (iteratively)."""
        key = self._keys.get(id(node))
        if key is not None:
            return key
        stack, order = [node], []
        while stack:
            n = stack.pop()
            if id(n) in self._keys:
                continue
            self._keys[id(n)] = f"n{len(self.node_objects)}"
            self.node_objects[self._keys[id(n)]] = n
            order.append(n)
            stack.extend(t for t, _ in n.next_functions if t is not None)
        for n in order:
            self._describe(n)
        return self._keys[id(node)]

    def _describe(self, node: Node) -> None:
        key = self._keys[id(node)]
        variable = None
        if type(node) is AccumulateGrad:
            variable = self._tensor_key(node.variable)
        saved = []
        for slot in node._saved:
            value = getattr(node, slot, None)
            if value is None or value is FREED:
                continue
            for item in value if isinstance(value, tuple) else (value,):
                if type(item) is SavedTensor:
                    tensor = item.tensor if item.output_of is None else None
                    tkey = None if tensor is None else self._tensor_key(tensor)
                    saved.append(
                        (slot.lstrip("_"), tkey, np.array(item.tensor._data), item.version)
                    )
                elif item is not None:
                    saved.append((slot.lstrip("_"), None, item, None))
        nxt = tuple(
            (None if t is None else self._keys.get(id(t)), i) for t, i in node.next_functions
        )
        label = "AccumulateGrad" if variable is not None else node.name()
        self.nodes[key] = NodeInfo(key, label, nxt, tuple(saved), variable)

    def _on_event(self, event: Any) -> None:
        if threading.get_ident() != self._thread:
            return  # another thread's program
        kind = type(event).__name__
        if kind == "GradientSent" and self.steps and self.steps[-1].kind == "NodeExecuted":
            self.steps[-1].sends.append(event)
            return
        self._register(event)
        self._name_from_frame()
        source, lineno = _user_line()
        phase = "forward" if kind in _FORWARD else "backward"
        step = Step(len(self.steps), kind, event, phase, source, lineno)
        step.changed = self._changes()
        self.steps.append(step)

    def _register(self, event: Any) -> None:
        """Give keys to the tensors and nodes an event mentions."""
        for value in vars(event).values() if hasattr(event, "__dict__") else ():
            for item in value if isinstance(value, tuple) else (value,):
                if isinstance(item, Tensor):
                    self._tensor_key(item)
                    if item._grad_fn is not None:
                        self._node_key(item._grad_fn)
                    elif item._accumulator is not None and item._accumulator() is not None:
                        self._node_key(item._accumulator())
                elif isinstance(item, Node):
                    self._node_key(item)

    def _changes(self) -> dict[str, TensorState]:
        """Snapshots of the tensors whose visible state changed since the last step."""
        changed = {}
        for key, t in self.tensors.items():
            grad = t._grad
            signature = (
                id(t._data),
                t._version,
                id(grad),
                None if grad is None else grad._version,
                id(t._grad_fn),
                t.requires_grad,
                t._retains_grad,
                _fingerprint(t._data),
                None if grad is None else _fingerprint(grad._data),
            )
            if self._signatures.get(key) != signature:
                self._signatures[key] = signature
                if t._grad_fn is not None:
                    self._node_key(t._grad_fn)
                changed[key] = TensorState(
                    np.array(t._data),
                    None if grad is None else np.array(grad._data),
                    None if t._grad_fn is None else self._keys[id(t._grad_fn)],
                    t.requires_grad,
                    t._version,
                    t._retains_grad,
                )
        return changed

    def _name_from_frame(self) -> None:
        """Label new tensors with the variable names of the recording code (its locals
        first, then its module's globals)."""
        frame = self._frame
        if frame is None:
            return
        scopes = [frame.f_locals]
        if frame.f_globals is not frame.f_locals:
            scopes.append(frame.f_globals)
        variables = [
            (var, value)
            for scope in scopes
            for var, value in list(scope.items())
            if not var.startswith("_")
        ]  # skips IPython's output cache _, __, _1
        for var, value in variables:
            if isinstance(value, Tensor):
                self._name_if_new(value, var)
        for var, value in variables:
            if isinstance(value, (tuple, list)) and len(value) <= 16:
                for i, item in enumerate(value):
                    if isinstance(item, Tensor):
                        self._name_if_new(item, f"{var}[{i}]")

    def _name_if_new(self, tensor: Tensor, label: str) -> None:
        key = self._keys.get(id(tensor))
        if key is not None and key not in self.names:
            self._label(tensor, label)

    def finish(self, error: BaseException | None) -> None:
        """Close the recording: name what is still unnamed, record a stray error."""
        self._name_from_frame()
        for key in self.tensors:
            self.names.setdefault(key, f"tensor {key[1:]}")
        if error is not None and not (self.steps and self.steps[-1].kind == "BackwardFailed"):
            source, lineno = _user_line(error.__traceback__)
            self.steps.append(Step(len(self.steps), "Error", error, "error", source, lineno))
        self._frame = None


_FORWARD = {"TensorCreated", "OpApplied", "InplaceApplied", "TensorChanged"}
_active: list[Recording] = []


def _fingerprint(data: Any) -> Any:
    """A cheap stand-in for 'same values' (small arrays are compared whole). Bytes, not
    floats, so that NaN compares equal to itself."""
    array = np.asarray(data)
    return array.tobytes() if array.size <= 64 else (array.shape, array.sum().tobytes())


def _user_line(tb: TracebackType | None = None) -> tuple[str, int | None]:
    """The source line of the innermost frame outside gradlab that led here."""
    frame: FrameType | None = sys._getframe(2)
    if tb is not None:
        while tb.tb_next is not None and not _inside_gradlab(tb.tb_next.tb_frame):
            tb = tb.tb_next
        frame = tb.tb_frame
        lineno = tb.tb_lineno
        return linecache.getline(frame.f_code.co_filename, lineno).strip(), lineno
    while frame is not None and _inside_gradlab(frame):
        frame = frame.f_back
    if frame is None:
        return "", None
    lineno = frame.f_lineno
    return linecache.getline(frame.f_code.co_filename, lineno).strip(), lineno


def _inside_gradlab(frame: FrameType) -> bool:
    filename = frame.f_code.co_filename
    if filename == _EXAMPLES:
        return False
    return filename.startswith(_PACKAGE_DIR) or filename.startswith("<frozen")


class record:  # noqa: N801  (used like a function: ``with gradlab.record() as rec``)
    """Record everything the core does inside the block into a :class:`Recording`.

    An exception inside the block is recorded as a step, then propagates as usual.
    """

    def __init__(self) -> None:
        self.recording = Recording(sys._getframe(1))

    def __enter__(self) -> Recording:
        _active.append(self.recording)
        events.listeners.append(self.recording._on_event)
        return self.recording

    def __exit__(
        self, kind: type | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        events.listeners.remove(self.recording._on_event)
        _active.remove(self.recording)
        self.recording.finish(error)


Recording.__module__ = record.__module__ = "gradlab"
