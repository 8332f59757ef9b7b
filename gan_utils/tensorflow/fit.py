"""Train a GAN on MNIST in TensorFlow, with progress, history, checkpoints, resume and a NaN guard.

:func:`fit` runs chapter 3's alternating, non-saturating
:func:`gan_utils.tensorflow.train.train_step` over the images for a number of epochs.
That step is already compiled with ``tf.function``, which measured 2-2.5x faster than the
same step run eagerly for the DCGAN and 5.7x for the MLP (``benchmarks/README.md``).
Around it, ``fit`` adds what a long run needs: a ``tqdm`` progress bar, a
:class:`~gan_utils.checkpoint.History`, a fixed-noise sample grid per epoch, checkpoints,
resume and a NaN guard.  It mirrors :func:`gan_utils.torch.fit.fit`: same
signature, same defaults, same history.

**Checkpoints.**  A TensorFlow checkpoint here is several files: Keras weights files
(``generator.weights.h5``, ``discriminator.weights.h5``, loadable on their own with
``model.load_weights``) and ``state.npz`` (both Adam optimisers' variables, the random
states, the settings and the history; arrays and strings only, read with
``allow_pickle=False``).  Several files cannot be replaced by one atomic rename, so each
epoch is written as a new *version*:

1. everything goes into a fresh temporary folder ``checkpoint_dir/.tmp-epoch-0003-<random>``;
   every file and the folder are ``fsync``-ed;
2. the folder is renamed to ``epoch-0003-<random>`` (atomic);
3. the small pointer file ``checkpoint_dir/latest.json``, naming that folder, is replaced
   atomically (temporary file, ``fsync``, ``os.replace``) -- this is the commit point;
4. older versions are deleted.

A run killed at any instant leaves ``latest.json`` naming a complete version (the old one
before step 3, the new one after); leftovers of a killed write (``.tmp-*`` folders,
versions that no pointer names) are removed by the next ``fit`` on that folder.

**Resume** reproduces an uninterrupted run: the data order comes from a NumPy
``Generator`` whose state is checkpointed, and the noise of ``train_step`` from NumPy's
global random state (``gan_utils.tensorflow.train.sample_noise``), also checkpointed.
Adam uses ``epsilon=1e-8``, PyTorch's default (Keras' is ``1e-7``).
Used in chapters 4 and 5.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
import warnings
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from gan_utils.checkpoint import (
    TEMP_PREFIX,
    History,
    atomic_write_json,
    call_back,
    check_batch_pack,
    check_config,
    check_fit_arguments,
    check_images,
    fixed_noise,
    fsync_dir,
    fsync_file,
    images_fingerprint,
    kept_checkpoint,
    logit_shape_error,
    non_finite_weights_error,
    postfix,
    progress_bar,
    remove_temporaries,
    sample_grid,
    steps_per_epoch,
)

from .mnist import discriminator_pack
from .train import train_step

__all__ = ["CHECKPOINT_FORMAT", "LATEST_FILE", "fit", "load_checkpoint"]

#: The pointer file naming the newest complete checkpoint folder.
LATEST_FILE = "latest.json"

#: Stored in every checkpoint, to recognise its layout.
CHECKPOINT_FORMAT = "gan_utils.tensorflow.fit/1"

_GENERATOR_FILE = "generator.weights.h5"
_DISCRIMINATOR_FILE = "discriminator.weights.h5"
_STATE_FILE = "state.npz"
_VERSION_PREFIX = "epoch-"
_VERSION_NAME = re.compile(r"epoch-\d{4,}-[0-9a-f]{8}")


def _as_numpy_images(images: object, where: str) -> np.ndarray:
    if isinstance(images, (tf.Tensor, tf.Variable)):
        if not images.dtype.is_floating:
            raise TypeError(f"{where}: images must hold floats in [-1, 1], got a tensor of dtype {images.dtype.name}.")
        return np.asarray(images.numpy(), dtype=np.float32)
    if isinstance(images, np.ndarray):
        return images
    raise TypeError(
        f"{where}: images must be a NumPy array or a tf.Tensor of shape (N, 28, 28) or "
        f"(N, 28, 28, 1), got {type(images).__name__}."
    )


def _check_models(generator: object, discriminator: object, latent_dim: int, batch_size: int, where: str) -> None:
    """Check both are Keras models that fit together.

    G must map (n, latent_dim) to (n, 28, 28, 1), and D such images to one logit per group
    of ``pack`` images, (n / pack, 1), where ``pack`` is 1 unless D packs images (PacGAN,
    :func:`gan_utils.tensorflow.mnist.discriminator_pack`); ``batch_size`` must then be a
    multiple of ``pack``.
    """
    for name, model in (("generator", generator), ("discriminator", discriminator)):
        if not isinstance(model, keras.Model):
            raise TypeError(f"{where}: {name} must be a keras.Model, got {type(model).__name__}.")
    pack = discriminator_pack(discriminator)
    check_batch_pack(where, batch_size, pack)
    n = 2 * pack
    try:
        fake = generator(np.zeros((n, latent_dim), np.float32), training=False)
    except (ValueError, tf.errors.InvalidArgumentError) as err:
        raise ValueError(
            f"{where}: the generator cannot take noise of shape (n, {latent_dim}) (latent_dim={latent_dim}): {err}"
        ) from None
    if tuple(fake.shape) != (n, 28, 28, 1):
        raise ValueError(
            f"{where}: the generator must output images of shape (n, 28, 28, 1), got {tuple(fake.shape)} for n={n}."
        )
    logits = discriminator(fake, training=False)
    if tuple(logits.shape) != (2, 1):
        raise logit_shape_error(where, pack, tuple(logits.shape))


def _samples(generator: keras.Model, z: np.ndarray) -> np.ndarray:
    """The generator's images of ``z`` with ``training=False`` (BatchNorm uses its moving statistics)."""
    return sample_grid(generator(z, training=False).numpy())


