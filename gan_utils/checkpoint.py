"""Framework-neutral pieces of the MNIST training loops: history, atomic files, validation.

:func:`gan_utils.torch.fit.fit` and :func:`gan_utils.tensorflow.fit.fit` share what does
not depend on the framework:

- :class:`History`, what a training run records (losses and discriminator outputs per
  step, wall time and images/s per epoch, the fixed-noise sample grid after each epoch)
  and how it is stored in a checkpoint (plain lists of floats and one ``uint8`` array);
- atomic writes (:func:`atomic_file`, :func:`atomic_write_bytes`,
  :func:`atomic_write_json`): the data go to a temporary file in the destination's
  folder, are flushed and ``fsync``-ed, and only then replace the destination with
  ``os.replace`` (atomic on POSIX and Windows when both are on one file system), and
  the folder is ``fsync``-ed so the rename itself survives a power cut.  A reader, or a
  run that resumes after being killed at any instant, sees either the old file or the
  new one, never half of one.  Temporary names start with :data:`TEMP_PREFIX`, so a
  leftover of a killed write is recognisable and :func:`remove_temporaries` deletes it;
- the validation of ``fit``'s arguments and images, with messages that name the
  argument, what it got and what it expects;
- the fixed noise (NumPy, so both frameworks draw the same ``z`` for the same seed) and
  the conversion of a batch of samples to a ``uint8`` grid for the animation.

This module imports NumPy and the standard library (and :mod:`gan_utils.plot` for the
grids); no deep-learning framework.  Used in chapters 4 and 5.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np

__all__ = [
    "CALLBACK_EVENTS",
    "History",
    "TEMP_PREFIX",
    "atomic_file",
    "atomic_write_bytes",
    "atomic_write_json",
    "check_fit_arguments",
    "check_images",
    "fixed_noise",
    "fsync_dir",
    "remove_temporaries",
    "sample_grid",
]

#: Prefix of every temporary file or folder an atomic write creates.
TEMP_PREFIX = ".tmp-"

#: What ``fit`` passes as the first argument of its ``callback``.
CALLBACK_EVENTS = ("epoch_start", "step_end", "epoch_end")

_STEP_KEYS = ("d_loss", "g_loss", "d_real", "d_fake")


# ------------------------------------------------------------------------ history


@dataclass(eq=False)
class History:
    """What ``fit`` records, per step and per epoch.  Used in chapters 4 and 5.

    Per training step (one discriminator and one generator update), in order:
    ``d_loss``, ``g_loss`` (Python floats), ``d_real`` = mean ``D(x)`` on the real batch
    and ``d_fake`` = mean ``D(G(z))`` on the fakes of the discriminator update.

    Per epoch: ``epoch_seconds`` (wall time of the epoch's training steps, without the
    sample grid and the checkpoint), ``images_per_second`` (real images processed per
    second in those steps) and ``epoch_end_steps`` (how many steps had been taken when
    the epoch ended, so ``d_loss[epoch_end_steps[e - 1]:epoch_end_steps[e]]`` are the
    steps of epoch ``e + 1``).

    ``samples[k]`` is the grid of the generator's images of the fixed noise, a
    ``uint8`` array ``(H, W)`` (0 = black), taken after epoch ``sample_epochs[k]``
    (epoch 0 is the untrained generator).  ``gan_utils.plot.animate_images(history.samples,
    titles=[f"epoch {e}" for e in history.sample_epochs])`` animates them.
    """

    d_loss: list = field(default_factory=list)
    g_loss: list = field(default_factory=list)
    d_real: list = field(default_factory=list)
    d_fake: list = field(default_factory=list)
    epoch_seconds: list = field(default_factory=list)
    images_per_second: list = field(default_factory=list)
    epoch_end_steps: list = field(default_factory=list)
    samples: list = field(default_factory=list)
    sample_epochs: list = field(default_factory=list)

    @property
    def epochs(self) -> int:
        """Number of completed epochs."""
        return len(self.epoch_seconds)

    @property
    def steps(self) -> int:
        """Number of completed training steps."""
        return len(self.d_loss)

    def record_step(self, values: Mapping[str, float]) -> None:
        """Append one step's ``{"d_loss", "g_loss", "d_real", "d_fake"}``."""
        for key in _STEP_KEYS:
            getattr(self, key).append(float(values[key]))

    def record_epoch(self, seconds: float, images: int) -> None:
        """Close an epoch that took ``seconds`` and processed ``images`` real images."""
        self.epoch_seconds.append(float(seconds))
        self.images_per_second.append(float(images) / float(seconds) if seconds > 0 else math.inf)
        self.epoch_end_steps.append(self.steps)

    def record_samples(self, epoch: int, grid: np.ndarray) -> None:
        """Append the ``uint8`` sample grid taken after ``epoch``."""
        self.samples.append(np.asarray(grid, dtype=np.uint8))
        self.sample_epochs.append(int(epoch))

    def epoch_means(self, key: str = "d_loss") -> np.ndarray:
        """The mean of a per-step series (``"d_loss"``, ``"g_loss"``, ``"d_real"``, ``"d_fake"``) per epoch."""
        if key not in _STEP_KEYS:
            raise ValueError(f"History.epoch_means: key must be one of {_STEP_KEYS}, got {key!r}.")
        values = np.asarray(getattr(self, key), dtype=np.float64)
        bounds = [0] + list(self.epoch_end_steps)
        return np.array([values[a:b].mean() if b > a else np.nan for a, b in zip(bounds[:-1], bounds[1:])])

    def state_dict(self) -> dict:
        """The history as plain Python lists of floats/ints and one ``uint8`` array ``(K, H, W)``.

        Plain types only, so that ``torch.load(..., weights_only=True)`` accepts it once
        the array is a tensor, and ``np.savez`` stores it without pickling.
        """
        state: dict[str, Any] = {key: [float(v) for v in getattr(self, key)] for key in _STEP_KEYS}
        state["epoch_seconds"] = [float(v) for v in self.epoch_seconds]
        state["images_per_second"] = [float(v) for v in self.images_per_second]
        state["epoch_end_steps"] = [int(v) for v in self.epoch_end_steps]
        state["sample_epochs"] = [int(v) for v in self.sample_epochs]
        if self.samples:
            state["samples"] = np.stack([np.asarray(s, dtype=np.uint8) for s in self.samples])
        else:
            state["samples"] = np.zeros((0, 0, 0), dtype=np.uint8)
        return state

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any]) -> "History":
        """Rebuild a history from :meth:`state_dict` (arrays may be tensors or NumPy arrays)."""

        def floats(key: str) -> list[float]:
            return [float(v) for v in np.asarray(state[key], dtype=np.float64).reshape(-1)]

        def ints(key: str) -> list[int]:
            return [int(v) for v in np.asarray(state[key], dtype=np.int64).reshape(-1)]

        history = cls(**{key: floats(key) for key in _STEP_KEYS})
        history.epoch_seconds = floats("epoch_seconds")
        history.images_per_second = floats("images_per_second")
        history.epoch_end_steps = ints("epoch_end_steps")
        history.sample_epochs = ints("sample_epochs")
        samples = np.asarray(state["samples"], dtype=np.uint8)
        history.samples = [samples[k].copy() for k in range(len(history.sample_epochs))]
        return history


