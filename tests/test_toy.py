"""Unit tests for gan_utils.toy: the 1-D Gaussian mixture and the W1 distance."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from scipy import integrate, stats

from gan_utils.toy import GaussianMixture1D, wasserstein1

BIMODAL = GaussianMixture1D(means=(-2.0, 1.5), stds=(0.5, 0.8), weights=(0.3, 0.7))


def test_is_framework_neutral():
    import subprocess

    code = (
        "import sys, gan_utils.toy; "
        "bad = [m for m in ('torch', 'tensorflow') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "mix",
    [
        BIMODAL,
        GaussianMixture1D(means=(0.0,), stds=(1.0,), weights=(1.0,)),
        GaussianMixture1D(means=(-3, 0, 4), stds=(0.2, 1, 0.5), weights=(0.2, 0.5, 0.3)),
    ],
)
def test_pdf_integrates_to_one(mix):
    total, err = integrate.quad(mix.pdf, -np.inf, np.inf, points=None, limit=200)
    assert total == pytest.approx(1.0, abs=1e-7)
    # Also on a finite grid that contains every component's mass.
    lo = min(m - 10 * s for m, s in zip(mix.means, mix.stds))
    hi = max(m + 10 * s for m, s in zip(mix.means, mix.stds))
    total, _ = integrate.quad(mix.pdf, lo, hi, points=list(mix.means), limit=200)
    assert total == pytest.approx(1.0, abs=1e-9)


def test_pdf_matches_closed_form_and_keeps_shape():
    x = np.linspace(-4, 4, 12).reshape(3, 4)
    expected = 0.3 * stats.norm.pdf(x, -2.0, 0.5) + 0.7 * stats.norm.pdf(x, 1.5, 0.8)
    got = BIMODAL.pdf(x)
    assert got.shape == (3, 4)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert np.ndim(BIMODAL.pdf(0.0)) == 0
    assert np.all(BIMODAL.pdf(np.linspace(-50, 50, 101)) >= 0)


def test_exact_mean_and_var():
    assert BIMODAL.mean() == pytest.approx(0.3 * -2.0 + 0.7 * 1.5)
    second_moment = 0.3 * (0.25 + 4.0) + 0.7 * (0.64 + 2.25)
    assert BIMODAL.var() == pytest.approx(second_moment - BIMODAL.mean() ** 2)


def test_sample_shape_dtype_and_moments():
    x = BIMODAL.sample(200_000, np.random.default_rng(1))
    assert x.shape == (200_000, 1)
    assert x.dtype == np.float32
    # Standard error of the mean is sqrt(var / n) ~ 0.004; allow ~5 standard errors.
    assert x.mean() == pytest.approx(BIMODAL.mean(), abs=0.02)
    assert x.var() == pytest.approx(BIMODAL.var(), rel=0.02)
    # The mixing weight shows up as the fraction of samples on the left mode.
    assert np.mean(x < -0.5) == pytest.approx(0.3, abs=0.01)


def test_same_seed_same_samples_different_seed_different_samples():
    a = BIMODAL.sample(1000, np.random.default_rng(7))
    b = BIMODAL.sample(1000, np.random.default_rng(7))
    c = BIMODAL.sample(1000, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_accepts_numpy_and_list_arguments():
    mix = GaussianMixture1D(
        means=np.array([0.0, 1.0]), stds=[1, 2], weights=np.array([0.25, 0.75])
    )
    assert mix.means == (0.0, 1.0)
    assert mix.n_components == 2
    hash(mix)  # frozen and stored as tuples


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(means=(0.0, 1.0), stds=(1.0,), weights=(0.5, 0.5)), "same length"),
        (dict(means=(0.0,), stds=(1.0,), weights=(0.5, 0.5)), "same length"),
        (dict(means=(0.0, 1.0), stds=(1.0, 0.0), weights=(0.5, 0.5)), "stds"),
        (dict(means=(0.0, 1.0), stds=(1.0, -1.0), weights=(0.5, 0.5)), "stds"),
        (dict(means=(0.0, 1.0), stds=(1.0, 1.0), weights=(1.5, -0.5)), "weights"),
        (dict(means=(0.0, 1.0), stds=(1.0, 1.0), weights=(0.5, 0.6)), "weights"),
        (dict(means=(0.0, 1.0), stds=(1.0, 1.0), weights=(0.4, 0.4)), "weights"),
        (dict(means=(), stds=(), weights=()), "means"),
        (dict(means=(0.0, np.nan), stds=(1.0, 1.0), weights=(0.5, 0.5)), "means"),
    ],
)
def test_invalid_parameters_raise_value_error_naming_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        GaussianMixture1D(**kwargs)


def test_weights_tolerance_is_1e_6():
    GaussianMixture1D(means=(0.0, 1.0), stds=(1.0, 1.0), weights=(0.5, 0.5 + 5e-7))
    with pytest.raises(ValueError, match="weights"):
        GaussianMixture1D(means=(0.0, 1.0), stds=(1.0, 1.0), weights=(0.5, 0.5 + 5e-6))


def test_non_numeric_parameters_raise_type_error():
    with pytest.raises(TypeError, match="means"):
        GaussianMixture1D(means="ab", stds=(1.0, 1.0), weights=(0.5, 0.5))
    with pytest.raises(TypeError, match="stds"):
        GaussianMixture1D(means=(0.0,), stds=("1",), weights=(1.0,))


@pytest.mark.parametrize("n", [0, -3, 2.5, True, "10"])
def test_sample_rejects_bad_n(n):
    with pytest.raises(ValueError, match="n must be a positive int"):
        BIMODAL.sample(n, np.random.default_rng(0))


def test_sample_rejects_legacy_seed_or_int_rng():
    with pytest.raises(TypeError, match="rng"):
        BIMODAL.sample(5, 0)
    with pytest.raises(TypeError, match="rng"):
        BIMODAL.sample(5, np.random.RandomState(0))


@pytest.mark.parametrize("seed", range(5))
def test_wasserstein1_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=300) * rng.uniform(0.5, 2)
    b = rng.standard_t(df=3, size=300) + rng.uniform(-1, 1)
    assert wasserstein1(a, b) == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-12)
    # Unequal sizes fall back to scipy's definition.
    c = rng.normal(size=123)
    assert wasserstein1(a, c) == pytest.approx(stats.wasserstein_distance(a, c), rel=1e-12)


def test_wasserstein1_accepts_column_vectors_and_is_symmetric():
    rng = np.random.default_rng(3)
    a = BIMODAL.sample(500, rng)
    b = BIMODAL.sample(500, rng)
    assert wasserstein1(a, b) == pytest.approx(wasserstein1(a[:, 0], b[:, 0]))
    assert wasserstein1(a, b) == pytest.approx(wasserstein1(b, a))


def test_wasserstein1_zero_for_identical_sets_and_shift_for_shifted_copy():
    rng = np.random.default_rng(4)
    a = rng.normal(size=1000)
    assert wasserstein1(a, a) == 0.0
    assert wasserstein1(a, rng.permutation(a)) == 0.0
    for shift in (0.3, -1.7, 5.0):
        assert wasserstein1(a, a + shift) == pytest.approx(abs(shift), rel=1e-12)


@pytest.mark.parametrize(
    "a, b, match",
    [
        (np.zeros((3, 2)), np.zeros(3), "samples_a"),
        (np.zeros(3), np.zeros((2, 2, 1)), "samples_b"),
        (np.zeros(0), np.zeros(3), "samples_a"),
        (np.zeros(3), np.array([0.0, np.nan, 1.0]), "samples_b"),
    ],
)
def test_wasserstein1_rejects_bad_inputs(a, b, match):
    with pytest.raises(ValueError, match=match):
        wasserstein1(a, b)
