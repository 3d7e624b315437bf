"""The backward engine: no recursion (a million-op chain), graphs freed by reference
counting alone, the step stream in the engine's real order (and torch's execution order),
and a light ``import gradlab``.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref

import numpy as np
import pytest

import gradlab
from gradlab.autograd import events as ev
from gradlab.autograd.engine import GraphTask

# --- depth ---------------------------------------------------------------------------------


def test_a_million_op_chain():
    x = gradlab.tensor(1.0, dtype=gradlab.float64, requires_grad=True)
    y = x
    for _ in range(500_000):
        y = y * 1.0001
        y = y + 0.0001
    assert sys.getrecursionlimit() < 1_000_000  # so recursion could not have done it
    y.backward()
    expected = 1.0
    for _ in range(500_000):  # the same multiplications, in the same order, as backward
        expected *= 1.0001
    assert x.grad.item() == expected
    assert x.grad.dtype is gradlab.float64
    node = weakref.ref(y.grad_fn)
    del y  # freeing a million nested nodes must not overflow the stack either
    assert node() is None


# --- freed by reference counting alone -----------------------------------------------------


class Square(gradlab.Function):
    @staticmethod
    def forward(ctx, x):
        out = x * x
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, _ = ctx.saved_tensors
        return grad * 2 * x


def _chain(a):
    mid = a * 2
    return mid, (mid + 1) * 3


def _diamond(a):
    mid = a * a
    return mid, mid.tanh() * mid.sigmoid() + mid


def _unbind(a):
    b, c, d = a.unbind()
    return b, b * c * d


def _custom_function(a):
    mid = Square.apply(a * 1)
    return mid, mid.sum()


def _exp(a):
    mid = a.exp()  # saves its own result: no cycle through the saved output
    return mid, mid * 2


def _retained_and_inplace(a):
    mid = a * 3
    mid.retain_grad()
    out = mid * 2
    out += 1  # a node replaced in place
    out[0] = 5.0
    return mid, out


GRAPHS = [_chain, _diamond, _unbind, _custom_function, _exp, _retained_and_inplace]


@pytest.mark.parametrize("build", GRAPHS, ids=lambda f: f.__name__.strip("_"))
@pytest.mark.parametrize("backward", [False, True], ids=["unused", "after_backward"])
def test_graph_is_freed_by_reference_counting(build, backward):
    a = gradlab.tensor([0.5, 1.0, 1.5], requires_grad=True)
    gc.collect()
    gc.disable()
    try:
        mid, out = build(a)
        if backward:
            out.sum().backward() if out.ndim else out.backward()
        refs = [
            weakref.ref(mid),
            weakref.ref(mid.grad_fn),
            weakref.ref(out),
            weakref.ref(out.grad_fn),
        ]
        accumulator = weakref.ref(a._grad_accumulator())
        del mid, out
        alive = [r() for r in refs + [accumulator]]
        assert alive == [None] * len(alive)
        assert a.grad is not None if backward else a.grad is None
    finally:
        gc.enable()


# --- the step stream -------------------------------------------------------------------------


def _summary(step):
    name = type(step).__name__
    if isinstance(step, ev.NodeExecuted):
        return (name, step.node.name())
    if isinstance(step, ev.GradientSent):
        return (
            name,
            step.source.name(),
            step.target.name(),
            step.index,
            float(step.grad),
            float(step.total),
        )
    if isinstance(step, ev.GradAccumulated):
        return (
            name,
            step.variable.item(),
            None if step.before is None else float(step.before),
            float(step.after),
        )
    return (name,)


def test_step_stream_of_the_chained_multiply():
    a, b, d = (gradlab.tensor(v, requires_grad=True) for v in (2.0, 3.0, 4.0))
    c = a * b
    e = c * d
    task = GraphTask([(e.grad_fn, 0)], [np.ones((), np.float32)], trace=True)
    seen = []
    for step in task.steps():
        # the stream is lazy: each step has happened, and nothing after it yet
        seen.append(
            (_summary(step), [None if t.grad is None else t.grad.item() for t in (a, b, d)])
        )
    acc = "torch::autograd::AccumulateGrad"
    assert seen == [
        (("BackwardStarted",), [None, None, None]),
        (("NodeExecuted", "MulBackward0"), [None, None, None]),
        (("GradientSent", "MulBackward0", "MulBackward0", 0, 4.0, 4.0), [None, None, None]),
        (("GradientSent", "MulBackward0", acc, 0, 6.0, 6.0), [None, None, None]),
        (("GradAccumulated", 4.0, None, 6.0), [None, None, 6.0]),
        (("NodeExecuted", acc), [None, None, 6.0]),
        (("NodeExecuted", "MulBackward0"), [None, None, 6.0]),
        (("GradientSent", "MulBackward0", acc, 0, 12.0, 12.0), [None, None, 6.0]),
        (("GradientSent", "MulBackward0", acc, 0, 8.0, 8.0), [None, None, 6.0]),
        (("GradAccumulated", 2.0, None, 12.0), [12.0, None, 6.0]),
        (("NodeExecuted", acc), [12.0, None, 6.0]),
        (("GradAccumulated", 3.0, None, 8.0), [12.0, 8.0, 6.0]),
        (("NodeExecuted", acc), [12.0, 8.0, 6.0]),
        (("BackwardFinished",), [12.0, 8.0, 6.0]),
    ]


def test_step_stream_sums_where_the_graph_split():
    a = gradlab.tensor(3.0, requires_grad=True)
    b = a * 2
    c = b * b + b  # b's node receives 2b from the product and 1 from the sum
    sent = [
        s
        for s in GraphTask([(c.grad_fn, 0)], [np.ones((), np.float32)], trace=True).steps()
        if isinstance(s, ev.GradientSent) and s.target is b.grad_fn
    ]
    assert [(float(s.grad), float(s.total)) for s in sent] == [(1.0, 1.0), (6.0, 7.0), (6.0, 13.0)]
    assert a.grad.item() == 26.0


def test_step_stream_ends_with_the_failure_after_partial_accumulation():
    a, b = (gradlab.tensor(v, requires_grad=True) for v in ([1.0, 2.0], [3.0, 4.0]))
    y = b.exp()
    y.mul_(2)
    z = (a * 5 + y).sum()
    steps = []
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0 instead"):
        for step in GraphTask([(z.grad_fn, 0)], [np.ones((), np.float32)], trace=True).steps():
            steps.append(step)
    assert isinstance(steps[-1], ev.BackwardFailed)
    assert steps[-1].node.name() == "ExpBackward0"
    accumulated = [s.variable for s in steps if isinstance(s, ev.GradAccumulated)]
    assert accumulated == [a] and a.grad.tolist() == [5.0, 5.0] and b.grad is None


def test_hooks_fire_inside_the_stream():
    a = gradlab.tensor(2.0, requires_grad=True)
    b = a * 3
    b.register_hook(lambda g: g * 10)
    kinds = [
        (type(s).__name__, getattr(s, "kind", None))
        for s in GraphTask([(b.grad_fn, 0)], [np.ones((), np.float32)], trace=True).steps()
    ]
    assert kinds.index(("HookFired", "tensor")) < kinds.index(("NodeExecuted", None))
    assert a.grad.item() == 30.0


def _walk(root):
    seen, order, stack = set(), [], [root]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        order.append(node)
        stack.extend(n for n, _ in node.next_functions)
    return order


def _execution_order(L, build):
    """The order in which ``L``'s engine runs the nodes, seen by a prehook on each."""
    out, leaves = build(L)
    log = []
    for k, node in enumerate(_walk(out.grad_fn)):
        if node.name().endswith("AccumulateGrad"):
            label = ("acc", next(i for i, t in enumerate(leaves) if t is node.variable))
        else:
            label = (node.name(), k)
        node.register_prehook(lambda grads, label=label: log.append(label))
    return out, log


