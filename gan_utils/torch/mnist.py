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

**DCGAN** (chapter 5), after Radford et al. 2015 but sized for 28x28x1 and a 2-core CPU,
with two additions to the discriminator that even out the classes of the generated digits
(``benchmarks/README.md`` measures them):

- generator: ``z`` as a ``1x1`` map -> ``ConvTranspose(k7)`` to ``7x7x(2*width)`` ->
  BatchNorm -> ReLU -> ``ConvTranspose(k4, s2, p1)`` to ``14x14xwidth`` -> BatchNorm ->
  ReLU -> ``ConvTranspose(k4, s2, p1)`` to ``28x28x1`` -> ``tanh`` (no BatchNorm on the
  output layer);
- discriminator: ``Conv(k4, s2, p1)`` to ``14x14xwidth`` -> LeakyReLU(0.2) (no BatchNorm
  on the input layer) -> ``Conv(k4, s2, p1)`` to ``7x7x(2*width)`` -> BatchNorm ->
  LeakyReLU(0.2) -> ``Conv(k7)`` to a ``1x1`` logit;
- the generator is twice as wide as the discriminator by default (width 64 against 32):
  on this CPU the generator's width costs little time, the discriminator's a lot;
- PacGAN packing (Lin et al. 2018), :class:`PackImages`: the discriminator judges
  ``pack`` images at once, stacked as channels, so it sees ``pack`` independent samples
  and can tell a generator that keeps drawing similar digits from the data; it returns
  one logit per *group* of ``pack`` images, ``(N / pack, 1)``;
- a minibatch standard-deviation channel (Karras et al. 2018), :class:`MinibatchStd`,
  before the last layer: the batch's mean feature spread, a second way for the
  discriminator to see a lack of variety;
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
    "DCGAN_DISCRIMINATOR_WIDTH",
    "DCGAN_GENERATOR_WIDTH",
    "DCGAN_PACK",
    "IMAGE_SHAPE",
    "MinibatchStd",
    "PackImages",
    "dcgan_discriminator",
    "dcgan_generator",
    "discriminator_pack",
    "init_dcgan_weights",
    "mlp_discriminator",
    "mlp_generator",
]

#: One MNIST image in PyTorch's layout (channels, height, width).
IMAGE_SHAPE = (1, 28, 28)

#: The DCGAN generator's default ``width`` (channels of its 14x14 feature maps; its 7x7 maps
#: have twice as many).  ``benchmarks/`` chose it: wider than the discriminator, because on the
#: course's 2-core CPU the generator's width costs little and evens out the digits' classes.
DCGAN_GENERATOR_WIDTH = 64

#: The DCGAN discriminator's default ``width`` (its 14x14 maps; the 7x7 maps have twice as
#: many).  Its cost grows with ``width**2`` (``benchmarks/mnist_step_speed.py``).
DCGAN_DISCRIMINATOR_WIDTH = 32

#: The DCGAN discriminator's default PacGAN degree: it judges pairs of images.
DCGAN_PACK = 2

#: Added inside the square root of the minibatch standard deviation (Karras et al. 2018): it
#: keeps the gradient finite when every sample of a batch is the same.
MINIBATCH_STD_EPS = 1e-8

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


def dcgan_generator(latent_dim: int = 100, width: int = DCGAN_GENERATOR_WIDTH) -> nn.Sequential:
    """The DCGAN generator of chapter 5: ``(N, latent_dim)`` noise to ``(N, 1, 28, 28)`` images in ``[-1, 1]``.

    ``z`` -> Linear to 7·7·(2·width) -> reshape to 7x7x(2·width) -> BatchNorm -> ReLU ->
    ConvTranspose2d(k=4, s=2, p=1) to 14x14xwidth -> BatchNorm -> ReLU ->
    ConvTranspose2d(k=4, s=2, p=1) to 28x28x1 -> tanh.  The first layer is the paper's
    "projection and reshape" (a matrix product, no bias since BatchNorm follows).
    Initialised by :func:`init_dcgan_weights`.  With the default ``width`` (64) it has
    ``100·128·49 + 2·128 + 128·64·16 + 2·64 + 64·16 + 1 = 759,681`` parameters; with
    ``width=32``, 347,073 (BatchNorm running statistics are buffers, not parameters).
    Used in chapters 5 and 6.
    """
    where = "dcgan_generator"
    latent_dim = _positive_int(where, "latent_dim", latent_dim)
    width = _positive_int(where, "width", width)
    model = nn.Sequential(
        # Radford et al.'s first layer is "just a matrix multiplication", reshaped to a map.
        # (The same map as a ConvTranspose2d(k=7) of a 1x1 input, but 3x faster on a CPU.)
        nn.Linear(latent_dim, 2 * width * 7 * 7, bias=False),
        nn.Unflatten(1, (2 * width, 7, 7)),
        _bn(2 * width),
        nn.ReLU(),
        nn.ConvTranspose2d(2 * width, width, kernel_size=4, stride=2, padding=1, bias=False),
        _bn(width),
        nn.ReLU(),
        nn.ConvTranspose2d(width, 1, kernel_size=4, stride=2, padding=1, bias=True),
        nn.Tanh(),
    )
    return init_dcgan_weights(model)


