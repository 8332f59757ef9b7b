"""Unit tests for gan_utils.minimax, and agreement with the functions taught in chapter 2.

Closed forms (D*, C(G), JSD, KL), gradients against finite differences, the Dirac-GAN's
eigenvalues against a finite-difference Jacobian, gradient play, input validation, and a
check that every function the notebook defines in full computes the same as the package's.
"""

from __future__ import annotations

import subprocess
import sys

import nbformat
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from gan_utils import REPO_ROOT
from gan_utils import minimax as mm

LOG4 = np.log(4.0)
LOG2 = np.log(2.0)
GRID = np.linspace(-30.0, 30.0, 12_001)
NOTEBOOK = REPO_ROOT / "chapters" / "02_minimax.ipynb"
TEACH_MARKER = "# Taught here; kept in gan_utils.minimax"


def normal(mu, sd, x=GRID):
    return stats.norm.pdf(x, loc=mu, scale=sd)


def epanechnikov(x, shift=0.0):
    u = x - shift
    return np.where(np.abs(u) <= 1, 0.75 * (1 - u**2), 0.0)


def test_is_framework_neutral():
    code = (
        "import sys, gan_utils.minimax, gan_utils.exercises.minimax; "
        "bad = [m for m in ('torch', 'tensorflow') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- D*


def test_optimal_discriminator_closed_forms():
    p = np.array([0.3, 0.1, 0.0, 0.2, 0.0])
    q = np.array([0.1, 0.1, 0.2, 0.0, 0.0])
    np.testing.assert_allclose(mm.optimal_discriminator(p, q), [0.75, 0.5, 0.0, 1.0, 0.5])
    same = normal(0.3, 1.2)
    np.testing.assert_array_equal(mm.optimal_discriminator(same, same), np.full(same.shape, 0.5))


def test_optimal_discriminator_keeps_the_shape():
    p = np.random.default_rng(0).random((3, 4))
    q = np.random.default_rng(1).random((3, 4))
    out = mm.optimal_discriminator(p, q)
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out, p / (p + q))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0, 1e3, allow_nan=False), min_size=1, max_size=20),
    st.lists(st.floats(0, 1e3, allow_nan=False), min_size=1, max_size=20),
)
def test_optimal_discriminator_properties(a, b):
    n = min(len(a), len(b))
    p, q = np.array(a[:n]), np.array(b[:n])
    d = mm.optimal_discriminator(p, q)
    assert np.all((d >= 0) & (d <= 1))
    both = (p + q) > 0
    # swapping the players gives 1 - D* wherever some density has mass
    np.testing.assert_allclose(d[both] + mm.optimal_discriminator(q, p)[both], 1.0, rtol=1e-12)
    np.testing.assert_array_equal(d[~both], 0.5)


# --------------------------------------------------------------------------- C(G), JSD, KL, V


def test_criterion_is_minus_log4_for_equal_densities():
    for p in (normal(0, 1), 0.3 * normal(-2, 0.5) + 0.7 * normal(3, 1.5)):
        assert mm.virtual_training_criterion(p, p, GRID) == pytest.approx(-LOG4, abs=1e-12)
        assert mm.jensen_shannon(p, p, GRID) == pytest.approx(0.0, abs=1e-12)
    # a density with kinks: the trapezoidal rule's mass is 1 - O(h^2), and C = -log 4 * mass
    p = epanechnikov(GRID, 2.0)
    mass = float(np.sum(0.5 * (p[1:] + p[:-1]) * np.diff(GRID)))
    assert mm.virtual_training_criterion(p, p, GRID) == pytest.approx(-LOG4 * mass, abs=1e-14)
    assert mm.jensen_shannon(p, p, GRID) == 0.0


@settings(max_examples=40, deadline=None)
@given(
    mu1=st.floats(-5, 5), sd1=st.floats(0.3, 3), mu2=st.floats(-5, 5), sd2=st.floats(0.3, 3),
)
def test_criterion_equals_minus_log4_plus_two_jsd(mu1, sd1, mu2, sd2):
    p, q = normal(mu1, sd1), normal(mu2, sd2)
    c = mm.virtual_training_criterion(p, q, GRID)
    jsd = mm.jensen_shannon(p, q, GRID)
    assert c == pytest.approx(-LOG4 + 2 * jsd, abs=1e-10)
    assert -LOG4 - 1e-12 <= c <= 1e-12
    assert 0 <= jsd <= LOG2 + 1e-12
    assert jsd == pytest.approx(mm.jensen_shannon(q, p, GRID), abs=1e-12)  # symmetric
    if abs(mu1 - mu2) > 0.1 or abs(sd1 - sd2) > 0.1:  # C(G) = -log 4 only when p_g = p_data
        assert c > -LOG4 + 1e-6


