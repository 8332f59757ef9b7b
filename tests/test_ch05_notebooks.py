"""Chapter 5 (both twins): the models and the training step written out in the notebooks are the package's.

The notebook's model cell (the one defining ``build_generator`` and ``build_discriminator``)
and its training-step cell are taken from the notebook with nbformat and executed on their
own.  The models must start from the package's weights (same seed, same layers in the same
order), have the package's parameter counts and give the same outputs; the notebook's
``train_step`` must give the package's losses and weights after a few steps.  Also checks the
chapter's conventions: the tagged parameters cell, training with ``fit``, the shipped weights
through ``gan_utils.pretrained``, the snapshot file, the quality targets printed as pass/fail
lines, the exercises' stubs and solutions.
"""

from __future__ import annotations

import ast

import nbformat
import numpy as np
import pytest

from gan_utils import REPO_ROOT
from gan_utils.exercises.dcgan import check_conv_output_size, check_discriminator_block, check_slerp
from notebook_cells import code_cells, defined_functions, only_cell, run_cell

CHAPTERS = REPO_ROOT / "chapters"
NOTEBOOKS = {"torch": CHAPTERS / "05_dcgan_pytorch.ipynb", "tensorflow": CHAPTERS / "05_dcgan_tensorflow.ipynb"}
G_PARAMETERS, D_PARAMETERS = 759_681, 37_138  # G width 64; D width 32, pairs, minibatch std




def available():
    return sorted(name for name, path in NOTEBOOKS.items() if path.exists())


@pytest.fixture(scope="module", params=available())
def chapter(request):
    return request.param, nbformat.read(NOTEBOOKS[request.param], as_version=4)


def test_parameters_cell_first_and_tagged(chapter):
    _, nb = chapter
    first = code_cells(nb)[0]
    assert "parameters" in first.metadata.get("tags", [])
    values = {}
    for node in ast.parse(first.source).body:
        assert isinstance(node, ast.Assign), "the parameters cell holds plain assignments only"
        values[node.targets[0].id] = ast.literal_eval(node.value)
    assert values["SEED"] == 0
    for knob in ("EPOCHS", "BATCH_SIZE", "TRAIN_FROM_SCRATCH", "N_EVAL"):
        assert knob in values and values[knob] is None, f"{knob} must default to None (the profile decides)"
    sources = "\n".join(c.source for c in code_cells(nb))
    assert "settings(" in sources and "seed_everything(SEED)" in sources
    assert "train_from_scratch=True" in sources and "train_from_scratch=False" in sources


def test_trains_with_the_package_fit_and_uses_checked_weights(chapter):
    framework, nb = chapter
    sources = "\n".join(c.source for c in code_cells(nb))
    module = "gan_utils.torch.fit" if framework == "torch" else "gan_utils.tensorflow.fit"
    assert f"from {module} import fit" in sources
    assert "history = fit(G, D, real_images" in sources
    assert "pretrained_path(G_FILE" in sources and "pretrained_path(D_FILE" in sources
    assert "publish(" in sources
    if framework == "torch":
        assert "save_dcgan_snapshots(" in sources and "load_dcgan_snapshots()" in sources
    # the quality targets are measured and printed as pass/fail lines
    for needle in ("class_coverage(", "fid_from_features(", "<= 0.05", "15 * floor", "'pass' if met else 'FAIL'"):
        assert needle in sources, f"{needle!r} missing from the notebook"


def test_deterministic_cells_are_checked(chapter):
    _, nb = chapter
    checked = [c for c in code_cells(nb) if c.source.startswith("# NBVAL_CHECK_OUTPUT")]
    assert any("count_params" in c.source or "count_parameters" in c.source for c in checked)
    assert any("package_train_step" in c.source for c in checked)


