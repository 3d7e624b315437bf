"""Values and dtypes as torch 2.13 gives them, one class of past mismatch per group: Python
data parsed straight into the target dtype, torch's integer powers, torch's type promotion
for joins, gradients cast back to each input's dtype, empty and keepdim reductions, and
ops refused on bool tensors. Each program is written once for ``L`` in (gradlab, torch)
and reduced to plain data by :func:`tests.outcome.outcome`; torch's side comes from the
``oracle`` fixture (live, or recorded in tests/torch_expected/).
"""

from __future__ import annotations

import itertools
import operator
import warnings

import numpy as np
import pytest

import gradlab
from tests.outcome import outcome

# --- Python data parsed straight into the target dtype ----------------------------------

PARSING = [
    ("float64_scalar", lambda L: L.tensor(-0.64, dtype=L.float64).item()),
    ("float64_list", lambda L: L.tensor([[-0.64, 0.1]], dtype=L.float64).tolist()),
    ("float64_from_int", lambda L: L.tensor([2**62 + 1], dtype=L.float64).tolist()),
    ("float16_list", lambda L: L.tensor([0.1, 1e10], dtype=L.float16)),
    ("default_float32", lambda L: L.tensor([0.1, 1, True]).tolist()),
    ("int64_max", lambda L: L.tensor([2**63 - 1, -(2**63)]).tolist()),
    ("int64_overflow", lambda L: L.tensor(2**63)),
    ("int64_overflow_in_list", lambda L: L.tensor([2**63, 1])),
    ("int64_overflow_negative", lambda L: L.tensor(-(2**63) - 1)),
    ("int64_overflow_nested", lambda L: L.tensor([[1], [2**64]])),
    ("int64_overflow_into_int8", lambda L: L.tensor(2**63, dtype=L.int8)),
    ("huge_int_as_float", lambda L: L.tensor([2**63, 1.5])),
    ("huge_int_into_float32", lambda L: L.tensor(2**63, dtype=L.float32).item()),
    ("floats_into_int", lambda L: L.tensor([1.7, -2.7], dtype=L.int64)),
    ("numbers_into_bool", lambda L: L.tensor([0.0, 2, float("nan")], dtype=L.bool)),
    ("numpy_float64_scalar", lambda L: L.tensor(np.float64(0.1))),
    ("numpy_scalars_in_list", lambda L: L.tensor([np.float64(0.1), 0.2])),
    ("numpy_float32_with_float", lambda L: L.tensor([np.float32(0.1), 0.2])),
    ("numpy_int32_in_list", lambda L: L.tensor([np.int32(3), np.int8(2)])),
    ("tensors_in_list", lambda L: L.tensor([L.tensor(0.1, dtype=L.float64), 0.2])),
    ("requires_grad_tensor_in_list", lambda L: L.tensor([L.tensor(1.0, requires_grad=True)])),
    ("bool_and_int", lambda L: L.tensor([True, 2])),
    ("empty_rows", lambda L: L.tensor([[], []])),
    ("empty_first_row", lambda L: L.tensor([[], [1]])),
    ("range_rows", lambda L: L.tensor([range(2), range(2)])),
    ("tuple", lambda L: L.tensor((1, 2))),
]


def _same(oracle, program):
    assert outcome(gradlab, program) == oracle(lambda torch: outcome(torch, program))


@pytest.mark.parametrize("name,program", PARSING, ids=[p[0] for p in PARSING])
def test_python_data_parsed_like_torch(oracle, name, program):
    _same(oracle, program)


# --- powers: zero bases, integer exponents, bools --------------------------------------


def _grads(build, *leaves, upstream=None):
    """``build(L, *leaf tensors)``, backward with ``upstream`` (default ones), the grads."""

    def program(L):
        tensors = [L.tensor(v, requires_grad=True) for v in leaves]
        out = build(L, *tensors)
        seed = L.ones_like(out) if upstream is None else L.tensor(upstream)
        out.backward(seed)
        return out, [t.grad for t in tensors]

    return program


