"""Errors: the same exception type as torch (gradlab may raise a subclass) with the same
leading words (up to torch's "Hint", with torch. spelled gradlab.), and nothing half-done:
a rejected op leaves data, version, grad_fn and .grad as they were.
"""

from __future__ import annotations

import pytest

import gradlab
from tests.parity import message_head, raised

# --- programs that must fail, written once for both libraries -----------------------------


def leaf(L, data=(1.0, 2.0, 3.0), **kw):
    return L.tensor(list(data), requires_grad=True, **kw)


def _version_error(L):
    a, b, d = (L.tensor(v, requires_grad=True) for v in (2.0, 3.0, 4.0))
    c = a * b
    e = c * d
    c += 1
    e.backward()


def _version_error_vector(L):
    a = leaf(L, dtype=L.float64)
    b = a.exp()  # saves its result
    b.mul_(2)
    b.sum().backward()


def _version_error_through_detach(L):
    a = leaf(L)
    b = a * 1
    c = b * b
    b.detach().zero_()
    c.sum().backward()


def _version_error_of_a_leaf(L):
    a = leaf(L)
    w = L.tensor([1.0, 2.0, 3.0])
    c = a * w  # saves w
    w.add_(1)
    c.sum().backward()


def _second_backward(L):
    a = leaf(L)
    c = (a * a).sum()
    c.backward()
    c.backward()


def _saved_after_free(L):
    a = leaf(L)
    c = a * a
    c.sum().backward()
    return c.grad_fn._saved_self


def _non_scalar_backward(L):
    (leaf(L) * 2).backward()


def _no_grad_backward(L):
    L.tensor(1.0).backward()


def _no_grad_backward_vector(L):
    (L.tensor([1.0, 2.0]) * 2).backward(L.ones(2))


def _backward_under_no_grad(L):
    a = leaf(L)
    with L.no_grad():
        b = a * 2
    b.sum().backward()


def _leaf_inplace(method, *args):
    def program(L):
        getattr(leaf(L), method)(*args)

    return program


def _leaf_iadd(L):
    a = leaf(L)
    a += 1


def _leaf_setitem(L):
    a = leaf(L)
    a[0] = 5.0


def _numpy_requires_grad(L):
    (leaf(L) * 2).numpy()


def _item_many(L):
    L.tensor([1.0, 2.0]).item()


def _int_requires_grad(L):
    L.tensor([1, 2], requires_grad=True)


def _int_requires_grad_(L):
    L.tensor([1, 2]).requires_grad_()


def _int_requires_grad_attr(L):
    L.tensor([1, 2]).requires_grad = True


def _bool_requires_grad(L):
    L.tensor([True]).requires_grad_()


def _broadcast(L):
    L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]) + L.tensor([1.0, 2.0])


def _broadcast_mul_leading(L):
    L.ones(2, 4, 3) * L.ones(3, 1, 3).requires_grad_()


def _broadcast_compare(L):
    return L.ones(3) > L.ones(2)


def _inplace_broadcast(L):
    y = leaf(L) * 1
    y += L.ones(2, 3)


def _inplace_int_from_float(L):
    y = L.tensor([1, 2])
    y.add_(1.5)


def _matmul(sa, sb):
    def program(L):
        L.ones(*sa) @ L.ones(*sb)

    return program


def _matmul_dtypes(L):
    L.ones(2, 2) @ L.ones(2, 2, dtype=L.float64)


def _gradient_shape(L):
    (leaf(L) * 2).backward(L.ones(4))


def _grad_outputs_shape(L):
    a = leaf(L)
    L.autograd.grad(a * 2, a, L.ones(2, 3))


def _grad_wrong_size(L):
    leaf(L).grad = L.ones(4)


def _grad_wrong_dtype(L):
    leaf(L).grad = L.ones(3, dtype=L.float64)


def _requires_grad_false_on_non_leaf(L):
    (leaf(L) * 2).requires_grad_(False)


def _unbind_output_inplace(L):
    a = L.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b, c = a.unbind()
    b.add_(1)


def _unbind_output_inplace_of_non_leaf(L):
    a = L.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True) * 2
    b, c = a.unbind(1)
    c.mul_(2)


def _reshape_invalid(L):
    L.ones(2, 3).reshape(4, 2)


