"""The MNIST models of chapters 4 and 5 in both frameworks: shapes, ranges, init, parity.

With the PyTorch weights copied into the Keras twins (``copy_weights_torch_to_tf``), the
generators' images, the discriminators' logits and chapter 3's losses agree within
1e-5 (BatchNorm in inference mode, with non-trivial running statistics), and the
parameter counts are equal (BatchNorm running statistics are not parameters).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
torch = pytest.importorskip("torch")
tf = pytest.importorskip("tensorflow")
import keras  # noqa: E402

from gan_utils.tensorflow import losses as tf_losses  # noqa: E402
from gan_utils.tensorflow import mnist as km  # noqa: E402
from gan_utils.tensorflow.models import count_parameters as tf_count_with_buffers  # noqa: E402
from gan_utils.torch import losses as torch_losses  # noqa: E402
from gan_utils.torch import mnist as tm  # noqa: E402
from gan_utils.torch.models import count_parameters  # noqa: E402

TOL = 1e-5
GENERATORS = ["mlp_generator", "dcgan_generator"]
DISCRIMINATORS = ["mlp_discriminator", "dcgan_discriminator"]
# The default models' parameter counts, worked out in the docstrings.
COUNTS = {"mlp_generator": 559_632, "mlp_discriminator": 533_505, "dcgan_generator": 759_681, "dcgan_discriminator": 37_138}

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def build(name, framework, seed=0):
    if framework == "torch":
        torch.manual_seed(seed)
        return getattr(tm, name)()
    keras.utils.set_random_seed(seed)
    return getattr(km, name)()


def noise(n=32, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 100)).astype(np.float32)


def real_like(n=32, seed=1):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 28, 28)).astype(np.float32)


def to_nchw(x):
    return torch.from_numpy(x[:, None])


def stir_batchnorm(model, seed=0):
    """Give every BatchNorm non-trivial running statistics and shift, so that parity means something."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0.0, 0.5, generator=g)
                m.running_var.uniform_(0.5, 2.0, generator=g)
                m.bias.normal_(0.0, 0.1, generator=g)
    return model


@pytest.mark.parametrize("name", GENERATORS + DISCRIMINATORS)
def test_parameter_counts_are_equal_across_frameworks(name):
    pt, tk = build(name, "torch"), build(name, "tf")
    assert count_parameters(pt) == km.trainable_parameter_count(tk) == COUNTS[name]
    # Keras also counts BatchNorm's moving mean and variance (PyTorch buffers) as weights.
    bn_channels = sum(m.num_features for m in pt.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert tf_count_with_buffers(tk) == COUNTS[name] + 2 * bn_channels


@pytest.mark.parametrize("name", GENERATORS)
def test_generators_make_images_in_the_tanh_range(name):
    z = noise(16) * 10.0  # large inputs push tanh into saturation
    pt, tk = build(name, "torch"), build(name, "tf")
    with torch.no_grad():
        images = pt(torch.from_numpy(z))
    assert images.shape == (16, 1, 28, 28) and images.dtype == torch.float32
    assert float(images.min()) >= -1.0 and float(images.max()) <= 1.0
    out = tk(z, training=True).numpy()
    assert out.shape == (16, 28, 28, 1) and out.dtype == np.float32
    assert out.min() >= -1.0 and out.max() <= 1.0
    assert out.std() > 0


@pytest.mark.parametrize("name", DISCRIMINATORS)
def test_discriminators_output_one_logit_per_image_or_group(name):
    x = real_like(8)
    pt, tk = build(name, "torch"), build(name, "tf")
    groups = 8 // tm.DCGAN_PACK if name == "dcgan_discriminator" else 8  # chapter 5's D judges pairs
    assert tm.discriminator_pack(pt) == km.discriminator_pack(tk) == 8 // groups
    with torch.no_grad():
        assert pt(to_nchw(x)).shape == (groups, 1)
    assert tuple(tk(x[..., None], training=False).shape) == (groups, 1)


def test_dcgan_feature_maps_grow_7_14_28_and_shrink_14_7_1():
    pt, tk = build("dcgan_generator", "torch"), build("dcgan_generator", "tf")
    x = torch.from_numpy(noise(2))
    shapes = []
    with torch.no_grad():
        for layer in pt:
            x = layer(x)
            if isinstance(layer, (torch.nn.Unflatten, torch.nn.ConvTranspose2d)):
                shapes.append(tuple(x.shape[1:]))
    w = tm.DCGAN_GENERATOR_WIDTH
    assert shapes == [(2 * w, 7, 7), (w, 14, 14), (1, 28, 28)]
    kinds = (keras.layers.Reshape, keras.layers.Conv2DTranspose)
    tk_shapes = [tuple(layer.output.shape[1:]) for layer in tk.layers if isinstance(layer, kinds)]
    assert tk_shapes == [(7, 7, 2 * w), (14, 14, w), (28, 28, 1)]
    td, w = build("dcgan_discriminator", "tf"), tm.DCGAN_DISCRIMINATOR_WIDTH
    assert [tuple(layer.output.shape[1:]) for layer in td.layers if isinstance(layer, keras.layers.Conv2D)] == [
        (14, 14, w), (7, 7, 2 * w), (1, 1, 1)]


@pytest.mark.parametrize("name", GENERATORS)
def test_generators_agree_with_copied_weights(name):
    pt = stir_batchnorm(build(name, "torch")).eval()
    tk = km.copy_weights_torch_to_tf(pt, build(name, "tf", seed=1))
    z = noise(64, seed=2) * 2.0
    with torch.no_grad():
        expected = pt(torch.from_numpy(z)).numpy().transpose(0, 2, 3, 1)  # NCHW -> NHWC
    got = tk(z, training=False).numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOL)


