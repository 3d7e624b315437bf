"""The ops behind ``Tensor``'s operators and methods, grouped by kind. Each module keeps an
op's backward node next to its forward function."""

from gradlab._ops.arithmetic import add, div, matmul, mul, pow, rdiv, reciprocal, rpow, rsub, sub
from gradlab._ops.indexing import getitem, setitem
from gradlab._ops.inplace import add_, div_, fill_, mul_, sub_, zero_
from gradlab._ops.pointwise import abs, clone, compare, exp, log, neg, relu, sigmoid, sqrt, tanh
from gradlab._ops.reduction import mean, sum
from gradlab._ops.shape import (
    cat,
    permute,
    reshape,
    stack,
    t,
    transpose,
    unbind,
    unsqueeze,
)

__all__ = [
    "abs",
    "add",
    "add_",
    "cat",
    "clone",
    "compare",
    "div",
    "div_",
    "exp",
    "fill_",
    "getitem",
    "log",
    "matmul",
    "mean",
    "mul",
    "mul_",
    "neg",
    "permute",
    "pow",
    "rdiv",
    "reciprocal",
    "relu",
    "reshape",
    "rpow",
    "rsub",
    "setitem",
    "sigmoid",
    "sqrt",
    "stack",
    "sub",
    "sub_",
    "sum",
    "t",
    "tanh",
    "transpose",
    "unbind",
    "unsqueeze",
    "zero_",
]