def _view_invalid(L):
    L.ones(2, 3).view(-1, 4)


def _view_of_transpose(L):
    L.ones(2, 3).T.view(6)


def _index(k):
    def program(L):
        return L.ones(2, 3)[k]

    return program


def _setitem(k, v):
    def program(L):
        y = L.zeros(2, 3)
        y[k] = v(L) if callable(v) else v

    return program


def _dim(op):
    def program(L):
        return op(L, L.ones(2, 3, requires_grad=True))

    return program


def _cat_sizes(L):
    L.cat([L.ones(2, 3), L.ones(3, 2)], 0)


def _cat_sizes_dim1(L):
    L.cat([L.ones(2, 3), L.ones(3, 2)], dim=1)


def _cat_empty(L):
    L.cat([])


def _stack_sizes(L):
    L.stack([L.ones(2, 3), L.ones(2, 3), L.ones(3, 2)])


def _stack_empty(L):
    L.stack([])


def _grad_unused(L):
    a, b = leaf(L), leaf(L)
    L.autograd.grad((a * 2).sum(), [a, b])


def _grad_not_requiring(L):
    a = leaf(L)
    L.autograd.grad((a * 2).sum(), [L.ones(3)])


def _grad_of_output_without_graph(L):
    a = leaf(L)
    L.autograd.grad(L.ones(()), [a])


def _backward_inputs_empty(L):
    (leaf(L) * 2).sum().backward(inputs=[])


def _backward_inputs_not_requiring(L):
    (leaf(L) * 2).sum().backward(inputs=[L.ones(3)])


def _mean_int(L):
    L.tensor([1, 2]).mean()


def _hook_wrong_size(L):
    a = leaf(L)
    b = a * 2
    b.register_hook(lambda g: L.ones(2))
    b.sum().backward()


def _hook_on_plain_tensor(L):
    L.ones(3).register_hook(lambda g: g)


def _retain_grad_on_plain_tensor(L):
    L.ones(3).retain_grad()


def _bool_of_many(L):
    bool(L.ones(2))


def _ragged(L):
    L.tensor([[1.0, 2.0], [3.0]])


def _len_0d(L):
    len(L.tensor(1.0))


def _iter_0d(L):
    iter(L.tensor(1.0))


def _neg_bool(L):
    -L.tensor([True, False])


def _permute_wrong_length(L):
    L.ones(2, 3).permute(0)


def _permute_repeated(L):
    L.ones(2, 3).permute(0, 0)


def _unbind_0d(L):
    L.tensor(1.0).unbind()


def _backward_of_int_sum(L):
    L.tensor([1, 2]).sum().backward()


def _slice_step_negative(L):
    L.ones(4)[::-1]