POWERS = [
    ("zero_base_scalar", _grads(lambda L, a: 0.0**a, 2.0)),
    ("zero_base", _grads(lambda L, a: 0.0**a, [2.0, 0.0, -1.0], upstream=[-1.0, 2.0, 1.0])),
    ("zero_int_base", _grads(lambda L, a: 0**a, [3.0, 0.0, -2.0])),
    ("number_base", _grads(lambda L, a: 2.5**a, [2.0, 0.0, -1.0], upstream=[-1.0, 2.0, 1.0])),
    ("negative_base", _grads(lambda L, a: (-2.0) ** a, [2.0, 0.5])),
    (
        "tensor_zero_base",
        _grads(lambda L, b, a: b**a, [0.0, 0.0, 1.0, 0.0], [2.0, 0.0, -1.0, -1.0]),
    ),
    ("negative_base_tensor", _grads(lambda L, b, a: b**a, [-2.0, 2.0], [0.5, 3.0])),
    ("int_tensor_negative_tensor", lambda L: L.tensor([2, 3]) ** L.tensor([-1, 2])),
    ("int_number_negative_tensor", lambda L: 2 ** L.tensor([1, -1])),
    ("int_ones_negative", lambda L: L.tensor([1, -1, -1, 2, 0]) ** L.tensor([-1, -1, -2, -2, -3])),
    ("int_negative_one_base", lambda L: (-1) ** L.tensor([1, -1, -2, -3, 0])),
    ("int_negative_0d_exponent", lambda L: L.tensor([2, 3]) ** L.tensor(-1)),
    ("int_negative_number", lambda L: L.tensor([2, 3]) ** -1),
    (
        "int32_negative",
        lambda L: L.tensor([1, -1, 2], dtype=L.int32) ** L.tensor([-1, -3, -2], dtype=L.int32),
    ),
    (
        "int8_uint8",
        lambda L: L.tensor([1, -1, 2], dtype=L.int8) ** L.tensor([1, 3, 2], dtype=L.uint8),
    ),
    ("int_float_number", lambda L: L.tensor([2, 3]) ** 0.5),
    ("int_overflow_wraps", lambda L: L.tensor([3]) ** 50),
    ("bool_number", lambda L: L.tensor([True, False]) ** 2),
    ("bool_negative_number", lambda L: L.tensor([True, False]) ** -1),
    ("bool_bool", lambda L: L.tensor([True, False]) ** L.tensor([True, False])),
    ("bool_int_tensor", lambda L: L.tensor([True, False]) ** L.tensor([-1, 2])),
    ("true_bool_tensor", lambda L: True ** L.tensor([True, False])),
]


@pytest.mark.parametrize("name,program", POWERS, ids=[p[0] for p in POWERS])
def test_powers_like_torch(oracle, name, program):
    _same(oracle, program)


def test_no_numpy_warning_from_powers():
    """The infinities and NaNs of the powers above come without numpy's RuntimeWarnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _, program in POWERS:
            outcome(gradlab, program)


# --- torch's promotion for joins, and gradients cast back to each input's dtype ---------

JOINS = [
    ("cat_float_int", lambda L: L.cat([L.ones(2), L.tensor([1, 2])])),
    ("cat_int_float64", lambda L: L.cat([L.tensor([1, 2]), L.ones(2, dtype=L.float64)])),
    (
        "cat_int32_float16",
        lambda L: L.cat([L.tensor([1], dtype=L.int32), L.ones(1, dtype=L.float16)]),
    ),
    ("cat_bool_int", lambda L: L.cat([L.tensor([True]), L.tensor([2])])),
    (
        "cat_int8_uint8",
        lambda L: L.cat([L.tensor([-1], dtype=L.int8), L.tensor([200], dtype=L.uint8)]),
    ),
    ("stack_float_int", lambda L: L.stack([L.ones(2), L.tensor([1, 2])])),
    ("stack_0d", lambda L: L.stack([L.tensor(1), L.tensor(2.5)])),
]


def _hooked(join):
    """A float32 input ``b`` (non-leaf, hooked) joined with float64 tensors: the dtypes the
    hook and the leaf's ``.grad`` see."""

    def program(L):
        a = L.tensor([1.0, 2.0], requires_grad=True)
        b = a * 2
        seen = []
        b.register_hook(lambda g: seen.append(g))
        out = join(L, b)
        out.backward(L.ones_like(out) * 3)
        return seen, a.grad, out.dtype

    return program


