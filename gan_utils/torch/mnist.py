"""The MNIST GANs of chapters 4 and 5, in PyTorch: an MLP GAN and a small DCGAN.

Every generator maps noise ``z`` of shape ``(N, latent_dim)`` to images ``(N, 1, 28, 28)``
(NCHW) in ``[-1, 1]`` (a final ``tanh``); every discriminator maps such images to one
**logit** per image, ``(N, 1)`` (no sigmoid: the losses of :mod:`gan_utils.torch.losses`
take logits).  The TensorFlow half, :mod:`gan_utils.tensorflow.mnist`, builds the same
layers with the same names, defaults and parameter counts (NHWC images there), and
``tests/test_mnist_models.py`` checks that with the same weights both give the same
numbers.

**MLP GAN** (chapter 4), the fully-connected GAN of source document 000, done right:

- generator ``100 -> 256 -> 512 -> 784``, ``tanh`` output, reshaped to an image;
- discriminator ``784 -> 512 -> 256 -> 1`` logit;
- both hidden stacks use ``LeakyReLU(0.2)``.  The source document uses ``ReLU`` in both
  and a ``sigmoid`` output in D; the sigmoid is dropped (losses on logits), the leaky
  slope keeps gradients flowing to the generator through units that a ReLU would
  switch off.  ``negative_slope=0`` gives the source's ReLU back.
- layers are initialised like Keras' ``Dense`` (Glorot-uniform weights, zero biases;
  Glorot and Bengio 2010) rather than with PyTorch's default (weights and biases
  ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``), so that both twins start from the same
  distribution of weights;
- what makes it train (used by :func:`gan_utils.torch.fit.fit`): Adam with learning rate
  ``2e-4`` and ``beta1 = 0.5`` for both players (Radford et al. 2015), batch 128, the
  non-saturating generator loss.  The source document's Adam defaults (``1e-3``,
  ``beta1 = 0.9``) oscillate.

**DCGAN** (chapter 5), after Radford et al. 2015 but sized for 28x28x1 and a 2-core CPU:

- generator: ``z`` as a ``1x1`` map -> ``ConvTranspose(k7)`` to ``7x7x(2*width)`` ->
  BatchNorm -> ReLU -> ``ConvTranspose(k4, s2, p1)`` to ``14x14xwidth`` -> BatchNorm ->
  ReLU -> ``ConvTranspose(k4, s2, p1)`` to ``28x28x1`` -> ``tanh`` (no BatchNorm on the
  output layer);
- discriminator: ``Conv(k4, s2, p1)`` to ``14x14xwidth`` -> LeakyReLU(0.2) (no BatchNorm
  on the input layer) -> ``Conv(k4, s2, p1)`` to ``7x7x(2*width)`` -> BatchNorm ->
  LeakyReLU(0.2) -> ``Conv(k7)`` to a ``1x1`` logit;
- layers followed by BatchNorm have no bias (BatchNorm's shift replaces it); the others do;
- :func:`init_dcgan_weights` draws conv weights from ``N(0, 0.02)``, BatchNorm scales
  from ``N(1, 0.02)`` and sets biases and BatchNorm shifts to 0 (the constructors call it);
- BatchNorm uses PyTorch's defaults ``eps=1e-5, momentum=0.1`` (Keras: ``epsilon=1e-5,
  momentum=0.9``, the same update written the other way round).

Used in chapters 4 and 5.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Sequence

import torch
from torch import nn

__all__ = [
    "DCGAN_WIDTH",
    "IMAGE_SHAPE",
    "dcgan_discriminator",
    "dcgan_generator",
    "init_dcgan_weights",
    "mlp_discriminator",
    "mlp_generator",
]

#: One MNIST image in PyTorch's layout (channels, height, width).
IMAGE_SHAPE = (1, 28, 28)

#: The DCGAN's default ``width`` (channels of the 14x14 feature maps; the 7x7 maps have
#: twice as many), chosen by ``benchmarks/mnist_step_speed.py`` on the course's 2-core CPU.
DCGAN_WIDTH = 32

_BN_EPS = 1e-5
_BN_MOMENTUM = 0.1  # PyTorch's convention; Keras' momentum is 1 - this, 0.9


def _positive_int(where: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or int(value) < 1:
        raise ValueError(f"{where}: {name} must be a positive int, got {value!r}.")
    return int(value)


def _slope(where: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not 0.0 <= float(value) < 1.0:
        raise ValueError(
            f"{where}: negative_slope must be a number in [0, 1) (0 gives a ReLU), got {value!r}."
        )
    return float(value)


def _widths(where: str, hidden: object) -> tuple[int, ...]:
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence) or len(hidden) == 0:
        raise TypeError(
            f"{where}: hidden must be a non-empty sequence of layer widths such as (256, 512), "
            f"got {hidden!r}."
        )
    return tuple(_positive_int(where, f"hidden[{i}]", h) for i, h in enumerate(hidden))


def _glorot_linear(fan_in: int, fan_out: int) -> nn.Linear:
    # Keras' Dense default (Glorot-uniform weights, zero biases), so the twins start alike.
    layer = nn.Linear(fan_in, fan_out)
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


def mlp_generator(
    latent_dim: int = 100, *, hidden: Sequence[int] = (256, 512), negative_slope: float = 0.2
) -> nn.Sequential:
    """The MLP generator of chapter 4: ``Linear -> LeakyReLU`` per hidden width, ``Linear(., 784) -> tanh``.

    Maps ``(N, latent_dim)`` noise to ``(N, 1, 28, 28)`` images in ``[-1, 1]``.  With the
    defaults (``100 -> 256 -> 512 -> 784``) it has ``100*256+256 + 256*512+512 +
    512*784+784 = 559,632`` parameters.  ``negative_slope=0`` gives the ReLUs of source
    document 000.  Used in chapters 4 and 5.
    """
    where = "mlp_generator"
    latent_dim = _positive_int(where, "latent_dim", latent_dim)
    widths = _widths(where, hidden)
    slope = _slope(where, negative_slope)
    layers: list[nn.Module] = []
    previous = latent_dim
    for width in widths:
        layers += [_glorot_linear(previous, width), nn.LeakyReLU(slope)]
        previous = width
    layers += [_glorot_linear(previous, 28 * 28), nn.Tanh(), nn.Unflatten(1, IMAGE_SHAPE)]
    return nn.Sequential(*layers)


def mlp_discriminator(*, hidden: Sequence[int] = (512, 256), negative_slope: float = 0.2) -> nn.Sequential:
    """The MLP discriminator of chapter 4: ``Flatten``, ``Linear -> LeakyReLU`` per hidden width, ``Linear(., 1)``.

    Maps ``(N, 1, 28, 28)`` images to ``(N, 1)`` logits (no sigmoid).  With the defaults
    (``784 -> 512 -> 256 -> 1``) it has ``784*512+512 + 512*256+256 + 256+1 = 533,505``
    parameters.  Used in chapters 4 and 5.
    """
    where = "mlp_discriminator"
    widths = _widths(where, hidden)
    slope = _slope(where, negative_slope)
    layers: list[nn.Module] = [nn.Flatten()]
    previous = 28 * 28
    for width in widths:
        layers += [_glorot_linear(previous, width), nn.LeakyReLU(slope)]
        previous = width
    layers.append(_glorot_linear(previous, 1))
    return nn.Sequential(*layers)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=_BN_EPS, momentum=_BN_MOMENTUM)


def dcgan_generator(latent_dim: int = 100, width: int = DCGAN_WIDTH) -> nn.Sequential:
    """The DCGAN generator of chapter 5: ``(N, latent_dim)`` noise to ``(N, 1, 28, 28)`` images in ``[-1, 1]``.

    ``z`` (as a 1x1 map) -> ConvTranspose2d(k=7) to 7x7x(2·width) -> BatchNorm -> ReLU ->
    ConvTranspose2d(k=4, s=2, p=1) to 14x14xwidth -> BatchNorm -> ReLU ->
    ConvTranspose2d(k=4, s=2, p=1) to 28x28x1 -> tanh.  The first layer is the paper's
    "projection and reshape" written as a transposed convolution of a 1x1 map.
    Initialised by :func:`init_dcgan_weights`.  With the default ``width`` it has
    ``100·64·49 + 2·64 + 64·32·16 + 2·32 + 32·16 + 1 = 347,073`` parameters
    (BatchNorm running statistics are buffers, not parameters).  Used in chapters 4 and 5.
    """
    where = "dcgan_generator"
    latent_dim = _positive_int(where, "latent_dim", latent_dim)
    width = _positive_int(where, "width", width)
    model = nn.Sequential(
        nn.Unflatten(1, (latent_dim, 1, 1)),
        nn.ConvTranspose2d(latent_dim, 2 * width, kernel_size=7, stride=1, padding=0, bias=False),
        _bn(2 * width),
        nn.ReLU(),
        nn.ConvTranspose2d(2 * width, width, kernel_size=4, stride=2, padding=1, bias=False),
        _bn(width),
        nn.ReLU(),
        nn.ConvTranspose2d(width, 1, kernel_size=4, stride=2, padding=1, bias=True),
        nn.Tanh(),
    )
    return init_dcgan_weights(model)


def dcgan_discriminator(width: int = DCGAN_WIDTH, *, negative_slope: float = 0.2) -> nn.Sequential:
    """The DCGAN discriminator of chapter 5: ``(N, 1, 28, 28)`` images to ``(N, 1)`` logits.

    Conv2d(k=4, s=2, p=1) to 14x14xwidth -> LeakyReLU(0.2) -> Conv2d(k=4, s=2, p=1) to
    7x7x(2·width) -> BatchNorm -> LeakyReLU(0.2) -> Conv2d(k=7) to a 1x1 logit ->
    flatten.  No BatchNorm on the input layer (Radford et al.: it caused sample
    oscillation).  Initialised by :func:`init_dcgan_weights`.  With the default
    ``width`` it has ``16·32+32 + 32·64·16 + 2·64 + 64·49+1 = 36,577`` parameters.
    Used in chapters 4 and 5.
    """
    where = "dcgan_discriminator"
    width = _positive_int(where, "width", width)
    slope = _slope(where, negative_slope)
    model = nn.Sequential(
        nn.Conv2d(1, width, kernel_size=4, stride=2, padding=1, bias=True),
        nn.LeakyReLU(slope),
        nn.Conv2d(width, 2 * width, kernel_size=4, stride=2, padding=1, bias=False),
        _bn(2 * width),
        nn.LeakyReLU(slope),
        nn.Conv2d(2 * width, 1, kernel_size=7, stride=1, padding=0, bias=True),
        nn.Flatten(),
    )
    return init_dcgan_weights(model)


def init_dcgan_weights(model: nn.Module, *, generator: torch.Generator | None = None) -> nn.Module:
    """Radford et al.'s initialisation, in place: conv weights ``N(0, 0.02)``, BatchNorm scales ``N(1, 0.02)``.

    Every ``Conv*``/``ConvTranspose*`` and ``Linear`` weight is drawn from ``N(0, 0.02²)``,
    every BatchNorm scale from ``N(1, 0.02²)``; biases and BatchNorm shifts are set to 0
    (the running statistics are left alone).  ``generator`` is an optional
    ``torch.Generator`` (default: PyTorch's global one, which ``seed_everything`` seeds).
    Returns ``model``.  Used in chapters 4 and 5.
    """
    where = "init_dcgan_weights"
    if not isinstance(model, nn.Module):
        raise TypeError(f"{where}: model must be a torch.nn.Module, got {type(model).__name__}.")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(
            f"{where}: generator must be a torch.Generator or None, got {type(generator).__name__}."
        )
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.Linear)):
                module.weight.normal_(0.0, 0.02, generator=generator)
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, nn.modules.batchnorm._BatchNorm):
                if module.weight is not None:
                    module.weight.normal_(1.0, 0.02, generator=generator)
                if module.bias is not None:
                    module.bias.zero_()
    return model