@pytest.mark.parametrize("name", DISCRIMINATORS)
def test_discriminators_agree_with_copied_weights(name):
    pt = stir_batchnorm(build(name, "torch")).eval()
    tk = km.copy_weights_torch_to_tf(pt, build(name, "tf", seed=1))
    x = real_like(64, seed=3)
    with torch.no_grad():
        expected = pt(to_nchw(x)).numpy()
    got = tk(x[..., None], training=False).numpy()
    assert np.abs(expected).max() > 0.01  # not a trivially tiny logit
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOL)


@pytest.mark.parametrize("kind", ["mlp", "dcgan"])
def test_losses_agree_end_to_end(kind):
    """Real images and G(z) through D into chapter 3's losses, in both frameworks."""
    g_pt = stir_batchnorm(build(f"{kind}_generator", "torch")).eval()
    d_pt = stir_batchnorm(build(f"{kind}_discriminator", "torch"), seed=1).eval()
    g_tf = km.copy_weights_torch_to_tf(g_pt, build(f"{kind}_generator", "tf", seed=2))
    d_tf = km.copy_weights_torch_to_tf(d_pt, build(f"{kind}_discriminator", "tf", seed=3))
    z, x = noise(48, seed=4), real_like(48, seed=5)
    with torch.no_grad():
        real_pt, fake_pt = d_pt(to_nchw(x)), d_pt(g_pt(torch.from_numpy(z)))
        expected = [
            float(torch_losses.discriminator_loss(real_pt, fake_pt)),
            float(torch_losses.discriminator_loss(real_pt, fake_pt, real_label=0.9)),
            float(torch_losses.generator_loss(fake_pt)),
            float(torch_losses.generator_loss(fake_pt, kind="saturating")),
        ]
    real_tf = d_tf(x[..., None], training=False)
    fake_tf = d_tf(g_tf(z, training=False), training=False)
    got = [
        float(tf_losses.discriminator_loss(real_tf, fake_tf)),
        float(tf_losses.discriminator_loss(real_tf, fake_tf, real_label=0.9)),
        float(tf_losses.generator_loss(fake_tf)),
        float(tf_losses.generator_loss(fake_tf, kind="saturating")),
    ]
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOL)


@pytest.mark.parametrize("name", ["dcgan_generator", "dcgan_discriminator"])
def test_training_mode_batchnorm_agrees_too(name):
    """In training mode both normalise with the batch's (biased) variance: same outputs (to float32 noise)."""
    pt = build(name, "torch").train()
    tk = km.copy_weights_torch_to_tf(pt, build(name, "tf", seed=1))
    if name == "dcgan_generator":
        inp = noise(64, seed=6)
        with torch.no_grad():
            expected = pt(torch.from_numpy(inp)).numpy().transpose(0, 2, 3, 1)
        got = tk(inp, training=True).numpy()
    else:
        inp = real_like(64, seed=7)
        with torch.no_grad():
            expected = pt(to_nchw(inp)).numpy()
        got = tk(inp[..., None], training=True).numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)