def _value_into(index, shape=(3,)):
    def join(L, b):
        y = L.zeros(*shape, dtype=L.float64)
        y[index] = b
        return y

    return join


def _float64_into(L, b):
    y = b * 1
    v = L.tensor([5.0], dtype=L.float64, requires_grad=True)
    y[0:1] = v
    return y


GRAD_DTYPES = [
    ("cat", lambda L, b: L.cat([b, L.ones(1, dtype=L.float64, requires_grad=True)])),
    ("stack", lambda L, b: L.stack([b, L.ones(2, dtype=L.float64, requires_grad=True)])),
    ("setitem_slice", _value_into(slice(0, 2))),
    ("setitem_all", _value_into(slice(None), (2,))),
    ("setitem_broadcast", _value_into(slice(None), (2, 2))),
    ("setitem_0d", lambda L, b: _value_into(0)(L, b[0])),
    ("setitem_float64_into_float32", _float64_into),
]


@pytest.mark.parametrize("name,program", JOINS, ids=[p[0] for p in JOINS])
def test_joins_promote_like_torch(oracle, name, program):
    _same(oracle, program)


@pytest.mark.parametrize("name,join", GRAD_DTYPES, ids=[p[0] for p in GRAD_DTYPES])
def test_gradients_in_each_inputs_dtype(oracle, name, join):
    _same(oracle, _hooked(join))


# --- reductions over no dims, None, and keepdim ---------------------------------------


def _reduction(reduce, x=((1.0, 2.0, 3.0), (4.0, 5.0, 6.0))):
    def program(L):
        t = L.tensor(x, requires_grad=True)
        out = reduce(t)
        node = out.grad_fn
        saved = {
            name: getattr(node, name)
            for name in ("_saved_dim", "_saved_keepdim", "_saved_self_sym_numel")
            if hasattr(node, name)
        }
        out.backward(L.ones_like(out))
        return out, node.name(), saved, t.grad

    return program


REDUCTIONS = [
    ("sum", _reduction(lambda t: t.sum())),
    ("sum_empty_tuple", _reduction(lambda t: t.sum(()))),
    ("sum_empty_list_keepdim", _reduction(lambda t: t.sum([], True))),
    ("sum_None", _reduction(lambda t: t.sum(None))),
    ("sum_None_keepdim", _reduction(lambda t: t.sum(dim=None, keepdim=True))),
    ("sum_dims_keepdim", _reduction(lambda t: t.sum((1, 0), True))),
    ("mean_empty_list", _reduction(lambda t: t.mean([]))),
    ("mean_None_keepdim", _reduction(lambda t: t.mean(dim=None, keepdim=True))),
    ("sum_of_0d_over_no_dims", _reduction(lambda t: t.sum(()), 2.0)),
    ("int_sum_empty_tuple", lambda L: L.tensor([[1, 2]]).sum(())),
    ("int_sum_None_keepdim", lambda L: L.tensor([[1, 2]]).sum(None, True)),
    ("sum_repeated_dim", lambda L: L.ones(2, 3).sum((0, -2))),
    ("sum_float_dim", lambda L: L.ones(2, 3).sum([0, 1.0])),
]


@pytest.mark.parametrize("name,program", REDUCTIONS, ids=[p[0] for p in REDUCTIONS])
def test_reductions_like_torch(oracle, name, program):
    _same(oracle, program)


# --- ops refused on bool tensors -------------------------------------------------------

