"""Pictures of training: image grids, loss curves and training animations.

Framework-neutral: this module imports NumPy and Matplotlib (and Pillow, which
Matplotlib depends on) but never PyTorch or TensorFlow.  It accepts their tensors
by duck typing: a PyTorch tensor is detached, moved to the CPU and converted with
``.numpy()``; a TensorFlow tensor is converted with ``.numpy()``.

Generators disagree on how they hand back images -- PyTorch uses ``NCHW`` and
TensorFlow ``NHWC``, a ``tanh`` output lies in ``[-1, 1]``, a ``sigmoid`` output in
``[0, 1]`` and raw MNIST is ``uint8`` in ``[0, 255]``.  :func:`as_image_batch`
recognises each of these, refuses the shapes it cannot tell apart instead of
guessing, and refuses values outside the range it settled on (the usual sign of a
generator missing its final ``tanh``).  :func:`show_images` writes under the
picture which layout and range it got.

The helpers draw on the axes they are given (or on a new figure made with
``plt.subplots``) and never call ``plt.show()``; the notebook decides when a figure
is shown.  Used in every chapter that trains a model.
"""

from __future__ import annotations

import base64
import io
import math
import numbers
import os
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "as_image_batch",
    "image_grid",
    "show_images",
    "plot_losses",
    "animate_images",
    "gif_html",
]

LAYOUTS = ("auto", "NCHW", "NHWC", "NHW")
VALUE_RANGES = ("auto", "[-1, 1]", "[0, 1]", "[0, 255]")
_RANGE_BOUNDS = {"[-1, 1]": (-1.0, 1.0), "[0, 1]": (0.0, 1.0), "[0, 255]": (0.0, 255.0)}
#: How far values may overshoot the declared range, as a fraction of its width
#: (0.1%: float rounding, not a generator without its final tanh).
RANGE_TOLERANCE = 1e-3
_CHANNELS = (1, 3)
_TITLE_PX = 14  # height of the title strip above each GIF frame


# --------------------------------------------------------------------------- helpers


def _framework(x: Any) -> str | None:
    """``"torch"``, ``"tensorflow"`` or ``None``, from the type's module (no import)."""
    module = type(x).__module__ or ""
    if module == "torch" or module.startswith("torch."):
        return "torch"
    if module == "tensorflow" or module.startswith(("tensorflow.", "keras")):
        return "tensorflow"
    return None


def _to_numpy(x: Any, where: str, what: str = "images") -> np.ndarray:
    """Convert a NumPy array, PyTorch/TensorFlow tensor or nested list to an ndarray."""
    framework = _framework(x)
    if framework == "torch":
        x = x.detach()
        if str(getattr(x, "dtype", "")) == "torch.bfloat16":  # NumPy has no bfloat16
            x = x.float()
        return np.asarray(x.cpu().numpy())
    if framework == "tensorflow" or (
        not isinstance(x, np.ndarray) and hasattr(x, "numpy") and callable(x.numpy)
    ):
        return np.asarray(x.numpy())
    if isinstance(x, (list, tuple)) and x and any(_framework(e) for e in x):
        return np.stack([_to_numpy(e, where, what) for e in x])
    try:
        return np.asarray(x)
    except Exception as error:  # ragged lists and the like
        raise TypeError(
            f"{where}: could not convert {what} of type {type(x).__name__} to an array "
            f"({error}); expected a NumPy array, a PyTorch or TensorFlow tensor."
        ) from None


def _parse_value_range(value_range: Any, where: str) -> str:
    """Normalise ``value_range`` to one of :data:`VALUE_RANGES`."""
    if isinstance(value_range, str):
        compact = value_range.replace(" ", "")
        for name in VALUE_RANGES:
            if compact == name.replace(" ", ""):
                return name
    elif isinstance(value_range, (tuple, list)) and len(value_range) == 2:
        try:
            pair = (float(value_range[0]), float(value_range[1]))
        except (TypeError, ValueError):
            pair = None
        for name, bounds in _RANGE_BOUNDS.items():
            if pair == bounds:
                return name
    raise ValueError(
        f"{where}: unknown value_range {value_range!r}; expected one of {VALUE_RANGES} "
        "(or a tuple (-1, 1), (0, 1), (0, 255))."
    )


