"""Tests for gan_utils.metrics: FID, KID, IS, precision/recall, class coverage, 2-D mixtures.

Three kinds of checks:

- against implementations no one here wrote, installed from PyPI as test dependencies:
  ``torchmetrics`` (Fréchet distance, polynomial MMD) and ``prdc`` (precision/recall);
- closed forms (Gaussians with known parameters, uniform / one-hot predictions, ...);
- properties that must hold for any input (hypothesis), and clear errors on bad input.
"""

from __future__ import annotations

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gan_utils import metrics, toy
from gan_utils.metrics import (
    class_coverage,
    fid_from_features,
    frechet_distance,
    inception_score,
    kid,
    kl_divergence,
    mixture_metrics,
    precision_recall,
)

REFERENCE_HINT = "the reference implementations are test dependencies: pip install torchmetrics prdc"


def _torchmetrics():
    """Import torchmetrics' FID/KID pieces (and torch) only in the tests that compare with them."""
    try:
        import torch
        from torchmetrics.image import fid as tm_fid
        from torchmetrics.image import kid as tm_kid
    except ImportError as exc:  # pragma: no cover - environment problem, reported clearly
        pytest.fail(f"{REFERENCE_HINT} ({exc})")
    return torch, tm_fid, tm_kid


def _prdc():
    try:
        import prdc
    except ImportError as exc:  # pragma: no cover
        pytest.fail(f"{REFERENCE_HINT} ({exc})")
    return prdc


def _gaussian_features(rng, n, d, *, shift=0.0, scale=1.0, correlated=True):
    """n samples of a d-dim Gaussian with a random (correlated) covariance."""
    x = rng.standard_normal((n, d))
    if correlated:
        x = x @ (np.eye(d) + 0.3 * rng.standard_normal((d, d)))
    return scale * x + shift


def test_is_framework_neutral():
    code = (
        "import sys, gan_utils.metrics; "
        "bad = [m for m in ('torch', 'tensorflow', 'torchmetrics', 'sklearn') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- FID


@pytest.mark.parametrize(("n", "d", "shift", "scale"), [(200, 3, 0.5, 1.0), (500, 16, 0.1, 1.3), (300, 64, 2.0, 0.7)])
def test_frechet_distance_matches_torchmetrics(n, d, shift, scale):
    torch, tm_fid, _ = _torchmetrics()
    rng = np.random.default_rng(n + d)
    a = _gaussian_features(rng, n, d)
    b = _gaussian_features(rng, n + 17, d, shift=shift, scale=scale)
    stats = [a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)]
    ours = frechet_distance(*stats)
    theirs = float(tm_fid._compute_fid(*(torch.from_numpy(s) for s in stats)))
    assert ours == pytest.approx(theirs, rel=1e-6)


def test_fid_from_features_matches_torchmetrics_metric():
    """End to end, including the covariance estimate: torchmetrics' FID metric on raw features."""
    torch, tm_fid, _ = _torchmetrics()
    d = 12
    rng = np.random.default_rng(7)
    real = _gaussian_features(rng, 400, d)
    fake = _gaussian_features(rng, 350, d, shift=0.4, scale=1.2)

    class Identity(torch.nn.Module):
        num_features = d

        def forward(self, x):
            return x

    metric = tm_fid.FrechetInceptionDistance(feature=Identity())
    metric.update(torch.from_numpy(real), real=True)
    metric.update(torch.from_numpy(fake), real=False)
    assert fid_from_features(real, fake) == pytest.approx(float(metric.compute()), rel=1e-6)


def test_frechet_distance_closed_form_diagonal_gaussians():
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    var1, var2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    # ||mu1 - mu2||^2 + sum(v1 + v2 - 2 sqrt(v1 v2)), by hand:
    # (1 + 0 + 6.25) + (1 + 9 - 6) + (4 + 1 - 4) + (0.25 + 0.25 - 0.5) = 7.25 + 4 + 1 + 0 = 12.25
    assert frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2)) == pytest.approx(12.25, rel=1e-12)
    assert frechet_distance(mu1, np.diag(var1), mu1, np.diag(var1)) == pytest.approx(0.0, abs=1e-12)


