"""Custom autograd functions: write ``forward`` and ``backward`` yourself, with ``ctx``.

``ctx`` is the node itself: the ``grad_fn`` of the outputs is the very object that
``forward`` filled with ``save_for_backward`` and attributes, as in PyTorch.

>>> import gradlab
>>> class MyMul(gradlab.Function):
...     @staticmethod
...     def forward(ctx, a, b):
...         ctx.save_for_backward(a, b)
...         return a * b
...     @staticmethod
...     def backward(ctx, grad):
...         a, b = ctx.saved_tensors
...         return grad * b, grad * a
>>> a = gradlab.tensor(2.0, requires_grad=True)
>>> c = MyMul.apply(a, gradlab.tensor(3.0))
>>> c.grad_fn
<MyMulBackward>
>>> c.backward(); a.grad
tensor(3.)
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from gradlab.autograd import events
from gradlab.autograd.grad_mode import is_grad_enabled, no_grad
from gradlab.autograd.graph import NO_EDGE, Node
from gradlab.autograd.saved import FREED, FREED_MESSAGE, SavedTensor


class FunctionCtx:
    """What ``forward`` and ``backward`` share: saved tensors and ``needs_input_grad``."""

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep tensors for ``backward``; they are checked against in-place changes."""
        self._to_save = tensors

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """The tensors given to ``save_for_backward``, after the version check."""
        saved = self.__dict__.get("_saved_tensors", ())
        if saved is FREED:
            raise RuntimeError(FREED_MESSAGE)
        out = []
        for s in saved:
            if s is None:
                out.append(None)
            else:
                s.unpack()
                out.append(s.as_seen_from(self))
        return tuple(out)

    def mark_non_differentiable(self, *tensors: Any) -> None:
        self._non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self._materialize_grads = value


class BackwardCFunction(Node, FunctionCtx):
    """The node of a custom ``Function``: it calls the user's ``backward``."""

    _forward_cls: type[Function]
    _saved = ("_saved_tensors",)
    derivatives = ("what your backward(ctx, {grad}) returned for input {position}",)

    def __init__(self, next_functions: tuple) -> None:
        super().__init__(next_functions)
        self._shapes: tuple[tuple[int, ...], ...] = ()

    def output_shapes(self) -> tuple[tuple[int, ...], ...]:
        return self._shapes

    def release_variables(self) -> None:
        if self.__dict__.get("_saved_tensors"):
            self._saved_tensors = FREED

    def apply(self, grads: Any) -> tuple[Any, ...]:
        from gradlab._ops._common import sum_to
        from gradlab._tensor import Tensor

        name = type(self).__name__
        grads = grads if self.multi_output else [grads]
        # a missing gradient arrives as zeros, unless ctx.set_materialize_grads(False)
        zeros = self.__dict__.get("_materialize_grads", True)
        materialized = [
            Tensor(g) if g is not None else Tensor(np.zeros(s, self._dtype)) if zeros else None
            for g, s in zip(grads, self._shapes)
        ]
        with no_grad(), events.muted():
            result = self._forward_cls.backward(self, *materialized)
        result = result if isinstance(result, tuple) else (result,)
        if len(result) != len(self._arg_is_tensor):
            raise RuntimeError(
                f"function {name} returned an incorrect number of gradients "
                f"(expected {len(self._arg_is_tensor)}, got {len(result)})"
            )
        out = []
        for index, (grad, is_tensor) in enumerate(zip(result, self._arg_is_tensor)):
            if not is_tensor:
                continue
            if grad is None:
                out.append(None)
                continue
            expected = tuple(self._input_shapes[len(out)])
            data = grad._data
            try:  # PyTorch sums a larger gradient down to the input; a smaller one is wrong
                fits = np.broadcast_shapes(expected, np.shape(data)) == np.shape(data)
            except ValueError:
                fits = False
            if not fits:
                raise RuntimeError(
                    f"Function {name} returned an invalid gradient at index {index} - got "
                    f"{list(np.shape(data))} but expected shape compatible with {list(expected)}"
                )
            out.append(sum_to(data, expected))
        return tuple(out)


class Function:
    """Base class for custom ops: subclass it with static ``forward(ctx, *args)`` and
    ``backward(ctx, *grads)``, then call ``YourFunction.apply(*args)``."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._backward_cls = type(
            f"{cls.__name__}Backward",
            (BackwardCFunction,),
            {"_forward_cls": cls, "__module__": cls.__module__},
        )

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError(
            "You must implement either the backward or vjp method for "
            "your custom autograd.Function to use it with backward "
            "mode AD."
        )

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run ``forward`` and, when an input requires grad, record a ``<Name>Backward``
        node whose ``backward`` is yours. Keyword arguments are bound to ``forward``'s
        parameters, defaults filled in, as PyTorch does."""
        from gradlab._ops._common import edge, needs_grad
        from gradlab._tensor import Tensor

        if kwargs:
            bound = inspect.signature(cls.forward).bind(None, *args, **kwargs)
            bound.apply_defaults()
            args = bound.args[1:]

        tensors = [a for a in args if isinstance(a, Tensor)]
        recording = is_grad_enabled() and any(needs_grad(t) for t in tensors)
        ctx = cls._backward_cls(tuple(edge(t) for t in tensors) if recording else ())
        ctx.needs_input_grad = tuple(recording and needs_grad(a) for a in args)
        ctx._arg_is_tensor = tuple(isinstance(a, Tensor) for a in args)
        ctx._input_shapes = tuple(t.shape for t in tensors)
        with no_grad(), events.muted():
            result = cls.forward(ctx, *args)
        outputs = result if isinstance(result, tuple) else (result,)
        wrapped = tuple(
            (Tensor(o._data) if any(o is t for t in tensors) else o) if isinstance(o, Tensor) else o
            for o in outputs
        )
        has_tensor = any(isinstance(o, Tensor) for o in wrapped)  # forward may return a float
        if recording and has_tensor and not all(e is NO_EDGE for e in ctx.next_functions):
            ctx.multi_output = len(wrapped) > 1
            ctx._shapes = tuple(o.shape for o in wrapped if isinstance(o, Tensor))
            ctx._dtype = next(o._data.dtype for o in wrapped if isinstance(o, Tensor))
            skip = getattr(ctx, "_non_differentiable", ())
            for nr, o in enumerate(wrapped):
                # outputs of a dtype without gradients (bool, integers) stay off the graph
                if (
                    isinstance(o, Tensor)
                    and o._data.dtype.kind == "f"
                    and not any(o is s for s in skip)
                ):
                    o._grad_fn, o._output_nr = ctx, nr
        ctx._saved_tensors = tuple(
            None
            if t is None
            else SavedTensor(t, output_of=type(ctx).__name__)
            if any(t is o for o in wrapped)
            else SavedTensor(t)
            for t in getattr(ctx, "_to_save", ())
        )
        ctx.__dict__.pop("_to_save", None)
        if events.listeners:
            events.emit(events.OpApplied(cls.__name__, args, wrapped, ctx if recording else None))
        return wrapped if isinstance(result, tuple) else wrapped[0]