def _is_int_at_least(value: Any, minimum: int) -> bool:
    return (
        not isinstance(value, bool) and isinstance(value, numbers.Integral) and value >= minimum
    )


def _fmt(v: float) -> str:
    return f"{v:.4g}"


# ------------------------------------------------------------------ as_image_batch


def as_image_batch(
    images: Any, *, layout: str = "auto", value_range: Any = "auto"
) -> tuple[np.ndarray, dict]:
    """Convert a batch of images to ``float32`` NHWC in ``[0, 1]``.

    ``images`` is a NumPy array, a PyTorch tensor (any device, with or without
    gradients) or a TensorFlow tensor, shaped

    - ``(N, H, W)`` -- grey images, layout ``"NHW"``;
    - ``(N, C, H, W)`` -- ``"NCHW"`` (PyTorch), ``C`` is 1 or 3;
    - ``(N, H, W, C)`` -- ``"NHWC"`` (TensorFlow), ``C`` is 1 or 3;
    - or one image ``(H, W)``, ``(C, H, W)``, ``(H, W, C)``, treated as a batch of one.

    ``layout="auto"`` reads a 4-D batch as NCHW when dimension 1 is 1 or 3 and the
    last is not, as NHWC the other way round, and raises ``ValueError`` when both
    could be channels (say ``(N, 3, 8, 3)``): pass ``layout=`` then.  A 3-D array is
    a single ``(H, W, C)`` image when only its last dimension is 1 or 3, a batch of
    grey images when neither end is, and ambiguous (``ValueError``) when its first
    dimension is 3 -- three grey images or one ``(C, H, W)`` colour image? -- or both
    ends are 1 or 3.  For a 3-D array ``layout="NHW"`` means a grey batch,
    ``"NCHW"`` one ``(C, H, W)`` image and ``"NHWC"`` one ``(H, W, C)`` image.

    ``value_range="auto"`` takes integer data (``uint8``) as ``[0, 255]``, boolean
    data as ``[0, 1]``, float data with a negative value as ``[-1, 1]`` and float
    data within ``[0, 1]`` as ``[0, 1]``; float data in ``[0, v]`` with ``v > 1`` is
    refused rather than guessed (pass ``value_range="[0, 255]"`` if it is pixel
    data).  An explicit range is ``"[-1, 1]"``, ``"[0, 1]"`` or ``"[0, 255]"`` (or the
    tuples ``(-1, 1)``, ``(0, 1)``, ``(0, 255)``).  Values may overshoot the range by
    0.1% of its width (then they are clipped); further out is a ``ValueError``.

    Returns ``(batch, info)``: ``batch`` has shape ``(N, H, W, C)``, dtype
    ``float32``, values in ``[0, 1]``; ``info`` is ``{"layout": "NCHW" | "NHWC" |
    "NHW", "value_range": "[-1, 1]" | "[0, 1]" | "[0, 255]", "channels": C}``,
    describing what the input was.  Used by every chapter that shows images.

    >>> batch, info = as_image_batch(np.zeros((2, 1, 4, 5)) - 1)
    >>> batch.shape, info["layout"], info["value_range"], float(batch.max())
    ((2, 4, 5, 1), 'NCHW', '[-1, 1]', 0.0)
    """
    where = "as_image_batch"
    if not isinstance(layout, str) or layout not in LAYOUTS:
        raise ValueError(f"{where}: unknown layout {layout!r}; expected one of {LAYOUTS}.")
    value_range = _parse_value_range(value_range, where)

    array = _to_numpy(images, where)
    dtype = array.dtype
    if dtype.kind not in "biuf":
        if "float" in dtype.name:  # e.g. bfloat16 from TensorFlow (ml_dtypes)
            array = array.astype(np.float32)
            dtype = array.dtype
        else:
            raise TypeError(
                f"{where}: images must hold numbers, got dtype {dtype} "
                f"(from {type(images).__name__}); expected integer, float or bool pixels."
            )

    nhwc, found_layout = _to_nhwc(array, layout, where)
    n, h, w, c = nhwc.shape
    if n == 0:
        raise ValueError(
            f"{where}: the batch is empty (shape {tuple(array.shape)}); expected N >= 1 images."
        )
    if h == 0 or w == 0:
        raise ValueError(
            f"{where}: images have zero size (H={h}, W={w} in shape {tuple(array.shape)}); "
            "expected H, W >= 1."
        )

    if dtype.kind == "f" and not np.isfinite(nhwc).all():
        bad = int(np.size(nhwc) - np.count_nonzero(np.isfinite(nhwc)))
        raise ValueError(
            f"{where}: images contain {bad} NaN or inf value(s) out of {nhwc.size}; "
            "expected finite pixels (did training diverge?)."
        )

    values = nhwc.astype(np.float32) if dtype.kind == "b" else nhwc
    lo_value, hi_value = float(values.min()), float(values.max())
    reason = ""
    if value_range == "auto":
        if dtype.kind == "b":
            value_range, reason = "[0, 1]", "the data are booleans"
        elif dtype.kind in "iu":
            value_range, reason = "[0, 255]", f"the dtype is {dtype}"
        elif lo_value < 0:
            value_range, reason = "[-1, 1]", "the minimum is negative"
        elif hi_value <= 1 + RANGE_TOLERANCE:
            value_range, reason = "[0, 1]", "all values are within [0, 1]"
        else:
            raise ValueError(
                f"{where}: float values in [{_fmt(lo_value)}, {_fmt(hi_value)}] fit no range "
                "value_range='auto' recognises ([-1, 1] or [0, 1]); pass "
                "value_range='[0, 255]' if these are 0..255 pixels, or fix the data "
                "(a generator without its final tanh/sigmoid?)."
            )
    lo, hi = _RANGE_BOUNDS[value_range]
    slack = RANGE_TOLERANCE * (hi - lo)
    if lo_value < lo - slack or hi_value > hi + slack:
        how = f"value_range='auto' chose {value_range} because {reason}" if reason else (
            f"value_range={value_range!r} was given"
        )
        raise ValueError(
            f"{where}: values in [{_fmt(lo_value)}, {_fmt(hi_value)}] are outside "
            f"{value_range} ({how}); pass the right value_range= or fix the data "
            "(a generator without its final tanh?)."
        )

    out = (values.astype(np.float32) - np.float32(lo)) / np.float32(hi - lo)
    np.clip(out, 0.0, 1.0, out=out)
    info = {"layout": found_layout, "value_range": value_range, "channels": int(c)}
    return np.ascontiguousarray(out, dtype=np.float32), info


