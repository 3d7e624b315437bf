"""Run one program on gradlab and on torch and describe everything a learner can look at.

A *program* is ``program(lib, *leaves)`` written once against the shared API (``lib`` is
the ``gradlab`` or the ``torch`` module). :func:`observe` runs it on one library and returns
a plain description: values, dtypes, reprs, flags, versions, the backward graph (node names,
``next_functions`` with indices and ``None`` entries, which leaf each ``AccumulateGrad``
holds, every ``_saved_*`` attribute) and, after a backward pass with a seeded random
upstream gradient, the leaves' gradients and which saved values were freed.
:func:`assert_same` compares the two descriptions, with a tolerance for the numbers only.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import gradlab

TOLERANCE = {"float64": (1e-10, 1e-12), "float32": (1e-5, 1e-6), "float16": (1e-2, 1e-3)}


def lib_name(lib: Any) -> str:
    return lib.__name__


def normalize(text: str) -> str:
    """A torch text as gradlab spells it."""
    return text.replace("torch.", "gradlab.")


def dtype_name(t: Any) -> str:
    return normalize(repr(t.dtype)).removeprefix("gradlab.")


def values(t: Any) -> np.ndarray:
    return np.array(t.detach().numpy(), copy=True)


class Num:
    """An array compared with a tolerance chosen by its dtype (exact for ints and bools)."""

    def __init__(self, array: Any, dtype: str, computed_in: str | None = None) -> None:
        self.array = np.asarray(array)
        self.dtype = dtype
        self.computed_in = computed_in or dtype  # sets the tolerance

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Num) or other.dtype != self.dtype:
            return False
        if self.array.shape != other.array.shape:
            return False
        if self.dtype not in TOLERANCE:
            return bool(np.array_equal(self.array, other.array))
        rtol, atol = TOLERANCE[self.computed_in]
        return bool(np.allclose(self.array, other.array, rtol=rtol, atol=atol, equal_nan=True))

    def __repr__(self) -> str:
        return f"Num({self.array.tolist()!r}, {self.dtype})"


def tensor_summary(t: Any, leaves: Sequence[Any] = ()) -> Any:
    """What a tensor-valued attribute shows: which leaf it is, or its values and dtype."""
    for k, leaf in enumerate(leaves):
        if t is leaf:
            return ("leaf", k)
    return ("tensor", Num(values(t), dtype_name(t)), tuple(t.shape))


def is_tensor(x: Any) -> bool:
    """A gradlab or torch tensor (duck-typed: this module must import without torch)."""
    return isinstance(x, gradlab.Tensor) or type(x).__name__ in ("Tensor", "Parameter")


def value_summary(x: Any, leaves: Sequence[Any] = ()) -> Any:
    """A saved attribute's value: tensors summarized, sequences element by element."""
    if x is None:
        return None
    if is_tensor(x):
        return tensor_summary(x, leaves)
    if isinstance(x, (tuple, list)):
        return ("seq", tuple(value_summary(v, leaves) for v in x))
    if isinstance(x, bool) or isinstance(x, float):
        return x
    if isinstance(x, int):
        # torch's Python binding shows a saved negative int64 (dim=-1) as an unsigned
        # number (18446744073709551615); gradlab shows the -1 the user wrote
        return x - 2**64 if x >= 2**63 else x
    return ("other", type(x).__name__)


def saved_names(node: Any) -> list[str]:
    return sorted(a for a in dir(node) if a.startswith("_saved_"))


def read_saved(node: Any, name: str, leaves: Sequence[Any]) -> Any:
    """The attribute's summary, or the error type and leading words its access raises."""
    try:
        return value_summary(getattr(node, name), leaves)
    except Exception as error:  # noqa: BLE001  (the error is what is compared)
        return ("raises", type(error).__name__, str(error)[:60])


def graph(outputs: Sequence[Any], leaves: Sequence[Any]) -> dict[str, Any]:
    """The backward graph reachable from ``outputs``, with nodes numbered breadth-first so
    that shared nodes (a diamond, unbind's one node) show up as the same number."""
    ids: dict[int, int] = {}
    keep: list[Any] = []  # keep the node objects alive so their ids stay unique
    order: list[Any] = []

    def number(node: Any) -> int:
        key = id(node)
        if key not in ids:
            ids[key] = len(ids)
            keep.append(node)
            order.append(node)
        return ids[key]

    roots = []
    for out in outputs:
        roots.append(None if out.grad_fn is None else (number(out.grad_fn), out.output_nr))
    nodes = []
    position = 0
    while position < len(order):
        node = order[position]
        position += 1
        edges = tuple(
            (None if target is None else number(target), index)
            for target, index in node.next_functions
        )
        entry: dict[str, Any] = {"name": node.name(), "next": edges}
        if node.name() == "torch::autograd::AccumulateGrad":
            entry["variable"] = tensor_summary(node.variable, leaves)
        entry["saved"] = {name: read_saved(node, name, leaves) for name in saved_names(node)}
        nodes.append(entry)
    return {"roots": roots, "nodes": nodes, "_keep": keep}


