"""Saved tensors: what a node keeps from the forward pass, checked against in-place changes.

A node saves a tensor together with the tensor's version at that moment. When backward
unpacks it, a different version means an in-place op changed the values the gradient
formula needs, and PyTorch's version error is raised.

>>> import gradlab
>>> a = gradlab.tensor(2.0, requires_grad=True)
>>> b = gradlab.tensor(3.0)
>>> c = a * b
>>> c.grad_fn._saved_other
tensor(3.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


class _Freed:
    """Marks a saved value released after backward."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<freed>"


FREED = _Freed()


def version_error(saved: SavedTensor, current: int) -> RuntimeError:
    """PyTorch's in-place version error, carrying the facts a picture needs to show it
    (``error.saved`` and ``error.current_version``)."""
    t = saved.tensor
    desc = f"[{tensor_type_name(t._data)} [{', '.join(map(str, t.shape))}]]"
    producer = saved.output_of or (t._grad_fn.name() if t._grad_fn is not None else None)
    if producer is not None:
        desc += f", which is output {saved.output_nr} of {_op_name(producer)},"
    error = RuntimeError(
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: {desc} is at version {current}; expected version "
        f"{saved.version} instead. Hint: record the code with gradlab.record() and step "
        "through it to see which operation changed it."
    )
    error.saved, error.current_version = saved, current
    return error


_TYPE_NAMES = {
    "float16": "HalfTensor",
    "float32": "FloatTensor",
    "float64": "DoubleTensor",
    "int64": "LongTensor",
    "int32": "IntTensor",
    "int16": "ShortTensor",
    "int8": "CharTensor",
    "uint8": "ByteTensor",
    "bool": "BoolTensor",
}


def tensor_class_name(data: Any) -> str:
    """The class of a tensor of an array's dtype, as ``x.type()`` names it in PyTorch
    ("gradlab.FloatTensor", "gradlab.BoolTensor")."""
    return f"gradlab.{_TYPE_NAMES.get(np.asarray(data).dtype.name, 'Tensor')}"


def tensor_type_name(data: Any) -> str:
    """PyTorch's C++ type name of an array's dtype, as its autograd and shape messages
    print it ("gradlab.FloatTensor"; "CPUBoolType" for bool)."""
    name = np.asarray(data).dtype.name
    return "CPUBoolType" if name == "bool" else tensor_class_name(data)


def _op_name(node_name: str) -> str:
    """'AddBackward0' -> 'Add', 'PowBackward1' -> 'Pow1', as PyTorch names the producer
    in its version error."""
    head, _, tail = node_name.rpartition("Backward")
    if not (head and tail.isdigit()):
        return node_name
    return head if tail == "0" else head + tail


class SavedTensor:
    """A tensor saved for backward, with its version at save time."""

    __slots__ = ("tensor", "version", "output_of", "output_nr")

    def __init__(self, tensor: Any, output_of: str | None = None) -> None:
        from gradlab._tensor import Tensor

        if output_of is not None:
            # saving an op's own output: keep an alias without grad_fn, so no cycle forms
            alias = Tensor(tensor._data)
            alias._vc = tensor._version_counter()
            self.output_nr = tensor._output_nr
            tensor = alias
        else:
            self.output_nr = tensor._output_nr
        self.tensor = tensor
        self.version = tensor._version
        self.output_of = output_of

    def as_seen_from(self, node: Any) -> Any:
        """The saved tensor as PyTorch shows it: an op's saved output is that output again,
        with ``node`` as its ``grad_fn`` (made on access, so the node holds no cycle)."""
        alias = self.tensor
        if self.output_of is None:
            return alias
        from gradlab._tensor import Tensor

        out = Tensor(alias._data, node, self.output_nr)
        out._vc = alias._vc
        return out

    def unpack(self) -> np.ndarray:
        """The saved values, after checking no in-place op changed them."""
        t = self.tensor
        current = t._version
        if current != self.version:
            raise version_error(self, current)
        return t._data


def unpack(saved: Any) -> Any:
    """The value of a saved slot: a checked tensor's data, or a saved Python number."""
    if type(saved) is SavedTensor:
        return saved.unpack()
    if saved is FREED:
        raise RuntimeError(FREED_MESSAGE)
    return saved


class saved_attribute:  # noqa: N801  (used like property)
    """Exposes a saved slot as PyTorch does, e.g. ``MulBackward0._saved_other``."""

    def __init__(self, slot: str, as_tensor: bool = True) -> None:
        self.slot = slot
        self.as_tensor = as_tensor

    def __get__(self, node: Any, owner: type | None = None) -> Any:
        if node is None:
            return self
        saved = getattr(node, self.slot)
        if saved is None:
            return None
        if saved is FREED:
            raise RuntimeError(FREED_MESSAGE)
        if type(saved) is SavedTensor:
            saved.unpack()  # PyTorch checks the version here too
            return saved.as_seen_from(node)
        if self.as_tensor:
            from gradlab._tensor import Tensor

            return Tensor(np.asarray(saved))  # a Python number, wrapped as PyTorch does
        return saved
