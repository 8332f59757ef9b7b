"""Checkers for the code exercises of chapter 2, the minimax game.

Each checker runs the learner's function on hidden cases and prints (and returns) a
:class:`gan_utils.exercises.Verdict`.  The cases are ordered so that each typical mistake
fails first on the case whose hint describes it:

* :func:`check_optimal_discriminator` (``ex-minimax-dstar``) -- ``fn(p_data, p_g) -> D*``;
* :func:`check_generator_losses` (``ex-minimax-losses``) -- ``fn(fake_logits) ->
  (saturating, nonsaturating)``;
* :func:`check_xy_step` (``ex-minimax-xy-step``) -- ``fn(x, y, lr, mode) -> (x_new, y_new)``
  for Goodfellow's game ``V(x, y) = x * y``.

Framework-neutral: the learner may return NumPy arrays, Python numbers, or PyTorch /
TensorFlow tensors.  Used in chapter 2.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from . import Case, Verdict, check_function

__all__ = ["check_optimal_discriminator", "check_generator_losses", "check_xy_step"]


def _quiet(fn: Callable) -> Callable:
    """Call ``fn`` with NumPy's floating-point warnings silenced: the verdict says what went wrong."""

    def wrapped(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return wrapped


def _require_callable(exercise: str, fn: object) -> None:
    if not callable(fn):
        raise TypeError(f"{exercise}: expected the function you wrote, got {type(fn).__name__}.")


# --------------------------------------------------------------------------- D*


def _d_star(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    return p_data / (p_data + p_g)


def _gauss(x: np.ndarray, mu: float, sd: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))


def _optimal_discriminator_cases() -> list[Case]:
    equal = np.array([0.05, 0.2, 0.4, 0.2, 0.05])
    p_data = np.array([0.4, 0.3, 0.2, 0.1])
    p_g = np.array([0.1, 0.1, 0.2, 0.3])
    grid = np.linspace(-4.0, 4.0, 41)
    real, fake = _gauss(grid, -1.0, 1.0), 0.5 * _gauss(grid, 1.0, 0.7) + 0.5 * _gauss(grid, -2.0, 0.5)
    square_data = np.array([[0.1, 0.2, 0.3], [0.05, 0.6, 0.01]])
    square_g = np.array([[0.3, 0.2, 0.1], [0.45, 0.15, 0.09]])
    return [
        Case(
            args=(equal, equal.copy()),
            expected=np.full(equal.shape, 0.5),
            name="p_data = p_g",
            hint="Where p_data = p_g the best discriminator cannot tell real from fake, so D* = 1/2 at "
            "every point: divide p_data by the SUM p_data + p_g (not by p_g alone), elementwise, "
            "returning one value per point (no sum or mean over the points).",
        ),
        Case(
            args=(p_data, p_g),
            expected=_d_star(p_data, p_g),
            name="more real than generated mass on the left",
            hint="D*(x) is the probability that x is REAL: p_data goes in the numerator. "
            "p_g / (p_data + p_g) is 1 - D*, the probability of 'fake' (arguments swapped?).",
        ),
        Case(
            args=(np.array([0.3, 0.0, 0.7]), np.array([0.0, 0.5, 0.2])),
            expected=np.array([1.0, 0.0, 0.7 / 0.9]),
            name="only one density has mass",
            hint="Where only real data has mass D* = 1, where only generated data has mass D* = 0; "
            "do not add a constant to the numerator or the denominator.",
        ),
        Case(
            args=(square_data, square_g),
            expected=_d_star(square_data, square_g),
            name="a 2-D array of points",
            hint="Work elementwise and return an array of the same shape as the inputs "
            "(no sum or mean over the points).",
        ),
        Case(
            args=(real, fake),
            expected=_d_star(real, fake),
            name="a Gaussian against a mixture on a grid",
        ),
    ]


def check_optimal_discriminator(fn: Callable, verbose: bool = True) -> Verdict:
    """Check ``fn(p_data, p_g)``: the optimal discriminator D* from two arrays of density values.

    Exercise ``ex-minimax-dstar`` of chapter 2.  The hidden densities are strictly positive
    where their sum is (no 0/0).
    """
    exercise = "ex-minimax-dstar"
    _require_callable(exercise, fn)
    return check_function(exercise, _quiet(fn), _optimal_discriminator_cases(), verbose=verbose)


# --------------------------------------------------------------------------- generator losses


def _log_sigmoid(a: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -a)


def _losses(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    return np.array([np.mean(_log_sigmoid(-a)), -np.mean(_log_sigmoid(a))])


def _generator_loss_cases() -> list[Case]:
    one = np.array([1.0])
    batch = np.array([-2.0, -0.5, 0.5, 3.0])
    confident = np.array([-800.0, -40.0, 40.0, 800.0])
    many = np.linspace(-6.0, 6.0, 25)
    return [
        Case(
            args=(one,),
            expected=_losses(one),
            name="one logit a = 1",
            hint="Signs and order: return (saturating, non-saturating) = (mean log(1 - D(G(z))), "
            "-mean log D(G(z))) with D = sigmoid(a). The saturating loss is negative, the "
            "non-saturating one positive; the generator minimises both.",
        ),
        Case(
            args=(batch,),
            expected=_losses(batch),
            name="a batch of 4 logits",
            hint="Average over the batch (mean, not sum): the batch's loss is the mean of the "
            "per-sample losses.",
        ),
        Case(
            args=(confident,),
            expected=_losses(confident),
            name="a very confident discriminator, logits up to |a| = 800",
            hint="log(sigmoid(a)) and log(1 - sigmoid(a)) overflow to -inf for large |a|: write "
            "log sigmoid(a) = -log(1 + exp(-a)) = -np.logaddexp(0, -a) and "
            "log(1 - sigmoid(a)) = log sigmoid(-a).",
        ),
        Case(args=(many,), expected=_losses(many), name="25 logits from -6 to 6"),
    ]


def check_generator_losses(fn: Callable, verbose: bool = True) -> Verdict:
    """Check ``fn(fake_logits) -> (saturating, nonsaturating)``: both generator losses from logits.

    Exercise ``ex-minimax-losses`` of chapter 2.  ``fake_logits`` is a 1-D NumPy array of
    discriminator logits on generated samples; both losses are means over the batch.
    """
    exercise = "ex-minimax-losses"
    _require_callable(exercise, fn)
    return check_function(exercise, _quiet(fn), _generator_loss_cases(), rtol=1e-6, atol=1e-8,
                          verbose=verbose)


# --------------------------------------------------------------------------- the xy game


def _xy_step(x: float, y: float, lr: float, mode: str) -> np.ndarray:
    if mode == "simultaneous":
        return np.array([x - lr * y, y + lr * x])
    y_new = y + lr * x
    return np.array([x - lr * y_new, y_new])


def _xy_cases() -> list[Case]:
    return [
        Case(
            args=(1.0, 2.0, 0.1),
            kwargs={"mode": "simultaneous"},
            expected=_xy_step(1.0, 2.0, 0.1, "simultaneous"),
            name="simultaneous step from (1, 2), lr 0.1",
            hint="x minimises V = x*y, so x <- x - lr * dV/dx = x - lr * y; y maximises, so "
            "y <- y + lr * dV/dy = y + lr * x. In the simultaneous mode both use the OLD values.",
        ),
        Case(
            args=(1.0, 2.0, 0.1),
            kwargs={"mode": "alternating"},
            expected=_xy_step(1.0, 2.0, 0.1, "alternating"),
            name="alternating step from (1, 2), lr 0.1",
            hint="In the alternating mode y (the maximiser, like the discriminator) steps first, "
            "y <- y + lr * x, and x then steps with the NEW y: x <- x - lr * y_new.",
        ),
        Case(
            args=(-0.5, 1.5, 0.5),
            kwargs={"mode": "alternating"},
            expected=_xy_step(-0.5, 1.5, 0.5, "alternating"),
            name="alternating step from (-0.5, 1.5), lr 0.5",
        ),
        Case(
            args=(3.0, -1.0, 0.25),
            kwargs={"mode": "simultaneous"},
            expected=_xy_step(3.0, -1.0, 0.25, "simultaneous"),
            name="simultaneous step from (3, -1), lr 0.25",
        ),
    ]


def check_xy_step(fn: Callable, verbose: bool = True) -> Verdict:
    """Check ``fn(x, y, lr, mode) -> (x_new, y_new)``: one step of gradient play on ``V = x * y``.

    Exercise ``ex-minimax-xy-step`` of chapter 2.  ``mode`` is ``"simultaneous"`` or
    ``"alternating"`` (y, the maximiser, first); ``x`` and ``y`` are Python floats.
    """
    exercise = "ex-minimax-xy-step"
    _require_callable(exercise, fn)
    return check_function(exercise, _quiet(fn), _xy_cases(), rtol=1e-9, atol=1e-12, verbose=verbose)
