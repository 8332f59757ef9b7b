"""Re-run chapters in place under the full profile, so the book shows real results.

Usage (from the repository root, inside the project's environment)::

    python -m gan_utils.execute                      # every chapter notebook
    python -m gan_utils.execute chapters/01_background.ipynb
    python -m gan_utils.execute --profile smoke 01   # quick try; never commit its outputs

Each notebook is executed by papermill into a temporary file beside it, with
``GAN_BOOK_PROFILE`` set and the notebook's folder as working directory.  Only when
every cell succeeded does the temporary file replace the original (``os.replace``),
so a failing run never leaves error cells in a committed notebook.  The run is
recorded in the notebook's metadata under ``gan_book`` (profile, date, wall time,
package versions, and a fingerprint of the code cells that lets the tests detect
outputs that are stale).  A table of wall times is printed at the end; the README
quotes it.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import platform
import sys
import tempfile
import time
from importlib import metadata as _metadata
from pathlib import Path
from typing import Iterable, Sequence

from . import REPO_ROOT
from .profile import PROFILE_ENV_VAR, PROFILES

CHAPTERS_DIR = REPO_ROOT / "chapters"
METADATA_KEY = "gan_book"
#: The table of full-run wall times, included by the book's front page.
TIMINGS_INCLUDE = CHAPTERS_DIR / "_timings.md"
README = REPO_ROOT / "README.md"
TIMINGS_START, TIMINGS_END = "<!-- timings:start -->", "<!-- timings:end -->"
#: Packages whose versions are recorded with each run.
RECORDED_PACKAGES = ("numpy", "matplotlib", "torch", "tensorflow-cpu", "tensorflow", "keras", "papermill")


def code_fingerprint(nb) -> str:
    """SHA-256 of the notebook's code cells (sources only, in order).

    Papermill's ``injected-parameters`` cells are left out: they are an artefact of a
    run, not part of the chapter.  Used by the execution tool and by
    ``tests/test_committed_outputs.py``.
    """
    sources = [
        cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        for cell in nb["cells"]
        if cell["cell_type"] == "code"
        and "injected-parameters" not in cell.get("metadata", {}).get("tags", [])
    ]
    return hashlib.sha256(json.dumps(sources).encode("utf-8")).hexdigest()


def package_versions(names: Iterable[str] = RECORDED_PACKAGES) -> dict:
    """Installed versions of ``names`` (without importing them), plus Python's."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = _metadata.version(name)
        except _metadata.PackageNotFoundError:
            continue
    return versions


def chapter_notebooks(chapters_dir: Path = CHAPTERS_DIR) -> list[Path]:
    """The chapter notebooks, in file-name order; hidden files (a run in progress) are skipped."""
    return sorted(p for p in chapters_dir.glob("*.ipynb") if not p.name.startswith("."))


def resolve_notebooks(selectors: Sequence[str], chapters_dir: Path = CHAPTERS_DIR) -> list[Path]:
    """Turn command-line selectors into notebook paths.

    A selector is a path to a notebook, or a prefix of a file name in ``chapters/``
    (``01`` selects ``01_background.ipynb``).  No selector means every notebook.
    Unknown selectors raise ``ValueError`` listing what exists.
    """
    available = chapter_notebooks(chapters_dir)
    if not selectors:
        return available
    chosen: list[Path] = []
    for selector in selectors:
        path = Path(selector)
        if path.suffix == ".ipynb" and path.exists():
            matches = [path.resolve()]
        else:
            matches = [p for p in available if p.name.startswith(selector)]
        if not matches:
            names = ", ".join(p.name for p in available) or "none"
            raise ValueError(f"no chapter notebook matches {selector!r}; available: {names}.")
        chosen.extend(m for m in matches if m not in chosen)
    return chosen


def execute_notebook(path: Path, profile: str = "full", timeout: int = 3600, progress: bool = True) -> float:
    """Execute one notebook in place under ``profile``; return its wall time in seconds.

    The original file is replaced only if the whole notebook ran without error.
    """
    import nbformat
    import papermill

    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}.")
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"notebook {path} does not exist.")

    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".running.ipynb", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    previous = os.environ.get(PROFILE_ENV_VAR)
    os.environ[PROFILE_ENV_VAR] = profile  # the kernel inherits this process's environment
    load_before = _load_average()
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(path),
            str(tmp),
            kernel_name="python3",
            cwd=str(path.parent),
            progress_bar=progress,
            execution_timeout=timeout,
            log_output=False,
        )
        wall = time.perf_counter() - start
        nb = nbformat.read(tmp, as_version=4)
        _strip_papermill_metadata(nb)
        nb.metadata[METADATA_KEY] = {
            "profile": profile,
            "executed_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "wall_time_s": round(wall, 1),
            "code_sha256": code_fingerprint(nb),
            "machine": f"{platform.machine()}, {os.cpu_count()} logical CPUs",
            # Other work on the machine slows a run down; the load says how busy it was.
            "load_average_1min": {"before": load_before, "after": _load_average()},
            "versions": package_versions(),
        }
        nbformat.write(nb, tmp)
        os.chmod(tmp, path.stat().st_mode & 0o777)  # mkstemp makes 0600 files; keep the original's mode
        os.replace(tmp, path)
        return wall
    finally:
        if previous is None:
            os.environ.pop(PROFILE_ENV_VAR, None)
        else:
            os.environ[PROFILE_ENV_VAR] = previous
        tmp.unlink(missing_ok=True)


