"""The minimax game of GANs in NumPy: optimal discriminator, C(G), JSD, generator losses, games.

Chapter 2 teaches each of these functions in full (the notebook shows the code, a test
checks that the notebook's version and this one agree); later chapters import them from
here.  Everything is framework-neutral: NumPy only, no PyTorch, no TensorFlow.

Conventions
-----------
* Densities are arrays of values ``p(x_i)`` on a 1-D grid ``x`` (strictly increasing);
  integrals over the grid use the trapezoidal rule, so the grid must cover the mass of
  both densities.  Logarithms are natural (nats).
* Losses take *logits* ``a`` (the discriminator's output before the sigmoid), so that
  ``D = sigmoid(a)``; every log-probability is computed as a stable log-sigmoid, never as
  ``log(sigmoid(a))``, which overflows to ``-inf`` for large ``|a|``.
* In the games, the first player *minimises* the value (the generator, ``x``, ``theta``)
  and the second *maximises* it (the discriminator, ``y``, ``psi``).  A *field* returns the
  direction each player moves in: ``(-dV/d(first), +dV/d(second))``.

Used in chapter 2 (and 7).
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Callable

import numpy as np

__all__ = [
    "F_PRIME_0",
    "log_sigmoid",
    "optimal_discriminator",
    "value_function",
    "virtual_training_criterion",
    "kl_divergence",
    "jensen_shannon",
    "value_from_logits",
    "generator_loss_saturating",
    "generator_loss_nonsaturating",
    "generator_logit_gradient",
    "xy_game_field",
    "dirac_gan_field",
    "dirac_gan_jacobian",
    "play_game",
]

#: ``f'(0)`` for the standard GAN's ``f(t) = -log(1 + exp(-t))`` in the Dirac-GAN: ``sigmoid(0)``.
F_PRIME_0 = 0.5

#: How far from 1 a density may integrate on its grid before we say the grid is too short.
_MASS_TOLERANCE = 1e-3

_GENERATOR_LOSSES = ("saturating", "nonsaturating")
_GAME_MODES = ("simultaneous", "alternating")


# --------------------------------------------------------------------------- validation


def _as_float_array(where: str, name: str, value: object) -> np.ndarray:
    """``value`` as a float64 array, or a TypeError/ValueError naming ``name``."""
    if value is None or isinstance(value, (str, bytes, bool)):
        raise TypeError(f"{where}: {name} must be an array of numbers, got {type(value).__name__}.")
    if hasattr(value, "detach"):  # a torch.Tensor: accept it, as gan_utils.exercises does
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{where}: {name} must be an array of numbers, got {type(value).__name__} ({error})."
        ) from None
    if array.dtype == bool or np.asarray(value).dtype == bool:
        raise TypeError(f"{where}: {name} must be an array of numbers, got booleans.")
    if array.size == 0:
        raise ValueError(f"{where}: {name} must not be empty, got shape {array.shape}.")
    if np.isnan(array).any():
        raise ValueError(f"{where}: {name} contains NaN at {int(np.isnan(array).sum())} position(s).")
    if np.isinf(array).any():
        raise ValueError(f"{where}: {name} contains infinite values; expected finite numbers.")
    return array


def _as_density(where: str, name: str, value: object) -> np.ndarray:
    array = _as_float_array(where, name, value)
    if (array < 0).any():
        raise ValueError(
            f"{where}: {name} is a density and must be >= 0 everywhere, got a minimum of "
            f"{array.min():.6g}."
        )
    return array


def _same_shape(where: str, names: tuple[str, str], a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{where}: {names[0]} and {names[1]} must have the same shape, got {a.shape} and {b.shape}."
        )


def _as_grid(where: str, x: object, n: int) -> np.ndarray:
    grid = _as_float_array(where, "x", x)
    if grid.ndim != 1 or grid.size < 2:
        raise ValueError(f"{where}: x must be a 1-D grid of at least 2 points, got shape {grid.shape}.")
    if grid.size != n:
        raise ValueError(
            f"{where}: x has {grid.size} points but the densities have {n} values; expected one "
            "density value per grid point."
        )
    if not (np.diff(grid) > 0).all():
        raise ValueError(f"{where}: x must be strictly increasing.")
    return grid


def _densities_on_grid(where: str, names: tuple[str, str], p: object, q: object, x: object):
    p = _as_density(where, names[0], p)
    q = _as_density(where, names[1], q)
    _same_shape(where, names, p, q)
    if p.ndim != 1:
        raise ValueError(f"{where}: {names[0]} must be 1-D (one value per grid point), got shape {p.shape}.")
    grid = _as_grid(where, x, p.size)
    for name, density in zip(names, (p, q)):
        mass = _trapezoid(density, grid)
        if abs(mass - 1.0) > _MASS_TOLERANCE:
            raise ValueError(
                f"{where}: {name} integrates to {mass:.6g} on the grid x, expected 1 (within "
                f"{_MASS_TOLERANCE:g}); widen or refine the grid so it covers the density's mass."
            )
    return p, q, grid


def _trapezoid(values: np.ndarray, x: np.ndarray) -> float:
    return float(np.sum(0.5 * (values[1:] + values[:-1]) * np.diff(x)))


def _xlogy(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a * log(b)`` with the convention ``0 * log(anything) = 0``."""
    out = np.zeros(np.broadcast(a, b).shape)
    mask = np.broadcast_to(a != 0, out.shape)
    with np.errstate(divide="ignore"):
        out[mask] = (np.broadcast_to(a, out.shape)[mask]) * np.log(np.broadcast_to(b, out.shape)[mask])
    return out


