"""Arithmetic: ``+ - * / **``, negation and ``@``, each op's backward beside its forward.

Names, ``next_functions`` and saved values follow PyTorch: ``a * 2`` records
``MulBackward0`` with a ``(None, 0)`` edge for the 2; ``2 - a`` records ``RsubBackward1``;
``2 / a`` is ``MulBackward0`` over ``ReciprocalBackward0``.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from gradlab import _dtype
from gradlab._ops._common import (
    NO_EDGE,
    BinaryNode,
    Node,
    Tensor,
    announce,
    compute,
    make_binary_node,
    make_node,
    mixed_with_torch,
    operands,
    quiet,
    run_op,
    scalar,
)
from gradlab._ops.pointwise import ReciprocalBackward0, unary
from gradlab.autograd import events
from gradlab.autograd.saved import SavedTensor, saved_attribute, unpack


def save(x: Any) -> Any:
    """What a node keeps of an input: a version-checked tensor, or the Python number."""
    return x if type(x) is not Tensor else SavedTensor(x)


def _wants(node: Node, i: int) -> bool:
    return node.next_functions[i] is not NO_EDGE


def _unsaved(data: Any, cls: type[BinaryNode], a: Tensor, b: Any) -> tuple[Any, Node | None]:
    """The node of an op whose backward needs no saved values (add, sub)."""
    if data is NotImplemented:
        return data, None
    node = make_binary_node(cls, a, b)
    if node is not None:
        node.remember_inputs(data, a, b)
    return data, node


def _like(grad: Any, x: Any) -> Any:
    """A saved operand in the gradient's dtype: PyTorch evaluates a backward formula in the
    output's dtype (a float64 0-d tensor does not make a float32 gradient float64)."""
    dt = getattr(x, "dtype", None)
    return x if dt is None or dt == grad.dtype else x.astype(grad.dtype)


# --- add and subtract --------------------------------------------------------------------


class AddBackward0(BinaryNode):
    """out = self + other  →  both inputs receive ``grad`` unchanged. Saves nothing."""

    derivatives = ("{grad}", "{grad}")

    __slots__ = ()
    _saved_alpha = 1

    def apply(self, grad: Any) -> tuple[Any, Any]:
        # the engine skips the side that needs no gradient
        return (grad, grad) if self._fit is None else self.fit(grad, grad)


def _scaled_by(cls: type[BinaryNode]) -> type[BinaryNode]:
    """``cls`` for ``add``/``sub`` with ``alpha`` != 1: the same node name, saving
    ``alpha`` and scaling the gradient of ``other`` by it (out = self ± alpha * other)."""

    class Scaled(cls):
        __slots__ = ("_saved_alpha",)

        def apply(self, grad: Any) -> tuple[Any, Any]:
            grad_self, grad_other = cls.apply(self, grad)
            return grad_self, None if grad_other is None else grad_other * self._saved_alpha

    Scaled.__name__ = Scaled.__qualname__ = cls.__name__
    return Scaled


def _with_alpha(
    op: Any, cls: type[BinaryNode], a: Tensor, b: Any, alpha: Any
) -> tuple[Any, Node | None]:
    """``a op alpha * b`` with the node of ``cls`` that saves ``alpha`` (alpha != 1)."""
    if scalar(alpha) is None:
        raise TypeError(f"alpha must be a number, not {type(alpha).__name__}")
    data, node = _unsaved(compute(lambda x, y: op(x, y * alpha), a, b), _SCALED[cls], a, b)
    if node is not None:
        node._saved_alpha = alpha
    return data, node


def add_data(a: Tensor, b: Any, alpha: Any = 1) -> tuple[Any, Node | None]:
    if alpha == 1:
        return _unsaved(compute(operator.add, a, b), AddBackward0, a, b)
    return _with_alpha(operator.add, AddBackward0, a, b, alpha)


