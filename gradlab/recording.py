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

import itertools
import linecache
import os
import sys
import threading
import weakref
from collections.abc import Iterator
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
_automatic_names: dict[int, str] = {}  # the same, for the names gradlab gave


def name(tensor: Tensor, label: str) -> Tensor:
    """Give ``tensor`` a label for pictures and narration (for code outside the recording
    block, where gradlab cannot see your variable names); returns the tensor.

    >>> w = gradlab.name(gradlab.ones(3), "w")   # doctest: +SKIP
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


def automatic_name(tensor: Tensor, taken: set[str], numbers: Iterator[int]) -> str:
    """The label of a tensor no code named: the next of ``tmp1``, ``tmp2``, ... (from
    ``numbers``) not in ``taken``, given once per tensor, so ``show()`` and the stepper
    call it the same."""
    label = _automatic_names.get(id(tensor))
    if label is None:
        label = next(f"tmp{n}" for n in numbers if f"tmp{n}" not in taken)
        _automatic_names[id(tensor)] = label
        weakref.finalize(tensor, _automatic_names.pop, id(tensor), None)
    return label


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
    freed: bool = False  # its saved values were already released when it was first seen


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
        self._taken: set[str] = set()  # labels in use
        self._suffixes: dict[str, int] = {}  # label -> the last n of label_n given
        self._numbers = itertools.count(1)  # for automatic names
        # which tensors an event can change, found without scanning them all:
        self._sharing: dict[int, set[str]] = {}  # id(version counter or storage) -> keys
        self._owned: dict[str, set[str]] = {}  # node key -> keys of the tensors it made
        self._grad_of: dict[int, str] = {}  # id(a tensor's .grad) -> that tensor's key
        self._new: list[str] = []  # keys given since the last step
        self._released: str | None = None  # node key of the last node run, until freed
        #: node key -> index of the step after which its saved values were freed
        self.freed: dict[str, int] = {}
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
            self._new.append(key)
            label = _explicit_names.get(id(tensor))
            if label is not None:
                self._label(tensor, label)
        return key

    def _label(self, tensor: Tensor, label: str) -> None:
        key = self._tensor_key(tensor)
        self._taken.discard(self.names.get(key))
        unique, n = label, self._suffixes.get(label, 1)
        while unique in self._taken:
            n += 1
            unique = f"{label}_{n}"
        self._suffixes[label] = n
        self.names[key] = unique
        self._taken.add(unique)

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
        freed = any(getattr(node, slot, None) is FREED for slot in node._saved)
        self.nodes[key] = NodeInfo(key, label, nxt, tuple(saved), variable, freed)

    def _on_event(self, event: Any) -> None:
        if threading.get_ident() != self._thread:
            return  # another thread's program
        kind = type(event).__name__
        if kind == "GradientSent" and self.steps and self.steps[-1].kind == "NodeExecuted":
            self.steps[-1].sends.append(event)
            return
        self._note_release()
        self._register(event)
        user = _user_frame()
        self._name_from_frame(user)
        source, lineno = _line_of(user)
        phase = "forward" if kind in _FORWARD else "backward"
        step = Step(len(self.steps), kind, event, phase, source, lineno)
        step.changed = self._changes(self._touched(event))
        self.steps.append(step)
        if kind == "NodeExecuted":
            self._released = self._keys.get(id(event.node))

    def _note_release(self) -> None:
        """The engine frees a node's saved values right after it ran (without
        ``retain_graph``): note it against that node's step."""
        key, self._released = self._released, None
        if key is None:
            return
        node = self.node_objects[key]
        if any(getattr(node, slot, None) is FREED for slot in node._saved):
            self.freed[key] = len(self.steps) - 1

    def _touched(self, event: Any) -> set[str]:
        """The keys of the tensors ``event`` can have changed: those it mentions, new ones,
        the tensors sharing storage or version counter with an in-place target (and those
        whose ``.grad`` that is), and the outputs of a node whose hooks ran."""
        touched = set(self._new)
        self._new.clear()
        for value in vars(event).values():
            for item in value if isinstance(value, tuple) else (value,):
                if isinstance(item, Tensor):
                    touched.add(self._keys[id(item)])
                    if type(event) is events.InplaceApplied:
                        for ident in _sharing_ids(item):
                            touched |= self._sharing.get(ident, set())
        node = getattr(event, "node", None)
        if node is not None and type(event) is not events.OpApplied:
            touched |= self._owned.get(self._keys.get(id(node)), set())
        return touched

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

    def _changes(self, keys: Any = None) -> dict[str, TensorState]:
        """Snapshots of the tensors (all, or those in ``keys``) whose visible state changed
        since the last step."""
        changed = {}
        for key in self.tensors if keys is None else sorted(keys, key=_key_order):
            t = self.tensors[key]
            for ident in _sharing_ids(t):
                self._sharing.setdefault(ident, set()).add(key)
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
                if grad is not None:
                    self._grad_of[id(grad)] = key
                if t._grad_fn is not None:
                    self._owned.setdefault(self._node_key(t._grad_fn), set()).add(key)
                changed[key] = TensorState(
                    np.array(t._data),
                    None if grad is None else np.array(grad._data),
                    None if t._grad_fn is None else self._keys[id(t._grad_fn)],
                    t.requires_grad,
                    t._version,
                    t._retains_grad,
                )
        return changed

    def _name_from_frame(self, user: FrameType | None = None) -> None:
        """Label new tensors with the variable names of the code: the locals of the
        ``user`` function that is running (a learner's helper called inside the block),
        then the recording code's locals, then its module's globals."""
        frame = self._frame
        if frame is None:
            return
        scopes = [user.f_locals] if user is not None and user is not frame else []
        scopes.append(frame.f_locals)
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
        for key, tensor in self.tensors.items():
            if key not in self.names:
                owner = self._grad_of.get(id(tensor))
                if owner is not None and self.tensors[owner]._grad is tensor:
                    self._label(tensor, f"{self.names.get(owner, 'tensor')}.grad")
                else:
                    self._label(tensor, automatic_name(tensor, self._taken, self._numbers))
        if error is not None and not (self.steps and self.steps[-1].kind == "BackwardFailed"):
            source, lineno = _user_line(error.__traceback__)
            self.steps.append(Step(len(self.steps), "Error", error, "error", source, lineno))
        self._frame = None