def test_criterion_matches_adaptive_quadrature():
    pdf_a = lambda x: 0.4 * stats.norm.pdf(x, -2, 0.6) + 0.6 * stats.norm.pdf(x, 1.5, 0.8)
    pdf_b = lambda x: stats.norm.pdf(x, 0.5, 1.5)

    def integrand(x):
        a, b = pdf_a(x), pdf_b(x)
        return a * np.log(a / (a + b)) + b * np.log(b / (a + b))

    expected = integrate.quad(integrand, -25, 25, points=[-2, 0.5, 1.5], limit=400, epsabs=1e-13)[0]
    assert mm.virtual_training_criterion(pdf_a(GRID), pdf_b(GRID), GRID) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("shift", [2.0, 3.0, 7.5])
def test_disjoint_supports_give_log2_and_zero(shift):
    x = np.linspace(-2.0, 10.0, 120_001)
    p, q = epanechnikov(x), epanechnikov(x, shift)
    assert mm.jensen_shannon(p, q, x) == pytest.approx(LOG2, abs=1e-8)  # trapezoid: mass 1 - O(h^2)
    assert mm.virtual_training_criterion(p, q, x) == pytest.approx(0.0, abs=1e-12)
    assert mm.kl_divergence(p, q, x) == float("inf")
    np.testing.assert_array_equal(mm.optimal_discriminator(p, q)[p > 0], 1.0)


def test_barely_overlapping_densities_stay_finite():
    # D* rounds to 1 where p_g is 1e-40 of p_data: log(1 - D*) must not become -inf
    c = mm.virtual_training_criterion(normal(0, 1), normal(10, 1), GRID)
    assert np.isfinite(c) and -1e-5 < c < 0


@pytest.mark.parametrize("m1, s1, m2, s2", [(0, 1, 1, 1), (0.5, 0.7, -1, 2.0), (2, 1.5, 2, 0.8)])
def test_kl_matches_the_gaussian_closed_form(m1, s1, m2, s2):
    expected = np.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5
    # a grid on which neither density underflows to 0 (else KL is reported infinite)
    x = np.linspace(-15.0, 15.0, 6001)
    assert mm.kl_divergence(normal(m1, s1, x), normal(m2, s2, x), x) == pytest.approx(expected, abs=1e-9)


def test_kl_is_infinite_where_q_has_no_mass():
    x = np.linspace(-8.0, 8.0, 16001)
    assert mm.kl_divergence(epanechnikov(x), epanechnikov(x, 0.5), x) == float("inf")
    assert np.isfinite(mm.kl_divergence(epanechnikov(x, 0.5), normal(0.5, 1.0, x), x))
    assert mm.kl_divergence(normal(0.5, 1.0, x), epanechnikov(x, 0.5), x) == float("inf")


def test_value_function_is_maximised_by_d_star():
    # a grid short enough that D* stays representably below 1 (1 - D* > 1e-16) everywhere
    x = np.linspace(-10.0, 10.0, 4001)
    p, q = normal(-1, 1, x), normal(1.5, 1, x)
    d_star = mm.optimal_discriminator(p, q)
    c = mm.virtual_training_criterion(p, q, x)
    assert mm.value_function(d_star, p, q, x) == pytest.approx(c, abs=1e-10)
    logit = np.log(d_star) - np.log1p(-d_star)
    for shift in (-1.0, -0.1, 0.1, 1.0):
        assert mm.value_function(1 / (1 + np.exp(-(logit + shift))), p, q, x) < c
    assert mm.value_function(np.full(x.shape, 0.5), p, q, x) == pytest.approx(-LOG4, abs=1e-9)
    zero_on_real = np.where(p > 1e-3, 0.0, 0.5)
    assert mm.value_function(zero_on_real, p, q, x) == -np.inf


# --------------------------------------------------------------------------- losses on logits


