"""Small 1-D target distributions and a distance to measure a generator against them.

A GAN on one-dimensional data is small enough to train on a laptop CPU in a minute,
and in 1-D every quantity is exact: the data density is written down, and the
Wasserstein-1 distance between two sample sets is a sort and a mean.  Used in
chapter 1 (and 3).

This module imports NumPy and SciPy only (no PyTorch, no TensorFlow); samples come
back as ``float32`` arrays of shape ``(n, 1)``, ready for ``torch.from_numpy`` or
``tf.convert_to_tensor``.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real
from typing import Sequence

import numpy as np
from scipy import stats

__all__ = ["GaussianMixture1D", "wasserstein1"]

_WEIGHT_TOLERANCE = 1e-6


def _as_float_tuple(name: str, values: object) -> tuple[float, ...]:
    """Turn a sequence of real numbers into a tuple of floats, or raise naming ``name``."""
    if isinstance(values, (str, bytes)) or np.ndim(values) != 1:
        raise TypeError(
            f"GaussianMixture1D: {name} must be a 1-D sequence of numbers, got {values!r}."
        )
    out = []
    for value in values:  # type: ignore[union-attr]
        if isinstance(value, bool) or not isinstance(value, (Real, np.integer, np.floating)):
            raise TypeError(
                f"GaussianMixture1D: {name} must hold real numbers, got {value!r} "
                f"({type(value).__name__})."
            )
        out.append(float(value))
    if len(out) == 0:
        raise ValueError(f"GaussianMixture1D: {name} must not be empty.")
    if not np.all(np.isfinite(out)):
        raise ValueError(f"GaussianMixture1D: {name} must be finite, got {tuple(out)}.")
    return tuple(out)


@dataclass(frozen=True)
class GaussianMixture1D:
    """A mixture of 1-D normal distributions: the "real data" of the toy chapters.

    ``p(x) = sum_k weights[k] * N(x; means[k], stds[k]**2)``.

    Parameters
    ----------
    means, stds, weights:
        Sequences of the same length: component means, standard deviations (> 0) and
        mixing weights (>= 0, summing to 1 within 1e-6).

    >>> mix = GaussianMixture1D(means=(-2.0, 2.0), stds=(0.5, 0.5), weights=(0.5, 0.5))
    >>> mix.sample(4, np.random.default_rng(0)).shape
    (4, 1)

    Used in chapter 1 (and 3).
    """

    means: Sequence[float]
    stds: Sequence[float]
    weights: Sequence[float]

    def __post_init__(self) -> None:
        means = _as_float_tuple("means", self.means)
        stds = _as_float_tuple("stds", self.stds)
        weights = _as_float_tuple("weights", self.weights)
        if not len(means) == len(stds) == len(weights):
            raise ValueError(
                "GaussianMixture1D: means, stds and weights must have the same length, got "
                f"{len(means)}, {len(stds)} and {len(weights)}."
            )
        if min(stds) <= 0:
            raise ValueError(f"GaussianMixture1D: stds must all be > 0, got {stds}.")
        if min(weights) < 0:
            raise ValueError(f"GaussianMixture1D: weights must all be >= 0, got {weights}.")
        total = sum(weights)
        if abs(total - 1.0) > _WEIGHT_TOLERANCE:
            raise ValueError(
                f"GaussianMixture1D: weights must sum to 1 (within {_WEIGHT_TOLERANCE:g}), "
                f"got {weights} summing to {total!r}."
            )
        # Store plain tuples so the mixture is hashable and cannot be mutated later.
        object.__setattr__(self, "means", means)
        object.__setattr__(self, "stds", stds)
        object.__setattr__(self, "weights", weights)

    @property
    def n_components(self) -> int:
        """Number of mixture components."""
        return len(self.means)

    def mean(self) -> float:
        """Exact mean of the mixture, ``sum_k w_k mu_k``."""
        return float(np.dot(self.weights, self.means))

    def var(self) -> float:
        """Exact variance of the mixture, ``sum_k w_k (sigma_k^2 + mu_k^2) - mean^2``."""
        w, mu, sd = (np.asarray(a) for a in (self.weights, self.means, self.stds))
        return float(np.sum(w * (sd**2 + mu**2)) - self.mean() ** 2)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` samples as a ``float32`` array of shape ``(n, 1)``.

        ``rng`` must be a ``numpy.random.Generator`` (e.g. ``np.random.default_rng(0)``);
        the same generator state gives the same samples.
        """
        if isinstance(n, bool) or not isinstance(n, Integral) or int(n) <= 0:
            raise ValueError(f"GaussianMixture1D.sample: n must be a positive int, got {n!r}.")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                "GaussianMixture1D.sample: rng must be a numpy.random.Generator "
                f"(e.g. np.random.default_rng(0)), got {type(rng).__name__}."
            )
        n = int(n)
        component = rng.choice(self.n_components, size=n, p=np.asarray(self.weights))
        mu = np.asarray(self.means)[component]
        sd = np.asarray(self.stds)[component]
        x = mu + sd * rng.standard_normal(n)
        return x.astype(np.float32).reshape(n, 1)

    def pdf(self, x: np.ndarray | float) -> np.ndarray:
        """Density of the mixture at ``x`` (any shape); returns float64 of the same shape."""
        x = np.asarray(x, dtype=np.float64)
        out = np.zeros_like(x)
        for w, mu, sd in zip(self.weights, self.means, self.stds):
            out += w * stats.norm.pdf(x, loc=mu, scale=sd)
        return out


def _as_samples(name: str, values: object) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(
            f"wasserstein1: {name} must be 1-D samples of shape (n,) or (n, 1), got shape "
            f"{np.shape(values)}."
        )
    if arr.size == 0:
        raise ValueError(f"wasserstein1: {name} must not be empty.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"wasserstein1: {name} contains NaN or infinite values.")
    return arr


def wasserstein1(samples_a: np.ndarray, samples_b: np.ndarray) -> float:
    """Wasserstein-1 (earth mover's) distance between two sets of 1-D samples.

    Both arguments are arrays of shape ``(n,)`` or ``(n, 1)`` (a generator's output can
    be passed directly).  The result is the distance between their empirical
    distributions, the same as ``scipy.stats.wasserstein_distance``: for equal sizes
    it is ``mean(|sort(a) - sort(b)|)``, the cost of matching the i-th smallest sample
    of one set with the i-th smallest of the other.  Sizes may differ.

    Used in chapter 1 (and 3) to measure how far the generator is from the data.
    """
    a = _as_samples("samples_a", samples_a)
    b = _as_samples("samples_b", samples_b)
    if a.size == b.size:
        return float(np.mean(np.abs(np.sort(a) - np.sort(b))))
    return float(stats.wasserstein_distance(a, b))
