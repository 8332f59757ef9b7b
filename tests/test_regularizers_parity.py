"""The regularisers of both halves agree: gan_utils.torch.regularizers vs gan_utils.tensorflow.regularizers.

With the PyTorch weights copied into Keras models (a ``Linear`` weight ``(out, in)`` is a
``Dense`` kernel ``(in, out)``; a ``Conv2d`` weight ``(out, in, kh, kw)`` is a ``Conv2D``
kernel ``(kh, kw, in, out)``) and the same interpolation weights ``epsilon``, the gradient
penalty, R1 and their gradients with respect to the critic's weights agree within 1e-5
(relative for the gradients); so do the spectral norms, the clipping and the
Wasserstein losses.
"""

from __future__ import annotations

import inspect
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
torch = pytest.importorskip("torch")
tf = pytest.importorskip("tensorflow")
import keras  # noqa: E402

from gan_utils.tensorflow import losses as tf_losses  # noqa: E402
from gan_utils.tensorflow import models as tf_models  # noqa: E402
from gan_utils.tensorflow import regularizers as tf_reg  # noqa: E402
from gan_utils.torch import losses as torch_losses  # noqa: E402
from gan_utils.torch import models as torch_models  # noqa: E402
from gan_utils.torch import regularizers as torch_reg  # noqa: E402

TOL = 1e-5

# float(penalty) on a tensor that keeps its graph is what these tests mean to do.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad=True to a scalar"),
    pytest.mark.usefixtures("torch_one_thread"),
]


def copy_linears(torch_model, keras_model):
    """Copy every ``nn.Linear`` into the matching ``Dense`` (same order), transposing the weight."""
    linears = [m for m in torch_model.modules() if isinstance(m, torch.nn.Linear)]
    denses = [layer for layer in keras_model.layers if isinstance(layer, keras.layers.Dense)]
    assert len(linears) == len(denses) > 0
    for linear, dense in zip(linears, denses):
        dense.kernel.assign(linear.weight.detach().numpy().T)
        dense.bias.assign(linear.bias.detach().numpy())
    return list(zip(linears, denses))


def twin_mlp_critics(data_dim, hidden, seed):
    torch.manual_seed(seed)
    pt = torch_models.mlp_discriminator(data_dim, hidden=hidden)
    tk = tf_models.mlp_discriminator(data_dim, hidden=hidden)
    return pt, tk, copy_linears(pt, tk)


def twin_image_critics(seed):
    """Flatten -> Linear(784, 16) -> LeakyReLU -> Linear(16, 1).  With one channel, NCHW and
    NHWC images flatten to the same vector, so the copied weights compute the same function."""
    torch.manual_seed(seed)
    pt = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(784, 16), torch.nn.LeakyReLU(0.2), torch.nn.Linear(16, 1)
    )
    tk = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(16), keras.layers.LeakyReLU(0.2),
         keras.layers.Dense(1)]
    )
    return pt, tk, copy_linears(pt, tk)


def close(a, b, tol=TOL):
    return abs(float(a) - float(b)) <= tol * max(1.0, abs(float(b)))


def assert_grads_agree(pairs, pt_loss, tape, tk_loss, tk_model):
    """The penalty's gradients w.r.t. every weight agree (second derivatives of the critic)."""
    pt_params = [p for linear, _ in pairs for p in (linear.weight, linear.bias)]
    pt_grads = torch.autograd.grad(pt_loss, pt_params, allow_unused=True)
    tk_vars = [v for _, dense in pairs for v in (dense.kernel, dense.bias)]
    tk_grads = tape.gradient(tk_loss, tk_vars)
    for i, (g_pt, g_tk) in enumerate(zip(pt_grads, tk_grads)):
        if g_pt is None or g_tk is None:  # e.g. the last bias: both must agree that it is unused
            zero_pt = g_pt is None or float(g_pt.abs().max()) == 0
            zero_tk = g_tk is None or float(tf.reduce_max(tf.abs(g_tk))) == 0
            assert zero_pt and zero_tk, i
            continue
        g_pt = g_pt.numpy()
        g_pt = g_pt.T if g_pt.ndim == 2 else g_pt
        scale = max(1.0, float(np.abs(g_pt).max()))
        np.testing.assert_allclose(g_tk.numpy(), g_pt, rtol=0, atol=1e-5 * scale)