def add(a: Tensor, b: Any, alpha: Any = 1) -> Tensor:
    """``a + alpha * b`` (also ``b + a`` for a Python number ``b``)."""
    data, node = add_data(a, b, alpha)
    if data is NotImplemented:
        return data
    out = Tensor(data, node)
    return announce("add", out, node, a, b) if events.listeners else out


class SubBackward0(BinaryNode):
    """out = self - other  →  ``grad`` for self, ``-grad`` for other. Saves nothing."""

    derivatives = ("{grad}", "-{grad}")

    __slots__ = ()
    _saved_alpha = 1

    def apply(self, grad: Any) -> tuple[Any, Any]:
        return self.fit(grad, -grad if _wants(self, 1) else None)


def _is_bool(x: Any) -> bool:
    return type(x) is bool or type(x) is Tensor and x._data.dtype.kind == "b"


def _bool_subtraction(a: Any, b: Any) -> RuntimeError:
    """PyTorch's refusal of ``a - b`` when either side is a bool tensor or a bool."""
    if _is_bool(a) and _is_bool(b):
        return RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. "
            "Use the `^` or `logical_xor()` operator instead."
        )
    return RuntimeError(
        "Subtraction, the `-` operator, with a bool tensor is not supported. "
        "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
    )


_SCALED = {cls: _scaled_by(cls) for cls in (AddBackward0, SubBackward0)}


def sub_data(a: Tensor, b: Any, alpha: Any = 1) -> tuple[Any, Node | None]:
    if a._data.dtype.kind == "b" or type(b) is bool or type(b) is Tensor and _is_bool(b):
        raise _bool_subtraction(a, b)
    if alpha == 1:
        return _unsaved(compute(operator.sub, a, b), SubBackward0, a, b)
    return _with_alpha(operator.sub, SubBackward0, a, b, alpha)


def sub(a: Tensor, b: Any, alpha: Any = 1) -> Tensor:
    """``a - alpha * b``."""
    data, node = sub_data(a, b, alpha)
    if data is NotImplemented:
        return data
    out = Tensor(data, node)
    return announce("sub", out, node, a, b) if events.listeners else out


class RsubBackward1(Node):
    """out = number - self  →  ``-grad`` for self (the number is no input)."""

    derivatives = ("-{grad}",)

    __slots__ = ()
    _saved_alpha = 1

    def apply(self, grad: Any) -> tuple[Any]:
        return (-grad,)


def rsub(a: Tensor, number: Any) -> Tensor:
    """``number - a``."""
    if a._data.dtype.kind == "b" or type(number) is bool:
        raise _bool_subtraction(number, a)
    pair = operands(a, number)
    if pair is None:
        return NotImplemented
    data = run_op(operator.sub, pair[1], pair[0])
    return unary("rsub", RsubBackward1, data, a, inputs=(number, a))


# --- multiply and divide -----------------------------------------------------------------


class MulBackward0(BinaryNode):
    """out = self * other  →  ``grad * other`` for self, ``grad * self`` for other.

    Each side is saved only when the *other* side needs a gradient."""

    derivatives = ("{grad} × {other}", "{grad} × {self}")

    __slots__ = ("_self", "_other")
    _saved = ("_self", "_other")
    _saved_self = saved_attribute("_self")
    _saved_other = saved_attribute("_other")

    def apply(self, grad: Any) -> tuple[Any, Any]:
        other, this = self._other, self._self
        grad_self = grad_other = None
        if other is not None:  # a saved Python number needs no unpacking (the hot path)
            kind = type(other)
            grad_self = grad * (other if kind is float or kind is int else _saved_as(grad, other))
        if this is not None:
            grad_other = grad * _saved_as(grad, this)
        return (grad_self, grad_other) if self._fit is None else self.fit(grad_self, grad_other)


def _saved_as(grad: Any, saved: Any) -> Any:
    """A saved value, unpacked and in the gradient's dtype."""
    return _like(grad, unpack(saved))


