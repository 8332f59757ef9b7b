"""Unit tests for the 2-D part of gan_utils.toy: ring and grid mixtures, mode coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gan_utils.toy import GaussianMixture2D, grid_of_gaussians, mode_coverage, ring_of_gaussians


def test_ring_modes_sit_on_the_circle_at_2_pi_i_over_n():
    ring = ring_of_gaussians()
    assert ring.n_components == 8 and ring.means.shape == (8, 2)
    angles = 2 * np.pi * np.arange(8) / 8
    np.testing.assert_allclose(ring.means, np.stack([np.cos(angles), np.sin(angles)], 1), atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(ring.means, axis=1), 1.0)
    assert ring.std == 0.01 and np.all(ring.stds == 0.01)
    np.testing.assert_allclose(ring.weights, 1 / 8)
    bigger = ring_of_gaussians(n_modes=5, radius=2.0, std=0.1)
    np.testing.assert_allclose(np.linalg.norm(bigger.means, axis=1), 2.0)


def test_the_duplicate_mode_bug_is_absent():
    """np.linspace(0, 2 pi, 8) puts mode 0 and mode 7 on the same point; 2 pi i / 8 does not."""
    ring = ring_of_gaussians()
    assert len(np.unique(ring.means.round(9), axis=0)) == 8
    gaps = np.linalg.norm(ring.means - np.roll(ring.means, 1, axis=0), axis=1)
    np.testing.assert_allclose(gaps, 2 * np.sin(np.pi / 8))  # equal spacing all round
    buggy = np.linspace(0, 2 * np.pi, 8)
    assert len(np.unique(np.stack([np.cos(buggy), np.sin(buggy)], 1).round(9), axis=0)) == 7


def test_grid_modes():
    grid = grid_of_gaussians()
    assert grid.n_components == 25 and grid.std == 0.05
    assert sorted(set(grid.means[:, 0])) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert {tuple(m) for m in grid.means} == {(x, y) for x in (-4.0, -2.0, 0.0, 2.0, 4.0) for y in (-4.0, -2.0, 0.0, 2.0, 4.0)}
    np.testing.assert_array_equal(grid_of_gaussians(side=2, spacing=1.0).means, [[-0.5, -0.5], [-0.5, 0.5], [0.5, -0.5], [0.5, 0.5]])


def test_sampling_statistics():
    ring = ring_of_gaussians()
    x = ring.sample(40000, np.random.default_rng(0))
    assert x.shape == (40000, 2) and x.dtype == np.float32
    labels = ring.component_of(x)
    assert labels.dtype == np.int64
    freq = np.bincount(labels, minlength=8) / len(x)
    np.testing.assert_allclose(freq, 1 / 8, atol=0.01)
    for k in range(8):
        own = x[labels == k] - ring.means[k]
        np.testing.assert_allclose(own.mean(0), 0.0, atol=0.001)
        np.testing.assert_allclose(own.std(0), 0.01, rtol=0.05)
    assert np.array_equal(ring.sample(5, np.random.default_rng(3)), ring.sample(5, np.random.default_rng(3)))


def test_weights_and_per_mode_stds_are_honoured():
    mix = GaussianMixture2D([[0, 0], [10, 0]], std=[0.1, 1.0], weights=[0.2, 0.8])
    x = mix.sample(20000, np.random.default_rng(1))
    labels = mix.component_of(x)
    assert np.mean(labels == 0) == pytest.approx(0.2, abs=0.01)
    assert x[labels == 1].std(0) == pytest.approx([1.0, 1.0], rel=0.05)
    # The nearest mode is measured in each mode's own std (Mahalanobis), not in plain distance.
    assert mix.component_of([[1.0, 0.0]])[0] == 1  # 10 stds from mode 0, 9 stds from mode 1


def test_pdf_integrates_to_one():
    mix = GaussianMixture2D([[0, 0], [1, 0]], std=0.2, weights=[0.3, 0.7])
    xs = np.linspace(-2, 3, 401)
    xx, yy = np.meshgrid(xs, xs)
    dens = mix.pdf(np.stack([xx.ravel(), yy.ravel()], 1))
    assert dens.sum() * (xs[1] - xs[0]) ** 2 == pytest.approx(1.0, abs=1e-4)


def test_perfect_samples_capture_every_mode_with_98_9_percent_high_quality():
    """In 2-D, P(|x - mu| < 3 std) = 1 - exp(-9/2) = 98.89 % (literature-anchors §1.1, derived)."""
    expected = 1 - math.exp(-4.5)
    for mix in (ring_of_gaussians(), grid_of_gaussians()):
        x = mix.sample(200000, np.random.default_rng(2))
        cov = mode_coverage(x, mix)
        assert cov["modes_captured"] == mix.n_components
        assert cov["high_quality_fraction"] == pytest.approx(expected, abs=0.002)
        assert cov["counts"].shape == (mix.n_components,) and cov["counts"].sum() == round(cov["high_quality_fraction"] * len(x))
    # A looser radius accepts more: 1 - exp(-n^2 / 2).
    x = ring_of_gaussians().sample(100000, np.random.default_rng(4))
    assert mode_coverage(x, ring_of_gaussians(), n_std=2.0)["high_quality_fraction"] == pytest.approx(1 - math.exp(-2), abs=0.004)


def test_collapsed_samples_capture_one_mode():
    ring = ring_of_gaussians()
    rng = np.random.default_rng(5)
    collapsed = ring.means[3] + 0.005 * rng.standard_normal((2500, 2))
    cov = mode_coverage(collapsed, ring)
    assert cov["modes_captured"] == 1 and cov["high_quality_fraction"] == 1.0
    assert cov["counts"][3] == 2500 and cov["counts"].sum() == 2500


def test_samples_between_modes_are_low_quality_and_capture_nothing():
    ring = ring_of_gaussians()
    origin = np.zeros((100, 2))
    cov = mode_coverage(origin, ring)
    assert cov == {"modes_captured": 0, "high_quality_fraction": 0.0, "counts": cov["counts"]}
    assert not cov["counts"].any()
    # Exactly on the boundary: 3 std is *not* high quality (PacGAN's rule is distance < 3).
    edge = ring.means[:1] + [[0.0, 0.0300001]]
    assert mode_coverage(edge, ring)["modes_captured"] == 0
    inside = ring.means[:1] + [[0.0, 0.0299]]
    assert mode_coverage(inside, ring)["modes_captured"] == 1


@pytest.mark.parametrize(
    "call, error, fragment",
    [
        (lambda: GaussianMixture2D([[0, 0, 0]], std=1.0), ValueError, "means must have shape (K, 2)"),
        (lambda: GaussianMixture2D(np.zeros((0, 2)), std=1.0), ValueError, "K >= 1"),
        (lambda: GaussianMixture2D([[0, np.nan]], std=1.0), ValueError, "means must be finite"),
        (lambda: GaussianMixture2D([[0, 0]], std=0.0), ValueError, "std must be finite and > 0"),
        (lambda: GaussianMixture2D([[0, 0]], std="wide"), TypeError, "std must be a positive number"),
        (lambda: GaussianMixture2D([[0, 0], [1, 1]], std=[1.0, 2.0, 3.0]), ValueError, "std must be one number or 2 numbers"),
        (lambda: GaussianMixture2D([[0, 0], [1, 1]], std=1.0, weights=[0.5, 0.6]), ValueError, "weights must sum to 1"),
        (lambda: GaussianMixture2D([[0, 0], [1, 1]], std=1.0, weights=[1.0]), ValueError, "weights must have shape (2,)"),
        (lambda: GaussianMixture2D([[0, 0], [1, 1]], std=1.0, weights=[1.5, -0.5]), ValueError, ">= 0"),
        (lambda: ring_of_gaussians(n_modes=0), ValueError, "n_modes must be a positive int"),
        (lambda: ring_of_gaussians(radius=-1.0), ValueError, "radius must be a positive finite number"),
        (lambda: grid_of_gaussians(side=2.5), ValueError, "side must be a positive int"),
        (lambda: grid_of_gaussians(spacing=0), ValueError, "spacing must be a positive finite number"),
        (lambda: ring_of_gaussians().sample(0, np.random.default_rng(0)), ValueError, "n must be a positive int"),
        (lambda: ring_of_gaussians().sample(3, 0), TypeError, "rng must be a numpy.random.Generator"),
        (lambda: ring_of_gaussians().component_of(np.zeros(4)), ValueError, "points must have shape (n, 2)"),
        (lambda: mode_coverage(np.zeros((3, 3)), ring_of_gaussians()), ValueError, "samples must have shape (n, 2)"),
        (lambda: mode_coverage(np.full((3, 2), np.nan), ring_of_gaussians()), ValueError, "NaN or inf"),
        (lambda: mode_coverage(np.zeros((3, 2)), "ring"), TypeError, "mixture must be a GaussianMixture2D"),
        (lambda: mode_coverage(np.zeros((3, 2)), ring_of_gaussians(), n_std=0), ValueError, "n_std must be a positive"),
    ],
)
def test_validation(call, error, fragment):
    with pytest.raises(error) as info:
        call()
    assert fragment in str(info.value)


def test_arrays_are_read_only():
    ring = ring_of_gaussians()
    with pytest.raises(ValueError):
        ring.means[0, 0] = 5.0
