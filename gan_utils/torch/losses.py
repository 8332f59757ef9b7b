"""GAN losses for PyTorch.  Every loss takes discriminator **logits**, never probabilities.

The discriminator outputs a logit ``a``; its probability that the input is real is
``D = sigmoid(a)``.  Working with logits lets PyTorch evaluate ``log sigmoid(a)`` and
``log(1 - sigmoid(a))`` without ever forming ``sigmoid(a)``, which rounds to exactly 0 or 1
in float32 once ``|a| > 17`` and would turn the log into ``-inf``
(``F.binary_cross_entropy_with_logits`` is stable for any finite logit).

The Wasserstein losses (:func:`wasserstein_critic_loss`, :func:`wasserstein_generator_loss`)
take the critic's unbounded **scores** instead: a WGAN critic has no sigmoid.

Reductions: every loss is a **mean over the batch** (a sum would make the learning rate
depend on the batch size).  The TensorFlow half (``gan_utils.tensorflow.losses``) mirrors
these names, signatures and reductions.  Used in chapter 3 (and 4, 5, 7).
"""

from __future__ import annotations

from numbers import Real

import torch
import torch.nn.functional as F

__all__ = [
    "discriminator_loss",
    "generator_loss",
    "GENERATOR_LOSS_KINDS",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
]

#: The generator losses :func:`generator_loss` knows.
GENERATOR_LOSS_KINDS = ("nonsaturating", "saturating")


def _check_logits(name: str, logits: object, where: str) -> torch.Tensor:
    """Return ``logits`` if it is a float tensor of shape ``(N,)`` or ``(N, 1)`` with N >= 1."""
    if not isinstance(logits, torch.Tensor):
        raise TypeError(
            f"{where}: {name} must be a torch.Tensor of logits, got {type(logits).__name__}."
        )
    if not logits.is_floating_point():
        raise TypeError(f"{where}: {name} must be a floating-point tensor, got dtype {logits.dtype}.")
    shape = tuple(logits.shape)
    if not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)) or shape[0] == 0:
        raise ValueError(
            f"{where}: {name} must have shape (N, 1) or (N,) with N >= 1 (one logit per "
            f"sample), got {shape}."
        )
    return logits


def discriminator_loss(
    real_logits: torch.Tensor, fake_logits: torch.Tensor, *, real_label: float = 1.0
) -> torch.Tensor:
    """The discriminator's binary cross-entropy, from logits.

    ``mean BCE(real_logits, real_label) + mean BCE(fake_logits, 0)``, i.e. minus
    Goodfellow et al.'s value function ``E log D(x) + E log(1 - D(G(z)))`` estimated on
    the two batches (each batch is averaged separately, then the two means are added,
    so the minimum of each term is 0 and a random guess scores ``2 log 2 = 1.386``).

    ``real_logits`` and ``fake_logits`` are shaped ``(N, 1)`` or ``(N,)`` (the same
    trailing shape; the batch sizes may differ).  ``real_label < 1`` is one-sided label
    smoothing (Salimans et al. 2016): real samples are given the target ``real_label``,
    fakes keep 0.  Returns a scalar tensor.  Used in chapter 3 (and 4, 5, 7).
    """
    where = "discriminator_loss"
    _check_logits("real_logits", real_logits, where)
    _check_logits("fake_logits", fake_logits, where)
    if real_logits.shape[1:] != fake_logits.shape[1:]:
        raise ValueError(
            f"{where}: real_logits and fake_logits must have the same trailing shape, got "
            f"{tuple(real_logits.shape)} and {tuple(fake_logits.shape)}; use (N, 1) for both "
            "(or (N,) for both)."
        )
    if isinstance(real_label, bool) or not isinstance(real_label, Real) or not 0.0 < float(real_label) <= 1.0:
        raise ValueError(
            f"{where}: real_label must be a number in (0, 1] (1 = no smoothing, 0.9 = one-sided "
            f"label smoothing), got {real_label!r}."
        )
    real_targets = torch.full_like(real_logits, float(real_label))
    fake_targets = torch.zeros_like(fake_logits)
    return F.binary_cross_entropy_with_logits(real_logits, real_targets) + F.binary_cross_entropy_with_logits(
        fake_logits, fake_targets
    )


def generator_loss(fake_logits: torch.Tensor, *, kind: str = "nonsaturating") -> torch.Tensor:
    """The generator's loss, from the discriminator's logits on generated samples.

    ``kind="nonsaturating"`` (the default, what everyone trains with):
    ``mean softplus(-a) = -mean log sigmoid(a) = -mean log D(G(z))``, i.e. BCE of the
    fakes against the *real* label 1.  Its gradient with respect to a logit is
    ``-(1 - D(G(z)))``: strong while the discriminator rejects the fakes.

    ``kind="saturating"``: ``mean(-softplus(a)) = mean log(1 - D(G(z)))``, the term the
    generator minimises in Goodfellow et al.'s minimax game (minus the discriminator's
    loss on the fakes).  Its gradient is ``-D(G(z))``, which vanishes exactly when the
    discriminator confidently rejects the fakes, early in training.

    ``fake_logits`` is shaped ``(N, 1)`` or ``(N,)``.  Returns a scalar tensor (a mean
    over the batch).  Used in chapter 3 (and 4, 5, 7).
    """
    where = "generator_loss"
    if kind not in GENERATOR_LOSS_KINDS:
        raise ValueError(
            f"{where}: unknown kind {kind!r}; expected one of {GENERATOR_LOSS_KINDS}."
        )
    _check_logits("fake_logits", fake_logits, where)
    if kind == "nonsaturating":
        # BCE against label 1 is softplus(-a), evaluated stably.
        return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    # BCE against label 0 is softplus(a); the minimax generator minimises its negative.
    return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))


def wasserstein_critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """The WGAN critic's loss (Arjovsky et al. 2017): ``mean(fake_scores) - mean(real_scores)``.

    The critic maximises ``E f(x) - E f(G(z))``, an estimate of the Wasserstein-1
    distance when ``f`` is 1-Lipschitz; this is its negative, to minimise.  It has no
    lower bound by itself: it needs a Lipschitz constraint (weight clipping, a gradient
    penalty or spectral normalisation, see :mod:`gan_utils.torch.regularizers`).
    ``real_scores`` and ``fake_scores`` are shaped ``(N, 1)`` or ``(N,)`` (the same
    trailing shape; the batch sizes may differ).  Returns a scalar tensor.  Used in
    chapter 7 (in preparation).
    """
    where = "wasserstein_critic_loss"
    _check_logits("real_scores", real_scores, where)
    _check_logits("fake_scores", fake_scores, where)
    if real_scores.shape[1:] != fake_scores.shape[1:]:
        raise ValueError(
            f"{where}: real_scores and fake_scores must have the same trailing shape, got "
            f"{tuple(real_scores.shape)} and {tuple(fake_scores.shape)}; use (N, 1) for both "
            "(or (N,) for both)."
        )
    return fake_scores.mean() - real_scores.mean()


def wasserstein_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """The WGAN generator's loss (Arjovsky et al. 2017): ``-mean(fake_scores)``.

    The generator minimises the critic's estimate ``E f(x) - E f(G(z))``; only the second
    term depends on it.  ``fake_scores`` is shaped ``(N, 1)`` or ``(N,)``.  Returns a
    scalar tensor.  Used in chapter 7 (in preparation).
    """
    _check_logits("fake_scores", fake_scores, "wasserstein_generator_loss")
    return -fake_scores.mean()
