"""gradlab: learn how PyTorch's autograd really works, by looking inside a small one.

The core mirrors PyTorch's names and behaviour over numpy:

>>> import gradlab
>>> a = gradlab.tensor(2.0, requires_grad=True)
>>> b = gradlab.tensor(3.0)
>>> c = a * b
>>> c.grad_fn.next_functions
((<AccumulateGrad>, 0), (None, 0))
>>> c.backward()
>>> a.grad
tensor(3.)

The pictures and the stepper (``gradlab.show``, ``gradlab.record``, ``gradlab.Walkthrough``,
``gradlab.widgets``) load matplotlib and ipywidgets only when first used.
"""

from __future__ import annotations

from typing import Any

from gradlab import autograd
from gradlab._creation import (
    arange,
    from_numpy,
    full,
    linspace,
    manual_seed,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from gradlab._dtype import (
    bool_,
    dtype,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    uint8,
)
from gradlab._ops import abs, cat, exp, log, matmul, mean, relu, sigmoid, sqrt, stack, sum, tanh
from gradlab._tensor import Size, Tensor
from gradlab.autograd import Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled

half, double, long, short = float16, float64, int64, int16
float = float32  # noqa: A001  (PyTorch's alias)
int = int32  # noqa: A001
bool = bool_  # noqa: A001

__version__ = "0.1.0"


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """Split ``input`` along ``dim`` into views, one per index (the opposite of ``stack``)."""
    return input.unbind(dim)


def add(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return input + other


def mul(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return input * other


def sub(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return input - other


def div(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return input / other


def pow(input: Tensor, exponent: Any) -> Tensor:  # noqa: A001, A002
    return input**exponent


def reshape(input: Tensor, shape: Any) -> Tensor:  # noqa: A002
    return input.reshape(shape)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:  # noqa: A002
    return input.transpose(dim0, dim1)


def neg(input: Tensor) -> Tensor:  # noqa: A002
    return -input


_LAZY = {
    "record": "gradlab.recording",
    "Recording": "gradlab.recording",
    "name": "gradlab.recording",
    "show": "gradlab.picture",
    "Picture": "gradlab.picture",
    "Walkthrough": "gradlab.walkthrough",
    "widgets": "gradlab.widgets",
    "examples": "gradlab.examples",
}


_WIDGETS_EXTRA = {"ipywidgets", "matplotlib", "networkx"}  # pyproject.toml's widgets extra


def __getattr__(attr: str) -> Any:
    """Load the recording, picture and widget layers on first use, keeping import fast."""
    module_name = _LAZY.get(attr)
    if module_name is None:
        raise AttributeError(f"module 'gradlab' has no attribute {attr!r}")
    import importlib

    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name not in _WIDGETS_EXTRA:
            raise
        from gradlab.cli import install_hint

        raise ModuleNotFoundError(
            f"gradlab.{attr} needs {error.name}, from gradlab's widgets extra: "
            f"{install_hint('widgets')}",
            name=error.name,
        ) from error
    return module if attr in ("widgets", "examples") else getattr(module, attr)


__all__ = [
    "Function",
    "Size",
    "Tensor",
    "abs",
    "add",
    "arange",
    "autograd",
    "bool",
    "bool_",
    "cat",
    "div",
    "double",
    "dtype",
    "enable_grad",
    "exp",
    "float",
    "float16",
    "float32",
    "float64",
    "from_numpy",
    "full",
    "half",
    "int",
    "int8",
    "int16",
    "int32",
    "int64",
    "is_grad_enabled",
    "linspace",
    "log",
    "long",
    "manual_seed",
    "matmul",
    "mean",
    "mul",
    "neg",
    "no_grad",
    "ones",
    "ones_like",
    "pow",
    "rand",
    "randn",
    "relu",
    "reshape",
    "set_grad_enabled",
    "short",
    "sigmoid",
    "sqrt",
    "stack",
    "sub",
    "sum",
    "tanh",
    "tensor",
    "transpose",
    "uint8",
    "unbind",
    "zeros",
    "zeros_like",
    *_LAZY,
]