def test_notebook_models_are_the_package_models_torch():
    torch = pytest.importorskip("torch")
    from gan_utils.torch import count_parameters
    from gan_utils.torch.mnist import dcgan_discriminator, dcgan_generator

    nb = nbformat.read(NOTEBOOKS["torch"], as_version=4)
    ns = run_cell(only_cell(nb, "build_generator", "build_discriminator"), {}, "models")
    torch.manual_seed(3)
    G, D = ns["build_generator"](), ns["build_discriminator"]()
    torch.manual_seed(3)
    G_pkg, D_pkg = dcgan_generator(), dcgan_discriminator()
    assert count_parameters(G) == count_parameters(G_pkg) == G_PARAMETERS
    assert count_parameters(D) == count_parameters(D_pkg) == D_PARAMETERS
    for mine, theirs in ((G, G_pkg), (D, D_pkg)):  # same initialisation, draw for draw
        a, b = mine.state_dict(), theirs.state_dict()
        assert list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)
    # initialisation statistics: N(0, 0.02) weights, N(1, 0.02) BatchNorm scales, zero biases
    w = G[0].weight.detach()  # the projection (Linear)
    assert abs(float(w.mean())) < 0.002 and abs(float(w.std()) - 0.02) < 0.001
    assert abs(float(G[2].weight.detach().mean()) - 1) < 0.01 and float(D[1].bias.detach().abs().max()) == 0.0
    assert D[1].in_channels == 2 and D[-2].in_channels == 2 * 32 + 1  # a pair in, the minibatch-std channel added
    z = torch.randn(32, 100, generator=torch.Generator().manual_seed(1))
    for mode in ("train", "eval"):
        for m in (G, D, G_pkg, D_pkg):
            m.train(mode == "train")
        with torch.no_grad():
            images = G(z)
            assert images.shape == (32, 1, 28, 28)
            assert torch.allclose(images, G_pkg(z), rtol=0, atol=1e-6)
            logits = D(images)  # once: in train mode each call updates BatchNorm's running statistics
            assert logits.shape == (16, 1)  # one logit per pair
            assert torch.allclose(logits, D_pkg(images), rtol=0, atol=1e-6)


def test_notebook_train_step_is_the_package_step_torch():
    torch = pytest.importorskip("torch")
    from gan_utils.torch.train import train_step as package_step

    nb = nbformat.read(NOTEBOOKS["torch"], as_version=4)
    ns = run_cell(only_cell(nb, "build_generator", "build_discriminator"), {}, "models")
    ns = run_cell(only_cell(nb, "train_step"), ns, "train step")
    real = torch.rand(4, 16, 1, 28, 28, generator=torch.Generator().manual_seed(2)) * 2 - 1

    def run(step):
        torch.manual_seed(0)
        G, D = ns["build_generator"](), ns["build_discriminator"]()
        g_opt = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        d_opt = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        out = [step(G, D, g_opt, d_opt, batch, latent_dim=100) for batch in real]
        return out, [p.detach().clone() for p in [*G.parameters(), *D.parameters()]]

    mine, mine_params = run(ns["train_step"])
    theirs, their_params = run(package_step)
    for a, b in zip(mine, theirs):
        assert set(a) == set(b) == {"d_loss", "g_loss", "d_real", "d_fake"}
        np.testing.assert_allclose([a[k] for k in sorted(a)], [b[k] for k in sorted(b)], rtol=0, atol=1e-6)
    for p, q in zip(mine_params, their_params):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-6)
    torch.manual_seed(0)
    untouched = ns["build_generator"]()
    assert not torch.equal(next(untouched.parameters()), mine_params[0]), "four steps left the generator unchanged"


def test_notebook_models_are_the_package_models_tensorflow():
    if not NOTEBOOKS["tensorflow"].exists():
        pytest.skip("the TensorFlow twin is not written yet")
    pytest.importorskip("tensorflow")
    import keras

    from gan_utils.tensorflow.mnist import dcgan_discriminator, dcgan_generator, trainable_parameter_count

    nb = nbformat.read(NOTEBOOKS["tensorflow"], as_version=4)
    ns = run_cell(only_cell(nb, "build_generator", "build_discriminator"), {}, "models")
    keras.utils.set_random_seed(0)
    G, D = ns["build_generator"](), ns["build_discriminator"]()
    G_pkg, D_pkg = dcgan_generator(), dcgan_discriminator()
    assert trainable_parameter_count(G) == trainable_parameter_count(G_pkg) == G_PARAMETERS
    assert trainable_parameter_count(D) == trainable_parameter_count(D_pkg) == D_PARAMETERS
    G_pkg.set_weights(G.get_weights())
    D_pkg.set_weights(D.get_weights())
    rng = np.random.default_rng(1)
    z = rng.standard_normal((32, 100)).astype(np.float32)
    for training in (True, False):
        images = np.asarray(G(z, training=training))
        assert images.shape == (32, 28, 28, 1)
        np.testing.assert_allclose(images, np.asarray(G_pkg(z, training=training)), rtol=0, atol=1e-5)
        np.testing.assert_allclose(np.asarray(D(images, training=training)),
                                   np.asarray(D_pkg(images, training=training)), rtol=0, atol=1e-5)
    kernel = G.get_weights()[0]
    assert abs(kernel.std() - 0.02) < 0.001 and abs(kernel.mean()) < 0.002


