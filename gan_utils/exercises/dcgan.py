"""Checkers for the code exercises of chapter 5 (``05_dcgan_pytorch`` / ``05_dcgan_tensorflow``).

- ``check_conv_output_size(fn)``: a learner's ``fn(size, kernel, stride, padding,
  transposed)`` must return the side length after a convolution
  (``floor((size + 2·padding - kernel) / stride) + 1``) or a transposed convolution
  (``(size - 1)·stride - 2·padding + kernel``), as an int.  The hidden cases follow the
  DCGAN's 1 → 7 → 14 → 28 path and back, plus cases where the floor matters and where
  source document 004's sizes appear; each classic mistake (the two formulas swapped,
  no floor, padding counted once) fails on a case whose hint names it.
- ``check_discriminator_block(build)``: ``build(in_channels, out_channels, batch_norm)``
  must return one DCGAN discriminator block in either framework: a 4×4 convolution
  with stride 2 that halves the side (padding 1 in PyTorch, ``"same"`` in Keras),
  BatchNorm when asked (and then no convolution bias), LeakyReLU with slope 0.2.
  Checked on several channel counts by output shape, parameter count and layer types.
- ``check_slerp(fn)``: ``fn(z0, z1, t)`` must interpolate spherically between two NumPy
  vectors (hidden cases in several dimensions, the end points, orthogonal vectors,
  vectors of different lengths, and (anti-)parallel ones where ``sin Ω = 0`` and the
  formula must fall back to linear interpolation).

Framework-neutral: no framework is imported unless the learner's model comes from it.
Used in chapter 5 (both twins).
"""

from __future__ import annotations

import math

import numpy as np

from . import Case, Verdict, check_function
from .mlp_gan import _framework, _layer_types

__all__ = [
    "check_conv_output_size",
    "check_discriminator_block",
    "check_slerp",
    "conv_output_size_cases",
    "slerp_cases",
]

SIZE_EXERCISE = "Exercise 5.1 (output size of a convolution)"
BLOCK_EXERCISE = "Exercise 5.2 (a DCGAN discriminator block)"
SLERP_EXERCISE = "Exercise 5.3 (spherical interpolation)"

_CONV_HINT = (
    "a convolution gives floor((size + 2*padding - kernel) / stride) + 1; "
    "the transposed formula (size - 1)*stride - 2*padding + kernel is for transposed=True."
)
_TRANSPOSED_HINT = (
    "a transposed convolution runs the convolution's arithmetic backwards: "
    "(size - 1)*stride - 2*padding + kernel."
)


def conv_output_size_cases() -> list[Case]:
    """The hidden cases of :func:`check_conv_output_size`: ``(size, kernel, stride, padding, transposed)``."""

    def case(size, kernel, stride, padding, transposed, expected, hint, name):
        return Case((size, kernel, stride, padding, transposed), expected, hint=hint, name=name)

    return [
        case(28, 4, 2, 1, False, 14, _CONV_HINT, "D: 28 -> 14 (k4 s2 p1)"),
        case(14, 4, 2, 1, False, 7, _CONV_HINT, "D: 14 -> 7"),
        case(7, 7, 1, 0, False, 1, _CONV_HINT, "D: 7 -> 1 (k7, the logit)"),
        case(1, 7, 1, 0, True, 7, _TRANSPOSED_HINT, "G: 1 -> 7 (k7, the projection)"),
        case(7, 4, 2, 1, True, 14, _TRANSPOSED_HINT + " Padding is subtracted on both sides.", "G: 7 -> 14 (k4 s2 p1)"),
        case(14, 4, 2, 1, True, 28, _TRANSPOSED_HINT, "G: 14 -> 28"),
        case(15, 4, 2, 1, False, 7, "the division rounds down: use // (floor), not / or round().", "15 -> 7 (floor)"),
        case(32, 5, 2, 2, False, 16, _CONV_HINT, "32 -> 16 (k5 s2 p2, document 004's first D layer)"),
        case(5, 3, 2, 0, True, 11, _TRANSPOSED_HINT, "5 -> 11 (k3 s2 p0)"),
    ]


