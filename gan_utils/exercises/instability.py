"""Checkers for the code exercises of chapter 7, the FAQ on training instability.

* :func:`check_pack` (``ch07-ex-pack``) -- ``fn(x, m)``: PacGAN's packing of an ``(N, d)``
  batch into ``(N // m, m * d)``;
* :func:`check_instance_noise` (``ch07-ex-noise``) -- ``fn(step, steps, initial, anneal)``:
  the linearly annealed std of instance noise;
* :func:`check_smoothed_loss` (``ch07-ex-smoothing``) -- ``fn(real_logits, fake_logits,
  real_label)``: the discriminator's loss with one-sided label smoothing, from logits.

Framework-neutral: the cases are NumPy arrays and numbers; the learner may return NumPy
arrays, numbers or tensors.  The reference implementations for PyTorch are
``gan_utils.lab.pack``, ``gan_utils.lab.instance_noise_std`` and
``gan_utils.torch.losses.discriminator_loss(real_label=...)``.  Used in chapter 7.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from . import Case, Verdict, check_function

__all__ = ["check_pack", "check_instance_noise", "check_smoothed_loss"]


def _require_callable(exercise: str, fn: object) -> None:
    if not callable(fn):
        raise TypeError(f"{exercise}: expected the function you wrote, got {type(fn).__name__}.")


def _quiet(fn: Callable) -> Callable:
    def wrapped(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return wrapped


# ----------------------------------------------------------------------------- packing


def _pack(x: np.ndarray, m: int) -> np.ndarray:
    return x.reshape(x.shape[0] // m, m * x.shape[1])


def check_pack(fn: Callable, verbose: bool = True) -> Verdict:
    """Check ``fn(x, m)``: ``(N, d)`` -> ``(N // m, m * d)``, pack ``j`` = samples ``jm .. jm+m-1`` side by side."""
    exercise = "Exercise 7.1 (PacGAN packing)"
    _require_callable(exercise, fn)
    x4 = np.arange(8, dtype=float).reshape(4, 2)
    x6 = np.arange(18, dtype=float).reshape(6, 3) * 0.5 - 2
    cases = [
        Case(args=(x4, 1), expected=x4, name="m = 1 changes nothing",
             hint="With m = 1 every pack is one sample: return x unchanged, shape (N, d)."),
        Case(args=(x4, 2), expected=_pack(x4, 2), name="4 samples, m = 2",
             hint="Pack j must hold samples 2j and 2j+1 one after the other: [x0, x1] = [0, 1, 2, 3]. "
             "Stacking x[:N//m] next to x[N//m:] pairs sample 0 with sample 2 (a valid packing too, but "
             "not the one asked for); transposing mixes coordinates of different samples."),
        Case(args=(x6, 3), expected=_pack(x6, 3), name="6 samples in 3-D, m = 3",
             hint="The result has shape (N // m, m * d) = (2, 9): each row concatenates m whole samples."),
    ]
    return check_function(exercise, _quiet(fn), cases, verbose=verbose)


# ---------------------------------------------------------------------- instance noise


def _noise(step: int, steps: int, initial: float, anneal: float) -> float:
    return initial * max(0.0, 1.0 - step / (anneal * steps))


def check_instance_noise(fn: Callable, verbose: bool = True) -> Verdict:
    """Check ``fn(step, steps, initial, anneal)``: ``initial * max(0, 1 - step / (anneal * steps))``."""
    exercise = "Exercise 7.2 (instance-noise schedule)"
    _require_callable(exercise, fn)
    args = [(0, 1000, 0.5, 0.5), (250, 1000, 0.5, 0.5), (499, 1000, 0.5, 0.5), (500, 1000, 0.5, 0.5),
            (900, 1000, 0.5, 0.5), (300, 400, 2.0, 1.0)]
    hints = [
        "At step 0 the std is the initial value.",
        "A quarter of the way through training is half-way through an anneal of half the run: the std "
        "has fallen linearly to half its initial value.",
        "Just before the end of the anneal the std is small but positive.",
        "Once step >= anneal * steps the noise is off: exactly 0.",
        "After the anneal the std stays 0 (never negative: clip at 0).",
        "With anneal = 1 the decay lasts the whole run: step 300 of 400 leaves a quarter of the initial std.",
    ]
    cases = [Case(args=a, expected=_noise(*a), hint=h, name=f"step {a[0]} of {a[1]}") for a, h in zip(args, hints)]
    return check_function(exercise, _quiet(fn), cases, verbose=verbose)


# ---------------------------------------------------------------- label smoothing


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _smoothed(real_logits: np.ndarray, fake_logits: np.ndarray, real_label: float) -> float:
    real_term = real_label * _softplus(-real_logits) + (1 - real_label) * _softplus(real_logits)
    return float(real_term.mean() + _softplus(fake_logits).mean())


def check_smoothed_loss(fn: Callable, verbose: bool = True) -> Verdict:
    """Check ``fn(real_logits, fake_logits, real_label)``: BCE with targets ``real_label`` (real) and 0 (fake)."""
    exercise = "Exercise 7.3 (one-sided label smoothing)"
    _require_callable(exercise, fn)
    real = np.array([2.0, -0.5, 1.0, 3.0])
    fake = np.array([-1.0, 0.5, -2.0])
    big_real, big_fake = np.array([40.0, -30.0]), np.array([-50.0, 35.0])
    cases = [
        Case(args=(real, fake, 1.0), expected=_smoothed(real, fake, 1.0), name="no smoothing",
             hint="With real_label = 1 this is the plain discriminator loss: mean softplus(-real) + "
             "mean softplus(fake), each batch averaged on its own."),
        Case(args=(real, fake, 0.9), expected=_smoothed(real, fake, 0.9), name="real_label = 0.9",
             hint="Only the REAL targets move to 0.9: real term 0.9 softplus(-a) + 0.1 softplus(a). "
             "If you also gave the fakes the target 0.1 (two-sided smoothing) this case fails."),
        Case(args=(big_real, big_fake, 0.9), expected=_smoothed(big_real, big_fake, 0.9), name="large logits",
             hint="Work with logits: log(sigmoid(40)) rounds to log(1) and log(1 - sigmoid(-50)) is fine, "
             "but log(sigmoid(-30)) or log(1 - sigmoid(35)) from probabilities give -inf or large errors. "
             "softplus(x) = log(1 + exp(x)) = np.logaddexp(0, x) is stable."),
    ]
    return check_function(exercise, _quiet(fn), cases, rtol=1e-5, atol=1e-6, verbose=verbose)
