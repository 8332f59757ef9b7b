"""The PyTorch half of gan_utils: models, losses and the training step.

- :mod:`gan_utils.torch.models` -- ``mlp_generator``, ``mlp_discriminator``, ``count_parameters``;
- :mod:`gan_utils.torch.losses` -- ``discriminator_loss``, ``generator_loss`` (on logits),
  ``wasserstein_critic_loss``, ``wasserstein_generator_loss`` (on critic scores);
- :mod:`gan_utils.torch.regularizers` -- ``gradient_penalty``, ``r1_penalty``, ``spectral_norm``,
  ``largest_singular_value``, ``clip_weights`` (chapter 7, in preparation);
- :mod:`gan_utils.torch.train` -- ``sample_noise``, ``train_step``.

The TensorFlow half, :mod:`gan_utils.tensorflow`, mirrors these names, signatures,
defaults and reductions.  Importing this package imports PyTorch.  Used in chapter 3
(and 4, 5, 7).
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
from .train import UPDATES, sample_noise, train_step

__all__ = [
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