def _order_chained(L):
    a, b, d = (L.tensor(v, requires_grad=True) for v in (2.0, 3.0, 4.0))
    return (a * b) * d, [a, b, d]


def _order_diamond(L):
    a, b = (L.tensor(v, requires_grad=True) for v in (0.2, 0.3))
    c = a * b
    return c.exp() * c.tanh() * (a + b), [a, b]


def _order_unbind(L):
    a = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    k = L.tensor(2.0, requires_grad=True)
    b, c, d = a.unbind()
    return b * c * d * k + k * b, [a, k]


def _order_sums(L):
    x, y, z, w = (L.tensor(v, requires_grad=True) for v in (1.0, 2.0, 3.0, 4.0))
    return x * y + z * w + x * w + y * z, [x, y, z, w]


def _order_lesson5(L):
    c = L.tensor(4.0, requires_grad=True)
    d, f, h = (L.tensor(2.0, requires_grad=True) for _ in range(3))
    i = c * d * f / h
    return (i + h) * i, [c, d, f, h]


@pytest.mark.parametrize(
    "build",
    [_order_chained, _order_diamond, _order_unbind, _order_sums, _order_lesson5],
    ids=lambda f: f.__name__.removeprefix("_order_"),
)
def test_execution_order_is_torchs_and_the_stream_shows_it(oracle, build):
    def run(L):
        out, log = _execution_order(L, build)
        out.backward()
        return log

    orders = [run(gradlab), oracle(run)]
    assert orders[0] == orders[1]
    out, log = _execution_order(gradlab, build)  # the traced stream runs the same order
    executed = [
        s.node
        for s in GraphTask([(out.grad_fn, 0)], [np.ones((), np.float32)], trace=True).steps()
        if isinstance(s, ev.NodeExecuted)
    ]
    assert len(executed) == len(log) == len(orders[0])
    assert [n.name() for n in executed] == [
        "torch::autograd::AccumulateGrad" if label[0] == "acc" else label[0] for label in log
    ]


# --- a light import ----------------------------------------------------------------------------


def test_import_gradlab_loads_no_widget_stack():
    code = (
        "import sys, gradlab\n"
        "a = gradlab.tensor(2.0, requires_grad=True)\n"
        "(a * 3).backward()\n"
        "heavy = sorted(m for m in ('ipywidgets', 'matplotlib', 'networkx', 'torch')\n"
        "               if m in sys.modules)\n"
        "print(heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
