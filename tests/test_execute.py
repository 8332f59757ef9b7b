"""The chapter execution tool (gan_utils.execute)."""

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from gan_utils.execute import (
    METADATA_KEY,
    code_fingerprint,
    execute_notebook,
    format_table,
    main,
    resolve_notebooks,
)


def _write_notebook(path, *code_sources):
    nb = new_notebook(cells=[new_markdown_cell("# A test chapter")] + [new_code_cell(src) for src in code_sources])
    nb.cells[1].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_fingerprint_tracks_code_only():
    nb = new_notebook(cells=[new_markdown_cell("text"), new_code_cell("x = 1"), new_code_cell("print(x)")])
    base = code_fingerprint(nb)
    nb.cells[0].source = "other text"
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    assert code_fingerprint(nb) == base  # markdown and outputs do not count
    injected = new_code_cell("x = 2")
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(2, injected)
    assert code_fingerprint(nb) == base  # papermill's injected cell does not count
    nb.cells[1].source = "x = 3"
    assert code_fingerprint(nb) != base


def test_resolve_notebooks_by_prefix_and_path(tmp_path):
    for name in ("01_background.ipynb", "02_minimax.ipynb", "notes.md"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in resolve_notebooks([], tmp_path)] == ["01_background.ipynb", "02_minimax.ipynb"]
    assert [p.name for p in resolve_notebooks(["02"], tmp_path)] == ["02_minimax.ipynb"]
    assert [p.name for p in resolve_notebooks([str(tmp_path / "01_background.ipynb")], tmp_path)] == ["01_background.ipynb"]
    with pytest.raises(ValueError, match=r"no chapter notebook matches '07'; available: 01_background.ipynb, 02_minimax.ipynb"):
        resolve_notebooks(["07"], tmp_path)


def test_execute_records_the_run_and_the_profile_reaches_the_kernel(tmp_path):
    path = _write_notebook(
        tmp_path / "ok.ipynb",
        "SEED = 0",
        "import os, pathlib\nprint(os.environ['GAN_BOOK_PROFILE'], pathlib.Path.cwd().name)",
    )
    seconds = execute_notebook(path, profile="smoke", progress=False)
    nb = nbformat.read(path, as_version=4)
    record = nb.metadata[METADATA_KEY]
    assert record["profile"] == "smoke"
    assert record["code_sha256"] == code_fingerprint(nb)
    assert record["wall_time_s"] == pytest.approx(seconds, abs=0.1)
    assert "numpy" in record["versions"] and "python" in record["versions"]
    # The kernel saw the profile and ran in the notebook's own folder.
    assert nb.cells[2].outputs[0]["text"] == f"smoke {tmp_path.name}\n"
    assert [c.execution_count for c in nb.cells if c.cell_type == "code"] == [1, 2]
    assert "papermill" not in nb.metadata
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.ipynb"]  # no temporary file left


def test_a_failing_notebook_is_left_unchanged(tmp_path):
    path = _write_notebook(tmp_path / "bad.ipynb", "SEED = 0", "raise RuntimeError('diverged at step 3')")
    before = path.read_bytes()
    with pytest.raises(Exception, match="diverged at step 3"):
        execute_notebook(path, profile="smoke", progress=False)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.ipynb"]


def test_main_prints_a_table_and_fails_when_a_chapter_fails(tmp_path, capsys):
    good = _write_notebook(tmp_path / "01_good.ipynb", "SEED = 0", "print('fine')")
    bad = _write_notebook(tmp_path / "02_bad.ipynb", "SEED = 0", "1/0")
    code = main([str(good), str(bad), "--profile", "smoke", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 1
    assert "| 01_good.ipynb | ok |" in out
    assert "| 02_bad.ipynb | FAILED | — |" in out
    assert "ZeroDivisionError" in out
    assert METADATA_KEY in json.loads(good.read_text())["metadata"]
    assert METADATA_KEY not in json.loads(bad.read_text())["metadata"]


def test_format_table_units():
    table = format_table([("a.ipynb", "ok", 42.4), ("b.ipynb", "ok", 300.0)])
    assert "| a.ipynb | ok | 42 s |" in table and "| b.ipynb | ok | 5.0 min |" in table


def test_unknown_profile_is_rejected(tmp_path):
    path = _write_notebook(tmp_path / "x.ipynb", "SEED = 0")
    with pytest.raises(ValueError, match="profile must be one of"):
        execute_notebook(path, profile="fast")


def test_timings_table_reads_run_records(tmp_path):
    ran = _write_notebook(tmp_path / "01_ran.ipynb", "SEED = 0")
    nb = nbformat.read(ran, as_version=4)
    nb.metadata[METADATA_KEY] = {"profile": "full", "wall_time_s": 200.0, "executed_at": "2026-11-24T22:00:00+00:00", "machine": "x86_64, 2 logical CPUs"}
    nbformat.write(nb, ran)
    _write_notebook(tmp_path / "02_not_run.ipynb", "SEED = 0")
    from gan_utils.execute import timings_table, write_timings

    table = timings_table(tmp_path)
    assert "| A test chapter (`01_ran.ipynb`) | 3.3 min | 2026-11-24 | x86_64, 2 logical CPUs |" in table
    assert "| A test chapter (`02_not_run.ipynb`) | not yet run under the full profile | — | — |" in table
    readme = tmp_path / "README.md"
    readme.write_text("before\n<!-- timings:start -->\nold\n<!-- timings:end -->\nafter\n")
    write_timings(tmp_path, tmp_path / "_timings.md", readme)
    assert readme.read_text() == f"before\n<!-- timings:start -->\n{table}\n<!-- timings:end -->\nafter\n"
    assert table in (tmp_path / "_timings.md").read_text()
