"""Regularisers of the critic (discriminator) for PyTorch: gradient penalty, R1, spectral norm, clipping.

Each one constrains how fast the critic's output may change with its input, the common
thread of chapter 7's stabilisation lab:

- :func:`gradient_penalty` -- WGAN-GP (Gulrajani et al. 2017): pushes the norm of
  the critic's input gradient towards 1 on random points between real and fake samples;
- :func:`r1_penalty` -- R1 (Mescheder et al. 2018): pushes the input gradient
  towards 0 on real samples;
- :func:`spectral_norm` -- spectral normalisation (Miyato et al. 2018): divides a
  layer's weight by its largest singular value (estimated by power iteration), with
  :func:`largest_singular_value` to check the result;
- :func:`clip_weights` -- the original WGAN's weight clipping (Arjovsky et al. 2017).

The penalties are scalars to *add* to the critic's loss; they keep the autograd graph
(``create_graph=True``), so ``loss.backward()`` reaches the critic's parameters through
the input gradient.  The TensorFlow half (``gan_utils.tensorflow.regularizers``) mirrors
these names, signatures and defaults; ``tests/test_regularizers_parity.py`` checks that
both give the same penalties.  Used in chapter 7 (in preparation).
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Callable

import numpy as np
import torch
from torch import nn

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


def _check_batch(where: str, name: str, x: object) -> torch.Tensor:
    """Return ``x`` if it is a finite float tensor of shape ``(N, ...)`` with N >= 1 and ndim >= 2."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{where}: {name} must be a torch.Tensor, got {type(x).__name__}.")
    if not x.is_floating_point():
        raise TypeError(f"{where}: {name} must be a floating-point tensor, got dtype {x.dtype}.")
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(
            f"{where}: {name} must have shape (N, ...) with N >= 1 samples and at least one "
            f"feature dimension, e.g. (N, 2) or (N, 1, 28, 28), got {tuple(x.shape)}."
        )
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{where}: {name} contains NaN or infinite values.")
    return x


def _check_critic(where: str, critic: object) -> Callable[[torch.Tensor], torch.Tensor]:
    if not callable(critic):
        raise TypeError(
            f"{where}: critic must be a callable (e.g. an nn.Module) mapping a batch to one score "
            f"per sample, got {type(critic).__name__}."
        )
    return critic


def _scores(where: str, critic, x: torch.Tensor) -> torch.Tensor:
    """``critic(x)``, checked to be one floating-point score per sample: shape ``(N,)`` or ``(N, 1)``."""
    out = critic(x)
    n = x.shape[0]
    if not isinstance(out, torch.Tensor) or not out.is_floating_point():
        raise TypeError(
            f"{where}: critic must return a floating-point torch.Tensor, got "
            f"{type(out).__name__ if not isinstance(out, torch.Tensor) else out.dtype}."
        )
    if tuple(out.shape) not in ((n,), (n, 1)):
        raise ValueError(
            f"{where}: critic must return one score per sample, shape ({n},) or ({n}, 1), got "
            f"{tuple(out.shape)}."
        )
    return out


