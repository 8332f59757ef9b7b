"""Sample-quality metrics for generative models, written from scratch in NumPy and SciPy.

Every metric here works on arrays that a feature extractor or classifier has already
produced (a ``(n, d)`` matrix of features, or a ``(n, C)`` matrix of class
probabilities), so the same code scores a PyTorch and a TensorFlow generator.  This
module imports NumPy and SciPy only (no PyTorch, no TensorFlow); pass a tensor as
``tensor.detach().cpu().numpy()``.  All arithmetic is done in ``float64``.

=========================  ==========================================================
:func:`frechet_distance`   Fréchet distance between two Gaussians (the core of FID)
:func:`fid_from_features`  FID: Fréchet distance of Gaussians fitted to two feature sets
:func:`kid`                KID: unbiased MMD² with a cubic polynomial kernel, on subsets
:func:`inception_score`    Inception-style score from class probabilities, with splits
:func:`precision_recall`   improved precision and recall (k-NN manifolds)
:func:`class_coverage`     classes covered and KL of the class histogram from uniform
:func:`mixture_metrics`    2-D mixtures: modes captured, % high quality, reverse KL
=========================  ==========================================================

The test suite checks FID and KID against ``torchmetrics`` and precision/recall
against ``prdc``, implementations written by other people.  Used in chapter 6
(and 4, 5, 7).
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from scipy import linalg
from scipy.special import rel_entr

from gan_utils.toy import GaussianMixture2D, mode_coverage

__all__ = [
    "frechet_distance",
    "fid_from_features",
    "kid",
    "inception_score",
    "precision_recall",
    "class_coverage",
    "mixture_metrics",
    "mode_coverage",
    "kl_divergence",
]

#: Tolerance on "each row of probabilities sums to 1".
PROB_SUM_TOLERANCE = 1e-4
#: Offset added to both covariances' diagonals when ``sqrtm`` of their product fails
#: (the value used by the reference implementations, TTUR and pytorch-fid).
FID_EPS = 1e-6
#: Largest imaginary part tolerated on the diagonal of ``sqrtm(sigma1 @ sigma2)``
#: before it is discarded (same threshold as TTUR / pytorch-fid).
FID_IMAG_ATOL = 1e-3
# Largest number of float64 entries in one block of pairwise distances (32 MB).
_BLOCK_ENTRIES = 1 << 22


# --------------------------------------------------------------------------- validation


def _check_int(where: str, name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{where}: {name} must be an int, got {value!r} ({type(value).__name__}).")
    if int(value) < minimum:
        raise ValueError(f"{where}: {name} must be >= {minimum}, got {value}.")
    return int(value)


def _check_real(where: str, name: str, value: object, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{where}: {name} must be a real number, got {value!r} ({type(value).__name__}).")
    value = float(value)
    if not np.isfinite(value) or (positive and value <= 0):
        what = "a positive finite number" if positive else "finite"
        raise ValueError(f"{where}: {name} must be {what}, got {value!r}.")
    return value


def _as_numeric(where: str, name: str, values: object) -> np.ndarray:
    """``values`` as an ndarray of real numbers (int or float); rejects bool/str/object/complex."""
    try:
        arr = np.asarray(values)
    except Exception as exc:  # e.g. a ragged list
        raise TypeError(f"{where}: {name} must be an array of numbers, could not convert it: {exc}.") from None
    if arr.dtype.kind not in "iuf":
        raise TypeError(
            f"{where}: {name} must hold real numbers (int or float), got dtype {arr.dtype} "
            f"(type {type(values).__name__})."
        )
    return arr


def _check_finite(where: str, name: str, arr: np.ndarray) -> None:
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(
            f"{where}: {name} contains {bad} NaN or infinite value(s); a metric of such "
            "features is meaningless (did training diverge?)."
        )


def _features(where: str, name: str, values: object, *, min_samples: int = 1) -> np.ndarray:
    """A finite float64 feature matrix of shape ``(n, d)`` with ``n >= min_samples``."""
    arr = _as_numeric(where, name, values)
    if arr.ndim != 2:
        raise ValueError(
            f"{where}: {name} must be a 2-D array of shape (n_samples, n_features), got shape "
            f"{arr.shape} (ndim {arr.ndim}); flatten images or extract features first."
        )
    if arr.shape[1] == 0:
        raise ValueError(f"{where}: {name} has 0 features per sample (shape {arr.shape}).")
    if arr.shape[0] < min_samples:
        raise ValueError(
            f"{where}: {name} needs at least {min_samples} sample(s), got {arr.shape[0]} (shape {arr.shape})."
        )
    _check_finite(where, name, arr)
    return arr.astype(np.float64, copy=False)


def _same_width(where: str, a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"{where}: {name_a} and {name_b} must have the same number of features, got "
            f"{a.shape[1]} and {b.shape[1]} (shapes {a.shape} and {b.shape})."
        )


def _probabilities(where: str, name: str, values: object) -> np.ndarray:
    """A float64 ``(n, C)`` matrix whose rows are probability vectors (within 1e-4)."""
    arr = _features(where, name, values)
    if np.any(arr < 0):
        raise ValueError(
            f"{where}: {name} must be probabilities (>= 0), got a minimum of {float(arr.min()):.6g}; "
            "pass softmax outputs, not logits."
        )
    sums = arr.sum(axis=1)
    worst = int(np.argmax(np.abs(sums - 1.0)))
    if abs(sums[worst] - 1.0) > PROB_SUM_TOLERANCE:
        raise ValueError(
            f"{where}: each row of {name} must sum to 1 (within {PROB_SUM_TOLERANCE:g}), but row "
            f"{worst} sums to {float(sums[worst]):.6g}; pass softmax outputs, not logits."
        )
    return arr


def _rng(where: str, rng: object) -> np.random.Generator:
    if rng is None or (isinstance(rng, Integral) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(
        f"{where}: rng must be None, an int seed or a numpy.random.Generator, got {type(rng).__name__}."
    )


def kl_divergence(p: object, q: object) -> float:
    """KL(p ‖ q) = Σ_i p_i log(p_i / q_i) in nats, for two histograms over the same bins.

    Both are normalised to sum to 1 first (so counts may be passed); terms with
    ``p_i = 0`` contribute 0, and the result is ``inf`` if some ``p_i > 0`` has
    ``q_i = 0``.  Used by :func:`class_coverage` and :func:`mixture_metrics`;
    chapter 6 (and 7).
    """
    where = "kl_divergence"
    p_arr = _as_numeric(where, "p", p).astype(np.float64)
    q_arr = _as_numeric(where, "q", q).astype(np.float64)
    if p_arr.ndim != 1 or p_arr.shape != q_arr.shape:
        raise ValueError(f"{where}: p and q must be 1-D of the same length, got shapes {p_arr.shape} and {q_arr.shape}.")
    for name, arr in (("p", p_arr), ("q", q_arr)):
        _check_finite(where, name, arr)
        if np.any(arr < 0) or arr.sum() <= 0:
            raise ValueError(f"{where}: {name} must be >= 0 with a positive sum, got {arr.tolist()}.")
    return float(np.sum(rel_entr(p_arr / p_arr.sum(), q_arr / q_arr.sum())))


# --------------------------------------------------------------------------- FID


def frechet_distance(mu1: object, sigma1: object, mu2: object, sigma2: object) -> float:
    r"""Squared Fréchet (2-Wasserstein) distance between ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``.

    .. math::
        d^2 = \lVert \mu_1 - \mu_2 \rVert^2
              + \operatorname{Tr}\bigl(\Sigma_1 + \Sigma_2 - 2 (\Sigma_1 \Sigma_2)^{1/2}\bigr)

    (Fréchet 1957; Dowson & Landau 1982; used as FID by Heusel et al. 2017.)

    Numerics, as in the reference implementations (TTUR, pytorch-fid):
    ``(Σ1 Σ2)^{1/2}`` is computed with :func:`scipy.linalg.sqrtm`.  When the product is
    singular or nearly so (rank-deficient covariances, e.g. fewer samples than
    features), ``sqrtm`` can return NaN/inf or a poor root; then ``FID_EPS = 1e-6`` is
    added to the diagonal of both covariances and the root recomputed (only for this
    trace term).  ``sqrtm`` of a real non-symmetric matrix may come back complex with
    tiny imaginary parts (rounding); they are dropped when the diagonal's imaginary
    parts are below ``FID_IMAG_ATOL = 1e-3`` and a ``ValueError`` is raised otherwise.
    A result that rounding makes slightly negative (true value 0) is clipped to 0.

    ``mu1``, ``mu2`` have shape ``(d,)``; ``sigma1``, ``sigma2`` are symmetric
    ``(d, d)`` covariance matrices.  Used in chapter 6 (and 4, 5, 7).
    """
    where = "frechet_distance"
    mus, sigmas = [], []
    for i, (mu, sigma) in enumerate(((mu1, sigma1), (mu2, sigma2)), start=1):
        m = _as_numeric(where, f"mu{i}", mu)
        s = _as_numeric(where, f"sigma{i}", sigma)
        if m.ndim != 1 or m.size == 0:
            raise ValueError(f"{where}: mu{i} must be a 1-D mean vector of shape (d,), got shape {m.shape}.")
        if s.shape != (m.size, m.size):
            raise ValueError(
                f"{where}: sigma{i} must be a ({m.size}, {m.size}) covariance matrix matching mu{i}, "
                f"got shape {s.shape}."
            )
        _check_finite(where, f"mu{i}", m)
        _check_finite(where, f"sigma{i}", s)
        mus.append(m.astype(np.float64))
        sigmas.append(s.astype(np.float64))
    (m1, m2), (s1, s2) = mus, sigmas
    if m1.size != m2.size:
        raise ValueError(
            f"{where}: the two Gaussians must have the same dimension, got mu1 of length {m1.size} "
            f"and mu2 of length {m2.size}."
        )
    for i, s in enumerate((s1, s2), start=1):
        scale = max(1.0, float(np.max(np.abs(s))))
        if not np.allclose(s, s.T, rtol=1e-6, atol=1e-9 * scale):
            raise ValueError(f"{where}: sigma{i} must be symmetric (a covariance matrix).")

    trace_sqrt = _trace_sqrt_product(s1, s2, where)
    diff = m1 - m2
    value = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * trace_sqrt)
    scale = float(np.trace(s1) + np.trace(s2) + diff @ diff)
    if -1e-9 * max(scale, 1.0) < value < 0.0:
        value = 0.0
    return value


def _trace_sqrt_product(s1: np.ndarray, s2: np.ndarray, where: str) -> float:
    """``Tr((s1 @ s2)^{1/2})`` via ``scipy.linalg.sqrtm``, with the reference eps fallback."""
    product = s1 @ s2

    def root(matrix: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            # sqrtm warns "matrix is singular" for exactly the case the fallback handles.
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", linalg.LinAlgWarning)
            return np.asarray(linalg.sqrtm(matrix))

    covmean = root(product)
    norm = np.linalg.norm(product)
    bad = not np.all(np.isfinite(covmean))
    if not bad and norm > 0:
        # Relative residual ||X X - A|| / ||A||: large means sqrtm found no good root
        # (near-singular product).
        bad = np.linalg.norm(covmean @ covmean - product) / norm > 1e-5
    if bad:
        offset = FID_EPS * np.eye(s1.shape[0])
        covmean = root((s1 + offset) @ (s2 + offset))
        if not np.all(np.isfinite(covmean)):
            raise ValueError(
                f"{where}: sqrtm(sigma1 @ sigma2) is not finite even after adding {FID_EPS:g}·I to both "
                "covariances; the covariances are badly conditioned (too few samples for the "
                "feature dimension?)."
            )
    if np.iscomplexobj(covmean):
        imag = float(np.max(np.abs(np.diagonal(covmean).imag)))
        if imag > FID_IMAG_ATOL:
            raise ValueError(
                f"{where}: sqrtm(sigma1 @ sigma2) has an imaginary component of {imag:.3g} on its "
                f"diagonal (> {FID_IMAG_ATOL:g}); the covariances are not valid positive "
                "semi-definite matrices or are badly conditioned."
            )
        covmean = covmean.real
    return float(np.trace(covmean))


def fid_from_features(features_a: object, features_b: object) -> float:
    r"""Fréchet Inception Distance (Heusel et al. 2017) between two sets of features.

    Fits a Gaussian to each set (mean and unbiased covariance, ``np.cov`` with
    ``n - 1``) and returns :func:`frechet_distance` of the two:

    .. math::
        \mathrm{FID} = \lVert \mu_a - \mu_b \rVert^2
        + \operatorname{Tr}\bigl(\Sigma_a + \Sigma_b - 2 (\Sigma_a \Sigma_b)^{1/2}\bigr)

    ``features_a``, ``features_b``: arrays of shape ``(n_a, d)`` and ``(n_b, d)``.
    Each set needs at least 2 samples (a covariance needs ``n >= 2``); with
    ``n <= d`` the covariance is singular and the estimate is unreliable, so a
    ``UserWarning`` is emitted (Heusel et al. recommend ``n > d``, at least 10,000).
    FID is biased upward for small ``n`` (Bińkowski et al. 2018): compare values only at
    equal ``n`` and with the same feature extractor.  Used in chapter 6 (and 4, 5, 7).
    """
    where = "fid_from_features"
    a = _features(where, "features_a", features_a)
    b = _features(where, "features_b", features_b)
    _same_width(where, a, b, "features_a", "features_b")
    d = a.shape[1]
    for name, x in (("features_a", a), ("features_b", b)):
        if x.shape[0] < 2:
            raise ValueError(
                f"{where}: {name} has {x.shape[0]} sample(s); a covariance needs at least 2 "
                f"(and more than the feature dimension, {d}, to be full rank)."
            )
        if x.shape[0] <= d:
            warnings.warn(
                f"{where}: {name} has {x.shape[0]} samples for {d} features, so its covariance is "
                f"singular and FID is unreliable; use more than {d} samples (Heusel et al. "
                "recommend at least 10,000).",
                UserWarning,
                stacklevel=2,
            )
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    sigma_a = np.atleast_2d(np.cov(a, rowvar=False))
    sigma_b = np.atleast_2d(np.cov(b, rowvar=False))
    return frechet_distance(mu_a, sigma_a, mu_b, sigma_b)


# --------------------------------------------------------------------------- KID


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray, degree: int, gamma: float, coef: float) -> float:
    """Unbiased MMD² U-statistic with the polynomial kernel ``(gamma x·y + coef)^degree``."""
    m, n = x.shape[0], y.shape[0]

    def kernel(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        base = u @ v.T
        base *= gamma
        base += coef
        if degree == 1:
            return base
        out = base * base  # repeated products: much faster than ** on big arrays
        for _ in range(degree - 2):
            out *= base
        return out

    k_xx, k_yy, k_xy = kernel(x, x), kernel(y, y), kernel(x, y)
    sum_xx = k_xx.sum() - np.trace(k_xx)
    sum_yy = k_yy.sum() - np.trace(k_yy)
    return float(sum_xx / (m * (m - 1)) + sum_yy / (n * (n - 1)) - 2.0 * k_xy.mean())


def kid(
    features_a: object,
    features_b: object,
    *,
    n_subsets: int = 100,
    subset_size: int = 1000,
    degree: int = 3,
    gamma: float | None = None,
    coef: float = 1,
    rng: object = None,
) -> tuple[float, float]:
    r"""Kernel Inception Distance (Bińkowski et al. 2018): mean and std of MMD² over subsets.

    With the polynomial kernel :math:`k(x, y) = (\gamma\, x^\top y + c)^{p}`
    (default :math:`\gamma = 1/d`, :math:`c = 1`, :math:`p = 3`), each subset pair
    :math:`X = \{x_i\}_{i \le m}`, :math:`Y = \{y_j\}_{j \le m}` gives the unbiased estimate

    .. math::
        \widehat{\mathrm{MMD}}^2_u = \frac{1}{m(m-1)} \sum_{i \ne i'} k(x_i, x_{i'})
        + \frac{1}{m(m-1)} \sum_{j \ne j'} k(y_j, y_{j'})
        - \frac{2}{m^2} \sum_{i, j} k(x_i, y_j).

    ``n_subsets`` times, ``subset_size`` rows are drawn without replacement from each
    set (``subset_size`` is capped at the smaller set's size); the result is the mean
    and standard deviation (``ddof=0``, like the reference code and torchmetrics) of
    the estimates.  Being unbiased, single estimates can be slightly negative when the
    two distributions are equal.  The paper's protocol is 100 subsets of 1,000.

    ``rng``: ``None`` (fresh entropy), an int seed or a ``numpy.random.Generator``.
    Used in chapter 6 (and 4, 5, 7).
    """
    where = "kid"
    a = _features(where, "features_a", features_a, min_samples=2)
    b = _features(where, "features_b", features_b, min_samples=2)
    _same_width(where, a, b, "features_a", "features_b")
    n_subsets = _check_int(where, "n_subsets", n_subsets, 1)
    subset_size = _check_int(where, "subset_size", subset_size, 2)
    degree = _check_int(where, "degree", degree, 1)
    gamma = 1.0 / a.shape[1] if gamma is None else _check_real(where, "gamma", gamma, positive=True)
    coef = _check_real(where, "coef", coef)
    generator = _rng(where, rng)
    m = min(subset_size, a.shape[0], b.shape[0])
    values = np.empty(n_subsets)
    for s in range(n_subsets):
        x = a[generator.choice(a.shape[0], m, replace=False)]
        y = b[generator.choice(b.shape[0], m, replace=False)]
        values[s] = _mmd2_unbiased(x, y, degree, gamma, coef)
    return float(values.mean()), float(values.std())


# --------------------------------------------------------------------------- Inception Score


def inception_score(probs: object, *, n_splits: int = 10) -> tuple[float, float]:
    r"""Inception Score (Salimans et al. 2016) from class probabilities: mean and std over splits.

    .. math::
        \mathrm{IS} = \exp\Bigl(\mathbb{E}_x\, \mathrm{KL}\bigl(p(y \mid x) \,\|\, p(y)\bigr)\Bigr),
        \qquad p(y) = \mathbb{E}_x\, p(y \mid x),

    computed separately on ``n_splits`` consecutive, near-equal chunks of the rows
    (the split boundaries of the reference code ``openai/improved-gan``), each chunk
    using its own marginal :math:`p(y)`; returns the mean and standard deviation
    (``ddof=0``) of the per-split scores.  ``0 log 0`` is taken as 0.  It lies in
    ``[1, C]``: 1 when every prediction is the same, ``C`` when predictions are
    confident and spread evenly over the ``C`` classes.

    ``probs``: ``(n, C)`` array of probabilities (rows >= 0, summing to 1 within
    1e-4), e.g. the evaluator classifier's softmax outputs; ``n >= n_splits``.  With an
    MNIST classifier instead of Inception-v3 it is an "Inception-style" score
    (Bińkowski et al. 2018 report it with LeNet features).  Used in chapter 6
    (and 4, 5, 7).
    """
    where = "inception_score"
    p = _probabilities(where, "probs", probs)
    n_splits = _check_int(where, "n_splits", n_splits, 1)
    n = p.shape[0]
    if n < n_splits:
        raise ValueError(f"{where}: n_splits={n_splits} needs at least {n_splits} rows of probs, got {n}.")
    scores = np.empty(n_splits)
    for i in range(n_splits):
        part = p[i * n // n_splits : (i + 1) * n // n_splits]
        marginal = part.mean(axis=0, keepdims=True)
        kl = rel_entr(part, marginal).sum(axis=1)
        scores[i] = np.exp(kl.mean())
    return float(scores.mean()), float(scores.std())


# --------------------------------------------------------------------------- precision / recall


def _blocks(n_rows: int, n_cols: int):
    step = max(1, _BLOCK_ENTRIES // max(n_cols, 1))
    for start in range(0, n_rows, step):
        yield start, min(start + step, n_rows)


def _sq_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances, ``(len(x), len(y))``, computed as Σ (x - y)² (exact 0 on self)."""
    from scipy.spatial.distance import cdist

    return cdist(x, y, metric="sqeuclidean")


def _knn_radii_sq(x: np.ndarray, k: int) -> np.ndarray:
    """Squared distance from each row of ``x`` to its k-th nearest *other* row."""
    radii = np.empty(x.shape[0])
    for lo, hi in _blocks(x.shape[0], x.shape[0]):
        d = _sq_distances(x[lo:hi], x)
        # Position 0 of the sorted row is the point itself (distance 0), so position k is
        # the k-th nearest neighbour.
        radii[lo:hi] = np.partition(d, k, axis=1)[:, k]
    return radii


def _in_manifold(queries: np.ndarray, centres: np.ndarray, radii_sq: np.ndarray) -> np.ndarray:
    """For each query: is it inside (or on) the k-NN ball of some centre?"""
    inside = np.empty(queries.shape[0], dtype=bool)
    for lo, hi in _blocks(queries.shape[0], centres.shape[0]):
        d = _sq_distances(queries[lo:hi], centres)
        inside[lo:hi] = np.any(d <= radii_sq[None, :], axis=1)
    return inside


def precision_recall(real_features: object, fake_features: object, *, k: int = 3) -> tuple[float, float]:
    r"""Improved precision and recall (Kynkäänniemi et al. 2019).

    Each set's *manifold* is the union of balls centred on its samples, each ball's
    radius being the distance to that sample's ``k``-th nearest neighbour within the
    same set (``k = 3`` in the paper).  Then

    .. math::
        \text{precision} = \frac{1}{M} \sum_{j=1}^{M} f(\phi_g^{(j)}, \Phi_r), \qquad
        \text{recall} = \frac{1}{N} \sum_{i=1}^{N} f(\phi_r^{(i)}, \Phi_g),

    where :math:`f(\phi, \Phi) = 1` if :math:`\lVert \phi - \phi' \rVert \le
    \mathrm{NND}_k(\phi')` for some :math:`\phi' \in \Phi`.  Precision: the fraction of
    fake samples that look real; recall: the fraction of real samples the generator
    covers.  The official code uses ``<=`` (used here); the ``prdc`` package uses ``<``:
    they differ only on exact ties, e.g. duplicated samples whose k-NN radius is 0.

    ``real_features``: ``(N, d)``; ``fake_features``: ``(M, d)``; both need more than
    ``k`` samples.  Distances are computed exactly (``scipy.spatial.distance.cdist``) in
    blocks of at most 4M entries, so a few thousand points take well under a second.
    Used in chapter 6 (and 4, 5, 7).
    """
    where = "precision_recall"
    k = _check_int(where, "k", k, 1)
    real = _features(where, "real_features", real_features)
    fake = _features(where, "fake_features", fake_features)
    _same_width(where, real, fake, "real_features", "fake_features")
    for name, x in (("real_features", real), ("fake_features", fake)):
        if k >= x.shape[0]:
            raise ValueError(
                f"{where}: k={k} must be smaller than the number of samples in each set; "
                f"{name} has {x.shape[0]} (a k-th nearest neighbour needs at least k + 1 samples)."
            )
    real_radii = _knn_radii_sq(real, k)
    fake_radii = _knn_radii_sq(fake, k)
    precision = float(np.mean(_in_manifold(fake, real, real_radii)))
    recall = float(np.mean(_in_manifold(real, fake, fake_radii)))
    return precision, recall


# --------------------------------------------------------------------------- class coverage


def class_coverage(labels_or_probs: object, n_classes: int = 10, *, min_fraction: float = 0.01) -> dict:
    r"""How evenly generated samples spread over classes, as judged by a classifier.

    ``labels_or_probs`` is either a 1-D array of integer labels in ``[0, n_classes)``
    or an ``(n, n_classes)`` matrix of class probabilities (each row summing to 1
    within 1e-4), whose argmax is taken.  Returns

    - ``"classes_covered"``: number of classes with at least ``min_fraction`` (1 %) of
      the samples;
    - ``"histogram"``: float64 ``(n_classes,)`` fraction of samples per class;
    - ``"kl_to_uniform"``: :math:`\mathrm{KL}(h \,\|\, u) = \sum_c h_c \log(h_c C)` in
      nats, 0 for a perfectly even spread and :math:`\log C` when all samples fall
      in one class.

    This is the MNIST (``C = 10``) version of the Stacked-MNIST protocol (VEEGAN,
    Srivastava et al. 2017; PacGAN, Lin et al. 2018), which reports modes and
    KL(generated mode histogram ‖ uniform).  Used in chapter 6 (and 4, 5, 7).
    """
    where = "class_coverage"
    n_classes = _check_int(where, "n_classes", n_classes, 1)
    min_fraction = _check_real(where, "min_fraction", min_fraction)
    if not 0.0 <= min_fraction <= 1.0:
        raise ValueError(f"{where}: min_fraction must be in [0, 1], got {min_fraction!r}.")
    arr = _as_numeric(where, "labels_or_probs", labels_or_probs)
    if arr.ndim == 1:
        if arr.dtype.kind not in "iu":
            raise TypeError(
                f"{where}: 1-D labels_or_probs must be integer class labels, got dtype {arr.dtype}; "
                "pass integer labels or an (n, n_classes) matrix of probabilities."
            )
        if arr.size == 0:
            raise ValueError(f"{where}: labels_or_probs is empty.")
        if arr.min() < 0 or arr.max() >= n_classes:
            raise ValueError(
                f"{where}: labels must be in [0, {n_classes}) for n_classes={n_classes}, got values "
                f"from {arr.min()} to {arr.max()}."
            )
        labels = arr.astype(np.int64)
    elif arr.ndim == 2:
        probs = _probabilities(where, "labels_or_probs", arr)
        if probs.shape[1] != n_classes:
            raise ValueError(
                f"{where}: a probability matrix must have n_classes={n_classes} columns, got shape {probs.shape}."
            )
        labels = np.argmax(probs, axis=1)
    else:
        raise ValueError(
            f"{where}: labels_or_probs must be 1-D labels or a 2-D (n, n_classes) probability matrix, "
            f"got shape {arr.shape}."
        )
    histogram = np.bincount(labels, minlength=n_classes).astype(np.float64) / labels.size
    return {
        "classes_covered": int(np.count_nonzero(histogram >= min_fraction)),
        "histogram": histogram,
        "kl_to_uniform": kl_divergence(histogram, np.full(n_classes, 1.0 / n_classes)),
    }


# --------------------------------------------------------------------------- 2-D mixtures


def mixture_metrics(samples: object, mixture: GaussianMixture2D, *, n_std: float = 3.0) -> dict:
    r"""Score 2-D generator samples against a Gaussian mixture (VEEGAN / PacGAN protocol).

    Calls :func:`gan_utils.toy.mode_coverage` (re-exported here as
    :func:`mode_coverage`): each sample goes to the mode with the smallest Mahalanobis
    distance; it is *high quality* if that distance is below ``n_std`` (3); a mode is
    *captured* if it has at least one high-quality sample.  Adds the **reverse KL**
    over modes,

    .. math::
        \mathrm{KL}(\hat p \,\|\, w) = \sum_k \hat p_k \log \frac{\hat p_k}{w_k},
        \qquad \hat p_k = \frac{\text{high-quality samples assigned to mode } k}
                               {\text{all high-quality samples}},

    with :math:`w` the mixture's true weights.  "Reverse" because the generated
    distribution comes first, as in the "reverse KL" column of PacGAN's Table 1 (Lin
    et al. 2018).  The code of that column is not published; this definition follows
    the published pieces: PacGAN's Stacked-MNIST code computes KL(generated mode
    histogram ‖ uniform), and its 2-D metric code (``MetricLogger``) normalises the
    per-mode counts of high-quality samples only.  A
    single captured mode of ``K`` equal ones gives ``log K``; a perfect sampler gives
    about ``(K - 1) / (2 N)``, not 0, from sampling noise.  If no sample is high
    quality the histogram is undefined and ``reverse_kl`` is ``nan``; it is ``inf`` if a
    mode of true weight 0 receives high-quality samples.

    Returns the keys of ``mode_coverage`` (``"modes_captured"``,
    ``"high_quality_fraction"``, ``"counts"``) plus ``"mode_histogram"``
    (:math:`\hat p`, float64 ``(K,)``, zeros if nothing is high quality) and
    ``"reverse_kl"`` (float, nats).  Used in chapter 3 (and 6, 7).
    """
    result = dict(mode_coverage(samples, mixture, n_std=n_std))
    counts = np.asarray(result["counts"], dtype=np.float64)
    total = counts.sum()
    if total > 0:
        result["mode_histogram"] = counts / total
        result["reverse_kl"] = kl_divergence(counts, mixture.weights)
    else:
        result["mode_histogram"] = np.zeros_like(counts)
        result["reverse_kl"] = float("nan")
    return result
