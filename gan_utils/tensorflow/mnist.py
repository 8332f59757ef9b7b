"""The MNIST GANs of chapters 4 and 5, in TensorFlow / Keras 3: an MLP GAN and a small DCGAN.

Every generator maps noise ``z`` of shape ``(N, latent_dim)`` to images ``(N, 28, 28, 1)``
(NHWC, TensorFlow's layout) in ``[-1, 1]``; every discriminator maps such images to one
**logit** per image, ``(N, 1)``.  The layers mirror :mod:`gan_utils.torch.mnist` one for
one -- same names, defaults, parameter counts and padding -- so that with the same
weights both halves compute the same numbers (``tests/test_mnist_models.py`` checks it
to 1e-5 with :func:`copy_weights_torch_to_tf`).  See the PyTorch module for the
architectures and the reasons behind each choice.

Correspondences, PyTorch -> Keras:

- ``nn.Linear`` weight ``(out, in)`` -> ``Dense`` kernel ``(in, out)``;
- ``nn.Conv2d(k=4, s=2, p=1)`` -> ``Conv2D(k=4, strides=2, padding="same")`` (on even
  inputs TensorFlow's "same" pads one pixel on each side, exactly like ``p=1``); weight
  ``(out, in, kh, kw)`` -> kernel ``(kh, kw, in, out)``;
- ``nn.ConvTranspose2d(k=4, s=2, p=1)`` -> ``Conv2DTranspose(k=4, strides=2,
  padding="same")``; weight ``(in, out, kh, kw)`` -> kernel ``(kh, kw, out, in)``, with
  no spatial flip (both are the adjoint of the same cross-correlation);
- the DCGAN generator's projection ``nn.Linear`` + ``nn.Unflatten(1, (C, 7, 7))`` ->
  ``Dense`` + ``Reshape((7, 7, C))``: the Linear's output rows are in (C, H, W) order and
  the Dense's columns in (H, W, C) order, so :func:`copy_weights_torch_to_tf` permutes them;
- PacGAN packing: PyTorch reshapes ``(N, 1, 28, 28)`` to ``(N/p, p, 28, 28)``, so image
  ``p·i + j`` is channel ``j`` of group ``i``; :class:`PackImages` builds the same groups
  in NHWC, ``(N/p, 28, 28, p)``, and the minibatch-std channel is the last channel in both;
- ``nn.BatchNorm2d(eps=1e-5, momentum=0.1)`` -> ``BatchNormalization(epsilon=1e-5,
  momentum=0.9)``: the same running-average update (Keras' momentum weighs the old
  value).  One difference remains: PyTorch updates its running variance with the
  unbiased batch variance (``n/(n-1)`` times the biased one), Keras with the biased
  one, so after training steps the running variances differ by that factor (1.0002
  for a 128-image batch of 7x7 maps).  The normalisation in training mode and
  everything in inference mode agree.

Initialisation: the MLP layers keep Keras' ``Dense`` default (Glorot-uniform weights, zero
biases), which the PyTorch half sets explicitly, so the twins start from the same
distribution; the DCGAN layers use Radford et al.'s ``N(0, 0.02)`` kernels and
``N(1, 0.02)`` BatchNorm scales through their initialisers (and
:func:`init_dcgan_weights` redraws them).  Used in chapters 4 and 5.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Sequence

import keras
import numpy as np

__all__ = [
    "DCGAN_DISCRIMINATOR_WIDTH",
    "DCGAN_GENERATOR_WIDTH",
    "DCGAN_PACK",
    "IMAGE_SHAPE",
    "MinibatchStd",
    "PackImages",
    "copy_weights_torch_to_tf",
    "dcgan_discriminator",
    "dcgan_generator",
    "discriminator_pack",
    "init_dcgan_weights",
    "mlp_discriminator",
    "mlp_generator",
    "trainable_parameter_count",
]

#: One MNIST image in TensorFlow's layout (height, width, channels).
IMAGE_SHAPE = (28, 28, 1)

#: The DCGAN generator's default ``width``; the same as ``gan_utils.torch.mnist.DCGAN_GENERATOR_WIDTH``.
DCGAN_GENERATOR_WIDTH = 64

#: The DCGAN discriminator's default ``width``; see ``gan_utils.torch.mnist.DCGAN_DISCRIMINATOR_WIDTH``.
DCGAN_DISCRIMINATOR_WIDTH = 32

#: The DCGAN discriminator's default PacGAN degree (pairs); see ``gan_utils.torch.mnist.DCGAN_PACK``.
DCGAN_PACK = 2

#: Inside the square root of the minibatch standard deviation, as in the PyTorch half.
MINIBATCH_STD_EPS = 1e-8

_BN_EPS = 1e-5
_BN_MOMENTUM = 0.9  # Keras' convention: PyTorch's momentum 0.1


def _positive_int(where: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (Integral, np.integer)) or int(value) < 1:
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


def _glorot_dense(units: int, name: str) -> keras.layers.Dense:
    """``Dense(units)`` with Keras' default initialisation, spelled out: Glorot-uniform weights, zero biases."""
    return keras.layers.Dense(units, kernel_initializer="glorot_uniform", bias_initializer="zeros", name=name)


