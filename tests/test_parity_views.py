"""Version counters, views and saved tensors, each program run on gradlab and on torch:
which tensors share a version counter, which ops make views (and their nodes), what an
in-place change through a view does to its base's graph, the errors PyTorch raises for
in-place changes it cannot differentiate, and what a node's ``_saved_*`` attributes show.

Every program returns plain data (numbers, strings, tuples, ``Num``): torch's side is
asked through the ``oracle`` fixture, live or as recorded in tests/torch_expected/.
"""

from __future__ import annotations

import pytest

import gradlab
from tests.parity import Num, dtype_name, message_head, values


def summary(x, L=None):
    """``x`` as plain data: tensors by values, dtype, flags and node name; nodes by name;
    sequences element by element."""
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    if isinstance(x, (tuple, list)):
        return tuple(summary(v, L) for v in x)
    if hasattr(x, "next_functions"):
        return ("node", x.name())
    if hasattr(x, "detach"):
        return (
            "tensor",
            Num(values(x), dtype_name(x)),
            x.requires_grad,
            None if x.grad_fn is None else x.grad_fn.name(),
        )
    return ("other", type(x).__name__)


def outcome(L, fn):
    """What ``fn()`` gives, as plain data, or the error type and message (up to its Hint)."""
    try:
        return summary(fn(), L)
    except Exception as error:  # noqa: BLE001  (the error is what is compared)
        return ("raises", type(error).__name__, message_head(error, L is not gradlab))


def edges(node):
    """A node's ``next_functions`` as names and indices."""
    return tuple((None if n is None else n.name(), i) for n, i in node.next_functions)


def both(oracle, program):
    """``program(L)`` on gradlab and on torch (asked through tests/oracle.py); their plain
    results must be equal."""
    ours = summary(program(gradlab))
    theirs = oracle(lambda torch: summary(program(torch)))
    assert ours == theirs, f"gradlab: {ours}\ntorch:   {theirs}"
    return ours


def leaf(L, *vals, dtype="float32"):
    return L.tensor(list(vals), dtype=getattr(L, dtype), requires_grad=True)


# --- version counters --------------------------------------------------------------------


def test_saving_the_other_operand_of_an_inplace_op_catches_its_own_change(oracle):
    def program(L):
        x = leaf(L, 1.0, 2.0)
        y = x * 1
        y.mul_(y)
        return y._version, outcome(L, lambda: y.sum().backward()), outcome(L, lambda: x.grad)

    result = both(oracle, program)
    assert result[1][0] == "raises"


def test_a_leaf_that_stops_requiring_grad_gets_no_gradient(oracle):
    def program(L):
        x = leaf(L, 1.0, 2.0)
        y = x * 2
        x.requires_grad_(False)
        y.sum().backward()
        return x.grad, x.requires_grad

    assert both(oracle, program) == (None, False)


def test_empty_views_share_their_bases_version(oracle):
    def program(L):
        x = L.zeros(3)
        empty, part = x[3:], x[1:]
        x.add_(1)
        part.mul_(2)
        return empty._version, part._version, x._version, empty.shape == (0,)

    assert both(oracle, program) == (2, 2, 2, True)


@pytest.mark.parametrize(
    "make",
    [
        lambda L, a: (a * 2).sum(),  # a fresh gradient: kept (version 0)
        lambda L, a: (a * a).sum(),  # two gradients summed in place: version 1
        lambda L, a: (a + a).sum(),  # one gradient for both edges: a new sum, version 0
        lambda L, a: a.sum(),  # an expanded gradient: copied, version 1
        lambda L, a: a[0] * 3,  # 0-d pieces
        lambda L, a: a @ a,  # dot: both edges
        lambda L, a: a[1:].sum(),
        lambda L, a: a.exp().sum(),
    ],
)
def test_grad_version_counts_copies_and_accumulations(oracle, make):
    def program(L):
        a = leaf(L, 1.0, 2.0, dtype="float64")
        log = []
        for _ in range(3):
            make(L, a).backward()
            log.append(a.grad._version)
        return tuple(log), a.grad

    both(oracle, program)


