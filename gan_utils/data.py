"""MNIST from the files the book ships, verified on every load.

The four original MNIST files (Yann LeCun, Corinna Cortes, Christopher J.C. Burges;
Creative Commons Attribution-Share Alike 3.0) live gzip-compressed in
``data/mnist/`` of the repository, next to ``SHA256SUMS``, which holds the SHA-256
of each file *after* decompression.  Nothing is ever downloaded: the machines the
book runs on cannot reach the usual MNIST hosts, and a silent download would hide
a changed data set.  Every problem with a file raises :class:`DataFileError`, whose
message names the file and says how to restore it.

The environment variable ``GAN_BOOK_DATA_DIR`` replaces the repository's ``data/``
folder (MNIST is then read from ``$GAN_BOOK_DATA_DIR/mnist``); a relative path is
taken from the current working directory.  MNIST is used in chapters 4-6.

This module imports NumPy and the standard library only (no PyTorch, no TensorFlow).
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from gan_utils import REPO_ROOT
from gan_utils.checksums import CHECKSUM_FILE, read_sha256sums

DATA_DIR_ENV_VAR = "GAN_BOOK_DATA_DIR"

#: Where MNIST is read from when neither ``data_dir`` nor ``GAN_BOOK_DATA_DIR`` is given.
MNIST_DIR = REPO_ROOT / "data" / "mnist"


#: split -> (images file, labels file), as shipped in ``data/mnist/``.
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

#: How many training images show each digit 0-9 (documented facts, used as a sanity test).
MNIST_TRAIN_LABEL_COUNTS = (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)

# IDX magic numbers: two zero bytes, a type code (0x08 = unsigned byte), the number of dims.
IDX_LABELS_MAGIC = 0x00000801
IDX_IMAGES_MAGIC = 0x00000803

DTYPES = ("uint8", "float32")

# Verified arrays, keyed by file path; each entry remembers the stat signature of the
# file and of SHA256SUMS so a file changed on disk is re-verified on the next load.
_CACHE: dict[Path, tuple[tuple, np.ndarray, str]] = {}


class DataFileError(OSError):
    """A data file is missing, unreadable, altered or malformed.

    A subclass of ``OSError`` (the problem is always a file on disk), deliberately not
    of ``ValueError``: bad *arguments* raise ``ValueError``/``TypeError``, so the two
    kinds of mistake can never be confused.  The message names the file and the fix.
    """


def _restore_hint(path: Path) -> str:
    hint = (
        f" Restore it with `git checkout -- data/mnist/{path.name}` or copy it from the "
        f"course repository into {path.parent}; the book never downloads data."
    )
    if os.environ.get(DATA_DIR_ENV_VAR, "").strip():
        hint += f" (The folder comes from {DATA_DIR_ENV_VAR}={os.environ[DATA_DIR_ENV_VAR]!r}.)"
    return hint


def _fail(path: Path | str, problem: str) -> DataFileError:
    path = Path(path)
    return DataFileError(f"MNIST file {path} {problem}.{_restore_hint(path)}")


def default_mnist_dir() -> Path:
    """The folder MNIST is read from: ``$GAN_BOOK_DATA_DIR/mnist`` if set, else :data:`MNIST_DIR`.

    Read at every call (not at import) so a notebook or test may set the variable late.
    """
    root = os.environ.get(DATA_DIR_ENV_VAR, "").strip()
    return Path(root).expanduser() / "mnist" if root else MNIST_DIR


def read_idx(raw: bytes, name: str) -> np.ndarray:
    """Parse the bytes of an (uncompressed) IDX file into a uint8 array.

    IDX is big-endian: a 4-byte magic number (``0x00000801`` for a label vector,
    ``0x00000803`` for a stack of images), one uint32 per dimension, then the data.
    Only unsigned-byte data (type code ``0x08``) is accepted, and the byte count must
    match the dimensions exactly.  ``name`` is the file's path, for error messages.
    Used by :func:`load_mnist` (chapters 4-6).
    """
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] == 0:
        raise _fail(
            name,
            f"has a bad IDX header: magic number {raw[:4].hex() or '(empty)'}, expected "
            f"{IDX_LABELS_MAGIC:08x} (labels) or {IDX_IMAGES_MAGIC:08x} (images)",
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise _fail(name, f"has an IDX header declaring {ndim} dims but only {len(raw)} bytes")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header + math.prod(dims)  # Python ints: no overflow on a garbage header
    if len(raw) != expected:
        raise _fail(
            name,
            f"has an IDX header saying shape {dims}, i.e. {expected} bytes, but holds {len(raw)}",
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _expected_sha256(folder: Path, idx_name: str) -> str:
    """The checksum SHA256SUMS lists for ``idx_name``."""
    sums = folder / CHECKSUM_FILE
    listed = read_sha256sums(sums, _fail, protects="the data")
    if idx_name not in listed:
        raise _fail(sums, f"has no checksum for {idx_name!r}, so {folder / idx_name}.gz cannot be verified")
    return listed[idx_name]


def _load_idx_file(path: Path) -> tuple[np.ndarray, str]:
    """Decompress, verify and parse one ``.gz`` IDX file; return (array, sha256).

    The result is cached and reused while neither the file nor SHA256SUMS changes
    (same size, modification time and inode), so a second load costs a stat.
    """
    path = path.absolute()  # the cache key must not depend on the working directory
    sums = path.parent / CHECKSUM_FILE
    try:
        st = path.stat()
    except FileNotFoundError:
        raise _fail(path, "is missing") from None
    sums_st = sums.stat() if sums.exists() else None
    key = tuple((s.st_size, s.st_mtime_ns, s.st_ino) if s else None for s in (st, sums_st))
    cached = _CACHE.get(path)
    if cached is not None and cached[0] == key:
        return cached[1], cached[2]

    idx_name = path.name.removesuffix(".gz")
    expected = _expected_sha256(path.parent, idx_name)
    try:
        compressed = path.read_bytes()
    except OSError as err:
        raise _fail(path, f"could not be read ({err})") from None
    try:
        raw = gzip.decompress(compressed)
    except (OSError, EOFError, zlib.error) as err:  # BadGzipFile is an OSError
        problem = f"is truncated or corrupt: it is not a complete gzip file ({err})"
        raise _fail(path, problem) from None
    got = hashlib.sha256(raw).hexdigest()
    if got != expected:
        raise _fail(
            path,
            f"does not match {CHECKSUM_FILE} (SHA-256 of the decompressed bytes: expected "
            f"{expected}, got {got}); the file is altered or corrupt",
        )
    array = read_idx(raw, str(path))
    array.flags.writeable = False  # callers get copies; the cached array must stay intact
    _CACHE[path] = (key, array, got)
    return array, got


def _check_args(split: Any, dtype: Any, limit: Any) -> tuple[str, int | None]:
    if not isinstance(split, str) or split not in MNIST_FILES:
        raise ValueError(f"load_mnist: split must be one of {tuple(MNIST_FILES)}, got {split!r}.")
    try:
        dtype_name = np.dtype(dtype).name
    except (TypeError, ValueError):
        dtype_name = None
    if dtype_name not in DTYPES:
        raise ValueError(f"load_mnist: dtype must be one of {DTYPES}, got {dtype!r}.")
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)):
            raise TypeError(
                "load_mnist: limit must be an int >= 1 or None, "
                f"got {type(limit).__name__} {limit!r}."
            )
        if limit < 1:
            raise ValueError(f"load_mnist: limit must be an int >= 1 or None, got {limit}.")
        limit = int(limit)
    return dtype_name, limit


def load_mnist(
    split: str = "train",
    *,
    dtype: str = "uint8",
    data_dir: str | os.PathLike | None = None,
    limit: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Load an MNIST split as ``(images, labels)``.  Used in chapters 4-6.

    ``split`` is ``"train"`` (60,000 examples) or ``"test"`` (10,000).  ``images`` has
    shape ``(N, 28, 28)``: uint8 in 0..255 with ``dtype="uint8"``, or float32 in
    [-1, 1] (``x / 127.5 - 1``, the range of a generator ending in tanh) with
    ``dtype="float32"``.  ``labels`` is uint8 of shape ``(N,)``.  ``limit`` keeps the
    first ``limit`` examples (the smoke profile uses it; a limit above N keeps all).
    ``data_dir`` is the folder holding the four ``.gz`` files and ``SHA256SUMS``
    (default :func:`default_mnist_dir`).

    Both files are checked against ``SHA256SUMS`` on the first load in a process and
    again whenever they change on disk; any problem raises :class:`DataFileError`.
    The arrays returned are fresh copies, safe to modify.
    """
    dtype_name, limit = _check_args(split, dtype, limit)
    folder = Path(data_dir).expanduser() if data_dir is not None else default_mnist_dir()
    images_path, labels_path = (folder / name for name in MNIST_FILES[split])
    images, _ = _load_idx_file(images_path)
    labels, _ = _load_idx_file(labels_path)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise _fail(images_path, f"holds an array of shape {images.shape}, expected (N, 28, 28)")
    if labels.ndim != 1 or len(labels) != len(images):
        raise _fail(
            labels_path,
            f"holds labels of shape {labels.shape}, expected ({len(images)},) "
            f"to match {images_path.name}",
        )
    images, labels = images[:limit], labels[:limit].copy()
    if dtype_name == "float32":
        scaled = images.astype(np.float32)  # a fresh copy; scale it in place to save memory
        scaled /= np.float32(127.5)
        scaled -= np.float32(1.0)
        return scaled, labels
    return images.copy(), labels


def verify_mnist(data_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """Check all four MNIST files; return ``{name: sha256}`` of the decompressed bytes.

    Names are as in ``SHA256SUMS`` (without ``.gz``).  Raises :class:`DataFileError`
    on the first missing, altered or malformed file.  Run it before chapters 4-6, or
    from the command line::

        python -c "from gan_utils.data import verify_mnist; print(verify_mnist())"
    """
    folder = Path(data_dir).expanduser() if data_dir is not None else default_mnist_dir()
    result = {}
    for split, names in MNIST_FILES.items():
        for name in names:
            result[name.removesuffix(".gz")] = _load_idx_file(folder / name)[1]
        # Parsing alone does not check the shapes; load_mnist does.
        load_mnist(split, data_dir=folder, limit=1)
    return result


def clear_cache() -> None:
    """Forget every verified array, freeing memory (about 55 MB with both splits loaded)."""
    _CACHE.clear()