_TORCH_KERNELS = (torch.nn.Linear, torch.nn.Conv2d, torch.nn.ConvTranspose2d)
_TF_KERNELS = (keras.layers.Dense, keras.layers.Conv2D, keras.layers.Conv2DTranspose)


def _kernels_torch(model):  # the generator's projection (Linear) included
    return [m.weight.detach().numpy() for m in model.modules() if isinstance(m, _TORCH_KERNELS)]


def _kernels_tf(model):
    return [layer.kernel.numpy() for layer in model.layers if isinstance(layer, _TF_KERNELS)]


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_dcgan_initialisation_follows_radford_et_al(framework):
    g, d = build("dcgan_generator", framework), build("dcgan_discriminator", framework)
    if framework == "torch":
        kernels = _kernels_torch(g) + _kernels_torch(d)
        gammas = [m.weight.detach().numpy() for m in list(g.modules()) + list(d.modules()) if isinstance(m, torch.nn.BatchNorm2d)]
        zeros = [m.bias.detach().numpy() for m in list(g.modules()) + list(d.modules())
                 if isinstance(m, _TORCH_KERNELS + (torch.nn.BatchNorm2d,)) and m.bias is not None]
    else:
        kernels = _kernels_tf(g) + _kernels_tf(d)
        bns = [layer for layer in g.layers + d.layers if isinstance(layer, keras.layers.BatchNormalization)]
        gammas = [layer.gamma.numpy() for layer in bns]
        zeros = [layer.beta.numpy() for layer in bns] + [
            layer.bias.numpy() for layer in g.layers + d.layers
            if isinstance(layer, _TF_KERNELS) and layer.bias is not None]
    everything = np.concatenate([k.ravel() for k in kernels])
    assert abs(everything.mean()) < 1e-3 and abs(everything.std() - 0.02) < 5e-4
    largest = max(kernels, key=np.size)  # the projection, 627,200 values: a tight check
    assert largest.size == 100 * 7 * 7 * 2 * tm.DCGAN_GENERATOR_WIDTH and abs(largest.std() - 0.02) < 2e-4
    gamma = np.concatenate(gammas)
    assert abs(gamma.mean() - 1.0) < 0.01 and 0.01 < gamma.std() < 0.03
    assert all(np.all(z == 0) for z in zeros) and len(zeros) >= 4


def _dense_weights(model, framework):
    """(kernel as (fan_in, fan_out), bias) of every fully connected layer."""
    if framework == "torch":
        return [(m.weight.detach().numpy().T, m.bias.detach().numpy()) for m in model.modules()
                if isinstance(m, torch.nn.Linear)]
    return [(layer.kernel.numpy(), layer.bias.numpy()) for layer in model.layers
            if isinstance(layer, keras.layers.Dense)]


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_mlp_initialisation_is_glorot_uniform_with_zero_biases_in_both_twins(framework):
    # PyTorch's nn.Linear default would give U(+-1/sqrt(fan_in)) weights (std 1/sqrt(3 fan_in))
    # and non-zero biases; Glorot-uniform has std sqrt(2/(fan_in+fan_out)), bound sqrt(6/(fan_in+fan_out)).
    layers = _dense_weights(build("mlp_generator", framework), framework) + \
        _dense_weights(build("mlp_discriminator", framework), framework)
    assert len(layers) == 6
    for kernel, bias in layers:
        fan_in, fan_out = kernel.shape
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        assert np.all(bias == 0)
        assert np.abs(kernel).max() <= bound + 1e-7
        if kernel.size >= 10_000:  # enough values for a tight check of the spread
            assert abs(kernel.std() - bound / np.sqrt(3.0)) < 0.03 * bound / np.sqrt(3.0)
            assert abs(kernel.std() - 1 / np.sqrt(3.0 * fan_in)) > 0.1 / np.sqrt(3.0 * fan_in)


