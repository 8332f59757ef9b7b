"""The TensorFlow half of gan_utils: models, losses and the training step (Keras 3).

- :mod:`gan_utils.tensorflow.models` -- ``mlp_generator``, ``mlp_discriminator``, ``count_parameters``;
- :mod:`gan_utils.tensorflow.losses` -- ``discriminator_loss``, ``generator_loss`` (on logits),
  ``wasserstein_critic_loss``, ``wasserstein_generator_loss`` (on critic scores);
- :mod:`gan_utils.tensorflow.regularizers` -- ``gradient_penalty``, ``r1_penalty``, ``spectral_norm``,
  ``largest_singular_value``, ``clip_weights`` (chapter 7, in preparation);
- :mod:`gan_utils.tensorflow.train` -- ``sample_noise``, ``train_step``, and ``GAN``, the
  same step as a ``keras.Model`` with an overridden ``train_step``.

It mirrors the PyTorch half, :mod:`gan_utils.torch`: the same names, signatures,
defaults and reductions (``GAN`` is TensorFlow-only).  Importing this package imports
TensorFlow.  Used in chapter 3 (and 4, 5, 7).
"""

from .losses import (
    GENERATOR_LOSS_KINDS,
    discriminator_loss,
    generator_loss,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from .models import count_parameters, mlp_discriminator, mlp_generator
from .regularizers import (
    clip_weights,
    gradient_penalty,
    largest_singular_value,
    r1_penalty,
    spectral_norm,
)
from .train import GAN, UPDATES, sample_noise, train_step

__all__ = [
    "GAN",
    "GENERATOR_LOSS_KINDS",
    "UPDATES",
    "clip_weights",
    "count_parameters",
    "discriminator_loss",
    "generator_loss",
    "gradient_penalty",
    "largest_singular_value",
    "mlp_discriminator",
    "mlp_generator",
    "r1_penalty",
    "sample_noise",
    "spectral_norm",
    "train_step",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
]
