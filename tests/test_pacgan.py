"""Chapter 5's discriminator additions in both frameworks: PacGAN packing and the minibatch-std channel.

PacGAN (Lin et al. 2018) stacks ``pack`` images as the channels of one input, so the
discriminator gives one logit per group; the minibatch standard deviation (Karras et al. 2018)
appends the batch's mean feature spread as one channel.  These tests check what each layer
computes (against the definitions, not against itself), that the twins agree with copied
weights, that the options are checked, and that ``fit`` knows about packing.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
torch = pytest.importorskip("torch")
tf = pytest.importorskip("tensorflow")
import keras  # noqa: E402

from gan_utils.tensorflow import mnist as km  # noqa: E402
from gan_utils.torch import mnist as tm  # noqa: E402
from gan_utils.torch.models import count_parameters  # noqa: E402

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def images(n, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 28, 28)).astype(np.float32)


# ------------------------------------------------------------------ PackImages


@pytest.mark.parametrize("pack", [1, 2, 3])
def test_pack_images_makes_image_pack_i_plus_j_channel_j_of_group_i(pack):
    x = images(6 * pack)  # a multiple of pack
    n = len(x)
    pt = tm.PackImages(pack)(torch.from_numpy(x[:, None])).numpy()
    tk = km.PackImages(pack)(tf.constant(x[..., None])).numpy()
    assert pt.shape == (n // pack, pack, 28, 28) and tk.shape == (n // pack, 28, 28, pack)
    for i in range(n // pack):
        for j in range(pack):
            assert np.array_equal(pt[i, j], x[pack * i + j])
            assert np.array_equal(tk[i, :, :, j], x[pack * i + j])


def test_pack_images_refuses_a_batch_that_is_not_a_multiple_of_pack():
    with pytest.raises(ValueError, match=r"PackImages: expected a batch .* multiple of pack=2 .* got shape \(3, 1, 28, 28\)"):
        tm.PackImages(2)(torch.zeros(3, 1, 28, 28))
    with pytest.raises(ValueError, match=r"multiple of pack=2"):
        km.PackImages(2)(tf.zeros((3, 28, 28, 1)))
    # inside a tf.function the batch size is unknown when tracing: the check runs in the graph
    packed = tf.function(km.PackImages(2), input_signature=[tf.TensorSpec((None, 28, 28, 1))])
    assert tuple(packed(tf.zeros((4, 28, 28, 1))).shape) == (2, 28, 28, 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="multiple of pack=2"):
        packed(tf.zeros((5, 28, 28, 1)))
    for module in (tm, km):
        with pytest.raises(ValueError, match=r"PackImages: pack must be a positive int, got 0"):
            module.PackImages(0)


# ------------------------------------------------------------------ MinibatchStd


def test_minibatch_std_appends_the_mean_over_features_of_the_batch_std():
    h = np.random.default_rng(1).normal(0, 2, (6, 4, 7, 7)).astype(np.float32)
    expected = np.sqrt(h.var(axis=0) + tm.MINIBATCH_STD_EPS).mean()  # population std, per feature
    pt = tm.MinibatchStd()(torch.from_numpy(h)).numpy()
    assert pt.shape == (6, 5, 7, 7) and np.array_equal(pt[:, :4], h)
    np.testing.assert_allclose(pt[:, 4], expected, rtol=1e-5)
    tk = km.MinibatchStd()(tf.constant(h.transpose(0, 2, 3, 1))).numpy()
    assert tk.shape == (6, 7, 7, 5) and np.array_equal(tk[..., :4], h.transpose(0, 2, 3, 1))
    np.testing.assert_allclose(tk[..., 4], expected, rtol=1e-5)
    assert 1.5 < expected < 2.0  # about the std of the draws (2), a little less for 6 samples


def test_minibatch_std_of_identical_samples_is_tiny_and_its_gradient_finite():
    one = torch.randn(1, 3, 7, 7)
    h = one.expand(5, -1, -1, -1).clone().requires_grad_(True)
    out = tm.MinibatchStd()(h)
    assert float(out[:, 3].max().detach()) == pytest.approx(np.sqrt(tm.MINIBATCH_STD_EPS), rel=1e-3)
    out[:, 3].sum().backward()
    assert torch.isfinite(h.grad).all()  # without the epsilon: sqrt'(0) = inf, and NaN gradients
    ht = tf.constant(np.repeat(one.numpy().transpose(0, 2, 3, 1), 5, axis=0))
    with tf.GradientTape() as tape:
        tape.watch(ht)
        total = tf.reduce_sum(km.MinibatchStd()(ht)[..., 3])
    assert np.isfinite(tape.gradient(total, ht).numpy()).all()


def test_minibatch_std_sees_a_collapsed_batch():
    """The reason for the layer: a batch of near-copies has a much smaller extra channel than a varied one."""
    rng = np.random.default_rng(2)
    varied = torch.from_numpy(rng.normal(0, 1, (8, 4, 7, 7)).astype(np.float32))
    collapsed = varied[:1] + 0.01 * torch.from_numpy(rng.normal(0, 1, (8, 4, 7, 7)).astype(np.float32))
    layer = tm.MinibatchStd()
    assert float(layer(collapsed)[0, 4, 0, 0]) < 0.05 * float(layer(varied)[0, 4, 0, 0])


# ------------------------------------------------------------------ the discriminator


@pytest.mark.parametrize("pack", [1, 2, 4])
@pytest.mark.parametrize("minibatch_std", [False, True])
def test_discriminator_options_give_the_worked_out_parameter_counts_in_both_twins(pack, minibatch_std):
    w = 8
    expected = 16 * pack * w + w + 16 * w * 2 * w + 2 * 2 * w + (2 * w + minibatch_std) * 49 + 1
    pt = tm.dcgan_discriminator(w, pack=pack, minibatch_std=minibatch_std)
    tk = km.dcgan_discriminator(w, pack=pack, minibatch_std=minibatch_std)
    assert count_parameters(pt) == km.trainable_parameter_count(tk) == expected
    assert tm.discriminator_pack(pt) == km.discriminator_pack(tk) == pack
    assert tuple(pt(torch.zeros(4 * pack, 1, 28, 28)).shape) == (4, 1)
    assert tuple(tk(np.zeros((4 * pack, 28, 28, 1), np.float32), training=False).shape) == (4, 1)


@pytest.mark.parametrize("pack,minibatch_std", [(1, False), (2, True), (4, True), (2, False), (1, True)])
@pytest.mark.parametrize("training", [False, True])
def test_the_twins_agree_with_copied_weights(pack, minibatch_std, training):
    torch.manual_seed(0)
    pt = tm.dcgan_discriminator(16, pack=pack, minibatch_std=minibatch_std)
    with torch.no_grad():  # non-trivial BatchNorm statistics and shift, so that inference mode means something
        bn = next(m for m in pt.modules() if isinstance(m, torch.nn.BatchNorm2d))
        bn.running_mean.normal_(0.0, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        bn.bias.normal_(0.0, 0.1)
    pt.train(training)
    keras.utils.set_random_seed(1)
    tk = km.copy_weights_torch_to_tf(pt, km.dcgan_discriminator(16, pack=pack, minibatch_std=minibatch_std))
    x = images(8 * pack, seed=3)
    with torch.no_grad():
        expected = pt(torch.from_numpy(x[:, None])).numpy()
    got = tk(x[..., None], training=training).numpy()
    assert expected.shape == (8, 1) and np.abs(expected).max() > 0.01
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4 if training else 1e-5)


def test_a_pair_is_judged_together_and_apart_from_the_other_pairs():
    torch.manual_seed(0)
    D = tm.dcgan_discriminator(16, pack=2, minibatch_std=False).eval()
    x = torch.from_numpy(images(6)[:, None])
    changed = x.clone()
    changed[3] = -changed[3]  # the second image of the second pair
    with torch.no_grad():
        before, after = D(x)[:, 0], D(changed)[:, 0]
    assert before[1] != after[1]  # the pair's logit depends on both of its images
    assert before[0] == after[0] and before[2] == after[2]  # and on nothing else (no minibatch std here)


def test_discriminator_options_are_checked():
    for module in (tm, km):
        with pytest.raises(ValueError, match=r"dcgan_discriminator: pack must be a positive int, got 0"):
            module.dcgan_discriminator(pack=0)
        with pytest.raises(TypeError, match=r"dcgan_discriminator: minibatch_std must be True or False, got 'yes'"):
            module.dcgan_discriminator(minibatch_std="yes")
        assert module.discriminator_pack(module.mlp_discriminator()) == 1
    with pytest.raises(TypeError, match="discriminator_pack: discriminator must be a torch.nn.Module"):
        tm.discriminator_pack("D")
    with pytest.raises(TypeError, match="discriminator_pack: discriminator must be a keras Model or Layer"):
        km.discriminator_pack("D")


def test_discriminator_pack_recognises_a_hand_written_packing_layer():
    """Chapter 5 writes its own PackImages; fit must see its pack too (duck typing on an int ``pack``)."""

    class MyPack(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.pack = 3

        def forward(self, x):
            return x.reshape(x.shape[0] // 3, 3, 28, 28)

    assert tm.discriminator_pack(torch.nn.Sequential(MyPack(), torch.nn.Flatten())) == 3
    twice = torch.nn.Sequential(MyPack(), tm.PackImages(2))
    with pytest.raises(ValueError, match="2 packing layers"):
        tm.discriminator_pack(twice)


# ------------------------------------------------------------------ fit


def test_fit_needs_a_batch_size_that_is_a_multiple_of_the_pack():
    from gan_utils.tensorflow.fit import fit as tf_fit
    from gan_utils.torch.fit import fit as torch_fit

    x = images(40)
    for fit, module in ((torch_fit, tm), (tf_fit, km)):
        G, D = module.dcgan_generator(latent_dim=8, width=4), module.dcgan_discriminator(width=4, pack=2)
        with pytest.raises(ValueError, match=r"fit: batch_size must be a multiple of the discriminator's pack=2 .* got 9"):
            fit(G, D, x, epochs=1, batch_size=9, latent_dim=8, progress=False, fixed_noise_size=0)


def test_fit_trains_a_packed_discriminator_and_records_its_outputs():
    from gan_utils.torch.fit import fit

    torch.manual_seed(0)
    G, D = tm.dcgan_generator(latent_dim=8, width=4), tm.dcgan_discriminator(width=4)
    before = [p.detach().clone() for p in D.parameters()]
    history = fit(G, D, images(64), epochs=1, batch_size=16, latent_dim=8, progress=False, fixed_noise_size=4)
    assert history.steps == 4 and len(history.d_real) == 4
    assert all(0.0 < v < 1.0 for v in history.d_real + history.d_fake)
    assert all(not torch.equal(a, b) for a, b in zip(before, D.parameters()))
