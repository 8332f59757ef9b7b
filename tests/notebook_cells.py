"""Finding and running a notebook's code cells, shared by the chapter notebook tests.

The tests take the cell that defines a function out of the committed notebook (with
nbformat) and execute it on its own, to prove the code a chapter teaches agrees with the
package.
"""

from __future__ import annotations

import ast


def code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def defined_functions(cell) -> set[str]:
    """Names of the functions a code cell defines at top level."""
    return {node.name for node in ast.parse(cell.source).body if isinstance(node, ast.FunctionDef)}


def cells_defining(nb, *names):
    """Every code cell that defines all of ``names`` at top level, in notebook order."""
    return [cell for cell in code_cells(nb) if set(names) <= defined_functions(cell)]


def only_cell(nb, *names):
    """The one code cell that defines all of ``names``; fails the test if there are none or several."""
    found = cells_defining(nb, *names)
    assert len(found) == 1, f"expected one cell defining {names}, found {len(found)}"
    return found[0]


def run_cell(cell, namespace, label):
    """Execute ``cell`` in ``namespace`` (a dict, filled in place and returned)."""
    exec(compile(cell.source, f"<notebook cell: {label}>", "exec"), namespace)
    return namespace