def test_grad_version_with_hooks_and_retain_grad(oracle):
    def program(L):
        d = leaf(L, 1.0, 2.0)
        d.register_hook(lambda g: g * 3)
        (d * 2).sum().backward()
        f = L.tensor(2.0, requires_grad=True)
        y = f * 3
        y.retain_grad()
        y.backward()
        return d.grad._version, f.grad._version, y.grad._version

    both(oracle, program)


# --- which ops make views ----------------------------------------------------------------


def test_a_zero_dim_integer_index_selects_a_view(oracle):
    def program(L):
        a = leaf(L, 1.0, 2.0, 3.0)
        m = L.ones(2, 3, requires_grad=True)
        b = a[L.tensor(1)]
        c = m[L.tensor(0), 1]
        d = m[L.tensor([0])]  # a 1-d index tensor still gathers a copy
        a.grad = None
        b.backward()
        return (
            b.grad_fn.name(),
            b.grad_fn._saved_index,
            b._base is a,
            c.grad_fn.name(),
            d.grad_fn.name(),
            a.grad,
        )

    assert both(oracle, program)[0] == "SelectBackward0"


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_t_returns_a_new_view(oracle, shape):
    def program(L):
        a = L.ones(shape, requires_grad=True)
        b = a.t()
        b.sum().backward()
        return b is a, b._base is a, b.grad_fn.name(), edges(b.grad_fn), tuple(b.shape), a.grad

    assert both(oracle, program)[2] == "TBackward0"


def test_t_of_a_3d_tensor_raises(oracle):
    both(oracle, lambda L: outcome(L, lambda: L.ones(2, 3, 4).t()))


def test_full_slices_inside_a_tuple_add_no_slice_node(oracle):
    def program(L):
        m = L.ones(2, 3, requires_grad=True)
        chains = []
        for index in [(slice(None), 1), (0, slice(None)), (slice(1, None), slice(None))]:
            node, chain = m[index].grad_fn, []
            while node is not None and node.next_functions:
                chain.append(node.name())
                node = node.next_functions[0][0]
            chains.append(tuple(chain))
        return tuple(chains)

    both(oracle, program)


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.t().reshape(3, 2),
        lambda m: m.t().reshape(6),
        lambda m: m[:, 0:2].reshape(1, 2, 2),
        lambda m: m[:, 1].reshape(2, 1),
        lambda m: m[0:1].reshape(3),
        lambda m: m.reshape(3, 2),
        lambda m: m.t().view(3, 2),
    ],
)
def test_reshape_of_a_viewable_non_contiguous_tensor_is_an_alias(oracle, make):
    def program(L):
        m = L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        r = make(m)
        (r * r).sum().backward()
        node = r.grad_fn
        return node.name(), node._saved_self_sym_sizes, r._base is not None, m.grad

    both(oracle, program)


# --- setitem and in-place ops on views ---------------------------------------------------


@pytest.mark.parametrize(
    "index, value",
    [
        (slice(0, 3), 2.0),
        (slice(0, 5), 2.0),
        (Ellipsis, 1),
        (slice(0, 3), "vector"),
        (slice(0, 2), 5),
        (slice(1, 3), "vector2"),
        ([0, 1], 5.0),
    ],
)
def test_setitem_nodes(oracle, index, value):
    def program(L):
        x = leaf(L, 1.0, 2.0, 3.0)
        b = x * 1
        v = {"vector": x * 3, "vector2": x[0:2] * 3}.get(value, value)
        b[index] = v
        (b * b).sum().backward()
        return b.grad_fn.name(), edges(b.grad_fn), b._version, b, x.grad

    both(oracle, program)


def test_inplace_on_a_view_of_a_base_without_grad_makes_the_base_require_grad(oracle):
    def program(L):
        a = leaf(L, 2.0, 3.0)
        b = L.ones(3)
        v = b[0:2]
        v.mul_(a)
        facts = (
            b.requires_grad,
            b.is_leaf,
            b.grad_fn.name(),
            edges(b.grad_fn),
            v.grad_fn.name(),
            edges(v.grad_fn),
            b._version,
            v._version,
            b,
        )
        (b * L.tensor([1.0, 10.0, 100.0])).sum().backward()
        return facts, a.grad

    assert both(oracle, program)[0][2] == "torch::autograd::CopySlices"