BOOLS = [
    ("minus_number", lambda L: L.tensor([True, False]) - 1),
    ("minus_float", lambda L: L.tensor([True, False]) - 1.5),
    ("minus_bool_tensor", lambda L: L.tensor([True, False]) - L.tensor([True, True])),
    ("minus_True", lambda L: L.tensor([True]) - True),
    ("int_minus_bool", lambda L: L.tensor([1, 2]) - L.tensor([True, False])),
    ("int_minus_True", lambda L: L.tensor([1, 2]) - True),
    ("float_minus_bool", lambda L: L.tensor([1.0]) - L.tensor([True])),
    ("number_minus_bool", lambda L: 1 - L.tensor([True, False])),
    ("True_minus_bool", lambda L: True - L.tensor([True, False])),
    ("sub_method", lambda L: L.tensor([True, False]).sub(1)),
    ("sub_function", lambda L: L.sub(L.tensor([True]), L.tensor([False]))),
    ("sub_in_place", lambda L: L.tensor([1, 2]).sub_(L.tensor([True, False]))),
    ("abs", lambda L: L.tensor([True, False]).abs()),
    ("abs_builtin", lambda L: abs(L.tensor([True, False]))),
    ("relu", lambda L: L.tensor([True, False]).relu()),
    ("relu_function", lambda L: L.relu(L.tensor([True, False]))),
    ("dot", lambda L: L.tensor([True, False]) @ L.tensor([True, False])),
    ("matrix_vector", lambda L: L.ones(2, 2, dtype=L.bool) @ L.ones(2, dtype=L.bool)),
    ("vector_matrix", lambda L: L.ones(2, dtype=L.bool) @ L.ones(2, 2, dtype=L.bool)),
    ("matrix_matrix", lambda L: L.ones(2, 2, dtype=L.bool) @ L.ones(2, 3, dtype=L.bool)),
    ("plus_number", lambda L: L.tensor([True, False]) + 1),
    ("times_bool", lambda L: L.tensor([True, True]) * L.tensor([True, False])),
    ("divide", lambda L: L.tensor([True, True]) / L.tensor([True, False])),
    ("sum", lambda L: L.tensor([True, True]).sum()),
    ("exp", lambda L: L.tensor([True, False]).exp()),
]


@pytest.mark.parametrize("name,program", BOOLS, ids=[p[0] for p in BOOLS])
def test_bool_tensors_like_torch(oracle, name, program):
    _same(oracle, program)


# --- every dtype against every dtype and Python number: result dtypes, values, errors -----

DTYPES = ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64"]
SAMPLES = {"bool": [True, False, True], "uint8": [0, 3, 250]}
NUMBERS = {"int": 2, "negative_int": -1, "big_int": 1000, "float": 0.5, "True": True}
OPERATORS = {
    "plus": operator.add,
    "minus": operator.sub,
    "times": operator.mul,
    "over": operator.truediv,
    "power": operator.pow,
}


def _sample(L, dtype, zero_d=False):
    values = SAMPLES.get(dtype, [-3, 0, 2] if "int" in dtype else [-1.5, 0.0, 2.0])
    return L.tensor(values[1] if zero_d else values, dtype=getattr(L, dtype))


def _grid():
    for (name, op), a in itertools.product(OPERATORS.items(), DTYPES):
        for b in DTYPES:
            yield f"{a}_{name}_{b}", lambda L, a=a, b=b, op=op: op(_sample(L, a), _sample(L, b))
            yield (
                f"{a}_{name}_0d_{b}",
                lambda L, a=a, b=b, op=op: op(_sample(L, a), _sample(L, b, zero_d=True)),
            )
        for number_name, number in NUMBERS.items():
            yield f"{a}_{name}_{number_name}", lambda L, a=a, n=number, op=op: op(_sample(L, a), n)
            yield f"{number_name}_{name}_{a}", lambda L, a=a, n=number, op=op: op(n, _sample(L, a))


GRID = list(_grid())


@pytest.mark.parametrize("name,program", GRID, ids=[g[0] for g in GRID])
def test_dtype_grid_like_torch(oracle, name, program):
    """uint8 3 + -1 wraps to 2, int8 ** True stays int8, bool - anything raises, ..."""
    _same(oracle, program)


