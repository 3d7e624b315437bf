"""A recording as frames: what each step changed, kept so that any frame's facts are found
without scanning the recording.

A :class:`Frame` holds its step, its narration, its highlight and the gradients that moved
in it (:class:`Flow`), never a copy of the whole state. The :class:`Timeline` keeps each
tensor's states as a history (found by bisection), the frame at which each tensor and
node first appears, the tensors each node belongs to and the names pictures use.

>>> import gradlab
>>> with gradlab.record() as rec:
...     a = gradlab.tensor(2.0, requires_grad=True)
...     c = a * 3
...     c.backward()
>>> w = gradlab.Walkthrough(rec)
>>> [(f.source, f.position, f.target, float(f.value)) for f in w.frames[3].flows]
[('MulBackward0', 0, 'torch::autograd::AccumulateGrad', 3.0)]
>>> w.display_name(w.frames[3].flows[0].source_key), w.state_at("t0", 0).grad is None
('MulBackward0 of c', True)
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from gradlab.recording import Recording, Step, TensorState


class Flow(NamedTuple):
    """A gradient sent along one edge of the backward graph in one step.

    ``source`` and ``target`` are node names as ``name()`` gives them; ``position`` is the
    slot in the source's ``next_functions``; ``index`` the second element of that pair
    (which output of the target the gradient belongs to); ``value`` the gradient;
    ``source_key`` and ``target_key`` the recording's node keys; ``total`` what has arrived
    at that slot of the target so far (more than ``value`` where the forward graph split)."""

    source: str
    position: int
    target: str
    index: int
    value: np.ndarray
    source_key: str
    target_key: str
    total: np.ndarray


class SavedValue(NamedTuple):
    """One value a node saved for backward, as it stands at one frame.

    ``tensor_key`` is the saved tensor's key (None for a Python number, or for the node's
    own output, whose versions are its owner's); ``version`` its version when saved and
    ``current_version`` its version at that frame (None for a number); ``freed`` whether
    a backward without ``retain_graph`` has released it by then."""

    slot: str
    tensor_key: str | None
    value: Any
    version: int | None
    current_version: int | None
    freed: bool

    @property
    def stale(self) -> bool:
        """The tensor changed in place after it was saved: backward would refuse it."""
        return self.version is not None and self.current_version not in (None, self.version)


@dataclass(frozen=True)
class Frame:
    """One step as shown: the step, what is said, what is lit and what moved."""

    step: Step
    narration: str
    highlight: Any  # gradlab.drawing.scene.Highlight
    flows: tuple[Flow, ...] = ()


class Timeline:
    """Where every tensor and node of a recording stands at any frame.

    ``record(i, changed)`` feeds the states each step changed, frame by frame, in order."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self._frames: dict[str, list[int]] = {}  # tensor key -> frames where it changed
        self._states: dict[str, list[TensorState]] = {}  # ... and its state from then on
        #: first frame at which each tensor key and node key is part of the picture
        self.appears_at: dict[str, int] = {}
        self._tensor_order: list[str] = []
        self._node_order: list[str] = []
        self._owners: dict[str, list[str]] = {}  # node key -> tensors it is grad_fn of
        self._names: dict[str, str] = {}
        self._frame_of_step: list[int] = []

    def record(self, i: int, changed: Mapping[str, TensorState]) -> None:
        """Learn the states a step changed; it is shown as (or folded into) frame ``i``
        (steps come in order, one call each)."""
        self._frame_of_step.append(i)
        for key, state in changed.items():
            frames, states = self._frames.setdefault(key, []), self._states.setdefault(key, [])
            if frames and frames[-1] == i:
                states[-1] = state
            else:
                frames.append(i)
                states.append(state)
            if key not in self.appears_at:
                self.appears_at[key] = i
                self._tensor_order.append(key)
            node = state.grad_fn
            if node is not None:
                owners = self._owners.setdefault(node, [])
                if key not in owners:
                    owners.append(key)
                self._add_nodes(node, i)

    def _add_nodes(self, key: str, i: int) -> None:
        """A node and the nodes its gradients go to join the picture at frame ``i``."""
        nodes = self.recording.nodes
        stack = [key]
        while stack:
            k = stack.pop()
            if k in self.appears_at or k not in nodes:
                continue
            self.appears_at[k] = i
            self._node_order.append(k)
            stack.extend(t for t, _ in nodes[k].next if t is not None)

    # --- what a frame asks ----------------------------------------------------------------

    def state_at(self, key: str, i: int) -> TensorState | None:
        """The state of tensor ``key`` as of frame ``i`` (None before it exists)."""
        frames = self._frames.get(key)
        if not frames:
            return None
        at = bisect_right(frames, i)
        return self._states[key][at - 1] if at else None

    def states_at(self, i: int) -> StatesAt:
        """Every tensor's state at frame ``i``, looked up lazily (for whole-picture code)."""
        return StatesAt(self, i)

    def nodes_at(self, i: int) -> tuple[str, ...]:
        """The node keys in the picture at frame ``i``, in order of appearance."""
        return tuple(k for k in self._node_order if self.appears_at[k] <= i)

    def freed_at(self, node: str) -> int | None:
        """The first frame at which ``node``'s saved values are released (None: never)."""
        rec = self.recording
        if node in rec.freed:
            return self._frame_of_step[rec.freed[node]] + 1
        info = rec.nodes.get(node)
        return self.appears_at.get(node) if info is not None and info.freed else None

    def saved_at(self, node: str, i: int) -> tuple[SavedValue, ...]:
        """What ``node`` saved for backward, with versions and freeing as of frame ``i``."""
        freed_at = self.freed_at(node)
        freed = freed_at is not None and freed_at <= i
        owners = self.owners(node)
        values = []
        for slot, tkey, value, version in self.recording.nodes[node].saved:
            follows = tkey if tkey is not None else owners[0] if len(owners) == 1 else None
            state = None if version is None or follows is None else self.state_at(follows, i)
            current = None if state is None else state.version
            values.append(SavedValue(slot, tkey, value, version, current, freed))
        return tuple(values)

    def owners(self, node: str) -> list[str]:
        """The tensors a node is (or was) the grad_fn of, by output index for a
        multi-output node; for AccumulateGrad, its leaf."""
        info = self.recording.nodes.get(node)
        if info is not None and info.variable is not None:
            return [info.variable]
        owners = self._owners.get(node, [])
        if len(owners) > 1:
            tensors = self.recording.tensors
            owners = sorted(owners, key=lambda k: tensors[k]._output_nr)
        return owners

    def display_name(self, key: str) -> str:
        """The label of a tensor or node in pictures and narration: ``"a"``,
        ``"MulBackward0 of e"``, ``"AccumulateGrad of a"``."""
        label = self._names.get(key)
        if label is None:
            label = self._names[key] = self._label(key)
        return label

    def _label(self, key: str) -> str:
        rec = self.recording
        if key in rec.tensors:
            return rec.names.get(key, key)
        info = rec.nodes.get(key)
        if info is None:
            return key
        owners = [rec.names.get(k, k) for k in self.owners(key)]
        if not owners:
            return info.name
        if not rec.node_objects[key].multi_output:
            owners = owners[:1]  # one output: the tensor it was made for
        if len(owners) > 4:
            owners = [*owners[:2], "…", owners[-1]]
        return f"{info.name} of {', '.join(owners)}"


class StatesAt(Mapping[str, TensorState]):
    """The tensors present at one frame, each with its state then (computed on access)."""

    def __init__(self, timeline: Timeline, i: int) -> None:
        self._timeline = timeline
        self._i = i

    def __getitem__(self, key: str) -> TensorState:
        state = self._timeline.state_at(key, self._i)
        if state is None:
            raise KeyError(key)
        return state

    def __iter__(self) -> Iterator[str]:
        appears, i = self._timeline.appears_at, self._i
        return (k for k in self._timeline._tensor_order if appears[k] <= i)

    def __len__(self) -> int:
        return sum(1 for _ in self)