def _input_gradient(where: str, critic, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(scores, d sum(critic(x)) / dx)`` with the graph kept, for a penalty that is backpropagated.

    The sum over the batch gives each sample's own gradient, because sample ``i``'s score
    depends on sample ``i`` only (true for any critic without batch statistics; a critic
    with batch normalisation mixes samples, which is why WGAN-GP critics avoid it).
    """
    if not torch.is_grad_enabled():
        # Under torch.no_grad() nothing is recorded and every gradient would read as 0.
        raise RuntimeError(f"{where}: needs autograd; do not call it inside torch.no_grad() or inference_mode().")
    scores = _scores(where, critic, x)
    if not scores.requires_grad:
        # The score does not depend on x nor on any parameter: its input gradient is 0.
        return scores, torch.zeros_like(x)
    (grad,) = torch.autograd.grad(scores.sum(), x, create_graph=True, allow_unused=True)
    if grad is None:  # the score does not depend on x (a constant critic)
        grad = torch.zeros_like(x)
    return scores, grad


def _safe_norm(squared: torch.Tensor) -> torch.Tensor:
    """``sqrt(squared)`` whose derivative at 0 is 0 instead of ``inf * 0 = NaN``.

    ``d sqrt(s) / ds = 1 / (2 sqrt(s))`` is infinite at ``s = 0``, and the chain rule then
    multiplies it by ``ds/dθ = 0``: NaN, which would poison every parameter.  The double
    ``where`` feeds ``sqrt`` a 1 where ``s == 0`` (so its derivative there is finite) and
    selects the exact 0 afterwards; elsewhere the value is exactly ``sqrt(s)``.
    """
    positive = squared > 0
    safe = torch.where(positive, squared, torch.ones_like(squared))
    return torch.where(positive, torch.sqrt(safe), torch.zeros_like(squared))


# --------------------------------------------------------------------- the penalties


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    *,
    weight: float = 10.0,
    epsilon: torch.Tensor | None = None,
    seed: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The WGAN-GP gradient penalty (Gulrajani et al. 2017), a scalar to add to the critic's loss.

    For each sample ``i`` an interpolation weight ``eps_i ~ U(0, 1)`` is drawn (one per
    sample, broadcast over the sample's features), ``x_hat_i = eps_i real_i + (1 - eps_i)
    fake_i``, and the penalty is ``weight * mean_i (||grad_x critic(x_hat_i)|| - 1)^2``,
    the norm taken over all of a sample's features (for images: pixels and channels).
    A 1-Lipschitz critic has gradient norm at most 1, and the optimal WGAN critic has norm
    exactly 1 on the lines between coupled real and fake points, hence the two-sided target.

    ``real`` and ``fake`` have the same shape ``(N, ...)``; both are detached (the penalty
    trains the critic only).  ``critic`` maps ``(N, ...)`` to scores ``(N,)`` or ``(N, 1)``;
    its own mode (``train()``/``eval()``) is left as it is.  ``epsilon`` fixes the weights:
    a tensor or NumPy array of shape ``(N,)`` or ``(N, 1, ..., 1)``, values in ``[0, 1]``
    (the parity tests pass the same ``epsilon`` to both frameworks).  Otherwise they are drawn from a fresh
    ``torch.Generator`` seeded with ``seed`` (always the same weights for that seed), from
    ``generator`` (a ``torch.Generator``), or, if both are ``None``, from PyTorch's global
    generator (which ``seed_everything`` seeds).

    The norm's derivative is made finite where the input gradient is exactly 0 (see
    ``_safe_norm``), e.g. for a critic whose weights are all 0.  Returns a scalar tensor
    with its graph.  Used in chapter 7 (in preparation).
    """
    where = "gradient_penalty"
    critic = _check_critic(where, critic)
    real = _check_batch(where, "real", real)
    fake = _check_batch(where, "fake", fake)
    if real.shape != fake.shape:
        raise ValueError(
            f"{where}: real and fake must have the same shape (one fake per real sample), got "
            f"{tuple(real.shape)} and {tuple(fake.shape)}."
        )
    if real.dtype != fake.dtype:
        raise TypeError(f"{where}: real and fake must have the same dtype, got {real.dtype} and {fake.dtype}.")
    weight = _check_weight(where, weight)
    n = real.shape[0]
    eps_shape = (n,) + (1,) * (real.ndim - 1)
    given = [name for name, value in (("epsilon", epsilon), ("seed", seed), ("generator", generator)) if value is not None]
    if len(given) > 1:
        raise ValueError(f"{where}: pass at most one of epsilon, seed and generator, got {', '.join(given)}.")
    if epsilon is not None:
        eps = _check_epsilon(where, epsilon, n, real)
    else:
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, (Integral, np.integer)) or not 0 <= int(seed) < 2**63:
                raise ValueError(f"{where}: seed must be an int in [0, 2**63) or None, got {seed!r}.")
            generator = torch.Generator(device=real.device).manual_seed(int(seed))
        elif generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(
                f"{where}: generator must be a torch.Generator or None, got {type(generator).__name__}."
            )
        eps = torch.rand(eps_shape, generator=generator, dtype=real.dtype, device=real.device)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    _, grad = _input_gradient(where, critic, x_hat)
    norms = _safe_norm(grad.reshape(n, -1).pow(2).sum(dim=1))
    return weight * (norms - 1).pow(2).mean()


def _check_epsilon(where: str, epsilon: object, n: int, like: torch.Tensor) -> torch.Tensor:
    if isinstance(epsilon, np.ndarray):
        epsilon = torch.from_numpy(epsilon)
    if not isinstance(epsilon, torch.Tensor) or not epsilon.is_floating_point():
        raise TypeError(
            f"{where}: epsilon must be a floating-point torch.Tensor or None, got "
            f"{type(epsilon).__name__ if not isinstance(epsilon, torch.Tensor) else epsilon.dtype}."
        )
    full = (n,) + (1,) * (like.ndim - 1)
    if tuple(epsilon.shape) not in ((n,), full):
        raise ValueError(f"{where}: epsilon must have shape ({n},) or {full}, got {tuple(epsilon.shape)}.")
    if not bool(((epsilon >= 0) & (epsilon <= 1)).all()):
        raise ValueError(f"{where}: epsilon must lie in [0, 1] (it is an interpolation weight).")
    return epsilon.detach().to(like.dtype).reshape(full)


