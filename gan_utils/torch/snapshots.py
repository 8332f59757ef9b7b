"""The DCGAN generator over chapter 5's PyTorch run, kept for chapter 6.

Chapter 5 (``05_dcgan_pytorch``) trains the DCGAN of :mod:`gan_utils.torch.mnist` and,
under the full profile, writes ``data/pretrained/dcgan_torch_generator_snapshots.pt``
with :func:`save_dcgan_snapshots`: the generator's ``state_dict`` after the epochs it
keeps (0, 1, 2, every second epoch and the last, to stay within the pretrained folder's
25 MB; floating-point tensors stored as float16 to halve the file; BatchNorm's integer
counter stays int64), the cumulative training seconds at each of those epochs' ends and
the run's per-step history.  Chapter 6 measures how quality grows with training time from
these snapshots without training again.

- :func:`load_dcgan_snapshots` returns a list of :class:`Snapshot` (epoch, training
  seconds, generator in eval mode with float32 weights), sorted by epoch;
- :func:`load_dcgan_history` returns the per-step history as NumPy arrays
  (``d_loss``, ``g_loss``, ``d_real``, ``d_fake``, float32) and ``steps_per_epoch``.

Both read the shipped file through :func:`gan_utils.pretrained.pretrained_path`, which
checks its SHA-256 against ``data/pretrained/SHA256SUMS`` first (a missing or altered file
raises :class:`gan_utils.pretrained.PretrainedFileError` naming the file and the fix),
and then ``torch.load(weights_only=True)``: the file holds only tensors, lists, dicts,
strings and numbers.  ``path=`` reads another file written by
:func:`save_dcgan_snapshots` (e.g. your own run) without a checksum.

Used in chapters 5 and 6.
"""

from __future__ import annotations

import math
import os
from numbers import Integral, Real
from pathlib import Path
from typing import Mapping, NamedTuple, Sequence

import numpy as np
import torch
from torch import nn

from gan_utils.checkpoint import atomic_file
from gan_utils.pretrained import pretrained_path

from .mnist import dcgan_generator

__all__ = [
    "HISTORY_KEYS",
    "SNAPSHOT_CHAPTER",
    "SNAPSHOT_FILE",
    "SNAPSHOT_FORMAT",
    "Snapshot",
    "load_dcgan_history",
    "load_dcgan_snapshots",
    "save_dcgan_snapshots",
]

#: The shipped file's name in ``data/pretrained/``.
SNAPSHOT_FILE = "dcgan_torch_generator_snapshots.pt"
#: The notebook that writes it (named in error messages).
SNAPSHOT_CHAPTER = "05_dcgan_pytorch"
#: Stored in the file, to recognise its layout.
SNAPSHOT_FORMAT = "gan_utils.torch.snapshots/1"
#: The per-step series of the history, in this order.
HISTORY_KEYS = ("d_loss", "g_loss", "d_real", "d_fake")


class Snapshot(NamedTuple):
    """The generator after ``epoch`` epochs (0: untrained) and the training seconds spent until then."""

    epoch: int
    train_seconds: float
    generator: nn.Module