def test_the_issues_example_zeros_then_mul_through_a_slice(oracle):
    def program(L):
        a = leaf(L, 2.0, 3.0)
        b = L.zeros(3)
        b[0:2].mul_(a)
        facts = (b.requires_grad, b.grad_fn.name(), edges(b.grad_fn))
        b.sum().backward()
        return facts, a.grad

    both(oracle, program)


@pytest.mark.parametrize("op", ["mul_", "add_", "sub_", "div_", "zero_", "fill_", "setitem"])
def test_inplace_through_views_rewrites_the_bases_history(oracle, op):
    def program(L):
        x = L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        y = leaf(L, 0.5, -2.0)
        b = x * 1
        v = b.t()[1]  # a view of a view: rows of b.t() are columns of b
        other = b[0]
        if op == "zero_":
            v.zero_()
        elif op == "fill_":
            v.fill_(7.0)
        elif op == "setitem":
            v[0] = 9.0
        else:
            getattr(v, op)(y)
        facts = (
            b.grad_fn.name(),
            edges(b.grad_fn),
            v.grad_fn.name(),
            edges(v.grad_fn),
            other.grad_fn.name(),
            b._version,
            b,
            v,
            other,
        )
        (b * L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 7.0]])).sum().backward()
        return facts, x.grad, y.grad

    both(oracle, program)


def test_copy_slices_takes_a_gradient_of_any_layout(oracle):
    def program(L):
        x = L.tensor([[-0.5, 0.75], [1.5, 0.25]], dtype=L.float64, requires_grad=True)
        y = x @ x
        y[:, -2] = 2  # the gradient arriving at CopySlices is transposed (column-major)
        y.t().backward(L.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=L.float64))
        return x.grad

    both(oracle, program)


def test_a_stale_view_gets_its_node_when_its_base_starts_to_require_grad(oracle):
    def program(L):
        b = L.tensor([1.0, 2.0, 3.0])
        v = b[1:]
        b.mul_(2)  # v does not require grad yet: no node
        before = v.grad_fn
        b.requires_grad_()
        return before, v.grad_fn, edges(v.grad_fn), v.requires_grad, v.is_leaf

    assert both(oracle, program)[1] == ("node", "AsStridedBackward0")


def test_inplace_on_a_base_changes_its_views_node(oracle):
    def program(L):
        x = leaf(L, 1.0, 2.0, 3.0)
        b = x * 1
        v = b[0:2]
        b.mul_(2)
        facts = (v.grad_fn.name(), edges(v.grad_fn), v, b)
        v.sum().backward()
        return facts, x.grad

    assert both(oracle, program)[0][0] == "AsStridedBackward0"


def test_saved_view_geometry(oracle):
    def program(L):
        m = L.ones(2, 3, requires_grad=True) * 1
        v = m.t()
        v.mul_(2)
        node = v.grad_fn
        return node.name(), node._saved_size, node._saved_stride, node._saved_storage_offset

    both(oracle, program)


def test_views_of_a_leaf_that_requires_grad_refuse_inplace(oracle):
    def program(L):
        a = leaf(L, 2.0, 3.0)
        return (
            outcome(L, lambda: a[0:1].mul_(2)),
            outcome(L, lambda: a.__setitem__(0, 2.0)),
            a._version,
        )

    both(oracle, program)


def test_a_view_made_under_no_grad_cannot_be_changed_with_grad_on(oracle):
    def program(L):
        a = leaf(L, 2.0, 3.0) * 1
        with L.no_grad():
            v = a[0:1]
        with L.no_grad():
            w = a[1:]
            w.mul_(2)  # both in no_grad: allowed
        b = L.zeros(3)
        with L.no_grad():
            u = b[0:1]
        return (
            outcome(L, lambda: v.mul_(2)),
            outcome(L, lambda: u.mul_(a[0:1])),
            a._version,
            b._version,
            a,
        )

    assert both(oracle, program)[0][0] == "raises"


def test_a_view_follows_its_bases_requires_grad(oracle):
    def program(L):
        b = L.zeros(3)
        v = b[0:2]
        before = v.requires_grad
        b.requires_grad_()
        return before, v.requires_grad, v.is_leaf, v.grad_fn

    assert both(oracle, program) == (False, True, True, None)


def test_overlapping_inplace_raises(oracle):
    def program(L):
        x = L.tensor([1.0, 2.0, 3.0])
        return outcome(L, lambda: x[0:2].add_(x[1:3])), x, x._version

    assert both(oracle, program)[0][0] == "raises"