def _optimizer_arrays(prefix: str, optimizer: keras.optimizers.Optimizer) -> dict:
    return {f"{prefix}/{i}": np.asarray(v.numpy()) for i, v in enumerate(optimizer.variables)}


def _restore_optimizer(prefix: str, optimizer: keras.optimizers.Optimizer, arrays, path) -> None:
    keys = sorted((k for k in arrays if k.startswith(prefix + "/")), key=lambda k: int(k.split("/")[1]))
    variables = optimizer.variables
    if len(keys) != len(variables):
        raise ValueError(
            f"fit: the checkpoint {path} holds {len(keys)} variables for {prefix} but the optimiser has "
            f"{len(variables)}; was it written for other models?"
        )
    for key, variable in zip(keys, variables):
        value = arrays[key]
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(
                f"fit: {prefix} variable {variable.path!r} has shape {tuple(variable.shape)} but the checkpoint "
                f"{path} stores {tuple(value.shape)}; was it written for other models?"
            )
        variable.assign(value)


def _read_pointer(folder: Path) -> dict | None:
    pointer = folder / LATEST_FILE
    if not pointer.is_file():
        return None
    info = json.loads(pointer.read_text(encoding="utf-8"))
    if not isinstance(info, dict) or info.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{pointer} is not a pointer written by gan_utils.tensorflow.fit.fit.")
    return info


def _remove_stale_versions(folder: Path, keep: str | None) -> None:
    """Delete the checkpoint folders (``epoch-0003-1a2b3c4d``) other than ``keep``; nothing else."""
    for entry in folder.iterdir():
        if entry.is_dir() and _VERSION_NAME.fullmatch(entry.name) and entry.name != keep:
            shutil.rmtree(entry, ignore_errors=True)


