"""The book builds with warnings as errors and works with no internet (gan_utils.build)."""

import re
import shutil
import subprocess

import pytest

from gan_utils import REPO_ROOT
from gan_utils.build import build_book, check_built_book, is_external, script_sources, toc_pages

PAGE = '<html><head>{head}</head><body><p>text</p></body></html>'


def _fake_book(tmp_path, pages, head=""):
    toc = tmp_path / "_toc.yml"
    toc.write_text("format: jb-book\nroot: intro\nchapters:\n" + "".join(f"  - file: {p}\n" for p in pages[1:]))
    html = tmp_path / "html"
    for page in pages:
        (html / page).parent.mkdir(parents=True, exist_ok=True)
        (html / f"{page}.html").write_text(PAGE.format(head=head))
    return html, toc


def test_toc_pages_lists_root_and_every_chapter():
    pages = toc_pages()
    assert pages[0] == "intro"
    assert "chapters/01_background" in pages and "chapters/data" in pages
    assert len(pages) == len(set(pages))


def test_checker_accepts_a_complete_offline_book(tmp_path):
    html, toc = _fake_book(tmp_path, ["intro", "chapters/a"], head='<script src="_static/x.js"></script>')
    assert check_built_book(html, toc) == []


def test_checker_reports_a_missing_page(tmp_path):
    html, toc = _fake_book(tmp_path, ["intro", "chapters/a"])
    (html / "chapters" / "a.html").unlink()
    assert check_built_book(html, toc) == ["page 'chapters/a' from _toc.yml was not built (chapters/a.html missing)"]


@pytest.mark.parametrize(
    "head, fragment",
    [
        ('<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>', "loads an external script"),
        ('<script src="//unpkg.com/thebe"></script>', "loads an external script"),
        ('<script>const URL = "https://unpkg.com/thebe@0.8.2/lib/index.js"</script>', "inline script naming an external address"),
        ('<script src="_static/mathjax/tex-chtml.js"></script>', "points MathJax at _static/mathjax/tex-chtml.js"),
    ],
)
def test_checker_reports_scripts_that_need_the_network(tmp_path, head, fragment):
    html, toc = _fake_book(tmp_path, ["intro"], head=head)
    problems = check_built_book(html, toc)
    assert len(problems) == 1 and fragment in problems[0]


def test_url_helpers():
    assert is_external("https://a.org/x.js") and is_external("//a.org/x.js") and is_external("HTTP://A.ORG")
    assert not is_external("_static/x.js") and not is_external("../_static/mathjax/tex-chtml.js")
    assert script_sources('<script src="a.js"></script><script>var a = 1 / 2;</script>') == (["a.js"], [])


@pytest.fixture(scope="module")
def built_book(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    code, html = build_book(path_output=out)
    assert code == 0, "jupyter-book build -W failed; run `bash tools/book.sh` to see the warnings"
    return html


@pytest.mark.slow
def test_real_book_builds_every_page_offline(built_book):
    assert check_built_book(built_book) == []
    assert (built_book / "index.html").is_file()


@pytest.mark.slow
def test_chapter_one_shows_figures_formulas_exercises_and_citations(built_book):
    page = (built_book / "chapters" / "01_background.html").read_text(encoding="utf-8")
    images = re.findall(r'<img[^>]+src="([^"]+\.png)"', page)
    assert len(images) >= 2, "chapter 1 should show its figures"
    for src in images:
        assert (built_book / "chapters" / src).resolve().is_file(), f"figure {src} missing from the build"
    assert page.count('class="math') >= 5, "formulas were not turned into math markup"
    assert "exercise" in page and "solution" in page
    assert "Goodfellow" in page  # {cite} resolved to an author-year reference
    assert re.search(r'<script[^>]+src="\.\./_static/mathjax/tex-chtml\.js"', page)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (tools/test.sh installs it on Debian)")
def test_formulas_render_in_a_browser_with_no_network(built_book, tmp_path):
    """Headless Chromium, its network switched off, typesets chapter 1's math with MathJax."""
    page = built_book / "chapters" / "01_background.html"
    dom = subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync", f"--user-data-dir={tmp_path}",
            "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",  # any network request fails
            "--virtual-time-budget=15000", "--dump-dom", page.as_uri(),
        ],
        capture_output=True, text=True, timeout=120,
    ).stdout
    assert dom.count("<mjx-container") >= 5, "MathJax did not typeset the formulas"
    assert "merror" not in dom, "MathJax reported a formula error"
