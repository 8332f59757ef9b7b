"""Small fully-connected GANs for toy data, in TensorFlow / Keras 3.

A generator maps noise ``z`` of shape ``(N, latent_dim)`` to samples ``(N, data_dim)``;
a discriminator maps samples to one **logit** per sample, ``(N, 1)`` (no sigmoid: the
losses in :mod:`gan_utils.tensorflow.losses` take logits).  The toy data of chapter 3
are unbounded, so the generator ends in a plain ``Dense`` layer (an image generator
would end in ``tanh``).

The layers mirror ``gan_utils.torch.models`` one for one (``Dense`` for ``nn.Linear``,
``ReLU``/``LeakyReLU`` as separate layers), so both have the same parameter counts and a
PyTorch ``Linear`` weight ``W`` (shape ``(out, in)``) is a Keras ``Dense`` kernel ``W.T``
(shape ``(in, out)``).  The models are built (they start with a ``keras.Input``), so
their weights exist as soon as they are created.

Initialisation: Keras' default for ``Dense`` is Glorot-uniform weights and zero biases;
PyTorch's ``nn.Linear`` draws weights *and* biases from ``U(-1/sqrt(fan_in),
1/sqrt(fan_in))``.  These models use PyTorch's rule, so the two twins start from the
same distribution of weights (not the same numbers: the random generators differ) and
behave alike with the same hyperparameters.  Used in chapter 3 (and 4, 5, 7).
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Sequence

import keras
import numpy as np

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


def _torch_like_dense(fan_in: int, units: int, name: str | None = None) -> keras.layers.Dense:
    """A ``Dense(units)`` layer initialised like PyTorch's ``nn.Linear(fan_in, units)``.

    Weights and biases are drawn from ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` (for the
    kernel this is ``VarianceScaling(1/3, "fan_in", "uniform")``, PyTorch's
    ``kaiming_uniform_(a=sqrt(5))``).  Used by the models of chapter 3 (and 4, 5, 7).
    """
    fan_in = _positive_int("_torch_like_dense", "fan_in", fan_in)
    units = _positive_int("_torch_like_dense", "units", units)
    bound = 1.0 / math.sqrt(fan_in)
    return keras.layers.Dense(
        units,
        kernel_initializer=keras.initializers.VarianceScaling(
            scale=1.0 / 3.0, mode="fan_in", distribution="uniform"
        ),
        bias_initializer=keras.initializers.RandomUniform(-bound, bound),
        name=name,
    )


def mlp_generator(latent_dim: int, data_dim: int, hidden: Sequence[int] = (64, 64)) -> keras.Sequential:
    """A multilayer perceptron generator: ``Dense -> ReLU`` per hidden width, then ``Dense``.

    Maps ``(N, latent_dim)`` noise to ``(N, data_dim)`` samples.  The last layer has no
    activation, because the toy distributions are unbounded.  With ``latent_dim=2,
    data_dim=2`` and the default widths it has ``2*64+64 + 64*64+64 + 64*2+2 = 4482``
    parameters, like ``gan_utils.torch.models.mlp_generator``.  Returns a built
    ``keras.Sequential`` named ``"generator"``.  Used in chapter 3 (and 4, 5, 7).
    """
    where = "mlp_generator"
    latent_dim = _positive_int(where, "latent_dim", latent_dim)
    data_dim = _positive_int(where, "data_dim", data_dim)
    widths = _hidden_sizes(where, hidden)
    layers: list = [keras.Input(shape=(latent_dim,), name="z")]
    previous = latent_dim
    for i, width in enumerate(widths):
        layers += [_torch_like_dense(previous, width, name=f"dense_{i}"), keras.layers.ReLU(name=f"relu_{i}")]
        previous = width
    layers.append(_torch_like_dense(previous, data_dim, name="out"))
    return keras.Sequential(layers, name="generator")


def mlp_discriminator(
    data_dim: int, hidden: Sequence[int] = (64, 64), negative_slope: float = 0.2
) -> keras.Sequential:
    """A multilayer perceptron discriminator: ``Dense -> LeakyReLU`` per hidden width, then ``Dense(1)``.

    Maps ``(N, data_dim)`` samples to ``(N, 1)`` logits (no sigmoid).  ``negative_slope``
    is the LeakyReLU slope for negative inputs (0.2, as in DCGAN; 0 gives a ReLU).
    Returns a built ``keras.Sequential`` named ``"discriminator"``.
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
    layers: list = [keras.Input(shape=(data_dim,), name="x")]
    previous = data_dim
    for i, width in enumerate(widths):
        layers += [
            _torch_like_dense(previous, width, name=f"dense_{i}"),
            keras.layers.LeakyReLU(negative_slope=float(negative_slope), name=f"leaky_relu_{i}"),
        ]
        previous = width
    layers.append(_torch_like_dense(previous, 1, name="logit"))
    return keras.Sequential(layers, name="discriminator")


def count_parameters(model: keras.Model) -> int:
    """Number of scalar weights in ``model`` (trainable or not), like ``model.count_params()``.

    Raises ``ValueError`` for a model that is not built yet (it has no weights to count).
    Used in chapter 3 (and 4, 5).
    """
    if not isinstance(model, keras.layers.Layer):
        raise TypeError(
            f"count_parameters: model must be a keras Model or Layer, got {type(model).__name__}."
        )
    if not model.built:
        raise ValueError(
            f"count_parameters: model {model.name!r} is not built, so it has no weights yet; "
            "call it on a batch or give it a keras.Input first."
        )
    return int(sum(int(np.prod(v.shape)) for v in model.weights))