@pytest.mark.parametrize("data_dim, hidden, seed", [(2, (64, 64), 0), (3, (16, 8), 1)])
def test_gradient_penalty_and_r1_agree_on_mlp_critics(data_dim, hidden, seed):
    pt, tk, pairs = twin_mlp_critics(data_dim, hidden, seed)
    rng = np.random.default_rng(seed)
    n = 32
    real = rng.normal(size=(n, data_dim)).astype(np.float32)
    fake = (rng.normal(size=(n, data_dim)) * 3 + 1).astype(np.float32)
    eps = rng.uniform(size=n).astype(np.float32)
    for weight in (10.0, 0.1):
        pt_gp = torch_reg.gradient_penalty(pt, torch.from_numpy(real), torch.from_numpy(fake), weight=weight,
                                           epsilon=torch.from_numpy(eps))
        with tf.GradientTape() as tape:
            tk_gp = tf_reg.gradient_penalty(tk, real, fake, weight=weight, epsilon=eps)
        assert float(pt_gp) > 0 and close(tk_gp, pt_gp), (float(pt_gp), float(tk_gp))
        assert_grads_agree(pairs, pt_gp, tape, tk_gp, tk)
        pt_r1 = torch_reg.r1_penalty(pt, torch.from_numpy(real), weight=weight)
        with tf.GradientTape() as tape:
            tk_r1 = tf_reg.r1_penalty(tk, real, weight=weight)
        assert float(pt_r1) > 0 and close(tk_r1, pt_r1), (float(pt_r1), float(tk_r1))
        assert_grads_agree(pairs, pt_r1, tape, tk_r1, tk)


def test_gradient_penalty_and_r1_agree_on_image_critics():
    pt, tk, pairs = twin_image_critics(seed=3)
    rng = np.random.default_rng(4)
    n = 8
    real = rng.uniform(-1, 1, size=(n, 1, 28, 28)).astype(np.float32)
    fake = np.tanh(rng.normal(size=(n, 1, 28, 28))).astype(np.float32)
    eps = rng.uniform(size=n).astype(np.float32)
    nhwc = lambda x: np.ascontiguousarray(x.transpose(0, 2, 3, 1))  # noqa: E731
    pt_gp = torch_reg.gradient_penalty(pt, torch.from_numpy(real), torch.from_numpy(fake),
                                       epsilon=torch.from_numpy(eps))
    with tf.GradientTape() as tape:
        tk_gp = tf_reg.gradient_penalty(tk, nhwc(real), nhwc(fake), epsilon=eps)
    assert close(tk_gp, pt_gp), (float(pt_gp), float(tk_gp))
    assert_grads_agree(pairs, pt_gp, tape, tk_gp, tk)
    pt_r1 = torch_reg.r1_penalty(pt, torch.from_numpy(real))
    tk_r1 = tf_reg.r1_penalty(tk, nhwc(real))
    assert close(tk_r1, pt_r1), (float(pt_r1), float(tk_r1))