def _as_real(where: str, name: str, value: object, *, minimum: float | None = None,
             strictly: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        raise TypeError(f"{where}: {name} must be a real number, got {type(value).__name__}.")
    number = float(value)
    if not np.isfinite(number):
        raise ValueError(f"{where}: {name} must be finite, got {number!r}.")
    if minimum is not None and (number <= minimum if strictly else number < minimum):
        relation = ">" if strictly else ">="
        raise ValueError(f"{where}: {name} must be {relation} {minimum:g}, got {number!r}.")
    return number


# --------------------------------------------------------------------------- building blocks


def log_sigmoid(a):
    """``log(sigmoid(a))`` computed stably as ``-log(1 + exp(-a))`` (``-np.logaddexp(0, -a)``).

    Exact for every finite ``a``: ``log_sigmoid(-800)`` is ``-800``, where
    ``np.log(1 / (1 + np.exp(800)))`` overflows to ``-inf``.  Note ``log(1 - sigmoid(a)) =
    log_sigmoid(-a)``.  Used in chapter 2 (and 7).
    """
    a = _as_float_array("log_sigmoid", "a", a)
    return -np.logaddexp(0.0, -a)


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -a))


# --------------------------------------------------------------------------- densities


def optimal_discriminator(p_data, p_g):
    """The optimal discriminator for a fixed generator: ``D*(x) = p_data(x) / (p_data(x) + p_g(x))``.

    ``p_data`` and ``p_g`` are arrays of density values at the same points (any shape, the
    same for both, all >= 0).  Where both densities are 0 every value of ``D`` is optimal
    (those points carry no weight in ``V``); we return 1/2 there.  Used in chapter 2 (and 7).

    >>> optimal_discriminator([0.3, 0.1, 0.0], [0.1, 0.1, 0.2]).tolist()
    [0.75, 0.5, 0.0]
    """
    where = "optimal_discriminator"
    p_data = _as_density(where, "p_data", p_data)
    p_g = _as_density(where, "p_g", p_g)
    _same_shape(where, ("p_data", "p_g"), p_data, p_g)
    total = p_data + p_g
    safe = np.where(total > 0, total, 1.0)
    return np.where(total > 0, p_data / safe, 0.5)


def value_function(d, p_data, p_g, x):
    """``V(D, G) = E_{p_data}[log D(x)] + E_{p_g}[log(1 - D(x))]`` by quadrature on the grid ``x``.

    ``d`` holds the discriminator's outputs ``D(x_i)`` in [0, 1]; ``p_data`` and ``p_g`` the
    densities on the strictly increasing grid ``x`` (each must integrate to 1 there, within
    1e-3).  Written in terms of the densities of real and generated samples, i.e. the
    ``E_z[log(1 - D(G(z)))]`` term after the change of variables ``x = G(z)``.  Returns
    ``-inf`` when ``D`` is 0 where real data has mass (or 1 where generated data has mass).
    Used in chapter 2 (and 7).
    """
    where = "value_function"
    p_data, p_g, grid = _densities_on_grid(where, ("p_data", "p_g"), p_data, p_g, x)
    d = _as_float_array(where, "d", d)
    _same_shape(where, ("d", "p_data"), d, p_data)
    if (d < 0).any() or (d > 1).any():
        raise ValueError(
            f"{where}: d holds probabilities and must lie in [0, 1], got values in "
            f"[{d.min():.6g}, {d.max():.6g}]."
        )
    integrand = _xlogy(p_data, d) + _xlogy(p_g, 1.0 - d)
    return _trapezoid(integrand, grid)


