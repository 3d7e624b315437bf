"""Programs a learner might write after the lessons, each runnable on gradlab and on torch.

A program is ``program(L, backward)``: ``L`` is the ``gradlab`` or the ``torch`` module and
``backward(y, **kwargs)`` stands for ``y.backward(**kwargs)`` (the torch side watches the
graph through it). ``PROGRAMS`` lists them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Backward = Callable[..., None]


def scalar_multiply(L: Any, backward: Backward) -> None:
    a = L.tensor(2.0, requires_grad=True)
    b = L.tensor(3.0)
    c = a * b
    backward(c)


def square_plus_linear(L: Any, backward: Backward) -> None:
    x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x**2 + 3 * x
    backward(y.sum())


def vector_jacobian_product(L: Any, backward: Backward) -> None:
    x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x**2 + 3 * x
    backward(y, gradient=L.tensor([1.0, 0.5, -1.0]))


def two_layer_net(L: Any, backward: Backward) -> None:
    x = L.tensor([[1.0, -2.0, 0.5], [0.0, 1.0, 2.0]])
    w1 = L.tensor([[0.5, -1.0, 0.2], [0.3, 0.8, -0.5], [-0.4, 0.1, 0.9]], requires_grad=True)
    b1 = L.tensor([0.1, -0.2, 0.3], requires_grad=True)
    w2 = L.tensor([[1.0], [-1.0], [0.5]], requires_grad=True)
    h = (x @ w1 + b1).relu()
    out = h @ w2
    loss = (out**2).mean()
    backward(loss)


def softmax_cross_entropy(L: Any, backward: Backward) -> None:
    z = L.tensor([2.0, 1.0, 0.1], requires_grad=True)
    e = z.exp()
    p = e / e.sum()
    loss = -p[0].log()
    backward(loss)


def log_sum_exp_loss(L: Any, backward: Backward) -> None:
    z = L.tensor([[1.0, 2.0, 3.0], [0.5, 0.0, -1.0]], requires_grad=True)
    lse = z.exp().sum(dim=1).log()
    loss = (lse - z[:, 0]).mean()
    backward(loss)


def sgd_step(L: Any, backward: Backward) -> None:
    w = L.tensor([1.0, -2.0], requires_grad=True)
    x = L.tensor([3.0, 4.0])
    loss = ((w * x).sum() - 1.0) ** 2
    backward(loss)
    with L.no_grad():
        w -= 0.01 * w.grad
    w.grad.zero_()
    loss = ((w * x).sum() - 1.0) ** 2
    backward(loss)


def unbind_and_stack(L: Any, backward: Backward) -> None:
    a = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b, c, d = a.unbind()
    e = L.stack([d * c, b, c + b])
    backward((e * L.tensor([1.0, 2.0, 3.0])).sum())


def unbind_product(L: Any, backward: Backward) -> None:
    a = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b, c, d = a.unbind()
    e = b * c * d
    backward(e)


def cat_parts(L: Any, backward: Backward) -> None:
    u = L.tensor([1.0, 2.0], requires_grad=True)
    v = L.tensor([3.0, 4.0, 5.0], requires_grad=True)
    w = L.cat([u, v * 2])
    backward((w * w).sum())


def indexing(L: Any, backward: Backward) -> None:
    x = L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    y = x[1] * x[0, 2] + x[:, 1:].sum() + x[0][[0, 2, 0]].sum()
    backward(y.sum())


def broadcast_bias(L: Any, backward: Backward) -> None:
    m = L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], requires_grad=True)
    b = L.tensor([0.5, -0.5, 1.0], requires_grad=True)
    y = m + b
    backward((y * y).sum())


def broadcast_column(L: Any, backward: Backward) -> None:
    m = L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    c = L.tensor([[2.0], [-1.0]], requires_grad=True)
    backward((m * c).sum())


def mean_squared_error(L: Any, backward: Backward) -> None:
    pred = L.tensor([0.5, 1.5, 2.0, 4.0], requires_grad=True)
    target = L.tensor([1.0, 1.0, 2.0, 3.0])
    loss = ((pred - target) ** 2).mean()
    backward(loss)


def sum_and_mean_over_dims(L: Any, backward: Backward) -> None:
    x = L.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    rows = x.sum(dim=1)
    cols = x.mean(dim=0)
    backward((rows * rows).sum() + (cols * cols).sum())


def custom_function(L: Any, backward: Backward) -> None:
    class Cube(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    x = L.tensor([1.0, -2.0], requires_grad=True)
    y = Cube.apply(x) + x
    backward(y.sum())


def tensor_hook(L: Any, backward: Backward) -> None:
    x = L.tensor(3.0, requires_grad=True)
    y = x * x
    y.register_hook(lambda grad: grad * 10)
    z = y * 2 + x
    backward(z)


def retain_grad(L: Any, backward: Backward) -> None:
    a = L.tensor([1.0, 2.0], requires_grad=True)
    h = a * 3
    h.retain_grad()
    out = (h * h).sum()
    backward(out)


def inplace_version_error(L: Any, backward: Backward) -> None:
    a = L.tensor(2.0, requires_grad=True)
    c = a * 3
    e = c * c + a * 2
    c += 1
    try:
        backward(e)
    except RuntimeError:
        pass


def reused_tensor(L: Any, backward: Backward) -> None:
    x = L.tensor(2.0, requires_grad=True)
    y = x * x + x * 3 + x
    backward(y)


def tanh_sigmoid_chain(L: Any, backward: Backward) -> None:
    x = L.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    y = x.tanh().sigmoid() * x.sigmoid()
    backward(y.sum())


def exp_log_sqrt_abs(L: Any, backward: Backward) -> None:
    x = L.tensor([-4.0, 1.0, 9.0], requires_grad=True)
    y = x.abs().sqrt() + (x.exp() + 1).log()
    backward(y.sum())


def divide_subtract_negate(L: Any, backward: Backward) -> None:
    a = L.tensor([6.0, 8.0], requires_grad=True)
    b = L.tensor([2.0, 4.0], requires_grad=True)
    c = L.tensor([3.0, 0.5], requires_grad=True)
    y = -((a - b) / c) + 1 - a / 2
    backward(y.sum())


def reshapes(L: Any, backward: Backward) -> None:
    x = L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    y = x.view(3, 2).transpose(0, 1).reshape(6).unsqueeze(0)
    z = x.permute(1, 0) * L.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    backward((y * y).sum() + z.sum())


def matrix_vector_products(L: Any, backward: Backward) -> None:
    m = L.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    v = L.tensor([0.5, -1.0], requires_grad=True)
    u = L.tensor([1.0, 1.0, 2.0], requires_grad=True)
    mv = m @ v
    backward((mv @ u) + (u @ m).sum())


def clone_and_power(L: Any, backward: Backward) -> None:
    a = L.tensor([1.5, 2.0], requires_grad=True)
    p = L.tensor([2.0, 3.0], requires_grad=True)
    y = a.clone() ** p + 2**a + 1 / a * (1 - a)
    backward(y.sum())


def unrolled_chain(L: Any, backward: Backward) -> None:
    x0 = L.tensor(1.0, requires_grad=True)
    x = x0
    for _ in range(20):
        x = x * 1.01 + x0
    backward(x)


def backward_twice(L: Any, backward: Backward) -> None:
    a = L.tensor([1.0, 2.0], requires_grad=True)
    y = (a * a).sum()
    backward(y, retain_graph=True)
    backward(y)


def detach_in_the_middle(L: Any, backward: Backward) -> None:
    x = L.tensor([2.0, 3.0], requires_grad=True)
    y = x.detach() * x + x.relu()
    backward(y.sum())


def big_matrices(L: Any, backward: Backward) -> None:
    x = L.arange(12.0).reshape(4, 3) / 10
    w = (L.arange(9.0).reshape(3, 3) - 4) / 4
    w.requires_grad_()
    y = (x @ w).tanh()
    backward(y.sum())


PROGRAMS = (
    scalar_multiply,
    square_plus_linear,
    vector_jacobian_product,
    two_layer_net,
    softmax_cross_entropy,
    log_sum_exp_loss,
    sgd_step,
    unbind_and_stack,
    unbind_product,
    cat_parts,
    indexing,
    broadcast_bias,
    broadcast_column,
    mean_squared_error,
    sum_and_mean_over_dims,
    custom_function,
    tensor_hook,
    retain_grad,
    inplace_version_error,
    reused_tensor,
    tanh_sigmoid_chain,
    exp_log_sqrt_abs,
    divide_subtract_negate,
    reshapes,
    matrix_vector_products,
    clone_and_power,
    unrolled_chain,
    backward_twice,
    detach_in_the_middle,
    big_matrices,
)
