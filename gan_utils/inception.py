"""InceptionV3 pool features (2048-d) from weights the user supplies.  Used in chapter 6.

FID and KID on natural images are computed on the 2048-d average-pool features of
ImageNet's InceptionV3 (Heusel et al. 2017).  The book cannot ship or download those
weights (about 100 MB, and the machines it runs on are offline), and torchvision does
not import beside the book's torch build, so this module holds a compact PyTorch
InceptionV3 of its own (the standard architecture of Szegedy et al. 2016: the stem,
three Inception-A blocks, a grid reduction, four Inception-C blocks, a second
reduction, two Inception-E blocks, global average pooling -> 2048) and loads a state
dict **you** provide.  Nothing is ever downloaded.  For MNIST the book uses the
domain classifier of :mod:`gan_utils.evaluator` instead.

Supported weight files (``torch.save`` of a state dict, optionally wrapped as
``{"state_dict": ...}``; loaded with ``torch.load(weights_only=True)``):

``variant="fid"`` (the default)
    pytorch-fid's FID Inception weights (``pt_inception-2015-12-05-6726825d.pth``, a
    port of the TensorFlow graph the FID paper used).  Differences from torchvision,
    reproduced here: average pools in the A, C and first E block exclude padding, the
    last E block (``Mixed_7c``) pools with a max pool, and ``fc`` has 1008 classes.
``variant="torchvision"``
    torchvision's ``inception_v3`` ImageNet weights (``inception_v3_google-*.pth``).

The key layout is torchvision's ``inception_v3`` (pytorch-fid uses the same names)::

    Conv2d_1a_3x3.conv.weight, Conv2d_1a_3x3.bn.{weight,bias,running_mean,running_var}
    Conv2d_2a_3x3.*, Conv2d_2b_3x3.*, Conv2d_3b_1x1.*, Conv2d_4a_3x3.*
    Mixed_5b.branch1x1.conv.weight, Mixed_5b.branch5x5_1.*, Mixed_5b.branch5x5_2.*,
        Mixed_5b.branch3x3dbl_{1,2,3}.*, Mixed_5b.branch_pool.*      (also Mixed_5c, 5d)
    Mixed_6a.branch3x3.*, Mixed_6a.branch3x3dbl_{1,2,3}.*
    Mixed_6b.branch1x1.*, .branch7x7_{1,2,3}.*, .branch7x7dbl_{1..5}.*, .branch_pool.*
        (also Mixed_6c, 6d, 6e)
    Mixed_7a.branch3x3_{1,2}.*, Mixed_7a.branch7x7x3_{1,2,3,4}.*
    Mixed_7b.branch1x1.*, .branch3x3_1.*, .branch3x3_2a.*, .branch3x3_2b.*,
        .branch3x3dbl_1.*, .branch3x3dbl_2.*, .branch3x3dbl_3a.*, .branch3x3dbl_3b.*,
        .branch_pool.*                                               (also Mixed_7c)

Every ``BasicConv2d`` is ``conv`` (no bias) + ``bn`` (eps 0.001) + ReLU.  The
classifier (``fc.*``) and the auxiliary head (``AuxLogits.*``) are not needed for the
pool features and are ignored if present; ``bn.num_batches_tracked`` may be present or
absent.  :func:`expected_keys` lists the exact keys required.

Inputs follow the book's conventions: float images in [-1, 1] (uint8 in 0..255 are
scaled), layouts ``(N, H, W)``, ``(N, C, H, W)`` or ``(N, H, W, C)`` with C = 1 or 3;
grey images are repeated to three channels and everything is resized to 299x299
(bilinear, ``align_corners=False``, as pytorch-fid does).  pytorch-fid and torchvision
(with ``transform_input``) both feed the network values in [-1, 1], so no further
normalisation is applied.

This module imports PyTorch.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

VARIANTS = ("fid", "torchvision")
FEATURE_DIM = 2048
INPUT_SIZE = 299
# Keys of a full checkpoint that the pool features do not use.
IGNORED_PREFIXES = ("fc.", "AuxLogits.")

# Loaded models keyed by (absolute path, variant); each entry remembers the file's stat.
_CACHE: dict[tuple[Path, str], tuple[tuple, "InceptionV3Features"]] = {}


class InceptionWeightsError(OSError):
    """The InceptionV3 weights file is missing, unreadable or does not fit the network.

    A subclass of ``OSError`` like :class:`gan_utils.data.DataFileError`; the message
    names the file and what is wrong.
    """


class BasicConv2d(nn.Module):
    def __init__(self, c_in: int, c_out: int, **kwargs: Any) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(c_out, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg_pool(x: torch.Tensor, fid: bool) -> torch.Tensor:
    # pytorch-fid (after TF) excludes the zero padding from the average.
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=not fid)


class InceptionA(nn.Module):
    def __init__(self, c_in: int, pool_features: int, fid: bool) -> None:
        super().__init__()
        self.fid = fid
        self.branch1x1 = BasicConv2d(c_in, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(c_in, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(c_in, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(c_in, pool_features, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(_avg_pool(x, self.fid))
        return torch.cat([b1, b5, b3, bp], 1)


class InceptionB(nn.Module):
    def __init__(self, c_in: int) -> None:
        super().__init__()
        self.branch3x3 = BasicConv2d(c_in, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(c_in, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3(x)
        bd = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat([b3, bd, bp], 1)


class InceptionC(nn.Module):
    def __init__(self, c_in: int, c7: int, fid: bool) -> None:
        super().__init__()
        self.fid = fid
        self.branch1x1 = BasicConv2d(c_in, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(c_in, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(c_in, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(c_in, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            bd = layer(bd)
        bp = self.branch_pool(_avg_pool(x, self.fid))
        return torch.cat([b1, b7, bd, bp], 1)


class InceptionD(nn.Module):
    def __init__(self, c_in: int) -> None:
        super().__init__()
        self.branch3x3_1 = BasicConv2d(c_in, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(c_in, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_1(x)
        for layer in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            b7 = layer(b7)
        bp = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat([b3, b7, bp], 1)


class InceptionE(nn.Module):
    """``pool`` is "avg" (torchvision), "avg_no_pad" (pytorch-fid's first E) or "max"
    (pytorch-fid's last E)."""

    def __init__(self, c_in: int, pool: str) -> None:
        super().__init__()
        self.pool = pool
        self.branch1x1 = BasicConv2d(c_in, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(c_in, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(c_in, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(c_in, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        if self.pool == "max":
            pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        else:
            pooled = _avg_pool(x, fid=self.pool == "avg_no_pad")
        return torch.cat([b1, b3, bd, self.branch_pool(pooled)], 1)


class InceptionV3Features(nn.Module):
    """InceptionV3 up to the global average pool: ``(N, 3, 299, 299)`` -> ``(N, 2048)``.

    Used in chapter 6.  ``variant`` is ``"fid"`` (pytorch-fid's FID Inception) or
    ``"torchvision"``; see the module docstring.  Randomly initialised until you load a
    state dict (:func:`load_inception`).
    """

    def __init__(self, variant: str = "fid") -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"InceptionV3Features: variant must be one of {VARIANTS}, got {variant!r}.")
        self.variant = variant
        fid = variant == "fid"
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.Mixed_5b = InceptionA(192, pool_features=32, fid=fid)
        self.Mixed_5c = InceptionA(256, pool_features=64, fid=fid)
        self.Mixed_5d = InceptionA(288, pool_features=64, fid=fid)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, c7=128, fid=fid)
        self.Mixed_6c = InceptionC(768, c7=160, fid=fid)
        self.Mixed_6d = InceptionC(768, c7=160, fid=fid)
        self.Mixed_6e = InceptionC(768, c7=192, fid=fid)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280, pool="avg_no_pad" if fid else "avg")
        self.Mixed_7c = InceptionE(2048, pool="max" if fid else "avg")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            x = getattr(self, f"Mixed_{name}")(x)
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)


def expected_keys(variant: str = "fid") -> list[str]:
    """The state-dict keys the pool features need (without ``num_batches_tracked``)."""
    return [k for k in _skeleton(variant).state_dict() if not k.endswith("num_batches_tracked")]


def _skeleton(variant: str) -> InceptionV3Features:
    """The network on the ``meta`` device: shapes only, no memory, no slow random init."""
    with torch.device("meta"):
        return InceptionV3Features(variant)


def _fail(path: Path, problem: str) -> InceptionWeightsError:
    return InceptionWeightsError(
        f"InceptionV3 weights file {path} {problem}. Supply a state dict with torchvision's "
        "inception_v3 key layout (e.g. pytorch-fid's pt_inception-2015-12-05-6726825d.pth); "
        "the book never downloads weights (see gan_utils.inception's docstring)."
    )


def _select_state_dict(path: Path, loaded: Any, model: InceptionV3Features) -> dict[str, torch.Tensor]:
    if isinstance(loaded, dict) and isinstance(loaded.get("state_dict"), dict):
        loaded = loaded["state_dict"]
    if not isinstance(loaded, dict) or not all(isinstance(k, str) for k in loaded):
        raise _fail(path, f"does not hold a state dict (got {type(loaded).__name__})")
    if loaded and all(k.startswith("module.") for k in loaded):  # saved from DataParallel
        loaded = {k.removeprefix("module."): v for k, v in loaded.items()}
    wanted = model.state_dict()
    state = {k: v for k, v in loaded.items() if not k.startswith(IGNORED_PREFIXES)}
    missing = [k for k in wanted if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in wanted]
    if missing or unexpected:
        def show(keys: list[str]) -> str:
            return ", ".join(keys[:8]) + (f", ... ({len(keys)} in all)" if len(keys) > 8 else "")

        raise _fail(
            path,
            f"does not fit InceptionV3 (variant {model.variant!r}): "
            f"missing keys [{show(missing)}]; unexpected keys [{show(unexpected)}]",
        )
    bad = [
        f"{k} {tuple(v.shape)} (expected {tuple(wanted[k].shape)})"
        for k, v in state.items()
        if not isinstance(v, torch.Tensor) or v.shape != wanted[k].shape
    ]
    if bad:
        raise _fail(path, f"has tensors of the wrong shape: {'; '.join(bad[:5])}")
    for k in wanted:  # tolerate checkpoints saved without the BN counters
        if k not in state:
            state[k] = torch.tensor(0, dtype=torch.long)
    # float32 copies (a half-precision checkpoint must not make the network half precision)
    return {k: v.to(torch.float32) if v.is_floating_point() else v.clone() for k, v in state.items()}


def load_inception(weights_path: str | os.PathLike, variant: str = "fid") -> InceptionV3Features:
    """Build :class:`InceptionV3Features` and load the user's weights; eval mode, cached.

    Used in chapter 6.  Raises :class:`InceptionWeightsError` for a missing or unreadable
    file, or a state dict whose keys or shapes do not fit (listing missing/unexpected
    keys), and ``ValueError`` for an unknown ``variant``.
    """
    if variant not in VARIANTS:
        raise ValueError(f"load_inception: variant must be one of {VARIANTS}, got {variant!r}.")
    if not isinstance(weights_path, (str, os.PathLike)):
        raise TypeError(
            f"load_inception: weights_path must be a path, got {type(weights_path).__name__}."
        )
    path = Path(weights_path).expanduser().absolute()
    try:
        st = path.stat()
    except FileNotFoundError:
        raise _fail(path, "is missing") from None
    except OSError as err:
        raise _fail(path, f"could not be read ({err})") from None
    if not path.is_file():
        raise _fail(path, "is not a file")
    key = (st.st_size, st.st_mtime_ns, st.st_ino)
    cached = _CACHE.get((path, variant))
    if cached is not None and cached[0] == key:
        return cached[1]
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any failure to unpickle means a bad file
        raise _fail(path, f"could not be loaded by torch.load(weights_only=True) ({err})") from None
    model = _skeleton(variant)
    model.load_state_dict(_select_state_dict(path, loaded, model), assign=True)
    model.eval()
    model.requires_grad_(False)
    _CACHE[(path, variant)] = (key, model)
    return model


def _prepare(images: Any, where: str) -> torch.Tensor:
    """Images -> float32 NCHW tensor with 3 channels in [-1, 1] (not yet resized)."""
    if isinstance(images, torch.Tensor):
        images = images.detach().cpu().numpy()
    arr = np.asarray(images)
    if arr.dtype == np.uint8:
        arr = arr.astype(np.float32) / np.float32(127.5) - np.float32(1.0)
    elif arr.dtype == object or not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(
            f"{where}: images must be float in [-1, 1] or uint8 in 0..255, got dtype {arr.dtype}."
        )
    if arr.ndim == 3:
        arr = arr[:, None]
    elif arr.ndim == 4 and arr.shape[1] not in (1, 3) and arr.shape[-1] in (1, 3):
        arr = arr.transpose(0, 3, 1, 2)  # NHWC -> NCHW
    if arr.ndim != 4 or arr.shape[1] not in (1, 3) or arr.shape[0] == 0 or min(arr.shape[2:]) < 2:
        raise ValueError(
            f"{where}: images must have shape (N, H, W), (N, C, H, W) or (N, H, W, C) with "
            f"C in (1, 3), N >= 1 and H, W >= 2, got {np.shape(images)}."
        )
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise ValueError(f"{where}: images contain NaN or infinite values.")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < -1.001 or hi > 1.001:
        raise ValueError(f"{where}: float images must lie in [-1, 1], got values in [{lo:.4g}, {hi:.4g}].")
    x = torch.from_numpy(arr)
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x


def inception_pool_features(
    images: Any,
    weights_path: str | os.PathLike,
    *,
    variant: str = "fid",
    batch_size: int = 50,
) -> np.ndarray:
    """InceptionV3 average-pool features of ``images``, as a float64 ``(N, 2048)`` array.

    Used in chapter 6.  ``weights_path`` is a state dict you supply (key layout: see the
    module docstring; nothing is downloaded).  ``images``: float in [-1, 1] or uint8 in
    0..255, shape ``(N, H, W)``, ``(N, C, H, W)`` or ``(N, H, W, C)`` with C = 1 or 3;
    grey is repeated to RGB and every image is resized to 299x299 (bilinear).  About
    6 GFLOPs per image: on a CPU expect roughly 0.1-0.5 s per image.
    """
    where = "inception_pool_features"
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"{where}: batch_size must be an int >= 1, got {batch_size!r}.")
    x = _prepare(images, where)
    model = load_inception(weights_path, variant)
    out = []
    with torch.no_grad():
        for start in range(0, len(x), int(batch_size)):
            batch = x[start : start + int(batch_size)]
            if tuple(batch.shape[2:]) != (INPUT_SIZE, INPUT_SIZE):
                batch = F.interpolate(batch, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
            out.append(model(batch).numpy())
    return np.concatenate(out).astype(np.float64)
