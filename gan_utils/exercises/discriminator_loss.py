"""The hidden cases of chapter 3's discriminator-loss exercise, shared by both framework twins.

The cases are ordered so that each classic mistake fails first on the case whose hint
names it: all logits 0 (sigmoid applied to logits, or the two terms averaged), one real
and one fake logit (swapped labels), 4 real and 2 fake logits (a sum instead of a mean),
logits of size 120 (probabilities instead of logits).  The expected values are computed
in float64 with NumPy; each twin supplies its own tensor type and framework-specific
hints (:mod:`gan_utils.exercises.training_torch`, :mod:`gan_utils.exercises.training_tf`).
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from . import Case

#: (case name, real logits, fake logits), in the order the checker tries them.
LOGIT_CASES = (
    ("all logits 0", [0.0], [0.0]),
    ("one real, one fake", [2.0], [-1.0]),
    ("4 real, 2 fake", [1.0, -1.0, 0.5, 3.0], [-2.0, 0.25]),
    ("large logits", [-120.0], [120.0]),
)


def reference_loss(real, fake) -> float:
    """mean BCE(real, 1) + mean BCE(fake, 0) = mean softplus(-real) + mean softplus(fake)."""
    real, fake = np.asarray(real, float), np.asarray(fake, float)
    return float(np.mean(np.logaddexp(0.0, -real)) + np.mean(np.logaddexp(0.0, fake)))


def build_cases(to_tensor: Callable[[np.ndarray], object], hints: Mapping[str, str]) -> list[Case]:
    """The cases as :class:`~gan_utils.exercises.Case` with ``(N, 1)`` float32 tensors made by ``to_tensor``."""
    missing = [name for name, _, _ in LOGIT_CASES if name not in hints]
    if missing:
        raise ValueError(f"build_cases: no hint for case(s) {missing}.")

    def column(values):
        return to_tensor(np.asarray(values, dtype=np.float32).reshape(-1, 1))

    return [
        Case(args=(column(real), column(fake)), expected=reference_loss(real, fake), hint=hints[name], name=name)
        for name, real, fake in LOGIT_CASES
    ]
