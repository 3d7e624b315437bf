"""The five programs of the classic autograd walkthrough, recorded and ready to step through.

The lessons build them cell by cell; here each is one call, for a quick demo on a projector,
for tests and for benchmarks.

>>> import gradlab
>>> walk = gradlab.Walkthrough(gradlab.examples.div_add_graph())
>>> walk.goto(len(walk) - 1)
>>> walk.narration.split(". ")[0]
'The backward pass is done: c.grad = 36.0, h.grad = -64.0, i.grad = 18.0'
"""

from __future__ import annotations

import gradlab
from gradlab.recording import Recording, record


def multiply() -> Recording:
    """Lesson 1: ``c = a * b`` with only ``a`` requiring grad; ``a.grad == 3``."""
    with record() as rec:
        a = gradlab.tensor(2.0, requires_grad=True)
        b = gradlab.tensor(3.0)
        c = a * b
        c.backward()
    return rec


def chained_multiply() -> Recording:
    """Lesson 2: ``e = (a * b) * d``; grads 12, 8 and 6."""
    with record() as rec:
        a = gradlab.tensor(2.0, requires_grad=True)
        b = gradlab.tensor(3.0, requires_grad=True)
        d = gradlab.tensor(4.0, requires_grad=True)
        c = a * b
        e = c * d
        e.backward()
    return rec


def version_counter() -> Recording:
    """Lesson 3: ``c += 1`` after ``e = c * d`` saved ``c``; backward fails on the version."""
    with record() as rec:
        a = gradlab.tensor(2.0, requires_grad=True)
        b = gradlab.tensor(3.0, requires_grad=True)
        d = gradlab.tensor(4.0, requires_grad=True)
        c = a * b
        e = c * d
        c += 1
        try:
            e.backward()
        except RuntimeError as error:
            print("RuntimeError:", error)
    return rec


def unbind() -> Recording:
    """Lesson 4: ``b, c, d = a.unbind()``, ``e = b * c * d``; ``a.grad == [6, 3, 2]``."""
    with record() as rec:
        a = gradlab.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b, c, d = a.unbind()
        e = b * c * d
        e.backward()
    return rec


def div_add_graph() -> Recording:
    """Lesson 5: the div/add graph where gradients converge; ``h.grad == -64``,
    ``c.grad == 36``, and ``i.grad == 18`` kept by ``retain_grad``."""
    with record() as rec:
        a = gradlab.tensor(2.0)
        b = gradlab.tensor(2.0)
        c = a * b
        c.requires_grad_()
        d = gradlab.tensor(2.0)
        e = c * d
        f = gradlab.tensor(2.0)
        g = e * f
        h = gradlab.tensor(2.0, requires_grad=True)
        i = g / h
        j = i + h
        k = j * i
        i.retain_grad()
        k.backward()
    return rec


ALL = (multiply, chained_multiply, version_counter, unbind, div_add_graph)