ERRORS = [
    ("version_error", _version_error),
    ("version_error_vector", _version_error_vector),
    ("version_error_through_detach", _version_error_through_detach),
    ("version_error_of_a_leaf", _version_error_of_a_leaf),
    ("second_backward", _second_backward),
    ("saved_after_free", _saved_after_free),
    ("non_scalar_backward", _non_scalar_backward),
    ("no_grad_backward", _no_grad_backward),
    ("no_grad_backward_vector", _no_grad_backward_vector),
    ("backward_of_no_grad_result", _backward_under_no_grad),
    ("backward_of_int_sum", _backward_of_int_sum),
    ("leaf_add_", _leaf_inplace("add_", 1.0)),
    ("leaf_sub_", _leaf_inplace("sub_", 1.0)),
    ("leaf_mul_", _leaf_inplace("mul_", 2.0)),
    ("leaf_div_", _leaf_inplace("div_", 2.0)),
    ("leaf_zero_", _leaf_inplace("zero_")),
    ("leaf_fill_", _leaf_inplace("fill_", 1.0)),
    ("leaf_iadd", _leaf_iadd),
    ("leaf_setitem", _leaf_setitem),
    ("numpy_requires_grad", _numpy_requires_grad),
    ("item_many", _item_many),
    ("int_requires_grad", _int_requires_grad),
    ("int_requires_grad_", _int_requires_grad_),
    ("int_requires_grad_attribute", _int_requires_grad_attr),
    ("bool_requires_grad_", _bool_requires_grad),
    ("broadcast", _broadcast),
    ("broadcast_leading", _broadcast_mul_leading),
    ("broadcast_compare", _broadcast_compare),
    ("inplace_broadcast", _inplace_broadcast),
    ("inplace_int_from_float", _inplace_int_from_float),
    ("matmul_2d_2d", _matmul((2, 3), (2, 3))),
    ("matmul_2d_1d", _matmul((2, 3), (2,))),
    ("matmul_1d_1d", _matmul((3,), (2,))),
    ("matmul_1d_2d", _matmul((3,), (2, 4))),
    ("matmul_dtypes", _matmul_dtypes),
    ("backward_gradient_shape", _gradient_shape),
    ("grad_outputs_shape", _grad_outputs_shape),
    ("grad_wrong_size", _grad_wrong_size),
    ("grad_wrong_dtype", _grad_wrong_dtype),
    ("requires_grad_false_on_non_leaf", _requires_grad_false_on_non_leaf),
    ("unbind_output_inplace", _unbind_output_inplace),
    ("unbind_output_inplace_non_leaf", _unbind_output_inplace_of_non_leaf),
    ("reshape_invalid", _reshape_invalid),
    ("view_invalid", _view_invalid),
    ("view_of_transpose", _view_of_transpose),
    ("index_out_of_range", _index(2)),
    ("index_negative_out_of_range", _index(-3)),
    ("index_second_dim", _index((0, 3))),
    ("index_too_many", _index((0, 1, 2))),
    ("index_list_out_of_range", _index([0, 5])),
    ("slice_negative_step", _slice_step_negative),
    ("setitem_out_of_range", _setitem(5, 1.0)),
    ("setitem_shape", _setitem(0, lambda L: L.ones(2))),
    ("setitem_shape_slice", _setitem(slice(0, 1), lambda L: L.ones(2, 1))),
    ("setitem_list_shape", _setitem([0, 1], lambda L: L.ones(2))),
    ("sum_dim", _dim(lambda L, a: a.sum(2))),
    ("sum_dim_negative", _dim(lambda L, a: a.sum(-3))),
    ("mean_dims", _dim(lambda L, a: a.mean((0, 5)))),
    ("transpose_dim", _dim(lambda L, a: a.transpose(0, 2))),
    ("unsqueeze_dim", _dim(lambda L, a: a.unsqueeze(3))),
    ("unsqueeze_negative_dim", _dim(lambda L, a: a.unsqueeze(-4))),
    ("permute_dim", _dim(lambda L, a: a.permute(0, 2))),
    ("unbind_dim", _dim(lambda L, a: a.unbind(2))),
    ("cat_dim", _dim(lambda L, a: L.cat([a, a], 2))),
    ("stack_dim", _dim(lambda L, a: L.stack([a, a], 3))),
    ("cat_sizes", _cat_sizes),
    ("cat_sizes_dim1", _cat_sizes_dim1),
    ("cat_empty", _cat_empty),
    ("stack_sizes", _stack_sizes),
    ("stack_empty", _stack_empty),
    ("grad_unused", _grad_unused),
    ("grad_not_requiring", _grad_not_requiring),
    ("grad_of_output_without_graph", _grad_of_output_without_graph),
    ("backward_inputs_empty", _backward_inputs_empty),
    ("backward_inputs_not_requiring_grad", _backward_inputs_not_requiring),
    ("mean_int", _mean_int),
    ("hook_wrong_size", _hook_wrong_size),
    ("hook_on_plain_tensor", _hook_on_plain_tensor),
    ("retain_grad_on_plain_tensor", _retain_grad_on_plain_tensor),
    ("bool_of_many", _bool_of_many),
    ("ragged", _ragged),
    ("len_0d", _len_0d),
    ("iter_0d", _iter_0d),
    ("neg_bool", _neg_bool),
    ("permute_wrong_length", _permute_wrong_length),
    ("permute_repeated", _permute_repeated),
    ("unbind_0d", _unbind_0d),
]


# Messages compared only up to (and including) these words: what follows in torch's text
# describes a feature gradlab does not have (a tensor's grad_dtype attribute).
CUT = {"grad_wrong_dtype": "(defaults to the tensor's dtype)."}


