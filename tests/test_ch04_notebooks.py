"""Chapter 4 (both twins): the models written out in the notebook are the package's models.

The notebook's model-defining cell (the one that defines ``build_generator`` and
``build_discriminator``) is taken from the notebook with nbformat and executed on its
own; its models must have the package's parameter counts and, with the notebook's
weights copied into the package's models, give the same outputs.  Also checks the
chapter's conventions: the tagged parameters cell, training with the package's ``fit``,
shipped weights through ``gan_utils.pretrained``, the exercises' stubs and solutions.
"""

from __future__ import annotations

import ast

import nbformat
import numpy as np
import pytest

from gan_utils import REPO_ROOT
from gan_utils.exercises.mlp_gan import check_mlp_discriminator, check_scale_images
from notebook_cells import code_cells, defined_functions, only_cell, run_cell

CHAPTERS = REPO_ROOT / "chapters"
NOTEBOOKS = {"torch": CHAPTERS / "04_mlp_gan_pytorch.ipynb", "tensorflow": CHAPTERS / "04_mlp_gan_tensorflow.ipynb"}
G_PARAMETERS, D_PARAMETERS = 559_632, 533_505


def assert_glorot_uniform(layers):
    """Every (kernel (fan_in, fan_out), bias) pair: zero bias, weights within the Glorot bound and with its spread."""
    assert len(layers) == 3
    for kernel, bias in layers:
        fan_in, fan_out = kernel.shape
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        assert np.all(bias == 0)
        assert np.abs(kernel).max() <= bound + 1e-7
        assert abs(kernel.std() - bound / np.sqrt(3.0)) < 0.03 * bound / np.sqrt(3.0)


@pytest.fixture(scope="module", params=sorted(NOTEBOOKS))
def chapter(request):
    return request.param, nbformat.read(NOTEBOOKS[request.param], as_version=4)


def model_cell(nb):
    return only_cell(nb, "build_generator", "build_discriminator")


def test_parameters_cell_first_and_tagged(chapter):
    _, nb = chapter
    first = code_cells(nb)[0]
    assert "parameters" in first.metadata.get("tags", [])
    values = {}
    for node in ast.parse(first.source).body:
        assert isinstance(node, ast.Assign), "the parameters cell holds plain assignments only"
        values[node.targets[0].id] = ast.literal_eval(node.value)
    assert values["SEED"] == 0
    for knob in ("EPOCHS", "BATCH_SIZE", "TRAIN_FROM_SCRATCH"):
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
    assert sources.count("pretrained_path(G_FILE") >= 1 and sources.count("pretrained_path(D_FILE") >= 1
    assert "publish(" in sources


def test_deterministic_cells_are_checked(chapter):
    _, nb = chapter
    checked = [c for c in code_cells(nb) if c.source.startswith("# NBVAL_CHECK_OUTPUT")]
    assert checked and any("count_params" in c.source or "count_parameters" in c.source for c in checked)