def _leaky(slope: float, name: str) -> keras.layers.Layer:
    return keras.layers.LeakyReLU(negative_slope=slope, name=name)


def mlp_generator(
    latent_dim: int = 100, *, hidden: Sequence[int] = (256, 512), negative_slope: float = 0.2
) -> keras.Sequential:
    """The MLP generator of chapter 4: ``Dense -> LeakyReLU`` per hidden width, ``Dense(784) -> tanh``.

    Maps ``(N, latent_dim)`` noise to ``(N, 28, 28, 1)`` images in ``[-1, 1]``; 559,632
    parameters with the defaults, like ``gan_utils.torch.mnist.mlp_generator``.  Returns a
    built ``keras.Sequential`` named ``"generator"``.  Used in chapters 4 and 5.
    """
    where = "mlp_generator"
    latent_dim = _positive_int(where, "latent_dim", latent_dim)
    widths = _widths(where, hidden)
    slope = _slope(where, negative_slope)
    layers: list = [keras.Input(shape=(latent_dim,), name="z")]
    for i, width in enumerate(widths):
        layers += [_glorot_dense(width, f"dense_{i}"), _leaky(slope, f"leaky_relu_{i}")]
    layers += [
        _glorot_dense(28 * 28, "dense_out"),
        keras.layers.Activation("tanh", name="tanh"),
        keras.layers.Reshape(IMAGE_SHAPE, name="to_image"),
    ]
    return keras.Sequential(layers, name="generator")


def mlp_discriminator(*, hidden: Sequence[int] = (512, 256), negative_slope: float = 0.2) -> keras.Sequential:
    """The MLP discriminator of chapter 4: ``Flatten``, ``Dense -> LeakyReLU`` per hidden width, ``Dense(1)``.

    Maps ``(N, 28, 28, 1)`` images to ``(N, 1)`` logits; 533,505 parameters with the
    defaults.  Returns a built ``keras.Sequential`` named ``"discriminator"``.
    Used in chapters 4 and 5.
    """
    where = "mlp_discriminator"
    widths = _widths(where, hidden)
    slope = _slope(where, negative_slope)
    layers: list = [keras.Input(shape=IMAGE_SHAPE, name="image"), keras.layers.Flatten(name="flatten")]
    for i, width in enumerate(widths):
        layers += [_glorot_dense(width, f"dense_{i}"), _leaky(slope, f"leaky_relu_{i}")]
    layers.append(_glorot_dense(1, "logit"))
    return keras.Sequential(layers, name="discriminator")


def _conv_init() -> keras.initializers.Initializer:
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


def _bn(name: str) -> keras.layers.BatchNormalization:
    return keras.layers.BatchNormalization(
        momentum=_BN_MOMENTUM,
        epsilon=_BN_EPS,
        gamma_initializer=keras.initializers.RandomNormal(mean=1.0, stddev=0.02),
        beta_initializer="zeros",
        name=name,
    )


