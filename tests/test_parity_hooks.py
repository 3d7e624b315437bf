"""Hooks and the engine, each program run on gradlab and on torch: what hooks may return
(PyTorch's checks of count, type and size), hooks on outputs that get no gradient, freed
graphs, flags that only leaves may change, ``.data`` swaps, custom Functions, the seed
gradient's type, and the grad mode of each thread.

Every program returns plain data (see ``tests.test_parity_views.summary``); torch's side
is asked through the ``oracle`` fixture, live or as recorded in tests/torch_expected/.
"""

from __future__ import annotations

import threading

import pytest

from tests.test_parity_views import both, leaf, outcome

# --- what hooks may return ---------------------------------------------------------------


def _node_post_hook(result):
    def program(L):
        x = leaf(L, 1.0, 2.0)
        c = x * 2
        c.grad_fn.register_hook(lambda grads_in, grads_out: result(L, grads_in))
        return outcome(L, lambda: c.sum().backward()), x.grad

    return program


def _node_pre_hook(result):
    def program(L):
        x = leaf(L, 1.0, 2.0)
        c = x * 2
        c.grad_fn.register_prehook(lambda grads_out: result(L, grads_out))
        return outcome(L, lambda: c.sum().backward()), x.grad

    return program


def _tensor_hook(result, on_leaf=False):
    def program(L):
        x = leaf(L, 1.0, 2.0)
        target = x if on_leaf else x * 2

        def my_hook(grad):
            return result(L, grad)

        target.register_hook(my_hook)
        return outcome(L, lambda: (target * 3).sum().backward()), x.grad

    return program


def _as_double(L, g):
    return g * L.ones(2, dtype=L.float64)


HOOK_RESULTS = {
    "post: one grad for two inputs": _node_post_hook(lambda L, g: (g[0],)),
    "post: three grads for two inputs": _node_post_hook(lambda L, g: (g[0], g[0], g[0])),
    "post: right count": _node_post_hook(lambda L, g: (g[0] * 10, None)),
    "post: changed dtype": _node_post_hook(lambda L, g: (_as_double(L, g[0]), None)),
    "post: changed size": _node_post_hook(lambda L, g: (g[0][0:1], None)),
    "pre: two grads for one output": _node_pre_hook(lambda L, g: (g[0], g[0])),
    "pre: none at all": _node_pre_hook(lambda L, g: ()),
    "pre: changed dtype": _node_pre_hook(lambda L, g: (_as_double(L, g[0]),)),
    "pre: right count": _node_pre_hook(lambda L, g: (g[0] + 1,)),
    "tensor: changed dtype": _tensor_hook(_as_double),
    "leaf tensor: changed dtype": _tensor_hook(_as_double, on_leaf=True),
    "tensor: changed size": _tensor_hook(lambda L, g: g[0:1]),
    "tensor: a number": _tensor_hook(lambda L, g: 3),
    "tensor: a replacement": _tensor_hook(lambda L, g: g * 2),
}


@pytest.mark.parametrize("name", HOOK_RESULTS)
def test_hook_results_are_checked(oracle, name):
    both(oracle, HOOK_RESULTS[name])


def test_a_hook_on_an_unused_unbind_output_sees_none(oracle):
    def program(L):
        a = L.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        u, v = a.unbind(0)
        log = []
        v.register_hook(lambda g: log.append(g))
        u.register_hook(lambda g: log.append(g))
        u.sum().backward()
        return tuple(log), a.grad

    assert both(oracle, program)[0][0] is None


@pytest.mark.parametrize("hooks_before, hooks_after", [(1, 0), (0, 1), (1, 1)])
def test_hooks_of_a_leaf_moved_into_the_graph(oracle, hooks_before, hooks_after):
    # PyTorch drops a tensor's hooks when an in-place op gives it a new grad_fn; one
    # registered afterwards runs at that grad_fn and at the leaf's old AccumulateGrad
    def program(L):
        log = []
        t = leaf(L, 1.0, 2.0)
        if hooks_before:
            t.register_hook(lambda g: log.append(("before", g)))
        y = t * 3
        t.requires_grad_(False)
        t.mul_(leaf(L, 5.0, 6.0))
        if hooks_after:
            t.register_hook(lambda g: log.append(("after", g)))
        return outcome(L, lambda: (y.sum() + t.sum()).backward()), tuple(log)

    assert both(oracle, program)[0][0] == "raises"


# --- freed graphs and flags --------------------------------------------------------------


@pytest.mark.parametrize("retain", [False, True])
def test_a_second_backward_through_copy_slices(oracle, retain):
    def program(L):
        a = leaf(L, 1.0, 2.0, 3.0)
        b = a * 1
        b[0:2] = 5.0
        c = a * 2
        c[1:].mul_(a[1:])  # CopySlices around a node that saved tensors
        first = (b.sum() + c.sum()).backward(retain_graph=retain)
        again = outcome(L, lambda: b.sum().backward())
        again_c = outcome(L, lambda: c.sum().backward())
        return first, again, again_c, a.grad, b.grad_fn.name(), c.grad_fn.name()

    result = both(oracle, program)
    assert (result[1] is not None) is not retain


