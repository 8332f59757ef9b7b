"""Checkers for the code exercises of chapter 6 (``06_evaluation``).

- ``check_frechet_distance(fn)``: ``fn(mu1, sigma1, mu2, sigma2)`` must return the
  squared Fréchet distance between two Gaussians,
  ``||mu1 - mu2||² + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^{1/2})`` (the core of FID).
- ``check_mmd2_unbiased(fn)``: ``fn(x, y)`` must return the unbiased MMD² estimate with
  the cubic polynomial kernel ``(x·y / d + 1)³`` (one subset of KID).
- ``check_inception_score(fn)``: ``fn(probs)`` must return the Inception-style score
  ``exp(E_x KL(p(y|x) || p(y)))`` of a probability matrix, on one split.

The expected values come from :mod:`gan_utils.metrics` (itself tested against
torchmetrics), computed on hidden cases drawn from a fixed seed.  The cases are ordered
so that a classic mistake fails first on a case whose hint names it.  Framework-neutral:
imports NumPy only (and the metrics module).  Used in chapter 6.
"""

from __future__ import annotations

import numpy as np

from gan_utils import metrics

from . import Case, Verdict, check_function

__all__ = [
    "check_frechet_distance",
    "check_inception_score",
    "check_mmd2_unbiased",
    "frechet_distance_cases",
    "inception_score_cases",
    "mmd2_unbiased_cases",
]

FRECHET_EXERCISE = "Exercise 6.1 (the Fréchet distance between two Gaussians)"
MMD_EXERCISE = "Exercise 6.2 (the unbiased MMD² with a cubic polynomial kernel)"
IS_EXERCISE = "Exercise 6.3 (the Inception-style score of a probability matrix)"


def _covariance(rng: np.random.Generator, d: int, scale: float = 1.0) -> np.ndarray:
    """A random symmetric positive-definite ``(d, d)`` matrix (a sample covariance, well conditioned)."""
    a = rng.standard_normal((d, d)) * scale
    return a @ a.T / d + 0.1 * scale**2 * np.eye(d)


def frechet_distance_cases() -> list[Case]:
    """Hidden cases of :func:`check_frechet_distance`: 1-D, equal covariances, then general ones."""
    rng = np.random.default_rng(61)
    cases = []
    # 1-D: d² = (m1 - m2)² + (s1 - s2)², which a learner can check by hand.
    mu1, mu2, s1, s2 = np.array([1.0]), np.array([-0.5]), np.array([[4.0]]), np.array([[1.0]])
    cases.append(
        Case((mu1, s1, mu2, s2), metrics.frechet_distance(mu1, s1, mu2, s2),
             hint="in 1-D the answer is (mu1 - mu2)² + (sd1 - sd2)² = 2.25 + 1 = 3.25: the *squared* distance of "
             "the means, plus Tr(S1 + S2 - 2 sqrtm(S1 @ S2)) (did you forget the factor 2?).",
             name="1-D Gaussians")
    )
    # Equal means, different covariances: only the trace term counts.
    d = 4
    sigma_a, sigma_b = _covariance(rng, d), _covariance(rng, d, 2.0)
    mu = rng.standard_normal(d)
    cases.append(
        Case((mu, sigma_a, mu.copy(), sigma_b), metrics.frechet_distance(mu, sigma_a, mu, sigma_b),
             hint="with equal means only Tr(S1 + S2 - 2 sqrtm(S1 @ S2)) remains: use the *matrix* square root "
             "scipy.linalg.sqrtm of the matrix *product*, not np.sqrt (element-wise) and not S1 * S2.",
             name="equal means, d = 4")
    )
    # Equal covariances, different means: only ||mu1 - mu2||² counts.
    mu_a, mu_b = rng.standard_normal(d), rng.standard_normal(d)
    cases.append(
        Case((mu_a, sigma_a, mu_b, sigma_a.copy()), metrics.frechet_distance(mu_a, sigma_a, mu_b, sigma_a),
             hint="with equal covariances the distance is the squared Euclidean distance of the means "
             "(a sum of squares, not its square root).",
             name="equal covariances, d = 4")
    )
    for d in (3, 16):
        mu_a, mu_b = rng.standard_normal(d), rng.standard_normal(d) * 0.5
        sigma_a, sigma_b = _covariance(rng, d, 0.7), _covariance(rng, d, 1.3)
        cases.append(
            Case((mu_a, sigma_a, mu_b, sigma_b), metrics.frechet_distance(mu_a, sigma_a, mu_b, sigma_b),
                 hint="sqrtm may return a complex matrix with tiny imaginary parts: keep the real part.",
                 name=f"general, d = {d}")
        )
    return cases


