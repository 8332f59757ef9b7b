"""One GAN training step in PyTorch, the step chapter 3 teaches line by line.

``train_step`` updates the discriminator ``d_steps`` times and the generator once, and
returns the losses as Python floats.  Two update schemes are offered:

``"alternating"`` (Goodfellow et al. 2014, Algorithm 1; what d2l and the PyTorch DCGAN
    tutorial do): ``d_steps`` discriminator updates on detached fakes, then one
    generator update on fresh noise, judged by the *updated* discriminator;
``"simultaneous"`` (what the TensorFlow DCGAN tutorial does with two tapes): both
    losses come from one forward pass with the current parameters, both gradients are
    taken before either optimiser steps, then both step.

The TensorFlow half (``gan_utils.tensorflow.train``) mirrors the names, signatures,
defaults and returned keys.  Used in chapter 3 (and 4, 5, 7).
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Sequence

import torch
from torch import nn

from .losses import GENERATOR_LOSS_KINDS, discriminator_loss, generator_loss

__all__ = ["sample_noise", "train_step", "UPDATES"]

#: The update schemes :func:`train_step` knows.
UPDATES = ("alternating", "simultaneous")


def _positive_int(where: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or int(value) < 1:
        raise ValueError(f"{where}: {name} must be a positive int, got {value!r}.")
    return int(value)


def sample_noise(n: int, latent_dim: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw generator input ``z ~ N(0, I)``: a float32 tensor of shape ``(n, latent_dim)``.

    ``generator`` is an optional ``torch.Generator`` (for a noise stream independent of
    the global seed, e.g. fixed noise for plots); ``None`` uses PyTorch's global
    generator, which ``seed_everything`` seeds.  Used in chapter 3 (and 4, 5, 7).
    """
    where = "sample_noise"
    n = _positive_int(where, "n", n)
    latent_dim = _positive_int(where, "latent_dim", latent_dim)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(
            f"{where}: generator must be a torch.Generator or None, got {type(generator).__name__}."
        )
    return torch.randn(n, latent_dim, generator=generator, dtype=torch.float32)


def _guard(name: str, loss: torch.Tensor) -> float:
    """Return the loss as a float, or raise ``FloatingPointError`` if it is NaN or infinite."""
    value = float(loss.detach())
    if not math.isfinite(value):
        raise FloatingPointError(
            f"training diverged: {name}={value} at this step (no parameter was updated by it); "
            "lower the learning rates, or check the data and the models for NaN/inf."
        )
    return value


def _real_batches(real: object, d_steps: int, where: str) -> list[torch.Tensor]:
    if isinstance(real, torch.Tensor):
        batches = [real] * d_steps
    elif isinstance(real, Sequence) and not isinstance(real, (str, bytes)):
        batches = list(real)
        if len(batches) != d_steps:
            raise ValueError(
                f"{where}: real is a sequence of {len(batches)} batches but d_steps={d_steps}; "
                "pass one tensor (reused for every discriminator step) or exactly d_steps tensors."
            )
    else:
        raise TypeError(
            f"{where}: real must be a torch.Tensor batch or a sequence of d_steps tensors, "
            f"got {type(real).__name__}."
        )
    for i, batch in enumerate(batches):
        if not isinstance(batch, torch.Tensor):
            raise TypeError(f"{where}: real[{i}] must be a torch.Tensor, got {type(batch).__name__}.")
        if batch.ndim < 2 or batch.shape[0] == 0:
            raise ValueError(
                f"{where}: each real batch must have shape (N, ...) with N >= 1 samples, got "
                f"{tuple(batch.shape)}."
            )
    return batches