def test_fid_of_large_samples_approaches_the_closed_form():
    rng = np.random.default_rng(3)
    n, d = 20000, 4
    a = rng.standard_normal((n, d))
    b = 2.0 * rng.standard_normal((n, d)) + 1.0
    exact = d * 1.0 + d * (1.0 - 2.0) ** 2  # ||mu||^2 + sum (sqrt v1 - sqrt v2)^2 = 4 + 4
    assert fid_from_features(a, b) == pytest.approx(exact, rel=0.03)


def test_fid_of_a_set_with_itself_is_zero():
    a = _gaussian_features(np.random.default_rng(0), 300, 20, shift=3.0)
    assert fid_from_features(a, a) == pytest.approx(0.0, abs=1e-8)
    assert fid_from_features(a, a[::-1]) == pytest.approx(0.0, abs=1e-8)


def test_fid_with_fewer_samples_than_features_warns_but_returns_a_number():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((10, 32)), rng.standard_normal((10, 32)) + 1.0
    with pytest.warns(UserWarning) as caught:
        value = fid_from_features(a, b)
    messages = [str(w.message) for w in caught]
    assert any("features_a has 10 samples for 32 features" in m and "singular" in m for m in messages)
    assert any("features_b has 10 samples for 32 features" in m for m in messages)
    assert np.isfinite(value) and value > 0


def test_frechet_distance_retries_with_an_eps_offset_when_sqrtm_fails(monkeypatch):
    """The reference implementations' fallback: add 1e-6·I to both covariances and retry."""
    from scipy import linalg

    real_sqrtm = linalg.sqrtm
    seen = []

    def flaky_sqrtm(matrix):
        seen.append(np.array(matrix))
        if len(seen) == 1:
            return np.full_like(matrix, np.nan)
        return real_sqrtm(matrix)

    monkeypatch.setattr(metrics.linalg, "sqrtm", flaky_sqrtm)
    var1, var2 = np.array([1.0, 4.0]), np.array([4.0, 1.0])
    value = frechet_distance(np.zeros(2), np.diag(var1), np.ones(2), np.diag(var2))
    assert len(seen) == 2
    np.testing.assert_allclose(seen[1], np.diag((var1 + 1e-6) * (var2 + 1e-6)))
    assert value == pytest.approx(2.0 + 1.0 + 1.0, abs=1e-5)  # 2 + (1 - 2)^2 + (2 - 1)^2


def test_frechet_distance_rejects_matrices_with_a_complex_root():
    with pytest.raises(ValueError, match=r"imaginary component of 1 on its diagonal"):
        frechet_distance(np.zeros(2), np.diag([1.0, -1.0]), np.zeros(2), np.eye(2))


def test_frechet_distance_accepts_integer_inputs_and_returns_float():
    assert frechet_distance([0, 0], np.eye(2, dtype=int), [1, 1], np.eye(2, dtype=int)) == pytest.approx(2.0)