def load_checkpoint(
    checkpoint_dir: str | os.PathLike,
    generator: keras.Model | None = None,
    discriminator: keras.Model | None = None,
) -> dict:
    """Read the newest checkpoint of :func:`fit` in ``checkpoint_dir`` (the folder ``latest.json`` names).

    Loads the weights into ``generator`` and/or ``discriminator`` when given
    (``model.load_weights``), and returns ``{"epoch": int, "step": int, "history": History,
    "folder": Path, "state": dict}``, where ``state`` maps names to the arrays of
    ``state.npz`` (optimiser variables, random states, settings).  Raises
    ``FileNotFoundError`` when there is no checkpoint.
    Used in chapters 4 and 5.
    """
    folder = Path(checkpoint_dir)
    info = _read_pointer(folder) if folder.is_dir() else None
    if info is None:
        raise FileNotFoundError(
            f"load_checkpoint: no checkpoint in {folder} (no {LATEST_FILE}); fit(..., checkpoint_dir=...) "
            "writes one per epoch."
        )
    version = folder / info["folder"]
    if generator is not None:
        generator.load_weights(version / _GENERATOR_FILE)
    if discriminator is not None:
        discriminator.load_weights(version / _DISCRIMINATOR_FILE)
    with np.load(version / _STATE_FILE, allow_pickle=False) as npz:
        state = {key: npz[key] for key in npz.files}
    prefix = "history/"
    history = History.from_state_dict({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)})
    return {"epoch": int(info["epoch"]), "step": int(info["step"]), "history": history, "folder": version,
            "state": state}