def check_frechet_distance(fn, *, verbose: bool = True) -> Verdict:
    """Check ``fn(mu1, sigma1, mu2, sigma2) -> float`` against :func:`gan_utils.metrics.frechet_distance`."""
    return check_function(FRECHET_EXERCISE, fn, frechet_distance_cases(), rtol=1e-6, atol=1e-8, verbose=verbose)


def mmd2_unbiased_cases() -> list[Case]:
    """Hidden cases of :func:`check_mmd2_unbiased`: pairs ``(x, y)`` of equal size.

    The expected value is :func:`gan_utils.metrics.kid` with one subset as large as the
    sets: the subset is then a permutation of each set, and the estimate does not depend
    on the order of the samples.
    """
    rng = np.random.default_rng(62)
    specs = [
        (6, 2, 0.0, "same distribution, 6 samples in 2-D"),
        (20, 5, 0.8, "shifted distribution, 20 samples in 5-D"),
        (50, 32, 0.3, "50 samples in 32-D"),
    ]
    cases = []
    for n, d, shift, name in specs:
        x = rng.standard_normal((n, d))
        y = rng.standard_normal((n, d)) + shift
        expected = metrics.kid(x, y, n_subsets=1, subset_size=n, rng=0)[0]
        cases.append(
            Case((x, y), expected,
                 hint="leave out the diagonal k(x_i, x_i) in the within-set sums and divide by m(m - 1) (keeping it "
                 "gives the biased V-statistic); the kernel is (x·y / d + 1)**3 with d the number of features; "
                 "the cross term is -2 times the mean of k(x_i, y_j) over all m² pairs.",
                 name=name)
        )
    return cases


def check_mmd2_unbiased(fn, *, verbose: bool = True) -> Verdict:
    """Check ``fn(x, y) -> float`` (unbiased MMD², cubic kernel) against :func:`gan_utils.metrics.kid`."""
    return check_function(MMD_EXERCISE, fn, mmd2_unbiased_cases(), rtol=1e-6, atol=1e-9, verbose=verbose)


def inception_score_cases() -> list[Case]:
    """Hidden cases of :func:`check_inception_score`: probability matrices, scored on one split."""
    rng = np.random.default_rng(63)
    confident_even = np.eye(4)[np.arange(8) % 4]          # confident and spread evenly: score = 4
    one_class = np.tile([[0.7, 0.2, 0.1]], (5, 1))         # every row the same: score = 1
    logits = rng.standard_normal((40, 10)) * 3
    random_probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    with_zeros = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.2, 0.0, 0.8], [0.0, 1.0, 0.0]])
    cases = []
    for probs, hint, name in (
        (random_probs, "take the mean over the rows of KL(p(y|x) || p(y)), where p(y) is the mean of the rows, "
         "then exp of that mean (did you forget the exp, or take the mean of exp?).", "40 random rows of 10 classes"),
        (one_class, "identical rows score 1: each row's KL from the marginal is 0. The KL compares each row "
         "p(y|x) with the marginal p(y) (the column means), in that order.", "every row the same"),
        (confident_even, "confident predictions spread evenly over C = 4 classes score exactly C. These rows hold "
         "zeros: 0 * log 0 counts as 0, so use scipy.special.rel_entr (p * np.log(p / q) gives nan).",
         "confident and even over 4 classes"),
        (with_zeros, "a probability of 0 contributes 0 * log 0 = 0 to the KL: use scipy.special.rel_entr or "
         "np.where instead of p * np.log(p / q), which gives nan.", "rows with zeros"),
    ):
        cases.append(Case((probs,), metrics.inception_score(probs, n_splits=1)[0], hint=hint, name=name))
    return cases


def check_inception_score(fn, *, verbose: bool = True) -> Verdict:
    """Check ``fn(probs) -> float`` against :func:`gan_utils.metrics.inception_score` with one split."""
    return check_function(IS_EXERCISE, fn, inception_score_cases(), rtol=1e-6, atol=1e-9, verbose=verbose)
