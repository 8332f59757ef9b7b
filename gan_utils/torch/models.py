"""Small fully-connected GANs for toy data, in PyTorch.

A generator maps noise ``z`` of shape ``(N, latent_dim)`` to samples ``(N, data_dim)``;
a discriminator maps samples to one **logit** per sample, ``(N, 1)`` (no sigmoid: the
losses in :mod:`gan_utils.torch.losses` take logits).  The toy data of chapter 3 are
unbounded, so the generator ends in a plain ``Linear`` layer (an image generator would
end in ``tanh``).  The layers use PyTorch's default initialisation.

The TensorFlow half (``gan_utils.tensorflow.models``) builds the same layers with the
same names and parameter counts.  Used in chapter 3 (and 4, 5, 7).
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Sequence

import torch
from torch import nn

__all__ = ["mlp_generator", "mlp_discriminator", "count_parameters"]


def _positive_int(where: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or int(value) < 1:
        raise ValueError(f"{where}: {name} must be a positive int, got {value!r}.")
    return int(value)


def _hidden_sizes(where: str, hidden: object) -> tuple[int, ...]:
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
        raise TypeError(
            f"{where}: hidden must be a sequence of layer widths such as (64, 64), got {hidden!r}."
        )
    return tuple(_positive_int(where, f"hidden[{i}]", h) for i, h in enumerate(hidden))


def mlp_generator(latent_dim: int, data_dim: int, hidden: Sequence[int] = (64, 64)) -> nn.Sequential:
    """A multilayer perceptron generator: ``Linear -> ReLU`` per hidden width, then ``Linear``.

    Maps ``(N, latent_dim)`` noise to ``(N, data_dim)`` samples.  The last layer has no
    activation, because the toy distributions are unbounded.  With the defaults
    ``(latent_dim=2, data_dim=2)`` it has ``2*64+64 + 64*64+64 + 64*2+2 = 4482`` parameters.
    Used in chapter 3 (and 4, 5, 7).
    """
    where = "mlp_generator"
    latent_dim = _positive_int(where, "latent_dim", latent_dim)
    data_dim = _positive_int(where, "data_dim", data_dim)
    widths = _hidden_sizes(where, hidden)
    layers: list[nn.Module] = []
    previous = latent_dim
    for width in widths:
        layers += [nn.Linear(previous, width), nn.ReLU()]
        previous = width
    layers.append(nn.Linear(previous, data_dim))
    return nn.Sequential(*layers)


def mlp_discriminator(
    data_dim: int, hidden: Sequence[int] = (64, 64), negative_slope: float = 0.2
) -> nn.Sequential:
    """A multilayer perceptron discriminator: ``Linear -> LeakyReLU`` per hidden width, then ``Linear(., 1)``.

    Maps ``(N, data_dim)`` samples to ``(N, 1)`` logits (no sigmoid).  ``negative_slope``
    is the LeakyReLU slope for negative inputs (0.2, as in DCGAN; 0 gives a ReLU).
    Used in chapter 3 (and 4, 5, 7).
    """
    where = "mlp_discriminator"
    data_dim = _positive_int(where, "data_dim", data_dim)
    widths = _hidden_sizes(where, hidden)
    if (
        isinstance(negative_slope, bool)
        or not isinstance(negative_slope, Real)
        or not 0.0 <= float(negative_slope) < 1.0
    ):
        raise ValueError(
            f"{where}: negative_slope must be a number in [0, 1), got {negative_slope!r}."
        )
    layers: list[nn.Module] = []
    previous = data_dim
    for width in widths:
        layers += [nn.Linear(previous, width), nn.LeakyReLU(float(negative_slope))]
        previous = width
    layers.append(nn.Linear(previous, 1))
    return nn.Sequential(*layers)


def count_parameters(model: nn.Module) -> int:
    """Number of scalar parameters in ``model`` (trainable or not).  Used in chapter 3 (and 4, 5)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"count_parameters: model must be a torch.nn.Module, got {type(model).__name__}.")
    return int(sum(p.numel() for p in model.parameters()))