def _half(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Floating-point tensors as float16 (copies, detached, on the CPU); others (BatchNorm's counter) unchanged."""
    return {
        name: (t.detach().to("cpu", torch.float16) if t.is_floating_point() else t.detach().cpu().clone())
        for name, t in state_dict.items()
    }


def save_dcgan_snapshots(
    path: str | os.PathLike,
    generators: Sequence[tuple[int, float, Mapping[str, torch.Tensor] | nn.Module]],
    history: Mapping[str, Sequence[float]],
    *,
    steps_per_epoch: int,
    latent_dim: int = 100,
    width: int,
) -> Path:
    """Write the snapshot file atomically to ``path``; return the path.

    ``generators``: ``(epoch, cumulative training seconds, generator or its state_dict)``
    per snapshot, with strictly increasing epochs and non-decreasing seconds (the
    notebook collects them with ``fit``'s epoch-end callback).  ``history``: the per-step
    series ``d_loss``, ``g_loss``, ``d_real``, ``d_fake`` of equal length (e.g. the
    ``History`` attributes).  ``steps_per_epoch``, ``latent_dim`` and ``width`` rebuild
    the generator (:func:`gan_utils.torch.mnist.dcgan_generator`).  Floating-point weights
    are stored as float16.  Used in chapter 5.
    """
    where = "save_dcgan_snapshots"
    for name, value in (("steps_per_epoch", steps_per_epoch), ("latent_dim", latent_dim), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, Integral) or int(value) < 1:
            raise ValueError(f"{where}: {name} must be a positive int, got {value!r}.")
    if isinstance(generators, (str, bytes)) or not isinstance(generators, Sequence) or not generators:
        raise ValueError(
            f"{where}: generators must be a non-empty list of (epoch, train_seconds, generator) tuples, "
            f"got {type(generators).__name__}."
        )
    epochs, seconds, states = [], [], []
    for i, item in enumerate(generators):
        if not isinstance(item, (tuple, list)) or len(item) != 3:
            raise ValueError(f"{where}: generators[{i}] must be (epoch, train_seconds, generator), got {item!r}.")
        epoch, secs, model = item
        if isinstance(epoch, bool) or not isinstance(epoch, Integral) or int(epoch) < 0:
            raise ValueError(f"{where}: generators[{i}] has epoch {epoch!r}; expected an int >= 0.")
        if isinstance(secs, bool) or not isinstance(secs, Real) or not math.isfinite(secs) or secs < 0:
            raise ValueError(f"{where}: generators[{i}] has train_seconds {secs!r}; expected a finite number >= 0.")
        if epochs and (int(epoch) <= epochs[-1] or float(secs) < seconds[-1]):
            raise ValueError(
                f"{where}: generators[{i}] (epoch {epoch}, {secs} s) must come after epoch {epochs[-1]} "
                f"({seconds[-1]} s): epochs strictly increasing, seconds non-decreasing."
            )
        state = model.state_dict() if isinstance(model, nn.Module) else model
        if not isinstance(state, Mapping):
            raise TypeError(
                f"{where}: generators[{i}] must hold an nn.Module or its state_dict, got {type(model).__name__}."
            )
        epochs.append(int(epoch))
        seconds.append(float(secs))
        states.append(_half(state))
    if not isinstance(history, Mapping) or any(key not in history for key in HISTORY_KEYS):
        raise ValueError(f"{where}: history must be a mapping with the keys {HISTORY_KEYS}.")
    series = {key: torch.tensor(np.asarray(history[key], dtype=np.float32)) for key in HISTORY_KEYS}
    lengths = {key: int(t.numel()) for key, t in series.items()}
    if len(set(lengths.values())) != 1 or any(t.ndim != 1 for t in series.values()):
        raise ValueError(f"{where}: the history series must be 1-D and of equal length, got lengths {lengths}.")
    state = {
        "format": SNAPSHOT_FORMAT,
        "latent_dim": int(latent_dim),
        "width": int(width),
        "epochs": torch.tensor(epochs, dtype=torch.int64),
        "train_seconds": torch.tensor(seconds, dtype=torch.float64),
        "generators": states,
        "history": {**series, "steps_per_epoch": int(steps_per_epoch)},
    }
    path = Path(path)
    with atomic_file(path) as handle:
        torch.save(state, handle)
    return path


def _load(path: str | os.PathLike | None, folder: str | os.PathLike | None) -> dict:
    where = "load_dcgan_snapshots"
    if path is None:
        source = pretrained_path(SNAPSHOT_FILE, folder=folder, chapter=SNAPSHOT_CHAPTER)
    else:
        if folder is not None:
            raise ValueError(f"{where}: give path or folder, not both (got path={path!r}, folder={folder!r}).")
        source = Path(path)
        if not source.is_file():
            raise FileNotFoundError(
                f"{where}: no snapshot file {source}; chapter 5's PyTorch notebook writes one "
                f"(data/pretrained/{SNAPSHOT_FILE} under the full profile)."
            )
    state = torch.load(source, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("format") != SNAPSHOT_FORMAT:
        raise ValueError(f"{where}: {source} is not a snapshot file written by save_dcgan_snapshots.")
    return state


def load_dcgan_snapshots(
    path: str | os.PathLike | None = None, *, folder: str | os.PathLike | None = None
) -> list[Snapshot]:
    """The generator after every saved epoch, as :class:`Snapshot` tuples sorted by epoch.

    ``path=None`` reads ``dcgan_torch_generator_snapshots.pt`` from the pretrained folder
    (``folder``, default ``data/pretrained/``) after checking its SHA-256; ``path`` reads
    that file instead, unchecked.  Each generator is
    :func:`gan_utils.torch.mnist.dcgan_generator` with float32 weights, in eval mode.
    Used in chapters 5 and 6.
    """
    state = _load(path, folder)
    snapshots = []
    for epoch, secs, weights in zip(state["epochs"].tolist(), state["train_seconds"].tolist(), state["generators"]):
        generator = dcgan_generator(state["latent_dim"], state["width"])
        generator.load_state_dict(
            {k: (v.float() if v.is_floating_point() else v) for k, v in weights.items()}
        )
        snapshots.append(Snapshot(int(epoch), float(secs), generator.eval()))
    return snapshots


def load_dcgan_history(
    path: str | os.PathLike | None = None, *, folder: str | os.PathLike | None = None
) -> dict[str, np.ndarray]:
    """The run's per-step history: ``d_loss``, ``g_loss``, ``d_real``, ``d_fake`` (float32 arrays) and ``steps_per_epoch``.

    ``steps_per_epoch`` comes as a 0-d int64 array.  Reads the same file as
    :func:`load_dcgan_snapshots`, with the same checks.  Used in chapters 5 and 6.
    """
    history = _load(path, folder)["history"]
    out = {key: history[key].numpy().astype(np.float32) for key in HISTORY_KEYS}
    out["steps_per_epoch"] = np.asarray(history["steps_per_epoch"], dtype=np.int64)
    return out
