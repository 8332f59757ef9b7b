"""Regularisers of the critic (discriminator) for TensorFlow: gradient penalty, R1, spectral norm, clipping.

Each one constrains how fast the critic's output may change with its input, the common
thread of chapter 7's stabilisation lab:

- :func:`gradient_penalty` -- WGAN-GP (Gulrajani et al. 2017): pushes the norm of
  the critic's input gradient towards 1 on random points between real and fake samples;
- :func:`r1_penalty` -- R1 (Mescheder et al. 2018): pushes the input gradient
  towards 0 on real samples;
- :func:`spectral_norm` -- spectral normalisation (Miyato et al. 2018): divides a
  layer's kernel by its largest singular value (estimated by power iteration), with
  :func:`largest_singular_value` to check the result;
- :func:`clip_weights` -- the original WGAN's weight clipping (Arjovsky et al. 2017).

The penalties take the input gradient with an inner ``tf.GradientTape``; called inside
the caller's own tape (the one around the critic's loss), that outer tape records the
gradient computation, so the penalty can be differentiated with respect to the critic's
variables (a gradient of a gradient).  They use TensorFlow operations only, so they also
run inside ``tf.function``.  The PyTorch half (``gan_utils.torch.regularizers``) has the
same names, signatures and defaults; ``tests/test_regularizers_parity.py``
checks that both give the same penalties.  Used in chapter 7 (in preparation).
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

__all__ = [
    "gradient_penalty",
    "r1_penalty",
    "spectral_norm",
    "largest_singular_value",
    "clip_weights",
]


# --------------------------------------------------------------------------- checks


def _check_weight(where: str, weight: object, name: str = "weight") -> float:
    if isinstance(weight, bool) or not isinstance(weight, Real) or not math.isfinite(float(weight)) or float(weight) < 0:
        raise ValueError(f"{where}: {name} must be a finite number >= 0, got {weight!r}.")
    return float(weight)


def _check_batch(where: str, name: str, x: object) -> tf.Tensor:
    """Return ``x`` as a float tensor of shape ``(N, ...)`` with N >= 1 and ndim >= 2.

    NumPy arrays are converted.  The NaN check needs values, so it runs eagerly only
    (inside ``tf.function`` the static shape and dtype are still checked).
    """
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{where}: {name} must be a tf.Tensor (or NumPy array), got {type(x).__name__}.")
    try:
        tensor = tf.convert_to_tensor(x)
    except (TypeError, ValueError):
        raise TypeError(f"{where}: {name} must be a tf.Tensor (or NumPy array), got {type(x).__name__}.") from None
    if not tensor.dtype.is_floating:
        raise TypeError(f"{where}: {name} must be a floating-point tensor, got dtype {tensor.dtype.name}.")
    shape = tuple(tensor.shape)
    if len(shape) < 2 or shape[0] == 0:
        raise ValueError(
            f"{where}: {name} must have shape (N, ...) with N >= 1 samples and at least one "
            f"feature dimension, e.g. (N, 2) or (N, 28, 28, 1), got {shape}."
        )
    if tf.executing_eagerly() and not bool(tf.reduce_all(tf.math.is_finite(tensor))):
        raise ValueError(f"{where}: {name} contains NaN or infinite values.")
    return tensor


def _check_critic(where: str, critic: object) -> Callable:
    if not callable(critic):
        raise TypeError(
            f"{where}: critic must be a callable (e.g. a keras.Model) mapping a batch to one score "
            f"per sample, got {type(critic).__name__}."
        )
    return critic


def _scores(where: str, critic, x: tf.Tensor) -> tf.Tensor:
    """``critic(x)``, checked to be one floating-point score per sample: shape ``(N,)`` or ``(N, 1)``.

    A Keras layer or model is called with ``training=True``: the penalties are part of
    the critic's update, the counterpart of a PyTorch critic in ``train()`` mode.
    """
    out = critic(x, training=True) if isinstance(critic, keras.layers.Layer) else critic(x)
    if not isinstance(out, (tf.Tensor, tf.Variable)) or not out.dtype.is_floating:
        raise TypeError(
            f"{where}: critic must return a floating-point tf.Tensor, got "
            f"{out.dtype.name if isinstance(out, (tf.Tensor, tf.Variable)) else type(out).__name__}."
        )
    n = x.shape[0]
    shape = tuple(out.shape)
    if not (len(shape) in (1, 2) and shape[0] == n and shape[1:] in ((), (1,))):
        raise ValueError(
            f"{where}: critic must return one score per sample, shape ({n},) or ({n}, 1), got {shape}."
        )
    return out


def _input_gradient(where: str, critic, x: tf.Tensor) -> tf.Tensor:
    """``d sum(critic(x)) / dx``, computed so that an enclosing tape can differentiate it again.

    ``tape.gradient`` of a non-scalar target sums it first, so each sample gets its own
    gradient (sample ``i``'s score depends on sample ``i`` only, for a critic without
    batch statistics).  A score that does not depend on ``x`` has gradient 0.
    """
    with tf.GradientTape() as tape:
        tape.watch(x)
        scores = _scores(where, critic, x)
    return tape.gradient(scores, x, unconnected_gradients=tf.UnconnectedGradients.ZERO)


def _safe_norm(squared: tf.Tensor) -> tf.Tensor:
    """``sqrt(squared)`` whose derivative at 0 is 0 instead of ``inf * 0 = NaN``.

    ``d sqrt(s) / ds = 1 / (2 sqrt(s))`` is infinite at ``s = 0``, and the chain rule then
    multiplies it by ``ds/dθ = 0``: NaN, which would poison every variable.  The double
    ``where`` feeds ``sqrt`` a 1 where ``s == 0`` (so its derivative there is finite) and
    selects the exact 0 afterwards; elsewhere the value is exactly ``sqrt(s)``.
    """
    positive = squared > 0
    safe = tf.where(positive, squared, tf.ones_like(squared))
    return tf.where(positive, tf.sqrt(safe), tf.zeros_like(squared))


def _per_sample_sum_of_squares(grad: tf.Tensor) -> tf.Tensor:
    return tf.reduce_sum(tf.square(grad), axis=list(range(1, len(grad.shape))))


# --------------------------------------------------------------------- the penalties


def gradient_penalty(
    critic: Callable,
    real,
    fake,
    *,
    weight: float = 10.0,
    epsilon=None,
    seed: int | None = None,
    generator: tf.random.Generator | None = None,
) -> tf.Tensor:
    """The WGAN-GP gradient penalty (Gulrajani et al. 2017), a scalar to add to the critic's loss.

    For each sample ``i`` an interpolation weight ``eps_i ~ U(0, 1)`` is drawn (one per
    sample, broadcast over the sample's features), ``x_hat_i = eps_i real_i + (1 - eps_i)
    fake_i``, and the penalty is ``weight * mean_i (||grad_x critic(x_hat_i)|| - 1)^2``,
    the norm taken over all of a sample's features (for images: pixels and channels).
    A 1-Lipschitz critic has gradient norm at most 1, and the optimal WGAN critic has norm
    exactly 1 on the lines between coupled real and fake points, hence the two-sided target.

    ``real`` and ``fake`` have the same shape ``(N, ...)``; ``x_hat`` is a constant for
    the enclosing tape (``tf.stop_gradient``: the penalty trains the critic only).
    ``critic`` maps ``(N, ...)`` to scores ``(N,)`` or ``(N, 1)``; a Keras layer or model
    is called with ``training=True``.  ``epsilon`` fixes the weights: shape ``(N,)`` or
    ``(N, 1, ..., 1)``, values in ``[0, 1]`` (the parity tests pass the same ``epsilon``
    to both frameworks).  Otherwise they are drawn with ``tf.random.stateless_uniform``
    from ``seed``, from ``generator`` (a ``tf.random.Generator``, the counterpart of
    PyTorch's ``torch.Generator``), or, if both are ``None``, with ``tf.random.uniform``
    (TensorFlow's global seed; a fresh draw at every call, also inside ``tf.function``).

    The norm's derivative is made finite where the input gradient is exactly 0 (see
    ``_safe_norm``), e.g. for a critic whose weights are all 0.  Call it inside the tape
    that differentiates the critic's loss.  Returns a scalar tensor.  Mirrors
    ``gan_utils.torch.regularizers.gradient_penalty``.  Used in chapter 7 (in preparation).
    """
    where = "gradient_penalty"
    critic = _check_critic(where, critic)
    real = _check_batch(where, "real", real)
    fake = _check_batch(where, "fake", fake)
    if tuple(real.shape) != tuple(fake.shape):
        raise ValueError(
            f"{where}: real and fake must have the same shape (one fake per real sample), got "
            f"{tuple(real.shape)} and {tuple(fake.shape)}."
        )
    if real.dtype != fake.dtype:
        raise TypeError(
            f"{where}: real and fake must have the same dtype, got {real.dtype.name} and {fake.dtype.name}."
        )
    weight = _check_weight(where, weight)
    n = real.shape[0]
    eps_shape = (n,) + (1,) * (len(real.shape) - 1)
    given = [name for name, value in (("epsilon", epsilon), ("seed", seed), ("generator", generator)) if value is not None]
    if len(given) > 1:
        raise ValueError(f"{where}: pass at most one of epsilon, seed and generator, got {', '.join(given)}.")
    if epsilon is not None:
        eps = _check_epsilon(where, epsilon, eps_shape, real.dtype)
    elif seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, (Integral, np.integer)) or not 0 <= int(seed) < 2**31:
            raise ValueError(f"{where}: seed must be an int in [0, 2**31) or None, got {seed!r}.")
        eps = tf.random.stateless_uniform(eps_shape, seed=[int(seed), 0], dtype=real.dtype)
    elif generator is not None:
        if not isinstance(generator, tf.random.Generator):
            raise TypeError(
                f"{where}: generator must be a tf.random.Generator or None, got {type(generator).__name__}."
            )
        eps = generator.uniform(eps_shape, dtype=real.dtype)
    else:
        eps = tf.random.uniform(eps_shape, dtype=real.dtype)
    x_hat = tf.stop_gradient(eps * real + (1 - eps) * fake)
    grad = _input_gradient(where, critic, x_hat)
    norms = _safe_norm(_per_sample_sum_of_squares(grad))
    return weight * tf.reduce_mean(tf.square(norms - 1))


def _check_epsilon(where: str, epsilon: object, full: tuple[int, ...], dtype) -> tf.Tensor:
    try:
        eps = tf.convert_to_tensor(epsilon)
    except (TypeError, ValueError):
        raise TypeError(
            f"{where}: epsilon must be a floating-point tf.Tensor (or NumPy array) or None, got "
            f"{type(epsilon).__name__}."
        ) from None
    if not eps.dtype.is_floating:
        raise TypeError(f"{where}: epsilon must be floating-point, got dtype {eps.dtype.name}.")
    n = full[0]
    if tuple(eps.shape) not in ((n,), full):
        raise ValueError(f"{where}: epsilon must have shape ({n},) or {full}, got {tuple(eps.shape)}.")
    if tf.executing_eagerly() and not bool(tf.reduce_all((eps >= 0) & (eps <= 1))):
        raise ValueError(f"{where}: epsilon must lie in [0, 1] (it is an interpolation weight).")
    return tf.reshape(tf.cast(tf.stop_gradient(eps), dtype), full)


def r1_penalty(critic: Callable, real, *, weight: float = 10.0) -> tf.Tensor:
    """The R1 penalty (Mescheder et al. 2018): ``weight / 2 * mean_i ||grad_x critic(real_i)||^2``.

    It penalises the critic's input gradient on real data only, pushing it towards 0 (no
    square root, so no special case at 0).  ``real`` is ``(N, ...)`` and is a constant
    for the enclosing tape; ``critic`` maps it to scores ``(N,)`` or ``(N, 1)`` (a Keras
    layer or model is called with ``training=True``).  Call it inside the tape that
    differentiates the discriminator's loss.  Returns a scalar tensor.  Mirrors
    ``gan_utils.torch.regularizers.r1_penalty``.  Used in chapter 7 (in preparation).
    """
    where = "r1_penalty"
    critic = _check_critic(where, critic)
    real = _check_batch(where, "real", real)
    weight = _check_weight(where, weight)
    grad = _input_gradient(where, critic, tf.stop_gradient(real))
    return weight / 2 * tf.reduce_mean(_per_sample_sum_of_squares(grad))


# ------------------------------------------------------------- spectral normalisation

#: The layer types :func:`spectral_norm` accepts (their kernel is ``(*kernel, in, out)``).
SPECTRAL_NORM_LAYERS = (keras.layers.Dense, keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)


def spectral_norm(layer: keras.layers.Layer, *, n_power_iterations: int = 1) -> keras.layers.SpectralNormalization:
    """Spectrally normalise ``layer`` (Miyato et al. 2018) with Keras' own implementation.

    A thin wrapper around ``keras.layers.SpectralNormalization(layer, power_iterations=...)``;
    use the returned wrapper in place of ``layer``.  Keras does it differently from
    PyTorch: at each call *with* ``training=True`` it runs ``n_power_iterations``
    power-iteration steps (the vector ``u`` persists, so the estimate sharpens over
    successive calls) and **overwrites** the wrapped layer's kernel with ``W / sigma(W)``;
    gradients then update the normalised kernel directly (no gradient through the
    division, unlike PyTorch's parametrisation).  Calls with ``training=False`` use the
    kernel as it is.  The kernel is reshaped to ``(-1, out)`` for the estimate, as
    :func:`largest_singular_value` does; the normalised kernel is ``wrapper.layer.kernel``.

    ``layer`` must be a ``keras.layers.Dense`` or ``Conv1D/2D/3D`` (transposed
    convolutions are left out, as in the PyTorch half).  Returns a new
    ``keras.layers.SpectralNormalization`` wrapping ``layer``.  Mirrors
    ``gan_utils.torch.regularizers.spectral_norm``.  Used in chapter 7 (in preparation).
    """
    where = "spectral_norm"
    if not isinstance(layer, SPECTRAL_NORM_LAYERS):
        names = ", ".join(cls.__name__ for cls in SPECTRAL_NORM_LAYERS)
        raise TypeError(f"{where}: layer must be one of keras.layers.{{{names}}}, got {type(layer).__name__}.")
    if isinstance(n_power_iterations, bool) or not isinstance(n_power_iterations, int) or n_power_iterations < 1:
        raise ValueError(f"{where}: n_power_iterations must be a positive int, got {n_power_iterations!r}.")
    return keras.layers.SpectralNormalization(layer, power_iterations=n_power_iterations)


def largest_singular_value(weight) -> float:
    """The largest singular value of a layer's kernel, as Keras' spectral normalisation sees it.

    ``weight`` is a tensor, variable or array: a ``Dense`` kernel ``(in, out)`` or a
    convolution kernel ``(*kernel, in, out)``, which is reshaped to ``(prod(kernel) * in,
    out)`` first.  (That matrix has the same singular values as PyTorch's ``(out, in *
    prod(kernel))`` view of the same weights: transposing and permuting columns change
    none.)  Computed exactly with ``np.linalg.svd`` in float64.  Mirrors
    ``gan_utils.torch.regularizers.largest_singular_value``.  Used in chapter 7 (in
    preparation) to check that a spectrally normalised layer has ``sigma`` close to 1.
    """
    where = "largest_singular_value"
    if isinstance(weight, (tf.Tensor, tf.Variable)) or hasattr(weight, "numpy"):
        weight = np.asarray(weight.numpy() if hasattr(weight, "numpy") else weight)
    try:
        array = np.asarray(weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{where}: weight must be a tensor or array of numbers, got {type(weight).__name__}.") from None
    if array.ndim < 2 or array.size == 0:
        raise ValueError(f"{where}: weight must have at least 2 dimensions (..., in, out), got shape {array.shape}.")
    if not np.isfinite(array).all():
        raise ValueError(f"{where}: weight contains NaN or infinite values.")
    return float(np.linalg.svd(array.reshape(-1, array.shape[-1]), compute_uv=False)[0])


# ------------------------------------------------------------------- weight clipping


def clip_weights(model, clip: float = 0.01):
    """Clip every trainable variable of ``model`` to ``[-clip, clip]`` in place, the WGAN critic's constraint (Arjovsky et al. 2017).

    Called after each critic update; a crude way to bound the critic's Lipschitz
    constant (its bias towards very simple functions is what WGAN-GP was designed to
    avoid).  Non-trainable variables (batch-norm statistics, a spectral norm's ``u``) are
    not clipped, like PyTorch's buffers.  ``model`` is a Keras layer or model (or any
    ``tf.Module``).  Returns ``model``.  Mirrors
    ``gan_utils.torch.regularizers.clip_weights``.  Used in chapter 7 (in preparation).
    """
    where = "clip_weights"
    if not isinstance(model, (keras.layers.Layer, tf.Module)):
        raise TypeError(f"{where}: model must be a keras.layers.Layer, keras.Model or tf.Module, got {type(model).__name__}.")
    if isinstance(clip, bool) or not isinstance(clip, Real) or not math.isfinite(float(clip)) or float(clip) <= 0:
        raise ValueError(f"{where}: clip must be a finite number > 0, got {clip!r}.")
    for variable in model.trainable_variables:
        variable.assign(tf.clip_by_value(variable, -float(clip), float(clip)))
    return model
