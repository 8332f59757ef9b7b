"""Every committed chapter carries the complete outputs of a full-profile run (DESIGN.md §4).

The book is built without executing notebooks, so what readers see is exactly what is
committed.  These checks fail when a chapter was never run under the full profile, was
edited after its run (stale outputs), ran out of order, holds an error, or grew too big.
"""

from pathlib import Path

import nbformat
import pytest

from gan_utils import REPO_ROOT
from gan_utils.execute import METADATA_KEY, chapter_notebooks, code_fingerprint

NOTEBOOKS = chapter_notebooks()
MAX_NOTEBOOK_BYTES = 5 * 1024 * 1024


def test_there_are_chapters():
    assert NOTEBOOKS, "no chapter notebooks found in chapters/"


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.name)
def notebook(request):
    return request.param, nbformat.read(request.param, as_version=4)


def test_run_under_the_full_profile_and_not_edited_since(notebook):
    path, nb = notebook
    record = nb.metadata.get(METADATA_KEY)
    assert record, f"{path.name} has no '{METADATA_KEY}' run record: run `python -m gan_utils.execute {path.stem[:2]}`"
    assert record["profile"] == "full", f"{path.name} holds outputs of the {record['profile']!r} profile"
    assert record["code_sha256"] == code_fingerprint(nb), (
        f"{path.name}: code changed after its last full run (stale outputs); re-run it with the execution tool"
    )
    assert record["wall_time_s"] > 0 and record["versions"]["python"]


def test_every_code_cell_ran_once_in_order_without_error(notebook):
    path, nb = notebook
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    counts = [cell.execution_count for cell in code]
    assert None not in counts, f"{path.name}: cells {[i for i, c in enumerate(counts) if c is None]} never ran"
    assert counts == list(range(1, len(code) + 1)), f"{path.name}: execution counts {counts} are not 1..n in order"
    errors = [o for cell in code for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{path.name} holds error outputs: {[e.get('ename') for e in errors]}"
    tags = [tag for cell in nb.cells for tag in cell.metadata.get("tags", [])]
    assert "papermill-error-cell-tag" not in tags


def test_shows_results(notebook):
    path, nb = notebook
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{path.name} shows no figure"


def test_parameters_cell_convention(notebook):
    path, nb = notebook
    first_code = next(cell for cell in nb.cells if cell.cell_type == "code")
    assert "parameters" in first_code.metadata.get("tags", []), (
        f"{path.name}: the first code cell must be tagged 'parameters' (papermill)"
    )
    sources = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    assert "settings(" in sources and "seed_everything(" in sources, (
        f"{path.name} must resolve its knobs with gan_utils.profile.settings and seed with seed_everything"
    )


def test_small_enough(notebook):
    path, _ = notebook
    assert Path(path).stat().st_size < MAX_NOTEBOOK_BYTES


def test_timings_table_in_book_and_readme_matches_the_run_records():
    from gan_utils.execute import README, TIMINGS_INCLUDE, timings_table

    table = timings_table()
    assert table in TIMINGS_INCLUDE.read_text(encoding="utf-8"), (
        "chapters/_timings.md is out of date: run `python -m gan_utils.execute --timings-only`"
    )
    assert table in README.read_text(encoding="utf-8"), "README's timings table is out of date (same fix)"
    assert table.count("\n") == len(NOTEBOOKS) + 1
