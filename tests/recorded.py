"""Small recorded programs and example sources shared by several test modules."""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable

import gradlab


def program_source(example: Callable[[], gradlab.Recording]) -> str:
    """The code inside a ``gradlab.examples`` program's ``with record()`` block, dedented
    (what a learner types in a cell)."""
    source = inspect.getsource(example)
    block = source[source.index("    with record()") : source.index("    return rec")]
    body = block.split("\n", 1)[1]
    return textwrap.dedent(body)


def chain_walkthrough() -> gradlab.Walkthrough:
    """a (2, requires grad) * b (3) = c; d = c * 5: MulBackward0 of c sends 15 to a."""
    with gradlab.record() as rec:
        a = gradlab.tensor(2.0, requires_grad=True)
        b = gradlab.tensor(3.0)
        c = a * b
        d = c * 5.0
        d.backward()
    del a, b, c, d
    return gradlab.Walkthrough(rec)