def check_conv_output_size(fn, *, verbose: bool = True) -> Verdict:
    """Check ``fn(size, kernel, stride, padding, transposed) -> int``; print and return a :class:`Verdict`."""
    verdict = check_function(SIZE_EXERCISE, fn, conv_output_size_cases(), rtol=0, atol=0, verbose=False)
    if verdict:
        got = fn(28, 4, 2, 1, False)
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
            verdict = Verdict(
                SIZE_EXERCISE,
                "fail",
                f"[fail] {SIZE_EXERCISE}: the values are right but fn returned {type(got).__name__}; "
                "return an int (a layer's size is a whole number of pixels: use //).",
            )
    if verbose:
        print(verdict.message)
    return verdict


# ------------------------------------------------------------------ discriminator block


def _block_parameters(cin: int, cout: int, batch_norm: bool) -> int:
    return 16 * cin * cout + (2 * cout if batch_norm else cout)


def _slopes(model: object, framework: str) -> list[float]:
    if framework == "torch":
        return [float(m.negative_slope) for m in model.modules() if type(m).__name__ == "LeakyReLU"]
    out = []
    for layer in model._flatten_layers(include_self=False):
        if type(layer).__name__ == "LeakyReLU":
            out.append(float(getattr(layer, "negative_slope", getattr(layer, "alpha", float("nan")))))
    return out


