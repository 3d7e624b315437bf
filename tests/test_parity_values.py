"""Values and dtypes as torch 2.13 gives them, one class of past mismatch per group: Python
data parsed straight into the target dtype, torch's integer powers, torch's type promotion
for joins, gradients cast back to each input's dtype, empty and keepdim reductions, and
ops refused on bool tensors. Each program is written once for ``L`` in (gradlab, torch)
and reduced to plain data by :func:`tests.outcome.outcome`.
"""

from __future__ import annotations

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


def _same(torch, program):
    assert outcome(gradlab, program) == outcome(torch, program)


@pytest.mark.parametrize("name,program", PARSING, ids=[p[0] for p in PARSING])
def test_python_data_parsed_like_torch(torch, name, program):
    _same(torch, program)
