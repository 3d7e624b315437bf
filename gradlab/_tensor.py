"""``Tensor``: an n-dimensional array that remembers how it was computed.

A tensor carries what the classic autograd diagram shows in its box: ``data``, ``grad``,
``grad_fn``, ``is_leaf`` and ``requires_grad``. Ops on tensors that require grad record a
backward graph (see :mod:`gradlab.autograd.graph`); ``backward()`` runs it.

>>> import gradlab
>>> a = gradlab.tensor(2.0, requires_grad=True)
>>> b = gradlab.tensor(3.0)
>>> c = a * b
>>> c
tensor(6., grad_fn=<MulBackward0>)
>>> c.backward()
>>> a.grad, b.grad
(tensor(3.), None)
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from gradlab import _dtype
from gradlab import autograd as _autograd
from gradlab._args import ALL, int_arg, type_name
from gradlab._formatting import format_tensor
from gradlab._warn import warn_once
from gradlab.autograd import events
from gradlab.autograd.graph import AccumulateGrad, Invalid, Node, RemovableHandle, add_hook

_NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
    "instead. See github.com/pytorch/pytorch/pull/30531 for more information."
)


_SCALAR_OF_GRAD_WARNING = (
    "Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
    "behavior.\nConsider using tensor.detach() first."
)
_T_NOT_2D_WARNING = (
    "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
    "deprecated and it will throw an error in a future release. Consider `x.mT` to transpose "
    "batches of matrices or `x.permute(*gradlab.arange(x.ndim - 1, -1, -1))` to reverse the "
    "dimensions of a tensor."
)
_T_OF_0D_WARNING = (
    "Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases."
)


class VersionCounter:
    """How many in-place changes a storage has seen; shared by a tensor, its views and
    ``detach()`` results, so a saved tensor notices a change made through any of them."""

    __slots__ = ("value", "views", "stale")

    def __init__(self) -> None:
        self.value = 0
        #: the live views of the storage (id -> weak reference), once there are any, and
        #: those changed in place while they did not require grad (see gradlab._ops.views)
        self.views: dict[int, weakref.ref] | None = None
        self.stale: set[int] | None = None


class Size(tuple):
    """A tensor's shape, printed as PyTorch prints ``torch.Size``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"gradlab.Size({list(self)})"

    def numel(self) -> int:
        return int(np.prod(self, dtype=np.int64))