def test_multi_output_views_refuse_inplace(oracle):
    def program(L):
        a = L.ones(2, 2, requires_grad=True) * 1
        u, _ = a.unbind(0)
        return outcome(L, lambda: u.mul_(2)), a._version

    both(oracle, program)


@pytest.mark.parametrize("grad_mode", [True, False])
@pytest.mark.parametrize("made", ["unbind", "no_grad"])
def test_views_whose_base_changed_refuse_their_grad_fn(oracle, made, grad_mode):
    def program(L):
        a = leaf(L, 1.0, 2.0, 3.0, 4.0).reshape(2, 2) * 1
        if made == "unbind":
            v = a.unbind(0)[1]
        else:
            with L.no_grad():
                v = a[1]
        with L.set_grad_enabled(grad_mode):
            a.mul_(2)
        return outcome(L, lambda: v.grad_fn), v.requires_grad, a.grad_fn.name(), a

    assert both(oracle, program)[0][0] == "raises"


def test_backward_through_a_refused_view_raises_its_error():
    """PyTorch raises as soon as the view takes part in an op; gradlab raises the same
    error when backward reaches it (README: Differences from PyTorch)."""
    a = gradlab.ones(2, 2, requires_grad=True) * 1
    u, _ = a.unbind(0)
    a.mul_(2)
    out = (u * 3).sum()
    with pytest.raises(RuntimeError, match="Output 0 of Unbind is a view and its base"):
        out.backward()


# --- saved tensors -----------------------------------------------------------------------


def test_a_saved_result_keeps_its_graph(oracle):
    def program(L):
        a = leaf(L, 1.0, 2.0)
        e = a.exp()
        saved = e.grad_fn._saved_result
        return (
            saved,
            saved.grad_fn is e.grad_fn,
            saved is e,
            saved.is_leaf,
            saved.output_nr,
            saved._version,
            e.tanh().grad_fn._saved_result,
        )

    assert both(oracle, program)[0][3] == "ExpBackward0"


def test_pow_with_a_tensor_exponent_checks_its_saved_result(oracle):
    def program(L):
        a = leaf(L, 1.0, 2.0)
        p = L.tensor([2.0, 3.0])
        out = a**p
        names = tuple(n for n in dir(out.grad_fn) if n.startswith("_saved_"))
        out.add_(1)
        return names, outcome(L, lambda: out.sum().backward()), a.grad

    assert both(oracle, program)[1][0] == "raises"


def test_saved_sizes_are_tuples(oracle):
    def program(L):
        a = L.ones(2, 3, requires_grad=True)
        nodes = [
            a.sum().grad_fn,
            a.mean().grad_fn,
            a.sum(0).grad_fn,
            a.reshape(3, 2).grad_fn,
            a[0].grad_fn,
            a[:, 1:].grad_fn,
            a[[0, 1]].grad_fn,
        ]
        return tuple(
            (type(n._saved_self_sym_sizes).__name__, n._saved_self_sym_sizes) for n in nodes
        )

    both(oracle, program)


@pytest.mark.parametrize("method", ["add", "sub", "add_", "sub_"])
@pytest.mark.parametrize("alpha", [2, 0.5, -1])
def test_alpha_is_saved_on_one_node(oracle, method, alpha):
    def program(L):
        a = leaf(L, 1.0, 2.0, dtype="float64")
        c = leaf(L, 3.0, -1.0, dtype="float64")
        base = a * 1 if method.endswith("_") else a
        out = getattr(base, method)(c, alpha=alpha)
        also = getattr(a * 1 if method.endswith("_") else a, method)(3, alpha=alpha)
        (out * L.tensor([1.0, 2.0], dtype=L.float64)).sum().backward()
        node = out.grad_fn
        return (
            node.name(),
            node._saved_alpha,
            edges(node),
            out,
            also,
            also.grad_fn._saved_alpha,
            a.grad,
            c.grad,
        )

    both(oracle, program)


def test_alpha_of_one_saves_one(oracle):
    def program(L):
        a = leaf(L, 1.0, 2.0)
        out = a.add(a)
        return out.grad_fn.name(), out.grad_fn._saved_alpha, edges(out.grad_fn)

    assert both(oracle, program)[1] == 1