def train_step(
    generator: nn.Module,
    discriminator: nn.Module,
    g_optimizer: torch.optim.Optimizer,
    d_optimizer: torch.optim.Optimizer,
    real: torch.Tensor | Sequence[torch.Tensor],
    *,
    latent_dim: int,
    d_steps: int = 1,
    update: str = "alternating",
    g_loss_kind: str = "nonsaturating",
    real_label: float = 1.0,
) -> dict[str, float]:
    """One training step of a GAN: ``d_steps`` discriminator updates and one generator update.

    ``real`` is one batch of real data ``(N, ...)``, reused for each of the ``d_steps``
    discriminator updates, or a sequence of ``d_steps`` batches (one fresh batch per
    update).  Each discriminator update draws fresh noise of the batch's size; the
    generator update draws noise of the size of the last real batch.

    ``update="alternating"``: for each of the ``d_steps`` updates, generate fakes and
    ``.detach()`` them (the discriminator's loss must not send gradients into the
    generator), compute :func:`~gan_utils.torch.losses.discriminator_loss` on the real
    and fake logits, step ``d_optimizer``; then draw fresh noise, score the fakes with
    the *updated* discriminator, compute
    :func:`~gan_utils.torch.losses.generator_loss` and step ``g_optimizer``.

    ``update="simultaneous"`` (``d_steps`` must be 1): one forward pass with the current
    parameters gives both losses; the discriminator's gradient is taken with respect to
    its parameters only, the generator's with respect to its parameters only, both
    before either optimiser steps; then both step.

    ``g_loss_kind`` is ``"nonsaturating"`` or ``"saturating"``; ``real_label < 1`` is
    one-sided label smoothing.  Both networks are put in ``train()`` mode (and left in
    it).

    Returns Python floats ``{"d_loss", "g_loss", "d_real", "d_fake"}``: the losses of
    the last discriminator update and of the generator update (each computed before its
    own update), and the discriminator's mean probability ``sigmoid(logit)`` on the real
    batch and on the fakes of the last discriminator update.

    Raises ``FloatingPointError`` ("training diverged: d_loss=nan at this step …") as soon
    as a loss is NaN or infinite, before the update that would spread it into the
    weights.  Used in chapter 3 (and 4, 5, 7).
    """
    where = "train_step"
    for name, model in (("generator", generator), ("discriminator", discriminator)):
        if not isinstance(model, nn.Module):
            raise TypeError(f"{where}: {name} must be a torch.nn.Module, got {type(model).__name__}.")
    for name, opt in (("g_optimizer", g_optimizer), ("d_optimizer", d_optimizer)):
        if not isinstance(opt, torch.optim.Optimizer):
            raise TypeError(
                f"{where}: {name} must be a torch.optim.Optimizer, got {type(opt).__name__}."
            )
    latent_dim = _positive_int(where, "latent_dim", latent_dim)
    d_steps = _positive_int(where, "d_steps", d_steps)
    if update not in UPDATES:
        raise ValueError(f"{where}: unknown update {update!r}; expected one of {UPDATES}.")
    if g_loss_kind not in GENERATOR_LOSS_KINDS:
        raise ValueError(
            f"{where}: unknown g_loss_kind {g_loss_kind!r}; expected one of {GENERATOR_LOSS_KINDS}."
        )
    if update == "simultaneous" and d_steps != 1:
        raise ValueError(
            f"{where}: update='simultaneous' takes one discriminator and one generator step "
            f"from the same parameters, so d_steps must be 1, got {d_steps}; use "
            "update='alternating' for k discriminator steps per generator step."
        )
    if isinstance(real_label, bool) or not isinstance(real_label, Real) or not 0.0 < float(real_label) <= 1.0:
        raise ValueError(f"{where}: real_label must be a number in (0, 1], got {real_label!r}.")
    batches = _real_batches(real, d_steps, where)

    generator.train()
    discriminator.train()

    if update == "alternating":
        for real_batch in batches:
            z = sample_noise(real_batch.shape[0], latent_dim).to(real_batch.device)
            fake = generator(z).detach()  # D's loss must not reach G's weights
            real_logits = discriminator(real_batch)
            fake_logits = discriminator(fake)
            d_loss = discriminator_loss(real_logits, fake_logits, real_label=real_label)
            d_value = _guard("d_loss", d_loss)
            d_optimizer.zero_grad()
            d_loss.backward()
            d_optimizer.step()

        z = sample_noise(batches[-1].shape[0], latent_dim).to(batches[-1].device)
        g_logits = discriminator(generator(z))  # the updated D judges fresh fakes
        g_loss = generator_loss(g_logits, kind=g_loss_kind)
        g_value = _guard("g_loss", g_loss)
        g_optimizer.zero_grad()
        g_loss.backward()  # also fills D's .grad; the next D update zeroes it first
        g_optimizer.step()
    else:
        real_batch = batches[0]
        z = sample_noise(real_batch.shape[0], latent_dim).to(real_batch.device)
        fake = generator(z)  # not detached: G's loss needs this graph
        real_logits = discriminator(real_batch)
        fake_logits = discriminator(fake)
        d_loss = discriminator_loss(real_logits, fake_logits, real_label=real_label)
        g_loss = generator_loss(fake_logits, kind=g_loss_kind)
        d_value = _guard("d_loss", d_loss)
        g_value = _guard("g_loss", g_loss)
        d_params = [p for p in discriminator.parameters() if p.requires_grad]
        g_params = [p for p in generator.parameters() if p.requires_grad]
        # Both gradients at the current parameters, each w.r.t. its own player only.
        d_grads = torch.autograd.grad(d_loss, d_params, retain_graph=True, allow_unused=True)
        g_grads = torch.autograd.grad(g_loss, g_params, allow_unused=True)
        for p, grad in zip(d_params, d_grads):
            p.grad = grad
        for p, grad in zip(g_params, g_grads):
            p.grad = grad
        d_optimizer.step()
        g_optimizer.step()

    with torch.no_grad():
        d_real = float(torch.sigmoid(real_logits).mean())
        d_fake = float(torch.sigmoid(fake_logits).mean())
    return {"d_loss": d_value, "g_loss": g_value, "d_real": d_real, "d_fake": d_fake}