def dcgan_generator(latent_dim: int = 100, width: int = DCGAN_GENERATOR_WIDTH) -> keras.Sequential:
    """The DCGAN generator of chapter 5: ``(N, latent_dim)`` noise to ``(N, 28, 28, 1)`` images in ``[-1, 1]``.

    ``z`` -> Dense to 7·7·(2·width) -> Reshape to 7x7x(2·width) -> BatchNorm -> ReLU ->
    Conv2DTranspose(k=4, s=2, "same") to 14x14xwidth -> BatchNorm -> ReLU ->
    Conv2DTranspose(k=4, s=2, "same") to 28x28x1 -> tanh; kernels ``N(0, 0.02)``,
    BatchNorm scales ``N(1, 0.02)``, biases 0.  759,681 trainable parameters with the
    default ``width`` (64), 347,073 with ``width=32`` (``count_params()`` also counts the
    BatchNorm moving statistics; see :func:`trainable_parameter_count`).  Mirrors
    ``gan_utils.torch.mnist.dcgan_generator``.  Used in chapters 5 and 6.
    """
    where = "dcgan_generator"
    latent_dim = _positive_int(where, "latent_dim", latent_dim)
    width = _positive_int(where, "width", width)
    L = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=(latent_dim,), name="z"),
            # Radford et al.'s first layer is "just a matrix multiplication", reshaped to a map.
            # (The same map as a Conv2DTranspose(k=7) of a 1x1 input, but ~10x faster on a CPU.)
            L.Dense(7 * 7 * 2 * width, use_bias=False, kernel_initializer=_conv_init(), name="project"),
            L.Reshape((7, 7, 2 * width), name="to_map"),
            _bn("bn_7x7"),
            L.ReLU(name="relu_7x7"),
            L.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False,
                              kernel_initializer=_conv_init(), name="deconv_14x14"),
            _bn("bn_14x14"),
            L.ReLU(name="relu_14x14"),
            L.Conv2DTranspose(1, 4, strides=2, padding="same", use_bias=True,
                              kernel_initializer=_conv_init(), bias_initializer="zeros", name="deconv_28x28"),
            L.Activation("tanh", name="tanh"),
        ],
        name="generator",
    )


@keras.saving.register_keras_serializable(package="gan_utils")
class PackImages(keras.layers.Layer):
    """PacGAN packing (Lin et al. 2018): ``(N, H, W, C)`` images to ``(N / pack, H, W, pack·C)`` groups.

    Images ``pack·i`` to ``pack·i + pack - 1`` become the channels of group ``i`` (image
    ``pack·i + j`` fills channels ``j·C`` to ``j·C + C - 1``, as in PyTorch's NCHW
    reshape), so a discriminator that starts with this layer gives one logit per group.
    A batch whose size is not a multiple of ``pack`` raises ``ValueError`` (or
    ``InvalidArgumentError`` inside a ``tf.function``).  Mirrors
    ``gan_utils.torch.mnist.PackImages``.  Used in chapter 5.
    """

    def __init__(self, pack: int, **kwargs):
        super().__init__(**kwargs)
        self.pack = _positive_int("PackImages", "pack", pack)

    def _message(self, shape) -> str:
        return (
            f"PackImages: expected a batch (N, H, W, C) with N a multiple of pack={self.pack} "
            f"(the discriminator judges groups of {self.pack} images), got shape {shape}."
        )

    def call(self, images):
        import tensorflow as tf

        if images.shape.rank != 4:
            raise ValueError(self._message(tuple(images.shape)))
        n = images.shape[0]
        if n is not None and n % self.pack:
            raise ValueError(self._message(tuple(images.shape)))
        check = tf.debugging.assert_equal(tf.shape(images)[0] % self.pack, 0, message=self._message("(N, H, W, C) above"))
        with tf.control_dependencies([check]):  # in a graph: check before reshaping
            images = tf.identity(images)
        h, w, c = images.shape[1], images.shape[2], images.shape[3]
        grouped = tf.reshape(images, (-1, self.pack, h, w, c))  # (N/p, p, H, W, C)
        return tf.reshape(tf.transpose(grouped, (0, 2, 3, 1, 4)), (-1, h, w, self.pack * c))

    def compute_output_shape(self, input_shape):
        n = input_shape[0] // self.pack if input_shape[0] is not None else None
        return (n, input_shape[1], input_shape[2], self.pack * input_shape[3])

    def get_config(self):
        return {**super().get_config(), "pack": self.pack}


