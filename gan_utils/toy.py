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


# --------------------------------------------------------------------------- 2-D mixtures
#
# The 2-D benchmarks of the mode-collapse literature (VEEGAN, Srivastava et al. 2017;
# PacGAN, Lin et al. 2018): a ring of 8 and a grid of 25 isotropic Gaussians, and the
# "modes captured / high-quality samples" protocol used to score a generator on them.
# Used in chapter 3 (and 7).  NumPy only, like the 1-D part above.

__all__ += ["GaussianMixture2D", "ring_of_gaussians", "grid_of_gaussians", "mode_coverage"]


class GaussianMixture2D:
    """A mixture of isotropic 2-D normal distributions: ``sum_k w_k N(x; mu_k, std_k^2 I)``.

    Parameters
    ----------
    means:
        Array-like of shape ``(K, 2)``: the component means (the "modes").
    std:
        Standard deviation of every coordinate, a positive number shared by all
        components, or a sequence of ``K`` positive numbers (one per component).
    weights:
        ``K`` mixing weights (>= 0, summing to 1 within 1e-6); ``None`` means uniform.

    The arrays are stored read-only (``means`` float64 ``(K, 2)``, ``stds`` ``(K,)``,
    ``weights`` ``(K,)``); ``std`` is kept as given.

    >>> ring = ring_of_gaussians()
    >>> ring.sample(3, np.random.default_rng(0)).shape
    (3, 2)

    Used in chapter 3 (and 7).
    """

    def __init__(self, means: object, std: object, weights: object = None) -> None:
        where = "GaussianMixture2D"
        try:
            mu = np.array(means, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{where}: means must be an array of numbers of shape (K, 2), got {means!r}.") from None
        if mu.ndim != 2 or mu.shape[1] != 2 or mu.shape[0] == 0:
            raise ValueError(f"{where}: means must have shape (K, 2) with K >= 1, got shape {mu.shape}.")
        if not np.all(np.isfinite(mu)):
            raise ValueError(f"{where}: means must be finite.")
        k = mu.shape[0]
        if isinstance(std, bool) or not (isinstance(std, Real) or np.ndim(std) == 1):
            raise TypeError(
                f"{where}: std must be a positive number or a sequence of {k} positive numbers, got {std!r}."
            )
        stds = np.array(std, dtype=np.float64)
        if stds.ndim == 0:
            stds = np.full(k, float(stds))
        if stds.shape != (k,):
            raise ValueError(f"{where}: std must be one number or {k} numbers (one per mode), got shape {stds.shape}.")
        if not np.all(np.isfinite(stds)) or np.any(stds <= 0):
            raise ValueError(f"{where}: std must be finite and > 0, got {std!r}.")
        if weights is None:
            w = np.full(k, 1.0 / k)
        else:
            w = np.array(weights, dtype=np.float64)
            if w.shape != (k,):
                raise ValueError(f"{where}: weights must have shape ({k},), one per mean, got shape {w.shape}.")
            if not np.all(np.isfinite(w)) or np.any(w < 0):
                raise ValueError(f"{where}: weights must all be finite and >= 0, got {w.tolist()}.")
            if abs(w.sum() - 1.0) > _WEIGHT_TOLERANCE:
                raise ValueError(
                    f"{where}: weights must sum to 1 (within {_WEIGHT_TOLERANCE:g}), got a sum of {w.sum()!r}."
                )
        for array in (mu, stds, w):
            array.setflags(write=False)
        self.means, self.stds, self.weights, self.std = mu, stds, w, std

    def __repr__(self) -> str:
        return f"GaussianMixture2D(K={self.n_components}, std={self.std!r})"

    @property
    def n_components(self) -> int:
        """Number of mixture components (modes)."""
        return int(self.means.shape[0])

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` samples as a ``float32`` array of shape ``(n, 2)``.

        ``rng`` must be a ``numpy.random.Generator``; the same state gives the same samples.
        """
        where = "GaussianMixture2D.sample"
        if isinstance(n, bool) or not isinstance(n, Integral) or int(n) <= 0:
            raise ValueError(f"{where}: n must be a positive int, got {n!r}.")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"{where}: rng must be a numpy.random.Generator (e.g. np.random.default_rng(0)), "
                f"got {type(rng).__name__}."
            )
        n = int(n)
        component = rng.choice(self.n_components, size=n, p=self.weights)
        x = self.means[component] + self.stds[component, None] * rng.standard_normal((n, 2))
        return x.astype(np.float32)

    def _points(self, points: object, where: str) -> np.ndarray:
        x = np.asarray(points, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != 2:
            raise ValueError(f"{where}: points must have shape (n, 2), got shape {np.shape(points)}.")
        if not np.all(np.isfinite(x)):
            raise ValueError(
                f"{where}: points contain {int(np.size(x) - np.isfinite(x).sum())} NaN or inf "
                "value(s) (did training diverge?)."
            )
        return x

    def scaled_distances(self, points: object) -> np.ndarray:
        """Distance of each point to each mean in units of that mode's std, shape ``(n, K)``.

        For an isotropic component this is the Mahalanobis distance ``|x - mu_k| / std_k``.
        """
        x = self._points(points, "GaussianMixture2D.scaled_distances")
        diff = x[:, None, :] - self.means[None, :, :]
        return np.sqrt(np.sum(diff**2, axis=-1)) / self.stds[None, :]

    def component_of(self, points: object) -> np.ndarray:
        """Index of the nearest mode of each point (smallest Mahalanobis distance), int64 ``(n,)``."""
        return np.argmin(self.scaled_distances(points), axis=1).astype(np.int64)

    def pdf(self, points: object) -> np.ndarray:
        """Density of the mixture at each point of an ``(n, 2)`` array; float64 ``(n,)``."""
        x = self._points(points, "GaussianMixture2D.pdf")
        sq = np.sum((x[:, None, :] - self.means[None, :, :]) ** 2, axis=-1)
        var = self.stds**2
        return np.sum(self.weights * np.exp(-sq / (2 * var)) / (2 * np.pi * var), axis=1)


def ring_of_gaussians(n_modes: int = 8, radius: float = 1.0, std: float = 0.01) -> GaussianMixture2D:
    """``n_modes`` equally weighted Gaussians with means on a circle of ``radius``.

    Mode ``i`` sits at angle ``2 pi i / n_modes``, i.e. at
    ``radius * (cos(2 pi i / n), sin(2 pi i / n))`` for ``i = 0 .. n-1``.  (Spacing the
    angles with ``np.linspace(0, 2 pi, n)`` instead, as one widely copied demo does,
    puts the first and last mode on top of each other and leaves n - 1 modes.)  The
    defaults are PacGAN's 2-D ring: radius 1, std 0.01.  Used in chapter 3 (and 7).
    """
    where = "ring_of_gaussians"
    if isinstance(n_modes, bool) or not isinstance(n_modes, Integral) or int(n_modes) < 1:
        raise ValueError(f"{where}: n_modes must be a positive int, got {n_modes!r}.")
    if isinstance(radius, bool) or not isinstance(radius, Real) or not (0 < float(radius) < np.inf):
        raise ValueError(f"{where}: radius must be a positive finite number, got {radius!r}.")
    angles = 2 * np.pi * np.arange(int(n_modes)) / int(n_modes)
    means = float(radius) * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return GaussianMixture2D(means, std)


def grid_of_gaussians(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> GaussianMixture2D:
    """``side**2`` equally weighted Gaussians on a square grid centred on the origin.

    The coordinates are ``spacing * (j - (side - 1) / 2)`` for ``j = 0 .. side-1``; the
    defaults give PacGAN's and VEEGAN's grid ``{-4, -2, 0, 2, 4}^2`` with std 0.05.
    Modes are ordered with the first coordinate varying slowest.  Used in chapter 3 (and 7).
    """
    where = "grid_of_gaussians"
    if isinstance(side, bool) or not isinstance(side, Integral) or int(side) < 1:
        raise ValueError(f"{where}: side must be a positive int, got {side!r}.")
    if isinstance(spacing, bool) or not isinstance(spacing, Real) or not (0 < float(spacing) < np.inf):
        raise ValueError(f"{where}: spacing must be a positive finite number, got {spacing!r}.")
    coords = float(spacing) * (np.arange(int(side)) - (int(side) - 1) / 2)
    xx, yy = np.meshgrid(coords, coords, indexing="ij")
    return GaussianMixture2D(np.stack([xx.ravel(), yy.ravel()], axis=1), std)


def mode_coverage(samples: object, mixture: GaussianMixture2D, n_std: float = 3.0) -> dict:
    """Score 2-D samples against a mixture: modes captured and fraction of high-quality samples.

    The protocol of VEEGAN (Srivastava et al. 2017), as implemented in PacGAN's code
    (``MetricLogger``, ``dis_thre=3``): each sample is assigned to the mode with the
    smallest Mahalanobis distance ``|x - mu_k| / std_k``; it is **high quality** if that
    distance is ``< n_std``; a mode is **captured** if at least one high-quality sample is
    assigned to it.  Note that even perfect samples are not all high quality: in 2-D the
    fraction of a Gaussian within 3 standard deviations (Mahalanobis) of its mean is
    ``1 - exp(-9/2) = 98.9 %``.

    Returns ``{"modes_captured": int, "high_quality_fraction": float, "counts": array}``
    where ``counts[k]`` is the number of high-quality samples assigned to mode ``k``
    (int64, shape ``(K,)``).  ``samples`` is an ``(n, 2)`` array (or a tensor converted
    with ``.numpy()`` first).  Used in chapter 3 (and 7).
    """
    where = "mode_coverage"
    if not isinstance(mixture, GaussianMixture2D):
        raise TypeError(f"{where}: mixture must be a GaussianMixture2D, got {type(mixture).__name__}.")
    if isinstance(n_std, bool) or not isinstance(n_std, Real) or not (0 < float(n_std) < np.inf):
        raise ValueError(f"{where}: n_std must be a positive finite number, got {n_std!r}.")
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2 or x.shape[0] == 0:
        raise ValueError(f"{where}: samples must have shape (n, 2) with n >= 1, got shape {np.shape(samples)}.")
    distances = mixture.scaled_distances(x)
    nearest = np.argmin(distances, axis=1)
    good = distances[np.arange(len(x)), nearest] < float(n_std)
    counts = np.bincount(nearest[good], minlength=mixture.n_components).astype(np.int64)
    return {
        "modes_captured": int(np.count_nonzero(counts)),
        "high_quality_fraction": float(good.mean()),
        "counts": counts,
    }
