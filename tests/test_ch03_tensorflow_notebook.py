"""The step taught in chapter 3 (TensorFlow) is the step gan_utils keeps.

The notebook's own ``alternating_step``, ``simultaneous_step`` and ``KerasGAN`` are taken
from the notebook (parsed with nbformat, the defining cells executed after the setup
cell's imports) and run against ``gan_utils.tensorflow.train`` from the same seed and
weights.  With the package's ``tf.function`` switched to eager execution the losses and
weights are identical to the bit; compiled, they agree to float32 rounding.
"""

from __future__ import annotations

import ast
import os

import nbformat
import numpy as np
import pytest

from gan_utils import REPO_ROOT

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
tf = pytest.importorskip("tensorflow")
import keras  # noqa: E402

from gan_utils.tensorflow import models, train  # noqa: E402
from gan_utils.toy import ring_of_gaussians  # noqa: E402

NOTEBOOK = REPO_ROOT / "chapters" / "03_training_loop_tensorflow.ipynb"
LATENT = 2


@pytest.fixture(scope="module")
def nb():
    return nbformat.read(NOTEBOOK, as_version=4)


def code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def defining_cell(nb, header):
    matches = [cell for cell in code_cells(nb) if header in cell.source]
    assert len(matches) == 1, f"expected one cell defining {header!r}, found {len(matches)}"
    return matches[0].source


@pytest.fixture(scope="module")
def namespace(nb):
    """The notebook's imports (from its setup cell), then the cells that define the steps."""
    setup = next(cell.source for cell in code_cells(nb) if "settings(" in cell.source)
    imports = [node for node in ast.parse(setup).body if isinstance(node, (ast.Import, ast.ImportFrom))]
    ns: dict = {}
    exec(compile(ast.Module(body=imports, type_ignores=[]), "setup-imports", "exec"), ns)
    for header in ("def alternating_step(", "def simultaneous_step(", "class KerasGAN("):
        exec(compile(defining_cell(nb, header), f"notebook:{header}", "exec"), ns)
    return ns


@pytest.fixture(scope="module")
def batch():
    return tf.constant(ring_of_gaussians().sample(64, np.random.default_rng(1)))


def start(seed=1):
    keras.utils.set_random_seed(seed)
    g, d = models.mlp_generator(LATENT, 2), models.mlp_discriminator(2)
    adam = lambda: keras.optimizers.Adam(1e-3, beta_1=0.5, epsilon=1e-8)  # noqa: E731
    return g, d, adam(), adam()


def run(step, batch, n=4):
    g, d, opt_g, opt_d = start()
    np.random.seed(2)  # the stream sample_noise draws from
    losses = [step(g, d, opt_g, opt_d, batch) for _ in range(n)]
    return losses, g.get_weights() + d.get_weights()


def package(update="alternating", d_steps=1):
    def step(g, d, opt_g, opt_d, real):
        return train.train_step(g, d, opt_g, opt_d, real, latent_dim=LATENT, d_steps=d_steps, update=update)

    return step


def eagerly(fn):
    tf.config.run_functions_eagerly(True)
    try:
        return fn()
    finally:
        tf.config.run_functions_eagerly(False)


def assert_identical(mine, theirs):
    assert mine[0] == theirs[0], "the losses differ"
    for a, b in zip(mine[1], theirs[1]):
        np.testing.assert_array_equal(a, b)


def assert_close(mine, theirs, tol=1e-6):
    for x, y in zip(mine[0], theirs[0]):
        assert set(x) == set(y) == {"d_loss", "g_loss", "d_real", "d_fake"}
        for key in x:
            assert x[key] == pytest.approx(y[key], abs=tol), key
    for a, b in zip(mine[1], theirs[1]):
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("d_steps", [1, 3])
def test_notebook_alternating_step_is_the_package_step(namespace, batch, d_steps):
    def mine_step(g, d, opt_g, opt_d, real):
        return namespace["alternating_step"](g, d, opt_g, opt_d, real, LATENT, d_steps=d_steps)

    mine = run(mine_step, batch)
    assert_identical(mine, eagerly(lambda: run(package(d_steps=d_steps), batch)))
    assert_close(mine, run(package(d_steps=d_steps), batch))


def test_notebook_simultaneous_step_is_the_package_step(namespace, batch):
    def mine_step(g, d, opt_g, opt_d, real):
        return namespace["simultaneous_step"](g, d, opt_g, opt_d, real, LATENT)

    mine = run(mine_step, batch)
    assert_identical(mine, eagerly(lambda: run(package("simultaneous"), batch)))
    assert_close(mine, run(package("simultaneous"), batch))


def test_notebook_keras_gan_matches_the_package(namespace, batch):
    g, d, opt_g, opt_d = start()
    np.random.seed(2)
    expected = train.train_step(g, d, opt_g, opt_d, batch, latent_dim=LATENT, d_steps=2)
    expected_weights = g.get_weights() + d.get_weights()

    g, d, opt_g, opt_d = start()
    np.random.seed(2)
    noise = [train.sample_noise(64, LATENT) for _ in range(3)]
    gan = namespace["KerasGAN"](g, d, latent_dim=LATENT, d_steps=2)
    gan.draw_noise = lambda batch_size: noise.pop(0)
    gan.compile(d_optimizer=opt_d, g_optimizer=opt_g)
    logs = gan.train_step(batch)
    assert not noise
    for key in ("d_loss", "g_loss"):
        assert float(logs[key]) == pytest.approx(expected[key], abs=1e-6)
    for a, b in zip(expected_weights, g.get_weights() + d.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_notebook_follows_the_book_conventions(nb):
    cells = code_cells(nb)
    assert nb.cells[0].source.startswith("# The training loop (TensorFlow)")
    assert "parameters" in cells[0].metadata.get("tags", [])
    assert "settings(" in cells[1].source and "seed_everything(SEED)" in cells[1].source
    assert cells[1].source.index("import tensorflow") < cells[1].source.index("seed_everything(SEED)")
    assert 'plt.rcParams["figure.dpi"] = 80' in cells[1].source
    checked = [cell for cell in cells if cell.source.startswith("# NBVAL_CHECK_OUTPUT")]
    assert len(checked) >= 5
    text = "\n".join(cell.source for cell in nb.cells)
    exercises = text.count("```{exercise}")
    assert exercises >= 3
    assert text.count("```{solution-start}") == exercises == text.count("```{solution-end}")
    for cell in nb.cells:  # every directive fence is closed in its own cell
        if cell.cell_type == "markdown" and "```{" in cell.source:
            assert cell.source.count("```") % 2 == 0, cell.source[:80]
    stub = next(cell.source for cell in cells if 'raise NotImplementedError("Exercise' in cell.source)
    assert "def my_discriminator_loss" in stub
    assert "from gan_utils.exercises.training_tf import check_discriminator_loss" in text
    for label in ("tf-why-own-variables", "tf-train-and-eval-modes", "tf-simultaneous-or-alternating"):
        assert f"({label})=" in text  # labels distinct from the PyTorch twin's (Sphinx labels are global)