def _to_nhwc(array: np.ndarray, layout: str, where: str) -> tuple[np.ndarray, str]:
    """Reshape ``array`` to ``(N, H, W, C)``; return it and the layout it had."""
    shape = tuple(array.shape)
    ndim = array.ndim
    is_c = [d in _CHANNELS for d in shape]

    def bad_channels(c: int, axis: str) -> ValueError:
        return ValueError(
            f"{where}: images of shape {shape} with layout {layout!r} have {c} channels "
            f"({axis}); expected 1 (grey) or 3 (RGB)."
        )

    if ndim == 2:
        if layout not in ("auto", "NHW"):
            raise ValueError(
                f"{where}: a 2-D array of shape {shape} is one (H, W) image and has no "
                f"channel axis, so layout {layout!r} does not fit; use layout='auto' or 'NHW'."
            )
        return array[None, :, :, None], "NHW"

    if ndim == 3:
        if layout == "auto":
            if is_c[2] and not is_c[0]:
                layout = "NHWC"
            elif not is_c[0] and not is_c[2]:
                layout = "NHW"
            elif shape[0] == 1 and not is_c[2]:
                layout = "NHW"  # one grey image: (1, H, W) reads the same either way
            else:
                raise ValueError(
                    f"{where}: cannot tell the layout of a 3-D array of shape {shape}: it "
                    f"could be {shape[0]} grey (H, W) images, one (C, H, W) image or one "
                    "(H, W, C) image; pass layout='NHW' (grey batch), 'NCHW' (one C, H, W "
                    "image) or 'NHWC' (one H, W, C image) explicitly."
                )
        if layout == "NHW":
            return array[:, :, :, None], "NHW"
        if layout == "NCHW":
            if not is_c[0]:
                raise bad_channels(shape[0], "dimension 0 of one (C, H, W) image")
            return np.moveaxis(array, 0, -1)[None], "NCHW"
        if not is_c[2]:
            raise bad_channels(shape[2], "the last dimension of one (H, W, C) image")
        return array[None], "NHWC"

    if ndim == 4:
        if layout == "auto":
            if is_c[1] and not is_c[3]:
                layout = "NCHW"
            elif is_c[3] and not is_c[1]:
                layout = "NHWC"
            elif is_c[1] and is_c[3]:
                raise ValueError(
                    f"{where}: cannot tell the layout of shape {shape}: both dimension 1 "
                    f"({shape[1]}) and the last dimension ({shape[3]}) could be the channels; "
                    "pass layout='NCHW' or layout='NHWC' explicitly."
                )
            else:
                raise ValueError(
                    f"{where}: images of shape {shape} have no channel axis of size 1 or 3 "
                    f"(dimension 1 is {shape[1]}, the last is {shape[3]}); expected "
                    "(N, C, H, W) or (N, H, W, C) with C = 1 (grey) or 3 (RGB)."
                )
        if layout == "NCHW":
            if not is_c[1]:
                raise bad_channels(shape[1], "dimension 1")
            return np.moveaxis(array, 1, -1), "NCHW"
        if layout == "NHWC":
            if not is_c[3]:
                raise bad_channels(shape[3], "the last dimension")
            return array, "NHWC"
        raise ValueError(
            f"{where}: layout 'NHW' expects a 3-D array (N, H, W), got {ndim}-D shape {shape}; "
            "use layout='NCHW', 'NHWC' or 'auto'."
        )

    raise ValueError(
        f"{where}: images must be 2-D, 3-D or 4-D, got {ndim}-D shape {shape}; expected "
        "(N, H, W), (N, C, H, W), (N, H, W, C) or a single (H, W), (C, H, W), (H, W, C) image."
    )