def test_notebook_models_are_the_package_models_torch():
    torch = pytest.importorskip("torch")
    from gan_utils.torch import count_parameters
    from gan_utils.torch.mnist import mlp_discriminator, mlp_generator

    nb = nbformat.read(NOTEBOOKS["torch"], as_version=4)
    ns = run_cell(model_cell(nb), {}, "models")
    torch.manual_seed(0)
    G, D = ns["build_generator"](), ns["build_discriminator"]()
    G_pkg, D_pkg = mlp_generator(), mlp_discriminator()
    assert count_parameters(G) == count_parameters(G_pkg) == G_PARAMETERS
    assert count_parameters(D) == count_parameters(D_pkg) == D_PARAMETERS
    G_pkg.load_state_dict(G.state_dict())
    D_pkg.load_state_dict(D.state_dict())
    z = torch.randn(32, 100, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        images = G(z)
        assert images.shape == (32, 1, 28, 28)
        assert torch.allclose(images, G_pkg(z), rtol=0, atol=1e-6)
        real = torch.rand(32, 1, 28, 28, generator=torch.Generator().manual_seed(2)) * 2 - 1
        for x in (images, real):
            assert torch.allclose(D(x), D_pkg(x), rtol=0, atol=1e-6)
        assert D(real).shape == (32, 1)
    # Same initial distribution as the package (and the TensorFlow twin): Glorot-uniform weights, zero biases.
    torch.manual_seed(0)
    G = ns["build_generator"]()
    assert_glorot_uniform([(m.weight.detach().numpy().T, m.bias.detach().numpy())
                           for m in G.modules() if isinstance(m, torch.nn.Linear)])


def test_notebook_models_are_the_package_models_tensorflow():
    pytest.importorskip("tensorflow")
    import keras

    from gan_utils.tensorflow.mnist import mlp_discriminator, mlp_generator

    nb = nbformat.read(NOTEBOOKS["tensorflow"], as_version=4)
    ns = run_cell(model_cell(nb), {}, "models")
    keras.utils.set_random_seed(0)
    G, D = ns["build_generator"](), ns["build_discriminator"]()
    G_pkg, D_pkg = mlp_generator(), mlp_discriminator()
    assert G.count_params() == G_pkg.count_params() == G_PARAMETERS
    assert D.count_params() == D_pkg.count_params() == D_PARAMETERS
    G_pkg.set_weights(G.get_weights())
    D_pkg.set_weights(D.get_weights())
    rng = np.random.default_rng(1)
    z = rng.standard_normal((32, 100)).astype(np.float32)
    images = np.asarray(G(z, training=False))
    assert images.shape == (32, 28, 28, 1)
    np.testing.assert_allclose(images, np.asarray(G_pkg(z, training=False)), rtol=0, atol=1e-6)
    real = rng.uniform(-1, 1, (32, 28, 28, 1)).astype(np.float32)
    for x in (images, real):
        np.testing.assert_allclose(np.asarray(D(x, training=False)), np.asarray(D_pkg(x, training=False)),
                                   rtol=0, atol=1e-6)
    # Same initial distribution as the package (and the PyTorch twin): Glorot-uniform weights, zero biases.
    assert_glorot_uniform([(w, b) for w, b in zip(G.get_weights()[::2], G.get_weights()[1::2])])


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
    for name, checker in (("my_scale_images", check_scale_images), ("my_discriminator", check_mlp_discriminator)):
        defining = [c for c in cells if name in defined_functions(c)]
        assert len(defining) == 2, f"{name}: expected a stub and a solution, found {len(defining)} cells"
        stub, solution = defining
        fn = run_cell(stub, dict(namespace), "stub")[name]
        with pytest.raises(NotImplementedError, match="Exercise 4"):
            fn() if name == "my_discriminator" else fn(np.zeros((1, 28, 28), np.uint8))
        assert checker(fn, verbose=False).status == "not attempted"
        solution_source = solution.source.split("\n\n\ncheck_")[0]  # the definition, without the checker call
        fn = run_cell(nbformat.v4.new_code_cell(solution_source), dict(namespace), "solution")[name]
        assert checker(fn, verbose=False), f"{name}: the notebook's solution fails its own checker"


def test_checkers_catch_the_classic_mistakes():
    assert check_scale_images(lambda x: x / 255.0, verbose=False).status == "fail"
    assert check_scale_images(lambda x: x.astype(np.float32) / 128 - 1, verbose=False).status == "fail"
    assert check_scale_images(lambda x: x / 127.5 - 1.0, verbose=False).status == "fail"  # float64
    assert check_scale_images(lambda x: (x / 127.5 - 1.0).astype(np.float32), verbose=False)
    torch = pytest.importorskip("torch")
    from torch import nn

    def relu_sigmoid():
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                             nn.Linear(256, 1), nn.Sigmoid())

    def relu_logit():
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                             nn.Linear(256, 1))

    def wrong_size():
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1))

    def no_flatten():
        return nn.Sequential(nn.Linear(784, 512), nn.LeakyReLU(0.2), nn.Linear(512, 256), nn.LeakyReLU(0.2),
                             nn.Linear(256, 1))

    assert "sigmoid" in check_mlp_discriminator(relu_sigmoid, verbose=False).message
    assert "LeakyReLU" in check_mlp_discriminator(relu_logit, verbose=False).message
    assert "533,505" in check_mlp_discriminator(wrong_size, verbose=False).message
    assert check_mlp_discriminator(no_flatten, verbose=False).status == "fail"
    torch.manual_seed(0)
    from gan_utils.torch.mnist import mlp_discriminator

    assert check_mlp_discriminator(mlp_discriminator, verbose=False)