@pytest.mark.parametrize("name,program", ERRORS, ids=[e[0] for e in ERRORS])
def test_same_error_as_torch(oracle, name, program):
    theirs = oracle(lambda torch: raised(lambda: program(torch)))
    ours = raised(lambda: program(gradlab))
    assert isinstance(ours, type(theirs)), f"{type(ours).__name__} is not a {type(theirs)}: {ours}"
    ours_text, theirs_text = message_head(ours), message_head(theirs, torch_message=True)
    if name in CUT:
        marker = CUT[name]
        theirs_text = theirs_text[: theirs_text.index(marker) + len(marker)]
    assert ours_text == theirs_text


def test_version_error_names_the_saved_tensor(oracle):
    """The words a learner searches for, in full: type, shape, producer, both versions."""
    ours = raised(lambda: _version_error(gradlab))
    assert str(ours).startswith(
        "one of the variables needed for gradient computation has been modified by an "
        "inplace operation: [gradlab.FloatTensor []], which is output 0 of Add, is at "
        "version 1; expected version 0 instead."
    )
    theirs = oracle(lambda torch: raised(lambda: _version_error(torch)))
    assert message_head(ours) == message_head(theirs, torch_message=True)


# --- nothing half-done --------------------------------------------------------------------


def state(t):
    """Everything a rejected operation must leave as it was."""
    grad = t.grad if t.is_leaf or t.retains_grad else None
    return {
        "values": t.detach().numpy().tolist(),
        "dtype": str(t.dtype).split(".")[-1],
        "version": t._version,
        "grad_fn": t.grad_fn,
        "grad": None if grad is None else grad.numpy().tolist(),
        "requires_grad": t.requires_grad,
        "is_leaf": t.is_leaf,
    }


def _rejected(build, act):
    """``build(L)`` returns the tensors to watch; ``act(L, *tensors)`` must raise."""

    def check(L):
        tensors = build(L)
        before = [state(t) for t in tensors]
        raised(lambda: act(L, *tensors))
        after = [state(t) for t in tensors]
        assert after == before, f"{L.__name__} changed state: {before} -> {after}"
        return tensors

    return check


def _pair(L):
    a = L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    y = a * 2
    return a, y


def _with_grad(L):
    a = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (a * a).sum().backward()
    return (a,)


REJECTED = [
    ("leaf_add_", lambda L: (leaf(L),), lambda L, a: a.add_(1)),
    ("leaf_iadd_tensor", lambda L: (leaf(L), L.ones(3)), lambda L, a, b: a.__iadd__(b)),
    ("leaf_setitem", lambda L: (leaf(L),), lambda L, a: a.__setitem__(0, 1.0)),
    ("leaf_zero_", lambda L: (leaf(L),), lambda L, a: a.zero_()),
    ("inplace_broadcast", _pair, lambda L, a, y: y.add_(L.ones(2, 2, 3))),
    ("inplace_broadcast_other", _pair, lambda L, a, y: y.mul_(L.ones(4))),
    ("inplace_int_from_float", lambda L: (L.tensor([1, 2]),), lambda L, t: t.add_(1.5)),
    (
        "inplace_int_from_float_tensor",
        lambda L: (L.tensor([1, 2]), leaf(L, (1.0, 2.0))),
        lambda L, t, f: t.mul_(f),
    ),
    (
        "unbind_output",
        lambda L: (lambda a: (a, *a.unbind()))(leaf(L) * 1),
        lambda L, a, b, c, d: c.add_(1),
    ),
    ("setitem_shape", _pair, lambda L, a, y: y.__setitem__(0, L.ones(2))),
    ("setitem_index", _pair, lambda L, a, y: y.__setitem__(5, 1.0)),
    ("setitem_list_shape", _pair, lambda L, a, y: y.__setitem__([0, 1], L.ones(2))),
    ("broadcast", _pair, lambda L, a, y: a + y[:, :2]),
    ("matmul_shapes", _pair, lambda L, a, y: a @ y),
    ("backward_gradient_shape", _pair, lambda L, a, y: y.backward(L.ones(3))),
    ("backward_non_scalar", _pair, lambda L, a, y: y.backward()),
    ("grad_outputs_shape", _pair, lambda L, a, y: L.autograd.grad(y, a, L.ones(2))),
    ("grad_not_requiring", _pair, lambda L, a, y: L.autograd.grad(y.sum(), [a, L.ones(1)])),
    ("grad_wrong_size", _with_grad, lambda L, a: setattr(a, "grad", L.ones(2))),
    ("grad_wrong_dtype", _with_grad, lambda L, a: setattr(a, "grad", L.ones(3, dtype=L.float64))),
    ("int_requires_grad_", lambda L: (L.tensor([1, 2]),), lambda L, t: t.requires_grad_()),
    ("requires_grad_false_non_leaf", _pair, lambda L, a, y: y.requires_grad_(False)),
    ("item_many", _pair, lambda L, a, y: y.item()),
    ("numpy", _pair, lambda L, a, y: y.numpy()),
    ("reshape", _pair, lambda L, a, y: y.reshape(4, 2)),
    ("cat", _pair, lambda L, a, y: L.cat([a, y.T])),
]