def test_log_sigmoid_is_exact_and_stable():
    a = np.linspace(-30, 30, 61)
    reference = np.where(a > 0, -np.log1p(np.exp(-np.abs(a))), a - np.log1p(np.exp(-np.abs(a))))
    np.testing.assert_allclose(mm.log_sigmoid(a), reference, rtol=1e-13)
    out = mm.log_sigmoid([-800.0, 800.0])
    assert out[0] == -800.0 and out[1] == 0.0


def test_value_from_logits_is_minus_bce():
    real, fake = np.array([2.0, 0.5, 1.0, -0.3]), np.array([-1.5, 0.3])
    sig = lambda a: 1 / (1 + np.exp(-a))
    bce = -np.mean(np.log(sig(real))) - np.mean(np.log(1 - sig(fake)))
    assert mm.value_from_logits(real, fake) == pytest.approx(-bce, rel=1e-12)


def test_generator_losses_closed_forms():
    a = np.array([-2.0, 0.0, 1.0, 3.0])
    d = 1 / (1 + np.exp(-a))
    assert mm.generator_loss_saturating(a) == pytest.approx(np.mean(np.log(1 - d)), rel=1e-12)
    assert mm.generator_loss_nonsaturating(a) == pytest.approx(-np.mean(np.log(d)), rel=1e-12)
    assert mm.generator_loss_saturating([0.0]) == pytest.approx(-LOG2)
    assert mm.generator_loss_nonsaturating([0.0]) == pytest.approx(LOG2)
    # batch means, not sums: repeating the batch changes nothing
    assert mm.generator_loss_nonsaturating(np.tile(a, 3)) == pytest.approx(mm.generator_loss_nonsaturating(a))


def test_generator_losses_are_finite_for_huge_logits():
    a = np.array([-800.0, 800.0])
    assert mm.generator_loss_saturating(a) == pytest.approx(-400.0)
    assert mm.generator_loss_nonsaturating(a) == pytest.approx(400.0)


@pytest.mark.parametrize("loss, fn", [
    ("saturating", mm.generator_loss_saturating),
    ("nonsaturating", mm.generator_loss_nonsaturating),
])
def test_logit_gradients_match_finite_differences(loss, fn):
    eps = 1e-6
    for a in np.linspace(-8, 8, 33):
        numeric = (fn([a + eps]) - fn([a - eps])) / (2 * eps)
        assert mm.generator_logit_gradient([a], loss)[0] == pytest.approx(numeric, abs=1e-8)


def test_saturation_in_numbers():
    d = np.array([0.001, 0.01, 0.1, 0.5])
    a = np.log(d / (1 - d))
    np.testing.assert_allclose(mm.generator_logit_gradient(a, "saturating"), -d, rtol=1e-12)
    np.testing.assert_allclose(mm.generator_logit_gradient(a, "nonsaturating"), -(1 - d), rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-700, 700, allow_nan=False), min_size=1, max_size=30))
def test_generator_loss_signs_and_monotonicity(logits):
    a = np.array(logits)
    sat, ns = mm.generator_loss_saturating(a), mm.generator_loss_nonsaturating(a)
    assert np.isfinite(sat) and np.isfinite(ns)
    assert sat <= 0 <= ns
    # both losses decrease when every logit grows (the generator wants D(G(z)) up)
    assert mm.generator_loss_saturating(a + 1) <= sat and mm.generator_loss_nonsaturating(a + 1) <= ns
    assert np.all(mm.generator_logit_gradient(a, "saturating") <= 0)
    assert np.all(mm.generator_logit_gradient(a, "nonsaturating") <= 0)


# --------------------------------------------------------------------------- games


def _fd_jacobian(gamma, point=(0.0, 0.0), eps=1e-6):
    cols = []
    for step in (np.array([eps, 0.0]), np.array([0.0, eps])):
        plus = np.array(mm.dirac_gan_field(point[0] + step[0], point[1] + step[1], gamma), dtype=float)
        minus = np.array(mm.dirac_gan_field(point[0] - step[0], point[1] - step[1], gamma), dtype=float)
        cols.append((plus - minus) / (2 * eps))
    return np.column_stack(cols)


def _sorted(z):
    return np.array(sorted(z, key=lambda w: (round(w.imag, 9), round(w.real, 9))))


