"""Every op of the core, run on gradlab and on torch: the same values, gradients, reprs,
node names, ``next_functions`` (recursively, with indices and ``None`` entries), flags,
``_saved_*`` attributes (present, None or a tensor, and their values, before and after
backward), versions after in-place ops, and result dtypes.

Each case is a program written once against the shared API (see :mod:`tests.parity`).
"""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
from tests.parity import assert_same

FLOATS = ["float64", "float32"]
BOTH = (True, True)
FIRST = (True, False)
SECOND = (False, True)
NEITHER = (False, False)


def make(shape, kind: str, dtype: str, seed: int) -> np.ndarray:
    """Seeded inputs: 'n' normal, 'p' positive (log, sqrt, pow bases), 'z' away from 0."""
    rng = np.random.default_rng(seed)
    if kind == "p":
        data = rng.uniform(0.5, 2.0, shape)
    elif kind == "z":
        data = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    else:
        data = rng.standard_normal(shape)
    return np.asarray(data, dtype=dtype)


def arrays(shapes, kinds, dtype):
    return [make(s, k, dtype, seed) for seed, (s, k) in enumerate(zip(shapes, kinds), start=7)]


def _cases(table):
    return [
        pytest.param(program, shapes, kinds, rg, id=f"{name}-{'-'.join(map(str, rg))}")
        for name, program, shapes, kinds, grads in table
        for rg in grads
    ]


# --- arithmetic -------------------------------------------------------------------------

BINARY_SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)), ((3,), ())]