def mul_data(a: Tensor, b: Any) -> tuple[Any, Node | None]:
    data = compute(operator.mul, a, b)
    if data is NotImplemented:
        return data, None
    node = make_binary_node(MulBackward0, a, b)
    if node is not None:
        edge_a, edge_b = node.next_functions
        node._other = None if edge_a is NO_EDGE else save(b)
        node._self = None if edge_b is NO_EDGE else SavedTensor(a)
        node.remember_inputs(data, a, b)
    return data, node


def mul(a: Tensor, b: Any) -> Tensor:
    """``a * b`` (also ``b * a`` for a Python number ``b``)."""
    data, node = mul_data(a, b)
    if data is NotImplemented:
        return data
    out = Tensor(data, node)
    return announce("mul", out, node, a, b) if events.listeners else out


class DivBackward0(BinaryNode):
    """out = self / other  →  ``grad / other`` for self, ``-grad * self / other²`` for other."""

    derivatives = ("{grad} / {other}", "-{grad} × {self} / {other}²")

    __slots__ = ("_self", "_other")
    _saved = ("_self", "_other")
    _saved_self = saved_attribute("_self")
    _saved_other = saved_attribute("_other")

    def apply(self, grad: Any) -> tuple[Any, Any]:
        other = _like(grad, unpack(self._other))
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.fit(
                grad / other if _wants(self, 0) else None,
                -grad * _like(grad, unpack(self._self)) / (other * other)
                if self._self is not None
                else None,
            )


def _true_divide(x: Any, y: Any) -> Any:
    out = np.true_divide(x, y)  # called quietly
    # integers divide into the default float dtype, as in PyTorch
    return out.astype(np.float32) if np.result_type(x, y).kind in "iub" else out


def div_data(a: Tensor, b: Any) -> tuple[Any, Node | None]:
    data = compute(_true_divide, a, b)
    if data is NotImplemented:
        return data, None
    node = make_binary_node(DivBackward0, a, b)
    if node is not None:
        node._other = save(b)
        node._self = None if node.next_functions[1] is NO_EDGE else SavedTensor(a)
        node.remember_inputs(data, a, b)
    return data, node


def div(a: Tensor, b: Any) -> Tensor:
    """``a / b`` (true division: integers give floats)."""
    data, node = div_data(a, b)
    if data is NotImplemented:
        return data
    out = Tensor(data, node)
    return announce("div", out, node, a, b) if events.listeners else out


def reciprocal(a: Tensor) -> Tensor:
    """``1 / a``."""
    return unary("reciprocal", ReciprocalBackward0, quiet.run(_true_divide, 1, a._data), a)


def rdiv(a: Tensor, number: Any) -> Tensor:
    """``number / a``: PyTorch computes it as ``a.reciprocal() * number``."""
    if scalar(number) is None:
        return NotImplemented
    return mul(reciprocal(a), number)


# --- powers ------------------------------------------------------------------------------


class PowBackward0(Node):
    """out = self ** exponent (a number)  →  ``grad * exponent * self ** (exponent - 1)``."""

    derivatives = ("{grad} × {exponent} × {self}^({exponent} - 1)",)

    __slots__ = ("_self", "_exponent")
    _saved = ("_self",)
    _saved_self = saved_attribute("_self")
    _saved_exponent = saved_attribute("_exponent", as_tensor=False)

    def apply(self, grad: Any) -> tuple[Any]:
        p = self._exponent
        if p == 0:
            return (np.zeros_like(grad),)  # zeros, never -0 (grad * 0)
        return (grad * p * unpack(self._self) ** (p - 1),)