@pytest.mark.parametrize("gamma", [0.0, 0.3, 1.0, 2.5])
def test_dirac_jacobian_matches_finite_differences_and_formula(gamma):
    analytic = mm.dirac_gan_jacobian(gamma)
    np.testing.assert_allclose(_fd_jacobian(gamma), analytic, atol=1e-8)
    eig = _sorted(np.linalg.eigvals(analytic))
    np.testing.assert_allclose(eig, _sorted(np.linalg.eigvals(_fd_jacobian(gamma))), atol=1e-6)
    formula = [-gamma / 2 + s * np.sqrt(complex(gamma**2 / 4 - mm.F_PRIME_0**2)) for s in (-1, 1)]
    np.testing.assert_allclose(eig, _sorted(formula), atol=1e-12)


def test_unregularised_dirac_eigenvalues_are_purely_imaginary():
    eig = _sorted(np.linalg.eigvals(mm.dirac_gan_jacobian(0.0)))
    np.testing.assert_allclose(eig, [-0.5j, 0.5j], atol=1e-15)


@settings(max_examples=40, deadline=None)
@given(st.floats(1e-3, 10.0))
def test_r1_makes_every_real_part_negative(gamma):
    eig = np.linalg.eigvals(mm.dirac_gan_jacobian(gamma))
    assert np.all(eig.real < 0)
    assert np.all(np.linalg.eigvals(_fd_jacobian(gamma)).real < 0)


def test_dirac_field_vanishes_at_the_equilibrium_only_there():
    assert np.allclose(mm.dirac_gan_field(0.0, 0.0, 0.3), 0.0)
    v = np.array(mm.dirac_gan_field(0.5, -0.2), dtype=float)
    assert np.linalg.norm(v) > 0.05
    theta, psi = np.meshgrid(np.linspace(-2, 2, 5), np.linspace(-2, 2, 7))
    v_theta, v_psi = mm.dirac_gan_field(theta, psi)
    assert v_theta.shape == v_psi.shape == (7, 5)


def test_xy_game_simultaneous_radius_grows_exactly():
    h, steps = 0.1, 200
    path = mm.play_game(mm.xy_game_field, (1.0, 0.0), h, steps, "simultaneous")
    assert path.shape == (steps + 1, 2)
    radius = np.hypot(path[:, 0], path[:, 1])
    np.testing.assert_allclose(radius, (1 + h**2) ** (np.arange(steps + 1) / 2), rtol=1e-12)


def test_xy_game_alternating_stays_bounded():
    path = mm.play_game(mm.xy_game_field, (1.0, 0.0), 0.1, 2000, "alternating")
    radius = np.hypot(path[:, 0], path[:, 1])
    assert 0.9 < radius.min() and radius.max() < 1.1


def test_dirac_gan_trajectories():
    def run(gamma, mode):
        path = mm.play_game(lambda t, p: mm.dirac_gan_field(t, p, gamma), (1.0, 1.0), 0.2, 500, mode)
        return np.hypot(path[:, 0], path[:, 1])

    start = np.sqrt(2)
    assert run(0.0, "simultaneous")[-1] > 2 * start          # spirals out
    assert abs(run(0.0, "alternating")[-1] - start) < 0.05   # cycles
    assert run(0.3, "simultaneous")[-1] < 1e-4               # R1 converges
    assert run(0.3, "alternating")[-1] < 1e-4


# --------------------------------------------------------------------------- input validation

