"""Chapter 1's exercise checker accepts the reference and rejects typical mistakes with the right hint."""

import numpy as np
import pytest

from gan_utils.exercises.background import check_wasserstein1
from gan_utils.toy import wasserstein1


def test_reference_passes():
    assert check_wasserstein1(wasserstein1).status == "pass"


def test_stub_is_not_attempted():
    def stub(a, b):
        raise NotImplementedError("Exercise ex-bg-w1")

    assert check_wasserstein1(stub).status == "not attempted"


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda a, b: np.mean(np.abs(np.ravel(a) - np.ravel(b))), "sort both sets"),
        (lambda a, b: np.mean(np.sort(np.ravel(b)) - np.sort(np.ravel(a))), "Use absolute differences"),
        (lambda a, b: np.sum(np.abs(np.sort(np.ravel(a)) - np.sort(np.ravel(b)))), "a mean, not a sum"),
        (lambda a, b: np.mean(np.abs(np.sort(a) - np.sort(b))), "flatten them first"),
        (lambda a, b: np.mean(np.abs(np.sort(np.ravel(a)) - np.ravel(b))), "Sort *both* sets"),
    ],
)
def test_typical_mistakes_get_their_hint(wrong, hint):
    verdict = check_wasserstein1(wrong)
    assert verdict.status == "fail"
    assert hint in verdict.message