class PowBackward1(BinaryNode):
    """out = self ** exponent (a tensor)  →  ``grad * exponent * self ** (exponent - 1)``
    for self, ``grad * out * log(self)`` for the exponent."""

    derivatives = (
        "{grad} × {exponent} × {self}^({exponent} - 1)",
        "{grad} × {result} × log({self})",
    )

    __slots__ = ("_self", "_exponent", "_result")
    _saved = ("_self", "_exponent", "_result")
    _saved_self = saved_attribute("_self")
    _saved_exponent = saved_attribute("_exponent")
    _saved_result = saved_attribute("_result")

    def apply(self, grad: Any) -> tuple[Any, Any]:
        # PyTorch unpacks (and version-checks) every saved tensor, needed or not
        base, p = _like(grad, unpack(self._self)), _like(grad, unpack(self._exponent))
        result = unpack(self._result)  # (the engine runs backward with numpy's warnings off)
        grad_base = grad_p = None
        if _wants(self, 0):  # PyTorch: 0 where the exponent is 0 (never 0 * inf)
            grad_base = np.where(p == 0, _zero(grad), grad * (p * base ** (p - 1)))
        if _wants(self, 1):  # ... and where the base is 0 and the exponent >= 0
            grad_p = grad * np.where((base == 0) & (p >= 0), _zero(grad), result * np.log(base))
        return self.fit(grad_base, grad_p)


class PowBackward2(Node):
    """out = number ** exponent (a tensor)  →  ``grad * out * log(number)``."""

    derivatives = ("{grad} × {result} × log({self})",)

    __slots__ = ("_self", "_exponent", "_result")
    _saved = ("_exponent", "_result")
    _saved_self = saved_attribute("_self", as_tensor=False)
    _saved_exponent = saved_attribute("_exponent")
    _saved_result = saved_attribute("_result")

    def apply(self, grad: Any) -> tuple[Any]:
        result = unpack(self._result)  # (the engine runs backward with numpy's warnings off)
        if self._self == 0:  # PyTorch: 0 where the exponent is >= 0 (never 0 * -inf)
            exponent = unpack(self._exponent)
            return (grad * np.where(exponent >= 0, _zero(grad), result * -np.inf),)
        return (grad * (result * _like(result, np.log(self._self))),)


def _zero(grad: Any) -> Any:
    return np.zeros((), getattr(grad, "dtype", None))


def _power(x: Any, p: Any) -> Any:
    """``x ** p`` on operands already in PyTorch's result dtype (called quietly)."""
    if type(p) is bool:
        if getattr(x, "dtype", None) == np.bool_:  # bools ** True: the bools, as in PyTorch
            return np.array(x, copy=True) if p else np.ones(np.shape(x), np.bool_)
        p = int(p)
    if type(p) is int and p >= 0:
        try:
            return np.power(x, p)
        except OverflowError:  # uint8 ** 1000: the exponent does not fit the tensor's dtype
            raise RuntimeError(
                f"value cannot be converted to type {x.dtype.name}_t without overflow"
            ) from None
    if not (_integral(x) and _integral(p)):
        return np.power(x, p)
    return _integer_power(x, p)


def _integral(v: Any) -> bool:
    dtype = getattr(v, "dtype", None)
    return type(v) is int or type(v) is bool if dtype is None else dtype.kind in "iub"


def _integer_power(x: Any, p: Any) -> Any:
    """PyTorch's integer power: a negative number exponent is an error; elementwise, a
    negative exponent gives 1 for a base of 1, ±1 for -1, and 0 for any other base."""
    if np.result_type(x, p) == np.bool_:
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    if type(p) is int:  # p < 0
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    negative = np.less(p, 0)
    out = np.power(x, np.where(negative, 0, p))
    if negative.any():
        odd = np.where(np.remainder(p, 2) == 1, -1, 1)
        small = np.where(np.equal(x, 1), 1, np.where(np.equal(x, -1), odd, 0))
        out = np.where(negative, small, out).astype(out.dtype, copy=False)
    return out