@pytest.mark.parametrize("name,build,act", REJECTED, ids=[r[0] for r in REJECTED])
def test_rejected_operation_changes_nothing(oracle, name, build, act):
    def unchanged(L):
        _rejected(build, act)(L)  # fails if L changed anything
        return True

    assert oracle(unchanged)  # torch too: the test asks for nothing torch does not do
    assert unchanged(gradlab)


def test_graph_still_works_after_rejected_backward_arguments():
    """A backward refused for its arguments frees nothing: the right call still works."""
    a = gradlab.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = a * a
    raised(lambda: y.backward())
    raised(lambda: y.backward(gradlab.ones(4)))
    raised(lambda: gradlab.autograd.grad(y, [a, gradlab.ones(3)], gradlab.ones(3)))
    assert a.grad is None
    assert y.grad_fn._saved_self is a
    y.backward(gradlab.ones(3))
    assert a.grad.tolist() == [2.0, 4.0, 6.0]


def test_rejected_inplace_keeps_the_saved_values_valid():
    """A refused ``y += ...`` must not bump the version: backward through y still works."""
    a = gradlab.tensor([1.0, 2.0], requires_grad=True)
    y = a * 1
    z = y * y
    raised(lambda: y.__iadd__(gradlab.ones(3)))
    raised(lambda: y.__itruediv__(gradlab.ones(2, 2)))
    assert y._version == 0
    z.sum().backward()
    assert a.grad.tolist() == [2.0, 4.0]


# --- documented limitations: a clear error, and nothing changed -------------------------


LIMITATIONS = [
    (
        "matmul_3d",
        lambda L: (L.ones(2, 2, 3), L.ones(3, 2)),
        lambda L, a, b: a @ b,
        "matmul takes 1-d and 2-d tensors",
    ),
    (
        "create_graph",
        lambda L: (leaf(L),),
        lambda L, a: (a * a).sum().backward(create_graph=True),
        "create_graph",
    ),
    (
        "grad_create_graph",
        lambda L: (leaf(L),),
        lambda L, a: L.autograd.grad((a * a).sum(), a, create_graph=True),
        "create_graph",
    ),
]


@pytest.mark.parametrize("name,build,act,words", LIMITATIONS, ids=[x[0] for x in LIMITATIONS])
def test_documented_limitations_raise_a_clear_error(name, build, act, words):
    tensors = _rejected(build, act)(gradlab)
    error = raised(lambda: act(gradlab, *tensors))
    assert isinstance(error, (RuntimeError, NotImplementedError))
    assert words in str(error)


def test_inplace_on_a_view_without_grad_works_like_torch(oracle):
    """The limitation is only for tensors that require grad; views (also the 0-d ones of
    ``x[0]`` and ``unbind``) write through to their base and share its version."""

    def run(L):
        x = L.tensor([1.0, 2.0, 3.0, 4.0])
        v = x[1:]
        v.mul_(10)
        x[0] = -1.0
        e = x[3]
        e += 0.5
        first, *_ = x.unbind()
        first.fill_(7.0)
        return (
            x.tolist(),
            v.tolist(),
            e.item(),
            first.item(),
            x._version,
            v._version,
            e._version,
            first._version,
        )

    assert run(gradlab) == oracle(run)
