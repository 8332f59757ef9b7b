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


class _LinkCollector(__import__("html.parser").parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag in ("a", "link") and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if tag in ("img", "script") and attrs.get("src"):
            self.hrefs.append(attrs["src"])


def _parse(path):
    collector = _LinkCollector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


@pytest.mark.slow
def test_no_broken_internal_links(built_book):
    """Every relative link, image and script of every page exists, and every #anchor is defined."""
    from urllib.parse import unquote, urlsplit

    parsed = {}
    broken = []
    pages = [p for p in sorted(built_book.rglob("*.html")) if "_static" not in p.relative_to(built_book).parts]
    for page in pages:  # (_static/ holds the theme's Jinja templates, not pages)
        links = parsed.setdefault(page, _parse(page)).hrefs
        for href in links:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith(("mailto:", "javascript:", "data:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(built_book)} -> {href} (missing file)")
                continue
            if parts.fragment and target.suffix == ".html":
                ids = parsed.setdefault(target, _parse(target)).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{page.relative_to(built_book)} -> {href} (no such anchor)")
    assert not broken, "\n".join(broken[:50])


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Console messages that every page of the theme prints and that do not affect reading.
HARMLESS_CONSOLE = ("Got invalid theme mode",)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it on Debian)")
def test_every_page_reads_well_in_a_browser_with_no_network(built_book):
    """Open every page of _toc.yml in headless Chromium with all network requests blocked.

    Each page must load, typeset its formulas with MathJax, load every image, log no
    console error and keep its solutions collapsed.  Screenshots go to
    _build/screenshots/ for a human to review.
    """
    from playwright.sync_api import sync_playwright

    shots = REPO_ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    failures = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        network, console = [], []
        page.route(re.compile(r"^(https?|wss?)://"), lambda route: (network.append(route.request.url), route.abort()))
        page.on("console", lambda m: console.append((m.type, m.text)))
        page.on("pageerror", lambda e: console.append(("error", str(e))))
        for name in toc_pages():
            network.clear()
            console.clear()
            html_file = built_book / f"{name}.html"
            page.goto(html_file.as_uri(), wait_until="load")
            math_nodes = page.evaluate("document.querySelectorAll('.math').length")
            if math_nodes:
                try:
                    page.wait_for_function(
                        "document.querySelectorAll('mjx-container').length > 0", timeout=20_000
                    )
                except Exception:
                    failures.append(f"{name}: MathJax typeset nothing ({math_nodes} formulas on the page)")
            page.wait_for_timeout(300)  # let the theme's scripts (toggle buttons) finish
            state = page.evaluate(
                """() => ({
                    rendered: document.querySelectorAll('mjx-container').length,
                    mathErrors: document.querySelectorAll('mjx-merror').length,
                    brokenImages: Array.from(document.images)
                        .filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src),
                    openSolutions: Array.from(document.querySelectorAll('.solution.dropdown'))
                        .filter(el => Array.from(el.children).slice(1).some(child =>
                            getComputedStyle(child).visibility !== 'hidden'
                            && child.getBoundingClientRect().height > 0)).length,
                })"""
            )
            page.screenshot(path=str(shots / (name.replace("/", "__") + ".png")), full_page=False)
            if math_nodes and state["rendered"] < math_nodes:
                failures.append(f"{name}: {state['rendered']} of {math_nodes} formulas typeset")
            if state["mathErrors"]:
                failures.append(f"{name}: {state['mathErrors']} MathJax formula errors")
            if state["brokenImages"]:
                failures.append(f"{name}: images did not load: {state['brokenImages']}")
            if state["openSolutions"]:
                failures.append(f"{name}: {state['openSolutions']} solutions are not collapsed")
            errors = [text for kind, text in console if kind == "error" and not text.startswith(HARMLESS_CONSOLE)]
            if errors:
                failures.append(f"{name}: console errors {errors}")
            if network:
                failures.append(f"{name}: tried the network: {network}")
        browser.close()
    assert not failures, "\n".join(failures)