@keras.saving.register_keras_serializable(package="gan_utils")
class MinibatchStd(keras.layers.Layer):
    """Appends one channel holding the batch's mean feature standard deviation (Karras et al. 2018).

    For features ``(N, H, W, C)``: the standard deviation over the batch of every feature
    (population formula, ``MINIBATCH_STD_EPS`` inside the square root), averaged over all
    features, broadcast to an extra last channel: ``(N, H, W, C + 1)``.  Mirrors
    ``gan_utils.torch.mnist.MinibatchStd``.  Used in chapter 5.
    """

    def call(self, h):
        import tensorflow as tf

        if h.shape.rank != 4:
            raise ValueError(f"MinibatchStd: expected features (N, H, W, C), got shape {tuple(h.shape)}.")
        mean = tf.reduce_mean(h, axis=0, keepdims=True)
        spread = tf.reduce_mean(tf.sqrt(tf.reduce_mean(tf.square(h - mean), axis=0) + MINIBATCH_STD_EPS))
        shape = tf.shape(h)
        return tf.concat([h, tf.fill(tf.stack([shape[0], shape[1], shape[2], 1]), spread)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], input_shape[3] + 1)


def dcgan_discriminator(
    width: int = DCGAN_DISCRIMINATOR_WIDTH,
    *,
    negative_slope: float = 0.2,
    pack: int = DCGAN_PACK,
    minibatch_std: bool = True,
) -> keras.Sequential:
    """The DCGAN discriminator of chapter 5: ``(N, 28, 28, 1)`` images to ``(N / pack, 1)`` logits.

    [:class:`PackImages` if ``pack > 1``] -> Conv2D(k=4, s=2, "same") to 14x14xwidth ->
    LeakyReLU(0.2) -> Conv2D(k=4, s=2, "same") to 7x7x(2·width) -> BatchNorm ->
    LeakyReLU(0.2) -> [:class:`MinibatchStd` if ``minibatch_std``] -> Conv2D(k=7,
    "valid") to a 1x1 logit -> flatten; no BatchNorm on the input layer.
    ``pack=1, minibatch_std=False`` is the plain DCGAN discriminator.  37,138 parameters
    with the defaults, 36,577 for the plain one of width 32.  Mirrors
    ``gan_utils.torch.mnist.dcgan_discriminator``.  Used in chapters 5 and 6.
    """
    where = "dcgan_discriminator"
    width = _positive_int(where, "width", width)
    slope = _slope(where, negative_slope)
    pack = _positive_int(where, "pack", pack)
    if not isinstance(minibatch_std, bool):
        raise TypeError(f"{where}: minibatch_std must be True or False, got {minibatch_std!r}.")
    L = keras.layers
    layers: list = [keras.Input(shape=IMAGE_SHAPE, name="image")]
    if pack > 1:
        layers.append(PackImages(pack, name="pack"))
    layers += [
        L.Conv2D(width, 4, strides=2, padding="same", use_bias=True,
                 kernel_initializer=_conv_init(), bias_initializer="zeros", name="conv_14x14"),
        _leaky(slope, "leaky_relu_14x14"),
        L.Conv2D(2 * width, 4, strides=2, padding="same", use_bias=False,
                 kernel_initializer=_conv_init(), name="conv_7x7"),
        _bn("bn_7x7"),
        _leaky(slope, "leaky_relu_7x7"),
    ]
    if minibatch_std:
        layers.append(MinibatchStd(name="minibatch_std"))
    layers += [
        L.Conv2D(1, 7, strides=1, padding="valid", use_bias=True,
                 kernel_initializer=_conv_init(), bias_initializer="zeros", name="conv_logit"),
        L.Flatten(name="flatten"),
    ]
    return keras.Sequential(layers, name="discriminator")


def _is_pack(value: object) -> bool:
    return isinstance(value, (Integral, np.integer)) and not isinstance(value, bool) and int(value) >= 1


def discriminator_pack(discriminator: keras.Model) -> int:
    """How many images a discriminator judges per logit: the ``pack`` of its packing layer, else 1.

    A packing layer is a :class:`PackImages`, or any layer with an integer attribute
    ``pack`` (such as the one chapter 5 writes out itself).  Mirrors
    ``gan_utils.torch.mnist.discriminator_pack``.  Used in chapter 5.
    """
    if not isinstance(discriminator, keras.layers.Layer):
        raise TypeError(
            f"discriminator_pack: discriminator must be a keras Model or Layer, got {type(discriminator).__name__}."
        )
    packs = [layer.pack for layer in discriminator._flatten_layers(include_self=True)
             if _is_pack(getattr(layer, "pack", None))]
    if len(packs) > 1:
        raise ValueError(f"discriminator_pack: the discriminator has {len(packs)} packing layers; expected at most 1.")
    return int(packs[0]) if packs else 1


