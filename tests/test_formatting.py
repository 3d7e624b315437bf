"""gradlab._formatting.format_tensor against PyTorch's own tensor repr.

The oracle is ``repr(torch.tensor(arr))`` with ``torch.`` spelled ``gradlab.``.  For the
suffix cases the torch tensor gets ``requires_grad=True`` or a ``grad_fn`` and
format_tensor gets the matching suffix strings.
"""

from __future__ import annotations

import doctest

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gradlab._formatting as formatting
from gradlab._formatting import format_tensor
from tests.oracle import replays_examples

f16, f32, f64 = np.float16, np.float32, np.float64
nan, inf = float("nan"), float("inf")
_rng = np.random.default_rng(0)


def _seeded(shape, scale=1.0, dtype=f32, seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


# (id, array).  Each targets one rule of torch/_tensor_str.py.
CASES = [
    # 0-d: int mode, fractions, sci mode, non-finite, negative zero, dtypes.
    ("scalar_int_mode", np.array(6.0, f32)),
    ("scalar_negative_int_mode", np.array(-64.0, f32)),
    ("scalar_fraction", np.array(0.1, f32)),
    ("scalar_tiny_sci", np.array(1e-5, f32)),
    ("scalar_huge_sci", np.array(1e10, f32)),
    ("scalar_huge_int_float64", np.array(123456789.0, f64)),
    ("scalar_nan", np.array(nan, f32)),
    ("scalar_inf", np.array(inf, f32)),
    ("scalar_neg_inf", np.array(-inf, f64)),
    ("scalar_neg_zero", np.array(-0.0, f32)),
    ("scalar_zero", np.array(0.0, f32)),
    ("scalar_float64", np.array(2.5, f64)),
    ("scalar_float16", np.array(0.1, f16)),
    ("scalar_int64", np.array(7)),
    ("scalar_int32_negative", np.array(-7, np.int32)),
    ("scalar_bool", np.array(True)),
    # 1-d
    ("vec_int_mode", np.array([1.0, 2.0, 3.0], f32)),
    ("vec_int_mode_padding", np.array([1.0, -20.0, 300.0], f32)),
    ("vec_fractions", np.array([0.1, -2.25, 3.14159, 1000.5], f32)),
    ("vec_sci_by_ratio", np.array([1.0, 1001.0], f32)),
    ("vec_no_sci_at_ratio_1000", np.array([0.5, 500.0], f32)),
    ("vec_sci_by_tiny", np.array([1e-5, 0.5], f32)),
    ("vec_sci_by_huge_int_mode", np.array([2e8, 3e8], f32)),
    ("vec_no_sci_at_exactly_1e8", np.array([1e8, 2e6], f64)),
    ("vec_no_sci_at_exactly_1e-4", np.array([1e-4, 0.01], f64)),
    ("vec_sci_float32_1e-4_below_double", np.array([1e-4, 0.01], f32)),
    ("vec_nan_inf_fractions", np.array([nan, inf, -inf, 1.5], f32)),
    ("vec_nan_inf_int_mode", np.array([nan, 1.0, -inf, 2.0], f32)),
    ("vec_nan_inf_sci", np.array([nan, 1e-6, inf, 2.0], f32)),
    ("vec_only_non_finite", np.array([nan, inf, -inf], f32)),
    ("vec_zeros_and_neg_zero", np.array([0.0, -0.0, 0.0], f32)),
    ("vec_neg_zero_with_fraction", np.array([-0.0, 0.5], f32)),
    ("vec_neg_zero_sci", np.array([-0.0, 1e-7], f32)),
    ("vec_int64", np.array([1, -20, 300, 0])),
    ("vec_int64_extremes", np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max])),
    ("vec_bool", np.array([True, False, True])),
    ("vec_rounding_to_precision", np.array([0.00015, 1.23456789, 9.99996], f64)),
    # n-d nesting and indentation
    ("mat_float", _seeded((3, 4))),
    ("mat_int", np.arange(12).reshape(3, 4)),
    ("mat_bool", np.arange(6).reshape(2, 3) % 2 == 0),
    ("mat_column", np.arange(4.0, dtype=f32).reshape(4, 1)),
    ("cube", (np.arange(24, dtype=f32) / 7).reshape(2, 3, 4)),
    ("tensor_4d", np.arange(16).reshape(2, 2, 2, 2)),
    ("mat_one_row_one_col", np.array([[3.5]], f32)),
    # dtypes that print a dtype= suffix
    ("float64_vec", np.array([1.0, 2.5, -3.25], f64)),
    ("float64_mat", _seeded((2, 3), dtype=f64)),
    ("float16_vec", np.array([0.1, 1000.0, 65504.0, -2.0], f16)),
    ("float16_sci", np.array([1e-4, 60000.0], f16)),
    ("int32_vec", np.array([1, 2, -3], np.int32)),
    ("int32_mat", np.arange(6, dtype=np.int32).reshape(2, 3)),
    ("int8_vec", np.array([-128, 0, 127], np.int8)),
    ("int16_vec", np.array([-300, 7], np.int16)),
    ("uint8_vec", np.array([0, 255, 17], np.uint8)),
    # empty tensors: size= unless shape is (0,); dtype= unless float32
    ("empty_1d_float32", np.array([], f32)),
    ("empty_1d_int64", np.array([], np.int64)),
    ("empty_1d_bool", np.array([], bool)),
    ("empty_0x3", np.zeros((0, 3), f32)),
    ("empty_2x0_float64", np.zeros((2, 0), f64)),
    ("empty_2x0x4_int32", np.zeros((2, 0, 4), np.int32)),
    # more than 1000 elements: summarized with "..."
    ("summarized_1d", np.arange(1001, dtype=f32)),
    ("not_summarized_at_1000", np.arange(1000, dtype=f32)),
    ("not_summarized_at_1000_2d", np.arange(1000).reshape(10, 100)),
    ("summarized_1d_int", np.arange(5000)),
    ("summarized_2d", np.arange(2000).reshape(40, 50)),
    ("summarized_2d_float", _seeded((40, 30), scale=10)),
    ("summarized_tall", np.arange(1001.0, dtype=f32).reshape(1001, 1)),
    ("summarized_wide", _seeded((2, 600))),
    ("summarized_3d", _seeded((10, 10, 11), dtype=f64)),
    ("summarized_hidden_outlier", np.concatenate([np.ones(500), [1e9], np.ones(500)])),
    ("summarized_float16", np.arange(1500, dtype=f16)),
    # long rows wrap at 80 characters, continuation lines indented
    ("long_row_wraps", np.arange(30, dtype=f32) * 1.5),
    ("long_int_row", np.arange(100)),
    ("long_row_sci", _seeded(25, scale=1e6)),
    ("long_rows_in_matrix", _seeded((3, 20))),
    ("long_rows_in_cube", _seeded((2, 2, 15), dtype=f64)),
    ("long_bool_row", np.arange(40) % 3 == 0),
    ("long_zero_row_min_width_1", np.zeros(30, f32)),
    ("long_nan_row", np.full(30, nan, f32)),
]

