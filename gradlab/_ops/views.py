"""Views and in-place changes through them, as PyTorch does them.

A view shares its base's storage and version counter. Every view remembers its *root* base
(``x[0:2][1]`` is a view of ``x``) and how it was made (in ``no_grad``, or as one output of
a multi-output op like ``unbind``).

When an in-place op that records a node ``fn`` changes a view, the base's history is
rewritten: the base gets a ``CopySlices`` node that routes the gradient of the changed part
through ``fn`` and passes the rest on to the base's old history. After any in-place change,
the views that require grad get an ``AsStridedBackward0`` node on the base's new history.

>>> import gradlab
>>> a = gradlab.tensor([2.0, 3.0], requires_grad=True)
>>> b = gradlab.zeros(3)
>>> b[0:2].mul_(a)
tensor([0., 0.], grad_fn=<AsStridedBackward0>)
>>> b.grad_fn
<CopySlices>
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from gradlab._ops._common import Node, Tensor, grad_enabled
from gradlab.autograd.graph import Invalid, gradient_edge
from gradlab.autograd.saved import FREED, FREED_MESSAGE

NO_GRAD_MODE = "no_grad"  # how a view made while grad mode was off is marked


def view_of(
    base: Tensor,
    data: Any,
    node: Node | None,
    name: str,
    output_nr: int = 0,
    multi: str | None = None,
) -> Tensor:
    """A tensor viewing ``base``'s storage (sharing its version counter when it shares
    memory); ``multi`` names the multi-output op it comes from (``"Unbind"``)."""
    out = Tensor(data, node, output_nr)
    if isinstance(data, np.ndarray) and (
        not data.size or np.shares_memory(data, base._storage())  # an empty view shares none
    ):
        root, made = base, multi if grad_enabled() else NO_GRAD_MODE
        if base._view_of is not None:
            root, base_made = base._view_of
            if made is None and base_made not in (None, NO_GRAD_MODE):
                # a view of an output of unbind is as unchangeable, named by its own op
                made = type(node).__name__.removesuffix("Backward0") if node else name.title()
        vc = out._vc = base._version_counter()
        out._view_of = (root, made)
        if vc.views is None:
            vc.views = {}
        key = id(out)
        vc.views[key] = weakref.ref(out, lambda _, key=key, vc=vc: _forget(vc, key))
    return out


def _forget(vc: Any, key: int) -> None:
    vc.views.pop(key, None)
    if vc.stale:
        vc.stale.discard(key)


def positions(base: np.ndarray, view: np.ndarray) -> np.ndarray:
    """Where each element of ``view`` sits in ``base``, as indices into ``base`` flattened in
    C order. A base whose data was swapped (``.data =``) no longer holds the view's memory:
    as PyTorch, place the view by its storage offset relative to the base's."""
    start = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    if not np.may_share_memory(base, view):
        start = (_storage_offset(view) - _storage_offset(base)) * view.itemsize
    at = start + np.tensordot(np.array(view.strides, np.int64), np.indices(view.shape), 1)
    at = np.asarray(at, np.int64)
    if base.flags.c_contiguous:
        return at // base.itemsize
    offsets = np.tensordot(np.array(base.strides, np.int64), np.indices(base.shape), 1).ravel()
    order = np.argsort(offsets, kind="stable")
    return order[np.searchsorted(offsets[order], at)]


class AsStridedBackward0(Node):
    """out = the view's elements of self, after the base changed in place  →  ``grad``
    added back at those elements of a zero gradient for the base."""

    __slots__ = (
        "_base_shape",
        "_positions",
        "_saved_size",
        "_saved_stride",
        "_saved_storage_offset",
    )

    def apply(self, grad: Any) -> tuple[Any]:
        full = np.zeros(int(np.prod(self._base_shape)), dtype=np.asarray(grad).dtype)
        np.add.at(full, self._positions, grad)
        return (full.reshape(self._base_shape),)