P = normal(0, 1)


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        (lambda: mm.optimal_discriminator([0.1, -0.2], [0.1, 0.1]), ValueError, r"p_data .*>= 0.*-0\.2"),
        (lambda: mm.optimal_discriminator([0.1, 0.2], [0.1, 0.1, 0.3]), ValueError, r"p_data and p_g .*same shape.*\(2,\).*\(3,\)"),
        (lambda: mm.optimal_discriminator([0.1, np.nan], [0.1, 0.1]), ValueError, r"p_data contains NaN"),
        (lambda: mm.optimal_discriminator([0.1, 0.2], [np.inf, 0.1]), ValueError, r"p_g contains infinite"),
        (lambda: mm.optimal_discriminator("0.1", [0.1]), TypeError, r"p_data must be an array of numbers, got str"),
        (lambda: mm.optimal_discriminator([0.1], None), TypeError, r"p_g must be an array of numbers, got NoneType"),
        (lambda: mm.optimal_discriminator([True], [0.1]), TypeError, r"p_data .*booleans"),
        (lambda: mm.optimal_discriminator([], []), ValueError, r"p_data must not be empty"),
        (lambda: mm.optimal_discriminator([["a"]], [[0.1]]), TypeError, r"p_data must be an array of numbers"),
        (lambda: mm.jensen_shannon(P, P, GRID[::-1]), ValueError, r"x must be strictly increasing"),
        (lambda: mm.jensen_shannon(P, P, GRID[:-1]), ValueError, r"x has 12000 points but the densities have 12001"),
        (lambda: mm.jensen_shannon(P, P, [[0.0, 1.0]]), ValueError, r"x must be a 1-D grid"),
        (lambda: mm.virtual_training_criterion(normal(0, 1, GRID[:6000]), normal(0, 1, GRID[:6000]), GRID[:6000]),
         ValueError, r"p_data integrates to 0\.49.*widen"),
        (lambda: mm.kl_divergence(P, 2 * P, GRID), ValueError, r"q integrates to 2"),
        (lambda: mm.value_function(np.full(GRID.shape, 1.5), P, P, GRID), ValueError, r"d holds probabilities.*\[0, 1\].*1\.5"),
        (lambda: mm.value_function(np.full(3, 0.5), P, P, GRID), ValueError, r"d and p_data .*same shape"),
        (lambda: mm.generator_loss_saturating([np.nan]), ValueError, r"fake_logits contains NaN"),
        (lambda: mm.generator_loss_nonsaturating([]), ValueError, r"fake_logits must not be empty"),
        (lambda: mm.generator_logit_gradient([1.0], "minimax"), ValueError, r"loss must be one of .*'minimax'"),
        (lambda: mm.value_from_logits([1.0], "x"), TypeError, r"fake_logits must be an array"),
        (lambda: mm.dirac_gan_field(1.0, 1.0, gamma=-0.1), ValueError, r"gamma must be >= 0, got -0\.1"),
        (lambda: mm.dirac_gan_field(1.0, 1.0, gamma="big"), TypeError, r"gamma must be a real number, got str"),
        (lambda: mm.dirac_gan_jacobian(np.nan), ValueError, r"gamma must be finite"),
        (lambda: mm.play_game(mm.xy_game_field, (1.0, 0.0), 0.1, 10, "sequential"), ValueError, r"mode must be one of .*'sequential'"),
        (lambda: mm.play_game(mm.xy_game_field, (1.0, 0.0), 0.0, 10), ValueError, r"lr must be > 0, got 0\.0"),
        (lambda: mm.play_game(mm.xy_game_field, (1.0, 0.0, 2.0), 0.1, 10), ValueError, r"start must hold 2 numbers.*\(3,\)"),
        (lambda: mm.play_game(mm.xy_game_field, (1.0, 0.0), 0.1, 0), ValueError, r"steps must be a positive int, got 0"),
        (lambda: mm.play_game(mm.xy_game_field, (1.0, 0.0), 0.1, 2.5), ValueError, r"steps must be a positive int, got 2\.5"),
        (lambda: mm.play_game("xy", (1.0, 0.0), 0.1, 10), TypeError, r"field must be a function.*got str"),
    ],
)
def test_invalid_inputs_raise_clear_errors(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_error_messages_name_the_function():
    with pytest.raises(ValueError, match=r"^optimal_discriminator: "):
        mm.optimal_discriminator([-1.0], [1.0])
    with pytest.raises(ValueError, match=r"^virtual_training_criterion: "):
        mm.virtual_training_criterion([-1.0, 1.0], [1.0, 1.0], [0.0, 1.0])


# --------------------------------------------------------------------------- the notebook's versions


@pytest.fixture(scope="module")
def taught():
    """Execute the cells of chapter 2 that define the taught functions, in order, in one namespace."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = [c.source for c in nb.cells if c.cell_type == "code" and c.source.startswith(TEACH_MARKER)]
    assert cells, f"no cell of {NOTEBOOK.name} starts with {TEACH_MARKER!r}"
    namespace = {"np": np}
    for source in cells:
        exec(compile(source, str(NOTEBOOK), "exec"), namespace)
    return namespace


TAUGHT = [
    "log_sigmoid", "value_from_logits", "optimal_discriminator", "kl_divergence", "jensen_shannon",
    "value_function", "virtual_training_criterion", "generator_loss_saturating",
    "generator_loss_nonsaturating", "generator_logit_gradient", "xy_game_field", "play_game",
    "dirac_gan_field", "dirac_gan_jacobian",
]


def test_the_notebook_teaches_every_package_function(taught):
    missing = [name for name in TAUGHT if name not in taught]
    assert not missing, f"chapter 2 does not define {missing} in a taught cell"
    assert set(TAUGHT) | {"F_PRIME_0"} == set(mm.__all__)
    assert taught["F_PRIME_0"] == mm.F_PRIME_0


def _random_density_pair(rng):
    mus, sds = rng.uniform(-4, 4, 3), rng.uniform(0.3, 2.5, 3)
    w = rng.dirichlet(np.ones(3))
    p = sum(wk * normal(m, s) for wk, m, s in zip(w, mus, sds))
    q = normal(rng.uniform(-4, 4), rng.uniform(0.3, 2.5))
    return p, q


@pytest.mark.parametrize("seed", range(5))
def test_notebook_and_package_agree_on_densities(taught, seed):
    rng = np.random.default_rng(seed)
    p, q = _random_density_pair(rng)
    raw_p, raw_q = rng.random(50) * (rng.random(50) > 0.3), rng.random(50) * (rng.random(50) > 0.3)
    np.testing.assert_allclose(taught["optimal_discriminator"](raw_p, raw_q), mm.optimal_discriminator(raw_p, raw_q))
    np.testing.assert_allclose(taught["optimal_discriminator"](p, q), mm.optimal_discriminator(p, q))
    for name in ("kl_divergence", "jensen_shannon", "virtual_training_criterion"):
        assert taught[name](p, q, GRID) == pytest.approx(getattr(mm, name)(p, q, GRID), rel=1e-12, abs=1e-12), name
    d = rng.uniform(0.01, 0.99, GRID.shape)
    assert taught["value_function"](d, p, q, GRID) == pytest.approx(mm.value_function(d, p, q, GRID), rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_notebook_and_package_agree_on_logits(taught, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 10, 64) * rng.choice([1, 100], 64)
    b = rng.normal(0, 5, 32)
    np.testing.assert_array_equal(taught["log_sigmoid"](a), mm.log_sigmoid(a))
    assert taught["value_from_logits"](a, b) == pytest.approx(mm.value_from_logits(a, b), rel=1e-14)
    for name in ("generator_loss_saturating", "generator_loss_nonsaturating"):
        assert taught[name](a) == pytest.approx(getattr(mm, name)(a), rel=1e-14), name
    for loss in ("saturating", "nonsaturating"):
        np.testing.assert_allclose(taught["generator_logit_gradient"](a, loss), mm.generator_logit_gradient(a, loss), rtol=1e-14)


@pytest.mark.parametrize("seed", range(3))
def test_notebook_and_package_agree_on_games(taught, seed):
    rng = np.random.default_rng(seed)
    theta, psi = rng.normal(0, 2, (6, 6)), rng.normal(0, 2, (6, 6))
    gamma = float(rng.uniform(0, 2))
    for mine, theirs in zip(taught["dirac_gan_field"](theta, psi, gamma), mm.dirac_gan_field(theta, psi, gamma)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-14, atol=1e-15)
    np.testing.assert_array_equal(taught["dirac_gan_jacobian"](gamma), mm.dirac_gan_jacobian(gamma))
    for mine, theirs in zip(taught["xy_game_field"](theta, psi), mm.xy_game_field(theta, psi)):
        np.testing.assert_array_equal(mine, theirs)
    start, lr = tuple(rng.normal(0, 1, 2)), float(rng.uniform(0.05, 0.3))
    for mode in ("simultaneous", "alternating"):
        field = lambda t, p, g=gamma: taught["dirac_gan_field"](t, p, g)
        field_pkg = lambda t, p, g=gamma: mm.dirac_gan_field(t, p, g)
        np.testing.assert_allclose(taught["play_game"](field, start, lr, 200, mode),
                                   mm.play_game(field_pkg, start, lr, 200, mode), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(taught["play_game"](taught["xy_game_field"], start, lr, 100, mode),
                                   mm.play_game(mm.xy_game_field, start, lr, 100, mode), rtol=1e-12, atol=1e-14)