# (id, array) for tensors that also carry requires_grad=True or a grad_fn (floats only).
SUFFIX_CASES = [
    ("scalar", np.array(6.0, f32)),
    ("vector", np.array([1.0, 2.5], f32)),
    ("matrix_multiline", _seeded((3, 4))),
    ("float64_matrix", _seeded((2, 3), dtype=f64)),
    ("float64_row_dtype_wrap_boundary", np.arange(10, dtype=f64) + 1),
    ("float16_row_dtype_wrap_boundary", np.arange(6, dtype=f16) * 10 + 1),
    ("row_close_to_linewidth", np.arange(8, dtype=f32) + 0.5),
    # torch counts the last line 2 longer than it is: these wrap though 80 columns would fit.
    ("grad_fn_at_wrap_boundary", np.arange(8, dtype=f32) * 100 + 100),
    ("requires_grad_at_wrap_boundary", np.array([-1e-5, 2.0, 3.0, 4.0], f32)),
    ("row_wrapped", np.arange(30, dtype=f32) * 1.5),
    ("summarized", _seeded((40, 30))),
    ("empty_2d", np.zeros((0, 3), f32)),
    ("empty_1d_float64", np.array([], f64)),
    ("nan_inf", np.array([nan, inf, -0.0], f32)),
]


def torch_repr(torch, arr, grad=None):
    """repr of torch.tensor(arr) in gradlab's spelling; `grad` is None, "requires" or "fn"."""
    t = torch.tensor(np.array(arr, order="C"), requires_grad=grad is not None)
    if grad == "fn":
        t = t * 1
    return repr(t).replace("torch.", "gradlab.")


def _ids(cases):
    return [case_id for case_id, _ in cases]


@pytest.mark.parametrize("arr", [arr for _, arr in CASES], ids=_ids(CASES))
def test_matches_torch(oracle, arr):
    assert format_tensor(arr) == oracle(lambda torch: torch_repr(torch, arr))