# --------------------------------------------------------------------- image_grid


def _check_grid_args(nrow: Any, padding: Any, pad_value: Any, where: str) -> None:
    if nrow is not None and not _is_int_at_least(nrow, 1):
        raise ValueError(
            f"{where}: nrow must be an int >= 1 (images per row) or None, got {nrow!r}."
        )
    if not _is_int_at_least(padding, 0):
        raise ValueError(f"{where}: padding must be an int >= 0 (pixels), got {padding!r}.")
    if (
        isinstance(pad_value, bool)
        or not isinstance(pad_value, numbers.Real)
        or not 0.0 <= float(pad_value) <= 1.0
    ):
        raise ValueError(
            f"{where}: pad_value must be a number in [0, 1] (0 black, 1 white), got {pad_value!r}."
        )


def _tile(batch: np.ndarray, nrow: int | None, padding: int, pad_value: float) -> np.ndarray:
    n, h, w, c = batch.shape
    per_row = int(nrow) if nrow is not None else math.ceil(math.sqrt(n))
    ncols = min(per_row, n)
    nrows = math.ceil(n / per_row)
    p = int(padding)
    grid = np.full(
        (nrows * (h + p) + p, ncols * (w + p) + p, c), np.float32(pad_value), dtype=np.float32
    )
    for i in range(n):
        r, k = divmod(i, per_row)
        top, left = p + r * (h + p), p + k * (w + p)
        grid[top : top + h, left : left + w] = batch[i]
    return grid[:, :, 0] if c == 1 else grid


def _grid_and_info(images, nrow, padding, pad_value, layout, value_range, where):
    _check_grid_args(nrow, padding, pad_value, where)
    batch, info = as_image_batch(images, layout=layout, value_range=value_range)
    return _tile(batch, nrow, padding, pad_value), info, batch.shape[0]


def image_grid(
    images: Any,
    *,
    nrow: int | None = None,
    padding: int = 2,
    pad_value: float = 1.0,
    layout: str = "auto",
    value_range: Any = "auto",
) -> np.ndarray:
    """Tile a batch of images into one picture, row by row.

    ``images``, ``layout`` and ``value_range`` are as in :func:`as_image_batch`.
    ``nrow`` is the number of images per row (default ``ceil(sqrt(N))``, as in
    ``torchvision.utils.make_grid``); ``padding`` pixels of ``pad_value`` (in
    ``[0, 1]``, default white) surround every image, and empty cells of the last
    row are filled with ``pad_value``.

    Returns a ``float32`` array with values in ``[0, 1]`` of shape
    ``(rows * (H + padding) + padding, cols * (W + padding) + padding)`` for grey
    images -- the channel axis is dropped -- and the same with a trailing ``3``
    for RGB images, where ``cols = min(nrow, N)`` and ``rows = ceil(N / nrow)``.
    Used by every chapter that shows generated samples.
    """
    grid, _, _ = _grid_and_info(images, nrow, padding, pad_value, layout, value_range, "image_grid")
    return grid


