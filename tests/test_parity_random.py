"""Random programs, run on gradlab and on torch: the same values, the same leaf gradients
(float64, rtol 1e-6) and the same backward graph (node names and ``next_functions``,
numbered breadth-first).

A program is 3 to 8 ops on 2 or 3 leaves of random broadcastable shapes. It is drawn
while running on gradlab (an op is only drawn where it applies: matching shapes for
``@``, at least 2 dimensions for ``transpose``, moderate values for ``exp``), recorded,
then replayed on torch.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gradlab
from tests.parity import graph

UNARY = ["exp", "tanh", "sigmoid", "neg"]
BINARY = ["+", "-", "*", "/"]


def apply(L, op, pool):
    """Run one recorded op on library ``L``; its operands are indices into ``pool``."""
    kind, *args = op
    if kind == "binary":
        symbol, i, j = args
        x, y = pool[i], pool[j]
        if symbol == "+":
            return x + y
        if symbol == "-":
            return x - y
        if symbol == "*":
            return x * y
        return x / (y * y + 1)  # a division whose denominator stays away from 0
    if kind == "unary":
        name, i = args
        return -pool[i] if name == "neg" else getattr(pool[i], name)()
    if kind == "sum":
        i, dim, keepdim = args
        return pool[i].sum(dim, keepdim=keepdim)
    if kind == "mean":
        i, dim = args
        return pool[i].mean() if dim is None else pool[i].mean(dim)
    if kind == "reshape_round_trip":
        (i,) = args
        return pool[i].reshape(-1).reshape(tuple(pool[i].shape))
    if kind == "transpose":
        (i,) = args
        return pool[i].transpose(0, 1)
    if kind == "matmul":
        i, j = args
        return pool[i] @ pool[j]
    raise AssertionError(op)


def broadcasts(a, b):
    try:
        np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    except ValueError:
        return False
    return True


def matmul_fits(a, b):
    sa, sb = tuple(a.shape), tuple(b.shape)
    if len(sa) not in (1, 2) or len(sb) not in (1, 2):
        return False
    return sa[-1] == sb[0]


def candidates(pool):
    """Every op that applies to the current pool."""
    ops = []
    n = len(pool)
    for i in range(n):
        t = pool[i]
        for name in UNARY:
            if name != "exp" or float(np.abs(t.detach().numpy()).max(initial=0)) < 4:
                ops.append(("unary", name, i))
        for dim in range(t.ndim):
            ops.append(("sum", i, dim, False))
            ops.append(("sum", i, dim, True))
        ops.append(("mean", i, None))
        if t.ndim:
            ops.append(("mean", i, t.ndim - 1))
        ops.append(("reshape_round_trip", i))
        if t.ndim >= 2:
            ops.append(("transpose", i))
        for j in range(n):
            if broadcasts(t, pool[j]):
                ops.extend(("binary", symbol, i, j) for symbol in BINARY)
            if matmul_fits(t, pool[j]):
                ops.append(("matmul", i, j))
    return ops


@st.composite
def leaf_arrays(draw):
    base = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    arrays = []
    for _ in range(draw(st.integers(2, 3))):
        drop = draw(st.integers(0, len(base) - 1))
        shape = [1 if draw(st.booleans()) and draw(st.booleans()) else n for n in base[drop:]]
        arrays.append(rng.uniform(-1.5, 1.5, shape))
    return arrays, seed


def run(L, arrays, ops, upstream):
    leaves = [L.tensor(a, dtype=L.float64, requires_grad=True) for a in arrays]
    pool = list(leaves)
    for op in ops:
        pool.append(apply(L, op, pool))
    out = pool[-1]
    out.backward(L.tensor(upstream))
    described = graph([out], leaves)
    structure = [(n["name"], n["next"], n.get("variable")) for n in described["nodes"]]
    return {
        "values": out.detach().numpy().copy(),
        "dtype": str(out.dtype).split(".")[-1],
        "grads": [None if t.grad is None else t.grad.numpy().copy() for t in leaves],
        "graph": (described["roots"], structure),
    }


@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_programs_match_torch(torch, data):
    arrays, seed = data.draw(leaf_arrays(), label="leaves")
    # draw the program while running it on gradlab, then replay it on torch
    pool = [gradlab.tensor(a, dtype=gradlab.float64, requires_grad=True) for a in arrays]
    ops = []
    for _ in range(data.draw(st.integers(3, 8), label="length")):
        by_kind: dict[str, list] = {}
        for candidate in candidates(pool):
            by_kind.setdefault(candidate[0], []).append(candidate)
        kind = data.draw(st.sampled_from(sorted(by_kind)), label="kind")  # kinds equally
        op = data.draw(st.sampled_from(by_kind[kind]), label="op")
        ops.append(op)
        pool.append(apply(gradlab, op, pool))
    upstream = np.random.default_rng(seed + 1).standard_normal(tuple(pool[-1].shape))

    ours = run(gradlab, arrays, ops, upstream)
    theirs = run(torch, arrays, ops, upstream)
    assert ours["dtype"] == theirs["dtype"] == "float64"
    np.testing.assert_allclose(ours["values"], theirs["values"], rtol=1e-6, atol=1e-12)
    assert ours["values"].shape == theirs["values"].shape
    for g_ours, g_theirs in zip(ours["grads"], theirs["grads"]):
        assert (g_ours is None) == (g_theirs is None)
        if g_ours is not None:
            assert g_ours.shape == g_theirs.shape
            np.testing.assert_allclose(g_ours, g_theirs, rtol=1e-6, atol=1e-12)
    assert ours["graph"] == theirs["graph"]
