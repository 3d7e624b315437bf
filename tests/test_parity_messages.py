"""Errors and warnings a learner meets, as torch 2.13 gives them: the same exception type
and words (up to torch's "Hint" or "(Triggered internally ...)"), the same warnings, and no
numpy warning leaking through. Each program is written once for ``L`` in (gradlab, torch)
and reduced to plain data by :func:`tests.outcome.outcome`; torch's side comes from the
``oracle`` fixture (live, or recorded in tests/torch_expected/).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import gradlab
from tests.outcome import outcome


def leaf(L, data=(1.0, 2.0, 3.0), **kw):
    return L.tensor(list(data), requires_grad=True, **kw)


def _set_grad(value):
    def program(L):
        a = leaf(L)
        a.grad = value

    return program


def _numpy_under_no_grad(make):
    def program(L):
        t = make(L)
        with L.no_grad():
            return t.numpy()

    return program


def _inplace_method(method, *args):
    def program(L):
        return getattr(L.ones(3), method)(*args)

    return program


CONVERSIONS = [
    ("float_of_many", lambda L: float(L.ones(2))),
    ("int_of_many", lambda L: int(L.ones(2))),
    ("float_of_empty", lambda L: float(L.ones(0))),
    ("item_of_many", lambda L: L.ones(2).item()),
    ("bool_of_empty", lambda L: bool(L.tensor([]))),
    ("bool_of_empty_2d", lambda L: bool(L.ones(0, 3))),
    ("bool_of_many", lambda L: bool(L.ones(2))),
    ("float_of_requires_grad", lambda L: float(L.tensor(1.5, requires_grad=True))),
    ("float_of_requires_grad_non_leaf", lambda L: float(leaf(L, [2.0]) * 2)),
    ("int_of_requires_grad", lambda L: int(L.tensor(1.5, requires_grad=True))),
    ("item_of_requires_grad", lambda L: L.tensor(1.5, requires_grad=True).item()),
    ("numpy_under_no_grad", _numpy_under_no_grad(leaf)),
    ("numpy_under_no_grad_non_leaf", _numpy_under_no_grad(lambda L: leaf(L) * 2)),
    ("numpy_requires_grad", lambda L: leaf(L).numpy()),
]

ATTRIBUTES = [
    ("size_out_of_range", lambda L: L.ones(2, 3).size(5)),
    ("size_negative_out_of_range", lambda L: L.ones(2, 3).size(-3)),
    ("size_negative", lambda L: L.ones(2, 3).size(-1)),
    ("size_of_0d", lambda L: L.tensor(1.0).size(0)),
    ("size_float", lambda L: L.ones(2, 3).size(1.5)),
    ("size_bool", lambda L: L.ones(2, 3).size(True)),
    ("size_numpy_int", lambda L: L.ones(2, 3).size(np.int64(1))),
    ("grad_set_to_int", _set_grad(5)),
    ("grad_set_to_list", _set_grad([1.0, 2.0, 3.0])),
    ("T_of_1d", lambda L: L.ones(3).T),
    ("T_of_3d", lambda L: L.ones(2, 3, 4).T),
    ("T_of_0d", lambda L: L.tensor(1.0).T),
    ("T_of_2d", lambda L: L.ones(2, 3).T),
]

CREATION = [
    ("tensor_of_None", lambda L: L.tensor(None)),
    ("tensor_of_dict", lambda L: L.tensor({})),
    ("tensor_of_set", lambda L: L.tensor({1, 2})),
    ("tensor_of_object", lambda L: L.tensor([object()])),
    ("tensor_with_None", lambda L: L.tensor([1.0, None])),
    ("tensor_of_str", lambda L: L.tensor("ab")),
    ("tensor_of_str_list", lambda L: L.tensor(["a", 1])),
    ("tensor_with_str", lambda L: L.tensor([1, "a"])),
    ("tensor_ragged", lambda L: L.tensor([[1, 2], [3]])),
    ("tensor_ragged_deep", lambda L: L.tensor([[[1], [2]], [[3], [4, 5]]])),
    ("tensor_of_tensors", lambda L: L.tensor([L.tensor([1, 2]), L.tensor([3, 4])])),
    ("tensor_of_many_element_float", lambda L: L.tensor([L.ones(2, requires_grad=True)])),
    ("tensor_of_tensor", lambda L: L.tensor(L.ones(2))),
    ("tensor_of_arrays", lambda L: L.tensor([np.ones(2), np.zeros(2)])),
    ("tensor_int8_overflow", lambda L: L.tensor(300, dtype=L.int8)),
    ("tensor_uint8_overflow", lambda L: L.tensor([256], dtype=L.uint8)),
    ("tensor_uint8_wraps", lambda L: L.tensor([-255, -1], dtype=L.uint8)),
    ("tensor_int32_overflow", lambda L: L.tensor([2**40], dtype=L.int32)),
    ("tensor_inf_to_int", lambda L: L.tensor(float("inf"), dtype=L.int64)),
    ("tensor_nan_to_int", lambda L: L.tensor([float("nan")], dtype=L.int64)),
    ("tensor_float_to_uint8", lambda L: L.tensor([-1.5], dtype=L.uint8)),
    ("tensor_float_overflow_is_inf", lambda L: L.tensor([1e300, 1e10])),
    ("zeros_float", lambda L: L.zeros(2.5)),
    ("zeros_str", lambda L: L.zeros("3")),
    ("zeros_None", lambda L: L.zeros(None)),
    ("zeros_bool", lambda L: L.zeros(True)),
    ("zeros_float_tensor", lambda L: L.zeros(L.tensor(2.0))),
    ("zeros_int_tensor", lambda L: L.zeros(L.tensor(2))),
    ("zeros_numpy_int", lambda L: L.zeros(2, np.int64(3))),
    ("zeros_second_float", lambda L: L.zeros(2, 2.5)),
    ("zeros_list_of_float", lambda L: L.zeros([2.5])),
    ("zeros_tuple_second_float", lambda L: L.zeros((2, 2.5))),
    ("zeros_two_tuples", lambda L: L.zeros((2,), (3,))),
    ("zeros_no_size", lambda L: L.zeros()),
    ("zeros_empty_tuple", lambda L: L.zeros(())),
    ("zeros_negative", lambda L: L.zeros(2, -3)),
    ("ones_float", lambda L: L.ones(2.5)),
    ("ones_negative", lambda L: L.ones(2, -3)),
    ("rand_second_float", lambda L: L.rand(2, 2.5)),
    ("randn_negative", lambda L: L.randn(-1)),
    ("full_int_size", lambda L: L.full(2, 1.5)),
    ("full_None", lambda L: L.full((2,), None)),
    ("full_negative", lambda L: L.full([-1], 1.0)),
    ("arange_zero_step", lambda L: L.arange(0, 1, 0)),
    ("arange_zero_float_step", lambda L: L.arange(0.0, 1.0, 0.0)),
    ("arange_wrong_sign", lambda L: L.arange(0, 1, -1)),
    ("arange_backwards", lambda L: L.arange(1, 0)),
    ("arange_inf", lambda L: L.arange(float("inf"))),
    ("arange_str", lambda L: L.arange("a")),
    ("arange_down", lambda L: L.arange(5, 0, -2)),
    ("tensor_dtype_str", lambda L: L.tensor([1.0], dtype="float32")),
    ("tensor_dtype_numpy_type", lambda L: L.tensor([1.0], dtype=np.float32)),
    ("tensor_dtype_python_float", lambda L: L.tensor([1.0], dtype=float)),
    ("zeros_dtype_str", lambda L: L.zeros(2, dtype="float32")),
    ("zeros_dtype_numpy_dtype", lambda L: L.zeros(2, dtype=np.dtype("float32"))),
    ("ones_dtype_numpy_type", lambda L: L.ones(2, dtype=np.float64)),
    ("ones_dtype_python_int", lambda L: L.ones(2, dtype=int)),
    ("full_dtype_str", lambda L: L.full((2,), 1.0, dtype="x")),
    ("zeros_like_dtype_str", lambda L: L.zeros_like(L.ones(2), dtype="float32")),
    ("linspace_negative_steps", lambda L: L.linspace(0, 1, -1)),
    ("linspace_float_steps", lambda L: L.linspace(0, 1, 2.5)),
]


def _product(sa, da, sb, db):
    def program(L):
        return L.ones(*sa, dtype=getattr(L, da)) @ L.ones(*sb, dtype=getattr(L, db))

    return program


PRODUCTS = [
    (
        f"{'x'.join(map(str, sa)) or '0d'}_{da}_at_{'x'.join(map(str, sb)) or '0d'}_{db}",
        _product(sa, da, sb, db),
    )
    for sa, sb in [
        ((2,), (2,)),
        ((2,), (3,)),
        ((2, 2), (2,)),
        ((2, 2), (3,)),
        ((2,), (2, 3)),
        ((3,), (2, 3)),
        ((2, 2), (2, 3)),
        ((2, 2), (3, 3)),
        ((), (2,)),
        ((2,), ()),
    ]
    for da, db in [("float32", "float64"), ("int64", "float32"), ("bool", "bool")]
]


def _setitem(index, value, dtype="float32"):
    def program(L):
        y = L.zeros(2, 3, dtype=getattr(L, dtype))
        y[index] = value(L) if callable(value) else value
        return y

    return program


JOINS_AND_WRITES = [
    ("cat_of_0d", lambda L: L.cat([L.tensor(1.0), L.tensor(2.0)])),
    ("cat_of_0d_second", lambda L: L.cat([L.ones(1), L.tensor(2.0)])),
    ("setitem_slice_shape", _setitem(slice(0, 1), lambda L: L.ones(2, 2))),
    ("setitem_row_shape", _setitem(0, lambda L: L.ones(2))),
    ("setitem_row_too_many_dims", _setitem(0, lambda L: L.ones(2, 3))),
    ("setitem_element_shape", _setitem((0, 0), lambda L: L.ones(2))),
    ("setitem_all_shape", _setitem(slice(None), lambda L: L.ones(3, 3))),
    ("setitem_list_shape", _setitem([0, 1], lambda L: L.ones(4))),
    ("setitem_list_dtype", _setitem([0, 1], lambda L: L.ones(3, dtype=L.float64))),
    ("setitem_list_0d_dtype", _setitem([0, 1], lambda L: L.tensor(5.0, dtype=L.float64))),
    ("setitem_float_into_int", _setitem(0, 2.7, "int64")),
    ("setitem_float_tensor_into_int", _setitem(slice(0, 1), lambda L: L.tensor([[2.7]]), "int64")),
]

METHOD_FORMS = [
    ("add__list", _inplace_method("add_", [1, 2, 3])),
    ("sub__None", _inplace_method("sub_", None)),
    ("mul__None", _inplace_method("mul_", None)),
    ("div__str", _inplace_method("div_", "a")),
    ("add_list", _inplace_method("add", [1, 2, 3])),
    ("add_str", _inplace_method("add", "a")),
    ("add_array", _inplace_method("add", np.ones(3))),
    ("mul_None", _inplace_method("mul", None)),
    ("sub_None", _inplace_method("sub", None)),
    ("div_None", _inplace_method("div", None)),
    ("pow_str", _inplace_method("pow", "a")),
    ("pow_None", _inplace_method("pow", None)),
    ("pow_list", _inplace_method("pow", [1, 2, 3])),
    ("matmul_list", _inplace_method("matmul", [1, 2, 3])),
    ("fill__None", _inplace_method("fill_", None)),
    ("fill__list", _inplace_method("fill_", [1])),
    ("function_add_None", lambda L: L.add(L.ones(3), None)),
    ("function_add_input_None", lambda L: L.add(None, L.ones(3))),
    ("function_mul_None", lambda L: L.mul(L.ones(3), None)),
    ("function_sub_list", lambda L: L.sub(L.ones(3), [1])),
    ("function_div_None", lambda L: L.div(L.ones(3), None)),
    ("function_matmul_None", lambda L: L.matmul(L.ones(3), None)),
    ("function_pow_str", lambda L: L.pow(L.ones(3), "a")),
    ("function_pow_number_base", lambda L: L.pow(2, L.tensor([1.0, 2.0]))),
    ("operator_None", lambda L: L.ones(3) + None),
    ("operator_list", lambda L: L.ones(3) * [1, 2, 3]),
    ("operator_in_place_None", lambda L: L.ones(3).__iadd__(None)),
]


def _function(forward_result):
    """A custom Function whose forward returns ``forward_result(L, x)``."""

    def program(L):
        class F(L.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return forward_result(L, x)

            @staticmethod
            def backward(ctx, *grads):
                return grads[-1]

        out = F.apply(L.ones(2, requires_grad=True))
        parts = out if isinstance(out, (tuple, list)) else [out]
        return out, [getattr(part, "grad_fn", None) is not None for part in parts]

    return program


FUNCTIONS = [
    ("forward_returns_float", _function(lambda L, x: 3.5)),
    ("forward_returns_None", _function(lambda L, x: None)),
    ("forward_returns_list", _function(lambda L, x: [x * 2])),
    ("forward_returns_float_and_tensor", _function(lambda L, x: (3.5, x * 2))),
]


SHAPES = [
    ("reshape_minus_2", lambda L: L.ones(2, 3).reshape(-2, 3)),
    ("reshape_minus_3_second", lambda L: L.ones(6).reshape(2, -3)),
    ("view_minus_2", lambda L: L.ones(6).view(-2, 3)),
    ("reshape_two_minus_1", lambda L: L.ones(6).reshape(-1, -1)),
    ("view_two_minus_1", lambda L: L.ones(6).view(-1, -1)),
    ("reshape_empty_minus_1", lambda L: L.ones(0).reshape(-1, 0)),
    ("reshape_empty_minus_1_alone", lambda L: L.ones(0).reshape(-1)),
    ("view_empty_minus_1_with_3", lambda L: L.ones(0, 3).view(2, -1)),
    ("reshape_minus_1_and_0", lambda L: L.ones(6).reshape(-1, 0)),
    ("reshape_float_first", lambda L: L.ones(6).reshape(2.5, 2)),
    ("reshape_str", lambda L: L.ones(6).reshape("a")),
    ("reshape_list_with_float", lambda L: L.ones(6).reshape([2, 3.0])),
    ("reshape_nothing", lambda L: L.ones(6).reshape()),
    ("reshape_int_tensor", lambda L: L.ones(6).reshape(L.tensor(6))),
    ("view_float", lambda L: L.ones(6).view(2.5)),
    ("view_nothing", lambda L: L.ones(1).view()),
    ("view_second_float", lambda L: L.ones(6).view(2, 3.0)),
    ("view_numpy_int", lambda L: L.ones(6).view(np.int64(6))),
    ("permute_second_float", lambda L: L.ones(2, 3).permute(0, 1.0)),
    ("permute_list_of_float", lambda L: L.ones(2, 3).permute([0.0, 1])),
    ("permute_float", lambda L: L.ones(2, 3).permute(0.5)),
]


def _of_unbind(change, dim=0):
    """``change(L, views)`` on the outputs of ``unbind`` of a tensor that requires grad."""

    def program(L):
        change(L, (L.ones(2, 3, requires_grad=True) * 1).unbind(dim))

    return program


def _leaf_setitem(index):
    def program(L):
        L.ones(2, 3, requires_grad=True)[index] = 2.0

    return program


LEAF_INDICES = [
    ("int", 0),
    ("pair", (0, 1)),
    ("slice", slice(0, 1)),
    ("slice_whole", slice(0, 2)),
    ("all", slice(None)),
    ("ellipsis", ...),
    ("None", None),
    ("column", (slice(None), 1)),
    ("list", [0, 1]),
]

VALUES_AND_VIEWS = [
    ("setitem_list_value", _setitem(0, [1.0, 2.0, 3.0])),
    ("setitem_tuple_value", _setitem(0, (1.0, 2.0, 3.0))),
    ("setitem_array_value", _setitem(0, np.ones(3))),
    ("setitem_0d_array_value", _setitem(0, np.array(2.5))),
    ("setitem_None_value", _setitem(0, None)),
    ("setitem_str_value", _setitem(0, "a")),
    ("setitem_list_into_double", _setitem(0, [1], "float64")),
    ("setitem_list_into_long", _setitem(0, [1], "int64")),
    ("setitem_numpy_float", _setitem(0, np.float64(2.5))),
    ("setitem_bool_value", _setitem(0, True)),
    ("setitem_float_index", _setitem(1.5, 1.0)),
    ("setitem_float_in_tuple", _setitem((0, 1.5), 1.0)),
    ("setitem_function_index", _setitem(print, 1.0)),
    ("setitem_numpy_float_index", _setitem(np.float64(1.0), 1.0)),
    ("setitem_float_tensor_index", lambda L: L.zeros(2, 3).__setitem__(L.tensor([0.0]), 1.0)),
    ("getitem_float", lambda L: L.zeros(2, 3)[1.5]),
    ("getitem_dict", lambda L: L.zeros(2, 3)[{}]),
    ("getitem_float_tensor", lambda L: L.zeros(2, 3)[L.tensor([0.0])]),
    ("unbind_output_setitem", _of_unbind(lambda L, u: u[0].__setitem__(0, 5.0))),
    ("unbind_output_setitem_slice", _of_unbind(lambda L, u: u[0].__setitem__(slice(1, None), 2))),
    ("unbind_output_setitem_all", _of_unbind(lambda L, u: u[0].__setitem__(slice(0, 3), 2))),
    ("unbind_output_setitem_None", _of_unbind(lambda L, u: u[0].__setitem__(None, 2.0))),
    ("unbind_output_setitem_ellipsis", _of_unbind(lambda L, u: u[0].__setitem__((..., 1), 2))),
    ("unbind_output_index_put", _of_unbind(lambda L, u: u[1].__setitem__([0], 2.0), 1)),
    ("unbind_output_zero_", _of_unbind(lambda L, u: u[1].zero_(), 1)),
    ("unbind_output_fill_", _of_unbind(lambda L, u: u[1].fill_(2), 1)),
    ("unbind_output_iadd", _of_unbind(lambda L, u: u[0].__iadd__(1))),
    ("slice_of_unbind_output", _of_unbind(lambda L, u: u[0][1:].mul_(2))),
    ("select_of_unbind_output", _of_unbind(lambda L, u: u[0][1].add_(2))),
    ("view_of_unbind_output", _of_unbind(lambda L, u: u[0].view(3, 1).add_(2))),
    ("reshape_of_unbind_output", _of_unbind(lambda L, u: u[0].reshape(3, 1).add_(2))),
    ("T_of_unbind_output", _of_unbind(lambda L, u: u[0].unsqueeze(0).T.add_(2))),
    ("setitem_of_view_of_unbind", _of_unbind(lambda L, u: u[0][1:].__setitem__(0, 2.0))),
    *[(f"leaf_setitem_{name}", _leaf_setitem(index)) for name, index in LEAF_INDICES],
]

MESSAGES = (
    CONVERSIONS
    + ATTRIBUTES
    + CREATION
    + PRODUCTS
    + JOINS_AND_WRITES
    + METHOD_FORMS
    + FUNCTIONS
    + SHAPES
    + VALUES_AND_VIEWS
)

# gradlab says more than torch here (torch's words first): the nesting rule torch leaves out.
NESTING = "; tensor() data must nest evenly, like [[1, 2], [3, 4]]"
EXTENDED = [
    ("tensor_number_then_list", lambda L: L.tensor([1, [2]]), NESTING),
    ("tensor_float_then_list", lambda L: L.tensor([1.0, [2.0]]), NESTING),
    ("tensor_list_then_number", lambda L: L.tensor([[2], 1]), NESTING),
    ("tensor_deeper_mix", lambda L: L.tensor([[1, 2], [3, [4]]]), NESTING),
]

# torch's message goes on to list its overloads; gradlab has one, so only the head is compared.
HEAD_ONLY = {
    name: "but expected one of:"
    for name in (
        "linspace_float_steps",
        "pow_str",
        "pow_None",
        "pow_list",
        "fill__None",
        "fill__list",
        "function_pow_str",
        "view_float",
        "view_nothing",
    )
}


@pytest.mark.parametrize("name,program", MESSAGES, ids=[m[0] for m in MESSAGES])
def test_same_outcome_as_torch(oracle, name, program):
    ours, theirs = outcome(gradlab, program), oracle(lambda torch: outcome(torch, program))
    if name in HEAD_ONLY:
        cut = HEAD_ONLY[name]
        for side in (ours, theirs):
            kind, error, text = side["result"]
            side["result"] = [kind, error, text[: text.index(cut) + len(cut)]]
    assert ours == theirs


@pytest.mark.parametrize("name,program,more", EXTENDED, ids=[m[0] for m in EXTENDED])
def test_torch_message_then_a_clearer_one(oracle, name, program, more):
    ours, theirs = outcome(gradlab, program), oracle(lambda torch: outcome(torch, program))
    kind, error, text = theirs["result"]
    assert ours["result"] == [kind, error, text + more]
    assert ours["warnings"] == theirs["warnings"] == []


def _T_warnings(times):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(times):
            _ = gradlab.ones(3).T
    return len(caught)


def test_warnings_given_once_per_process_unless_asked_always():
    """Like torch's TORCH_WARN_ONCE: ``.T`` of a 1-d tensor warns the first time only,
    unless ``set_warn_always(True)`` (torch's switch) asks for every time."""
    assert not gradlab.is_warn_always_enabled()
    _T_warnings(1)
    assert _T_warnings(3) == 0
    gradlab.set_warn_always(True)
    try:
        assert _T_warnings(3) == 3
    finally:
        gradlab.set_warn_always(False)
    assert _T_warnings(1) == 0


# --- no numpy warning leaks: inf and nan come quietly, as in torch ----------------------


def _through_zero(f):
    """``f(L, x)`` at x = [0, 1, -1] (log 0 = -inf, log -1 = nan), backward through it."""

    def program(L):
        x = L.tensor([0.0, 1.0, -1.0], requires_grad=True)
        out = f(L, x)
        out.sum().backward()
        return out, x.grad

    return program


def _in_place(L):
    y = L.tensor([0.0, 1.0])
    y /= 0
    y *= 0
    y += -y
    return y


INFINITIES = [
    ("log_times", _through_zero(lambda L, x: x.log() * x)),
    ("log_minus_log", _through_zero(lambda L, x: x.log() - x.log())),
    ("exp_overflow_times_0", _through_zero(lambda L, x: (x * 1000).exp() * 0)),
    ("divide_by_0", _through_zero(lambda L, x: x / x)),
    ("number_over", _through_zero(lambda L, x: 1 / x)),
    ("reciprocal", _through_zero(lambda L, x: x.reciprocal() * x)),
    ("sqrt_negative", _through_zero(lambda L, x: x.sqrt())),
    ("power_negative", _through_zero(lambda L, x: x**-0.5)),
    ("power_tensor", _through_zero(lambda L, x: x**x)),
    ("negative_number_power", _through_zero(lambda L, x: (-2.0) ** (x * 0.5))),
    ("sigmoid_overflow", _through_zero(lambda L, x: (x * 1e5).sigmoid())),
    ("float32_overflow", _through_zero(lambda L, x: (x + 1) * 3e38 * 10)),
    ("number_minus_nan", _through_zero(lambda L, x: 1 - x.log() * 0)),
    ("matmul_inf_times_0", _through_zero(lambda L, x: (x.log() @ x).reshape(1))),
    ("mean_of_nan", _through_zero(lambda L, x: (x.log() - x.log()).mean().reshape(1))),
    ("sum_of_inf", _through_zero(lambda L, x: (x.log() * -x.log()).sum(0, keepdim=True))),
    ("abs_of_nan", _through_zero(lambda L, x: x.log().abs() * 0)),
    ("relu_of_nan", _through_zero(lambda L, x: (x.log() * x).relu())),
    ("in_place", _in_place),
    ("float64_0d_into_float32", lambda L: L.tensor(1e300, dtype=L.float64) * L.ones(2)),
]


@pytest.mark.parametrize("name,program", INFINITIES, ids=[m[0] for m in INFINITIES])
def test_infinities_without_numpy_warnings(oracle, name, program):
    """The same values and gradients as torch (inf and nan included), and no warnings:
    ``outcome`` records every warning, so a leaked RuntimeWarning would show."""
    ours = outcome(gradlab, program)
    assert ours["warnings"] == []
    assert ours == oracle(lambda torch: outcome(torch, program))


# --- documented differences (README, "Differences from PyTorch"): a clear error ---------

DIFFERENCES = [
    ("complex_data", lambda: gradlab.tensor([1j]), TypeError, "gradlab has no complex dtypes"),
    ("complex_number", lambda: gradlab.ones(2).add(1j), TypeError, "not complex"),
    ("complex_value", lambda: gradlab.ones(2).__setitem__(0, 1j), TypeError, "assign a complex"),
    ("str_index", lambda: gradlab.ones(2)["a"], IndexError, "valid indices (got str)"),
    ("float_list_index", lambda: gradlab.ones(2)[[0.0]], IndexError, "used as indices must be"),
]


@pytest.mark.parametrize("name,act,error,words", DIFFERENCES, ids=[d[0] for d in DIFFERENCES])
def test_documented_differences_raise_a_clear_error(name, act, error, words):
    with pytest.raises(error, match=re.escape(words)):
        act()


def test_quiet_in_many_threads_at_once():
    """Each thread computes in its own quiet numpy context (a context may be entered by one
    thread at a time): ops from several threads at once neither fail nor warn."""
    import threading

    errors: list[BaseException] = []

    def work():
        try:
            x = gradlab.tensor([0.0, 1.0], requires_grad=True)
            for _ in range(300):
                y = x.log() * x + x.exp()
            y.sum().backward()
        except BaseException as error:  # noqa: BLE001  (reported below)
            errors.append(error)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