@st.composite
def _feature_pair(draw):
    d = draw(st.integers(1, 6))
    n_a = draw(st.integers(d + 2, 40))
    n_b = draw(st.integers(d + 2, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    a = _gaussian_features(rng, n_a, d, scale=draw(st.floats(0.1, 10)))
    b = _gaussian_features(rng, n_b, d, shift=draw(st.floats(-5, 5)), scale=draw(st.floats(0.1, 10)))
    shift = rng.uniform(-100, 100, size=d)
    rotation, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return a, b, shift, rotation


@settings(max_examples=40, deadline=None)
@given(_feature_pair())
def test_fid_properties_symmetric_nonnegative_and_invariant(pair):
    a, b, shift, rotation = pair
    value = fid_from_features(a, b)
    scale = np.trace(np.cov(a, rowvar=False).reshape(a.shape[1], -1)) + np.trace(
        np.cov(b, rowvar=False).reshape(b.shape[1], -1)
    )
    tol = 1e-7 * (scale + value + 1.0)
    assert value >= 0.0
    assert fid_from_features(b, a) == pytest.approx(value, abs=tol)
    moved = fid_from_features(a @ rotation + shift, b @ rotation + shift)
    assert moved == pytest.approx(value, abs=tol)


# --------------------------------------------------------------------------- KID


@pytest.mark.parametrize(
    ("degree", "gamma", "coef"), [(3, None, 1.0), (2, 0.05, 0.5), (1, 1.0, 0.0), (3, 0.2, 2.0)]
)
def test_kid_single_full_subset_matches_torchmetrics_poly_mmd(degree, gamma, coef):
    torch, _, tm_kid = _torchmetrics()
    rng = np.random.default_rng(degree)
    n, d = 150, 8
    a = _gaussian_features(rng, n, d)
    b = _gaussian_features(rng, n, d, shift=0.3)
    mean, std = kid(a, b, n_subsets=1, subset_size=n, degree=degree, gamma=gamma, coef=coef, rng=0)
    theirs = float(tm_kid.poly_mmd(torch.from_numpy(a), torch.from_numpy(b), degree, gamma, coef))
    assert mean == pytest.approx(theirs, rel=1e-6)
    assert std == 0.0


def test_kid_over_subsets_matches_torchmetrics_poly_mmd_on_the_same_subsets():
    """Reproduce kid's sampling (per subset: choice without replacement from a, then b)."""
    torch, _, tm_kid = _torchmetrics()
    rng = np.random.default_rng(11)
    a = _gaussian_features(rng, 300, 10)
    b = _gaussian_features(rng, 260, 10, scale=1.2)
    mean, std = kid(a, b, n_subsets=7, subset_size=100, rng=np.random.default_rng(5))
    draw = np.random.default_rng(5)
    scores = []
    for _ in range(7):
        x = torch.from_numpy(a[draw.choice(300, 100, replace=False)])
        y = torch.from_numpy(b[draw.choice(260, 100, replace=False)])
        scores.append(tm_kid.poly_mmd(x, y))
    scores = torch.stack(scores)
    assert mean == pytest.approx(float(scores.mean()), rel=1e-6)
    assert std == pytest.approx(float(scores.std(unbiased=False)), rel=1e-6)
    assert std > 0


def test_kid_of_identical_distributions_is_near_zero_relative_to_a_shifted_pair():
    rng = np.random.default_rng(2)
    d = 16
    a = rng.standard_normal((1000, d))
    same = rng.standard_normal((1000, d))
    shifted = rng.standard_normal((1000, d)) + 0.5
    settings_ = dict(n_subsets=10, subset_size=400, rng=0)
    far, _ = kid(a, shifted, **settings_)
    assert far > 0
    for other in (same, a):  # an independent draw, and the very same array
        near, _ = kid(a, other, **settings_)
        assert abs(near) < 0.05 * far


def test_kid_is_reproducible_with_a_seed_and_caps_the_subset_size():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((60, 5)), rng.standard_normal((500, 5)) + 0.2
    assert kid(a, b, n_subsets=5, rng=3) == kid(a, b, n_subsets=5, rng=3)
    # subset_size 1000 is capped at 60, the smaller set's size
    assert kid(a, b, n_subsets=5, subset_size=1000, rng=3) == kid(a, b, n_subsets=5, subset_size=60, rng=3)


# --------------------------------------------------------------------------- Inception Score


def test_inception_score_of_uniform_predictions_is_one():
    probs = np.full((100, 10), 0.1)
    mean, std = inception_score(probs)
    assert mean == pytest.approx(1.0, abs=1e-12) and std == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("n_classes", [2, 10, 7])
def test_inception_score_of_confident_predictions_spread_evenly_is_the_number_of_classes(n_classes):
    labels = np.arange(n_classes * 10 * 3) % n_classes  # every split holds each class 3 times
    probs = np.eye(n_classes)[labels]
    mean, std = inception_score(probs, n_splits=10)
    assert mean == pytest.approx(n_classes, rel=1e-12) and std == pytest.approx(0.0, abs=1e-9)


def test_inception_score_of_one_confident_class_is_one():
    probs = np.eye(10)[np.full(50, 3)]
    assert inception_score(probs, n_splits=5)[0] == pytest.approx(1.0)


def test_inception_score_hand_computed_case():
    probs = np.array([[0.9, 0.1], [0.2, 0.8]])
    marginal = (0.55, 0.45)
    kl1 = 0.9 * math.log(0.9 / marginal[0]) + 0.1 * math.log(0.1 / marginal[1])
    kl2 = 0.2 * math.log(0.2 / marginal[0]) + 0.8 * math.log(0.8 / marginal[1])
    mean, std = inception_score(probs, n_splits=1)
    assert mean == pytest.approx(math.exp((kl1 + kl2) / 2), rel=1e-12)
    assert std == 0.0


def test_inception_score_with_one_row_per_split_is_one():
    """A split of a single prediction is its own marginal: KL 0, score 1."""
    probs = np.random.default_rng(0).dirichlet(np.ones(5), size=8)
    assert inception_score(probs, n_splits=8) == pytest.approx((1.0, 0.0))


@settings(max_examples=40, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 30), st.integers(1, 8)),
        elements=st.floats(0.0, 1.0, allow_nan=False, allow_infinity=False),
    ),
    st.integers(1, 5),
)
def test_inception_score_lies_between_one_and_the_number_of_classes(raw, n_splits):
    probs = raw + 1e-3
    probs /= probs.sum(axis=1, keepdims=True)
    n_splits = min(n_splits, probs.shape[0])
    mean, std = inception_score(probs, n_splits=n_splits)
    assert 1.0 - 1e-9 <= mean <= probs.shape[1] + 1e-9
    assert std >= 0.0


