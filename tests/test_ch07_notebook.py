"""Chapter 7: the pieces the notebook writes out are the package's, and the exercises' solutions pass.

The notebook's cell that defines ``pack``, ``instance_noise_std`` and
``discriminator_loss_smoothed`` is taken from the notebook with nbformat and executed on
its own; each function must agree with :mod:`gan_utils.lab` on inputs the notebook does
not use.  The reference solutions of the code exercises must pass their checkers, and
wrong variants must fail them.
"""

from __future__ import annotations

import nbformat
import numpy as np
import pytest
import torch

from gan_utils import REPO_ROOT, lab
from gan_utils.exercises.instability import check_instance_noise, check_pack, check_smoothed_loss
from notebook_cells import cells_defining, run_cell

NOTEBOOK = REPO_ROOT / "chapters" / "07_instability_faq.ipynb"


@pytest.fixture(scope="module")
def nb():
    return nbformat.read(NOTEBOOK, as_version=4)


def cell_defining(nb, *names):
    found = cells_defining(nb, *names)
    assert len(found) >= 1, f"no code cell defines {names}"
    return found[0]


def run(cell, label):
    return run_cell(cell, {}, label)


def test_notebook_pieces_agree_with_the_lab(nb):
    cell = cell_defining(nb, "pack", "instance_noise_std", "discriminator_loss_smoothed")
    # The cell also runs its own comparison; give it its imports.
    source = "import torch\nimport torch.nn.functional as F\nfrom gan_utils import lab\n" + cell.source
    ns = run(nbformat.v4.new_code_cell(source), "lab pieces")
    x = torch.randn(2, 12, 3)
    for m in (1, 2, 3, 4, 6):
        assert torch.equal(ns["pack"](x, m), lab.pack(x, m))
    for step in range(0, 300, 7):
        assert ns["instance_noise_std"](step, 300, 0.7, 0.4) == pytest.approx(lab.instance_noise_std(step, 300, 0.7, 0.4))
    real, fake = torch.randn(4, 5, 1) * 5, torch.randn(4, 5, 1) * 5
    method = lab.Method("smooth", real_label=0.8)
    expected = lab.discriminator_objective(method, real, fake) / 4
    # The notebook's loss averages over all samples; with equal batches that is the mean of per-seed means.
    got = ns["discriminator_loss_smoothed"](real, fake, real_label=0.8)
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)


def solution(nb, name):
    """The reference solution: the last cell defining ``name`` (the first one is the stub)."""
    cells = cells_defining(nb, name)
    assert len(cells) == 2, f"expected a stub and a solution for {name}, found {len(cells)} cells"
    assert "NotImplementedError" in cells[0].source
    src = "\n".join(line for line in cells[1].source.splitlines() if not line.startswith("check_"))
    return run(nbformat.v4.new_code_cell("import numpy as np\n" + src), name)[name]


def test_reference_solutions_pass_and_wrong_variants_fail(nb):
    assert check_pack(solution(nb, "my_pack"), verbose=False)
    assert check_instance_noise(solution(nb, "my_noise_std"), verbose=False)
    assert check_smoothed_loss(solution(nb, "my_smoothed_loss"), verbose=False)
    # typical mistakes the checkers must catch
    assert not check_pack(lambda x, m: np.concatenate([x[: len(x) // m], x[len(x) // m:]], axis=1) if m == 2
                          else x.reshape(len(x) // m, -1), verbose=False)
    assert not check_instance_noise(lambda step, steps, initial, anneal: initial * (1 - step / (anneal * steps)),
                                    verbose=False)
    two_sided = lambda r, f, y: (y * np.logaddexp(0, -r) + (1 - y) * np.logaddexp(0, r)).mean() + (
        y * np.logaddexp(0, f) + (1 - y) * np.logaddexp(0, -f)).mean()
    assert not check_smoothed_loss(two_sided, verbose=False)
    from_probs = lambda r, f, y: -(y * np.log(1 / (1 + np.exp(-r))) + (1 - y) * np.log(1 - 1 / (1 + np.exp(-r)))).mean() - (
        np.log(1 - 1 / (1 + np.exp(-f)))).mean()
    assert not check_smoothed_loss(from_probs, verbose=False)


def test_stubs_report_not_attempted():
    def stub(*args):
        raise NotImplementedError("Exercise 7.x")

    for checker in (check_pack, check_instance_noise, check_smoothed_loss):
        verdict = checker(stub, verbose=False)
        assert verdict.status == "not attempted"


def test_lab_runs_every_method_in_the_notebook(nb):
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "lab.run_lab(METHOD_NAMES, lab.BENCHMARKS" in code
    assert "METHOD_NAMES = list(lab.METHODS)" in code
    assert len(lab.METHODS) >= 10
