"""Chapter 3's twins agree: the PyTorch and TensorFlow models and losses of gan_utils.

Same parameter counts; with the PyTorch weights copied into the Keras models (a
``Linear`` weight ``(out, in)`` is a ``Dense`` kernel ``(in, out)``) the outputs agree
within 1e-5, and so do both losses (both generator kinds) on the same logits.
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
from gan_utils.tensorflow import models as tf_models  # noqa: E402
from gan_utils.torch import losses as torch_losses  # noqa: E402
from gan_utils.torch import models as torch_models  # noqa: E402

TOL = 1e-5

# (latent_dim, data_dim, hidden): chapter 3's 1-D and 2-D models, and the defaults with other widths.
GENERATORS = [(1, 1, (64, 64)), (2, 2, (64, 64)), (4, 3, (32, 16, 8))]
DISCRIMINATORS = [(1, (64, 64), 0.2), (2, (64, 64), 0.2), (3, (32, 16, 8), 0.1)]


def copy_torch_into_keras(torch_model, keras_model):
    """Copy every ``nn.Linear`` into the matching ``Dense`` (same order), transposing the weight."""
    linears = [m for m in torch_model.modules() if isinstance(m, torch.nn.Linear)]
    denses = [layer for layer in keras_model.layers if isinstance(layer, keras.layers.Dense)]
    assert len(linears) == len(denses)
    for linear, dense in zip(linears, denses):
        assert tuple(dense.kernel.shape) == tuple(linear.weight.shape[::-1])
        dense.kernel.assign(linear.weight.detach().numpy().T)
        dense.bias.assign(linear.bias.detach().numpy())


def inputs(n, dim, seed):
    return np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32) * 2.0


@pytest.mark.parametrize("latent_dim, data_dim, hidden", GENERATORS)
def test_generators_agree(latent_dim, data_dim, hidden):
    torch.manual_seed(0)
    pt = torch_models.mlp_generator(latent_dim, data_dim, hidden=hidden)
    tk = tf_models.mlp_generator(latent_dim, data_dim, hidden=hidden)
    assert tf_models.count_parameters(tk) == torch_models.count_parameters(pt)
    copy_torch_into_keras(pt, tk)
    z = inputs(257, latent_dim, seed=1)
    with torch.no_grad():
        expected = pt(torch.from_numpy(z)).numpy()
    got = tk(z, training=False).numpy()
    assert got.shape == expected.shape == (257, data_dim)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOL)


@pytest.mark.parametrize("data_dim, hidden, slope", DISCRIMINATORS)
def test_discriminators_agree(data_dim, hidden, slope):
    torch.manual_seed(1)
    pt = torch_models.mlp_discriminator(data_dim, hidden=hidden, negative_slope=slope)
    tk = tf_models.mlp_discriminator(data_dim, hidden=hidden, negative_slope=slope)
    assert tf_models.count_parameters(tk) == torch_models.count_parameters(pt)
    copy_torch_into_keras(pt, tk)
    x = inputs(257, data_dim, seed=2)
    with torch.no_grad():
        expected = pt(torch.from_numpy(x)).numpy()
    got = tk(x, training=False).numpy()
    assert got.shape == expected.shape == (257, 1)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOL)


def test_the_chapters_gan_agrees_end_to_end():
    """Generator into discriminator into both losses: the chain of one training step."""
    torch.manual_seed(2)
    g_pt, d_pt = torch_models.mlp_generator(2, 2), torch_models.mlp_discriminator(2)
    g_tf, d_tf = tf_models.mlp_generator(2, 2), tf_models.mlp_discriminator(2)
    copy_torch_into_keras(g_pt, g_tf)
    copy_torch_into_keras(d_pt, d_tf)
    z, real = inputs(128, 2, seed=3), inputs(128, 2, seed=4)
    with torch.no_grad():
        fake_pt = d_pt(g_pt(torch.from_numpy(z)))
        real_pt = d_pt(torch.from_numpy(real))
        pt_values = [
            float(torch_losses.discriminator_loss(real_pt, fake_pt)),
            float(torch_losses.generator_loss(fake_pt)),
            float(torch_losses.generator_loss(fake_pt, kind="saturating")),
        ]
    fake_tf, real_tf = d_tf(g_tf(z)), d_tf(real)
    tf_values = [
        float(tf_losses.discriminator_loss(real_tf, fake_tf)),
        float(tf_losses.generator_loss(fake_tf)),
        float(tf_losses.generator_loss(fake_tf, kind="saturating")),
    ]
    np.testing.assert_allclose(tf_values, pt_values, rtol=0, atol=TOL)


@pytest.mark.parametrize("real_label", [1.0, 0.9])
@pytest.mark.parametrize("scale", [1.0, 30.0, 100.0])
def test_losses_agree_on_the_same_logits(real_label, scale):
    rng = np.random.default_rng(int(scale) + int(10 * real_label))
    real = (rng.normal(size=(64, 1)) * scale).astype(np.float32)
    fake = (rng.normal(size=(48, 1)) * scale).astype(np.float32)
    pt_real, pt_fake = torch.from_numpy(real), torch.from_numpy(fake)
    tf_real, tf_fake = tf.constant(real), tf.constant(fake)
    pairs = [
        (
            torch_losses.discriminator_loss(pt_real, pt_fake, real_label=real_label),
            tf_losses.discriminator_loss(tf_real, tf_fake, real_label=real_label),
        )
    ]
    for kind in ("nonsaturating", "saturating"):
        pairs.append((torch_losses.generator_loss(pt_fake, kind=kind), tf_losses.generator_loss(tf_fake, kind=kind)))
    for pt_value, tf_value in pairs:
        pt_value, tf_value = float(pt_value), float(tf_value)
        assert np.isfinite(pt_value) and np.isfinite(tf_value)
        # 1e-5 absolute, or relative for losses that are large because the logits are (scale 100).
        assert abs(tf_value - pt_value) <= TOL * max(1.0, abs(pt_value)), (pt_value, tf_value)


def test_the_twins_expose_the_same_api():
    import inspect

    import gan_utils.tensorflow as tf_half
    import gan_utils.torch as torch_half

    assert set(torch_half.__all__) <= set(tf_half.__all__)
    assert tf_half.GENERATOR_LOSS_KINDS == torch_half.GENERATOR_LOSS_KINDS
    assert tf_half.UPDATES == torch_half.UPDATES
    for name in ("discriminator_loss", "generator_loss", "mlp_generator", "mlp_discriminator", "train_step"):
        tf_sig = inspect.signature(getattr(tf_half, name))
        pt_sig = inspect.signature(getattr(torch_half, name))
        assert list(tf_sig.parameters) == list(pt_sig.parameters), name
        for param in pt_sig.parameters.values():
            assert tf_sig.parameters[param.name].default == param.default, (name, param.name)
            assert tf_sig.parameters[param.name].kind == param.kind, (name, param.name)