_WEIGHTED = (keras.layers.Dense, keras.layers.Conv2D, keras.layers.Conv2DTranspose, keras.layers.BatchNormalization)


def _weighted_layers(model: keras.Model) -> list:
    return [layer for layer in model._flatten_layers(include_self=False) if isinstance(layer, _WEIGHTED)]


def init_dcgan_weights(model: keras.Model, *, seed: int | None = None) -> keras.Model:
    """Radford et al.'s initialisation, in place: kernels ``N(0, 0.02)``, BatchNorm scales ``N(1, 0.02)``.

    Every ``Conv2D``/``Conv2DTranspose``/``Dense`` kernel is redrawn from ``N(0, 0.02²)``
    and every BatchNorm scale from ``N(1, 0.02²)``; biases and BatchNorm shifts are set to
    0 (moving statistics are left alone).  The DCGAN constructors already initialise this
    way; this function mirrors ``gan_utils.torch.mnist.init_dcgan_weights``.  ``seed``
    gives a reproducible draw (``None``: NumPy's global random state, which
    ``seed_everything`` seeds).  Returns ``model``.  Used in chapters 4 and 5.
    """
    where = "init_dcgan_weights"
    if not isinstance(model, keras.layers.Layer):
        raise TypeError(f"{where}: model must be a keras Model or Layer, got {type(model).__name__}.")
    if not model.built:
        raise ValueError(f"{where}: model {model.name!r} is not built yet, so it has no weights to initialise.")
    rng = np.random.default_rng(seed) if seed is not None else np.random
    for layer in _weighted_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            if layer.gamma is not None:
                layer.gamma.assign(rng.normal(1.0, 0.02, size=tuple(layer.gamma.shape)).astype(np.float32))
            if layer.beta is not None:
                layer.beta.assign(np.zeros(tuple(layer.beta.shape), np.float32))
        else:
            layer.kernel.assign(rng.normal(0.0, 0.02, size=tuple(layer.kernel.shape)).astype(np.float32))
            if layer.bias is not None:
                layer.bias.assign(np.zeros(tuple(layer.bias.shape), np.float32))
    return model


def trainable_parameter_count(model: keras.Model) -> int:
    """Number of trainable scalars in ``model``: what PyTorch's ``parameters()`` counts.

    ``model.count_params()`` (and ``gan_utils.tensorflow.count_parameters``) also count
    BatchNorm's moving mean and variance, which PyTorch keeps as buffers, so on the
    DCGAN they exceed ``gan_utils.torch.count_parameters`` by ``2 x`` the BatchNorm
    channels; this count equals it.  Used in chapters 4 and 5.
    """
    if not isinstance(model, keras.layers.Layer):
        raise TypeError(
            f"trainable_parameter_count: model must be a keras Model or Layer, got {type(model).__name__}."
        )
    if not model.built:
        raise ValueError(f"trainable_parameter_count: model {model.name!r} is not built yet.")
    return int(sum(int(np.prod(v.shape)) for v in model.trainable_weights))


def _reshaped_after(layers: list, layer) -> tuple | None:
    """The ``(H, W, C)`` target of a ``Reshape`` that directly follows ``layer`` in ``layers``, if any."""
    at = next((i for i, candidate in enumerate(layers) if candidate is layer), None)
    if at is None or at + 1 >= len(layers):
        return None
    following = layers[at + 1]
    if isinstance(following, keras.layers.Reshape) and len(following.target_shape) == 3:
        return tuple(int(v) for v in following.target_shape)
    return None