def test_init_dcgan_weights_redraws_in_both_frameworks():
    pt = tm.dcgan_discriminator(width=8)
    with torch.no_grad():
        for p in pt.parameters():
            p.fill_(5.0)
    tm.init_dcgan_weights(pt, generator=torch.Generator().manual_seed(0))
    assert all(abs(float(w.std()) - 0.02) < 0.01 for w in _kernels_torch(pt)[:2])
    tk = km.dcgan_discriminator(width=8)
    for v in tk.trainable_variables:
        v.assign(np.full(tuple(v.shape), 5.0, np.float32))
    km.init_dcgan_weights(tk, seed=0)
    first = [v.numpy().copy() for v in tk.trainable_variables]
    km.init_dcgan_weights(tk, seed=0)
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(first, tk.trainable_variables))
    assert all(abs(float(w.std()) - 0.02) < 0.01 for w in _kernels_tf(tk)[:2])
    with pytest.raises(TypeError, match="torch.nn.Module"):
        tm.init_dcgan_weights("model")
    with pytest.raises(TypeError, match="keras Model"):
        km.init_dcgan_weights("model")


def test_widths_and_slopes_are_arguments_and_are_checked():
    assert count_parameters(tm.dcgan_generator(latent_dim=8, width=4)) == km.trainable_parameter_count(
        km.dcgan_generator(latent_dim=8, width=4))
    assert count_parameters(tm.mlp_generator(8, hidden=(16,))) == km.trainable_parameter_count(
        km.mlp_generator(8, hidden=(16,)))
    for module in (tm, km):
        with pytest.raises(ValueError, match=r"dcgan_generator: width must be a positive int, got 0"):
            module.dcgan_generator(width=0)
        with pytest.raises(ValueError, match=r"dcgan_discriminator: negative_slope must be a number in \[0, 1\)"):
            module.dcgan_discriminator(negative_slope=1.0)
        with pytest.raises(ValueError, match=r"mlp_generator: latent_dim must be a positive int"):
            module.mlp_generator(latent_dim=-3)
        with pytest.raises(TypeError, match=r"mlp_discriminator: hidden must be a non-empty sequence"):
            module.mlp_discriminator(hidden="512")


def test_copy_weights_refuses_models_that_are_not_twins():
    with pytest.raises(ValueError, match="weighted layers"):
        km.copy_weights_torch_to_tf(tm.mlp_generator(), km.dcgan_generator())
    with pytest.raises(ValueError, match="shape"):
        km.copy_weights_torch_to_tf(tm.dcgan_generator(width=8), km.dcgan_generator(width=16))
    with pytest.raises(TypeError, match="torch_model must be a torch.nn.Module"):
        km.copy_weights_torch_to_tf(km.mlp_generator(), km.mlp_generator())


def test_the_twins_share_names_signatures_and_defaults():
    import inspect

    from gan_utils.tensorflow import fit as tf_fit
    from gan_utils.torch import fit as torch_fit

    pairs = [(getattr(tm, name), getattr(km, name)) for name in GENERATORS + DISCRIMINATORS + ["init_dcgan_weights"]]
    pairs += [(torch_fit.fit, tf_fit.fit), (torch_fit.load_checkpoint, tf_fit.load_checkpoint)]
    assert (tm.DCGAN_GENERATOR_WIDTH, tm.DCGAN_DISCRIMINATOR_WIDTH, tm.DCGAN_PACK) == (
        km.DCGAN_GENERATOR_WIDTH, km.DCGAN_DISCRIMINATOR_WIDTH, km.DCGAN_PACK) == (64, 32, 2)
    for pt, tk in pairs:
        pt_sig, tk_sig = inspect.signature(pt), inspect.signature(tk)
        if pt.__name__ == "init_dcgan_weights":  # the random source differs: torch.Generator vs seed
            assert list(pt_sig.parameters)[0] == list(tk_sig.parameters)[0] == "model"
            continue
        assert list(pt_sig.parameters) == list(tk_sig.parameters), pt.__name__
        for param in pt_sig.parameters.values():
            other = tk_sig.parameters[param.name]
            assert (other.default, other.kind) == (param.default, param.kind), (pt.__name__, param.name)
        used = [line.strip() for line in pt.__doc__.split(".") if "Used in chapter" in line]
        assert used and used == [line.strip() for line in tk.__doc__.split(".") if "Used in chapter" in line], pt.__name__