def test_requires_grad_can_only_be_set_on_leaves(oracle):
    def program(L):
        a = leaf(L, 1.0, 2.0)
        b = a * 1

        def assign(value):
            b.requires_grad = value

        return (
            outcome(L, lambda: assign(True)),
            outcome(L, lambda: assign(False)),
            outcome(L, lambda: b.requires_grad_(True)),
            outcome(L, lambda: b.requires_grad_(False)),
            b.requires_grad,
        )

    assert both(oracle, program)[0][0] == "raises"


def test_data_of_another_dtype_on_a_tensor_that_requires_grad(oracle):
    def program(L):
        a = leaf(L, 1.0, 2.0)
        b = L.tensor([1.0, 2.0])

        def assign(t, value):
            t.data = value

        return (
            outcome(L, lambda: assign(a, L.tensor([1, 2]))),
            a,
            outcome(L, lambda: assign(b, L.tensor([1, 2]))),
            b,
            outcome(L, lambda: assign(a, L.tensor([1.0, 2.0], dtype=L.float64))),
            a,
        )

    assert both(oracle, program)[0][0] == "raises"


def test_data_of_another_shape_then_backward(oracle):
    def program(L):
        a = leaf(L, 1.0, 2.0)
        b = a * a
        a.data = L.tensor([1.0, 2.0, 3.0])
        return outcome(L, lambda: b.sum().backward()), a.grad

    assert both(oracle, program)[0][0] == "raises"


def test_data_of_another_shape_without_saved_values(oracle):
    def program(L):
        a = leaf(L, 1.0, 2.0)
        b = (a * 3).sum()
        a.data = L.tensor([[1.0, 2.0]])
        return outcome(L, lambda: b.backward()), a.grad, tuple(a.shape)

    both(oracle, program)


def test_views_of_a_base_whose_data_was_swapped(oracle):
    # the views keep the old memory; PyTorch places them in the base by storage offset
    def program(L):
        a = L.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
        b = a * 1
        v, w = b[2:3], b[1:2]
        b.data = L.tensor([[10.0, 20.0], [30.0, 40.0], [50.0, 60.0]])
        w.mul_(a[0:1])  # b gets CopySlices, v AsStridedBackward0
        b.backward(L.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), retain_graph=True)
        first = a.grad.clone()
        v.sum().backward()
        return first, a.grad, b, v, w, b.grad_fn.name(), v.grad_fn.name()

    both(oracle, program)


# --- custom Functions --------------------------------------------------------------------


def _function(L):
    class Split(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x > 0, x * 2

        @staticmethod
        def backward(ctx, grad_mask, grad_double):
            return grad_double * 2

    return Split


def test_a_custom_functions_bool_output_gets_no_grad_fn(oracle):
    def program(L):
        a = leaf(L, 1.0, -2.0)
        mask, double = _function(L).apply(a)
        double.sum().backward()
        return mask, mask.grad_fn, mask.requires_grad, mask.is_leaf, double, a.grad

    assert both(oracle, program)[0][2:] == (False, None)


def test_custom_function_apply_takes_keywords(oracle):
    def program(L):
        class Scale(L.autograd.Function):
            @staticmethod
            def forward(ctx, x, factor=2.0):
                ctx.factor = factor
                return x * factor

            @staticmethod
            def backward(ctx, grad):
                return grad * ctx.factor, None

        a = leaf(L, 1.0, -2.0)
        out = Scale.apply(x=a)
        out2 = Scale.apply(a, factor=3.0)
        (out + out2).sum().backward()
        return out, out2, a.grad

    both(oracle, program)


# --- the seed gradient and grad mode -----------------------------------------------------


@pytest.mark.parametrize("gradient", [[1.0, 1.0], (1.0, 1.0), 1.0, "ones", None], ids=repr)
def test_backward_gradient_must_be_a_tensor(oracle, gradient):
    def program(L):
        a = leaf(L, 1.0, -2.0)
        seed = L.ones(2) if gradient == "ones" else gradient
        return outcome(L, lambda: (a * 2).backward(gradient=seed)), a.grad

    both(oracle, program)


def test_grad_mode_is_per_thread(oracle):
    def program(L):
        seen = []

        def worker():
            a = leaf(L, 1.0)
            seen.append((L.is_grad_enabled(), (a * 2).requires_grad))
            with L.no_grad():
                seen.append(L.is_grad_enabled())

        with L.no_grad():
            thread = threading.Thread(target=worker)
            thread.start()
            thread.join()
            seen.append(L.is_grad_enabled())
        seen.append(L.is_grad_enabled())
        return tuple(seen)

    assert both(oracle, program) == ((True, True), False, False, True)