def copy_weights_torch_to_tf(torch_model, keras_model: keras.Model) -> keras.Model:
    """Copy a PyTorch model's weights into its Keras twin from this module, in place; return the Keras model.

    The weighted layers are matched in order (``Linear``/``Conv2d``/``ConvTranspose2d``/
    ``BatchNorm`` against ``Dense``/``Conv2D``/``Conv2DTranspose``/``BatchNormalization``)
    and every kernel is transposed to Keras' layout (see the module docstring); BatchNorm
    copies scale, shift, running mean and running variance and checks that ``eps`` and
    the momentum agree.  Any mismatch of layer kinds, counts or shapes raises
    ``ValueError``.  Flattening is copied as is, which is exact for the one-channel images
    of these models (for ``C > 1`` NCHW and NHWC flatten in different orders).
    PyTorch is imported here only.  Used by the parity tests (chapters 4 and 5).
    """
    import torch
    from torch import nn

    where = "copy_weights_torch_to_tf"
    if not isinstance(torch_model, nn.Module):
        raise TypeError(f"{where}: torch_model must be a torch.nn.Module, got {type(torch_model).__name__}.")
    if not isinstance(keras_model, keras.Model):
        raise TypeError(f"{where}: keras_model must be a keras.Model, got {type(keras_model).__name__}.")
    kinds = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d, nn.BatchNorm2d, nn.BatchNorm1d)
    sources = [m for m in torch_model.modules() if isinstance(m, kinds)]
    targets = _weighted_layers(keras_model)
    keras_layers = list(keras_model._flatten_layers(include_self=False))  # to find a Reshape after a Dense
    if len(sources) != len(targets):
        raise ValueError(
            f"{where}: the PyTorch model has {len(sources)} weighted layers and the Keras model "
            f"{len(targets)}; expected twins built by gan_utils.torch.mnist / gan_utils.tensorflow.mnist."
        )

    def put(variable, value: np.ndarray, what: str) -> None:
        if tuple(variable.shape) != value.shape:
            raise ValueError(
                f"{where}: {what} has shape {value.shape} after conversion but the Keras "
                f"variable {variable.path!r} has {tuple(variable.shape)}."
            )
        variable.assign(value.astype(np.float32))

    pairs = {
        nn.Linear: keras.layers.Dense,
        nn.Conv2d: keras.layers.Conv2D,
        nn.ConvTranspose2d: keras.layers.Conv2DTranspose,
        nn.BatchNorm2d: keras.layers.BatchNormalization,
        nn.BatchNorm1d: keras.layers.BatchNormalization,
    }
    with torch.no_grad():
        for i, (src, dst) in enumerate(zip(sources, targets)):
            expected = pairs[type(src)]
            if type(dst) is not expected:
                raise ValueError(
                    f"{where}: weighted layer {i} is {type(src).__name__} in PyTorch but "
                    f"{type(dst).__name__} in Keras (expected {expected.__name__})."
                )
            what = f"layer {i} ({type(src).__name__})"
            if isinstance(src, (nn.BatchNorm1d, nn.BatchNorm2d)):
                if not math.isclose(src.eps, dst.epsilon, rel_tol=1e-6) or not math.isclose(
                    1.0 - src.momentum, dst.momentum, rel_tol=1e-6
                ):
                    raise ValueError(
                        f"{where}: {what} has eps={src.eps}, momentum={src.momentum} but Keras' "
                        f"epsilon={dst.epsilon}, momentum={dst.momentum}; expected epsilon=eps and "
                        "momentum=1-momentum."
                    )
                put(dst.gamma, src.weight.detach().cpu().numpy(), what + " weight")
                put(dst.beta, src.bias.detach().cpu().numpy(), what + " bias")
                put(dst.moving_mean, src.running_mean.detach().cpu().numpy(), what + " running_mean")
                put(dst.moving_variance, src.running_var.detach().cpu().numpy(), what + " running_var")
                continue
            weight = src.weight.detach().cpu().numpy()
            if isinstance(src, nn.Linear):
                kernel = weight.T  # (out, in) -> (in, out)
                map_shape = _reshaped_after(keras_layers, dst)
                if map_shape is not None:  # a projection to a (H, W, C) map: (C, H, W) rows -> (H, W, C)
                    h, w, c = map_shape
                    kernel = weight.reshape(c, h, w, -1).transpose(1, 2, 0, 3).reshape(h * w * c, -1).T
            else:
                # Conv2d (out, in, kh, kw) -> (kh, kw, in, out);
                # ConvTranspose2d (in, out, kh, kw) -> (kh, kw, out, in), no spatial flip.
                kernel = weight.transpose(2, 3, 1, 0)
            put(dst.kernel, np.ascontiguousarray(kernel), what + " weight")
            has_bias = src.bias is not None
            if has_bias != (dst.bias is not None):
                raise ValueError(f"{where}: {what} has a bias in one framework only.")
            if has_bias:
                put(dst.bias, src.bias.detach().cpu().numpy(), what + " bias")
    return keras_model
