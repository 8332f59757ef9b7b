"""``SHA256SUMS`` files: hash a file, read the listed checksums.

The book ships data and weights next to a ``SHA256SUMS`` file in the format of the
``sha256sum`` tool (``<64 hex digits>  <file name>`` per line; ``*name``, blank lines and
``#`` comments allowed).  Shared by :mod:`gan_utils.data`, :mod:`gan_utils.evaluator` and
:mod:`gan_utils.pretrained`, which each raise their own error type (``fail``) with a
message that names the file and the fix.  Framework-neutral: standard library only.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Callable

CHECKSUM_FILE = "SHA256SUMS"
_HEX = re.compile(r"[0-9a-f]{64}")


def sha256_of(path: str | os.PathLike) -> str:
    """The SHA-256 (lower-case hex) of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_sha256sums(sums: Path, fail: Callable[[Path, str], Exception], *, protects: str) -> dict[str, str]:
    """Parse the checksum file ``sums`` into ``{file name: sha256}``.

    ``fail(path, problem)`` builds the caller's exception; ``protects`` says what cannot
    be verified without the file (e.g. ``"the data"``), for the message when it is missing.
    """
    try:
        text = sums.read_text(encoding="ascii")
    except FileNotFoundError:
        raise fail(sums, f"is missing, so {protects} cannot be verified") from None
    except (OSError, UnicodeDecodeError) as err:
        raise fail(sums, f"could not be read ({err})") from None
    listed: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or not _HEX.fullmatch(parts[0].lower()):
            raise fail(sums, f"has a line {number} that is not '<sha256>  <file name>': {line!r}")
        listed[parts[1].strip().lstrip("*")] = parts[0].lower()  # "*name": sha256sum's binary mode
    return listed
