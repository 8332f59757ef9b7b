"""One GAN training step in TensorFlow, the step chapter 3 teaches line by line.

``train_step`` updates the discriminator ``d_steps`` times and the generator once, and
returns the losses as Python floats.  Two update schemes are offered:

``"alternating"`` (Goodfellow et al. 2014, Algorithm 1; what d2l and the PyTorch DCGAN
    tutorial do): ``d_steps`` discriminator updates, each with gradients taken with
    respect to ``discriminator.trainable_variables`` only (TensorFlow's counterpart of
    PyTorch's ``.detach()``), then one generator update on fresh noise, judged by the
    *updated* discriminator;
``"simultaneous"`` (what the TensorFlow DCGAN tutorial does with two tapes): both
    losses come from one forward pass with the current parameters, both gradients are
    taken before either optimiser applies them, then both apply.

:class:`GAN` is the same step in the Keras form: a ``keras.Model`` whose ``train_step``
is overridden (the pattern of the Keras example "DCGAN overriding ``train_step``"), so
``gan.fit(dataset)`` trains it.

The PyTorch half (``gan_utils.torch.train``) has the same names, signatures, defaults
and returned keys.  Used in chapter 3 (and 4, 5, 7).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from numbers import Integral, Real
from typing import Sequence

import keras
import numpy as np
import tensorflow as tf

from .losses import GENERATOR_LOSS_KINDS, discriminator_loss, generator_loss

__all__ = ["sample_noise", "train_step", "UPDATES", "GAN"]

#: The update schemes :func:`train_step` knows.
UPDATES = ("alternating", "simultaneous")


def _positive_int(where: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (Integral, np.integer)) or int(value) < 1:
        raise ValueError(f"{where}: {name} must be a positive int, got {value!r}.")
    return int(value)


def sample_noise(
    n: int,
    latent_dim: int,
    *,
    seed: int | None = None,
    generator: tf.random.Generator | None = None,
) -> tf.Tensor:
    """Draw generator input ``z ~ N(0, I)``: a float32 tensor of shape ``(n, latent_dim)``.

    ``seed=None`` and ``generator=None`` (the default) draw from NumPy's global random
    state, which ``seed_everything`` (and ``keras.utils.set_random_seed``) seeds: the
    same seed gives the same sequence of draws.  Why NumPy and not ``tf.random.normal``:
    measured on the course's 2-core CPU for ``(256, 2)``, an eager ``tf.random.normal``
    takes 0.5 ms per call, and 1.2 ms once a global seed is set (each call then derives
    a new op-level seed), against 0.07 ms for NumPy plus ``tf.constant``; a compiled
    training step of chapter 3 takes 2.3 ms.  (Inside a compiled function, such as
    :meth:`GAN.train_step`, TensorFlow's own random ops are cheap and are used.)

    ``seed=<int>`` gives always the same noise for that seed, independent of any global
    state (``tf.random.stateless_normal``), e.g. fixed noise for plots.  ``generator`` is
    a ``tf.random.Generator``, the counterpart of the ``torch.Generator`` that
    ``gan_utils.torch.train.sample_noise`` takes.  Used in chapter 3 (and 4, 5, 7).
    """
    where = "sample_noise"
    n = _positive_int(where, "n", n)
    latent_dim = _positive_int(where, "latent_dim", latent_dim)
    if seed is not None and generator is not None:
        raise ValueError(f"{where}: pass seed or generator, not both.")
    if generator is not None:
        if not isinstance(generator, tf.random.Generator):
            raise TypeError(
                f"{where}: generator must be a tf.random.Generator or None, got "
                f"{type(generator).__name__}."
            )
        return generator.normal((n, latent_dim), dtype=tf.float32)
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, (Integral, np.integer)) or not 0 <= int(seed) < 2**31:
            raise ValueError(f"{where}: seed must be an int in [0, 2**31) or None, got {seed!r}.")
        return tf.random.stateless_normal((n, latent_dim), seed=[int(seed), 0], dtype=tf.float32)
    return tf.constant(np.random.standard_normal((n, latent_dim)).astype(np.float32))


# --------------------------------------------------------------- the step, in pure TF
# These functions use TensorFlow operations only, so they run eagerly, inside
# ``tf.function`` (``train_step`` below) and inside Keras' compiled ``train_step``
# (:class:`GAN`).  An optimiser applies its gradients only when the loss is finite, so a
# NaN never reaches the weights; the caller turns the non-finite loss into an error.


def _all_finite(*losses: tf.Tensor) -> tf.Tensor:
    return tf.reduce_all(tf.stack([tf.math.is_finite(loss) for loss in losses]))


def _apply_if(ok: tf.Tensor, pairs) -> None:
    def apply():
        for optimizer, grads, variables in pairs:
            optimizer.apply_gradients(zip(grads, variables))
        return tf.constant(True)

    tf.cond(ok, apply, lambda: tf.constant(False))


def _d_update(generator, discriminator, d_optimizer, real, z, real_label, enabled=True):
    """One discriminator update (skipped unless ``enabled``); returns ``(d_loss, real_logits, fake_logits)``."""
    # Generated outside the tape: no gradient can flow into G (TF's ``.detach()``).
    fake = generator(z, training=True)
    with tf.GradientTape() as tape:
        real_logits = discriminator(real, training=True)
        fake_logits = discriminator(fake, training=True)
        d_loss = discriminator_loss(real_logits, fake_logits, real_label=real_label)
    variables = discriminator.trainable_variables
    grads = tape.gradient(d_loss, variables)
    _apply_if(tf.logical_and(enabled, _all_finite(d_loss)), [(d_optimizer, grads, variables)])
    return d_loss, real_logits, fake_logits


def _g_update(generator, discriminator, g_optimizer, z, g_loss_kind):
    """One generator update against the current discriminator; returns ``g_loss``."""
    with tf.GradientTape() as tape:
        fake = generator(z, training=True)
        fake_logits = discriminator(fake, training=True)
        g_loss = generator_loss(fake_logits, kind=g_loss_kind)
    variables = generator.trainable_variables  # D's weights are read, never updated here
    grads = tape.gradient(g_loss, variables)
    _apply_if(_all_finite(g_loss), [(g_optimizer, grads, variables)])
    return g_loss


def _simultaneous_update(generator, discriminator, g_optimizer, d_optimizer, real, z, real_label, g_loss_kind):
    """Both players from one forward pass; returns ``(d_loss, g_loss, real_logits, fake_logits)``."""
    with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
        fake = generator(z, training=True)
        real_logits = discriminator(real, training=True)
        fake_logits = discriminator(fake, training=True)
        d_loss = discriminator_loss(real_logits, fake_logits, real_label=real_label)
        g_loss = generator_loss(fake_logits, kind=g_loss_kind)
    d_vars = discriminator.trainable_variables
    g_vars = generator.trainable_variables
    # Both gradients at the current parameters, each w.r.t. its own player only ...
    d_grads = d_tape.gradient(d_loss, d_vars)
    g_grads = g_tape.gradient(g_loss, g_vars)
    # ... and only then does either optimiser change a weight.
    _apply_if(_all_finite(d_loss, g_loss), [(d_optimizer, d_grads, d_vars), (g_optimizer, g_grads, g_vars)])
    return d_loss, g_loss, real_logits, fake_logits


def _alternating_core(generator, discriminator, g_optimizer, d_optimizer, reals, zs, z_g, real_label, g_loss_kind):
    """``len(reals)`` D updates then one G update; stops early (no G update) on a NaN."""
    ok = tf.constant(True)  # all discriminator losses so far were finite
    d_loss = real_logits = fake_logits = None
    for real, z in zip(reals, zs):
        loss, real_logits, fake_logits = _d_update(generator, discriminator, d_optimizer, real, z, real_label, ok)
        d_loss = loss if d_loss is None else tf.where(ok, loss, d_loss)  # keep the first bad loss
        ok = tf.logical_and(ok, _all_finite(loss))
    # After a non-finite D loss no further update runs, the generator's neither (the caller raises).
    g_loss = tf.cond(
        ok,
        lambda: _g_update(generator, discriminator, g_optimizer, z_g, g_loss_kind),
        lambda: tf.constant(float("nan"), dtype=d_loss.dtype),
    )
    return d_loss, g_loss, tf.reduce_mean(tf.sigmoid(real_logits)), tf.reduce_mean(tf.sigmoid(fake_logits))


def _simultaneous_core(generator, discriminator, g_optimizer, d_optimizer, real, z, real_label, g_loss_kind):
    d_loss, g_loss, real_logits, fake_logits = _simultaneous_update(
        generator, discriminator, g_optimizer, d_optimizer, real, z, real_label, g_loss_kind
    )
    return d_loss, g_loss, tf.reduce_mean(tf.sigmoid(real_logits)), tf.reduce_mean(tf.sigmoid(fake_logits))


# Compiled steps, one per (models, optimisers, update scheme, d_steps, real_label,
# g_loss_kind, shapes).  The models and the Python settings are captured by the compiled
# function and its inputs are declared with an ``input_signature``, so that a call only
# passes tensors: given two Keras models as arguments, TensorFlow rebuilds their "trace
# type" on every call, which measured 2.7 ms of a 9 ms step (on the busy 2-core
# machine).  A small LRU bounds what stays alive.
_CACHE_SIZE = 16
_COMPILED: "OrderedDict[tuple, tuple]" = OrderedDict()


def _spec(t: tf.Tensor) -> tf.TensorSpec:
    return tf.TensorSpec((None,) + tuple(t.shape[1:]), t.dtype)


def _compiled(generator, discriminator, g_optimizer, d_optimizer, update, batches, latent_dim, real_label, g_loss_kind):
    specs = tuple(_spec(b) for b in batches)
    key = (id(generator), id(discriminator), id(g_optimizer), id(d_optimizer), update, specs, latent_dim, real_label, g_loss_kind)
    entry = _COMPILED.get(key)
    if entry is None:
        z_spec = tf.TensorSpec((None, latent_dim), tf.float32)
        if update == "alternating":

            def step(reals, zs, z_g):
                return _alternating_core(
                    generator, discriminator, g_optimizer, d_optimizer, reals, zs, z_g, real_label, g_loss_kind
                )

            signature = [list(specs), [z_spec] * len(specs), z_spec]
        else:

            def step(real, z):
                return _simultaneous_core(
                    generator, discriminator, g_optimizer, d_optimizer, real, z, real_label, g_loss_kind
                )

            signature = [specs[0], z_spec]
        # The entry holds the objects themselves, so their ids cannot be reused while cached.
        entry = (tf.function(step, input_signature=signature), (generator, discriminator, g_optimizer, d_optimizer))
        _COMPILED[key] = entry
        while len(_COMPILED) > _CACHE_SIZE:
            _COMPILED.popitem(last=False)
    else:
        _COMPILED.move_to_end(key)
    return entry[0]


def _guard(name: str, loss: tf.Tensor) -> float:
    """Return the loss as a float, or raise ``FloatingPointError`` if it is NaN or infinite."""
    value = float(loss)
    if not math.isfinite(value):
        raise FloatingPointError(
            f"training diverged: {name}={value} at this step (no parameter was updated by it); "
            "lower the learning rates, or check the data and the models for NaN/inf."
        )
    return value


def _real_batches(real: object, d_steps: int, where: str) -> list[tf.Tensor]:
    if isinstance(real, (tf.Tensor, tf.Variable, np.ndarray)):
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
            f"{where}: real must be a tf.Tensor batch or a sequence of d_steps tensors, "
            f"got {type(real).__name__}."
        )
    out = []
    for i, batch in enumerate(batches):
        if not isinstance(batch, (tf.Tensor, tf.Variable, np.ndarray)):
            raise TypeError(f"{where}: real[{i}] must be a tf.Tensor, got {type(batch).__name__}.")
        batch = tf.convert_to_tensor(batch)
        if batch.shape.rank is None or batch.shape.rank < 2 or batch.shape[0] == 0:
            raise ValueError(
                f"{where}: each real batch must have shape (N, ...) with N >= 1 samples, got "
                f"{tuple(batch.shape)}."
            )
        if not batch.dtype.is_floating:
            raise TypeError(f"{where}: real[{i}] must hold floats, got dtype {batch.dtype.name}.")
        out.append(batch)
    return out


def _check_optimizer(where: str, name: str, optimizer: object, model: keras.Model) -> None:
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise TypeError(
            f"{where}: {name} must be a keras.optimizers.Optimizer, got {type(optimizer).__name__}."
        )
    if not optimizer.built:  # create its slots eagerly, not inside tf.function
        optimizer.build(model.trainable_variables)


def train_step(
    generator: keras.Model,
    discriminator: keras.Model,
    g_optimizer: keras.optimizers.Optimizer,
    d_optimizer: keras.optimizers.Optimizer,
    real,
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
    update).  Each discriminator update draws fresh noise of the batch's size (with
    :func:`sample_noise`, from NumPy's global random state); the generator update
    draws noise of the size of the last real batch.  All noise of a step is drawn
    before the first update, in that order.

    ``update="alternating"``: for each of the ``d_steps`` updates, generate fakes outside
    the gradient tape, compute :func:`~gan_utils.tensorflow.losses.discriminator_loss`
    on the real and fake logits and apply its gradient with respect to
    ``discriminator.trainable_variables`` only (TensorFlow's counterpart of
    ``.detach()``); then score fresh fakes with the *updated* discriminator, compute
    :func:`~gan_utils.tensorflow.losses.generator_loss` and apply its gradient with
    respect to ``generator.trainable_variables`` only.

    ``update="simultaneous"`` (``d_steps`` must be 1): one forward pass with the current
    parameters gives both losses; both gradients are taken (two tapes) before either
    optimiser applies them; then both apply.

    ``g_loss_kind`` is ``"nonsaturating"`` or ``"saturating"``; ``real_label < 1`` is
    one-sided label smoothing.  Every model call passes ``training=True``.

    Returns Python floats ``{"d_loss", "g_loss", "d_real", "d_fake"}``: the losses of
    the last discriminator update and of the generator update (each computed before its
    own update), and the discriminator's mean probability ``sigmoid(logit)`` on the real
    batch and on the fakes of the last discriminator update.

    Raises ``FloatingPointError`` ("training diverged: d_loss=nan at this step …") when a
    loss is NaN or infinite; the update that would have spread it into the weights is
    skipped (and after a non-finite discriminator loss, the generator update too).

    Speed: the updates run as one ``tf.function`` per (models, optimisers, scheme,
    settings, input shapes), traced on first use, with the batch dimension left open.
    Measured on the course's 2-core CPU with one TensorFlow thread, for the chapter's
    models (2-D data, hidden (64, 64), batch 256, Adam; best of 3 repeats): 2.3 ms
    per alternating step compiled against 73 ms run eagerly
    (``tf.config.run_functions_eagerly(True)``), 32x; with ``d_steps=3``, 3.1 ms against
    169 ms.  Chapter 3's notebook repeats the comparison.
    Mirrors ``gan_utils.torch.train.train_step``.
    Used in chapter 3 (and 4, 5, 7).
    """
    where = "train_step"
    for name, model in (("generator", generator), ("discriminator", discriminator)):
        if not isinstance(model, keras.Model):
            raise TypeError(f"{where}: {name} must be a keras.Model, got {type(model).__name__}.")
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
    real_label = float(real_label)
    _check_optimizer(where, "g_optimizer", g_optimizer, generator)
    _check_optimizer(where, "d_optimizer", d_optimizer, discriminator)
    batches = _real_batches(real, d_steps, where)

    if update == "alternating":
        zs = [sample_noise(int(batch.shape[0]), latent_dim) for batch in batches]
        z_g = sample_noise(int(batches[-1].shape[0]), latent_dim)
        step = _compiled(
            generator, discriminator, g_optimizer, d_optimizer, update, batches, latent_dim, real_label, g_loss_kind
        )
        d_loss, g_loss, d_real, d_fake = step(batches, zs, z_g)
    else:
        z = sample_noise(int(batches[0].shape[0]), latent_dim)
        step = _compiled(
            generator, discriminator, g_optimizer, d_optimizer, update, batches[:1], latent_dim, real_label, g_loss_kind
        )
        d_loss, g_loss, d_real, d_fake = step(batches[0], z)
    d_value = _guard("d_loss", d_loss)
    g_value = _guard("g_loss", g_loss)
    return {"d_loss": d_value, "g_loss": g_value, "d_real": float(d_real), "d_fake": float(d_fake)}


class GAN(keras.Model):
    """A GAN as one ``keras.Model`` with an overridden ``train_step`` (the Keras-examples form).

    ``gan = GAN(generator, discriminator, latent_dim=2)``, then
    ``gan.compile(d_optimizer=..., g_optimizer=...)`` and ``gan.fit(real_data, ...)``:
    Keras feeds each batch of real data to :meth:`train_step`, which performs the same
    alternating update as :func:`train_step` (``d_steps`` discriminator updates on the
    batch, then one generator update; gradients of each loss applied to its own
    player's ``trainable_variables`` only).  No ``trainable`` flag is touched and no
    combined model is compiled, so the classic Keras pitfall of chapter 3 cannot occur.

    Metrics (``Mean`` over the epoch, reset by ``fit`` at each epoch): ``d_loss``,
    ``g_loss``, ``d_real`` and ``d_fake``, as in :func:`train_step`'s dictionary.  A
    non-finite loss skips the update it came from and stops ``fit`` with
    ``tf.errors.InvalidArgumentError`` naming the loss.  Calling the model, ``gan(z)``,
    runs the generator.  Used in chapter 3 (and 4, 5, 7).
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        *,
        latent_dim: int,
        d_steps: int = 1,
        g_loss_kind: str = "nonsaturating",
        real_label: float = 1.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        where = "GAN"
        for name, model in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(model, keras.Model):
                raise TypeError(f"{where}: {name} must be a keras.Model, got {type(model).__name__}.")
        if g_loss_kind not in GENERATOR_LOSS_KINDS:
            raise ValueError(
                f"{where}: unknown g_loss_kind {g_loss_kind!r}; expected one of {GENERATOR_LOSS_KINDS}."
            )
        if isinstance(real_label, bool) or not isinstance(real_label, Real) or not 0.0 < float(real_label) <= 1.0:
            raise ValueError(f"{where}: real_label must be a number in (0, 1], got {real_label!r}.")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = _positive_int(where, "latent_dim", latent_dim)
        self.d_steps = _positive_int(where, "d_steps", d_steps)
        self.g_loss_kind = g_loss_kind
        self.real_label = float(real_label)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        """Store one optimiser per player (``loss=`` is not used: the losses are fixed)."""
        for name, opt in (("d_optimizer", d_optimizer), ("g_optimizer", g_optimizer)):
            if not isinstance(opt, keras.optimizers.Optimizer):
                raise TypeError(
                    f"GAN.compile: {name} must be a keras.optimizers.Optimizer, got {type(opt).__name__}."
                )
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        if not d_optimizer.built:
            d_optimizer.build(self.discriminator.trainable_variables)
        if not g_optimizer.built:
            g_optimizer.build(self.generator.trainable_variables)

    @property
    def metrics(self):
        # Listed here so that fit() resets them at the start of each epoch.
        return [self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker, self.d_fake_tracker]

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def draw_noise(self, batch_size):
        """Noise for one update, ``(batch_size, latent_dim)``; override it to feed your own."""
        return tf.random.normal((batch_size, self.latent_dim))

    def train_step(self, data):
        real = data[0] if isinstance(data, (tuple, list)) else data
        batch_size = tf.shape(real)[0]
        # All the noise of the step first, in the order of train_step(): k batches for D, one for G.
        zs = [self.draw_noise(batch_size) for _ in range(self.d_steps)]
        z_g = self.draw_noise(batch_size)
        for z in zs:  # d_steps discriminator updates ...
            d_loss, real_logits, fake_logits = _d_update(
                self.generator, self.discriminator, self.d_optimizer, real, z, self.real_label
            )
            d_loss = tf.debugging.assert_all_finite(d_loss, "GAN.train_step: training diverged, d_loss is NaN or inf")
        # ... then one generator update against the updated discriminator.
        g_loss = _g_update(self.generator, self.discriminator, self.g_optimizer, z_g, self.g_loss_kind)
        g_loss = tf.debugging.assert_all_finite(g_loss, "GAN.train_step: training diverged, g_loss is NaN or inf")
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.d_real_tracker.update_state(tf.reduce_mean(tf.sigmoid(real_logits)))
        self.d_fake_tracker.update_state(tf.reduce_mean(tf.sigmoid(fake_logits)))
        return {m.name: m.result() for m in self.metrics}
