"""The PyTorch half of gan_utils: models, losses and the training step.

- :mod:`gan_utils.torch.models` -- ``mlp_generator``, ``mlp_discriminator``, ``count_parameters``;
- :mod:`gan_utils.torch.losses` -- ``discriminator_loss``, ``generator_loss`` (on logits);
- :mod:`gan_utils.torch.train` -- ``sample_noise``, ``train_step``.

The TensorFlow half, :mod:`gan_utils.tensorflow`, mirrors these names, signatures,
defaults and reductions.  Importing this package imports PyTorch.  Used in chapter 3
(and 4, 5, 7).
"""

from .losses import GENERATOR_LOSS_KINDS, discriminator_loss, generator_loss
from .models import count_parameters, mlp_discriminator, mlp_generator
from .train import UPDATES, sample_noise, train_step

__all__ = [
    "GENERATOR_LOSS_KINDS",
    "UPDATES",
    "count_parameters",
    "discriminator_loss",
    "generator_loss",
    "mlp_discriminator",
    "mlp_generator",
    "sample_noise",
    "train_step",
]