def r1_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, *, weight: float = 10.0
) -> torch.Tensor:
    """The R1 penalty (Mescheder et al. 2018): ``weight / 2 * mean_i ||grad_x critic(real_i)||^2``.

    It penalises the critic's input gradient on real data only, pushing it towards 0 (no
    square root, so no special case at 0).  ``real`` is ``(N, ...)`` and is detached;
    ``critic`` maps it to scores ``(N,)`` or ``(N, 1)``.  Returns a scalar tensor with its
    graph, to add to the discriminator's loss.  Used in chapter 7 (in preparation).
    """
    where = "r1_penalty"
    critic = _check_critic(where, critic)
    real = _check_batch(where, "real", real)
    weight = _check_weight(where, weight)
    x = real.detach().requires_grad_(True)
    _, grad = _input_gradient(where, critic, x)
    return weight / 2 * grad.reshape(real.shape[0], -1).pow(2).sum(dim=1).mean()


# ------------------------------------------------------------- spectral normalisation

#: The layer types :func:`spectral_norm` accepts (their weight is ``(out, in, *kernel)``).
SPECTRAL_NORM_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def spectral_norm(layer: nn.Module, *, n_power_iterations: int = 1) -> nn.Module:
    """Spectrally normalise ``layer`` (Miyato et al. 2018) with PyTorch's own implementation.

    A thin wrapper around ``torch.nn.utils.parametrizations.spectral_norm``: afterwards
    ``layer.weight`` is ``W / sigma(W)``, recomputed from the stored ``W``
    (``layer.parametrizations.weight.original``) at each access; ``sigma`` is estimated by
    ``n_power_iterations`` power-iteration steps per access *in training mode* (the vectors
    ``u, v`` persist, so the estimate sharpens over successive forward passes; in eval
    mode they are frozen).  Gradients flow through the division.  The weight is reshaped
    to ``(out, -1)`` for the estimate, as :func:`largest_singular_value` does.

    ``layer`` must be an ``nn.Linear`` or ``nn.Conv1d/2d/3d`` (transposed convolutions
    are left out: PyTorch normalises them along another axis).  Returns the same layer,
    modified in place.  Used in chapter 7 (in preparation).
    """
    where = "spectral_norm"
    if not isinstance(layer, SPECTRAL_NORM_LAYERS):
        names = ", ".join(cls.__name__ for cls in SPECTRAL_NORM_LAYERS)
        raise TypeError(f"{where}: layer must be one of nn.{names.replace(', ', ', nn.')}, got {type(layer).__name__}.")
    if isinstance(n_power_iterations, bool) or not isinstance(n_power_iterations, int) or n_power_iterations < 1:
        raise ValueError(f"{where}: n_power_iterations must be a positive int, got {n_power_iterations!r}.")
    return nn.utils.parametrizations.spectral_norm(layer, n_power_iterations=n_power_iterations)


def largest_singular_value(weight) -> float:
    """The largest singular value of a layer's weight, as PyTorch's spectral norm sees it.

    ``weight`` is a tensor or array: a ``Linear`` weight ``(out, in)`` or a convolution
    weight ``(out, in, *kernel)``, which is reshaped to ``(out, in * prod(kernel))``
    first.  Computed exactly with ``np.linalg.svd`` in float64.  Used in chapter 7 (in
    preparation) to check that a spectrally normalised layer has ``sigma`` close to 1.
    """
    where = "largest_singular_value"
    if isinstance(weight, torch.Tensor):
        weight = weight.detach().cpu().numpy()
    try:
        array = np.asarray(weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{where}: weight must be a tensor or array of numbers, got {type(weight).__name__}.") from None
    if array.ndim < 2 or array.size == 0:
        raise ValueError(f"{where}: weight must have at least 2 dimensions (out, in, ...), got shape {array.shape}.")
    if not np.isfinite(array).all():
        raise ValueError(f"{where}: weight contains NaN or infinite values.")
    return float(np.linalg.svd(array.reshape(array.shape[0], -1), compute_uv=False)[0])


# ------------------------------------------------------------------- weight clipping


def clip_weights(model: nn.Module, clip: float = 0.01) -> nn.Module:
    """Clip every parameter of ``model`` to ``[-clip, clip]`` in place, the WGAN critic's constraint (Arjovsky et al. 2017).

    Called after each critic update; a crude way to bound the critic's Lipschitz
    constant (its bias towards very simple functions is what WGAN-GP was designed to
    avoid).  Buffers (e.g. batch-norm statistics) are not clipped.  Returns ``model``.
    Used in chapter 7 (in preparation).
    """
    where = "clip_weights"
    if not isinstance(model, nn.Module):
        raise TypeError(f"{where}: model must be a torch.nn.Module, got {type(model).__name__}.")
    if isinstance(clip, bool) or not isinstance(clip, Real) or not math.isfinite(float(clip)) or float(clip) <= 0:
        raise ValueError(f"{where}: clip must be a finite number > 0, got {clip!r}.")
    clip = float(clip)
    with torch.no_grad():  # an update of the parameters, not part of any graph
        for parameter in model.parameters():
            parameter.clamp_(-clip, clip)
    return model
