"""``gradcheck``: compare autograd's gradients with finite differences.

>>> import gradlab
>>> x = gradlab.tensor([0.5, 2.0], dtype=gradlab.float64, requires_grad=True)
>>> gradlab.autograd.gradcheck(lambda t: (t * t.exp()).sum(), (x,))
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


class GradcheckError(RuntimeError):
    """The analytical and numerical Jacobians disagree."""


def _outputs(fn: Callable[..., Any], inputs: Sequence[Any]) -> tuple[Any, ...]:
    out = fn(*inputs)
    return out if isinstance(out, tuple) else (out,)


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """True if the gradients of ``fn`` at ``inputs`` match central finite differences.

    Use float64 inputs: in float32 the differences are too noisy to compare."""
    from gradlab._tensor import Tensor
    from gradlab.autograd import grad
    from gradlab.autograd.grad_mode import no_grad

    inputs = tuple(inputs) if isinstance(inputs, (list, tuple)) else (inputs,)
    wrt = [(i, t) for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    outputs = _outputs(fn, inputs)
    for o_index, out in enumerate(outputs):
        flat_out = out.numel()
        for i_index, (_, t) in enumerate(wrt):
            analytical = np.zeros((t.numel(), flat_out))
            numerical = np.zeros((t.numel(), flat_out))
            for k in range(flat_out):
                seed = np.zeros(flat_out, dtype=out._data.dtype)
                seed[k] = 1
                g = grad(
                    _outputs(fn, inputs)[o_index],
                    [t],
                    Tensor(seed.reshape(out.shape)),
                    allow_unused=True,
                )[0]
                if g is not None:
                    analytical[:, k] = g._data.reshape(-1)
            storage = t._storage().reshape(-1)
            for j in range(t.numel()):
                original = storage[j].copy()
                with no_grad():
                    storage[j] = original + eps
                    plus = _outputs(fn, inputs)[o_index]._data.reshape(-1).astype(np.float64)
                    storage[j] = original - eps
                    minus = _outputs(fn, inputs)[o_index]._data.reshape(-1).astype(np.float64)
                storage[j] = original
                numerical[j, :] = (plus - minus) / (2 * eps)
            if not np.allclose(analytical, numerical, rtol=rtol, atol=atol):
                if raise_exception:
                    raise GradcheckError(
                        f"Jacobian mismatch for output {o_index} with respect to input "
                        f"{i_index},\nnumerical:{numerical}\nanalytical:{analytical}\n"
                    )
                return False
    return True