def test_notebook_train_step_is_the_package_step_tensorflow():
    if not NOTEBOOKS["tensorflow"].exists():
        pytest.skip("the TensorFlow twin is not written yet")
    tf = pytest.importorskip("tensorflow")
    import keras

    from gan_utils.tensorflow.train import train_step as package_step

    nb = nbformat.read(NOTEBOOKS["tensorflow"], as_version=4)
    ns = run_cell(only_cell(nb, "build_generator", "build_discriminator"), {"np": np, "tf": tf}, "models")
    ns = run_cell(only_cell(nb, "train_step"), ns, "train step")
    from gan_utils.data import load_mnist

    real = load_mnist("train", dtype="float32", limit=48)[0].reshape(3, 16, 28, 28, 1)

    def run(step):
        keras.utils.set_random_seed(0)
        G, D = ns["build_generator"](), ns["build_discriminator"]()
        g_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
        d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
        tf.random.set_seed(5)
        out = [step(G, D, g_opt, d_opt, tf.constant(batch), latent_dim=100) for batch in real]
        return out, [np.array(w) for w in [*G.get_weights(), *D.get_weights()]]

    mine, mine_weights = run(ns["train_step"])
    theirs, their_weights = run(package_step)
    # the package's step is a tf.function graph, which may sum in another order: float32 rounding only
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose([float(a[k]) for k in sorted(a)], [float(b[k]) for k in sorted(b)], rtol=0, atol=1e-4)
    # Adam divides by the root of the squared gradients: where a gradient is almost 0, rounding can move a
    # weight by up to a learning rate (2e-4); all but a few weights must agree to 1e-5 (a wrong step moves all)
    agree = np.mean(np.concatenate([np.abs(p - q).ravel() <= 1e-5 for p, q in zip(mine_weights, their_weights)]))
    assert agree > 0.99, f"only {100 * agree:.2f} % of the weights agree"
    assert max(np.abs(p - q).max() for p, q in zip(mine_weights, their_weights)) <= 3 * 2e-4
    keras.utils.set_random_seed(0)
    untouched = ns["build_generator"]().get_weights()[0]
    assert np.abs(untouched - mine_weights[0]).max() > 1e-4, "three steps left the generator unchanged"


def test_exercises_stubs_and_solutions(chapter):
    framework, nb = chapter
    cells = code_cells(nb)
    namespace = {"np": np}
    if framework == "torch":
        import torch
        from torch import nn

        namespace.update(torch=torch, nn=nn)
    else:
        import keras

        namespace["keras"] = keras
    exercises = (
        ("my_output_size", check_conv_output_size, (28, 4, 2, 1, False)),
        ("my_discriminator_block", check_discriminator_block, (1, 8, False)),
        ("my_slerp", check_slerp, (np.ones(3), np.arange(3.0), 0.5)),
    )
    for name, checker, args in exercises:
        defining = [c for c in cells if name in defined_functions(c)]
        assert len(defining) == 2, f"{name}: expected a stub and a solution, found {len(defining)} cells"
        stub, solution = defining
        fn = run_cell(stub, dict(namespace), "stub")[name]
        with pytest.raises(NotImplementedError, match="Exercise 5"):
            fn(*args)
        assert checker(fn, verbose=False).status == "not attempted"
        solution_source = solution.source.split("\n\n\ncheck_")[0]  # the definition, without the checker call
        fn = run_cell(nbformat.v4.new_code_cell(solution_source), dict(namespace), "solution")[name]
        assert checker(fn, verbose=False), f"{name}: the notebook's solution fails its own checker"