def virtual_training_criterion(p_data, p_g, x):
    """``C(G) = max_D V(D, G) = V(D*, G)`` by quadrature on the grid ``x`` (nats).

    Goodfellow et al. (2014) call it the virtual training criterion; it equals
    ``-log 4 + 2 * JSD(p_data || p_g)``, lies in ``[-log 4, 0]`` and is ``-log 4`` exactly
    when ``p_g = p_data``.  Used in chapter 2 (and 7).
    """
    where = "virtual_training_criterion"
    p_data, p_g, grid = _densities_on_grid(where, ("p_data", "p_g"), p_data, p_g, x)
    # log D* and log(1 - D*) as log(p / (p_data + p_g)): 1 - D* by subtraction rounds to 0
    # (and its log to -inf) wherever D* is within 1e-16 of 1.
    total = np.where(p_data + p_g > 0, p_data + p_g, 1.0)
    integrand = _xlogy(p_data, p_data / total) + _xlogy(p_g, p_g / total)
    return _trapezoid(integrand, grid)


def kl_divergence(p, q, x):
    """``KL(p || q) = integral of p log(p / q)`` on the grid ``x`` (nats).

    ``inf`` when ``p`` has mass where ``q`` has none.  Used in chapter 2 (and 7).
    """
    where = "kl_divergence"
    p, q, grid = _densities_on_grid(where, ("p", "q"), p, q, x)
    if ((p > 0) & (q == 0)).any():
        return float("inf")
    safe_q = np.where(q > 0, q, 1.0)
    integrand = _xlogy(p, p) - _xlogy(p, safe_q)
    return _trapezoid(integrand, grid)


def jensen_shannon(p, q, x):
    """Jensen-Shannon divergence ``JSD(p || q) = KL(p || m)/2 + KL(q || m)/2``, ``m = (p + q)/2``.

    Computed by quadrature on the grid ``x``, in nats: symmetric, 0 iff ``p = q`` and at most
    ``log 2`` (reached for disjoint supports).  Used in chapter 2 (and 7).
    """
    where = "jensen_shannon"
    p, q, grid = _densities_on_grid(where, ("p", "q"), p, q, x)
    m = 0.5 * (p + q)
    safe_m = np.where(m > 0, m, 1.0)
    integrand = 0.5 * (_xlogy(p, p) - _xlogy(p, safe_m)) + 0.5 * (_xlogy(q, q) - _xlogy(q, safe_m))
    return _trapezoid(integrand, grid)


# --------------------------------------------------------------------------- losses on logits


def value_from_logits(real_logits, fake_logits):
    """The empirical value ``mean log D(x) + mean log(1 - D(G(z)))`` from discriminator logits.

    ``real_logits`` are the logits on real samples, ``fake_logits`` on generated ones
    (``D = sigmoid(logit)``).  The discriminator *maximises* this; its binary cross-entropy
    loss is exactly minus this number.  Used in chapter 2 (and 7).
    """
    where = "value_from_logits"
    real = _as_float_array(where, "real_logits", real_logits)
    fake = _as_float_array(where, "fake_logits", fake_logits)
    return float(np.mean(-np.logaddexp(0.0, -real)) + np.mean(-np.logaddexp(0.0, fake)))


def generator_loss_saturating(fake_logits):
    """The minimax (saturating) generator loss ``mean log(1 - D(G(z)))`` from logits.

    The generator *minimises* it; it equals ``mean log_sigmoid(-a)`` and is negative.  Its
    gradient vanishes when the discriminator confidently rejects the fakes (``a -> -inf``).
    Used in chapter 2 (and 7).
    """
    a = _as_float_array("generator_loss_saturating", "fake_logits", fake_logits)
    return float(np.mean(-np.logaddexp(0.0, a)))


def generator_loss_nonsaturating(fake_logits):
    """The non-saturating generator loss ``-mean log D(G(z))`` from logits.

    The generator *minimises* it; it equals ``mean softplus(-a)`` (binary cross-entropy of the
    fakes against the label "real") and is positive.  Same fixed point as the saturating
    loss, but strong gradients when the fakes are rejected.  Used in chapter 2 (and 7).
    """
    a = _as_float_array("generator_loss_nonsaturating", "fake_logits", fake_logits)
    return float(np.mean(np.logaddexp(0.0, -a)))


def generator_logit_gradient(fake_logits, loss="nonsaturating"):
    """Derivative of each sample's generator loss with respect to its logit ``a``.

    ``loss="saturating"``: ``d/da log(1 - sigmoid(a)) = -sigmoid(a) = -D(G(z))``;
    ``loss="nonsaturating"``: ``d/da -log sigmoid(a) = -(1 - sigmoid(a)) = -(1 - D(G(z)))``.
    The gradient of the batch *mean* is this divided by the batch size.  Used in chapter 2
    (and 7).
    """
    where = "generator_logit_gradient"
    a = _as_float_array(where, "fake_logits", fake_logits)
    if loss not in _GENERATOR_LOSSES:
        raise ValueError(f"{where}: loss must be one of {_GENERATOR_LOSSES}, got {loss!r}.")
    if loss == "saturating":
        return -_sigmoid(a)
    return -_sigmoid(-a)