class PackImages(nn.Module):
    """PacGAN packing (Lin et al. 2018): ``(N, C, H, W)`` images to ``(N / pack, pack·C, H, W)`` groups.

    Images ``pack·i`` to ``pack·i + pack - 1`` become the channels of group ``i``, so a
    discriminator that starts with this layer gives one logit per group of ``pack``
    images.  Call it on batches that are all real or all generated (as
    :func:`gan_utils.torch.train.train_step` does).  A batch whose size is not a multiple
    of ``pack`` raises ``ValueError``.  Used in chapter 5.
    """

    def __init__(self, pack: int):
        super().__init__()
        self.pack = _positive_int("PackImages", "pack", pack)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.ndim != 4 or images.shape[0] % self.pack:
            raise ValueError(
                f"PackImages: expected a batch (N, C, H, W) with N a multiple of pack={self.pack} "
                f"(the discriminator judges groups of {self.pack} images), got shape {tuple(images.shape)}."
            )
        n, c, h, w = images.shape
        return images.reshape(n // self.pack, self.pack * c, h, w)

    def extra_repr(self) -> str:
        return f"pack={self.pack}"


class MinibatchStd(nn.Module):
    """Appends one channel holding the batch's mean feature standard deviation (Karras et al. 2018).

    For features ``h`` of shape ``(N, C, H, W)``: the standard deviation over the batch of
    every feature (population formula, ``MINIBATCH_STD_EPS`` inside the square root),
    averaged over all ``C·H·W`` features, is one number; it is broadcast to an extra
    channel, giving ``(N, C + 1, H, W)``.  A generator whose samples look alike lowers it,
    and the discriminator can see that.  (Karras et al. split the batch into groups of 4;
    here the whole batch is one group.)  Used in chapter 5.
    """

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if h.ndim != 4:
            raise ValueError(f"MinibatchStd: expected features (N, C, H, W), got shape {tuple(h.shape)}.")
        spread = torch.sqrt(h.var(dim=0, unbiased=False) + MINIBATCH_STD_EPS).mean()
        return torch.cat([h, spread.expand(h.shape[0], 1, h.shape[2], h.shape[3])], dim=1)


def dcgan_discriminator(
    width: int = DCGAN_DISCRIMINATOR_WIDTH,
    *,
    negative_slope: float = 0.2,
    pack: int = DCGAN_PACK,
    minibatch_std: bool = True,
) -> nn.Sequential:
    """The DCGAN discriminator of chapter 5: ``(N, 1, 28, 28)`` images to ``(N / pack, 1)`` logits.

    [:class:`PackImages` if ``pack > 1``] -> Conv2d(k=4, s=2, p=1) to 14x14xwidth ->
    LeakyReLU(0.2) -> Conv2d(k=4, s=2, p=1) to 7x7x(2·width) -> BatchNorm ->
    LeakyReLU(0.2) -> [:class:`MinibatchStd` if ``minibatch_std``] -> Conv2d(k=7) to a
    1x1 logit -> flatten.  No BatchNorm on the input layer (Radford et al.: it caused
    sample oscillation).  ``pack=1, minibatch_std=False`` is the plain DCGAN
    discriminator, one logit per image.  Initialised by :func:`init_dcgan_weights`.
    With the defaults (width 32, pairs, minibatch std) it has
    ``2·32·16+32 + 32·64·16 + 2·64 + 65·49+1 = 37,138`` parameters; the plain one with
    width 32 has ``16·32+32 + 32·64·16 + 2·64 + 64·49+1 = 36,577``.  Used in chapters 5 and 6.
    """
    where = "dcgan_discriminator"
    width = _positive_int(where, "width", width)
    slope = _slope(where, negative_slope)
    pack = _positive_int(where, "pack", pack)
    if not isinstance(minibatch_std, bool):
        raise TypeError(f"{where}: minibatch_std must be True or False, got {minibatch_std!r}.")
    layers: list[nn.Module] = [PackImages(pack)] if pack > 1 else []
    layers += [
        nn.Conv2d(pack, width, kernel_size=4, stride=2, padding=1, bias=True),
        nn.LeakyReLU(slope),
        nn.Conv2d(width, 2 * width, kernel_size=4, stride=2, padding=1, bias=False),
        _bn(2 * width),
        nn.LeakyReLU(slope),
    ]
    if minibatch_std:
        layers.append(MinibatchStd())
    layers += [
        nn.Conv2d(2 * width + int(minibatch_std), 1, kernel_size=7, stride=1, padding=0, bias=True),
        nn.Flatten(),
    ]
    return init_dcgan_weights(nn.Sequential(*layers))


def _is_pack(value: object) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool) and int(value) >= 1


def discriminator_pack(discriminator: nn.Module) -> int:
    """How many images a discriminator judges per logit: the ``pack`` of its packing layer, else 1.

    A packing layer is a :class:`PackImages`, or any submodule with an integer attribute
    ``pack`` (such as the one chapter 5 writes out itself).  :func:`gan_utils.torch.fit.fit`
    uses it to check the models and the batch size.  Used in chapter 5.
    """
    if not isinstance(discriminator, nn.Module):
        raise TypeError(
            f"discriminator_pack: discriminator must be a torch.nn.Module, got {type(discriminator).__name__}."
        )
    packs = [m.pack for m in discriminator.modules() if _is_pack(getattr(m, "pack", None))]
    if len(packs) > 1:
        raise ValueError(f"discriminator_pack: the discriminator has {len(packs)} packing layers; expected at most 1.")
    return int(packs[0]) if packs else 1


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
