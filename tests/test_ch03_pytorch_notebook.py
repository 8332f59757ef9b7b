"""Chapter 3 (PyTorch): the step taught in the notebook is the step the package keeps.

The notebook's ``alternating_step`` and ``simultaneous_step`` are taken from its code
cells (parsed with nbformat, the defining cell executed on its own) and run against
``gan_utils.torch.train.train_step`` from the same seed: the losses and the weights must
be identical.  Also checks the chapter's conventions that the other tests do not.
"""

from __future__ import annotations

import ast
import copy

import nbformat
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gan_utils import REPO_ROOT
from gan_utils.exercises.training_torch import check_discriminator_loss
from gan_utils.toy import ring_of_gaussians
from gan_utils.torch import mlp_discriminator, mlp_generator, train_step

NOTEBOOK = REPO_ROOT / "chapters" / "03_training_loop_pytorch.ipynb"
LATENT = 2

pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def nb():
    return nbformat.read(NOTEBOOK, as_version=4)


def code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def defining_cell(nb, name):
    """The code cell that defines ``name`` at top level, executed on its own."""
    found = [
        cell
        for cell in code_cells(nb)
        if any(isinstance(node, ast.FunctionDef) and node.name == name for node in ast.parse(cell.source).body)
    ]
    assert len(found) == 1, f"expected one cell defining {name}, found {len(found)}"
    namespace = {"torch": torch, "F": F}
    exec(compile(found[0].source, f"<notebook cell defining {name}>", "exec"), namespace)
    return namespace[name]


def start(seed=0):
    torch.manual_seed(seed)
    G, D = mlp_generator(LATENT, 2, hidden=(32, 32)), mlp_discriminator(2, hidden=(32, 32))
    return G, D


def run(step_fn, G, D, batches, **kwargs):
    G, D = copy.deepcopy(G), copy.deepcopy(D)
    opt_G = torch.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
    torch.manual_seed(123)
    losses = [step_fn(G, D, opt_G, opt_D, batch, **kwargs) for batch in batches]
    return losses, [p.detach().clone() for p in [*G.parameters(), *D.parameters()]]


@pytest.fixture(scope="module")
def batches():
    rng = np.random.default_rng(0)
    return [torch.from_numpy(ring_of_gaussians().sample(48, rng)) for _ in range(4)]


@pytest.mark.parametrize("d_steps", [1, 3])
def test_the_notebooks_alternating_step_is_the_packages(nb, batches, d_steps):
    notebook_step = defining_cell(nb, "alternating_step")
    G, D = start()
    ours = run(notebook_step, G, D, batches, latent_dim=LATENT, d_steps=d_steps)
    package = run(train_step, G, D, batches, latent_dim=LATENT, d_steps=d_steps)
    assert ours[0] == package[0]  # identical floats, every step
    assert all(torch.equal(a, b) for a, b in zip(ours[1], package[1]))
    # Sanity: the steps did something.
    assert not all(torch.equal(a, b) for a, b in zip(ours[1], [p for p in [*G.parameters(), *D.parameters()]]))


def test_the_notebooks_simultaneous_step_is_the_packages(nb, batches):
    notebook_step = defining_cell(nb, "simultaneous_step")
    G, D = start(1)
    ours = run(notebook_step, G, D, batches, latent_dim=LATENT)
    package = run(train_step, G, D, batches, latent_dim=LATENT, update="simultaneous")
    assert ours[0] == package[0]
    assert all(torch.equal(a, b) for a, b in zip(ours[1], package[1]))
    alternating = run(train_step, G, D, batches, latent_dim=LATENT)
    assert alternating[0] != package[0]


def test_parameters_cell_holds_plain_literals(nb):
    first = code_cells(nb)[0]
    assert first.metadata.get("tags") == ["parameters"]
    tree = ast.parse(first.source)
    names = []
    for node in tree.body:
        assert isinstance(node, ast.Assign), f"parameters cell: only assignments, got {ast.dump(node)[:60]}"
        ast.literal_eval(node.value)  # plain literals only
        names += [target.id for target in node.targets]
    assert {"SEED", "STEPS_1D", "STEPS_RING", "BATCH_SIZE", "LR", "D_STEPS"} <= set(names)
    second = code_cells(nb)[1].source
    assert "settings(" in second and "seed_everything(SEED)" in second
    assert second.index("import torch") < second.index("seed_everything(SEED)")


def test_title_and_exercises(nb):
    assert nb.cells[0].source.startswith("# The training loop (PyTorch)\n")
    markdown = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    labels = [line.split(":label:")[1].strip() for line in markdown.splitlines() if line.startswith(":label:")]
    assert len(labels) >= 3 and len(set(labels)) == len(labels)
    for label in labels:
        assert f"```{{solution-start}} {label}" in markdown
    assert markdown.count("```{solution-start}") == markdown.count("```{solution-end}")


def test_the_exercise_stub_is_blank_and_the_reference_solution_passes(nb):
    cells = [cell.source for cell in code_cells(nb) if cell.source.startswith("def my_discriminator_loss")]
    assert len(cells) == 2, "expected the stub and the reference solution"
    stub, solution = ({"torch": torch, "F": F} for _ in range(2))
    exec(cells[0], stub)
    with pytest.raises(NotImplementedError, match="Exercise 3.1"):
        stub["my_discriminator_loss"](torch.zeros(1, 1), torch.zeros(1, 1))
    exec(cells[1].split("\ncheck_discriminator_loss")[0], solution)
    assert check_discriminator_loss(solution["my_discriminator_loss"], verbose=False)


def test_deterministic_cells_do_not_depend_on_the_profile(nb):
    """NBVAL_CHECK_OUTPUT cells are compared in the smoke run against the full run's outputs."""
    for cell in code_cells(nb):
        if cell.source.startswith("# NBVAL_CHECK_OUTPUT"):
            assert "cfg." not in cell.source, cell.source[:80]
