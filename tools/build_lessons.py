"""Build the lesson notebooks in lessons/ from the text in this file.

The notebooks are generated, never edited by hand: change the cells here, then rebuild and
re-execute them, so the saved outputs are exactly what the code prints::

    python tools/build_lessons.py
    jupyter nbconvert --to notebook --execute --inplace lessons/*.ipynb
    python -m pytest lessons -q          # nbval re-runs them and compares the outputs

(``python tools/build_lessons.py --execute`` does the first two steps in one go.)

Cells tagged ``raises-exception`` are meant to fail: nbval expects their exception.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

LESSONS = Path(__file__).resolve().parent.parent / "lessons"
RAISES = ["raises-exception"]


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(textwrap.dedent(text).strip("\n"))


def code(text: str, tags: list[str] | None = None) -> nbformat.NotebookNode:
    cell = new_code_cell(textwrap.dedent(text).strip("\n"))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def narrate(walk: str = "walk") -> nbformat.NotebookNode:
    """A cell that prints every step of a walkthrough as text (checked by nbval)."""
    return code(f"""
        for number, frame in enumerate({walk}.frames):
            print(f"{{number:2}}  {{frame.narration}}")
        """)


def notebook(cells: list[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    return nb


NEXT = {
    "00": "Next: [Lesson 1: `c = a * b`](01_multiply.ipynb).",
    "01": "Next: [Lesson 2: a chain of multiplications](02_chained_multiply.ipynb).",
    "02": "Next: [Lesson 3: the version counter](03_version_counter.ipynb).",
    "03": "Next: [Lesson 4: `unbind` and the output index](04_unbind.ipynb).",
    "04": "Next: [Lesson 5: a graph that splits and joins](05_div_add_graph.ipynb).",
    "05": "That was the last lesson. Go back to [Start here](00_start_here.ipynb) any time.",
}

# ---------------------------------------------------------------------------------------------
# 00  Start here
# ---------------------------------------------------------------------------------------------

START_HERE = [
    md("""
    # Start here: what autograd does, and how to look inside it

    Training a neural network means adjusting a pile of numbers, the *parameters*, so that
    a *loss* gets smaller. To know which way to adjust each parameter, we need the
    derivative of the loss with respect to it: its **gradient**.

    Working those derivatives out by hand is fine for one formula and hopeless for a
    network. **Autograd** (automatic differentiation) does it for you, and it does it in a
    surprisingly simple way:

    1. **Forward pass.** While your code computes the result, every operation on a tensor
       that needs a gradient is written down as a small node in a *backward graph*.
    2. **Backward pass.** When you call `.backward()`, autograd walks that graph from the
       result back to the inputs. Each node knows only its own local derivative; it
       multiplies the gradient it receives by that derivative and passes the result on
       (the chain rule, one node at a time). At the start of the graph the gradients land
       in the `.grad` of your parameters.

    These lessons let you watch both passes happen.
    """),
    md("""
    ## gradlab is a small PyTorch you can open up

    PyTorch's autograd is written in C++ and hard to look into. **gradlab** is a small
    autograd engine written in Python and numpy that copies PyTorch's names and behaviour:
    where you would write `import torch` and `torch.tensor(...)`, you write
    `import gradlab` and `gradlab.tensor(...)`. The attributes (`.grad`, `.grad_fn`,
    `.is_leaf`, `.requires_grad`, `._version`, ...), the names of the backward nodes
    (`MulBackward0`, `AccumulateGrad`, ...) and even the error messages are PyTorch's, so
    everything you learn here carries over to PyTorch unchanged.

    What gradlab adds is a way to *see*: a picture of the tensors and of the backward graph,
    and a stepper that replays the computation one step at a time.
    """),
    code("""
    import gradlab
    """),
    md("""
    ## A first taste: one parameter, one loss

    A model with a single parameter `w` predicts `y = w * x`. For the input `x = 4` we want
    the answer `3`, and we measure how wrong we are with a squared error. `w` is the number
    we want to tune, so we ask autograd to track it: `requires_grad=True`.
    """),
    code("""
    w = gradlab.tensor(0.5, requires_grad=True)   # the parameter we want to tune
    x = gradlab.tensor(4.0)                       # an input: fixed, no gradient needed
    y = w * x                                     # the prediction
    err = y - 3.0                                 # how far off it is
    loss = err ** 2
    loss
    """),
    md("""
    The loss is `(0.5 · 4 − 3)² = 1`. Its repr says more than the value: `grad_fn` names the
    backward node that will differentiate the last operation (`**`). That node is linked to
    the node for the subtraction, which is linked to the node for the multiplication: the
    whole backward graph hangs off `loss.grad_fn`.
    """),
    md("""
    ## The picture, and its colours

    `gradlab.show(...)` draws the tensors you name, every tensor on the graph behind them,
    and the backward graph. The colours follow the classic autograd diagram:

    * 🟫 **brown: a branch.** A tensor computed from something that requires grad. It has a
      `grad_fn`, and `is_leaf` is `False`. Gradients flow *through* it; its `.grad` stays
      `None`. Here: `y`, `err`, `loss`.
    * 🟩 **green: a leaf on the graph.** A tensor you created with `requires_grad=True`.
      This is where `.grad` lands. Here: `w`.
    * 🟨 **yellow: a "dried-up" leaf.** A tensor that does not require grad. No branch grows
      from it, so autograd never computes a gradient for it (`.grad` stays `None`). Drawn
      with a dashed outline. Here: `x`.
    * 🟦 **blue: a node of the backward graph.** The `grad_fn` objects (`MulBackward0`, ...)
      and the `AccumulateGrad` nodes that write into leaves. The arrows between nodes are
      `next_functions`, labelled with an output index. Here: `PowBackward0`,
      `SubBackward0`, `MulBackward0` and the `AccumulateGrad` for `w`.

    A dashed grey arrow goes from a tensor to its `grad_fn`; a dotted green arrow from an
    `AccumulateGrad` to the leaf it writes into. A legend is drawn under every picture.
    """),
    code("""
    gradlab.show(loss)
    """),
    md("""
    ## The backward pass

    `loss.backward()` runs the backward graph. Afterwards the gradient sits in `w.grad`.
    """),
    code("""
    loss.backward()
    w.grad
    """),
    md("""
    Check it by hand: `d/dw (w·x − 3)² = 2·(w·x − 3)·x = 2 · (−1) · 4 = −8`. The sign says
    that *increasing* `w` lowers the loss. So take a small step against the gradient. The
    step itself is not part of the model, so we switch autograd off for it with
    `gradlab.no_grad()` (exactly like `torch.no_grad()`).
    """),
    code("""
    with gradlab.no_grad():
        w -= 0.05 * w.grad

    w, (w * x - 3.0) ** 2
    """),
    md("""
    The loss dropped from `1` to `0.36`. That is one step of gradient descent, and all of
    deep learning training is this loop repeated. The lessons are about what happened inside
    `loss.backward()`.
    """),
    md("""
    ## The stepper

    To replay a computation, put it inside `with gradlab.record() as rec:`. Everything the
    engine does inside the block is captured in order: each tensor created, each operation
    (with what its node saved for later), each in-place change, and each step of the
    backward pass. `gradlab.Walkthrough(rec)` turns the recording into steps and shows them
    as a stepper:

    * **◀ Prev / Next ▶** move one step, **Reset** goes back to the start, **▶ (play)** runs
      through all steps, and the **slider** jumps anywhere;
    * the line of code that caused the step is shown above the picture, and a sentence
      explains the step with the real numbers;
    * the part of the picture that the step is about is highlighted. Forward steps grow the
      graph; backward steps move a gradient along one arrow;
    * **Full size** shows a wide picture at its own size instead of fitting it to the
      width (for a projector); scroll to move around it.

    (If you want the widget object itself, `gradlab.widgets.Stepper(walk)` builds it
    explicitly.) Run the next cell and press **Next ▶**.
    """),
    code("""
    with gradlab.record() as rec:
        w = gradlab.tensor(0.5, requires_grad=True)
        x = gradlab.tensor(4.0)
        y = w * x
        err = y - 3.0
        loss = err ** 2
        loss.backward()

    walk = gradlab.Walkthrough(rec)
    walk
    """),
    md("""
    The same steps can be read as plain text, which is handy on a projector or when the
    widget cannot be displayed (for example in a notebook viewed without a kernel):
    """),
    narrate(),
    md("""
    ## Try it

    Change the target from `3.0` to `1.0`. **Predict** `w.grad` before you run the cell:
    `2·(w·x − 1)·x` with `w = 0.5` and `x = 4`.
    """),
    code("""
    w = gradlab.tensor(0.5, requires_grad=True)
    x = gradlab.tensor(4.0)
    loss = (w * x - 1.0) ** 2
    loss.backward()
    w.grad
    """),
    md("""
    `2 · (2 − 1) · 4 = 8`: positive this time, so the step would *decrease* `w`.

    ## The lessons

    Each lesson takes one small example of the classic autograd walkthrough, prints every
    attribute that matters, shows the picture, and lets you step through it.

    1. [`c = a * b`](01_multiply.ipynb): what a tensor carries, when a graph is built, what a
       node saves, and the first backward pass.
    2. [`e = (a * b) * d`](02_chained_multiply.ipynb): nodes pointing at nodes, and the chain
       rule.
    3. [The version counter](03_version_counter.ipynb): why changing a tensor in place can
       break `backward()`, and when it does not.
    4. [`unbind`](04_unbind.ipynb): one node with several outputs, and what the second
       number in `next_functions` means.
    5. [A graph that splits and joins](05_div_add_graph.ipynb): gradients meeting, keeping
       an intermediate gradient, `detach`, `item`, `tolist`, `numpy`.
    """),
]

# ---------------------------------------------------------------------------------------------
# 01  c = a * b
# ---------------------------------------------------------------------------------------------

MULTIPLY = [
    md("""
    # Lesson 1: `c = a * b`

    One multiplication is enough to meet every piece of autograd: the tensor and its
    attributes, the rule that decides whether a graph is built, the backward node and what
    it saves, and the first backward pass.
    """),
    code("""
    import gradlab
    """),
    md("""
    ## What a tensor carries

    A tensor is more than its numbers. For autograd each tensor carries five things, the
    five rows of the boxes in the picture:

    * `data`: the numbers themselves;
    * `grad`: where a gradient will be stored, `None` until one arrives;
    * `grad_fn`: the backward node that made this tensor, `None` if no node did;
    * `is_leaf`: `True` if the tensor was not made by a recorded operation;
    * `requires_grad`: whether autograd should track this tensor.

    We want the derivative with respect to `a`, so only `a` asks for it.
    """),
    code("""
    a = gradlab.tensor(2.0, requires_grad=True)
    b = gradlab.tensor(3.0)
    a, b
    """),
    code("""
    for name, t in [("a", a), ("b", b)]:
        print(f"{name}: data={t.data}  grad={t.grad}  grad_fn={t.grad_fn}  "
              f"is_leaf={t.is_leaf}  requires_grad={t.requires_grad}")
    """),
    md("""
    Both are leaves: you made them yourself. `a` is a leaf *on the graph* (green in the
    pictures): its gradient will land in `a.grad`. `b` is a "dried-up" leaf (yellow): it
    does not require grad, so nothing will ever be written into `b.grad`.

    ## When is a graph built?

    Autograd records an operation only if at least one input requires grad. If none does,
    there is nothing to differentiate: the result is an ordinary tensor, a leaf with no
    `grad_fn`, and no graph is built at all.
    """),
    code("""
    x = b * b            # no input requires grad
    x, x.requires_grad, x.is_leaf, x.grad_fn
    """),
    md("""
    As soon as one input requires grad, the result requires grad too, is *not* a leaf any
    more, and points at a new backward node through `grad_fn`. In the pictures such a
    tensor is a brown *branch*.
    """),
    code("""
    c = a * b
    c
    """),
    code("""
    c.requires_grad, c.is_leaf, c.grad_fn
    """),
    md("""
    ## The backward node: `MulBackward0`

    `c.grad_fn` is the object that will compute the derivative of this one multiplication.
    PyTorch names its nodes after the forward operation: `MulBackward0` for `*`.

    `next_functions` says where the node sends gradients: one `(node, index)` pair per
    input of the multiplication, in order (`a`, then `b`).

    * For `a`, a leaf that requires grad, the pair points at an `AccumulateGrad` node,
      whose job is to add the gradient into `a.grad`. Its `.variable` is `a` itself.
    * For `b`, which needs no gradient, the pair is `(None, 0)`: nothing to send there.
    """),
    code("""
    c.grad_fn.next_functions
    """),
    code("""
    c.grad_fn.next_functions[0][0].variable is a
    """),
    md("""
    ## What the node saves for later

    The derivative of `a * b` with respect to `a` is `b`. So to do its job later,
    `MulBackward0` must keep `b` around: it is saved in the node when the multiplication
    runs. PyTorch exposes saved values as `_saved_` attributes; `self` is the left operand,
    `other` the right one.
    """),
    code("""
    c.grad_fn._saved_other
    """),
    md("""
    And `self` (that is, `a`)? Nobody needs the gradient with respect to `b`, so the node
    does not need `a` and does not keep it. PyTorch is economical in exactly this way.
    """),
    code("""
    c.grad_fn._saved_self, c.grad_fn._saved_other
    """),
    md("""
    ## The picture

    Everything so far in one drawing: green `a`, yellow `b`, brown `c`, and below them, in
    blue, the backward graph: `c`'s `MulBackward0` holding the saved `b`, and its edge
    (output index `0`) to the `AccumulateGrad` that will write into `a.grad`. The
    `(None, 0)` entry has no arrow: there is nothing at its end.
    """),
    code("""
    gradlab.show(c)
    """),
    md("""
    ## Writing the node yourself: `gradlab.Function` and `ctx`

    Every node works like a custom `Function` you can write yourself (in PyTorch:
    `torch.autograd.Function`). `forward` computes the result and stores what backward
    will need in `ctx` with `ctx.save_for_backward(...)`. `backward` gets the same `ctx`
    back, unpacks `ctx.saved_tensors`, and returns one gradient per input (`None` for an
    input that needs none: `ctx.needs_input_grad` says which ones do).
    """),
    code("""
    class MyMul(gradlab.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y

        @staticmethod
        def backward(ctx, grad_output):
            x, y = ctx.saved_tensors
            print("needs_input_grad:", ctx.needs_input_grad)
            grad_x = grad_output * y if ctx.needs_input_grad[0] else None
            grad_y = grad_output * x if ctx.needs_input_grad[1] else None
            return grad_x, grad_y
    """),
    code("""
    a2 = gradlab.tensor(2.0, requires_grad=True)
    c2 = MyMul.apply(a2, b)
    c2, c2.grad_fn.next_functions
    """),
    md("""
    The `grad_fn` of the result *is* the `ctx` that `forward` filled in, so the saved tensors
    can be read straight from it:
    """),
    code("""
    c2.grad_fn.saved_tensors
    """),
    code("""
    c2.backward()
    a2.grad, b.grad
    """),
    md("""
    ## The backward pass

    `c.backward()` asks for the derivative of `c` with respect to every leaf on its graph.

    1. It starts with the derivative of `c` with respect to itself: `1`. This *seed* goes to
       `c.grad_fn`, the `MulBackward0`.
    2. `MulBackward0` multiplies it by the saved `b = 3` and sends `3` along its first
       `next_functions` edge; the second edge is `None`, so nothing goes there.
    3. `AccumulateGrad` adds `3` into `a.grad`.
    """),
    code("""
    c.backward()
    a.grad, b.grad
    """),
    md("""
    `a.grad` is `3`, the derivative of `a · b` with respect to `a`, and `b.grad` stays
    `None` because `b` never asked for a gradient.
    """),
    md("""
    ## Step through it

    The same example, recorded. Press **Next ▶** to watch the graph being built and the
    gradient travel back.
    """),
    code("""
    with gradlab.record() as rec:
        a = gradlab.tensor(2.0, requires_grad=True)
        b = gradlab.tensor(3.0)
        c = a * b
        c.backward()

    walk = gradlab.Walkthrough(rec)
    walk
    """),
    narrate(),
    md("""
    ## Try it

    **1.** Change `b` to `5.0`. Predict `a.grad` first.
    """),
    code("""
    a = gradlab.tensor(2.0, requires_grad=True)
    b = gradlab.tensor(5.0)
    c = a * b
    c.backward()
    a.grad
    """),
    md("""
    **2.** Now let `b` require grad as well. Predict both pairs in `next_functions`, and
    both gradients. (Hint: the derivative of `a · b` with respect to `b` is `a`.)
    """),
    code("""
    a = gradlab.tensor(2.0, requires_grad=True)
    b = gradlab.tensor(5.0, requires_grad=True)
    c = a * b
    print(c.grad_fn.next_functions)
    c.backward()
    a.grad, b.grad
    """),
    md("""
    **3.** Gradients *accumulate*: `AccumulateGrad` adds, it does not overwrite. Run
    backward twice (`retain_graph=True` keeps the saved values for the second run). What is
    `a.grad` now?
    """),
    code("""
    a = gradlab.tensor(2.0, requires_grad=True)
    b = gradlab.tensor(3.0)
    c = a * b
    c.backward(retain_graph=True)
    c.backward()
    a.grad
    """),
    md("""
    `3 + 3 = 6`. This is why training loops reset the gradients (`optimizer.zero_grad()`
    in PyTorch) before every backward pass.
    """),
    md(NEXT["01"]),
]

# ---------------------------------------------------------------------------------------------
# 02  e = (a * b) * d
# ---------------------------------------------------------------------------------------------

CHAINED = [
    md("""
    # Lesson 2: a chain, `e = (a * b) * d`

    Real models are long chains of operations. This lesson adds one more multiplication
    and shows how nodes link to nodes, and how the chain rule falls out of that: each node
    multiplies what it receives by its own local derivative and passes the product on.
    """),
    code("""
    import gradlab
    """),
    code("""
    a = gradlab.tensor(2.0, requires_grad=True)
    b = gradlab.tensor(3.0, requires_grad=True)
    d = gradlab.tensor(4.0, requires_grad=True)
    c = a * b
    e = c * d
    c, e
    """),
    md("""
    ## A node pointing at a node

    `c` is an intermediate result, not a leaf, so there is no `AccumulateGrad` for it. The
    `MulBackward0` of `e` points *straight at* the `MulBackward0` of `c`: a gradient for `c`
    is not stored anywhere, it is handed on to the node that made `c`.
    """),
    code("""
    c.is_leaf, e.grad_fn.next_functions
    """),
    code("""
    e.grad_fn.next_functions[0][0] is c.grad_fn
    """),
    code("""
    c.grad_fn.next_functions
    """),
    md("""
    Each `MulBackward0` saved both operands this time, because both of its inputs need a
    gradient. `e`'s node saved `c` itself (the tensor, not a copy of its value):
    """),
    code("""
    e.grad_fn._saved_self, e.grad_fn._saved_other
    """),
    md("""
    ## The picture

    Two brown branches (`c`, `e`), three green leaves, and a backward graph in which one
    blue `MulBackward0` leads to the other.
    """),
    code("""
    gradlab.show(e)
    """),
    md("""
    ## Backward can start anywhere

    `backward()` works from any tensor that has a graph behind it, not only from the final
    result. Starting at `c` gives the derivatives of `c = a · b`: `b = 3` for `a` and
    `a = 2` for `b`. `d` is not behind `c`, so it gets nothing.

    (We pass `retain_graph=True` because we are about to go backward through `c`'s node a
    second time, from `e`. Without it the node's saved values would be freed; lesson 5
    shows what happens then.)
    """),
    code("""
    c.backward(retain_graph=True)
    a.grad, b.grad, d.grad
    """),
    md("""
    Now from the end. Gradients add up in `.grad`, so we clear them first. To see what
    reaches `c` on the way, we attach a *hook* to it: a function that autograd calls with
    the gradient flowing through `c`.
    """),
    code("""
    a.grad = None
    b.grad = None
    c.register_hook(lambda grad: print("gradient passing through c:", grad))
    e.backward()
    """),
    md("""
    The chain rule, step by step:

    * `e`'s `MulBackward0` receives the seed `1`. It sends `1 · d = 4` towards `c` and
      `1 · c = 6` to `d`'s `AccumulateGrad`.
    * `c`'s `MulBackward0` receives that `4`. It sends `4 · b = 12` to `a` and `4 · a = 8`
      to `b`.
    """),
    code("""
    a.grad, b.grad, d.grad
    """),
    md("""
    And `c`? The `4` went *through* it (the hook saw it) but was not stored: `c` is not a
    leaf, so its `.grad` stays `None`. (PyTorch also prints a warning when you read `.grad`
    of a non-leaf; lesson 5 shows how to keep such a gradient on purpose.)
    """),
    code("""
    print(c.grad)
    """),
    md("""
    ## Step through it
    """),
    code("""
    with gradlab.record() as rec:
        a = gradlab.tensor(2.0, requires_grad=True)
        b = gradlab.tensor(3.0, requires_grad=True)
        d = gradlab.tensor(4.0, requires_grad=True)
        c = a * b
        e = c * d
        e.backward()

    walk = gradlab.Walkthrough(rec)
    walk
    """),
    narrate(),
    md("""
    ## Try it

    **1.** Change `d` to `10.0`. Predict all three gradients before you run the cell.
    """),
    code("""
    a = gradlab.tensor(2.0, requires_grad=True)
    b = gradlab.tensor(3.0, requires_grad=True)
    d = gradlab.tensor(10.0, requires_grad=True)
    e = (a * b) * d
    e.backward()
    a.grad, b.grad, d.grad
    """),
    md("""
    **2.** Make the chain one link longer: `f = e * 5`. Which gradients change, and by how
    much? (`5` is a plain number: it needs no gradient, so it shows up as `None` in
    `next_functions`.)
    """),
    code("""
    a = gradlab.tensor(2.0, requires_grad=True)
    b = gradlab.tensor(3.0, requires_grad=True)
    d = gradlab.tensor(4.0, requires_grad=True)
    f = (a * b) * d * 5
    print(f.grad_fn.next_functions)
    f.backward()
    a.grad, b.grad, d.grad
    """),
    md("""
    **3.** Let `b` *not* require grad. What does `c`'s node point at now?
    """),
    code("""
    a = gradlab.tensor(2.0, requires_grad=True)
    b = gradlab.tensor(3.0)
    d = gradlab.tensor(4.0, requires_grad=True)
    c = a * b
    e = c * d
    e.backward()
    c.grad_fn.next_functions, a.grad, b.grad
    """),
    md(NEXT["02"]),
]

# ---------------------------------------------------------------------------------------------
# 03  the version counter
# ---------------------------------------------------------------------------------------------

VERSION = [
    md("""
    # Lesson 3: the version counter

    A node keeps the tensors it needs for backward: it keeps the tensor *itself*, not a
    copy, because copying every saved value would cost a lot of memory. That raises a
    question: what if you change that tensor in place before calling `backward()`? The
    node would compute with the wrong number, and you would get a wrong gradient without
    noticing.

    Autograd guards against this with a counter. Every tensor has a `_version` that goes up
    by one with each in-place change. A node remembers the version of every tensor it saves,
    and when backward unpacks a saved tensor it checks that the version is still the same.
    If not, it stops with an error instead of giving a wrong answer.
    """),
    code("""
    import gradlab
    """),
    md("""
    ## The setup: `e = c * d`

    The chain from lesson 2. `e`'s `MulBackward0` saves `c` (it needs `c` to compute the
    gradient for `d`), at `c`'s current version, `0`.
    """),
    code("""
    a = gradlab.tensor(2.0, requires_grad=True)
    b = gradlab.tensor(3.0, requires_grad=True)
    d = gradlab.tensor(4.0, requires_grad=True)
    c = a * b
    e = c * d
    e, e.grad_fn._saved_self, c._version
    """),
    md("""
    ## An in-place change bumps the version

    `c += 1` changes `c` in place: the same tensor object now holds `7`. Its `_version`
    goes from `0` to `1`. (Its `grad_fn` changes too: `c` is now the result of an
    addition, so its history continues through an `AddBackward0`.)
    """),
    code("""
    c += 1
    c, c._version
    """),
    md("""
    `e` was computed from the *old* `c`: `e = 6 · 4 = 24`, but `7 · 4 = 28`. The gradient
    of `e` with respect to `d` is "the `c` that went into `e`", which is `6` and no longer
    exists anywhere.

    ## Backward checks the version, and refuses

    The check happens when backward *unpacks* the saved tensor, not when you change it: the
    in-place step above ran without complaint. Now `e.backward()` fails. (This cell is
    meant to raise.)
    """),
    code(
        """
    e.backward()
    """,
        tags=RAISES,
    ),
    md("""
    The message starts with PyTorch's own words, so searching for it finds PyTorch's
    answers: the saved tensor "is at version 1; expected version 0 instead". The error comes from
    the very first node, before any gradient reached a leaf, so nothing was accumulated:
    """),
    code("""
    a.grad, b.grad, d.grad
    """),
    md("""
    ## The same change with `e = c + d` is fine

    The derivative of `c + d` is `1` for both inputs, whatever their values. So
    `AddBackward0` saves no tensor at all, and has nothing to check. The same in-place
    change goes through without complaint and the gradients are right, because the
    `MulBackward0` of `c = a * b` saved `a` and `b`, which did not change.
    """),
    code("""
    a = gradlab.tensor(2.0, requires_grad=True)
    b = gradlab.tensor(3.0, requires_grad=True)
    d = gradlab.tensor(4.0, requires_grad=True)
    c = a * b
    e = c + d
    e.grad_fn, e.grad_fn.next_functions
    """),
    code("""
    c += 1
    c._version
    """),
    code("""
    e.backward()
    a.grad, b.grad, d.grad
    """),
    md("""
    ## The picture

    The failing example just before `backward()`: `c` at version 1, and `e`'s node still
    holding the `c` it saved at version 0.
    """),
    code("""
    a = gradlab.tensor(2.0, requires_grad=True)
    b = gradlab.tensor(3.0, requires_grad=True)
    d = gradlab.tensor(4.0, requires_grad=True)
    c = a * b
    e = c * d
    c += 1
    gradlab.show(e)
    """),
    md("""
    ## Step through it

    The error is a step too: the last step shows which saved tensor's version no longer
    matches. (The `try`/`except` lets the recording finish normally and prints the error.)
    """),
    code("""
    with gradlab.record() as rec:
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

    walk = gradlab.Walkthrough(rec)
    walk
    """),
    narrate(),
    md("""
    ## Try it

    **1.** Change `c` in place *before* computing `e`. Does backward work now? Predict `e`
    and the three gradients (hint: `c` is `7` when `e` is made).
    """),
    code("""
    a = gradlab.tensor(2.0, requires_grad=True)
    b = gradlab.tensor(3.0, requires_grad=True)
    d = gradlab.tensor(4.0, requires_grad=True)
    c = a * b
    c += 1
    e = c * d
    e.backward()
    e, a.grad, b.grad, d.grad
    """),
    md("""
    **2.** Multiply by a plain number instead: `e = c * 5`. The gradient for `c` is just
    `5`, and `5` needs no gradient, so does the node need to keep `c`? Predict whether
    the in-place change breaks backward this time.
    """),
    code("""
    a = gradlab.tensor(2.0, requires_grad=True)
    b = gradlab.tensor(3.0, requires_grad=True)
    c = a * b
    e = c * 5
    print("saved self:", e.grad_fn._saved_self)
    c += 1
    e.backward()
    a.grad, b.grad
    """),
    md("""
    **3.** What about changing `d` in place? `d` is a leaf that requires grad, and autograd
    forbids in-place changes to those outright, at the moment you try (this cell is meant to
    raise). Such a change would silently alter the parameter that the gradient is about.
    For updating parameters on purpose, wrap the update in `gradlab.no_grad()`, as in
    [Start here](00_start_here.ipynb).
    """),
    code(
        """
    d = gradlab.tensor(4.0, requires_grad=True)
    d += 1
    """,
        tags=RAISES,
    ),
    md(NEXT["03"]),
]

# ---------------------------------------------------------------------------------------------
# 04  unbind
# ---------------------------------------------------------------------------------------------

UNBIND = [
    md("""
    # Lesson 4: `unbind` and the output index

    So far every node had exactly one output. Some operations have several: `unbind` splits
    a tensor into its slices, and a single backward node stands for all of them. When
    gradients come back, that node must know which slice each gradient belongs to. That is
    what the second number in every `next_functions` pair is for.
    """),
    code("""
    import gradlab
    """),
    md("""
    ## Splitting a tensor

    `a.unbind()` cuts `a` along its first dimension (dim 0) and returns the pieces as a
    tuple. For a vector of three numbers, the pieces are three 0-d tensors.
    """),
    code("""
    a = gradlab.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b, c, d = a.unbind()
    b, c, d
    """),
    md("""
    `unbind` is the opposite of `stack`: stacking the pieces gives `a` back.
    """),
    code("""
    gradlab.stack([b, c, d])
    """),
    md("""
    It works for any number of dimensions. A 2 × 3 matrix unbinds into its two rows, or,
    along dim 1, into its three columns:
    """),
    code("""
    m = gradlab.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    m.unbind()
    """),
    code("""
    m.unbind(dim=1)
    """),
    md("""
    ## One node for all the outputs

    `b`, `c` and `d` all have the same `grad_fn`: one `UnbindBackward0`, which leads to one
    `AccumulateGrad`, the one for `a`.
    """),
    code("""
    b.grad_fn is c.grad_fn is d.grad_fn
    """),
    code("""
    b.grad_fn, b.grad_fn.next_functions
    """),
    md("""
    ## The output index

    Now multiply the pieces: `e = b * c * d`, that is `(b * c) * d`. Look at the second
    number in each pair. So far it was always `0`, because every node had a single output.
    Here it says *which output* of `UnbindBackward0` each edge is about: `d` is output `2`,
    and one node further back, `b` and `c` are outputs `0` and `1`.
    """),
    code("""
    e = b * c * d
    e, e.grad_fn.next_functions
    """),
    code("""
    e.grad_fn.next_functions[0][0].next_functions
    """),
    md("""
    ## Backward: the pieces come back together

    The derivative of `b · c · d` with respect to each factor is the product of the other
    two: `c · d = 6` for `b`, `b · d = 3` for `c`, `b · c = 2` for `d`. A hook on each piece
    shows the gradient that reaches it. `UnbindBackward0` receives those three gradients,
    puts each one into the slot its index names, and passes the assembled vector on to
    `a`'s `AccumulateGrad`.
    """),
    code("""
    for name, piece in [("b", b), ("c", c), ("d", d)]:
        piece.register_hook(lambda grad, name=name: print(f"{name} receives", grad))

    e.backward()
    """),
    code("""
    a.grad
    """),
    md("""
    ## The picture
    """),
    code("""
    a = gradlab.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b, c, d = a.unbind()
    e = b * c * d
    gradlab.show(e)
    """),
    md("""
    ## Step through it
    """),
    code("""
    with gradlab.record() as rec:
        a = gradlab.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b, c, d = a.unbind()
        e = b * c * d
        e.backward()

    walk = gradlab.Walkthrough(rec)
    walk
    """),
    narrate(),
    md("""
    ## Try it

    **1.** Change `a` to `[2.0, 3.0, 4.0]`. Predict `a.grad`.
    """),
    code("""
    a = gradlab.tensor([2.0, 3.0, 4.0], requires_grad=True)
    b, c, d = a.unbind()
    e = b * c * d
    e.backward()
    a.grad
    """),
    md("""
    **2.** Use only two of the pieces: `e = b * d`. What does `UnbindBackward0` put in the
    slot of `c`, which received no gradient at all?
    """),
    code("""
    a = gradlab.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b, c, d = a.unbind()
    e = b * d
    e.backward()
    a.grad
    """),
    md("""
    **3.** Unbind a matrix into its rows and multiply them element by element. The gradient
    has the shape of the matrix: predict it. (`.sum()` turns the product into one number,
    because `backward()` needs a single number to start from.)
    """),
    code("""
    m = gradlab.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    row0, row1 = m.unbind()
    y = (row0 * row1).sum()
    y.backward()
    row0.grad_fn.next_functions, m.grad
    """),
    md(NEXT["04"]),
]

# ---------------------------------------------------------------------------------------------
# 05  the div/add graph
# ---------------------------------------------------------------------------------------------

DIV_ADD = [
    md("""
    # Lesson 5: a graph that splits and joins

    The examples so far were chains. In real models a value is often used more than once,
    and then the graph splits. This lesson builds the full graph of the classic walkthrough
    and follows its gradients: where they meet, where they are stored, and where they are
    not. It ends with the ways out of autograd: `detach`, `item`, `tolist` and `numpy`.
    """),
    code("""
    import gradlab
    """),
    md("""
    ## A tensor can join the graph late

    `c = a * b` from two tensors that do not require grad is an ordinary tensor: a leaf, with
    no `grad_fn`, off the graph.
    """),
    code("""
    a = gradlab.tensor(2.0)
    b = gradlab.tensor(2.0)
    c = a * b
    c, c.is_leaf, c.requires_grad, c.grad_fn
    """),
    md("""
    `c.requires_grad_()` switches it on (the trailing underscore means "in place", as always
    in PyTorch). `c` stays a leaf with no `grad_fn`, since its past was not recorded, but
    now it is a leaf *on* the graph: an active, green leaf where a gradient will land. `a`
    and `b` stay yellow.
    """),
    code("""
    c.requires_grad_()
    c, c.is_leaf, c.requires_grad, c.grad_fn
    """),
    md("""
    ## The rest of the graph

    Only `h` is created requiring grad; `d` and `f` are plain numbers. `i` is used twice
    (in `j` and in `k`), and so is `h` (in `i` and in `j`).
    """),
    code("""
    d = gradlab.tensor(2.0)
    e = c * d
    f = gradlab.tensor(2.0)
    g = e * f
    h = gradlab.tensor(2.0, requires_grad=True)
    i = g / h
    j = i + h
    k = j * i
    k
    """),
    md("""
    ## The colours

    Every tensor falls into one of the three tensor colours of the picture, decided by two
    of its attributes:
    """),
    code("""
    def colour(t):
        if t.grad_fn is not None:
            return "brown:  a branch (not a leaf, has a grad_fn)"
        if t.requires_grad:
            return "green:  a leaf on the graph (.grad lands here)"
        return "yellow: a dried-up leaf (off the graph)"

    tensors = dict(a=a, b=b, c=c, d=d, e=e, f=f, g=g, h=h, i=i, j=j, k=k)
    for name, t in tensors.items():
        print(f"{name} = {t.item():>4g}   {colour(t)}")
    """),
    md("""
    In the picture they are drawn in those colours, with the blue nodes of the backward
    graph below them. `a` and `b` are not connected to anything: their product was taken
    before `c` joined the graph, so no operation links them to it. The picture only draws
    what is on the graph behind `k`, so we name `a` and `b` explicitly to see them. `d` and
    `f` are yellow too, yet they appear on their own: the `MulBackward0` nodes of `e` and `g`
    saved them (the gradient for `c` is multiplied by `d`, the one for `e` by `f`), and the
    badge on their boxes says so.
    """),
    code("""
    gradlab.show(a, b, k)
    """),
    md("""
    ## A split forward is a join backward

    Where a tensor is used twice in the forward pass, two edges of the backward graph lead
    to its node. `i` feeds both `j` and `k`, so both `k`'s `MulBackward0` and `j`'s
    `AddBackward0` point at the same `DivBackward0`:
    """),
    code("""
    k.grad_fn.next_functions, j.grad_fn.next_functions
    """),
    code("""
    k.grad_fn.next_functions[1][0] is j.grad_fn.next_functions[0][0] is i.grad_fn
    """),
    md("""
    And `h` feeds both `i` and `j`, so `DivBackward0` and `AddBackward0` both point at the
    same `AccumulateGrad`, the one for `h`:
    """),
    code("""
    i.grad_fn.next_functions[1][0] is j.grad_fn.next_functions[1][0]
    """),
    md("""
    When gradients arrive at a node along several edges, autograd adds them up first (the
    multivariable chain rule) and runs the node once, with the sum.

    ## Keeping an intermediate gradient

    Gradients pass *through* intermediate tensors without being stored. If you want to see
    the one for `i`, ask before going backward: `i.retain_grad()` sets up a hook that
    catches the gradient arriving at `i` and keeps it in `i.grad`.
    """),
    code("""
    i.retain_grad()
    i.retains_grad, j.retains_grad
    """),
    md("""
    ## Backward, watched node by node

    A node can carry hooks too. The next cell attaches one to each node that prints what
    the node receives and what it sends to each of its inputs, and one to `h` that prints
    the total reaching `h`. Then it runs `k.backward()`.
    """),
    code("""
    def watch(name, inputs):
        node = tensors[name].grad_fn
        def hook(sent, received):
            out = ", ".join(f"{g.item():g} to {x}" for g, x in zip(sent, inputs) if g is not None)
            print(f"{node.name()} of {name} receives {received[0].item():g}, sends {out}")
        node.register_hook(hook)

    watch("k", ["j", "i"])
    watch("j", ["i", "h"])
    watch("i", ["g", "h"])
    watch("g", ["e", "f"])  # f needs no gradient: nothing is sent to it
    watch("e", ["c", "d"])
    h.register_hook(lambda grad: print("AccumulateGrad of h receives", grad))

    k.backward()
    """),
    md("""
    Follow the numbers (`i = 8`, `j = 10`, `k = j · i = 80`):

    * `k`'s node gets the seed `1` and sends `i = 8` to `j` and `j = 10` to `i`.
    * `j`'s `AddBackward0` passes its `8` unchanged to both `i` and `h`.
    * **`i` is used twice**: its `DivBackward0` waits for both gradients and receives
      `10 + 8 = 18`. From `i = g / h` it sends `18 / h = 9` to `g` and
      `−18 · g / h² = −72` to `h`.
    * **`h` is used twice**: its `AccumulateGrad` receives `8` from `AddBackward0` and
      `−72` from `DivBackward0`, summed: `−64`.
    * Back along the chain, `c` gets `9 · f · d = 36`.
    """),
    code("""
    h.grad, c.grad
    """),
    md("""
    The yellow leaves got nothing: they never asked for a gradient, so no edge of the
    backward graph leads to them.
    """),
    code("""
    d.grad, f.grad, a.grad, b.grad
    """),
    md("""
    ## Intermediate gradients stay `None`

    Branches do not keep gradients: the `8` for `j`, the `18` for `g`... all passed through
    and were dropped, which saves memory in a big model. (PyTorch also prints a warning
    when you read `.grad` of a non-leaf like this.) Only `i` kept its gradient, because we
    asked with `retain_grad()`: the `18` that reached `DivBackward0`.
    """),
    code("""
    e.grad, g.grad, j.grad, k.grad
    """),
    code("""
    i.grad
    """),
    md("""
    ## After backward: the graph is still there, its saved values are not

    To save memory, `backward()` frees the tensors each node saved, as soon as it is done
    with them. The nodes themselves remain: `k.grad_fn` and its `next_functions` are all
    still there.
    """),
    code("""
    k.grad_fn, k.grad_fn.next_functions
    """),
    md("""
    But a second `k.backward()` would need the saved values again, and they are gone. (This
    cell is meant to raise. `k.backward(retain_graph=True)` the first time would have kept
    them.)
    """),
    code(
        """
    k.backward()
    """,
        tags=RAISES,
    ),
    md("""
    ## Leaving autograd: `detach`

    `k.detach()` gives a tensor that shares `k`'s numbers but is cut off from the graph: it
    does not require grad, it is a leaf, and it has no `grad_fn`.
    """),
    code("""
    m = k.detach()
    m, m.requires_grad, m.is_leaf, m.grad_fn
    """),
    md("""
    "Shares" is meant literally: no numbers are copied. Change `m` in place and `k` changes
    with it; they even share the version counter. (We undo the change right away.)
    """),
    code("""
    m += 100
    print(k, k._version)
    m -= 100
    print(k, k._version)
    """),
    md("""
    ## Leaving autograd: `numpy`, `item`, `tolist`

    `numpy()` hands out the tensor's memory as a numpy array. numpy knows nothing about
    gradients, so for a tensor that requires grad this is refused, with a message that says
    what to do (this cell is meant to raise):
    """),
    code(
        """
    k.numpy()
    """,
        tags=RAISES,
    ),
    code("""
    k.detach().numpy()
    """),
    md("""
    `item()` returns the value of a one-element tensor as a plain Python number: a `float`
    for a floating-point tensor, an `int` for an integer tensor.
    """),
    code("""
    k.item(), type(k.item())
    """),
    code("""
    n = gradlab.tensor(7)
    n, n.dtype, n.item(), type(n.item())
    """),
    md("""
    `tolist()` does the same for any tensor: Python numbers, in nested lists that follow
    the tensor's dimensions (a 0-d tensor gives just the number).
    """),
    code("""
    k.tolist()
    """),
    code("""
    gradlab.tensor([[1.0, 2.0], [3.0, 4.0]]).tolist()
    """),
    md("""
    ## Step through it
    """),
    code("""
    with gradlab.record() as rec:
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

    walk = gradlab.Walkthrough(rec)
    walk
    """),
    narrate(),
    md("""
    ## Try it

    **1.** Change `h` to `4.0`. Now `i = 4`, `j = 8`, `k = 32`. Predict `h.grad` and
    `c.grad`. (With `g = 16`: `k = (g/h)² + g`, so `dk/dh = −2g²/h³`.)
    """),
    code("""
    a = gradlab.tensor(2.0)
    b = gradlab.tensor(2.0)
    c = (a * b).requires_grad_()
    d = gradlab.tensor(2.0)
    f = gradlab.tensor(2.0)
    h = gradlab.tensor(4.0, requires_grad=True)
    i = c * d * f / h
    k = (i + h) * i
    k.backward()
    k, h.grad, c.grad
    """),
    md("""
    **2.** Any shape works, not only single numbers: every operation here works element by
    element. Give each tensor two values. The first column is the example above; predict
    it, then look at the second. (`k` now holds two numbers, so we call backward on their
    sum.)
    """),
    code("""
    a = gradlab.tensor([2.0, 3.0])
    b = gradlab.tensor([2.0, 1.0])
    c = (a * b).requires_grad_()
    d = gradlab.tensor([2.0, 2.0])
    f = gradlab.tensor([2.0, 2.0])
    h = gradlab.tensor([2.0, 4.0], requires_grad=True)
    i = c * d * f / h
    k = (i + h) * i
    k.sum().backward()
    k, h.grad, c.grad
    """),
    md("""
    **3.** Run the example without `retain_grad()` and ask for `i.grad`.
    """),
    code("""
    c = gradlab.tensor(4.0, requires_grad=True)
    h = gradlab.tensor(2.0, requires_grad=True)
    i = c * 2.0 * 2.0 / h
    k = (i + h) * i
    k.backward()
    print(i.grad)
    """),
    md(NEXT["05"]),
]

NOTEBOOKS = {
    "00_start_here.ipynb": START_HERE,
    "01_multiply.ipynb": MULTIPLY,
    "02_chained_multiply.ipynb": CHAINED,
    "03_version_counter.ipynb": VERSION,
    "04_unbind.ipynb": UNBIND,
    "05_div_add_graph.ipynb": DIV_ADD,
}


def build(folder: Path) -> list[Path]:
    """Write every lesson, without outputs, into ``folder``."""
    folder.mkdir(exist_ok=True)
    paths = []
    for filename, cells in NOTEBOOKS.items():
        path = folder / filename
        nb = notebook(cells)
        nbformat.validate(nb)
        nbformat.write(nb, path)
        paths.append(path)
    return paths


def execute(paths: list[Path]) -> int:
    """Run the notebooks in place (each in a fresh kernel), as nbval will re-run them."""
    command = ["jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace"]
    return subprocess.run([*command, *map(str, paths)], check=False).returncode


def main(argv: list[str]) -> int:
    if "--execute" not in argv:
        paths = build(LESSONS)
        print("wrote", ", ".join(p.name for p in paths), "(not executed)")
        return 0
    # Build and execute in a scratch folder, and replace the lessons only if every notebook
    # ran: a failing cell must never leave half-executed notebooks in lessons/.
    with tempfile.TemporaryDirectory() as scratch:
        paths = build(Path(scratch))
        status = execute(paths)
        if status != 0:
            print("execution failed: lessons/ left unchanged", file=sys.stderr)
            return status
        LESSONS.mkdir(exist_ok=True)
        for path in paths:
            shutil.copyfile(path, LESSONS / path.name)
    print("built and executed", ", ".join(p.name for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
