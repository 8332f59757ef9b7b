"""Conventions every chapter notebook follows (DESIGN.md §3, the learner-experience issue)."""

import re

import nbformat
import pytest

from gan_utils.execute import chapter_notebooks

NOTEBOOKS = chapter_notebooks()


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.name)
def notebook(request):
    return request.param, nbformat.read(request.param, as_version=4)


def test_at_least_three_exercises_with_collapsed_solutions(notebook):
    path, nb = notebook
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    exercises = re.findall(r"```\{exercise(?:-start)?\}\s*\n:label: (\S+)", markdown)
    assert len(exercises) >= 3, f"{path.name} has {len(exercises)} exercises, expected at least 3"
    for label in exercises:
        solution = re.search(r"```\{solution(?:-start)?\} " + re.escape(label) + r"\s*\n:class: dropdown", markdown)
        assert solution, f"{path.name}: exercise {label} has no collapsed (dropdown) solution"


def test_a_code_exercise_with_a_checker(notebook):
    path, nb = notebook
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert re.search(r"raise NotImplementedError\(\s*[\"']Exercise", code), f"{path.name} has no code-exercise stub"
    assert re.search(r"from gan_utils\.exercises[\w.]* import \(?\s*check_\w+", code), f"{path.name} calls no checker"


def test_stub_cells_run_without_stopping_the_notebook(notebook):
    """The committed run shows each checker's verdict on the blank stub as 'not attempted'."""
    path, nb = notebook
    outputs = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
        if o.get("output_type") == "stream"
    )
    assert "[not attempted]" in outputs, f"{path.name}: no checker verdict on a blank stub in the committed outputs"
    assert "[pass]" in outputs, f"{path.name}: no reference solution passing its checker in the committed outputs"
