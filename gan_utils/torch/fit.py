"""Train a GAN on MNIST in PyTorch, with progress, history, checkpoints, resume and a NaN guard.

:func:`fit` runs chapter 3's alternating, non-saturating
:func:`gan_utils.torch.train.train_step` over the images for a number of epochs.  Around
it, it adds what a long run needs:

- a ``tqdm`` progress bar per epoch with the losses, ``D(x)``, ``D(G(z))`` and images/s;
- a :class:`~gan_utils.checkpoint.History` of every step and epoch, and the fixed-noise
  sample grid after every epoch (for the animation);
- a checkpoint after every epoch, ``<checkpoint_dir>/checkpoint.pt``, written
  atomically (``torch.save`` into a temporary file in the same folder, ``fsync``,
  ``os.replace``) and read with ``torch.load(weights_only=True)``: it holds both
  models, both Adam optimisers, the epoch, every random state the run draws from and
  the history, as tensors and plain Python numbers only;
- ``resume=True``: a run that was killed goes on from the last complete epoch and ends
  with the same weights and losses, bit for bit, as a run that was never interrupted
  (the data order comes from a checkpointed ``torch.Generator``, the noise from
  PyTorch's global generator, whose state is checkpointed too);
- a guard: a NaN or infinite loss stops training with ``FloatingPointError`` naming the
  step, the epoch and the loss, and the checkpoint on disk stays the last good one.

``torch.compile`` is not used: on the course's 2-core CPU it took 30-50 s to compile
the step and the compiled step ran 6-20% slower than the eager one
(``benchmarks/README.md``).

The TensorFlow half, :func:`gan_utils.tensorflow.fit.fit`, has the same signature.
Used in chapters 4 and 5.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gan_utils.checkpoint import (
    History,
    atomic_file,
    call_back,
    check_batch_pack,
    check_config,
    check_fit_arguments,
    check_images,
    fixed_noise,
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

__all__ = ["CHECKPOINT_FILE", "CHECKPOINT_FORMAT", "fit", "load_checkpoint"]

#: The file ``fit`` writes in ``checkpoint_dir``.
CHECKPOINT_FILE = "checkpoint.pt"

#: Stored in every checkpoint, to recognise its layout.
CHECKPOINT_FORMAT = "gan_utils.torch.fit/1"


def _as_numpy_images(images: object, where: str) -> np.ndarray:
    if isinstance(images, torch.Tensor):
        if not images.is_floating_point():
            raise TypeError(f"{where}: images must hold floats in [-1, 1], got a tensor of dtype {images.dtype}.")
        return images.detach().to("cpu", torch.float32).numpy()
    if isinstance(images, np.ndarray):
        return images
    raise TypeError(
        f"{where}: images must be a NumPy array or a torch.Tensor of shape (N, 28, 28) or "
        f"(N, 1, 28, 28), got {type(images).__name__}."
    )


def _check_models(generator: object, discriminator: object, latent_dim: int, batch_size: int, where: str) -> None:
    """Check both are modules and fit together.

    G must map (n, latent_dim) to (n, 1, 28, 28), and D such images to one logit per group
    of ``pack`` images, (n / pack, 1), where ``pack`` is 1 unless D packs images (PacGAN,
    :func:`gan_utils.torch.mnist.discriminator_pack`); ``batch_size`` must then be a
    multiple of ``pack``.
    """
    for name, model in (("generator", generator), ("discriminator", discriminator)):
        if not isinstance(model, nn.Module):
            raise TypeError(f"{where}: {name} must be a torch.nn.Module, got {type(model).__name__}.")
    pack = discriminator_pack(discriminator)
    check_batch_pack(where, batch_size, pack)
    n = 2 * pack
    modes = (generator.training, discriminator.training)
    generator.eval()
    discriminator.eval()
    try:
        with torch.no_grad():
            try:
                fake = generator(torch.zeros(n, latent_dim, device=_device(generator)))
            except RuntimeError as err:
                raise ValueError(
                    f"{where}: the generator cannot take noise of shape (n, {latent_dim}) "
                    f"(latent_dim={latent_dim}): {err}"
                ) from None
            if tuple(fake.shape) != (n, 1, 28, 28):
                raise ValueError(
                    f"{where}: the generator must output images of shape (n, 1, 28, 28), got "
                    f"{tuple(fake.shape)} for n={n}."
                )
            logits = discriminator(fake)
            if tuple(logits.shape) != (2, 1):
                raise logit_shape_error(where, pack, tuple(logits.shape))
    finally:
        generator.train(modes[0])
        discriminator.train(modes[1])


def _all_finite(model: nn.Module) -> bool:
    with torch.no_grad():
        return all(bool(torch.isfinite(t).all()) for t in model.state_dict().values() if t.is_floating_point())


def _device(model: nn.Module) -> torch.device:
    """Where the model's parameters live (the CPU for a model without parameters)."""
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def _samples(generator: nn.Module, z: torch.Tensor) -> np.ndarray:
    """The generator's images of ``z`` in eval mode (BatchNorm uses its running statistics)."""
    mode = generator.training
    generator.eval()
    try:
        with torch.no_grad():
            return sample_grid(generator(z.to(_device(generator))).cpu().numpy())
    finally:
        generator.train(mode)