BINARY = [
    ("add", lambda L, a, b: a + b, "nn"),
    ("sub", lambda L, a, b: a - b, "nn"),
    ("mul", lambda L, a, b: a * b, "nn"),
    ("div", lambda L, a, b: a / b, "nz"),
    ("pow", lambda L, a, b: a**b, "pn"),
    ("add_fn", lambda L, a, b: L.add(a, b), "nn"),
    ("mul_method", lambda L, a, b: a.mul(b), "nn"),
    ("div_method", lambda L, a, b: a.div(b), "nz"),
    ("sub_method", lambda L, a, b: a.sub(b), "nn"),
    ("pow_method", lambda L, a, b: a.pow(b), "pn"),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("rg", [BOTH, FIRST, SECOND, NEITHER], ids=str)
@pytest.mark.parametrize("name,program,kinds", BINARY, ids=[b[0] for b in BINARY])
def test_binary_tensor_tensor(oracle, name, program, kinds, rg, shapes, dtype):
    assert_same(oracle, program, arrays(shapes, kinds, dtype), requires_grad=rg)


NUMBER = [
    ("a_plus_2", lambda L, a: a + 2, "n"),
    ("2_plus_a", lambda L, a: 2 + a, "n"),
    ("a_plus_half", lambda L, a: a + 0.5, "n"),
    ("a_minus_2", lambda L, a: a - 2, "n"),
    ("2_minus_a", lambda L, a: 2 - a, "n"),
    ("half_minus_a", lambda L, a: 0.5 - a, "n"),
    ("a_times_2", lambda L, a: a * 2, "n"),
    ("2_times_a", lambda L, a: 2 * a, "n"),
    ("a_times_half", lambda L, a: a * 0.5, "n"),
    ("a_div_2", lambda L, a: a / 2, "n"),
    ("2_div_a", lambda L, a: 2 / a, "z"),
    ("half_div_a", lambda L, a: 0.5 / a, "z"),
    ("a_pow_2", lambda L, a: a**2, "n"),
    ("a_pow_3", lambda L, a: a**3, "n"),
    ("a_pow_half", lambda L, a: a**0.5, "p"),
    ("a_pow_minus_1", lambda L, a: a**-1, "z"),
    ("a_pow_0", lambda L, a: a**0, "n"),
    ("2_pow_a", lambda L, a: 2**a, "n"),
    ("e_pow_a", lambda L, a: 2.5**a, "n"),
    ("neg", lambda L, a: -a, "n"),
    ("neg_fn", lambda L, a: L.neg(a), "n"),
    ("pow_fn", lambda L, a: L.pow(a, 2), "n"),
]

UNARY_SHAPES = [(), (3,), (2, 3)]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("rg", [True, False])
@pytest.mark.parametrize("name,program,kind", NUMBER, ids=[n[0] for n in NUMBER])
def test_tensor_with_python_number(oracle, name, program, kind, rg, shape, dtype):
    assert_same(oracle, program, arrays([shape], kind, dtype), requires_grad=[rg])


# --- pointwise --------------------------------------------------------------------------

POINTWISE = [
    ("exp", lambda L, a: a.exp(), "n"),
    ("exp_fn", lambda L, a: L.exp(a), "n"),
    ("log", lambda L, a: a.log(), "p"),
    ("log_fn", lambda L, a: L.log(a), "p"),
    ("tanh", lambda L, a: a.tanh(), "n"),
    ("tanh_fn", lambda L, a: L.tanh(a), "n"),
    ("sigmoid", lambda L, a: a.sigmoid(), "n"),
    ("sigmoid_fn", lambda L, a: L.sigmoid(a), "n"),
    ("relu", lambda L, a: a.relu(), "n"),
    ("relu_fn", lambda L, a: L.relu(a), "n"),
    ("abs", lambda L, a: a.abs(), "n"),
    ("abs_builtin", lambda L, a: abs(a), "n"),
    ("abs_fn", lambda L, a: L.abs(a), "n"),
    ("sqrt", lambda L, a: a.sqrt(), "p"),
    ("sqrt_fn", lambda L, a: L.sqrt(a), "p"),
    ("clone", lambda L, a: a.clone(), "n"),
    ("reciprocal", lambda L, a: a.reciprocal(), "z"),
    ("exp_of_exp", lambda L, a: a.exp().exp(), "n"),
    ("chain", lambda L, a: (a.tanh() * a.sigmoid()).exp() / (a * a + 1).sqrt(), "n"),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("rg", [True, False])
@pytest.mark.parametrize("name,program,kind", POINTWISE, ids=[p[0] for p in POINTWISE])
def test_pointwise(oracle, name, program, kind, rg, shape, dtype):
    assert_same(oracle, program, arrays([shape], kind, dtype), requires_grad=[rg])


# --- reductions -------------------------------------------------------------------------

REDUCTIONS = [
    ("sum", lambda L, a: a.sum()),
    ("sum_fn", lambda L, a: L.sum(a)),
    ("sum_dim0", lambda L, a: a.sum(0)),
    ("sum_dim1_keepdim", lambda L, a: a.sum(1, keepdim=True)),
    ("sum_dim_neg", lambda L, a: a.sum(dim=-1)),
    ("sum_dims", lambda L, a: a.sum((0, 2))),
    ("sum_dims_keepdim", lambda L, a: a.sum(dim=(2, 0), keepdim=True)),
    ("mean", lambda L, a: a.mean()),
    ("mean_fn", lambda L, a: L.mean(a)),
    ("mean_dim0", lambda L, a: a.mean(0)),
    ("mean_dim1_keepdim", lambda L, a: a.mean(1, keepdim=True)),
    ("mean_dims", lambda L, a: a.mean(dim=(0, -1))),
    ("mean_dims_keepdim", lambda L, a: a.mean((1, 2), keepdim=True)),
    ("sum_then_mean", lambda L, a: a.sum(0).mean(0) * 3),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("rg", [True, False])
@pytest.mark.parametrize("name,program", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reductions(oracle, name, program, rg, dtype):
    assert_same(oracle, program, arrays([(2, 3, 4)], "n", dtype), requires_grad=[rg])


@pytest.mark.parametrize(
    "program", [lambda L, a: a.sum(), lambda L, a: a.mean()], ids=["sum", "mean"]
)
def test_reductions_of_a_0d_tensor(oracle, program):
    assert_same(oracle, program, arrays([()], "n", "float64"))


# --- shape ------------------------------------------------------------------------------

SHAPE_OPS = [
    ("reshape", lambda L, a: a.reshape(3, 2, 4)),
    ("reshape_tuple", lambda L, a: a.reshape((4, -1))),
    ("reshape_fn", lambda L, a: L.reshape(a, (6, 4))),
    ("view", lambda L, a: a.view(-1)),
    ("view_tuple", lambda L, a: a.view((2, 12))),
    ("transpose", lambda L, a: a.transpose(0, 1)),
    ("transpose_neg", lambda L, a: a.transpose(-1, 0)),
    ("transpose_fn", lambda L, a: L.transpose(a, 1, 2)),
    ("T", lambda L, a: a.T),
    ("permute", lambda L, a: a.permute(2, 0, 1)),
    ("permute_tuple", lambda L, a: a.permute((1, 2, 0))),
    ("unsqueeze0", lambda L, a: a.unsqueeze(0)),
    ("unsqueeze_last", lambda L, a: a.unsqueeze(-1)),
    ("unsqueeze_mid", lambda L, a: a.unsqueeze(2)),
    ("view_then_mul", lambda L, a: a.view(4, 6) * 2),
    ("reshape_of_transpose", lambda L, a: a.transpose(0, 2).reshape(-1)),
    ("round_trip", lambda L, a: a.reshape(4, 6).reshape(2, 3, 4) + a),
]


@pytest.mark.filterwarnings("ignore:The use of `x.T` on tensors of dimension other than 2")
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("rg", [True, False])
@pytest.mark.parametrize("name,program", SHAPE_OPS, ids=[s[0] for s in SHAPE_OPS])
def test_shape_ops(oracle, name, program, rg, dtype):
    assert_same(oracle, program, arrays([(2, 3, 4)], "n", dtype), requires_grad=[rg])


@pytest.mark.filterwarnings("ignore:Tensor.T is deprecated on 0-D tensors")
@pytest.mark.filterwarnings("ignore:The use of `x.T` on tensors of dimension other than 2")
@pytest.mark.parametrize("shape", [(), (3,), (2, 3)], ids=str)
def test_T_and_t_of_low_dimensional_tensors(oracle, shape):
    assert_same(oracle, lambda L, a: a.T * 1, arrays([shape], "n", "float64"))


# --- matmul -----------------------------------------------------------------------------

MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((3,), (3, 4))]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("rg", [BOTH, FIRST, SECOND, NEITHER], ids=str)
@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=["1d@1d", "2d@1d", "2d@2d", "1d@2d"])
@pytest.mark.parametrize("form", ["operator", "method", "function"])
def test_matmul(oracle, form, shapes, rg, dtype):
    program = {
        "operator": lambda L, a, b: a @ b,
        "method": lambda L, a, b: a.matmul(b),
        "function": lambda L, a, b: L.matmul(a, b),
    }[form]
    assert_same(oracle, program, arrays(shapes, "nn", dtype), requires_grad=rg)


# --- indexing ---------------------------------------------------------------------------

INDEXING = [
    ("int", lambda L, a: a[1]),
    ("negative_int", lambda L, a: a[-1]),
    ("slice", lambda L, a: a[:, 1:]),
    ("slice_step", lambda L, a: a[::2]),
    ("slice_stop", lambda L, a: a[:, :2]),
    ("slice_negative", lambda L, a: a[:, -2:-1]),
    ("full_slice", lambda L, a: a[:] * 1),
    ("none", lambda L, a: a[None]),
    ("none_middle", lambda L, a: a[:, None]),
    ("tuple", lambda L, a: a[1, 2]),
    ("tuple_int_slice", lambda L, a: a[1, 1:]),
    ("tuple_slice_int", lambda L, a: a[:, 2]),
    ("ellipsis", lambda L, a: a[..., 1]),
    ("list", lambda L, a: a[[0, 1, 0]]),
    ("list_tuple", lambda L, a: a[[0, 1], [2, 0]]),
    ("slice_list", lambda L, a: a[:, [0, 2]]),
    ("int_then_list", lambda L, a: a[1, [0, 2]]),
    ("int_list", lambda L, a: a[[2, 0], 1]),
    ("list_none", lambda L, a: a[None, [1, 1]]),
    ("ellipsis_full", lambda L, a: a[...] * 1),
    ("two_full_slices", lambda L, a: a[:, :] * 1),
    ("index_tensor", lambda L, a: a[L.tensor([2, 0])]),
    ("bool_mask", lambda L, a: a[a > 0]),
    ("bool_row_mask", lambda L, a: a[L.tensor([True, False, True])]),
    ("select_then_mul", lambda L, a: a[0] * a[1]),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("rg", [True, False])
@pytest.mark.parametrize("name,program", INDEXING, ids=[i[0] for i in INDEXING])
def test_indexing(oracle, name, program, rg, dtype):
    assert_same(oracle, program, arrays([(3, 4)], "n", dtype), requires_grad=[rg])


def test_basic_indices_apply_before_advanced_ones(oracle):
    """``a[1, :, [0, 2]]``: PyTorch selects first, then gathers (shape (3, 2)), where numpy
    would put the advanced dimension first (shape (2, 3))."""
    out = assert_same(oracle, lambda L, a: a[1, :, [0, 2]], arrays([(2, 3, 4)], "n", "float64"))
    assert out["outputs"][0]["shape"] == (3, 2)


# --- stack, cat, unbind -----------------------------------------------------------------

JOINS = [
    ("stack", lambda L, a, b: L.stack([a, b])),
    ("stack_dim1", lambda L, a, b: L.stack((a, b), dim=1)),
    ("stack_dim_last", lambda L, a, b: L.stack([a, b, a], -1)),
    ("cat", lambda L, a, b: L.cat([a, b])),
    ("cat_dim1", lambda L, a, b: L.cat((a, b, a), dim=1)),
    ("cat_same_twice", lambda L, a, b: L.cat([a, a], -1)),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("rg", [BOTH, FIRST, SECOND, NEITHER], ids=str)
@pytest.mark.parametrize("name,program", JOINS, ids=[j[0] for j in JOINS])
def test_stack_and_cat(oracle, name, program, rg, dtype):
    assert_same(oracle, program, arrays([(2, 3), (2, 3)], "nn", dtype), requires_grad=rg)


def test_cat_of_different_lengths(oracle):
    assert_same(oracle, lambda L, a, b: L.cat([a, b], 1), arrays([(2, 1), (2, 3)], "nn", "float64"))


UNBIND = [
    ("all_outputs", lambda L, a: a.unbind()),
    ("all_outputs_dim1", lambda L, a: a.unbind(1)),
    ("fn", lambda L, a: L.unbind(a, dim=-1)),
    ("one_output_used", lambda L, a: a.unbind()[1] * 2),
    ("product", lambda L, a: (lambda b, c, d: b * c * d)(*a.unbind(1))),
    ("iteration", lambda L, a: [row * k for k, row in enumerate(a)][1]),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("rg", [True, False])
@pytest.mark.parametrize("name,program", UNBIND, ids=[u[0] for u in UNBIND])
def test_unbind(oracle, name, program, rg, dtype):
    assert_same(oracle, program, arrays([(3, 3)], "n", dtype), requires_grad=[rg])


# --- in-place ---------------------------------------------------------------------------


def _inplace(method, other_kind="tensor"):
    def program(L, a, b):
        y = a * 1
        other = b if other_kind == "tensor" else 2.5
        result = getattr(y, method)(other)
        assert result is y
        return y

    return program


def _augmented(op):
    def program(L, a, b):
        y = a * 1
        before = y
        if op == "+=":
            y += b
        elif op == "-=":
            y -= b
        elif op == "*=":
            y *= b
        else:
            y /= b
        assert y is before
        return y

    return program


def _on_plain_leaf(method):
    def program(L, a, b):
        getattr(b, method)(a)
        return b

    return program


def _zero(L, a, b):
    y = a.clone()
    y.zero_()
    return y * b


def _fill(L, a, b):
    y = a.clone()
    y.fill_(2.5)
    return y * b


def _fill_then_add(L, a, b):
    y = a * b
    y.fill_(1.0).add_(a)
    return y


def _twice(L, a, b):
    y = a * 1
    y.mul_(b)
    y.add_(b)
    y += 1
    return y * y


def _saved_before_inplace(L, a, b):
    y = a * 2  # MulBackward0 saves nothing of a's side here
    z = y + b  # AddBackward0 saves nothing: changing y later is fine
    y.add_(1)
    return z * y


INPLACE = [
    ("add_", _inplace("add_"), "nn"),
    ("sub_", _inplace("sub_"), "nn"),
    ("mul_", _inplace("mul_"), "nn"),
    ("div_", _inplace("div_"), "nz"),
    ("add_number", _inplace("add_", "number"), "nn"),
    ("mul_number", _inplace("mul_", "number"), "nn"),
    ("div_number", _inplace("div_", "number"), "nn"),
    ("sub_number", _inplace("sub_", "number"), "nn"),
    ("iadd", _augmented("+="), "nn"),
    ("isub", _augmented("-="), "nn"),
    ("imul", _augmented("*="), "nn"),
    ("idiv", _augmented("/="), "nz"),
    ("zero_", _zero, "nn"),
    ("fill_", _fill, "nn"),
    ("fill_then_add", _fill_then_add, "nn"),
    ("several", _twice, "nz"),
    ("change_unsaved", _saved_before_inplace, "nn"),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((2, 3), (3,))], ids=["same", "bcast"])
@pytest.mark.parametrize("rg", [BOTH, FIRST, SECOND], ids=str)
@pytest.mark.parametrize("name,program,kinds", INPLACE, ids=[i[0] for i in INPLACE])
def test_inplace(oracle, name, program, kinds, rg, shapes, dtype):
    assert_same(oracle, program, arrays(shapes, kinds, dtype), requires_grad=rg)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("method", ["add_", "sub_", "mul_", "div_"])
def test_inplace_on_a_leaf_that_needs_no_grad(oracle, method, dtype):
    """``b.add_(a)`` with a requiring grad turns the plain leaf b into a graph tensor."""
    assert_same(
        oracle, _on_plain_leaf(method), arrays([(3,), (3,)], "zz", dtype), requires_grad=FIRST
    )


@pytest.mark.parametrize("method", ["add_", "mul_", "zero_", "fill_"])
def test_inplace_without_grad_only_bumps_the_version(oracle, method):
    def program(L, a):
        args = () if method == "zero_" else (3.0,)
        for _ in range(3):
            getattr(a, method)(*args)
        return a

    assert_same(oracle, program, arrays([(2, 2)], "n", "float32"), requires_grad=[False])


def test_inplace_on_a_leaf_under_no_grad(oracle):
    def program(L, a):
        with L.no_grad():
            a.mul_(2)
            a += 1
        return a * 3

    assert_same(oracle, program, arrays([(3,)], "n", "float64"))


SETITEM = [
    ("row_from_tensor", lambda y, b: y.__setitem__(0, b)),
    ("column_number", lambda y, b: y.__setitem__((slice(None), 1), 5.0)),
    ("slice_from_tensor", lambda y, b: y.__setitem__(slice(0, 1), b)),
    ("element_from_0d", lambda y, b: y.__setitem__((1, 2), b[0])),
    ("mask", lambda y, b: y.__setitem__(y > 0, 0.0)),
    ("row_from_unsqueezed", lambda y, b: y.__setitem__(0, b.unsqueeze(0))),
    ("whole_from_broadcast", lambda y, b: y.__setitem__(slice(None), b)),
    ("whole_from_number", lambda y, b: y.__setitem__(Ellipsis, 1.5)),
    ("whole_from_0d", lambda y, b: y.__setitem__((slice(None), slice(None)), b[0])),
    ("whole_from_same_shape", lambda y, b: y.__setitem__(slice(None), b * y.detach().clone())),
    ("row_from_0d", lambda y, b: y.__setitem__(1, b[1])),
    ("list_rows", lambda y, b: y.__setitem__([1, 0], b)),
    ("mask_from_tensor", lambda y, b: y.__setitem__(y > 0, b[2])),
    ("int_and_list", lambda y, b: y.__setitem__((0, [1, 2]), b[:2])),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("rg", [BOTH, FIRST, SECOND], ids=str)
@pytest.mark.parametrize("name,assign", SETITEM, ids=[s[0] for s in SETITEM])
def test_setitem(oracle, name, assign, rg, dtype):
    def program(L, a, b):
        y = a.clone() if a.requires_grad else a
        assign(y, b)
        return y

    assert_same(oracle, program, arrays([(2, 3), (3,)], "nn", dtype), requires_grad=rg)


def test_setitem_then_use(oracle):
    def program(L, a, b):
        y = a * 2
        y[1] = b * b
        return (y * a).sum()

    assert_same(oracle, program, arrays([(2, 3), (3,)], "nn", "float64"))


# --- dtype promotion --------------------------------------------------------------------

I64, I32, U8, I8 = "int64", "int32", "uint8", "int8"

PROMOTION = [
    # (id, program, [(array, requires_grad)])
    ("int_times_float", lambda L, a: a * 1.5, [([1, 2, 3], I64)]),
    ("int_plus_int", lambda L, a: a + 2, [([1, 2, 3], I64)]),
    ("int_div_int", lambda L, a, b: a / b, [([1, 2, 3], I64), ([2, 2, 4], I64)]),
    ("int_div_number", lambda L, a: a / 2, [([1, 2, 3], I64)]),
    ("number_div_int", lambda L, a: 2 / a, [([1, 2, 3], I64)]),
    ("int_reciprocal", lambda L, a: a.reciprocal(), [([1, 2, 4], I64)]),
    ("bool_plus_int", lambda L, a: a + 1, [([True, False], "bool")]),
    ("bool_plus_int_tensor", lambda L, a, b: a + b, [([True, False], "bool"), ([3, 4], I64)]),
    ("bool_plus_bool", lambda L, a, b: a + b, [([True, False], "bool"), ([True, True], "bool")]),
    ("bool_times_float", lambda L, a: a * 0.5, [([True, False], "bool")]),
    ("int32_plus_int64", lambda L, a, b: a + b, [([1, 2], I32), ([3, 4], I64)]),
    ("int32_plus_number", lambda L, a: a + 7, [([1, 2], I32)]),
    ("uint8_plus_int8", lambda L, a, b: a + b, [([1, 2], U8), ([-3, 4], I8)]),
    ("int_plus_float64", lambda L, a, b: a + b, [([1, 2], I64), ([0.5, 1.5], "float64")]),
    ("int_plus_0d_float64", lambda L, a, b: a * b, [([1, 2], I64), (0.5, "float64")]),
    ("int_pow_2", lambda L, a: a**2, [([1, 2, 3], I64)]),
    ("int_pow_half", lambda L, a: a**0.5, [([1, 4, 9], I64)]),
    ("int_exp", lambda L, a: a.exp(), [([0, 1, 2], I64)]),
    ("int_sqrt", lambda L, a: a.sqrt(), [([1, 4, 9], I64)]),
    ("int_sum", lambda L, a: a.sum(), [([1, 2, 3], I32)]),
    ("bool_sum", lambda L, a: a.sum(0), [([[True, False], [True, True]], "bool")]),
    ("int_neg", lambda L, a: -a, [([1, 2, 3], I64)]),
    ("int_abs", lambda L, a: a.abs(), [([-1, 2, -3], I32)]),
    ("int_relu", lambda L, a: a.relu(), [([-1, 2, -3], I64)]),
    ("int_matmul", lambda L, a, b: a @ b, [([[1, 2], [3, 4]], I64), ([1, 1], I64)]),
    ("compare", lambda L, a: a > 0.5, [([0.1, 0.9], "float32")]),
    ("compare_tensors", lambda L, a, b: a == b, [([1, 2], I64), ([1.0, 3.0], "float32")]),
    ("float32_times_python_float", lambda L, a: a * 0.1, [([1.0, 2.0], "float32")]),
    ("float64_plus_python_int", lambda L, a: a + 3, [([1.0, 2.0], "float64")]),
    ("float16_times_float", lambda L, a: a * 0.25, [([1.0, 2.0], "float16")]),
    (
        "float16_plus_float32",
        lambda L, a, b: a + b,
        [([1.0, 2.0], "float16"), ([0.5, 0.5], "float32")],
    ),
]


@pytest.mark.parametrize("name,program,inputs", PROMOTION, ids=[p[0] for p in PROMOTION])
def test_dtype_promotion(oracle, name, program, inputs):
    data = [np.asarray(values, dtype=dtype) for values, dtype in inputs]
    out = assert_same(oracle, program, data, requires_grad=[False] * len(data))
    assert not out["outputs"][0]["requires_grad"]


GRAD_PROMOTION = [
    # (id, program, inputs, the output's dtype: the one the backward formulas run in)
    (
        "float32_times_0d_float64",
        lambda L, a, b: a * b,
        [((3,), "float32"), ((), "float64")],
        "float32",
    ),
    (
        "0d_float32_times_float64",
        lambda L, a, b: a * b,
        [((), "float32"), ((3,), "float64")],
        "float64",
    ),
    (
        "float32_plus_float64",
        lambda L, a, b: a + b,
        [((2, 3), "float32"), ((3,), "float64")],
        "float64",
    ),
    (
        "float64_minus_0d_float32",
        lambda L, a, b: a - b,
        [((2,), "float64"), ((), "float32")],
        "float64",
    ),
    (
        "float32_div_0d_float64",
        lambda L, a, b: a / b,
        [((3,), "float32"), ((), "float64")],
        "float32",
    ),
    (
        "float32_pow_0d_float64",
        lambda L, a, b: a**b,
        [((3,), "float32"), ((), "float64")],
        "float32",
    ),
    ("both_0d", lambda L, a, b: a * b, [((), "float32"), ((), "float64")], "float64"),
]


@pytest.mark.parametrize("rg", [BOTH, FIRST, SECOND], ids=str)
@pytest.mark.parametrize(
    "name,program,inputs,out_dtype", GRAD_PROMOTION, ids=[g[0] for g in GRAD_PROMOTION]
)
def test_gradients_come_back_in_each_inputs_dtype(oracle, name, program, inputs, out_dtype, rg):
    """Both libraries run the backward formulas in the output's dtype, so a float64 leaf of
    a float32 result gets a float64 gradient only as precise as float32 arithmetic."""
    data = [make(shape, "p", dtype, seed) for seed, (shape, dtype) in enumerate(inputs)]
    out = assert_same(oracle, program, data, requires_grad=rg, grads_computed_in=out_dtype)
    assert out["outputs"][0]["dtype"] == out_dtype


def test_int_tensor_with_float_leaf(oracle):
    """An integer operand gets no edge: ``(None, 0)`` and nothing saved for it."""
    data = [np.array([1, 2, 3]), make((3,), "n", "float32", 0)]
    assert_same(oracle, lambda L, a, b: a * b + a / b, data, requires_grad=SECOND)


# --- bigger graphs ----------------------------------------------------------------------


def _diamond(L, a, b):
    c = a * b
    d = c.exp()
    e = c.tanh()
    return (d * e + c).sum()


def _reuse(L, a, b):
    c = a * a
    return (c * c * a).mean(0)


def _mixed(L, a, b):
    h = (a @ b.T).sigmoid()
    return (h.sum(1, keepdim=True) - h.mean()) / (h * h + 1)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("program", [_diamond, _reuse, _mixed], ids=["diamond", "reuse", "mlp"])
def test_bigger_graphs(oracle, program, dtype):
    assert_same(
        oracle,
        program,
        arrays([(2, 3), (4, 3)], "nn", dtype)
        if program is _mixed
        else arrays([(2, 3), (2, 3)], "nn", dtype),
    )


def test_saved_negative_dims_are_shown_as_written(oracle):
    """A documented difference: PyTorch saves ``dim=-1`` as given, but its Python binding
    shows the int64 -1 as the unsigned 18446744073709551615; gradlab shows -1 (the
    comparisons above read torch's number back as signed)."""
    ours = gradlab.ones(2, 3, requires_grad=True).sum(-1).grad_fn._saved_dim
    theirs = oracle(lambda torch: torch.ones(2, 3, requires_grad=True).sum(-1).grad_fn._saved_dim)
    assert ours == (-1,)
    assert theirs == (2**64 - 1,)