def test_spectral_norms_agree_on_dense_and_conv_weights():
    torch.manual_seed(5)
    linear = torch.nn.Linear(20, 30)
    conv = torch.nn.Conv2d(3, 8, kernel_size=3)
    w_lin = linear.weight.detach().numpy() * 4
    w_conv = conv.weight.detach().numpy() * 4
    # The exact values, through each framework's reshaping, are the same numbers.
    assert torch_reg.largest_singular_value(w_lin) == pytest.approx(tf_reg.largest_singular_value(w_lin.T), rel=1e-12)
    assert torch_reg.largest_singular_value(w_conv) == pytest.approx(
        tf_reg.largest_singular_value(w_conv.transpose(2, 3, 1, 0)), rel=1e-12
    )
    # After power iteration both layers hold the same normalised weight, W / sigma(W).
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(w_lin))
        conv.weight.copy_(torch.from_numpy(w_conv))
    dense, conv_k = keras.layers.Dense(30), keras.layers.Conv2D(8, 3)
    dense.build((None, 20))
    conv_k.build((None, 9, 9, 3))
    dense.kernel.assign(w_lin.T)
    conv_k.kernel.assign(w_conv.transpose(2, 3, 1, 0))
    pt_layers = [torch_reg.spectral_norm(linear, n_power_iterations=5), torch_reg.spectral_norm(conv)]
    tk_layers = [tf_reg.spectral_norm(dense, n_power_iterations=5), tf_reg.spectral_norm(conv_k)]
    x_lin, x_conv = np.ones((2, 20), np.float32), np.ones((2, 9, 9, 3), np.float32)
    for _ in range(60):
        pt_layers[0](torch.from_numpy(x_lin))
        pt_layers[1](torch.from_numpy(x_conv.transpose(0, 3, 1, 2).copy()))
        tk_layers[0](x_lin, training=True)
        tk_layers[1](x_conv, training=True)
    np.testing.assert_allclose(dense.kernel.numpy(), linear.weight.detach().numpy().T, rtol=0, atol=1e-3)
    np.testing.assert_allclose(
        conv_k.kernel.numpy(), conv.weight.detach().numpy().transpose(2, 3, 1, 0), rtol=0, atol=1e-3
    )
    for pt_w, tk_w in ((linear.weight, dense.kernel), (conv.weight, conv_k.kernel)):
        assert torch_reg.largest_singular_value(pt_w) == pytest.approx(1.0, abs=0.01)
        assert tf_reg.largest_singular_value(tk_w) == pytest.approx(1.0, abs=0.01)


def test_clipping_and_wasserstein_losses_agree():
    pt, tk, pairs = twin_mlp_critics(2, (16, 16), seed=6)
    for linear, dense in pairs:
        with torch.no_grad():
            linear.weight.mul_(5.0)
        dense.kernel.assign(linear.weight.detach().numpy().T)
    torch_reg.clip_weights(pt, clip=0.02)
    tf_reg.clip_weights(tk, clip=0.02)
    for linear, dense in pairs:
        np.testing.assert_array_equal(dense.kernel.numpy(), linear.weight.detach().numpy().T)
        np.testing.assert_array_equal(dense.bias.numpy(), linear.bias.detach().numpy())
    rng = np.random.default_rng(7)
    real, fake = rng.normal(size=(9, 1)).astype(np.float32) * 50, rng.normal(size=(5, 1)).astype(np.float32)
    assert close(tf_losses.wasserstein_critic_loss(real, fake),
                 torch_losses.wasserstein_critic_loss(torch.from_numpy(real), torch.from_numpy(fake)))
    assert close(tf_losses.wasserstein_generator_loss(fake),
                 torch_losses.wasserstein_generator_loss(torch.from_numpy(fake)))


NAMES = ("gradient_penalty", "r1_penalty", "spectral_norm", "largest_singular_value", "clip_weights")


@pytest.mark.parametrize(
    "tf_module, torch_module, name",
    [(tf_reg, torch_reg, n) for n in NAMES]
    + [(tf_losses, torch_losses, n) for n in ("wasserstein_critic_loss", "wasserstein_generator_loss")],
)
def test_the_twins_share_names_signatures_and_defaults(tf_module, torch_module, name):
    tf_sig = inspect.signature(getattr(tf_module, name))
    pt_sig = inspect.signature(getattr(torch_module, name))
    assert list(tf_sig.parameters) == list(pt_sig.parameters)
    for param in pt_sig.parameters.values():
        assert tf_sig.parameters[param.name].default == param.default, param.name
        assert tf_sig.parameters[param.name].kind == param.kind, param.name
    assert set(tf_module.__all__) == set(torch_module.__all__)