# --------------------------------------------------------------------------- games


def xy_game_field(x, y):
    """Update directions of Goodfellow's game ``V(x, y) = x * y`` (x minimises, y maximises).

    Returns ``(-dV/dx, dV/dy) = (-y, x)``; arrays broadcast.  Used in chapter 2 (and 7).
    """
    x = _as_float_array("xy_game_field", "x", x)
    y = _as_float_array("xy_game_field", "y", y)
    return -y * np.ones_like(x), x * np.ones_like(y)


def dirac_gan_field(theta, psi, gamma=0.0):
    """Gradient vector field of the Dirac-GAN (Mescheder et al., 2018), with optional R1.

    Generator ``p_theta = delta_theta``, data ``delta_0``, linear discriminator ``D_psi(x) =
    psi * x``, and Mescheder et al.'s objective ``L = E_{p_theta}[f(D_psi(x))] +
    E_{data}[f(-D_psi(x))] = f(psi * theta) + f(0)`` with ``f(t) = -log(1 + exp(-t))`` (the
    standard GAN; their ``D_psi`` is minus the usual "real" logit, which only flips the sign
    of ``psi``).  The generator descends on ``L``, the discriminator ascends on
    ``L - (gamma / 2) * psi**2`` (the zero-centred penalty R1 = gamma/2 E_data |grad_x D|^2 is
    ``gamma/2 psi^2`` here):

    ``v = (-psi f'(psi theta), theta f'(psi theta) - gamma psi)``, ``f'(t) = sigmoid(-t)``.

    ``theta`` and ``psi`` broadcast (grids for quiver plots); returns ``(v_theta, v_psi)``.
    Used in chapter 2 (and 7).
    """
    where = "dirac_gan_field"
    theta = _as_float_array(where, "theta", theta)
    psi = _as_float_array(where, "psi", psi)
    gamma = _as_real(where, "gamma", gamma, minimum=0.0)
    f_prime = _sigmoid(-psi * theta)
    return -psi * f_prime, theta * f_prime - gamma * psi


def dirac_gan_jacobian(gamma=0.0):
    """Jacobian of :func:`dirac_gan_field` at the equilibrium ``(0, 0)``.

    ``[[0, -f'(0)], [f'(0), -gamma]]`` with ``f'(0) = 1/2``; its eigenvalues are
    ``-gamma/2 +- sqrt(gamma**2/4 - f'(0)**2)``: purely imaginary for ``gamma = 0`` (no
    convergence), negative real parts for every ``gamma > 0``.  Used in chapter 2 (and 7).
    """
    gamma = _as_real("dirac_gan_jacobian", "gamma", gamma, minimum=0.0)
    return np.array([[0.0, -F_PRIME_0], [F_PRIME_0, -gamma]])


def play_game(field: Callable, start, lr, steps, mode="simultaneous"):
    """Run gradient play on a two-player game and return the trajectory, shape ``(steps + 1, 2)``.

    ``field(u, v)`` returns the update directions ``(du, dv)`` of the minimising player ``u``
    and the maximising player ``v`` (e.g. :func:`xy_game_field`, :func:`dirac_gan_field`).

    ``mode="simultaneous"``: both players step from the same point,
    ``(u, v) <- (u, v) + lr * field(u, v)``.  ``mode="alternating"``: the maximiser (the
    discriminator) steps first and the minimiser then steps from the *new* point, as in
    Goodfellow et al.'s Algorithm 1 with k = 1.  Used in chapter 2 (and 7).
    """
    where = "play_game"
    if not callable(field):
        raise TypeError(f"{where}: field must be a function field(u, v) -> (du, dv), got {type(field).__name__}.")
    point = _as_float_array(where, "start", start)
    if point.shape != (2,):
        raise ValueError(f"{where}: start must hold 2 numbers (u, v), got shape {point.shape}.")
    lr = _as_real(where, "lr", lr, minimum=0.0, strictly=True)
    if isinstance(steps, bool) or not isinstance(steps, Integral) or int(steps) < 1:
        raise ValueError(f"{where}: steps must be a positive int, got {steps!r}.")
    if mode not in _GAME_MODES:
        raise ValueError(f"{where}: mode must be one of {_GAME_MODES}, got {mode!r}.")
    path = np.empty((int(steps) + 1, 2))
    path[0] = point
    u, v = float(point[0]), float(point[1])
    for t in range(1, int(steps) + 1):
        if mode == "simultaneous":
            du, dv = field(u, v)
            u, v = u + lr * float(du), v + lr * float(dv)
        else:
            v = v + lr * float(field(u, v)[1])
            u = u + lr * float(field(u, v)[0])
        path[t] = (u, v)
    return path
