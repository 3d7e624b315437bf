"""gradlab.check: right, wrong, wrong shape, unanswered, None, and never a leaked answer."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import gradlab


def _grad_of_times(values: list[float], factor: float) -> gradlab.Tensor:
    a = gradlab.tensor(values, requires_grad=True)
    (a * factor).sum().backward()
    return a.grad


@pytest.mark.parametrize(
    "answer",
    [3, 3.0, 3.00001, np.float32(3), gradlab.tensor(3.0), np.array(3.0)],
    ids=["int", "float", "within-tolerance", "numpy-scalar", "tensor", "0d-array"],
)
def test_a_right_number_passes_whatever_its_type(answer):
    verdict = gradlab.check(answer, _grad_of_times([2.0], 3.0)[0])
    assert bool(verdict) is True
    assert repr(verdict) == "✓ Right."


@pytest.mark.parametrize(
    "answer",
    [[6, 3, 2], (6.0, 3.0, 2.0), np.array([6, 3, 2]), gradlab.tensor([6.0, 3.0, 2.0])],
    ids=["list", "tuple", "array", "tensor"],
)
def test_a_right_tensor_passes_as_list_array_or_tensor(answer):
    expected = gradlab.tensor([6.0, 3.0, 2.0], requires_grad=True) * 1
    assert gradlab.check(answer, expected)


def test_a_torch_tensor_is_read_like_a_gradlab_tensor(torch):
    assert gradlab.check(torch.tensor([1.0, 2.0], requires_grad=True), [1, 2])


def test_a_wrong_number_fails_with_the_hint_and_without_the_answer():
    verdict = gradlab.check(4.0, gradlab.tensor(12.345), hint="dc/da = b")
    assert bool(verdict) is False
    assert repr(verdict) == "✗ Not quite. Hint: dc/da = b"
    assert "12.3" not in repr(verdict)


def test_tolerance_is_relative_and_can_be_widened():
    third = gradlab.tensor(1.0) / 3
    assert gradlab.check(1 / 3, third)
    assert not gradlab.check(0.33, third)
    assert gradlab.check(0.33, third, rtol=0.02)


def test_wrong_elements_are_counted_not_shown():
    verdict = gradlab.check([6, 0, 2], [6.0, 3.0, 2.0])
    assert repr(verdict) == "✗ Not quite: 1 of 3 numbers are off."


def test_a_shape_mismatch_is_wrong_and_says_both_shapes():
    verdict = gradlab.check([3.0, 3.0], gradlab.tensor([[3.0, 3.0]]))
    assert not verdict
    assert repr(verdict) == (
        "✗ Wrong shape: your answer has shape (2,), the answer has shape (1, 2)."
    )
    single = gradlab.check(3.0, [3.0])
    assert "() (a single number)" in repr(single) and "(1,)" in repr(single)


def test_ellipsis_means_not_answered_and_shows_no_hint():
    verdict = gradlab.check(..., gradlab.tensor(7.0), hint="seven")
    assert not verdict
    assert repr(verdict).startswith("… Not answered yet")
    assert "7" not in repr(verdict) and "seven" not in repr(verdict)


def test_reveal_shows_the_answer_on_request():
    verdict = gradlab.check(..., gradlab.tensor([6.0, 3.0]), reveal=True)
    assert repr(verdict).endswith("The answer: tensor([6., 3.])")
    assert "The answer: 12" in repr(gradlab.check(12, 12, reveal=True))


def test_none_is_an_answer_when_no_value_is_expected():
    b = gradlab.tensor(3.0)
    assert gradlab.check(None, b.grad)
    verdict = gradlab.check(0.0, b.grad)
    assert not verdict and repr(verdict) == "✗ Not quite."
    missing = gradlab.check(None, gradlab.tensor(3.0))
    assert not missing and "None means no value" in repr(missing)


def test_booleans_and_strings_must_match_exactly():
    assert gradlab.check(True, True)
    assert not gradlab.check(1, True)
    assert gradlab.check(" MulBackward0", "MulBackward0")
    assert not gradlab.check("AddBackward0", "MulBackward0")
    mixed = gradlab.check([True, 1.0], [True, False])
    assert repr(mixed) == "✗ Not quite: the answer is True or False."


def test_mixed_tuples_compare_item_by_item():
    a = gradlab.tensor(2.0, requires_grad=True)
    b = gradlab.tensor(3.0)
    (a * b).backward()
    assert gradlab.check((3.0, None), (a.grad, b.grad))
    assert repr(gradlab.check((3.0, 0.0), (a.grad, b.grad))) == "✗ Item 2: Not quite."
    assert "2 things" in repr(gradlab.check(3.0, (a.grad, b.grad)))


def test_unreadable_answers_are_wrong_not_errors():
    assert "cannot be read as numbers" in repr(gradlab.check("three", 3))
    assert "cannot be read as numbers" in repr(gradlab.check([1, [2, 3]], [1, 2]))


def test_nan_matches_nan():
    assert gradlab.check([float("nan"), 1.0], np.array([np.nan, 1.0]))


def test_check_loads_on_first_use_only():
    code = "import sys, gradlab; assert 'gradlab.checking' not in sys.modules; gradlab.check"
    subprocess.run([sys.executable, "-c", code], check=True)