def _load_average() -> float | None:
    """The 1-minute load average (None where the system does not report one)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _strip_papermill_metadata(nb) -> None:
    """Drop papermill's per-cell timing metadata: it changes on every run (diff noise)."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)


def _describe_failure(error: Exception) -> str:
    """One line saying which cell failed and how (papermill errors carry both)."""
    if hasattr(error, "ename") and hasattr(error, "evalue"):
        return f"cell {getattr(error, 'exec_count', '?')}: {error.ename}: {error.evalue}"
    lines = [line for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


def format_table(rows: Sequence[tuple[str, str, float | None]]) -> str:
    """A Markdown table of (notebook, status, seconds) rows, ready for the README."""
    lines = ["| notebook | status | wall time |", "|---|---|---|"]
    for name, status, seconds in rows:
        shown = "—" if seconds is None else f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"
        lines.append(f"| {name} | {status} | {shown} |")
    return "\n".join(lines)


def timings_table(chapters_dir: Path = CHAPTERS_DIR) -> str:
    """Markdown table of every chapter's recorded full run (from notebook metadata)."""
    import nbformat

    lines = ["| chapter | full-run wall time | executed | machine |", "|---|---|---|---|"]
    for path in chapter_notebooks(chapters_dir):
        nb = nbformat.read(path, as_version=4)
        record = nb.metadata.get(METADATA_KEY, {})
        title = next(
            (c.source.splitlines()[0].lstrip("# ").strip() for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("# ")),
            path.stem,
        )
        if record.get("profile") == "full":
            seconds = record["wall_time_s"]
            shown = f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"
            lines.append(f"| {title} (`{path.name}`) | {shown} | {record['executed_at'][:10]} | {record.get('machine', '?')} |")
        else:
            lines.append(f"| {title} (`{path.name}`) | not yet run under the full profile | — | — |")
    return "\n".join(lines)


def write_timings(chapters_dir: Path = CHAPTERS_DIR, include: Path = TIMINGS_INCLUDE, readme: Path = README) -> str:
    """Write the timings table into the book's include file and between the README's markers."""
    table = timings_table(chapters_dir)
    include.write_text(
        "<!-- Written by `python -m gan_utils.execute` from the notebooks' run records; do not edit. -->\n\n"
        + table + "\n",
        encoding="utf-8",
    )
    if readme.is_file():
        text = readme.read_text(encoding="utf-8")
        start, end = text.find(TIMINGS_START), text.find(TIMINGS_END)
        if start != -1 and end > start:
            text = text[: start + len(TIMINGS_START)] + "\n" + table + "\n" + text[end:]
            readme.write_text(text, encoding="utf-8")
    return table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gan_utils.execute",
        description="Re-run chapter notebooks in place (papermill) and record the run in their metadata.",
    )
    parser.add_argument("notebooks", nargs="*", help="notebook paths or name prefixes in chapters/ (default: all)")
    parser.add_argument("--profile", default="full", choices=PROFILES, help="run profile (default: full)")
    parser.add_argument("--timeout", type=int, default=3600, help="per-cell timeout in seconds (default: 3600)")
    parser.add_argument("--no-progress", action="store_true", help="hide papermill's per-cell progress bar")
    parser.add_argument(
        "--timings-only", action="store_true", help="only rewrite the timings table (README and chapters/_timings.md)"
    )
    args = parser.parse_args(argv)
    if args.timings_only:
        print(write_timings())
        return 0

    try:
        notebooks = resolve_notebooks(args.notebooks)
    except ValueError as error:
        parser.error(str(error))
    if args.profile != "full":
        print(f"note: profile {args.profile!r}; the book must show full-profile outputs, do not commit these.")

    rows: list[tuple[str, str, float | None]] = []
    for index, path in enumerate(notebooks, start=1):
        print(f"[{index}/{len(notebooks)}] {path.name} (profile {args.profile})", flush=True)
        try:
            seconds = execute_notebook(path, args.profile, args.timeout, progress=not args.no_progress)
            rows.append((path.name, "ok", seconds))
        except Exception as error:  # report and go on with the other chapters
            print(f"    FAILED: {_describe_failure(error)}")
            print(f"    {path.name} was left unchanged.")
            rows.append((path.name, "FAILED", None))
    print()
    print(format_table(rows))
    if args.profile == "full" and any(path.parent == CHAPTERS_DIR for path in notebooks):
        write_timings()
        print(f"\nUpdated the timings table in {TIMINGS_INCLUDE.relative_to(REPO_ROOT)} and README.md.")
    return 0 if all(status == "ok" for _, status, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
