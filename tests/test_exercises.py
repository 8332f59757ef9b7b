"""The exercise-checking machinery (gan_utils.exercises)."""

import numpy as np
import pytest

from gan_utils.exercises import Case, check_function

CASES = [
    Case(args=(np.array([1.0, 2.0]),), expected=np.array([2.0, 4.0]), hint="Multiply by two.", name="pair"),
    Case(args=(np.array(3.0),), expected=6.0, hint="Scalars too."),
]


def test_a_correct_function_passes(capsys):
    verdict = check_function("Exercise double", lambda x: 2 * x, CASES)
    assert verdict and verdict.status == "pass"
    assert capsys.readouterr().out.strip() == "[pass] Exercise double: all 2 hidden cases pass."


def test_a_stub_is_reported_as_not_attempted():
    def stub(x):
        raise NotImplementedError("Exercise double: multiply by two")

    verdict = check_function("Exercise double", stub, CASES, verbose=False)
    assert not verdict and verdict.status == "not attempted"
    assert "fill in the stub" in verdict.message


@pytest.mark.parametrize(
    "fn, fragment",
    [
        (lambda x: 3 * x, "case 1/2 (pair): expected 4, got 6 at index 1. Multiply by two."),
        (lambda x: np.append(2 * x, 0.0), "result has shape (3,), expected (2,)"),
        (lambda x: x / 0 if np.ndim(x) == 0 else 2 * x, "case 2/2: expected 6, got inf. Scalars too."),
        (lambda x: x.undefined, "raised AttributeError"),
        (lambda x: "two", "expected numbers"),
    ],
)
def test_wrong_functions_get_a_specific_message(fn, fragment):
    with np.errstate(divide="ignore"):
        verdict = check_function("Exercise double", fn, CASES, verbose=False)
    assert verdict.status == "fail"
    assert fragment in verdict.message


def test_torch_results_are_accepted():
    import torch

    assert check_function("Exercise double", lambda x: torch.as_tensor(x) * 2, CASES, verbose=False)


def test_bad_checker_use_is_an_error():
    with pytest.raises(TypeError, match="expected a function"):
        check_function("Exercise double", 42, CASES)
    with pytest.raises(ValueError, match="no cases"):
        check_function("Exercise double", abs, [])