def pow(a: Tensor, exponent: Any) -> Tensor:  # noqa: A001  (PyTorch's name)
    """``a ** exponent`` for a number or tensor exponent."""
    data = compute(_power, a, exponent)
    if data is NotImplemented:
        return data
    if type(exponent) is not Tensor:
        node = make_node(PowBackward0, a)
        if node is not None:
            node._self, node._exponent = SavedTensor(a), scalar(exponent)
        return announce("pow", Tensor(data, node), node, a, exponent)
    node = make_node(PowBackward1, a, exponent)
    out = Tensor(data, node)
    if node is not None:
        node._self, node._exponent = SavedTensor(a), SavedTensor(exponent)
        node._result = SavedTensor(out, output_of="PowBackward1")
        node.remember_inputs(data, a, exponent)
    return announce("pow", out, node, a, exponent)


def rpow(a: Tensor, base: Any) -> Tensor:
    """``base ** a`` for a Python number ``base``."""
    pair = operands(a, base)
    if pair is None:
        return NotImplemented
    data = run_op(_power, pair[1], pair[0])
    node = make_node(PowBackward2, a)
    out = Tensor(data, node)
    if node is not None:
        node._self, node._exponent = scalar(base), SavedTensor(a)
        node._result = SavedTensor(out, output_of="PowBackward2")
    return announce("pow", out, node, base, a)


# --- matrix products ---------------------------------------------------------------------


class MmBackward0(BinaryNode):
    """out = self @ mat2  →  ``grad @ mat2ᵀ`` for self, ``selfᵀ @ grad`` for mat2."""

    derivatives = ("{grad} @ {mat2}ᵀ", "{self}ᵀ @ {grad}")

    __slots__ = (
        "_self",
        "_mat2",
        "_saved_self_sym_sizes",
        "_saved_mat2_sym_sizes",
        "_layouts",
    )
    _saved = ("_self", "_mat2")
    _saved_self = saved_attribute("_self")
    _saved_mat2 = saved_attribute("_mat2")

    @property
    def _saved_self_sym_strides(self) -> tuple[int, ...]:
        return _element_strides(self._layouts[0])

    @property
    def _saved_mat2_sym_strides(self) -> tuple[int, ...]:
        return _element_strides(self._layouts[1])

    def apply(self, grad: Any) -> tuple[Any, Any]:
        return (
            None if self._mat2 is None else grad @ unpack(self._mat2).T,
            None if self._self is None else unpack(self._self).T @ grad,
        )


class MvBackward0(BinaryNode):
    """out = self @ vec  →  ``outer(grad, vec)`` for self, ``selfᵀ @ grad`` for vec."""

    derivatives = ("outer({grad}, {vec})", "{self}ᵀ @ {grad}")

    __slots__ = ("_self", "_vec")
    _saved = ("_self", "_vec")
    _saved_self = saved_attribute("_self")
    _saved_vec = saved_attribute("_vec")

    def apply(self, grad: Any) -> tuple[Any, Any]:
        return (
            None if self._vec is None else np.outer(grad, unpack(self._vec)),
            None if self._self is None else unpack(self._self).T @ grad,
        )


class DotBackward0(BinaryNode):
    """out = self · tensor  →  ``grad * tensor`` for self, ``grad * self`` for tensor."""

    derivatives = ("{grad} × {tensor}", "{grad} × {self}")

    __slots__ = ("_self", "_tensor")
    _saved = ("_self", "_tensor")
    _saved_self = saved_attribute("_self")
    _saved_tensor = saved_attribute("_tensor")

    def apply(self, grad: Any) -> tuple[Any, Any]:
        return (
            None if self._tensor is None else grad * unpack(self._tensor),
            None if self._self is None else grad * unpack(self._self),
        )


_MATMUL = {
    (2, 2): (MmBackward0, "_mat2"),
    (2, 1): (MvBackward0, "_vec"),
    (1, 1): (DotBackward0, "_tensor"),
}


