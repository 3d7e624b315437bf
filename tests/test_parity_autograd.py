"""Autograd behaviour beyond single ops, each program run on gradlab and on torch: hooks
(on tensors and on nodes: order, values, replacements, removal), retain_grad, detach and
.data (storage and version counters), requires_grad_, grad modes, accumulation,
backward(inputs=), autograd.grad, custom Functions, gradcheck, and the partial effects of
a backward pass that fails midway.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradlab
from tests.parity import message_head, raised


def plain(x):
    """Tensors (and nested tuples/lists of them) as Python values, for comparing."""
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    if isinstance(x, (tuple, list)):
        return [plain(v) for v in x]
    if hasattr(x, "detach"):
        return {"values": x.detach().numpy().tolist(), "dtype": str(x.dtype).split(".")[-1]}
    return repr(x)


def grads(*tensors):
    return [plain(t.grad) for t in tensors]


def both(oracle, program):
    """``program(L, log)`` on gradlab and on torch (tests/oracle.py); its return value and
    log must be equal."""

    def run(L):
        log: list = []
        out = program(L, log)
        return {"log": plain(log), "result": plain(out)}

    ours = run(gradlab)
    assert ours == oracle(run)
    return ours


def f64(L, *values, rg=True):
    return L.tensor(
        list(values) if len(values) > 1 else values[0], dtype=L.float64, requires_grad=rg
    )


# --- hooks on tensors ---------------------------------------------------------------------


def _leaf_hooks(L, log):
    a = f64(L, 1.0, 2.0)
    a.register_hook(lambda g: log.append(("first", g)))
    a.register_hook(lambda g: g * 10)  # replaces what is accumulated
    a.register_hook(lambda g: log.append(("third sees", g)))
    (a * a * 3).sum().backward()
    return a.grad


def _non_leaf_hooks(L, log):
    a = f64(L, 1.0, 2.0)
    b = a * 2
    b.register_hook(lambda g: log.append(("b", g)))
    b.register_hook(lambda g: g + 1)  # changes what flows on to a
    c = b * b
    c.register_hook(lambda g: log.append(("c", g)))
    c.sum().backward()
    return a.grad


def _removed_hook(L, log):
    a = f64(L, 1.0, 2.0)
    b = a * 3
    handle = b.register_hook(lambda g: g * 0)
    keep = b.register_hook(lambda g: log.append(("kept", g)))
    handle.remove()
    b.sum().backward()
    keep.remove()
    a.grad = None
    b2 = a * 3
    b2.sum().backward()
    return a.grad


def _hook_on_a_tensor_used_twice(L, log):
    a = f64(L, 3.0)
    b = a * 2
    b.register_hook(lambda g: log.append(("b once, summed", g)))
    (b * b + b).backward()
    return a.grad


def _hooks_on_unbind_outputs(L, log):
    a = f64(L, 1.0, 2.0, 3.0)
    x, y, z = a.unbind()
    for name, t in (("x", x), ("y", y), ("z", z)):
        t.register_hook(lambda g, name=name: log.append((name, g)))
    y.register_hook(lambda g: g * 100)
    (x * y * z).backward()
    return a.grad


def _hook_order_with_retain_grad(L, log):
    a = f64(L, 1.0, 2.0)
    b = a * 2
    b.retain_grad()
    b.register_hook(lambda g: g * 3)  # registered after retain_grad, still runs before it
    b.register_hook(lambda g: log.append(("b", g)))
    (b * b).sum().backward()
    return a.grad, b.grad


TENSOR_HOOKS = [
    _leaf_hooks,
    _non_leaf_hooks,
    _removed_hook,
    _hook_on_a_tensor_used_twice,
    _hooks_on_unbind_outputs,
    _hook_order_with_retain_grad,
]


@pytest.mark.parametrize("program", TENSOR_HOOKS, ids=lambda p: p.__name__.strip("_"))
def test_tensor_hooks(oracle, program):
    out = both(oracle, program)
    assert out["log"]  # the hooks did run


# --- hooks on nodes -----------------------------------------------------------------------


def _node_hooks(L, log):
    a, b = f64(L, 2.0), f64(L, 3.0)
    c = a * b
    d = c * c
    node = c.grad_fn
    node.register_prehook(lambda grad_outputs: log.append(("pre", grad_outputs)))
    node.register_hook(
        lambda grad_inputs, grad_outputs: log.append(("post", grad_inputs, grad_outputs))
    )
    c.register_hook(lambda g: log.append(("tensor", g)))
    d.grad_fn.register_prehook(lambda grad_outputs: log.append(("pre d", grad_outputs)))
    d.backward()
    return a.grad, b.grad


def _node_hooks_replace(L, log):
    a, b = f64(L, 2.0), f64(L, 3.0)
    c = a * b
    c.grad_fn.register_prehook(lambda grad_outputs: (grad_outputs[0] * 2,))
    c.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0], None))
    c.grad_fn.register_hook(lambda gi, go: log.append(("after replacement", gi, go)))
    (c * 5).backward()
    return a.grad, b.grad


def _accumulate_grad_hooks(L, log):
    a = f64(L, 2.0, 4.0)
    c = a * 3
    acc = c.grad_fn.next_functions[0][0]
    log.append(acc.name())
    acc.register_prehook(lambda grad_outputs: log.append(("acc pre", grad_outputs)))
    acc.register_hook(
        lambda grad_inputs, grad_outputs: log.append(("acc post", grad_inputs, grad_outputs))
    )
    a.register_hook(lambda g: log.append(("a", g)))
    c.sum().backward()
    return a.grad


def _node_hook_removed(L, log):
    a = f64(L, 2.0)
    c = a * a
    handle = c.grad_fn.register_prehook(lambda grad_outputs: log.append("never"))
    other = c.grad_fn.register_hook(lambda gi, go: log.append(("post", gi)))
    handle.remove()
    c.backward(retain_graph=True)
    other.remove()
    c.backward()
    return a.grad


def _unbind_node_prehook(L, log):
    a = f64(L, 1.0, 2.0, 3.0)
    x, y, z = a.unbind()
    x.grad_fn.register_prehook(lambda grad_outputs: log.append(("unbind pre", grad_outputs)))
    (y * 4).backward()  # x and z receive no gradient: None in the prehook
    return a.grad


NODE_HOOKS = [
    _node_hooks,
    _node_hooks_replace,
    _accumulate_grad_hooks,
    _node_hook_removed,
    _unbind_node_prehook,
]


@pytest.mark.parametrize("program", NODE_HOOKS, ids=lambda p: p.__name__.strip("_"))
def test_node_hooks(oracle, program):
    out = both(oracle, program)
    assert out["log"]


# --- retain_grad ----------------------------------------------------------------------------


def test_retain_grad(oracle):
    def program(L, log):
        a = f64(L, 1.0, 2.0)
        b = a * 2
        log.append(b.retains_grad)
        b.retain_grad()
        b.retain_grad()  # twice is the same as once
        log.append(b.retains_grad)
        c = (b * b).sum()
        c.backward(retain_graph=True)
        log.append(grads(a, b))
        c.backward()  # both accumulate
        log.append(grads(a, b))
        a.retain_grad()  # a leaf: nothing changes
        log.append((a.retains_grad, b.is_leaf, a.is_leaf))
        return b.grad

    out = both(oracle, program)
    assert out["result"]["values"] == [8.0, 16.0]


def test_non_leaf_grad_is_none_without_retain_grad(oracle):
    def run(L):
        a = f64(L, 1.0, 2.0)
        b = a * 2
        (b * b).sum().backward()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            grad = b.grad
        warned = [
            (w.category.__name__, "that is not a leaf Tensor is being accessed" in str(w.message))
            for w in caught
        ]
        return a.grad.tolist(), grad is None, warned

    ours = run(gradlab)
    assert ours == ([8.0, 16.0], True, [("UserWarning", True)])
    assert ours == oracle(run)


# --- detach and .data -------------------------------------------------------------------------


def test_detach_shares_storage_and_version_counter(oracle):
    def program(L, log):
        a = f64(L, 1.0, 2.0)
        b = a * 2
        d = b.detach()
        log.append((d.requires_grad, d.is_leaf, d.grad_fn is None, b._version, d._version))
        d.add_(1)  # allowed: d needs no grad; b sees the change and the version
        log.append((b, d, b._version, d._version))
        d[0] = 7.0
        log.append((b, b._version, d._version))
        e = a.detach()
        e.mul_(3)  # through a leaf's detach: the leaf changes, versions go up together
        log.append((a, a._version, e._version))
        return a, b

    both(oracle, program)


def test_data_shares_storage_but_not_the_version_counter(oracle):
    def program(L, log):
        a = f64(L, 1.0, 2.0)
        x = a.data
        log.append((type(x).__name__, x.requires_grad, x.is_leaf, x.grad_fn is None))
        x.add_(1)
        log.append((a, a._version, x._version))
        b = a * a  # saves a: a change through .data goes unnoticed, as in PyTorch
        a.data.mul_(10)
        b.sum().backward()
        log.append((a._version, a.grad))
        return a

    out = both(oracle, program)
    assert out["log"][0][0] == "Tensor"
    assert out["log"][1][1:] == [0, 1]


# --- requires_grad_ and grad modes --------------------------------------------------------------


def test_requires_grad_(oracle):
    def program(L, log):
        a = L.tensor([1.0, 2.0])
        log.append((a.requires_grad, a.is_leaf, repr(a)))
        same = a.requires_grad_()
        log.append((same is a, a.requires_grad, a.is_leaf, repr(a).replace("torch.", "")))
        b = a * 2
        log.append((b.requires_grad, b.is_leaf))
        a.requires_grad_(False)
        log.append((a.requires_grad, (a * 2).requires_grad, b.requires_grad))
        a.requires_grad = True
        log.append(a.requires_grad)
        c = L.tensor(2.0)
        c.requires_grad_()
        d = c * 3
        d.backward()
        return c.grad

    both(oracle, program)


def test_grad_modes(oracle):
    def program(L, log):
        a = f64(L, 2.0)
        log.append(L.is_grad_enabled())
        with L.no_grad():
            log.append(L.is_grad_enabled())
            b = a * 2
            with L.enable_grad():
                log.append(L.is_grad_enabled())
                c = a * 2
            log.append(L.is_grad_enabled())
        log.append((b.requires_grad, b.grad_fn is None, b.is_leaf, c.requires_grad))
        L.set_grad_enabled(False)
        log.append(((a * 2).requires_grad, L.is_grad_enabled()))
        L.set_grad_enabled(True)
        with L.set_grad_enabled(False):
            log.append(((a * 2).requires_grad, L.is_grad_enabled()))
        log.append(L.is_grad_enabled())

        @L.no_grad()
        def decorated(x):
            return x * 2, L.is_grad_enabled()

        out, inside = decorated(a)
        log.append((out.requires_grad, inside, L.is_grad_enabled()))
        try:
            with L.no_grad():
                raise KeyError("x")
        except KeyError:
            pass
        log.append(L.is_grad_enabled())  # restored after an exception
        return b

    both(oracle, program)


# --- accumulation, backward(inputs=), autograd.grad ---------------------------------------------


def test_accumulation_across_backward_calls(oracle):
    def program(L, log):
        a, b = f64(L, 2.0, 3.0), f64(L, 4.0, 5.0)
        c = (a * b).sum()
        c.backward(retain_graph=True)
        first = a.grad
        log.append(grads(a, b))
        c.backward(retain_graph=True)
        log.append((grads(a, b), a.grad is first, a.grad._version))
        a.grad.zero_()
        c.backward(retain_graph=True)
        log.append(grads(a, b))
        a.grad = None
        c.backward()
        log.append((grads(a, b), a.grad is first))
        return a.grad

    both(oracle, program)


def test_backward_with_inputs(oracle):
    def program(L, log):
        a, b = f64(L, 2.0), f64(L, 3.0)
        m = a * b
        c = m * m
        c.backward(inputs=[a], retain_graph=True)
        log.append(grads(a, b))
        c.backward(inputs=[b, a], retain_graph=True)
        log.append(grads(a, b))
        c.backward(inputs=m, retain_graph=True)  # a non-leaf input gets a .grad
        log.append((grads(a, b), m.grad))
        L.autograd.backward([c], inputs=[b])
        log.append(grads(a, b))
        return m.grad

    both(oracle, program)


def test_autograd_grad(oracle):
    def program(L, log):
        a, b, unused = f64(L, 2.0), f64(L, 3.0), f64(L, 1.0)
        c = a * a * b
        log.append(L.autograd.grad(c, [a, b], retain_graph=True))
        log.append(grads(a, b))  # nothing accumulated
        log.append(L.autograd.grad(c, (a, unused), allow_unused=True, retain_graph=True))
        log.append(
            L.autograd.grad(
                c, [unused], allow_unused=True, materialize_grads=True, retain_graph=True
            )
        )
        log.append(L.autograd.grad([c, a * 3], [a], retain_graph=True))
        log.append(
            L.autograd.grad(
                c * L.ones(3, dtype=L.float64),
                a,
                grad_outputs=L.tensor([1.0, 2.0, 3.0], dtype=L.float64),
            )
        )
        return a.grad

    both(oracle, program)


def test_autograd_grad_stops_at_a_non_leaf_input(oracle):
    """autograd.grad w.r.t. a non-leaf captures its gradient (after its tensor hooks) without
    running its grad_fn: no node hooks there, and no version check of its saved tensors."""

    def program(L, log):
        a = f64(L, 1.0, 2.0)
        x = a * 1
        m = x.log()
        x.add_(1)  # m.grad_fn's saved x is stale, but m.grad_fn need not run
        m.register_hook(lambda g: log.append(("m hook", g)))
        m.grad_fn.register_prehook(lambda go: log.append("m node prehook"))
        m.grad_fn.register_hook(lambda gi, go: log.append("m node hook"))
        return L.autograd.grad((m * 2).sum(), [m])

    out = both(oracle, program)
    assert out["log"] == [["m hook", {"values": [2.0, 2.0], "dtype": "float64"}]]


def _leaf_input_hooks(L, log, call):
    a = f64(L, 2.0)
    a.register_hook(lambda g: log.append(("tensor", g)))
    c = a * 3
    acc = c.grad_fn.next_functions[0][0]
    acc.register_prehook(lambda grad_outputs: log.append("acc prehook"))
    acc.register_hook(lambda grad_inputs, grad_outputs: log.append("acc hook"))
    result = call(L, c, a)
    return result, a.grad


def test_backward_inputs_runs_the_leaf_accumulator_with_its_hooks(oracle):
    out = both(
        oracle, lambda L, log: _leaf_input_hooks(L, log, lambda L, c, a: c.backward(inputs=[a]))
    )
    assert out["log"] == [
        ["tensor", {"values": 3.0, "dtype": "float64"}],
        "acc prehook",
        "acc hook",
    ]


def test_autograd_grad_takes_a_leaf_gradient_without_accumulating(oracle):
    out = both(
        oracle, lambda L, log: _leaf_input_hooks(L, log, lambda L, c, a: L.autograd.grad(c, [a]))
    )
    assert out["log"] == [["tensor", {"values": 3.0, "dtype": "float64"}]]
    assert out["result"][1] is None


def test_autograd_grad_keeps_the_saved_tensors_of_the_inputs_node(oracle):
    def program(L, log):
        a = f64(L, 1.0, 2.0)
        m = (a * 1).log()
        b = m * m
        log.append(L.autograd.grad(b.sum(), [m]))
        log.append(m.grad_fn._saved_self)  # m's node never ran: nothing freed there
        log.append(message_head(raised(lambda: b.grad_fn._saved_self), L is not gradlab))
        return a.grad

    both(oracle, program)


# --- custom Functions ---------------------------------------------------------------------------


def my_mul(L, log):
    class MyMul(L.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            log.append(("forward", L.is_grad_enabled()))
            ctx.save_for_backward(a, b)
            ctx.seen = ctx
            return a * b

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            log.append(("backward", grad, ctx.needs_input_grad, L.is_grad_enabled()))
            return grad * b, grad * a

    return MyMul


def test_custom_function(oracle):
    def program(L, log):
        MyMul = my_mul(L, log)
        a, b = f64(L, 2.0, 3.0), f64(L, 4.0, 5.0, rg=False)
        c = MyMul.apply(a, b)
        node = c.grad_fn
        log.append((node.name(), type(node).__name__, node.seen is node, c.requires_grad))
        log.append([(n.name() if n is not None else None, i) for n, i in node.next_functions])
        log.append(node.needs_input_grad)
        log.append(node.saved_tensors[0] is a)
        c.sum().backward()
        log.append(grads(a, b))
        log.append(message_head(raised(lambda: node.saved_tensors), torch_message=True))
        d = MyMul.apply(f64(L, 1.0, rg=False), f64(L, 2.0, rg=False))
        log.append((d.requires_grad, d.grad_fn is None))
        with L.no_grad():
            e = MyMul.apply(a, a)
        log.append((e.requires_grad, e.grad_fn is None))
        return c

    both(oracle, program)


def test_custom_function_with_a_number_and_two_outputs(oracle):
    def program(L, log):
        class Split(L.autograd.Function):
            @staticmethod
            def forward(ctx, x, k):
                ctx.k = k
                return x * k, x + k

            @staticmethod
            def backward(ctx, g1, g2):
                log.append(("grads in", g1, g2, ctx.needs_input_grad))
                return g1 * ctx.k + g2, None

        x = f64(L, 1.0, 2.0)
        p, q = Split.apply(x, 3)
        log.append((p.output_nr, q.output_nr, p.grad_fn is q.grad_fn, p.grad_fn.name()))
        q.sum().backward()  # p gets no gradient: backward receives zeros for it
        log.append(grads(x))
        p2, _ = Split.apply(x, 2)
        (p2 * p2).sum().backward()
        return x.grad

    both(oracle, program)


class _Bad:
    """Custom Functions whose backward is wrong, for the error and gradcheck tests."""

    @staticmethod
    def make(L, kind):
        class Broken(L.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                ctx.save_for_backward(a, b)
                return a * b

            @staticmethod
            def backward(ctx, grad):
                a, b = ctx.saved_tensors
                if kind == "count":
                    return (grad * b,)
                if kind == "shape":
                    return (grad * b).sum(), L.ones(2, dtype=L.float64)
                return grad * b * 2, grad * a  # "math": wrong but well-formed

        return Broken


@pytest.mark.parametrize("kind", ["count", "shape"])
def test_custom_function_backward_errors(oracle, kind):
    def run(L):
        Broken = _Bad.make(L, kind)
        a, b = f64(L, 1.0, 2.0, 3.0), f64(L, 4.0, 5.0, 6.0)
        c = Broken.apply(a, b)
        return raised(lambda: c.sum().backward())

    ours, theirs = run(gradlab), oracle(run)
    assert isinstance(ours, type(theirs))
    assert message_head(ours) == message_head(theirs, torch_message=True)


# --- gradcheck ------------------------------------------------------------------------------------


GRADCHECKED = [
    ("mul_exp", lambda L, x, y: (x * y.exp()).sum()),
    ("div_tanh", lambda L, x, y: x.tanh() / (y * y + 1)),
    ("matmul_sigmoid", lambda L, x, y: (x.reshape(2, 3) @ y.reshape(3, 2)).sigmoid()),
    ("pow_log_sqrt", lambda L, x, y: (x.abs() + 1).log() * (y.abs() + 1).sqrt() ** 1.5),
    ("mean_sum_T", lambda L, x, y: x.reshape(3, 2).T.mean(1) + y.reshape(2, 3).sum(1)),
    ("index_cat_stack", lambda L, x, y: L.stack([L.cat([x[:2], y[[5, 0]]]), y[1:5]])),
    ("unbind_relu", lambda L, x, y: (lambda p, *rest: p * rest[0])(*x.unbind()) + y.relu()),
]


@pytest.mark.parametrize("name,fn", GRADCHECKED, ids=[g[0] for g in GRADCHECKED])
def test_gradcheck_passes_for_correct_ops(oracle, name, fn):
    rng = np.random.default_rng(3)
    x0, y0 = rng.uniform(0.2, 1.5, 6), rng.uniform(0.2, 1.5, 6) * np.array([1, -1] * 3)

    def run(L):
        x, y = (L.tensor(v, dtype=L.float64, requires_grad=True) for v in (x0, y0))
        return L.autograd.gradcheck(lambda x, y: fn(L, x, y), (x, y))

    assert run(gradlab) is True
    assert oracle(run) is True


def test_gradcheck_catches_a_wrong_backward(oracle):
    def run(L):
        Broken = _Bad.make(L, "math")
        a, b = f64(L, 1.0, 2.0), f64(L, 3.0, 4.0)
        passed = L.autograd.gradcheck(Broken.apply, (a, b), raise_exception=False)
        return passed, raised(lambda: L.autograd.gradcheck(Broken.apply, (a, b)))

    for passed, error in (run(gradlab), oracle(run)):
        assert passed is False
        assert isinstance(error, RuntimeError)
        assert "Jacobian mismatch for output 0 with respect to input 0" in str(error)


# --- a backward that fails midway -----------------------------------------------------------------


def _fails_after_a_leaf(L, log):
    """AccumulateGrad for a runs (right after AddBackward0) before ExpBackward0 fails."""
    a, b = f64(L, 1.0, 2.0), f64(L, 3.0, 4.0)
    y = b.exp()
    y.mul_(2)  # y's saved result is now stale
    z = a * 5 + y
    log.append(raised(lambda: z.sum().backward()).__class__.__name__)
    return a.grad, b.grad


def _fails_before_the_leaves(L, log):
    a, b = f64(L, 1.0, 2.0), f64(L, 3.0, 4.0)
    c = a * b
    d = c.tanh()
    d += 1
    log.append(raised(lambda: (d * a).sum().backward()).__class__.__name__)
    return a.grad, b.grad


def _hooks_show_the_order(L, log):
    a, b, k = f64(L, 1.0), f64(L, 2.0), f64(L, 3.0)
    for name, t in (("a", a), ("b", b), ("k", k)):
        t.register_hook(lambda g, name=name: log.append(name))
    s = b.sigmoid()
    u = (a * k) + s * 1
    s.sub_(0.5)
    raised(lambda: (u * k).backward())
    return a.grad, b.grad, k.grad


def _second_pass_reaches_more(L, log):
    """Retrying after the failure accumulates again into the leaves reached before it."""
    a, b = f64(L, 1.0, 2.0), f64(L, 3.0, 4.0)
    y = b.exp()
    z = a * 5 + y
    y.mul_(2)
    for _ in range(2):
        log.append(raised(lambda: z.sum().backward(retain_graph=True)).__class__.__name__)
        log.append(grads(a, b))
    return a.grad


PARTIAL = [
    _fails_after_a_leaf,
    _fails_before_the_leaves,
    _hooks_show_the_order,
    _second_pass_reaches_more,
]


@pytest.mark.parametrize("program", PARTIAL, ids=lambda p: p.__name__.strip("_"))
def test_partial_effects_of_a_failed_backward(oracle, program):
    out = both(oracle, program)
    assert "RuntimeError" in str(out["log"]) or out["log"]


def test_partial_effects_leaf_reached_first_keeps_its_grad():
    """The point of the rule, spelled out on gradlab alone."""
    log: list = []
    a_grad, b_grad = _fails_after_a_leaf(gradlab, log)
    assert log == ["RuntimeError"]
    assert a_grad.tolist() == [5.0, 5.0]
    assert b_grad is None


def test_set_materialize_grads_false_passes_none_for_unused_outputs(oracle) -> None:
    """With ``ctx.set_materialize_grads(False)``, backward sees None, not zeros, for an
    output that received no gradient (as in PyTorch)."""

    def make(lib, base):
        seen = []

        class Split(base):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(False)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, g1, g2):
                seen.append((g1 is None, g2 is None))
                return g1 * 2

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        first, _ = Split.apply(x)
        first.sum().backward()
        return seen, x.grad.tolist()

    assert make(gradlab, gradlab.Function) == oracle(
        lambda torch: make(torch, torch.autograd.Function)
    )
    assert make(gradlab, gradlab.Function)[0] == [(False, True)]