# --------------------------------------------------------------------------- precision / recall


@pytest.mark.parametrize(("n_real", "n_fake", "d", "k"), [(300, 250, 8, 3), (500, 500, 32, 3), (120, 200, 2, 5)])
def test_precision_recall_matches_prdc(n_real, n_fake, d, k, capsys):
    prdc = _prdc()
    rng = np.random.default_rng(n_real + d)
    real = _gaussian_features(rng, n_real, d)
    fake = _gaussian_features(rng, n_fake, d, shift=0.4, scale=0.8)
    theirs = prdc.compute_prdc(real, fake, nearest_k=k)
    capsys.readouterr()  # prdc prints the sample counts
    precision, recall = precision_recall(real, fake, k=k)
    assert 0.0 < precision < 1.0 and 0.0 < recall < 1.0  # a non-trivial case
    assert precision == pytest.approx(float(theirs["precision"]), abs=1e-12)
    assert recall == pytest.approx(float(theirs["recall"]), abs=1e-12)


def test_precision_recall_in_blocks_equals_one_block(monkeypatch):
    rng = np.random.default_rng(9)
    real, fake = rng.standard_normal((210, 4)), rng.standard_normal((190, 4)) + 0.3
    whole = precision_recall(real, fake)
    monkeypatch.setattr(metrics, "_BLOCK_ENTRIES", 1000)  # ~5 rows per block
    assert precision_recall(real, fake) == whole


def test_precision_recall_extremes():
    rng = np.random.default_rng(0)
    real = rng.standard_normal((100, 3))
    assert precision_recall(real, real.copy()) == (1.0, 1.0)
    assert precision_recall(real, real + 1000.0) == (0.0, 0.0)


def test_precision_recall_of_a_collapsed_generator_counts_ties_as_inside():
    """All fakes are one real sample, repeated: every fake is real-looking (precision 1), and
    the fake balls have radius 0, containing only that one real sample (recall 1/N).  The
    official code's ``<=`` gives this; prdc's ``<`` would give recall 0."""
    rng = np.random.default_rng(1)
    real = rng.standard_normal((50, 4))
    fake = np.repeat(real[:1], 20, axis=0)
    assert precision_recall(real, fake) == (1.0, 1 / 50)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda d: st.tuples(
            hnp.arrays(np.int64, st.tuples(st.integers(4, 25), st.just(d)), elements=st.integers(-3, 3)),
            hnp.arrays(np.int64, st.tuples(st.integers(4, 25), st.just(d)), elements=st.integers(-3, 3)),
        )
    ),
    st.integers(1, 3),
)
def test_precision_recall_are_fractions_and_swap_with_the_sets(pair, k):
    """Integer grids give many ties and duplicates; the properties must still hold."""
    a, b = pair
    precision, recall = precision_recall(a, b, k=k)
    assert 0.0 <= precision <= 1.0 and 0.0 <= recall <= 1.0
    assert precision_recall(b, a, k=k) == (recall, precision)


# --------------------------------------------------------------------------- class coverage


def test_class_coverage_of_uniform_labels():
    out = class_coverage(np.arange(1000) % 10)
    assert out["classes_covered"] == 10
    assert out["kl_to_uniform"] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(out["histogram"], np.full(10, 0.1))


def test_class_coverage_of_one_class():
    out = class_coverage(np.full(500, 7, dtype=np.int32))
    assert out["classes_covered"] == 1
    assert out["kl_to_uniform"] == pytest.approx(math.log(10), rel=1e-12)
    assert out["histogram"][7] == 1.0