def load_checkpoint(
    checkpoint_dir: str | Path,
    generator: nn.Module | None = None,
    discriminator: nn.Module | None = None,
) -> dict:
    """Read the checkpoint of :func:`fit` in ``checkpoint_dir`` (``torch.load(weights_only=True)``).

    Loads the weights into ``generator`` and/or ``discriminator`` when given, and returns
    ``{"epoch": int, "step": int, "history": History, "state": dict}`` where ``state`` is
    the raw checkpoint (model and optimiser ``state_dict``\\ s, random states, settings).
    Raises ``FileNotFoundError`` when there is no checkpoint.  Used in chapters 4 and 5.
    """
    path = Path(checkpoint_dir) / CHECKPOINT_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"load_checkpoint: no checkpoint {path}; fit(..., checkpoint_dir=...) writes one per epoch."
        )
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"load_checkpoint: {path} is not a checkpoint written by gan_utils.torch.fit.fit.")
    if generator is not None:
        generator.load_state_dict(state["generator"])
    if discriminator is not None:
        discriminator.load_state_dict(state["discriminator"])
    history = History.from_state_dict(state["history"])
    return {"epoch": int(state["epoch"]), "step": int(state["step"]), "history": history, "state": state}


def fit(
    generator: nn.Module,
    discriminator: nn.Module,
    images,
    *,
    epochs: int,
    batch_size: int = 128,
    latent_dim: int = 100,
    lr_g: float = 2e-4,
    lr_d: float = 2e-4,
    betas: tuple[float, float] = (0.5, 0.999),
    seed: int = 0,
    checkpoint_dir: str | Path | None = None,
    resume: bool = True,
    fixed_noise_size: int = 64,
    max_steps_per_epoch: int | None = None,
    progress: bool = True,
    callback=None,
) -> History:
    """Train ``generator`` against ``discriminator`` on ``images`` for ``epochs`` epochs; return the :class:`History`.

    ``images`` are real images in ``[-1, 1]``: a float NumPy array or tensor of shape
    ``(N, 28, 28)`` or ``(N, 1, 28, 28)``, e.g. ``load_mnist("train", dtype="float32")[0]``.
    Each epoch draws a fresh random order of the images and takes ``N // batch_size``
    steps of full batches (the last partial batch is dropped, so BatchNorm always sees
    ``batch_size`` images; a discriminator that packs images, such as chapter 5's, needs
    ``batch_size`` to be a multiple of its ``pack``), or ``max_steps_per_epoch`` if that is fewer (the smoke
    profile's short epochs).  A step is :func:`gan_utils.torch.train.train_step`: one
    discriminator update, then one non-saturating generator update, with Adam
    (``lr_d``, ``lr_g``, ``betas``; the defaults ``2e-4`` and ``(0.5, 0.999)`` are
    Radford et al.'s).  Noise has ``latent_dim`` dimensions.

    ``seed`` fixes the run: a fresh run calls ``torch.manual_seed(seed)`` (the noise of
    ``train_step`` comes from PyTorch's global generator) and shuffles with its own
    ``torch.Generator`` seeded from ``seed``.  The models' initial weights are whatever
    they are when ``fit`` is called (seed before building them).

    ``checkpoint_dir``: after every epoch the state is written atomically to
    ``checkpoint_dir/checkpoint.pt`` (see the module docstring; ``None``: no checkpoint).
    With ``resume=True`` and a checkpoint there, training goes on after its epoch (and
    returns at once if it already reached ``epochs``); the checkpoint must come from a run
    with the same images, ``batch_size``, ``latent_dim``, ``seed``, ``fixed_noise_size``
    and ``max_steps_per_epoch`` (otherwise ``ValueError``); the learning rates and betas
    given now apply from the resumed epoch on.  ``resume=False`` starts afresh; its first
    completed epoch replaces the old checkpoint.

    ``fixed_noise_size`` generator images of one fixed noise batch (drawn with NumPy from
    ``seed``) are tiled into a ``uint8`` grid before training and after every epoch, in
    eval mode (``history.samples``; 0 records none).  ``progress`` shows a ``tqdm`` bar per
    epoch on stderr (``False``: ``fit`` prints nothing).  ``callback(event, epoch, step,
    history)``, if given, is called with ``event`` ``"epoch_start"`` (before the epoch's
    first step), ``"step_end"`` (after each step) and ``"epoch_end"`` (after the
    checkpoint), ``epoch`` counted from 1 and ``step`` the number of steps done so far;
    an exception it raises stops ``fit`` (the checkpoint stays that of the last complete
    epoch).

    Raises ``FloatingPointError`` naming the step, epoch and loss when a loss turns NaN or
    infinite (the weights in memory are then not to be trusted; the checkpoint on disk is
    the last good epoch), ``TypeError``/``ValueError`` for bad arguments.  Both models are
    left in train mode.  The images stay on the CPU; each batch is moved to the
    generator's device.  Used in chapters 4 and 5.
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
    flat = check_images(_as_numpy_images(images, where), where, framework_shape=(1, 28, 28))
    _check_models(generator, discriminator, latent_dim, batch_size, where)
    n = flat.shape[0]
    steps = steps_per_epoch(where, n, batch_size, args["max_steps_per_epoch"])
    real = torch.from_numpy(np.ascontiguousarray(flat)).unsqueeze(1)  # (N, 1, 28, 28), no copy
    device = _device(generator)  # batches go where the models are; the CPU in this course

    g_opt = torch.optim.Adam(generator.parameters(), lr=args["lr_g"], betas=args["betas"])
    d_opt = torch.optim.Adam(discriminator.parameters(), lr=args["lr_d"], betas=args["betas"])
    order_rng = torch.Generator().manual_seed(seed)
    z_fixed = None
    if args["fixed_noise_size"]:
        z_fixed = torch.from_numpy(fixed_noise(args["fixed_noise_size"], latent_dim, seed))
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
    path = folder / CHECKPOINT_FILE if folder is not None else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        remove_temporaries(folder)
    if path is not None and args["resume"] and path.is_file():
        loaded = load_checkpoint(folder)
        state = loaded["state"]
        check_config(where, state["config"], config, path)
        generator.load_state_dict(state["generator"])
        discriminator.load_state_dict(state["discriminator"])
        g_opt.load_state_dict(state["g_optimizer"])
        d_opt.load_state_dict(state["d_optimizer"])
        for opt, lr in ((g_opt, args["lr_g"]), (d_opt, args["lr_d"])):
            for group in opt.param_groups:
                group["lr"], group["betas"] = lr, args["betas"]
        torch.set_rng_state(state["torch_rng"])
        order_rng.set_state(state["order_rng"])
        history = loaded["history"]
        start_epoch = loaded["epoch"]
        if show and start_epoch >= epochs:
            print(f"fit: the checkpoint in {folder} already holds epoch {start_epoch} of {epochs}; nothing to train.")
    else:
        torch.manual_seed(seed)
        if z_fixed is not None:
            history.record_samples(0, _samples(generator, z_fixed))

    step = history.steps
    generator.train()
    discriminator.train()
    for epoch in range(start_epoch + 1, epochs + 1):
        call_back(args["callback"], "epoch_start", epoch, step, history)
        order = torch.randperm(n, generator=order_rng)
        bar = progress_bar(show, epoch=epoch, epochs=epochs, steps=steps)
        started = time.perf_counter()
        try:
            for i in range(steps):
                batch = real[order[i * batch_size:(i + 1) * batch_size]].to(device)
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
            if not _all_finite(model):
                raise non_finite_weights_error(where, name, epoch, step, history)
        if z_fixed is not None:
            history.record_samples(epoch, _samples(generator, z_fixed))
        if path is not None:
            state = {
                "format": CHECKPOINT_FORMAT,
                "epoch": epoch,
                "step": step,
                "config": config,
                "generator": generator.state_dict(),
                "discriminator": discriminator.state_dict(),
                "g_optimizer": g_opt.state_dict(),
                "d_optimizer": d_opt.state_dict(),
                "torch_rng": torch.get_rng_state(),
                "order_rng": order_rng.get_state(),
                "history": _torch_history(history),
            }
            with atomic_file(path) as handle:
                torch.save(state, handle)
        call_back(args["callback"], "epoch_end", epoch, step, history)
    return history


def _torch_history(history: History) -> dict:
    """The history with its sample array as a tensor (``weights_only`` refuses NumPy arrays)."""
    state = history.state_dict()
    state["samples"] = torch.from_numpy(state["samples"])
    return state
