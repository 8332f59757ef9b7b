"""Checkers for the code exercises of chapter 1 (Background)."""

from __future__ import annotations

import numpy as np

from . import Case, Verdict, check_function

_rng = np.random.default_rng(20261124)  # fixed: the hidden cases are the same for every learner
_a, _b = _rng.normal(0.0, 1.0, 200), _rng.normal(1.5, 0.5, 200)

W1_CASES = [
    Case(args=(np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 2.0])), expected=0.0,
         hint="Identical samples are at distance 0.", name="identical sets"),
    Case(args=(np.array([3.0, 1.0, 2.0]), np.array([1.0, 2.0, 3.0])), expected=0.0,
         hint="The order of the samples must not matter: sort both sets before matching them.",
         name="same set, shuffled"),
    Case(args=(np.array([0.0, 1.0, 2.0]), np.array([0.5, 1.5, 2.5])), expected=0.5,
         hint="A shift by 0.5 moves every sample by 0.5, so the distance is 0.5: average over the pairs (a mean, not a sum).",
         name="shifted copy"),
    Case(args=(np.array([0.0, 0.0, 4.0, 4.0]), np.array([1.0, 1.0, 3.0, 3.0])), expected=1.0,
         hint="Use absolute differences: signed differences cancel out between the two ends.",
         name="differences of both signs"),
    Case(args=(np.array([0.0, 10.0]), np.array([9.0, 1.0])), expected=0.0 + 1.0,
         hint="Sort *both* sets: match the smallest with the smallest.", name="one set unsorted"),
    Case(args=(_a.reshape(-1, 1), _b.reshape(-1, 1)), expected=float(np.mean(np.abs(np.sort(_a) - np.sort(_b)))),
         hint="Inputs may have shape (n, 1), as a generator's output does: flatten them first.",
         name="column vectors"),
    Case(args=(_a, _b), expected=float(np.mean(np.abs(np.sort(_a) - np.sort(_b)))),
         hint="Average over the n matched pairs (a mean, not a sum).", name="random samples"),
]


def check_wasserstein1(fn) -> Verdict:
    """Exercise ex-bg-w1: ``fn(a, b)`` returns the W1 distance of two equal-size 1-D samples.

    Used in chapter 1.  The reference is :func:`gan_utils.toy.wasserstein1`.
    """
    return check_function("Exercise ex-bg-w1 (Wasserstein-1 in 1-D)", fn, W1_CASES, rtol=1e-6, atol=1e-9)