def _element_strides(layout: tuple[tuple[int, ...], int] | None) -> tuple[int, ...]:
    """Strides in elements, as ``Tensor.stride()`` gives them in PyTorch, from numpy's byte
    strides and item size (kept as they were at save time; () when not saved)."""
    if layout is None:
        return ()
    strides, itemsize = layout
    return tuple(n // itemsize for n in strides)


def _matmul_error(a: Tensor, b: Tensor) -> Exception:
    """PyTorch's error for a product of these shapes and dtypes, checked in its order."""
    sa, sb = a.shape, b.shape
    da, db = _dtype.SCALAR_NAMES[a.dtype.name], _dtype.SCALAR_NAMES[b.dtype.name]
    if a.ndim == 1:  # and b too: a 1-d @ 2-d product is a (1, n) @ 2-d one
        if da != db:
            return RuntimeError(
                f"dot : expected both vectors to have same dtype, but found {da} and {db}"
            )
        if sa[0] != sb[0]:
            return RuntimeError(
                f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to "
                f"have the same number of elements, but got {sa[0]} and {sb[0]} elements "
                "respectively"
            )
        return NotImplementedError("\"dot\" not implemented for 'Bool'")
    if sa[1] != sb[0]:
        if b.ndim == 1:
            return RuntimeError(
                f"size mismatch, got input ({sa[0]}), mat ({sa[0]}x{sa[1]}), vec ({sb[0]})"
            )
        return RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied "
            f"({'x'.join(map(str, sa))} and {'x'.join(map(str, sb))})"
        )
    if da != db:
        if b.ndim == 1:
            return RuntimeError(
                f"addmv input tensors must have the same dtype, but got {db}, {da}, and {db}"
            )
        names = _dtype.CPP_NAMES
        return RuntimeError(
            "expected m1 and m2 to have the same dtype, but got: "
            f"{names[a.dtype.name]} != {names[b.dtype.name]}"
        )
    kernel = "addmv_impl_cpu" if b.ndim == 1 else "addmm_impl_cpu_"
    return NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` for 1-d and 2-d tensors (dot, matrix-vector, matrix-matrix)."""
    if type(b) is not Tensor or type(a) is not Tensor:
        error = mixed_with_torch(b) or mixed_with_torch(a)
        if error is not None:
            raise error
        return NotImplemented
    ad, bd = a._data, b._data
    if ad.ndim == 1 and bd.ndim == 2:  # PyTorch: unsqueeze, mm, squeeze
        return squeeze0(matmul(unsqueeze(a, 0), b))
    kind = _MATMUL.get((ad.ndim, bd.ndim))
    if kind is None:
        if not (ad.ndim and bd.ndim):
            raise RuntimeError(
                "both arguments to matmul need to be at least 1D, but they are "
                f"{ad.ndim}D and {bd.ndim}D"
            )
        raise RuntimeError(
            f"gradlab's matmul takes 1-d and 2-d tensors; got {ad.ndim}-d and {bd.ndim}-d"
        )
    if ad.dtype != bd.dtype or ad.dtype.kind == "b" or ad.shape[-1] != bd.shape[0]:
        raise _matmul_error(a, b)
    data = quiet.run(operator.matmul, ad, bd)
    cls, other_slot = kind
    node = make_binary_node(cls, a, b)
    if node is not None:
        edge_a, edge_b = node.next_functions
        setattr(node, other_slot, None if edge_a is NO_EDGE else SavedTensor(b))
        node._self = None if edge_b is NO_EDGE else SavedTensor(a)
        if cls is MmBackward0:  # sizes always, strides of the inputs that need a gradient
            node._saved_self_sym_sizes, node._saved_mat2_sym_sizes = ad.shape, bd.shape
            node._layouts = (  # PyTorch saves the strides of the inputs that need a gradient
                None if edge_a is NO_EDGE else (ad.strides, ad.itemsize),
                None if edge_b is NO_EDGE else (bd.strides, bd.itemsize),
            )
    out = Tensor(data, node)
    return announce("matmul", out, node, a, b) if events.listeners else out


from gradlab._ops.shape import squeeze0, unsqueeze  # noqa: E402  (shape ops use arithmetic)