def tensor_facts(t: Any) -> dict[str, Any]:
    return {
        "repr": normalize(repr(t)),
        "values": Num(values(t), dtype_name(t)),
        "dtype": dtype_name(t),
        "shape": tuple(t.shape),
        "requires_grad": t.requires_grad,
        "is_leaf": t.is_leaf,
        "grad_fn": None if t.grad_fn is None else t.grad_fn.name(),
        "version": t._version,
    }


def grad_facts(t: Any, computed_in: str | None = None) -> Any:
    with warnings.catch_warnings():  # torch warns when .grad of a non-leaf is read
        warnings.simplefilter("ignore")
        g = t.grad
    if g is None:
        return None
    return {
        "repr": normalize(repr(g)),
        "values": Num(values(g), dtype_name(g), computed_in),
        "dtype": dtype_name(g),
    }


def upstream(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def observe(
    lib: Any,
    program: Callable[..., Any],
    arrays: Sequence[Any],
    requires_grad: Sequence[bool] | None = None,
    backward: bool = True,
    seed: int = 1,
    grads_computed_in: str | None = None,
) -> dict[str, Any]:
    """Run ``program`` on ``lib`` with leaves made from ``arrays`` and describe the result.

    ``grads_computed_in``: the dtype the backward formulas run in when it is less precise
    than a leaf's own (a float64 leaf whose gradient comes from float32 arithmetic); the
    gradients are then compared with that dtype's tolerance."""
    if requires_grad is None:
        requires_grad = [np.asarray(a).dtype.kind == "f" for a in arrays]
    leaves = [lib.tensor(np.asarray(a), requires_grad=rg) for a, rg in zip(arrays, requires_grad)]
    result = program(lib, *leaves)
    outputs = list(result) if isinstance(result, (tuple, list)) else [result]
    facts: dict[str, Any] = {
        "outputs": [tensor_facts(o) for o in outputs],
        "output_nr": [o.output_nr for o in outputs],
        "graph": graph(outputs, leaves),
        "leaves": [tensor_facts(t) for t in leaves],
    }
    differentiable = [o for o in outputs if o.requires_grad]
    if backward and differentiable:
        grads = [
            lib.tensor(upstream(tuple(o.shape), seed + k).astype(o.detach().numpy().dtype))
            for k, o in enumerate(differentiable)
        ]
        lib.autograd.backward(differentiable, grads)
        facts["grads"] = [grad_facts(t, grads_computed_in) for t in leaves]
        facts["after_backward"] = graph(outputs, leaves)
        facts["leaf_versions_after"] = [t._version for t in leaves]
    return facts


def strip(facts: Any) -> Any:
    """``facts`` without the bookkeeping entries (node objects kept alive)."""
    if isinstance(facts, dict):
        return {k: strip(v) for k, v in facts.items() if k != "_keep"}
    if isinstance(facts, list):
        return [strip(v) for v in facts]
    return facts


def diff(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Where two descriptions differ, as readable lines."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        lines = []
        for key in sorted(set(ours) | set(theirs), key=str):
            if key not in ours or key not in theirs:
                lines.append(
                    f"{path}.{key}: gradlab={ours.get(key, '<missing>')!r} "
                    f"torch={theirs.get(key, '<missing>')!r}"
                )
            else:
                lines += diff(ours[key], theirs[key], f"{path}.{key}")
        return lines
    if isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        return [
            line
            for k, (a, b) in enumerate(zip(ours, theirs))
            for line in diff(a, b, f"{path}[{k}]")
        ]
    if ours == theirs:
        return []
    return [f"{path}: gradlab={ours!r}\n{' ' * len(path)}  torch={theirs!r}"]


def assert_same(
    oracle: Any, program: Callable[..., Any], arrays: Sequence[Any], **kwargs: Any
) -> dict[str, Any]:
    """Run ``program`` on gradlab and ask the oracle (tests/oracle.py) what torch does;
    fail with every difference found."""
    ours = strip(observe(gradlab, program, arrays, **kwargs))
    theirs = oracle(lambda torch: strip(observe(torch, program, arrays, **kwargs)))
    lines = diff(ours, theirs)
    assert not lines, "gradlab differs from torch:\n" + "\n".join(lines)
    return ours


def raised(fn: Callable[[], Any]) -> BaseException:
    """The exception ``fn()`` raises (fails if it raises none)."""
    try:
        fn()
    except Exception as error:  # noqa: BLE001
        return error
    raise AssertionError(f"{fn} raised no exception")


def message_head(error: BaseException, torch_message: bool = False) -> str:
    """An error message up to its first "Hint" (torch's with torch. spelled gradlab.)."""
    text = str(error)
    return (normalize(text) if torch_message else text).split("Hint")[0].strip()