def _save_checkpoint(
    folder: Path, epoch: int, step: int, generator, discriminator, g_opt, d_opt, order_rng, config, history
) -> Path:
    name = f"{_VERSION_PREFIX}{epoch:04d}-{secrets.token_hex(4)}"
    tmp = folder / f"{TEMP_PREFIX}{name}"
    tmp.mkdir()
    try:
        with warnings.catch_warnings():
            # Keras 3.15's h5 writer calls np.array(variable), which NumPy 2 flags as deprecated.
            warnings.filterwarnings("ignore", message="__array__ implementation", category=DeprecationWarning)
            generator.save_weights(tmp / _GENERATOR_FILE)
            discriminator.save_weights(tmp / _DISCRIMINATOR_FILE)
        keys, pos, has_gauss, cached = np.random.get_state()[1:]
        arrays = {
            "config": np.array(json.dumps(config, sort_keys=True)),
            "order_rng": np.array(json.dumps(order_rng.bit_generator.state)),
            "numpy_global/keys": np.asarray(keys, dtype=np.uint32),
            "numpy_global/ints": np.array([pos, has_gauss], dtype=np.int64),
            "numpy_global/gauss": np.array(cached, dtype=np.float64),
        }
        arrays.update(_optimizer_arrays("g_optimizer", g_opt))
        arrays.update(_optimizer_arrays("d_optimizer", d_opt))
        for key, value in history.state_dict().items():
            arrays[f"history/{key}"] = np.asarray(value)
        with open(tmp / _STATE_FILE, "wb") as handle:
            np.savez(handle, **arrays)
        for file in (_GENERATOR_FILE, _DISCRIMINATOR_FILE, _STATE_FILE):
            fsync_file(tmp / file)
        fsync_dir(tmp)
        os.rename(tmp, folder / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(folder)
    pointer = {"format": CHECKPOINT_FORMAT, "epoch": epoch, "step": step, "folder": name}
    atomic_write_json(folder / LATEST_FILE, pointer)  # the commit point
    _remove_stale_versions(folder, keep=name)
    return folder / name


def fit(
    generator: keras.Model,
    discriminator: keras.Model,
    images,
    *,
    epochs: int,
    batch_size: int = 128,
    latent_dim: int = 100,
    lr_g: float = 2e-4,
    lr_d: float = 2e-4,
    betas: tuple[float, float] = (0.5, 0.999),
    seed: int = 0,
    checkpoint_dir: str | os.PathLike | None = None,
    resume: bool = True,
    fixed_noise_size: int = 64,
    max_steps_per_epoch: int | None = None,
    progress: bool = True,
    callback=None,
) -> History:
    """Train ``generator`` against ``discriminator`` on ``images`` for ``epochs`` epochs; return the :class:`History`.

    ``images`` are real images in ``[-1, 1]``: a float NumPy array or tensor of shape
    ``(N, 28, 28)`` or ``(N, 28, 28, 1)``, e.g. ``load_mnist("train", dtype="float32")[0]``.
    Each epoch draws a fresh random order of the images and takes ``N // batch_size``
    steps of full batches (the last partial batch is dropped: BatchNorm always sees
    ``batch_size`` images and ``tf.function`` traces one shape; a discriminator that packs
    images, such as chapter 5's, needs ``batch_size`` to be a multiple of its ``pack``), or
    ``max_steps_per_epoch`` if that is fewer.  A step is :func:`gan_utils.tensorflow.train.train_step`: one
    discriminator update, then one non-saturating generator update, with Keras Adam
    (``lr_d``, ``lr_g``, ``beta_1, beta_2 = betas``, ``epsilon=1e-8``).

    ``seed`` fixes the run: a fresh run seeds NumPy's global random state (the noise of
    ``train_step``) and TensorFlow's global seed with it, and shuffles with its own NumPy
    ``Generator`` seeded from ``seed``.  The models' initial weights are whatever they are
    when ``fit`` is called.

    ``checkpoint_dir``: after every epoch the state is written as described in the module
    docstring (``None``: no checkpoint).  With ``resume=True`` and a checkpoint there,
    training goes on after its epoch (and returns at once if it already reached
    ``epochs``); the checkpoint must come from a run with the same images, ``batch_size``,
    ``latent_dim``, ``seed``, ``fixed_noise_size`` and ``max_steps_per_epoch`` (otherwise
    ``ValueError``); the learning rates and betas given now apply from then on.
    ``resume=False`` starts afresh; its first completed epoch replaces the old checkpoint.

    ``fixed_noise_size``, ``progress`` and ``callback(event, epoch, step, history)`` are as
    in :func:`gan_utils.torch.fit.fit` (same fixed noise for the same seed).  Raises
    ``FloatingPointError`` naming the step, epoch and loss when a loss turns NaN or
    infinite (the checkpoint on disk stays the last good epoch), ``TypeError``/
    ``ValueError`` for bad arguments.  Used in chapters 4 and 5.
    """
    where = "fit"
    args = check_fit_arguments(
        where, epochs=epochs, batch_size=batch_size, latent_dim=latent_dim, lr_g=lr_g, lr_d=lr_d,
        betas=betas, seed=seed, checkpoint_dir=checkpoint_dir, resume=resume,
        fixed_noise_size=fixed_noise_size, max_steps_per_epoch=max_steps_per_epoch,
        progress=progress, callback=callback,
    )
    epochs, batch_size, latent_dim = args["epochs"], args["batch_size"], args["latent_dim"]
    seed, folder, show = args["seed"], args["checkpoint_dir"], args["progress"]
    flat = check_images(_as_numpy_images(images, where), where, framework_shape=(28, 28, 1))
    _check_models(generator, discriminator, latent_dim, batch_size, where)
    n = flat.shape[0]
    steps = steps_per_epoch(where, n, batch_size, args["max_steps_per_epoch"])
    real = np.ascontiguousarray(flat).reshape(n, 28, 28, 1)

    beta_1, beta_2 = args["betas"]
    g_opt = keras.optimizers.Adam(learning_rate=args["lr_g"], beta_1=beta_1, beta_2=beta_2, epsilon=1e-8)
    d_opt = keras.optimizers.Adam(learning_rate=args["lr_d"], beta_1=beta_1, beta_2=beta_2, epsilon=1e-8)
    g_opt.build(generator.trainable_variables)
    d_opt.build(discriminator.trainable_variables)
    order_rng = np.random.Generator(np.random.PCG64(seed))
    z_fixed = fixed_noise(args["fixed_noise_size"], latent_dim, seed) if args["fixed_noise_size"] else None
    config = {
        "batch_size": batch_size,
        "latent_dim": latent_dim,
        "seed": seed,
        "fixed_noise_size": args["fixed_noise_size"],
        "max_steps_per_epoch": args["max_steps_per_epoch"],
        "images": images_fingerprint(flat),
    }

    history = History()
    start_epoch = 0
    info = None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        remove_temporaries(folder)
        info = _read_pointer(folder)
        _remove_stale_versions(folder, keep=info["folder"] if info else None)
    if info is not None and args["resume"]:
        loaded = load_checkpoint(folder)
        state = loaded["state"]
        check_config(where, json.loads(str(state["config"])), json.loads(json.dumps(config)), loaded["folder"])
        generator.load_weights(loaded["folder"] / _GENERATOR_FILE)
        discriminator.load_weights(loaded["folder"] / _DISCRIMINATOR_FILE)
        _restore_optimizer("g_optimizer", g_opt, state, loaded["folder"])
        _restore_optimizer("d_optimizer", d_opt, state, loaded["folder"])
        g_opt.learning_rate.assign(args["lr_g"])
        d_opt.learning_rate.assign(args["lr_d"])
        for opt in (g_opt, d_opt):
            opt.beta_1, opt.beta_2 = beta_1, beta_2
        order_rng.bit_generator.state = json.loads(str(state["order_rng"]))
        pos, has_gauss = (int(v) for v in state["numpy_global/ints"])
        gauss = float(state["numpy_global/gauss"])
        np.random.set_state(("MT19937", state["numpy_global/keys"], pos, has_gauss, gauss))
        history = loaded["history"]
        start_epoch = loaded["epoch"]
        if show and start_epoch >= epochs:
            print(f"fit: the checkpoint in {folder} already holds epoch {start_epoch} of {epochs}; nothing to train.")
    else:
        np.random.seed(seed)
        tf.random.set_seed(seed)
        if z_fixed is not None:
            history.record_samples(0, _samples(generator, z_fixed))

    step = history.steps
    for epoch in range(start_epoch + 1, epochs + 1):
        call_back(args["callback"], "epoch_start", epoch, step, history)
        order = order_rng.permutation(n)
        bar = progress_bar(show, epoch=epoch, epochs=epochs, steps=steps)
        started = time.perf_counter()
        try:
            for i in range(steps):
                batch = tf.constant(real[order[i * batch_size:(i + 1) * batch_size]])
                try:
                    values = train_step(generator, discriminator, g_opt, d_opt, batch, latent_dim=latent_dim)
                except FloatingPointError as err:
                    raise FloatingPointError(
                        f"fit: stopped at step {step + 1} (epoch {epoch} of {epochs}, batch {i + 1} of {steps}): "
                        f"{err} The weights in memory are not to be trusted; {kept_checkpoint(folder, epoch - 1)}."
                    ) from err
                step += 1
                history.record_step(values)
                if bar is not None:
                    speed = (i + 1) * batch_size / (time.perf_counter() - started)
                    bar.set_postfix_str(postfix(values, speed), refresh=False)
                    bar.update(1)
                call_back(args["callback"], "step_end", epoch, step, history)
        finally:
            if bar is not None:
                bar.close()
        history.record_epoch(time.perf_counter() - started, steps * batch_size)
        for name, model in (("generator", generator), ("discriminator", discriminator)):
            if not all(np.isfinite(w.numpy()).all() for w in model.weights):
                raise non_finite_weights_error(where, name, epoch, step, history)
        if z_fixed is not None:
            history.record_samples(epoch, _samples(generator, z_fixed))
        if folder is not None:
            _save_checkpoint(folder, epoch, step, generator, discriminator, g_opt, d_opt, order_rng, config, history)
        call_back(args["callback"], "epoch_end", epoch, step, history)
    return history