class Tensor:
    """An n-dimensional array with autograd attributes (see the module docstring)."""

    __slots__ = (
        "_data",
        "_grad_fn",
        "_output_nr",
        "_requires_grad",
        "_grad",
        "_vc",
        "_accumulator",
        "_hooks",
        "_retains_grad",
        "_view_of",
        "__weakref__",
    )
    __array_ufunc__ = None  # numpy defers to our reflected operators
    __hash__ = object.__hash__

    def __init__(
        self,
        data: np.ndarray | np.generic,
        grad_fn: Node | None = None,
        output_nr: int = 0,
        requires_grad: bool = False,
    ) -> None:
        self._data = data
        self._grad_fn = grad_fn
        self._output_nr = output_nr
        self._requires_grad = requires_grad
        self._grad: Tensor | None = None
        self._vc: VersionCounter | None = None
        self._accumulator: weakref.ref | None = None
        self._hooks: dict[int, Callable] | None = None
        self._retains_grad = False
        # for a view: its root base, and how it was made (None, "no_grad" or the name of
        # the multi-output op); see gradlab._ops.views
        self._view_of: tuple[Tensor, str | None] | None = None

    # --- the attributes of the classic diagram ---------------------------------------

    @property
    def data(self) -> Tensor:
        """The values, as a tensor that shares storage but is cut off from the graph (and,
        unlike ``detach()``, whose in-place changes autograd does not see)."""
        return Tensor(self._storage())

    @data.setter
    def data(self, value: Tensor) -> None:
        if self.requires_grad and value._data.dtype.kind != "f":
            raise RuntimeError(
                "data set to a tensor that requires gradients must be floating point or "
                "complex dtype"
            )
        self._data = value._storage()

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by ``backward()`` (leaves, or after ``retain_grad()``)."""
        if self._grad_fn is not None and not self._retains_grad:
            warnings.warn(_NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    "assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(value).__name__}"
                )
            if value.shape != self.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor "
                    f"of size '{list(self.shape)}'. Please ensure that the gradient and the "
                    "tensor are the same size"
                )
            if value.dtype is not self.dtype:
                raise RuntimeError(
                    "attempting to assign a gradient with dtype "
                    f"'{_dtype.CPP_NAMES[value.dtype.name]}' to a tensor with grad_dtype "
                    f"'{_dtype.SCALAR_NAMES[self.dtype.name]}'. The gradient must match the "
                    "tensor's grad_dtype (defaults to the tensor's dtype)."
                )
        self._grad = value

    @property
    def grad_fn(self) -> Node | None:
        """The node that computes this tensor's gradient inputs (None for leaves)."""
        fn = self._grad_fn
        if type(fn) is Invalid:
            raise RuntimeError(fn.message)
        return fn

    @property
    def is_leaf(self) -> bool:
        """True for tensors not computed by a recorded op (their ``grad_fn`` is None)."""
        return self._grad_fn is None

    @property
    def requires_grad(self) -> bool:
        """Whether gradients flow to or through this tensor (a view follows its base)."""
        return (
            self._grad_fn is not None
            or self._requires_grad
            or (self._view_of is not None and self._view_of[0].requires_grad)
        )

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and self._grad_fn is not None:
            # unlike requires_grad_(True), the attribute refuses even a no-op on a non-leaf
            raise RuntimeError("you can only change requires_grad flags of leaf variables.")
        if value and self._grad_fn is None and self._data.dtype.kind != "f":
            # PyTorch's attribute setter words it differently from requires_grad_()
            raise RuntimeError(
                "only Tensors of floating point and complex dtype can require gradients"
            )
        self.requires_grad_(value)

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf after ``retain_grad()``."""
        return self._retains_grad

    @property
    def output_nr(self) -> int:
        """Which output of its ``grad_fn`` this tensor is (0, 1, 2 for ``unbind``)."""
        return self._output_nr

    @property
    def _base(self) -> Tensor | None:
        """For a view, the tensor whose storage it views (never itself a view); else None."""
        return None if self._view_of is None else self._view_of[0]

    def _is_view(self) -> bool:
        return self._view_of is not None

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's storage has seen."""
        return 0 if self._vc is None else self._vc.value

    # --- shape and type ------------------------------------------------------------

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    @property
    def dtype(self) -> _dtype.dtype:
        return _dtype.from_numpy(self._data.dtype)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def size(self, dim: int | None = None) -> Size | int:
        if dim is None:
            return self.shape
        dim, ndim = int_arg("size", "dim", dim), self._data.ndim
        if not ndim:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        if not -ndim <= dim < ndim:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], "
                f"but got {dim})"
            )
        return self._data.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # --- conversion ------------------------------------------------------------------

    def numpy(self) -> np.ndarray:
        """The values as a numpy array sharing storage (for tensors that require grad: only
        under ``no_grad``)."""
        if self.requires_grad and _autograd.is_grad_enabled():
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. "
                "Use tensor.detach().numpy() instead."
            )
        return self._storage()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def item(self) -> int | float | bool:
        """The single value as a Python number (int for integer dtypes, float for floats)."""
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
            )
        return self._data.reshape(()).item()

    def tolist(self) -> Any:
        """The values as (nested lists of) Python numbers."""
        return np.asarray(self._data).tolist()

    def _python_scalar(self) -> int | float | bool:
        """The single value, for ``float()`` and ``int()`` (PyTorch's ValueError if more)."""
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self._data.reshape(()).item()

    def __float__(self) -> float:
        if self.requires_grad:
            warn_once(_SCALAR_OF_GRAD_WARNING)
        return float(self._python_scalar())

    def __int__(self) -> int:
        return int(self._python_scalar())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            how_many = "more than one value" if self._data.size else "no values"
            raise RuntimeError(f"Boolean value of Tensor with {how_many} is ambiguous")
        return bool(self.item())

    def __repr__(self) -> str:
        if self._grad_fn is not None:
            suffixes = [f"grad_fn=<{type(self._grad_fn).__name__}>"]
        elif self._requires_grad:
            suffixes = ["requires_grad=True"]
        else:
            suffixes = []
        return format_tensor(np.asarray(self._data), suffixes)

    # --- autograd --------------------------------------------------------------------

    def backward(
        self,
        gradient: Tensor | None = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Sequence[Tensor] | None = None,
    ) -> None:
        """Compute the gradient of this tensor w.r.t. the graph's leaves into their ``.grad``.

        ``gradient`` is d(something)/d(self); it may be omitted for one-element tensors
        (1 is used). The graph's saved tensors are freed unless ``retain_graph=True``.
        """
        _autograd.backward([self], gradient, retain_graph, create_graph, inputs)

    def retain_grad(self) -> None:
        """Keep this non-leaf's gradient in ``.grad`` during backward (a hook does it)."""
        if self._grad_fn is None:
            if not self.requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self._retains_grad:
            return
        ref = weakref.ref(self)

        def retain_grad_hook(grad: Tensor) -> None:
            tensor = ref()
            if tensor is not None:
                data = np.array(grad._data, copy=True)
                if tensor._grad is None:
                    tensor._grad = Tensor(data)
                else:
                    tensor._grad = Tensor(tensor._grad._data + data)

        self._grad_fn._hooks_or_new().retains_grad[self._output_nr] = retain_grad_hook
        self._retains_grad = True
        if events.listeners:
            events.emit(events.TensorChanged("retain_grad", self))

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. ``handle.remove()`` unregisters it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._hooks is None:
            # one table, as PyTorch's ``_backward_hooks``: read by this tensor's grad_fn and
            # by its AccumulateGrad (which stays in the graph of a leaf moved inside it)
            self._hooks = {}
            if self._grad_fn is not None:
                tables = self._grad_fn._hooks_or_new().tensor_pre
                self._hooks = tables.setdefault(self._output_nr, self._hooks)
        handle = add_hook(self._hooks, hook)
        if events.listeners:
            events.emit(events.TensorChanged("register_hook", self, hook))
        return handle

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's storage and version counter, off the graph."""
        out = Tensor(self._storage())
        out._vc = self._version_counter()
        if events.listeners:
            events.emit(events.TensorChanged("detach", self, out))
        return out

    def detach_(self) -> Tensor:
        """Cut this tensor off the graph in place, making it a leaf."""
        self._grad_fn = None
        self._requires_grad = False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Start (or stop) recording ops on this leaf; returns the tensor."""
        if self._grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach()."
                )
            return self
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = bool(requires_grad)
        if requires_grad and self._vc is not None and self._vc.stale:
            from gradlab._ops.views import refresh_views

            refresh_views(self, only_stale=True)
        if events.listeners:
            events.emit(events.TensorChanged("requires_grad_", self))
        return self

    # --- internals shared with the ops -----------------------------------------------

    def _storage(self) -> np.ndarray:
        """The data as an ndarray that others may share (a 0-d result is held as a numpy
        scalar until something needs to share or change it)."""
        data = self._data
        if type(data) is not np.ndarray:
            data = self._data = np.asarray(data)
        return data

    def _version_counter(self) -> VersionCounter:
        if self._vc is None:
            self._vc = VersionCounter()
        return self._vc

    def _bump_version(self) -> None:
        self._version_counter().value += 1

    def _grad_accumulator(self) -> AccumulateGrad:
        """This leaf's ``AccumulateGrad`` node: one per leaf while a graph uses it."""
        node = None if self._accumulator is None else self._accumulator()
        if node is None:
            node = AccumulateGrad(self)
            self._accumulator = weakref.ref(node)
        return node

    # --- operators and methods (defined in gradlab._ops) ------------------------------

    def __add__(self, other: Any) -> Tensor:
        return _ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ops.add(self, other)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.rsub(self, other)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.mul(self, other)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.rdiv(self, other)

    def __pow__(self, exponent: Any) -> Tensor:
        return _ops.pow(self, exponent)

    def __rpow__(self, base: Any) -> Tensor:
        return _ops.rpow(self, base)

    def __matmul__(self, other: Tensor) -> Tensor:
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Tensor) -> Tensor:
        return _ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return _ops.neg(self)

    def __pos__(self) -> Tensor:
        if self._data.dtype.kind == "b":
            raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
        return self

    def __abs__(self) -> Tensor:
        return _ops.abs(self)

    def __iadd__(self, other: Any) -> Tensor:
        return _ops.add_(self, other)

    def __isub__(self, other: Any) -> Tensor:
        return _ops.sub_(self, other)

    def __imul__(self, other: Any) -> Tensor:
        return _ops.mul_(self, other)

    def __itruediv__(self, other: Any) -> Tensor:
        return _ops.div_(self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _ops.compare(self, other, np.equal)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _ops.compare(self, other, np.not_equal)

    def __lt__(self, other: Any) -> Tensor:
        return _ops.compare(self, other, np.less)

    def __le__(self, other: Any) -> Tensor:
        return _ops.compare(self, other, np.less_equal)

    def __gt__(self, other: Any) -> Tensor:
        return _ops.compare(self, other, np.greater)

    def __ge__(self, other: Any) -> Tensor:
        return _ops.compare(self, other, np.greater_equal)

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        _ops.setitem(self, index, value)

    def __iter__(self) -> Iterator[Tensor]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def add(self, other: Any, alpha: float = 1) -> Tensor:
        return method_result("add", _ops.add(self, other, alpha), other)

    def sub(self, other: Any, alpha: float = 1) -> Tensor:
        return method_result("sub", _ops.sub(self, other, alpha), other)

    def mul(self, other: Any) -> Tensor:
        return method_result("mul", _ops.mul(self, other), other)

    def div(self, other: Any) -> Tensor:
        return method_result("div", _ops.div(self, other), other)

    def pow(self, exponent: Any) -> Tensor:
        return method_result("pow", _ops.pow(self, exponent), exponent)

    def matmul(self, other: Tensor) -> Tensor:
        return method_result("matmul", _ops.matmul(self, other), other)

    def neg(self) -> Tensor:
        return _ops.neg(self)

    def reciprocal(self) -> Tensor:
        return _ops.reciprocal(self)

    def exp(self) -> Tensor:
        return _ops.exp(self)

    def log(self) -> Tensor:
        return _ops.log(self)

    def tanh(self) -> Tensor:
        return _ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return _ops.sigmoid(self)

    def relu(self) -> Tensor:
        return _ops.relu(self)

    def abs(self) -> Tensor:
        return _ops.abs(self)

    def sqrt(self) -> Tensor:
        return _ops.sqrt(self)

    def clone(self) -> Tensor:
        return _ops.clone(self)

    def sum(self, dim: int | Sequence[int] | None = ALL, keepdim: bool = False) -> Tensor:
        return _ops.sum(self, dim, keepdim)

    def mean(self, dim: int | Sequence[int] | None = ALL, keepdim: bool = False) -> Tensor:
        return _ops.mean(self, dim, keepdim)

    def reshape(self, *shape: Any) -> Tensor:
        return _ops.reshape(self, shape, "reshape")

    def view(self, *shape: Any) -> Tensor:
        return _ops.reshape(self, shape, "view")

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return _ops.transpose(self, dim0, dim1)

    def permute(self, *dims: Any) -> Tensor:
        return _ops.permute(self, dims)

    @property
    def T(self) -> Tensor:  # noqa: N802  (PyTorch's name)
        ndim = self._data.ndim
        if ndim != 2:
            warn_once(_T_OF_0D_WARNING if ndim == 0 else _T_NOT_2D_WARNING)
        return _ops.permute(self, (tuple(reversed(range(ndim))),))

    def t(self) -> Tensor:
        return _ops.t(self)

    def unsqueeze(self, dim: int) -> Tensor:
        return _ops.unsqueeze(self, dim)

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        """Split along ``dim`` into views, one per index (the opposite of ``stack``)."""
        return _ops.unbind(self, dim)

    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        return method_result("add_", _ops.add_(self, other, alpha), other)

    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        return method_result("sub_", _ops.sub_(self, other, alpha), other)

    def mul_(self, other: Any) -> Tensor:
        return method_result("mul_", _ops.mul_(self, other), other)

    def div_(self, other: Any) -> Tensor:
        return method_result("div_", _ops.div_(self, other), other)

    def zero_(self) -> Tensor:
        return _ops.zero_(self)

    def fill_(self, value: Any) -> Tensor:
        return _ops.fill_(self, value)


def method_result(name: str, result: Any, other: Any, position: int = 1) -> Any:
    """The result of a method (or function) form of an operator: where the operator gives
    ``NotImplemented`` (so that Python may try the other operand), the method raises
    PyTorch's ``TypeError``."""
    if result is not NotImplemented:
        return result
    if name == "pow":
        got = f"Tensor, {type_name(other)}" if position == 2 else type_name(other)
        raise TypeError(
            f"pow() received an invalid combination of arguments - got ({got}), but expected "
            "one of: (Tensor exponent), (Number exponent)"
        )
    raise TypeError(
        f"{name}(): argument 'other' (position {position}) must be Tensor, not {type_name(other)}"
    )


def as_array(x: Any) -> np.ndarray:
    """The numpy data of a tensor, or ``np.asarray`` of anything else."""
    return x._data if isinstance(x, Tensor) else np.asarray(x)


from gradlab import _ops  # noqa: E402  (the ops need Tensor defined first)
