"""The five programs of the lessons (SPEC §3), with their numbers, each also run on torch.

Every lesson function takes the library (``gradlab`` or ``torch``) and returns what the
lesson shows; the tests assert the lesson's numbers on gradlab and that torch shows the
same.
"""

from __future__ import annotations

import numpy as np

import gradlab
from tests.parity import message_head, normalize, raised

ACC = "torch::autograd::AccumulateGrad"


def edges(node):
    """``next_functions`` as (name or None, index) pairs."""
    return [(None if n is None else n.name(), i) for n, i in node.next_functions]


def value(t):
    return None if t is None else t.detach().numpy().tolist()


def same_on_torch(oracle, lesson):
    """``lesson(gradlab)``, which must equal what torch shows (tests/oracle.py)."""
    ours, theirs = lesson(gradlab), oracle(lesson)
    assert ours == theirs
    return ours


# --- 1. c = a * b ------------------------------------------------------------------------------


def lesson1(L):
    a = L.tensor(2.0, requires_grad=True)
    b = L.tensor(3.0)
    c = a * b
    shown = {
        "c": normalize(repr(c)),
        "next_functions": edges(c.grad_fn),
        "accumulates_into_a": c.grad_fn.next_functions[0][0].variable is a,
        "saved": (value(c.grad_fn._saved_other), c.grad_fn._saved_self),
        "flags": [(t.is_leaf, t.requires_grad) for t in (a, b, c)],
    }
    c.backward()
    shown["grads"] = (value(a.grad), b.grad, normalize(repr(a.grad)))
    return shown


def test_lesson1_multiply(oracle):
    shown = same_on_torch(oracle, lesson1)
    assert shown["c"] == "tensor(6., grad_fn=<MulBackward0>)"
    assert shown["grads"] == (3.0, None, "tensor(3.)")
    assert shown["next_functions"] == [(ACC, 0), (None, 0)]
    assert shown["accumulates_into_a"] is True
    assert shown["saved"] == (3.0, None)  # b saved (a needs its gradient), a not saved
    assert shown["flags"] == [(True, True), (True, False), (False, True)]


# --- 2. e = (a * b) * d ------------------------------------------------------------------------


def lesson2(L):
    a, b, d = (L.tensor(v, requires_grad=True) for v in (2.0, 3.0, 4.0))
    c = a * b
    e = c * d
    shown = {
        "e": normalize(repr(e)),
        "points_at_c": e.grad_fn.next_functions[0][0] is c.grad_fn,
        "e_edges": edges(e.grad_fn),
        "c_edges": edges(c.grad_fn),
        "d_accumulator": e.grad_fn.next_functions[1][0].variable is d,
        "saved": [value(e.grad_fn._saved_self), value(e.grad_fn._saved_other)],
    }
    e.backward()
    shown["grads"] = [value(t.grad) for t in (a, b, d)]
    shown["c.grad"] = c.retains_grad
    shown["after"] = [
        message_head(raised(lambda: e.grad_fn._saved_self), torch_message=L is not gradlab),
        message_head(raised(e.backward), torch_message=L is not gradlab),
    ]
    return shown


def test_lesson2_chained_multiply(oracle):
    shown = same_on_torch(oracle, lesson2)
    assert shown["grads"] == [12.0, 8.0, 6.0]
    assert shown["points_at_c"] is True
    assert shown["e_edges"] == [("MulBackward0", 0), (ACC, 0)]
    assert shown["c_edges"] == [(ACC, 0), (ACC, 0)]
    assert shown["e"] == "tensor(24., grad_fn=<MulBackward0>)"
    assert shown["saved"] == [6.0, 4.0]
    second_time = "Trying to backward through the graph a second time"
    assert all(message.startswith(second_time) for message in shown["after"])


# --- 3. the version counter --------------------------------------------------------------------


def lesson3(L, second="mul"):
    a, b, d = (L.tensor(v, requires_grad=True) for v in (2.0, 3.0, 4.0))
    c = a * b
    e = c * d if second == "mul" else c + d
    versions = [c._version]
    c += 1
    versions.append(c._version)
    shown = {"versions": versions, "c": normalize(repr(c)), "c_edges": edges(c.grad_fn)}
    try:
        e.backward()
    except RuntimeError as error:
        shown["error"] = message_head(error, torch_message=L is not gradlab)
    shown["grads"] = [value(t.grad) for t in (a, b, d)]
    return shown


def test_lesson3_version_error_with_mul(oracle):
    shown = same_on_torch(oracle, lesson3)
    assert shown["versions"] == [0, 1]
    assert shown["c"] == "tensor(7., grad_fn=<AddBackward0>)"
    assert shown["c_edges"] == [("MulBackward0", 0), (None, 0)]
    assert "is at version 1; expected version 0 instead." in shown["error"]
    assert shown["error"].startswith(
        "one of the variables needed for gradient computation has been modified by an "
        "inplace operation: [gradlab.FloatTensor []], which is output 0 of Add,"
    )
    # e's MulBackward0, the first node to run, fails: no leaf was reached
    assert shown["grads"] == [None, None, None]