# ------------------------------------------------------------------ atomic files


def fsync_dir(folder: str | os.PathLike) -> None:
    """``fsync`` a folder so that a rename inside it is durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(os.fspath(folder), os.O_RDONLY)
    except OSError:  # e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_file(path: str | os.PathLike) -> None:
    """``fsync`` a file that someone else wrote (e.g. Keras' ``save_weights``)."""
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[Any]:
    """Open a temporary binary file next to ``path``; on success make it ``path`` atomically.

    ``with atomic_file("run/checkpoint.pt") as f: torch.save(state, f)``: the data go to
    ``run/.tmp-checkpoint.pt-XXXX``, which is flushed, ``fsync``-ed and renamed over
    ``path`` with ``os.replace`` when the block ends normally; if the block raises (or
    the process is interrupted) the temporary file is deleted and ``path`` is untouched.
    Missing parent folders are created.  Used in chapters 4 and 5.
    """
    path = Path(path)
    folder = path.absolute().parent
    folder.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=folder, prefix=f"{TEMP_PREFIX}{path.name}-")
    try:
        with os.fdopen(handle, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(folder)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_file`).  Used in chapters 4 and 5."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"atomic_write_bytes: data must be bytes, got {type(data).__name__}.")
    with atomic_file(path) as f:
        f.write(data)


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as JSON to ``path`` atomically.  Used in chapters 4 and 5."""
    atomic_write_bytes(path, (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode("utf-8"))


def remove_temporaries(folder: str | os.PathLike) -> list[str]:
    """Delete the leftovers (files or folders named ``.tmp-*``) of atomic writes that were killed.

    Returns the names removed.  Only entries that start with :data:`TEMP_PREFIX` are
    touched.  Used in chapters 4 and 5.
    """
    import shutil

    folder = Path(folder)
    removed = []
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        if entry.name.startswith(TEMP_PREFIX):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()
            removed.append(entry.name)
    return removed


# -------------------------------------------------------------------- validation


def _int_at_least(where: str, name: str, value: object, minimum: int, hint: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, (Integral, np.integer)):
        raise TypeError(f"{where}: {name} must be an int >= {minimum}, got {type(value).__name__} {value!r}.{hint}")
    if int(value) < minimum:
        raise ValueError(f"{where}: {name} must be an int >= {minimum}, got {value!r}.{hint}")
    return int(value)


def _positive_float(where: str, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating)) or not 0.0 < float(value) < math.inf:
        raise ValueError(f"{where}: {name} must be a positive finite number, got {value!r}.")
    return float(value)


def check_fit_arguments(
    where: str,
    *,
    epochs: object,
    batch_size: object,
    latent_dim: object,
    lr_g: object,
    lr_d: object,
    betas: object,
    seed: object,
    checkpoint_dir: object,
    resume: object,
    fixed_noise_size: object,
    max_steps_per_epoch: object,
    progress: object,
    callback: object,
) -> dict:
    """Validate the framework-neutral arguments of ``fit``; return them normalised.

    Raises ``TypeError``/``ValueError`` naming the argument, the value and what is
    expected.  Used by both ``fit`` functions (chapters 4 and 5).
    """
    out: dict[str, Any] = {}
    out["epochs"] = _int_at_least(where, "epochs", epochs, 1)
    out["batch_size"] = _int_at_least(where, "batch_size", batch_size, 1)
    out["latent_dim"] = _int_at_least(where, "latent_dim", latent_dim, 1)
    out["lr_g"] = _positive_float(where, "lr_g", lr_g)
    out["lr_d"] = _positive_float(where, "lr_d", lr_d)
    if (
        isinstance(betas, (str, bytes))
        or not isinstance(betas, (tuple, list))
        or len(betas) != 2
        or not all(
            isinstance(b, (Real, np.floating)) and not isinstance(b, bool) and 0.0 <= float(b) < 1.0 for b in betas
        )
    ):
        raise ValueError(
            f"{where}: betas must be a pair (beta1, beta2) of numbers in [0, 1), such as (0.5, 0.999), "
            f"got {betas!r}."
        )
    out["betas"] = (float(betas[0]), float(betas[1]))
    if isinstance(seed, bool) or not isinstance(seed, (Integral, np.integer)) or not 0 <= int(seed) < 2**31:
        raise ValueError(f"{where}: seed must be an int in [0, 2**31), got {seed!r}.")
    out["seed"] = int(seed)
    if checkpoint_dir is not None and not isinstance(checkpoint_dir, (str, os.PathLike)):
        raise TypeError(
            f"{where}: checkpoint_dir must be a folder path (str or os.PathLike) or None, got "
            f"{type(checkpoint_dir).__name__}."
        )
    if checkpoint_dir is not None and os.fspath(checkpoint_dir) == "":
        raise ValueError(f"{where}: checkpoint_dir must not be empty; pass None for no checkpoints.")
    out["checkpoint_dir"] = None if checkpoint_dir is None else Path(checkpoint_dir)
    for name, value in (("resume", resume), ("progress", progress)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{where}: {name} must be True or False, got {value!r}.")
    out["resume"], out["progress"] = bool(resume), bool(progress)
    out["fixed_noise_size"] = _int_at_least(
        where, "fixed_noise_size", fixed_noise_size, 0, " (0 records no sample grids)"
    )
    if max_steps_per_epoch is None:
        out["max_steps_per_epoch"] = None
    else:
        out["max_steps_per_epoch"] = _int_at_least(
            where, "max_steps_per_epoch", max_steps_per_epoch, 1, " (None means a full pass over the images)"
        )
    if callback is not None and not callable(callback):
        raise TypeError(
            f"{where}: callback must be None or a callable callback(event, epoch, step, history), "
            f"got {type(callback).__name__}."
        )
    out["callback"] = callback
    return out


def check_images(images: np.ndarray, where: str, *, framework_shape: tuple[int, ...]) -> np.ndarray:
    """Check a NumPy batch of MNIST-sized images for ``fit`` and return it as float32 ``(N, 28, 28)``.

    Accepted shapes: ``(N, 28, 28)`` or ``(N,) + framework_shape`` (``(1, 28, 28)`` for
    PyTorch, ``(28, 28, 1)`` for TensorFlow), with ``N >= 1``.  Values must be finite
    floats in ``[-1, 1]`` (the range of the generator's ``tanh``).  Data without a single
    negative value are accepted with a ``UserWarning``: they are probably in ``[0, 1]``, a
    range the generator can reach only half of.  Used in chapters 4 and 5.
    """
    if not isinstance(images, np.ndarray):
        raise TypeError(f"{where}: images must be an array of images, got {type(images).__name__}.")
    shapes = f"(N, 28, 28) or (N, {', '.join(map(str, framework_shape))})"
    if images.dtype.kind != "f":
        hint = (
            " (uint8 pixels? load them with load_mnist(split, dtype='float32'), which scales to [-1, 1])"
            if images.dtype.kind in "ui"
            else ""
        )
        raise TypeError(f"{where}: images must hold floats in [-1, 1], got dtype {images.dtype}{hint}.")
    if images.ndim == 3 and images.shape[1:] == (28, 28):
        flat = images
    elif images.ndim == 4 and tuple(images.shape[1:]) == tuple(framework_shape):
        flat = images.reshape(images.shape[0], 28, 28)
    else:
        raise ValueError(f"{where}: images must have shape {shapes}, got {tuple(images.shape)}.")
    if flat.shape[0] == 0:
        raise ValueError(f"{where}: images is empty (shape {tuple(images.shape)}); expected N >= 1 images.")
    flat = np.asarray(flat, dtype=np.float32)
    lo, hi = float(np.min(flat)), float(np.max(flat))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        bad = int(flat.size - np.count_nonzero(np.isfinite(flat)))
        raise ValueError(f"{where}: images contain {bad} NaN or inf value(s); expected finite values in [-1, 1].")
    if lo < -1.0 - 1e-6 or hi > 1.0 + 1e-6:
        hint = " (0..255 pixels? divide by 127.5 and subtract 1)" if hi > 1.5 else ""
        raise ValueError(
            f"{where}: images must lie in [-1, 1] (the range of the generator's tanh), got values in "
            f"[{lo:.4g}, {hi:.4g}]{hint}."
        )
    if lo >= 0.0:
        warnings.warn(
            f"{where}: images has no negative value (range [{lo:.4g}, {hi:.4g}]); it is probably in "
            "[0, 1], while the generator's tanh covers [-1, 1]. Scale it with x * 2 - 1.",
            UserWarning,
            stacklevel=3,
        )
    return flat


def steps_per_epoch(where: str, n_images: int, batch_size: int, max_steps: int | None) -> int:
    """``n_images // batch_size`` full batches (the last partial batch is dropped), capped at ``max_steps``."""
    if n_images < batch_size:
        raise ValueError(
            f"{where}: images holds {n_images} image(s), fewer than batch_size={batch_size}; "
            "use a smaller batch_size or more images."
        )
    steps = n_images // batch_size
    return steps if max_steps is None else min(steps, max_steps)


def check_batch_pack(where: str, batch_size: int, pack: int) -> None:
    """A discriminator that judges groups of ``pack`` images (PacGAN) needs whole groups in a batch."""
    if batch_size % pack:
        raise ValueError(
            f"{where}: batch_size must be a multiple of the discriminator's pack={pack} (it judges "
            f"groups of {pack} images), got {batch_size}."
        )


def logit_shape_error(where: str, pack: int, got: tuple) -> ValueError:
    """The error for a discriminator that does not give one logit per image (or per group of ``pack``)."""
    per = "image" if pack == 1 else f"group of {pack} images"
    return ValueError(
        f"{where}: the discriminator must output one logit per {per}, shape (2, 1) for n={2 * pack} images, "
        f"got {got}."
    )


def check_config(where: str, saved: Mapping[str, Any], current: Mapping[str, Any], path: object) -> None:
    """Refuse to resume from a checkpoint written for other data or settings."""
    different = sorted(k for k in current if k not in saved or saved[k] != current[k])
    if different:
        details = ", ".join(f"{k}: checkpoint {saved.get(k)!r}, now {current[k]!r}" for k in different)
        raise ValueError(
            f"{where}: the checkpoint {path} was written by a run with other settings ({details}); "
            "pass resume=False to start afresh (it overwrites the checkpoint), or another checkpoint_dir."
        )


def images_fingerprint(images: np.ndarray) -> list:
    """A cheap summary of the images for :func:`check_config`: count, sum, sum of squares, a strided sample."""
    flat = images.reshape(images.shape[0], -1)
    sample = flat[:: max(1, flat.shape[0] // 64), ::37]
    return [int(flat.shape[0]), round(float(flat.sum(dtype=np.float64)), 3),
            round(float(np.square(flat, dtype=np.float64).sum()), 3), round(float(sample.sum(dtype=np.float64)), 5)]


def non_finite_weights_error(where: str, model: str, epoch: int, step: int, history: History) -> FloatingPointError:
    """The error for weights that turned NaN/inf in an update whose own losses were still finite."""
    last = f"d_loss={history.d_loss[-1]:.4g}, g_loss={history.g_loss[-1]:.4g}" if history.steps else "no step"
    return FloatingPointError(
        f"{where}: stopped after step {step} (end of epoch {epoch}): the {model}'s weights contain NaN or inf "
        f"(the losses of that step were still finite: {last}); this epoch was not checkpointed. "
        "Lower the learning rates."
    )


def kept_checkpoint(where_saved: object, last_epoch: int) -> str:
    """How the error messages describe what is on disk after training stopped in epoch ``last_epoch + 1``."""
    if where_saved is None:
        return "no checkpoint was kept (checkpoint_dir=None)"
    if last_epoch < 1:
        return f"no epoch of this run was checkpointed in {where_saved} yet"
    return f"the checkpoint in {where_saved} still holds epoch {last_epoch}"


def call_back(callback: Callable | None, event: str, epoch: int, step: int, history: History) -> None:
    if callback is not None:
        callback(event, epoch, step, history)


# -------------------------------------------------------------- noise and samples


def fixed_noise(n: int, latent_dim: int, seed: int) -> np.ndarray:
    """The fixed noise of the sample grids: ``(n, latent_dim)`` float32 ``N(0, 1)`` from ``seed``.

    Drawn with NumPy (``default_rng(seed)``), so both frameworks show the same ``z``.
    Used in chapters 4 and 5.
    """
    return np.random.default_rng([int(seed), 2024]).standard_normal((int(n), int(latent_dim))).astype(np.float32)


def sample_grid(images: np.ndarray) -> np.ndarray:
    """Tile generated images (``[-1, 1]``, any layout) into one ``uint8`` grid ``(H, W)``, 0 = black.

    Uses :func:`gan_utils.plot.image_grid` (``ceil(sqrt(N))`` images per row, 2 white
    pixels between them).  Used in chapters 4 and 5.
    """
    from gan_utils.plot import image_grid

    grid = image_grid(np.clip(np.asarray(images, dtype=np.float32), -1.0, 1.0), value_range="[-1, 1]")
    return np.round(grid * 255.0).astype(np.uint8)


def progress_bar(enabled: bool, *, epoch: int, epochs: int, steps: int, initial: int = 0):
    """A ``tqdm`` bar for one epoch (text, on stderr), or ``None`` when ``enabled`` is False."""
    if not enabled:
        return None
    from tqdm.std import tqdm

    return tqdm(
        total=steps,
        initial=initial,
        desc=f"epoch {epoch}/{epochs}",
        unit="step",
        mininterval=1.0,
        dynamic_ncols=False,
        ncols=120,
        leave=True,
    )


def postfix(values: Mapping[str, float], images_per_second: float) -> str:
    """The text after a progress bar: the last step's losses and D outputs, and images/s."""
    return (
        f"d_loss={values['d_loss']:.3f} g_loss={values['g_loss']:.3f} "
        f"D(x)={values['d_real']:.2f} D(G(z))={values['d_fake']:.2f} {images_per_second:,.0f} img/s"
    )