def check_discriminator_block(build, *, verbose: bool = True) -> Verdict:
    """Check ``build(in_channels, out_channels, batch_norm)`` on hidden channel counts; print and return a verdict."""
    ex = BLOCK_EXERCISE

    def finish(status: str, message: str) -> Verdict:
        verdict = Verdict(ex, status, message)
        if verbose:
            print(message)
        return verdict

    if not callable(build):
        raise TypeError(f"{ex}: expected a function that builds the block, got {type(build).__name__}.")
    rng = np.random.default_rng(5)
    for cin, cout, bn, side in ((1, 32, False, 28), (32, 64, True, 14), (3, 16, True, 32), (8, 8, False, 10)):
        label = f"block({cin}, {cout}, batch_norm={bn}) on {side}x{side} inputs"
        try:
            model = build(cin, cout, bn)
        except NotImplementedError:
            return finish(
                "not attempted",
                f"[not attempted] {ex}: the function still raises NotImplementedError; "
                "fill in the stub and run this cell again.",
            )
        except Exception as error:
            return finish("fail", f"[fail] {ex}, {label}: building raised {type(error).__name__}: {error}")
        framework = _framework(model)
        if framework is None:
            return finish("fail", f"[fail] {ex}: expected a torch.nn.Module or a Keras model, got {type(model).__name__}.")
        x = rng.uniform(-1.0, 1.0, size=(4, side, side, cin)).astype(np.float32)
        try:
            if framework == "torch":
                import torch

                model.train()  # BatchNorm with batch statistics, as in training
                with torch.no_grad():
                    out = model(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy().transpose(0, 2, 3, 1)
                n_params = int(sum(p.numel() for p in model.parameters()))
            else:
                out = np.asarray(model(x, training=True))
                n_params = int(sum(int(np.prod(v.shape)) for v in model.trainable_weights))
        except Exception as error:
            return finish("fail", f"[fail] {ex}, {label}: calling the block raised {type(error).__name__}: {error}")
        want = (4, side // 2, side // 2, cout)
        if tuple(out.shape) != want:
            return finish(
                "fail",
                f"[fail] {ex}, {label}: output shape {tuple(out.shape)} (as NHWC), expected {want}: a 4x4 kernel, "
                "stride 2 and padding 1 (Keras: padding='same') halve the side.",
            )
        kinds = _layer_types(model, framework)
        has_bn = any("BatchNorm" in name for name, _ in kinds)
        if has_bn != bn:
            return finish(
                "fail",
                f"[fail] {ex}, {label}: BatchNorm {'missing' if bn else 'present'}; add it only when batch_norm=True "
                "(the DCGAN has none on the discriminator's input layer).",
            )
        expected = _block_parameters(cin, cout, bn)
        if n_params != expected:
            extra = (
                " With BatchNorm the convolution needs no bias (BatchNorm's shift replaces it): bias=False / use_bias=False."
                if bn and n_params == expected + cout
                else " The kernel is 4x4."
            )
            return finish("fail", f"[fail] {ex}, {label}: {n_params:,} trainable parameters, expected {expected:,}.{extra}")
        slopes = _slopes(model, framework)
        if any(name == "ReLU" or act == "relu" for name, act in kinds) or len(slopes) != 1:
            return finish(
                "fail",
                f"[fail] {ex}, {label}: end the block with one LeakyReLU(0.2) (and no ReLU): the discriminator's "
                "gradient must reach the generator through every unit.",
            )
        if not math.isclose(slopes[0], 0.2, abs_tol=1e-6):
            return finish("fail", f"[fail] {ex}, {label}: LeakyReLU slope {slopes[0]:g}, expected 0.2 (Radford et al.).")
        if np.all(out >= 0):
            return finish(
                "fail",
                f"[fail] {ex}, {label}: every output is >= 0; a LeakyReLU lets negative values through (times 0.2).",
            )
    return finish(
        "pass", f"[pass] {ex}: 4 hidden channel configurations give the right shapes, parameter counts and layers."
    )


# ------------------------------------------------------------------ slerp


def _reference_slerp(z0: np.ndarray, z1: np.ndarray, t: float) -> np.ndarray:
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    cos = np.dot(z0, z1) / (np.linalg.norm(z0) * np.linalg.norm(z1))
    omega = math.acos(float(np.clip(cos, -1.0, 1.0)))
    if math.sin(omega) < 1e-6:
        return (1 - t) * z0 + t * z1
    return (math.sin((1 - t) * omega) * z0 + math.sin(t * omega) * z1) / math.sin(omega)


def slerp_cases() -> list[Case]:
    """The hidden cases of :func:`check_slerp`: ``(z0, z1, t)`` with the reference answer."""
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal(100), rng.standard_normal(100)
    e0, e1 = np.eye(3)[0], np.eye(3)[1]
    short, long_ = np.array([3.0, 0.0]), np.array([0.0, 1.0])
    cases = [
        ((a, b, 0.0), "t = 0 must give z0 exactly", "t = 0, dimension 100"),
        ((a, b, 1.0), "t = 1 must give z1", "t = 1, dimension 100"),
        ((e0, e1, 0.5), "orthogonal unit vectors: the midpoint is (z0 + z1) / sqrt(2), on the unit circle, "
         "not (z0 + z1) / 2", "orthogonal unit vectors, t = 0.5"),
        ((a, b, 0.3), "Omega = arccos(z0.z1 / (|z0| |z1|)): divide by both norms; weights sin((1-t)Omega)/sin(Omega) "
         "and sin(t Omega)/sin(Omega)", "two Gaussian vectors, t = 0.3"),
        ((short, long_, 0.5), "vectors of different lengths: normalise only inside arccos, not the result",
         "lengths 3 and 1, t = 0.5"),
        ((a, 2 * a, 0.25), "parallel vectors: sin(Omega) = 0, fall back to linear interpolation "
         "(1 - t) z0 + t z1 instead of dividing by zero", "parallel vectors"),
    ]
    return [Case((np.array(z0), np.array(z1), t), _reference_slerp(z0, z1, t), hint=hint, name=name)
            for (z0, z1, t), hint, name in cases]


def check_slerp(fn, *, verbose: bool = True) -> Verdict:
    """Check ``fn(z0, z1, t) -> vector`` on hidden cases; print and return a :class:`Verdict`."""
    return check_function(SLERP_EXERCISE, fn, slerp_cases(), rtol=1e-6, atol=1e-8, verbose=verbose)