def test_lesson3_no_error_with_add(oracle):
    shown = same_on_torch(oracle, lambda L: lesson3(L, "add"))
    assert "error" not in shown
    assert shown["grads"] == [3.0, 2.0, 1.0]


# --- 4. unbind ---------------------------------------------------------------------------------


def lesson4(L):
    a = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b, c, d = a.unbind()
    bc = b * c
    e = bc * d
    unbind_node = b.grad_fn
    shown = {
        "outputs": [normalize(repr(t)) for t in (b, c, d)],
        "output_nr": [t.output_nr for t in (b, c, d)],
        "shared": unbind_node is c.grad_fn is d.grad_fn,
        "bc_edges": edges(bc.grad_fn),
        "e_edges": edges(e.grad_fn),
        "bc_points_at_unbind": [n is unbind_node for n, _ in bc.grad_fn.next_functions],
        "e_points": [n is unbind_node for n, _ in e.grad_fn.next_functions],
        "unbind_edges": edges(unbind_node),
        "versions": [t._version for t in (a, b, c, d)],
    }
    e.backward()
    shown["a.grad"] = value(a.grad)
    shown["e"] = normalize(repr(e))
    return shown


def test_lesson4_unbind(oracle):
    shown = same_on_torch(oracle, lesson4)
    assert shown["a.grad"] == [6.0, 3.0, 2.0]
    assert shown["output_nr"] == [0, 1, 2]
    assert shown["shared"] is True
    assert shown["bc_edges"] == [("UnbindBackward0", 0), ("UnbindBackward0", 1)]
    assert shown["e_edges"] == [("MulBackward0", 0), ("UnbindBackward0", 2)]
    assert shown["bc_points_at_unbind"] == [True, True]
    assert shown["e_points"] == [False, True]
    assert shown["unbind_edges"] == [(ACC, 0)]
    assert shown["outputs"][1] == "tensor(2., grad_fn=<UnbindBackward0>)"
    assert shown["e"] == "tensor(6., grad_fn=<MulBackward0>)"


# --- 5. the div/add graph ----------------------------------------------------------------------


def lesson5(L):
    a = L.tensor(2.0)
    b = L.tensor(2.0)
    c = a * b
    before = (c.is_leaf, c.requires_grad, c.grad_fn)
    c.requires_grad_()
    d = L.tensor(2.0, requires_grad=True)
    e = c * d
    f = L.tensor(2.0, requires_grad=True)
    g = e * f
    h = L.tensor(2.0, requires_grad=True)
    i = g / h
    j = i + h
    k = j * i
    i.retain_grad()
    shown = {
        "c_before": before,
        "c_after": (c.is_leaf, c.requires_grad, normalize(repr(c))),
        "k": normalize(repr(k)),
        "k_edges": edges(k.grad_fn),
        "j_edges": edges(j.grad_fn),
        "i_edges": edges(i.grad_fn),
        "i_shared": k.grad_fn.next_functions[1][0] is j.grad_fn.next_functions[0][0] is i.grad_fn,
        "h_shared": i.grad_fn.next_functions[1][0] is j.grad_fn.next_functions[1][0],
        "retains": (i.retains_grad, j.retains_grad),
    }
    k.backward()
    shown["grads"] = {
        name: value(t.grad) for name, t in dict(a=a, b=b, c=c, d=d, f=f, h=h, i=i).items()
    }
    m = k.detach()
    shown["detached"] = (normalize(repr(m)), m.requires_grad, m.is_leaf, m.grad_fn)
    item, as_list, array = m.item(), m.tolist(), m.numpy()
    shown["item"] = (item, type(item).__name__, as_list, type(as_list).__name__)
    shown["numpy"] = (type(array).__name__, str(array.dtype), array.shape, array.tolist())
    shown["numpy_shares"] = np.shares_memory(array, k.detach().numpy())
    shown["values"] = [t.item() for t in (c, e, g, i, j, k)]
    return shown


def test_lesson5_div_add_graph(oracle):
    shown = same_on_torch(oracle, lesson5)
    assert shown["grads"]["h"] == -64.0
    assert shown["grads"]["c"] == 36.0
    assert shown["grads"]["i"] == 18.0  # retained
    assert shown["grads"]["d"] == 72.0 and shown["grads"]["f"] == 72.0
    assert shown["grads"]["a"] is None and shown["grads"]["b"] is None
    assert shown["values"] == [4.0, 8.0, 16.0, 8.0, 10.0, 80.0]
    assert shown["c_before"] == (True, False, None)
    assert shown["c_after"] == (True, True, "tensor(4., requires_grad=True)")
    assert shown["k"] == "tensor(80., grad_fn=<MulBackward0>)"
    assert shown["k_edges"] == [("AddBackward0", 0), ("DivBackward0", 0)]
    assert shown["j_edges"] == [("DivBackward0", 0), (ACC, 0)]
    assert shown["i_edges"] == [("MulBackward0", 0), (ACC, 0)]
    assert shown["i_shared"] is True and shown["h_shared"] is True
    assert shown["retains"] == (True, False)
    assert shown["detached"] == ("tensor(80.)", False, True, None)
    assert shown["item"] == (80.0, "float", 80.0, "float")
    assert shown["numpy"] == ("ndarray", "float32", (), 80.0)
    assert shown["numpy_shares"] is True
