"""Build the HTML book and check that it works offline.

``python -m gan_utils.build`` (what ``tools/book.sh`` runs) calls Jupyter Book v1 with
warnings as errors, then checks the result:

- every page named in ``_toc.yml`` was produced as HTML;
- no page loads a script from another host (MathJax is served from the
  ``sphinx-mathjax-offline`` package's files, copied into the build);
- the MathJax file the pages point to exists in the build.

Notebooks are not executed: the book shows their committed outputs.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Sequence

from . import REPO_ROOT

BUILD_DIR = REPO_ROOT / "_build"


def toc_pages(toc_path: Path = REPO_ROOT / "_toc.yml") -> list[str]:
    """Every document named in ``_toc.yml`` (root first), without file extension."""
    import yaml

    toc = yaml.safe_load(Path(toc_path).read_text(encoding="utf-8"))
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(str(Path(entry["file"]).with_suffix("")))
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return pages


class _ScriptCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts: list[str] = []
        self.inline_urls: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._in_script = True
            src = dict(attrs).get("src")
            if src:
                self.scripts.append(src)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.inline_urls.extend(re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"'`)]*", data))


def script_sources(html: str) -> tuple[list[str], list[str]]:
    """The ``src`` of every ``<script>`` element of a page, and the URLs inside inline scripts.

    An inline URL counts because scripts built from it (e.g. a CDN address held in a
    variable) would be fetched at run time.
    """
    collector = _ScriptCollector()
    collector.feed(html)
    return collector.scripts, collector.inline_urls


def is_external(url: str) -> bool:
    """True for URLs that need the network: another host or a protocol-relative link."""
    return bool(re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", url, flags=re.IGNORECASE))


def check_built_book(html_dir: Path = BUILD_DIR / "html", toc_path: Path = REPO_ROOT / "_toc.yml") -> list[str]:
    """Return a list of problems with a built book (empty when it is fine)."""
    html_dir = Path(html_dir)
    problems = []
    for page in toc_pages(toc_path):
        if not (html_dir / f"{page}.html").is_file():
            problems.append(f"page {page!r} from _toc.yml was not built ({page}.html missing)")
    pages = sorted(html_dir.rglob("*.html"))
    if not pages:
        problems.append(f"no HTML pages under {html_dir}")
    for page in pages:
        rel = page.relative_to(html_dir)
        sources, inline_urls = script_sources(page.read_text(encoding="utf-8"))
        for url in inline_urls:
            problems.append(f"{rel} has an inline script naming an external address: {url}")
        for src in sources:
            if is_external(src):
                problems.append(f"{rel} loads an external script: {src}")
            elif "mathjax" in src.lower():
                target = (page.parent / src.split("?")[0]).resolve()
                if not target.is_file():
                    problems.append(f"{rel} points MathJax at {src}, which is not in the build")
    return problems


def build_book(path_output: Path | None = None, clean: bool = True) -> tuple[int, Path]:
    """Run ``jupyter-book build`` on the repository with warnings as errors.

    The book goes to ``<path_output>/_build/html`` (default: the repository's
    ``_build/html``).  Returns the exit code and the HTML folder.
    """
    out_root = Path(path_output) if path_output is not None else REPO_ROOT
    build_dir = out_root / "_build"
    if clean and build_dir.exists():
        shutil.rmtree(build_dir)
    # The console script lives beside this interpreter (the project's environment).
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", str(REPO_ROOT), "-W", "--keep-going", "--path-output", str(out_root)]
    completed = subprocess.run(command, cwd=REPO_ROOT)
    # Execution-error logs would otherwise be published with the site.
    shutil.rmtree(build_dir / "html" / "reports", ignore_errors=True)
    return completed.returncode, build_dir / "html"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gan_utils.build", description=__doc__.splitlines()[0])
    parser.add_argument("--no-clean", action="store_true", help="reuse the previous build (faster)")
    args = parser.parse_args(argv)
    code, html_dir = build_book(clean=not args.no_clean)
    if code != 0:
        print("The book build failed (warnings are errors); see the messages above.", file=sys.stderr)
        return code
    problems = check_built_book(html_dir)
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"Book built: {html_dir / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