def test_class_coverage_takes_the_argmax_of_probabilities_and_counts_one_percent():
    labels = np.array([0] * 98 + [1] * 1 + [2] * 1 + [3] * 0)
    probs = np.full((100, 4), 0.1)
    probs[np.arange(100), labels] = 0.7
    out = class_coverage(probs, n_classes=4)
    assert out["classes_covered"] == 3  # exactly 1 % counts
    np.testing.assert_allclose(out["histogram"], [0.98, 0.01, 0.01, 0.0])
    assert out["kl_to_uniform"] == pytest.approx(kl_divergence([0.98, 0.01, 0.01, 0.0], [0.25] * 4))
    assert class_coverage(probs, n_classes=4, min_fraction=0.02)["classes_covered"] == 1


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.int64, st.integers(1, 200), elements=st.integers(0, 9)))
def test_class_coverage_properties(labels):
    out = class_coverage(labels)
    assert out["histogram"].sum() == pytest.approx(1.0)
    assert 1 <= out["classes_covered"] <= 10
    assert -1e-12 <= out["kl_to_uniform"] <= math.log(10) + 1e-12


# --------------------------------------------------------------------------- 2-D mixtures


def test_mode_coverage_is_the_toy_function():
    assert metrics.mode_coverage is toy.mode_coverage


def test_mixture_metrics_of_true_samples():
    ring = toy.ring_of_gaussians()
    samples = ring.sample(2500, np.random.default_rng(0))
    out = mixture_metrics(samples, ring)
    base = toy.mode_coverage(samples, ring)
    assert out["modes_captured"] == base["modes_captured"] == 8
    assert out["high_quality_fraction"] == base["high_quality_fraction"]
    np.testing.assert_array_equal(out["counts"], base["counts"])
    assert out["high_quality_fraction"] == pytest.approx(1 - math.exp(-4.5), abs=0.01)
    # sampling noise only: E[KL] ~ (K - 1) / (2 N) = 0.0014
    assert 0.0 <= out["reverse_kl"] < 0.01
    assert out["mode_histogram"].sum() == pytest.approx(1.0)


def test_mixture_metrics_of_a_collapsed_generator():
    grid = toy.grid_of_gaussians()
    samples = np.tile(grid.means[12], (100, 1)) + 0.01 * np.random.default_rng(0).standard_normal((100, 2))
    out = mixture_metrics(samples, grid)
    assert out["modes_captured"] == 1 and out["high_quality_fraction"] == 1.0
    assert out["reverse_kl"] == pytest.approx(math.log(25), rel=1e-12)


def test_mixture_metrics_reverse_kl_uses_the_true_weights_and_high_quality_samples_only():
    mix = toy.GaussianMixture2D([[0, 0], [10, 0]], 0.1, weights=[0.25, 0.75])
    good = np.array([[0, 0]] * 25 + [[10, 0]] * 75, dtype=float)
    junk = np.array([[5.0, 5.0]] * 40)  # far from both modes: not high quality
    out = mixture_metrics(np.vstack([good, junk]), mix)
    assert out["reverse_kl"] == pytest.approx(0.0, abs=1e-12)
    assert out["high_quality_fraction"] == pytest.approx(100 / 140)
    uneven = mixture_metrics(np.array([[0, 0]] * 50 + [[10, 0]] * 50, dtype=float), mix)
    assert uneven["reverse_kl"] == pytest.approx(0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75))


def test_mixture_metrics_without_high_quality_samples_gives_nan():
    ring = toy.ring_of_gaussians()
    out = mixture_metrics(np.full((10, 2), 50.0), ring)
    assert out["modes_captured"] == 0 and out["high_quality_fraction"] == 0.0
    assert math.isnan(out["reverse_kl"])
    np.testing.assert_array_equal(out["mode_histogram"], np.zeros(8))


# --------------------------------------------------------------------------- bad input


