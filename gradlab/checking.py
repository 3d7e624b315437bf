"""``gradlab.check``: tell a learner whether a prediction is right, without giving it away.

>>> import gradlab
>>> a = gradlab.tensor([1.0, 2.0], requires_grad=True)
>>> (a * 3).sum().backward()
>>> gradlab.check([3, 3], a.grad)
✓ Right.
>>> gradlab.check([3, 1], a.grad, hint="each element of a is multiplied by 3")
✗ Not quite. Hint: each element of a is multiplied by 3
"""

from __future__ import annotations

from typing import Any

import numpy as np

UNANSWERED = "… Not answered yet: replace the ... above with your prediction, then run this again."


class Verdict:
    """The result of :func:`check`: true when the answer is right; shows as one line of text."""

    def __init__(self, right: bool, message: str) -> None:
        self.right = right
        self.message = message

    def __bool__(self) -> bool:
        return self.right

    def __repr__(self) -> str:
        return self.message


def check(
    answer: Any,
    expected: Any,
    hint: str | None = None,
    reveal: bool = False,
    rtol: float = 1e-4,
    atol: float = 1e-6,
) -> Verdict:
    """Compare a learner's ``answer`` with ``expected`` and say ✓ or ✗ (with the ``hint``).

    Numbers, nested lists, numpy arrays and tensors compare element by element within
    ``rtol``/``atol``, and must have the expected shape; ``None``, ``True``/``False`` and
    strings must match exactly; a tuple or list of such things is compared item by item.
    ``...`` (Ellipsis) means "not answered yet". The expected value is only shown with
    ``reveal=True``.

    >>> gradlab.check(0.5, gradlab.tensor(1.0) / 2)
    ✓ Right.
    """
    if answer is Ellipsis:
        message = UNANSWERED
        right = False
    else:
        problem = _problem(answer, expected, rtol, atol)
        right = problem is None
        if right:
            message = "✓ Right."
        else:
            message = f"✗ {problem}" + (f" Hint: {hint}" if hint else "")
    if reveal:
        message += f"\n  The answer: {expected!r}"
    return Verdict(right, message)


def _problem(answer: Any, expected: Any, rtol: float, atol: float) -> str | None:
    """Why ``answer`` is wrong, without naming ``expected`` (None if it is right)."""
    if expected is None or isinstance(expected, (str, bool, np.bool_)):
        return None if _same_exact(answer, expected) else "Not quite."
    if isinstance(expected, (tuple, list)) and not _numeric(expected):
        return _problem_in_items(answer, expected, rtol, atol)
    if answer is None:
        return "Not quite: None means no value, but there is one here."
    try:
        got = _array(answer)
    except (TypeError, ValueError):
        return f"Your answer ({answer!r}) cannot be read as numbers."
    want = _array(expected)
    if got.shape != want.shape:
        return (
            f"Wrong shape: your answer has shape {_shape(got)}, "
            f"the answer has shape {_shape(want)}."
        )
    if (got.dtype == bool) != (want.dtype == bool):
        kind = "True or False" if want.dtype == bool else "numbers"
        return f"Not quite: the answer is {kind}."
    if want.dtype == bool:
        return None if np.array_equal(got, want) else "Not quite."
    close = np.isclose(got.astype(float), want.astype(float), rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return None
    if want.size > 1:
        return f"Not quite: {np.count_nonzero(~close)} of {want.size} numbers are off."
    return "Not quite."


def _problem_in_items(answer: Any, expected: tuple | list, rtol: float, atol: float) -> str | None:
    if not isinstance(answer, (tuple, list)) or len(answer) != len(expected):
        return f"Not quite: the answer is {len(expected)} things, in a tuple or list."
    for number, (got, want) in enumerate(zip(answer, expected), 1):
        problem = _problem(got, want, rtol, atol)
        if problem is not None:
            return f"Item {number}: {problem}"
    return None


def _same_exact(answer: Any, expected: Any) -> bool:
    if expected is None or answer is None:
        return answer is expected
    if isinstance(expected, str):
        return isinstance(answer, str) and answer.strip() == expected
    return isinstance(answer, (bool, np.bool_)) and bool(answer) == bool(expected)


def _numeric(items: tuple | list) -> bool:
    """True if ``items`` reads as one array of numbers (no None, strings or ragged rows)."""
    try:
        return _array(items).dtype.kind in "biuf"
    except (TypeError, ValueError):
        return False


def _array(value: Any) -> np.ndarray:
    """Numbers from a number, a (nested) list, a numpy array or a tensor (gradlab or torch)."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        value = value.detach().numpy()
    if isinstance(value, (tuple, list)):
        value = [_array(item) if hasattr(item, "detach") else item for item in value]
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"not numbers: {value!r}")
    return array


def _shape(array: np.ndarray) -> str:
    return "() (a single number)" if array.shape == () else str(tuple(array.shape))