@pytest.mark.parametrize("arr", [arr for _, arr in SUFFIX_CASES], ids=_ids(SUFFIX_CASES))
def test_requires_grad_suffix_matches_torch(oracle, arr):
    expected = oracle(lambda torch: torch_repr(torch, arr, "requires"))
    assert format_tensor(arr, ["requires_grad=True"]) == expected


@pytest.mark.parametrize("arr", [arr for _, arr in SUFFIX_CASES], ids=_ids(SUFFIX_CASES))
def test_grad_fn_suffix_matches_torch(oracle, arr):
    expected = oracle(lambda torch: torch_repr(torch, arr, "fn"))
    assert format_tensor(arr, ("grad_fn=<MulBackward0>",)) == expected


def test_suffixes_keep_callers_order():
    text = format_tensor(np.array(1.0, f32), ["a=1", "b=2"])
    assert text == "tensor(1., a=1, b=2)"


def test_module_docstring_example():
    assert doctest.testmod(formatting).failed == 0


@pytest.mark.parametrize("dtype", [np.complex64, np.uint16, np.object_])
def test_unsupported_dtype_is_rejected(dtype):
    with pytest.raises(TypeError, match="dtype"):
        format_tensor(np.zeros(2, dtype))


# ---- property-based -------------------------------------------------------------------

_HYPOTHESIS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_DTYPES = [f32, f64, np.int64, f16, np.int32, np.bool_]


def _elements(dtype):
    """Values of `dtype` that stress the format choices: integral, all magnitudes, nan/inf."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return st.booleans()
    if dtype.kind == "i":
        info = np.iinfo(dtype)
        return st.integers(-100, 100) | st.integers(int(info.min), int(info.max))
    width = dtype.itemsize * 8
    max_exponent = 0 if width == 16 else 12  # float16 tops out at 65504
    exponents = st.integers(-9, max_exponent)
    decimal = st.builds(lambda m, e: m * 10.0**e, st.integers(-9999, 9999), exponents)
    return (
        st.floats(width=width)  # any value: nan, +-inf, -0., subnormals, huge
        | st.integers(-1000, 1000).map(float)  # integral: int mode
        | decimal.map(lambda x: float(dtype.type(x)))  # 4-5 digit decimals across magnitudes
    )


@st.composite
def small_arrays(draw):
    dtype = draw(st.sampled_from(_DTYPES))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6))
    return draw(hnp.arrays(dtype, shape, elements=_elements(dtype)))


@replays_examples
@_HYPOTHESIS
@given(arr=small_arrays(), grad=st.sampled_from([None, "requires", "fn"]))
def test_random_small_arrays_match_torch(oracle, arr, grad):
    if arr.dtype.kind != "f":
        grad = None  # only floating tensors can require grad
    suffixes = {None: [], "requires": ["requires_grad=True"], "fn": ["grad_fn=<MulBackward0>"]}
    assert format_tensor(arr, suffixes[grad]) == oracle(lambda torch: torch_repr(torch, arr, grad))


@replays_examples
@settings(_HYPOTHESIS, max_examples=60)
@given(
    seed=st.integers(0, 2**32 - 1),
    shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=14),
    exponent=st.integers(-8, 10),
    dtype=st.sampled_from([f32, f64, np.int64]),
)
def test_random_larger_arrays_match_torch(oracle, seed, shape, exponent, dtype):
    """Up to 2744 elements, so summarization and row wrapping are exercised."""
    arr = np.random.default_rng(seed).standard_normal(shape) * 10.0**exponent
    if np.dtype(dtype).kind == "i":
        arr = np.clip(arr, -(2.0**62), 2.0**62)
    arr = arr.astype(dtype)
    assert format_tensor(arr) == oracle(lambda torch: torch_repr(torch, arr))


@replays_examples
@_HYPOTHESIS
@given(
    lines=st.lists(st.integers(0, 90), min_size=1, max_size=3),
    suffixes=st.lists(st.integers(1, 85).map(lambda n: "s" * n), max_size=4),
)
def test_add_suffixes_matches_torch(oracle, lines, suffixes):
    """Many or long suffixes, which real tensors never carry, against torch's own helper."""
    tensor_str = "\n".join("x" * n for n in lines)
    expected = oracle(
        lambda torch: torch._tensor_str._add_suffixes(tensor_str, suffixes, 7, force_newline=False)
    )
    assert formatting._add_suffixes(tensor_str, suffixes, 7) == expected