GOOD = np.random.default_rng(0).standard_normal((20, 3))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: fid_from_features(GOOD, GOOD[:, :2]), ValueError, r"same number of features, got 3 and 2"),
        (lambda: fid_from_features(GOOD[:1], GOOD), ValueError, r"features_a has 1 sample\(s\); a covariance needs at least 2"),
        (lambda: fid_from_features(GOOD[0], GOOD), ValueError, r"features_a must be a 2-D array .* got shape \(3,\)"),
        (lambda: fid_from_features(np.where(GOOD > 1, np.nan, GOOD), GOOD), ValueError, r"features_a contains \d+ NaN or infinite"),
        (lambda: fid_from_features(GOOD, np.full((5, 3), np.inf)), ValueError, r"features_b contains 15 NaN or infinite"),
        (lambda: fid_from_features(GOOD.astype(str), GOOD), TypeError, r"features_a must hold real numbers .* dtype <U"),
        (lambda: fid_from_features(GOOD > 0, GOOD), TypeError, r"features_a must hold real numbers .* dtype bool"),
        (lambda: fid_from_features(GOOD.astype(complex), GOOD), TypeError, r"dtype complex128"),
        (lambda: frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2)), ValueError, r"same dimension"),
        (lambda: frechet_distance(np.zeros(3), np.eye(2), np.zeros(3), np.eye(3)), ValueError, r"sigma1 must be a \(3, 3\) covariance"),
        (lambda: frechet_distance(np.zeros(2), [[1, 1], [0, 1]], np.zeros(2), np.eye(2)), ValueError, r"sigma1 must be symmetric"),
        (lambda: frechet_distance(np.zeros(2), np.eye(2), [np.nan, 0], np.eye(2)), ValueError, r"mu2 contains 1 NaN"),
        (lambda: kid(GOOD, GOOD[:, :1]), ValueError, r"same number of features"),
        (lambda: kid(GOOD[:1], GOOD), ValueError, r"features_a needs at least 2 sample\(s\), got 1"),
        (lambda: kid(GOOD, GOOD, n_subsets=0), ValueError, r"n_subsets must be >= 1, got 0"),
        (lambda: kid(GOOD, GOOD, subset_size=2.5), TypeError, r"subset_size must be an int, got 2.5"),
        (lambda: kid(GOOD, GOOD, gamma=-1.0), ValueError, r"gamma must be a positive finite number"),
        (lambda: kid(GOOD, GOOD, rng="seed"), TypeError, r"rng must be None, an int seed or a numpy.random.Generator, got str"),
        (lambda: inception_score(np.full((10, 4), -0.25) + [0, 0, 0, 1.75]), ValueError, r"probs must be probabilities \(>= 0\).*logits"),
        (lambda: inception_score(np.full((10, 4), 0.3)), ValueError, r"sum to 1 \(within 0.0001\), but row 0 sums to 1.2; pass softmax outputs"),
        (lambda: inception_score(np.full((5, 4), 0.25)), ValueError, r"n_splits=10 needs at least 10 rows of probs, got 5"),
        (lambda: inception_score(np.full(4, 0.25)), ValueError, r"probs must be a 2-D array"),
        (lambda: inception_score(np.full((10, 2), np.nan)), ValueError, r"probs contains 20 NaN"),
        (lambda: precision_recall(GOOD[:3], GOOD), ValueError, r"k=3 must be smaller than the number of samples.*real_features has 3"),
        (lambda: precision_recall(GOOD, GOOD, k=0), ValueError, r"k must be >= 1, got 0"),
        (lambda: precision_recall(GOOD, GOOD[:, :2]), ValueError, r"same number of features"),
        (lambda: precision_recall(GOOD, GOOD.reshape(3, 20, 1)), ValueError, r"fake_features must be a 2-D array"),
        (lambda: class_coverage(np.array([0, 3, 10])), ValueError, r"labels must be in \[0, 10\).*from 0 to 10"),
        (lambda: class_coverage(np.array([0.0, 1.0])), TypeError, r"1-D labels_or_probs must be integer class labels, got dtype float64"),
        (lambda: class_coverage(np.full((5, 3), 1 / 3)), ValueError, r"n_classes=10 columns, got shape \(5, 3\)"),
        (lambda: class_coverage(np.full((5, 10), 0.2)), ValueError, r"must sum to 1"),
        (lambda: class_coverage(np.zeros((2, 2, 2), dtype=int)), ValueError, r"1-D labels or a 2-D"),
        (lambda: class_coverage([1, 2], min_fraction=1.5), ValueError, r"min_fraction must be in \[0, 1\]"),
        (lambda: kl_divergence([0.5, 0.5], [1.0]), ValueError, r"same length"),
        (lambda: mixture_metrics(np.zeros((4, 3)), toy.ring_of_gaussians()), ValueError, r"shape \(n, 2\)"),
    ],
)
def test_bad_input_raises_a_clear_error(call, error, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # e.g. FID's few-samples warning
        with pytest.raises(error, match=match):
            call()