class CopySlices(Node):
    """base's part seen by a view, changed in place by ``fn``  →  for the base: ``grad``
    with that part replaced by what ``fn`` gives its first input; for ``fn``'s other
    inputs: what ``fn`` gives them. ``fn`` is freed after backward."""

    __slots__ = ("fn", "_positions")
    _saved = ("fn",)

    def name(self) -> str:
        return "torch::autograd::CopySlices"

    def release_variables(self) -> None:
        self.fn = FREED

    def apply(self, grad: Any) -> tuple[Any, ...]:
        fn = self.fn
        if fn is FREED:
            raise RuntimeError(FREED_MESSAGE)
        result = np.array(grad, copy=True, order="C")
        flat = result.reshape(-1)  # a view of result (C order), written through below
        part = flat[self._positions]
        grads = fn.apply(part if not fn.multi_output else [part])
        flat[self._positions] = 0 if grads[0] is None else grads[0]
        return (result, *grads[1:])


def set_grad_fn(t: Tensor, node: Node) -> None:
    """Make ``node`` the new ``grad_fn`` of ``t`` (changed in place); a ``retain_grad``
    moves along to it, as in PyTorch. Hooks registered so far stay with the old node (a
    leaf's are dropped); later ones go to ``node``."""
    old, old_nr = t._grad_fn, t._output_nr
    t._grad_fn, t._output_nr, t._hooks = node, 0, None
    if t._retains_grad and old is not None and old._hooks is not None:
        hook = old._hooks.retains_grad.pop(old_nr, None)
        if hook is not None:
            node._hooks_or_new().retains_grad[0] = hook


def rebase(view: Tensor, fn: Node) -> None:
    """Rewrite the history of ``view``'s base after ``fn`` changed ``view`` in place."""
    base = view._view_of[0]
    copy = CopySlices((gradient_edge(base), *fn.next_functions[1:]))
    copy.fn, copy._positions = fn, positions(base._storage(), view._storage())
    set_grad_fn(base, copy)


def refresh_views(x: Tensor, only_stale: bool = False) -> None:
    """After an in-place change to ``x``'s storage, give every view of it that has a node
    or whose base requires grad an ``AsStridedBackward0`` node on its base's current
    history. Any other view is remembered as stale: PyTorch gives it the node as soon as
    its base requires grad (``only_stale``: now)."""
    vc = x._vc
    for key, ref in tuple(vc.views.items()):
        view = ref()
        if view is None or only_stale and key not in vc.stale:
            continue
        base, made = view._view_of
        if view._grad_fn is None and not base.requires_grad:
            if vc.stale is None:
                vc.stale = set()
            vc.stale.add(key)
            continue
        if vc.stale:
            vc.stale.discard(key)
        if made is not None:
            set_grad_fn(view, Invalid(_refusal(view, made)))
            continue
        data, storage = view._storage(), base._storage()
        node = AsStridedBackward0((gradient_edge(base),))
        node._base_shape, node._positions = storage.shape, positions(storage, data)
        node._saved_size = data.shape
        node._saved_stride = tuple(s // data.itemsize for s in data.strides)
        node._saved_storage_offset = _storage_offset(data)
        set_grad_fn(view, node)


def _refusal(view: Tensor, made: str) -> str:
    """PyTorch's error for using a multi-output or no_grad view whose base changed."""
    if made == NO_GRAD_MODE:
        return (
            "A view was created in no_grad mode and its base or another view of its base has "
            "been modified inplace with grad mode enabled. Given that this use case is "
            "ambiguous and error-prone, it is forbidden. You can clarify your code by moving "
            "both the view and the inplace either both inside the no_grad block (if you "
            "don't want the inplace to be tracked) or both outside (if you want the inplace "
            "to be tracked)."
        )
    return (
        f"Output {view._output_nr} of {made} is a view and its base or another view of its "
        "base has been modified inplace. This view is the output of a function that "
        "returns multiple views. Such functions do not allow the output views to be "
        "modified inplace. You should replace the inplace operation by an out-of-place one."
    )


def _storage_offset(data: np.ndarray) -> int:
    """Where ``data`` starts in the memory it views, in elements (PyTorch's
    ``storage_offset()``)."""
    owner = data.base if isinstance(data.base, np.ndarray) else data
    start = data.__array_interface__["data"][0] - owner.__array_interface__["data"][0]
    return start // data.itemsize