ONE_TENSOR = {
    "exp": lambda L, t: t.exp(),
    "log": lambda L, t: t.log(),
    "tanh": lambda L, t: t.tanh(),
    "sigmoid": lambda L, t: t.sigmoid(),
    "relu": lambda L, t: t.relu(),
    "abs": lambda L, t: t.abs(),
    "sqrt": lambda L, t: t.sqrt(),
    "reciprocal": lambda L, t: t.reciprocal(),
    "neg": lambda L, t: -t,
    "pos": lambda L, t: +t,
    "sum": lambda L, t: t.sum(),
    "sum_0_keepdim": lambda L, t: t.sum(0, keepdim=True),
    "mean": lambda L, t: t.mean(),
    "equal_0": lambda L, t: t == 0,
    "less_1.5": lambda L, t: t < 1.5,
    "matmul": lambda L, t: t @ t,
    "cat_with_float": lambda L, t: L.cat([t, L.ones(1)]),
    "float_of_one": lambda L, t: float(t[1]),
    "int_of_one": lambda L, t: int(t[1]),
    "item": lambda L, t: t[0].item(),
    "fill_": lambda L, t: t.fill_(2.5),
    "add_": lambda L, t: t.add_(1),
    "mul_float_": lambda L, t: t.mul_(2.5),
    "div_": lambda L, t: t.div_(2),
    "setitem_float": lambda L, t: t.__setitem__(0, 7.9) or t,
}
ONE_TENSOR_GRID = [
    (f"{name}_{dtype}", lambda L, f=f, d=dtype: f(L, _sample(L, d)))
    for (name, f), dtype in itertools.product(ONE_TENSOR.items(), DTYPES)
]


@pytest.mark.parametrize("name,program", ONE_TENSOR_GRID, ids=[g[0] for g in ONE_TENSOR_GRID])
def test_one_tensor_ops_on_every_dtype_like_torch(oracle, name, program):
    _same(oracle, program)


# --- creation functions with every dtype ------------------------------------------------

DATA = {
    "floats": [0.1, -2.5],
    "ints": [3, -4],
    "bools": [True, False],
    "int_and_float": [1, 2.5],
    "bool_and_int": [True, 3],
    "rows": [[0.1, 2], [3, 4]],
    "float": 0.3,
    "int": 7,
    "bool": True,
    "numpy_float32": np.float32(0.1),
    "numpy_int8": np.int8(-3),
    "large_ints": [2**40, 1],
    "very_negative": [-(2**62)],
    "empty": [],
    "empty_row": [[]],
    "float16_array": np.array([1.5], np.float16),
}
CREATION_DTYPES = [None, *DTYPES]


def _creation_grid():
    for (name, data), dtype in itertools.product(DATA.items(), CREATION_DTYPES):
        yield f"tensor_{name}_{dtype}", lambda L, x=data, d=dtype: L.tensor(x, dtype=_dt(L, d))
    makers = {
        "zeros": lambda L, d: L.zeros(2, dtype=d),
        "ones": lambda L, d: L.ones((2,), dtype=d),
        "full_float": lambda L, d: L.full((2,), 1.5, dtype=d),
        "full_int": lambda L, d: L.full((2,), 3, dtype=d),
        "full_bool": lambda L, d: L.full((2,), True, dtype=d),
        "arange_ints": lambda L, d: L.arange(0, 5, 2, dtype=d),
        "arange_floats": lambda L, d: L.arange(0, 1, 0.25, dtype=d),
        "linspace": lambda L, d: L.linspace(0, 1, 5, dtype=d),
        "zeros_like": lambda L, d: L.zeros_like(L.tensor([1, 2]), dtype=d),
        "rand": lambda L, d: L.rand(2, dtype=d).shape,
        "randn": lambda L, d: L.randn(2, dtype=d).dtype,
        "zeros_requires_grad": lambda L, d: L.zeros(2, dtype=d, requires_grad=True),
    }
    for (name, make), dtype in itertools.product(makers.items(), CREATION_DTYPES):
        yield f"{name}_{dtype}", lambda L, m=make, d=dtype: m(L, _dt(L, d))


def _dt(L, dtype):
    return None if dtype is None else getattr(L, dtype)


CREATION_GRID = list(_creation_grid())


@pytest.mark.parametrize("name,program", CREATION_GRID, ids=[g[0] for g in CREATION_GRID])
def test_creation_with_every_dtype_like_torch(oracle, name, program):
    _same(oracle, program)