# ------------------------------------------------------------------- show_images


def _describe(n: int, info: Mapping[str, Any]) -> str:
    return f"{n} image{'s' if n != 1 else ''}, {info['layout']}, range {info['value_range']}"


def show_images(
    images: Any,
    *,
    nrow: int | None = None,
    title: str | None = None,
    ax: Any = None,
    layout: str = "auto",
    value_range: Any = "auto",
    describe: bool = True,
) -> Any:
    """Draw a batch of images as one grid and return the ``matplotlib`` axes.

    Arguments are as in :func:`image_grid`; ``ax`` is the axes to draw on (default:
    a new figure from ``plt.subplots``).  Grey images use the ``gray`` colormap;
    ``0`` is black and ``1`` white after conversion (``vmin=0, vmax=1``, so a dark
    sample stays dark).  With ``describe=True`` the axes' x-label says what was
    received, e.g. ``"64 images, NCHW, range [-1, 1]"``, so a wrongly scaled
    generator output is visible in the book.  Does not call ``plt.show()``.  Used in
    every chapter that shows samples.
    """
    grid, info, n = _grid_and_info(images, nrow, 2, 1.0, layout, value_range, "show_images")
    if ax is None:
        height, width = grid.shape[:2]
        fig_w = min(8.0, max(2.5, width / 40))
        fig_h = min(10.0, max(1.0, fig_w * height / width))
        _, ax = plt.subplots(figsize=(fig_w, fig_h))
    if grid.ndim == 2:
        ax.imshow(grid, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        ax.imshow(grid, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(str(title))
    if describe:
        ax.set_xlabel(_describe(n, info), fontsize="small", color="0.35")
    return ax


# ------------------------------------------------------------------- plot_losses


def _as_float(value: Any, name: str, step: int) -> float:
    if _framework(value) is not None:
        value = _to_numpy(value, "plot_losses", f"history[{name!r}][{step}]")
    if isinstance(value, np.ndarray):
        if value.size != 1 or value.dtype.kind not in "iuf":
            raise TypeError(
                f"plot_losses: history[{name!r}][{step}] is an array of shape {value.shape} "
                f"and dtype {value.dtype}; expected one number per step."
            )
        value = value.reshape(()).item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"plot_losses: history[{name!r}][{step}] is {value!r} ({type(value).__name__}); "
            "expected a number (call .item() on a tensor loss)."
        )
    return float(value)


def _series(name: str, values: Any) -> np.ndarray:
    if _framework(values) is not None or isinstance(values, np.ndarray):
        array = _to_numpy(values, "plot_losses", f"history[{name!r}]")
        if array.dtype.kind not in "iuf" or array.ndim > 1:
            raise TypeError(
                f"plot_losses: history[{name!r}] has dtype {array.dtype} and shape "
                f"{array.shape}; expected a 1-D sequence of numbers."
            )
        return array.astype(float).reshape(-1)
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(
            f"plot_losses: history[{name!r}] is {type(values).__name__}; expected a "
            "sequence of numbers (one per step)."
        )
    return np.array([_as_float(v, name, i) for i, v in enumerate(values)], dtype=float)


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over the last ``window`` values, ignoring NaN (shorter at the start)."""
    valid = np.isfinite(values)
    filled = np.where(valid, values, 0.0)
    csum = np.concatenate([[0.0], np.cumsum(filled)])
    ccount = np.concatenate([[0], np.cumsum(valid)])
    idx = np.arange(1, len(values) + 1)
    start = np.maximum(idx - window, 0)
    total = csum[idx] - csum[start]
    count = ccount[idx] - ccount[start]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def plot_losses(
    history: Any,
    *,
    keys: Sequence[str] | None = None,
    ax: Any = None,
    smooth: int = 1,
    title: str | None = None,
    xlabel: str = "step",
) -> Any:
    """Plot training curves and return the ``matplotlib`` axes.

    ``history`` is either a mapping name -> sequence of numbers, e.g.
    ``{"d_loss": [...], "g_loss": [...]}`` (sequences may differ in length; each is
    drawn against its own index), or a list with one dict per step, e.g.
    ``[{"d_loss": 1.3, "g_loss": 0.7}, ...]`` (the curves are the union of the keys,
    a step missing a key leaves a gap).  Values may be Python or NumPy numbers or
    0-d tensors.  ``keys`` picks and orders the curves (default: all, in first-seen
    order).  Curves with no values are skipped.

    ``smooth`` is a moving-average window (int >= 1): with ``smooth > 1`` each curve
    is drawn twice, raw and faint, then smoothed and solid in the same colour; the
    smoothed value at step ``i`` is the mean of steps ``max(0, i - smooth + 1)`` to
    ``i`` (NaN ignored), so it starts at step 0 and never looks ahead.  Does not call
    ``plt.show()``.  Used in every chapter that trains a GAN.
    """
    where = "plot_losses"
    if not _is_int_at_least(smooth, 1):
        raise ValueError(
            f"{where}: smooth must be an int >= 1 (moving-average window), got {smooth!r}."
        )

    if isinstance(history, Mapping):
        names = list(history)
        series = {str(k): _series(str(k), history[k]) for k in names}
        names = [str(k) for k in names]
    elif isinstance(history, Sequence) and not isinstance(history, (str, bytes)):
        names = []
        for i, row in enumerate(history):
            if not isinstance(row, Mapping):
                raise TypeError(
                    f"{where}: history[{i}] is {type(row).__name__}; a list history must hold "
                    "one dict per step, e.g. [{'d_loss': 1.3, 'g_loss': 0.7}, ...]."
                )
            names.extend(str(k) for k in row if str(k) not in names)
        series = {name: np.full(len(history), np.nan) for name in names}
        for i, row in enumerate(history):
            for k, v in row.items():
                series[str(k)][i] = _as_float(v, str(k), i)
    else:
        raise TypeError(
            f"{where}: history is {type(history).__name__}; expected a mapping name -> "
            "sequence of numbers or a list of dicts (one per step)."
        )

    if not names or all(len(s) == 0 for s in series.values()):
        raise ValueError(f"{where}: history is empty; expected at least one recorded value.")

    if keys is None:
        chosen = names
    else:
        chosen = [keys] if isinstance(keys, str) else [str(k) for k in keys]
        unknown = [k for k in chosen if k not in series]
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {unknown} in keys; history has {names}.")
        if not chosen:
            raise ValueError(f"{where}: keys is empty; history has {names}.")

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.6))
    for name in chosen:
        values = series[name]
        if len(values) == 0:
            continue
        steps = np.arange(len(values))
        if smooth > 1:
            (raw,) = ax.plot(steps, values, alpha=0.25, linewidth=1.0)
            ax.plot(steps, _moving_average(values, int(smooth)), color=raw.get_color(), label=name)
        else:
            ax.plot(steps, values, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("loss")
    if title is not None:
        ax.set_title(str(title))
    ax.legend(loc="best")
    return ax


# ---------------------------------------------------------------- animate_images


def _write_atomically(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    prefix = "." + os.path.basename(path) + "."
    handle, tmp = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _frame_indices(n: int, stride: int) -> list[int]:
    """Every ``stride``-th frame, always keeping the last (the end of training)."""
    if stride >= n:
        return [n - 1]
    kept = list(range(0, n, stride))
    if kept[-1] != n - 1:
        kept.append(n - 1)
    return kept


def _encode_gif(grids, titles, indices, scale, duration_ms) -> bytes:
    from PIL import Image, ImageDraw

    pictures = []
    for i in indices:
        pixels = np.round(grids[i] * 255).astype(np.uint8)
        picture = Image.fromarray(pixels)  # 2-D uint8 -> "L", (H, W, 3) -> "RGB"
        if scale != 1:
            size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
            picture = picture.resize(size, Image.BOX)
        if titles is not None:  # a white strip with the title above the grid
            white, black = (255, 0) if picture.mode == "L" else ((255,) * 3, (0,) * 3)
            framed = Image.new(picture.mode, (picture.width, picture.height + _TITLE_PX), white)
            framed.paste(picture, (0, _TITLE_PX))
            ImageDraw.Draw(framed).text((2, 1), str(titles[i]), fill=black)
            picture = framed
        if picture.mode == "RGB":
            picture = picture.quantize(colors=256)
        pictures.append(picture)
    buffer = io.BytesIO()
    pictures[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=pictures[1:],
        duration=duration_ms,
        loop=0,
    )
    return buffer.getvalue()


def _encode_jshtml(grids, titles, indices, fps, dpi) -> str:
    from matplotlib import animation

    height, width = grids[0].shape[:2]
    fig_w = min(6.0, max(2.5, width / 50))
    fig_h = fig_w * height / width + (0.4 if titles is not None else 0.1)
    fig, ax = plt.subplots(figsize=(fig_w, fig_h), dpi=dpi)
    try:
        first = grids[indices[0]]
        cmap = "gray" if first.ndim == 2 else None
        image = ax.imshow(first, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(str(titles[indices[0]]))

        def update(k):
            image.set_data(grids[indices[k]])
            if titles is not None:
                ax.set_title(str(titles[indices[k]]))
            return (image,)

        anim = animation.FuncAnimation(
            fig, update, frames=len(indices), interval=1000 / fps, blit=False
        )
        return anim.to_jshtml(fps=fps, default_mode="loop")
    finally:
        plt.close(fig)


def animate_images(
    frames: Sequence[Any],
    *,
    path: str | os.PathLike | None = None,
    fps: float = 4,
    nrow: int | None = None,
    max_bytes: int = 2_000_000,
    titles: Sequence[str] | None = None,
    format: str = "gif",
) -> bytes | str:
    """Animate a sequence of image batches, e.g. the fixed-noise samples of each epoch.

    Each frame is a batch accepted by :func:`image_grid` (tiled with ``nrow``); all
    frames must give grids of the same shape.  The value range is inferred per frame
    as in :func:`as_image_batch`, except that a mix of ``[-1, 1]`` and ``[0, 1]``
    frames (a ``tanh`` output that happened to be non-negative) is read as
    ``[-1, 1]`` throughout, so the brightness does not jump.  ``titles`` (one string
    per frame, e.g. ``"epoch 3"``) are written above each frame.

    ``format="gif"`` returns the bytes of a looping animated GIF (Pillow) at ``fps``
    frames per second (at most 50: browsers slow faster GIFs down).  The GIF never
    exceeds ``max_bytes``: if it would, every other frame is dropped (keeping the
    last one; each kept frame is shown longer, so the run lasts as long) until 8 are
    left, then the frames are shrunk by half at a time, then more frames are
    dropped; if even one tiny frame is too big a ``ValueError`` is raised.
    Identical consecutive frames may be merged by Pillow.

    ``format="jshtml"`` returns the HTML/JavaScript player of matplotlib's
    ``FuncAnimation.to_jshtml()``, held to ``max_bytes`` characters the same way
    (dropping frames, then lowering the resolution).

    With ``path`` the result is also written there, atomically (a temporary file in
    the same folder, then ``os.replace``), so a reader never sees half a file.
    Show a GIF in a notebook with ``IPython.display.HTML(gif_html(gif))`` or
    ``IPython.display.Image(data=gif)``, and the jshtml string with
    ``IPython.display.HTML(html)``.  Used in the chapters that animate training.
    """
    where = "animate_images"
    if format not in ("gif", "jshtml"):
        raise ValueError(f"{where}: unknown format {format!r}; expected 'gif' or 'jshtml'.")
    if isinstance(fps, bool) or not isinstance(fps, numbers.Real) or not 0 < fps < math.inf:
        raise ValueError(f"{where}: fps must be a positive number, got {fps!r}.")
    if format == "gif" and fps > 50:
        raise ValueError(
            f"{where}: fps={fps!r} is too fast for a GIF; expected at most 50 (browsers "
            "play faster GIFs at 10 frames per second)."
        )
    if not _is_int_at_least(max_bytes, 1):
        raise ValueError(f"{where}: max_bytes must be a positive int, got {max_bytes!r}.")
    _check_grid_args(nrow, 2, 1.0, where)

    if _framework(frames) is not None or isinstance(frames, np.ndarray):
        frames = list(frames)  # a 5-D array or tensor: one batch per leading index
    elif isinstance(frames, (str, bytes, Mapping)) or not hasattr(frames, "__iter__"):
        raise TypeError(
            f"{where}: frames is {type(frames).__name__}; expected a sequence of image batches."
        )
    frames = list(frames)
    if not frames:
        raise ValueError(f"{where}: frames is empty; expected at least one image batch.")
    if titles is not None:
        if isinstance(titles, str) or len(titles) != len(frames):
            raise ValueError(
                f"{where}: titles must be a sequence with one string per frame "
                f"({len(frames)}), got {titles!r:.80}."
            )
        titles = [str(t) for t in titles]

    batches, infos = [], []
    for i, frame in enumerate(frames):
        try:
            batch, info = as_image_batch(frame)
        except (ValueError, TypeError) as error:
            raise type(error)(f"{where}: frame {i}: {error}") from None
        batches.append(batch)
        infos.append(info)
    ranges = {info["value_range"] for info in infos}
    if ranges == {"[-1, 1]", "[0, 1]"}:
        batches = [as_image_batch(frame, value_range="[-1, 1]")[0] for frame in frames]
    elif len(ranges) > 1:
        raise ValueError(
            f"{where}: frames have different value ranges {sorted(ranges)}; expected one "
            "range for the whole animation (convert the frames to one scale first)."
        )
    grids = [_tile(batch, nrow, 2, 1.0) for batch in batches]
    shapes = [g.shape for g in grids]
    if len(set(shapes)) > 1:
        odd = next(i for i, s in enumerate(shapes) if s != shapes[0])
        raise ValueError(
            f"{where}: all frames must give grids of the same shape; frame 0 gives "
            f"{shapes[0]} ({batches[0].shape[0]} images) but frame {odd} gives {shapes[odd]} "
            f"({batches[odd].shape[0]} images)."
        )

    n = len(grids)
    min_frames = min(n, 8)
    smallest_side = min(grids[0].shape[:2])
    stride, scale = 1, 1.0
    sizes = []
    while True:
        indices = _frame_indices(n, stride)
        if format == "gif":
            duration_ms = round(1000 * stride / fps)  # kept frames shown longer
            result: bytes | str = _encode_gif(grids, titles, indices, scale, duration_ms)
            size = len(result)
        else:
            result = _encode_jshtml(grids, titles, indices, fps / stride, dpi=100 * scale)
            size = len(result.encode("utf-8"))
        sizes.append((len(indices), scale, size))
        if size <= max_bytes:
            break
        if len(indices) > min_frames:
            stride *= 2
        elif (smallest_side * scale / 2 >= 8) if format == "gif" else (scale / 2 >= 0.25):
            scale /= 2
        elif len(indices) > 1:
            stride *= 2
        else:
            raise ValueError(
                f"{where}: the {format} cannot be made to fit max_bytes={max_bytes}: even "
                f"{len(indices)} frame at {scale:g}x size takes {size} bytes (tried "
                f"(frames, scale, bytes) = {sizes}); raise max_bytes or pass fewer/smaller images."
            )

    if path is not None:
        _write_atomically(path, result if isinstance(result, bytes) else result.encode("utf-8"))
    return result


def gif_html(gif_bytes: bytes) -> str:
    """Return an ``<img>`` tag that embeds a GIF as a base64 data URI.

    In a notebook show it with ``IPython.display.HTML(gif_html(gif))``; unlike a
    link to a file the picture is then part of the notebook and of the built book.
    ``gif_bytes`` is what :func:`animate_images` returns.  Used in the chapters that
    animate training.
    """
    if not isinstance(gif_bytes, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"gif_html: gif_bytes must be bytes (what animate_images returns), got "
            f"{type(gif_bytes).__name__}; read a GIF file with open(path, 'rb').read()."
        )
    data = bytes(gif_bytes)
    if not data.startswith(b"GIF8"):
        raise ValueError(
            f"gif_html: gif_bytes does not hold a GIF (it starts with {data[:8]!r}, "
            "expected b'GIF8')."
        )
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img src="data:image/gif;base64,{encoded}" alt="animation"/>'