_FORWARD = {"TensorCreated", "OpApplied", "InplaceApplied", "TensorChanged"}
_active: list[Recording] = []


def _key_order(key: str) -> int:
    return int(key[1:])


def _sharing_ids(tensor: Tensor) -> tuple[int, ...]:
    """Identities shared by tensors that change together: the version counter, the storage
    behind the data and the storage behind the grad."""
    ids = [] if tensor._vc is None else [id(tensor._vc)]
    for array in (tensor._data, None if tensor._grad is None else tensor._grad._data):
        if type(array) is np.ndarray:
            while array.base is not None and type(array.base) is np.ndarray:
                array = array.base
            ids.append(id(array))
    return tuple(ids)


def _fingerprint(data: Any) -> Any:
    """A cheap stand-in for 'same values' (small arrays are compared whole). Bytes, not
    floats, so that NaN compares equal to itself."""
    array = np.asarray(data)
    return array.tobytes() if array.size <= 64 else (array.shape, array.sum().tobytes())


def _user_line(tb: TracebackType) -> tuple[str, int | None]:
    """The source line of the innermost frame outside gradlab in a traceback."""
    while tb.tb_next is not None and not _inside_gradlab(tb.tb_next.tb_frame):
        tb = tb.tb_next
    frame = tb.tb_frame
    lineno = tb.tb_lineno
    return linecache.getline(frame.f_code.co_filename, lineno).strip(), lineno


def _user_frame() -> FrameType | None:
    """The innermost frame outside gradlab that led here."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None and _inside_gradlab(frame):
        frame = frame.f_back
    return frame


def _line_of(frame: FrameType | None) -> tuple[str, int | None]:
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
