"""The pretrained weights shipped in ``data/pretrained/``: checksum-verified lookup and writing.

The chapters that train MNIST GANs (4 and 5) can skip training
(``TRAIN_FROM_SCRATCH = False``) and load weights that a full-profile run of the same
notebook wrote.  Those files live in ``data/pretrained/`` next to ``SHA256SUMS``, which
holds one line ``<sha256>  <file name>`` per file (the format of ``sha256sum``).  This
module is framework-neutral: it only deals with files and checksums, the notebooks load
the verified path with ``torch.load`` or Keras' ``load_weights``.

- :func:`pretrained_path` returns the path of a shipped file after checking it against
  ``SHA256SUMS``; a missing, altered or unlisted file raises :class:`PretrainedFileError`
  with a message that names the file and the fix (restore it from git, or re-run the
  chapter under the full profile, which writes it again);
- :func:`publish` moves freshly written weight files into the folder and records their
  checksums, each step atomic (``os.replace``), so an interrupted run never leaves a
  ``SHA256SUMS`` that disagrees with the files.

``$GAN_BOOK_DATA_DIR``, if set, moves the folder to ``$GAN_BOOK_DATA_DIR/pretrained``
(as for MNIST in :mod:`gan_utils.data`).  Used in chapters 4 and 5.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable, Mapping

from . import REPO_ROOT
from .checkpoint import atomic_write_bytes, fsync_dir, fsync_file
from .checksums import CHECKSUM_FILE, read_sha256sums, sha256_of

__all__ = [
    "CHECKSUM_FILE",
    "PRETRAINED_DIR",
    "PretrainedFileError",
    "default_pretrained_dir",
    "publish",
    "pretrained_path",
    "read_checksums",
    "sha256_of",
    "temporary_path",
    "verify_pretrained",
]

#: The folder of the shipped weights in the repository.
PRETRAINED_DIR = REPO_ROOT / "data" / "pretrained"
#: The checksum list beside the weights.
DATA_DIR_ENV_VAR = "GAN_BOOK_DATA_DIR"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class PretrainedFileError(OSError):
    """A pretrained weight file (or ``SHA256SUMS``) is missing, unreadable, altered or malformed.

    A subclass of ``OSError`` (the problem is a file on disk), not of ``ValueError``: bad
    *arguments* raise ``ValueError``/``TypeError``.  The message names the file and the fix.
    """


def default_pretrained_dir() -> Path:
    """``$GAN_BOOK_DATA_DIR/pretrained`` if the variable is set, else :data:`PRETRAINED_DIR`."""
    root = os.environ.get(DATA_DIR_ENV_VAR, "").strip()
    return Path(root).expanduser() / "pretrained" if root else PRETRAINED_DIR


def _fix_hint(path: Path, chapter: str | None) -> str:
    rerun = (
        f"re-run {chapter} under the full profile (`python -m gan_utils.execute {chapter}`), which trains "
        "from scratch and writes it again"
        if chapter
        else "re-run the chapter that writes it under the full profile (`python -m gan_utils.execute <chapter>`)"
    )
    hint = (
        f" Restore it with `git checkout -- data/pretrained/{path.name}` (and SHA256SUMS), or {rerun}; "
        "or set TRAIN_FROM_SCRATCH = True in the notebook's parameters cell."
    )
    if os.environ.get(DATA_DIR_ENV_VAR, "").strip():
        hint += f" (The folder comes from {DATA_DIR_ENV_VAR}={os.environ[DATA_DIR_ENV_VAR]!r}.)"
    return hint


def _fail(path: Path | str, problem: str, chapter: str | None = None) -> PretrainedFileError:
    path = Path(path)
    return PretrainedFileError(f"Pretrained file {path} {problem}.{_fix_hint(path, chapter)}")


def _check_name(where: str, name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"{where}: name must be a plain file name such as 'mlp_gan_torch_generator.pt' "
            f"(letters, digits, '.', '_', '-'; no folders), got {name!r}."
        )
    return name


def _folder(folder: str | os.PathLike | None) -> Path:
    return Path(folder).expanduser() if folder is not None else default_pretrained_dir()


def read_checksums(folder: str | os.PathLike | None = None) -> dict[str, str]:
    """Parse ``SHA256SUMS`` of ``folder``: ``{file name: sha256}``.

    Lines are ``<64 hex digits>  <name>`` (``sha256sum``'s ``*name`` binary form is
    accepted); blank lines and ``#`` comments are skipped.  Raises
    :class:`PretrainedFileError` when the file is missing, unreadable or has a bad line.
    """
    sums = _folder(folder) / CHECKSUM_FILE
    return read_sha256sums(sums, lambda path, problem: _fail(path, problem), protects="the pretrained weights")


def pretrained_path(name: str, *, folder: str | os.PathLike | None = None, chapter: str | None = None) -> Path:
    """Return the path of the shipped file ``name`` after checking it against ``SHA256SUMS``.

    ``folder`` defaults to :func:`default_pretrained_dir`; ``chapter`` (e.g.
    ``"04_mlp_gan_pytorch"``) is named in the error message as the notebook that writes
    the file.  Raises :class:`PretrainedFileError` if the file is missing, not listed in
    ``SHA256SUMS``, or its checksum differs (altered or truncated); ``ValueError`` for a
    name with a folder in it.  Used in chapters 4 and 5.
    """
    name = _check_name("pretrained_path", name)
    base = _folder(folder)
    path = base / name
    if not path.is_file():
        raise _fail(path, "is missing", chapter)
    expected = read_checksums(base).get(name)
    if expected is None:
        raise _fail(base / CHECKSUM_FILE, f"has no checksum for {name!r}, so {path} cannot be verified", chapter)
    try:
        got = sha256_of(path)
    except OSError as err:
        raise _fail(path, f"could not be read ({err})", chapter) from None
    if got != expected:
        raise _fail(
            path,
            f"has SHA-256 {got} but {CHECKSUM_FILE} lists {expected}: the file was altered, truncated "
            "or replaced without updating the checksum",
            chapter,
        )
    return path


def verify_pretrained(folder: str | os.PathLike | None = None) -> dict[str, str]:
    """Check every file listed in ``SHA256SUMS``; return ``{name: sha256}``.  Raises :class:`PretrainedFileError`."""
    base = _folder(folder)
    listed = read_checksums(base)
    for name in listed:
        pretrained_path(name, folder=base)
    return listed


def _format_sums(sums: Mapping[str, str]) -> bytes:
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(sums.items())).encode("ascii")


def publish(files: Mapping[str, str | os.PathLike], *, folder: str | os.PathLike | None = None) -> dict[str, str]:
    """Move freshly written files into the pretrained folder and record their checksums.

    ``files`` maps the target name (e.g. ``"mlp_gan_torch_generator.pt"``) to a file
    written beforehand, ideally in the same folder (e.g. a temporary name there) so that
    the move is an atomic ``os.replace``.  Each file is fsynced and moved; then
    ``SHA256SUMS`` is rewritten atomically with the new checksums, keeping the lines of
    the other files (sorted by name).  Returns ``{name: sha256}`` of the published files.
    Between the moves and the checksum update a reader sees a mismatch and gets a clear
    :class:`PretrainedFileError`, never silently wrong weights.  Used in chapters 4 and 5.
    """
    where = "publish"
    if not isinstance(files, Mapping) or not files:
        raise ValueError(f"{where}: files must be a non-empty mapping {{target name: written file}}.")
    base = _folder(folder)
    base.mkdir(parents=True, exist_ok=True)
    try:
        sums = read_checksums(base)
    except PretrainedFileError:
        if (base / CHECKSUM_FILE).exists():
            raise
        sums = {}
    new: dict[str, str] = {}
    for name, source in files.items():
        _check_name(where, name)
        source = Path(source)
        if not source.is_file():
            raise FileNotFoundError(f"{where}: {source} (for {name!r}) does not exist.")
        fsync_file(source)
        new[name] = sha256_of(source)
        os.replace(source, base / name)
    fsync_dir(base)
    sums.update(new)
    atomic_write_bytes(base / CHECKSUM_FILE, _format_sums(sums))
    for name in (CHECKSUM_FILE, *new):
        try:  # mkstemp-style temporaries are private (0600); shipped files are world-readable
            os.chmod(base / name, 0o644)
        except OSError:
            pass
    return new


def temporary_path(name: str, *, folder: str | os.PathLike | None = None) -> Path:
    """A temporary path in the pretrained folder for writing ``name`` before :func:`publish`.

    Keeps the suffix of ``name`` (Keras insists on ``.weights.h5``).  The folder is created.
    """
    name = _check_name("temporary_path", name)
    base = _folder(folder)
    base.mkdir(parents=True, exist_ok=True)
    return base / f".tmp-{os.getpid()}-{name}"


def files_listed(folder: str | os.PathLike | None = None) -> Iterable[str]:
    """The file names ``SHA256SUMS`` lists (sorted)."""
    return sorted(read_checksums(folder))
