"""The TensorFlow half of gan_utils (losses, models, training step, Keras GAN) and chapter 3's checker.

TensorFlow is imported once per module; the models are small and shared, so the file
runs in well under a minute on two cores.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
tf = pytest.importorskip("tensorflow")
import keras  # noqa: E402

from gan_utils.tensorflow import losses, models, train  # noqa: E402
from gan_utils.exercises.training_tf import check_discriminator_loss  # noqa: E402

tf.get_logger().setLevel("ERROR")


def softplus(x):
    return np.logaddexp(0.0, np.asarray(x, dtype=np.float64))


def col(values):
    return tf.constant(np.asarray(values, dtype=np.float32).reshape(-1, 1))


# ----------------------------------------------------------------------------- losses


def test_discriminator_loss_matches_hand_computation():
    real, fake = [0.5, -1.0, 2.0], [-0.3, 1.5]
    expected = softplus(-np.array(real)).mean() + softplus(np.array(fake)).mean()
    got = float(losses.discriminator_loss(col(real), col(fake)))
    assert got == pytest.approx(expected, rel=1e-6)
    # All logits 0: D says 1/2 everywhere and the loss is 2 log 2.
    assert float(losses.discriminator_loss(col([0.0]), col([0.0]))) == pytest.approx(2 * math.log(2), rel=1e-6)


def test_discriminator_loss_label_smoothing_and_flat_shapes():
    real, fake, y = np.array([0.5, -1.0, 2.0]), np.array([-0.3, 1.5]), 0.9
    # BCE(a, y) = softplus(a) - y a
    expected = np.mean(softplus(real) - y * real) + np.mean(softplus(fake))
    got = losses.discriminator_loss(tf.constant(real, tf.float32), tf.constant(fake, tf.float32), real_label=y)
    assert got.shape == () and float(got) == pytest.approx(expected, rel=1e-6)


def test_losses_are_means_not_sums():
    real, fake = col([0.5, -1.0]), col([1.5, 0.2])
    twice = lambda t: tf.concat([t, t], axis=0)  # noqa: E731
    assert float(losses.discriminator_loss(twice(real), twice(fake))) == pytest.approx(
        float(losses.discriminator_loss(real, fake)), rel=1e-6
    )
    for kind in losses.GENERATOR_LOSS_KINDS:
        assert float(losses.generator_loss(twice(fake), kind=kind)) == pytest.approx(
            float(losses.generator_loss(fake, kind=kind)), rel=1e-6
        )


def test_generator_losses_match_hand_computation():
    a = np.array([-2.0, 0.0, 3.0])
    assert float(losses.generator_loss(col(a))) == pytest.approx(softplus(-a).mean(), rel=1e-6)
    assert float(losses.generator_loss(col(a), kind="saturating")) == pytest.approx(-softplus(a).mean(), rel=1e-6)


def test_losses_are_finite_for_huge_logits():
    assert float(losses.discriminator_loss(col([100.0]), col([-100.0]))) == pytest.approx(0.0, abs=1e-30)
    assert float(losses.discriminator_loss(col([-100.0]), col([100.0]))) == pytest.approx(200.0)
    assert float(losses.generator_loss(col([-100.0]))) == pytest.approx(100.0)
    assert float(losses.generator_loss(col([100.0]), kind="saturating")) == pytest.approx(-100.0)
    for value in (
        losses.generator_loss(col([100.0])),
        losses.generator_loss(col([-100.0]), kind="saturating"),
    ):
        assert np.isfinite(float(value))


@pytest.mark.parametrize(
    "kind, expected",
    [("saturating", lambda s: -s), ("nonsaturating", lambda s: -(1 - s))],
)
def test_generator_loss_gradients_wrt_logits(kind, expected):
    a = tf.Variable(np.array([[-4.0], [-1.0], [0.0], [2.5], [6.0]], dtype=np.float32))
    with tf.GradientTape() as tape:
        loss = losses.generator_loss(a, kind=kind)
    grad = tape.gradient(loss, a).numpy() * a.shape[0]  # the mean divides by N
    sigma = 1 / (1 + np.exp(-a.numpy()))
    np.testing.assert_allclose(grad, expected(sigma), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "call, error, fragment",
    [
        (lambda: losses.discriminator_loss(tf.zeros((2, 2)), tf.zeros((2, 1))), ValueError, "real_logits must have shape (N, 1) or (N,)"),
        (lambda: losses.discriminator_loss(tf.zeros((2, 1)), tf.zeros((0, 1))), ValueError, "fake_logits must have shape"),
        (lambda: losses.discriminator_loss(tf.zeros((2, 1)), tf.zeros((2,))), ValueError, "same trailing shape"),
        (lambda: losses.discriminator_loss(tf.zeros((2, 1), tf.int32), tf.zeros((2, 1))), TypeError, "floating-point"),
        (lambda: losses.discriminator_loss(tf.zeros((2, 1)), tf.zeros((2, 1)), real_label=0.0), ValueError, "real_label must be a number in (0, 1]"),
        (lambda: losses.discriminator_loss(tf.zeros((2, 1)), tf.zeros((2, 1)), real_label=1.5), ValueError, "real_label"),
        (lambda: losses.discriminator_loss(tf.zeros((2, 1)), tf.zeros((2, 1)), real_label=True), ValueError, "real_label"),
        (lambda: losses.generator_loss(tf.zeros((2, 1)), kind="minimax"), ValueError, "expected one of ('nonsaturating', 'saturating')"),
        (lambda: losses.generator_loss(tf.zeros((2, 3))), ValueError, "fake_logits must have shape"),
        (lambda: losses.generator_loss("logits"), TypeError, "floating-point"),
    ],
)
def test_loss_validation(call, error, fragment):
    with pytest.raises(error) as info:
        call()
    assert fragment in str(info.value)


# ----------------------------------------------------------------------------- models


def test_models_shapes_counts_and_torch_like_init():
    keras.utils.set_random_seed(0)
    g = models.mlp_generator(2, 2)
    d = models.mlp_discriminator(2)
    assert models.count_parameters(g) == 2 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2 == 4482
    assert models.count_parameters(d) == 2 * 64 + 64 + 64 * 64 + 64 + 64 + 1 == 4417
    assert g(tf.zeros((5, 2))).shape == (5, 2)
    assert d(tf.zeros((5, 2))).shape == (5, 1)
    assert [type(layer).__name__ for layer in d.layers] == ["Dense", "LeakyReLU", "Dense", "LeakyReLU", "Dense"]
    assert d.layers[1].negative_slope == pytest.approx(0.2)
    dense = [layer for layer in g.layers if isinstance(layer, keras.layers.Dense)]
    for layer in dense:  # U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for kernel and bias, as in PyTorch
        bound = 1 / math.sqrt(layer.kernel.shape[0])
        assert np.abs(layer.kernel.numpy()).max() <= bound + 1e-7
        assert np.abs(layer.bias.numpy()).max() <= bound + 1e-7
        assert np.abs(layer.bias.numpy()).max() > 0  # not Keras' zero bias
    small = models.mlp_generator(3, 5, hidden=(7,))
    assert models.count_parameters(small) == 3 * 7 + 7 + 7 * 5 + 5


@pytest.mark.parametrize(
    "call, error, fragment",
    [
        (lambda: models.mlp_generator(0, 2), ValueError, "latent_dim must be a positive int"),
        (lambda: models.mlp_generator(2, 2, hidden=64), TypeError, "hidden must be a sequence"),
        (lambda: models.mlp_discriminator(2, hidden=(64, -1)), ValueError, "hidden[1]"),
        (lambda: models.mlp_discriminator(2, negative_slope=1.0), ValueError, "negative_slope"),
        (lambda: models.count_parameters("model"), TypeError, "keras Model or Layer"),
        (lambda: models.count_parameters(keras.layers.Dense(3)), ValueError, "not built"),
    ],
)
def test_model_validation(call, error, fragment):
    with pytest.raises(error) as info:
        call()
    assert fragment in str(info.value)


# ------------------------------------------------------------------------ train_step

LATENT, BATCH = 2, 32


@pytest.fixture(scope="module")
def pair():
    """One generator/discriminator pair shared by the tests (weights restored by ``fresh``)."""
    keras.utils.set_random_seed(123)
    g = models.mlp_generator(LATENT, 2, hidden=(16, 16))
    d = models.mlp_discriminator(2, hidden=(16, 16))
    return g, d, g.get_weights(), d.get_weights()


@pytest.fixture
def fresh(pair):
    """Return ``(g, d, real)`` with the initial weights restored and a fixed real batch."""
    g, d, g0, d0 = pair
    g.set_weights(g0)
    d.set_weights(d0)
    real = tf.constant(np.random.default_rng(0).normal(size=(BATCH, 2)).astype(np.float32) + 2.0)
    return g, d, real


def weights(model):
    return [w.copy() for w in model.get_weights()]


def changed(before, model):
    return any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def sgd(lr=0.1):
    return keras.optimizers.SGD(learning_rate=lr)


def test_sample_noise():
    keras.utils.set_random_seed(7)
    a = train.sample_noise(4, 3)
    keras.utils.set_random_seed(7)
    b = train.sample_noise(4, 3)
    assert a.shape == (4, 3) and a.dtype == tf.float32
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(train.sample_noise(4, 3, seed=5).numpy(), train.sample_noise(4, 3, seed=5).numpy())
    assert not np.array_equal(train.sample_noise(4, 3, seed=5).numpy(), train.sample_noise(4, 3, seed=6).numpy())
    rng1, rng2 = tf.random.Generator.from_seed(1), tf.random.Generator.from_seed(1)
    np.testing.assert_array_equal(
        train.sample_noise(2, 2, generator=rng1).numpy(), train.sample_noise(2, 2, generator=rng2).numpy()
    )
    big = train.sample_noise(20000, 1, seed=0).numpy()
    assert abs(big.mean()) < 0.03 and abs(big.std() - 1) < 0.03
    with pytest.raises(ValueError, match="n must be a positive int"):
        train.sample_noise(0, 3)
    with pytest.raises(ValueError, match="seed must be an int"):
        train.sample_noise(2, 3, seed=-1)
    with pytest.raises(TypeError, match="tf.random.Generator"):
        train.sample_noise(2, 3, generator=np.random.default_rng(0))


def test_discriminator_step_leaves_the_generator_unchanged(fresh):
    g, d, real = fresh
    g0, d0 = weights(g), weights(d)
    opt = sgd()
    z = train.sample_noise(BATCH, LATENT, seed=1)
    # The D step computes no gradient for G at all (fakes are made outside the tape).
    d_loss, _, _ = train._d_update(g, d, opt, real, z, 1.0)
    assert np.isfinite(float(d_loss))
    assert not changed(g0, g), "the discriminator's update changed the generator"
    assert changed(d0, d)


def test_alternating_changes_both_and_returns_floats(fresh):
    g, d, real = fresh
    g0, d0 = weights(g), weights(d)
    out = train.train_step(g, d, sgd(), sgd(), real, latent_dim=LATENT)
    assert set(out) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(isinstance(v, float) and math.isfinite(v) for v in out.values())
    assert 0 < out["d_real"] < 1 and 0 < out["d_fake"] < 1
    assert changed(g0, g) and changed(d0, d)


def manual_grads(g, d, real, z):
    """Both players' gradients at the current parameters (what 'simultaneous' must use)."""
    with tf.GradientTape(persistent=True) as tape:
        fake = g(z, training=True)
        real_logits, fake_logits = d(real, training=True), d(fake, training=True)
        d_loss = losses.discriminator_loss(real_logits, fake_logits)
        g_loss = losses.generator_loss(fake_logits)
    return (
        [x.numpy() for x in tape.gradient(d_loss, d.trainable_variables)],
        [x.numpy() for x in tape.gradient(g_loss, g.trainable_variables)],
        float(d_loss),
        float(g_loss),
    )


@pytest.mark.parametrize("update", ["simultaneous", "alternating"])
def test_simultaneous_uses_pre_update_parameters(fresh, update):
    g, d, real = fresh
    lr = 0.1
    keras.utils.set_random_seed(11)
    z = train.sample_noise(BATCH, LATENT)  # the noise train_step will draw after the same seed
    d_grads, g_grads, d_loss, g_loss = manual_grads(g, d, real, z)
    g0, d0 = weights(g), weights(d)
    keras.utils.set_random_seed(11)
    out = train.train_step(g, d, sgd(lr), sgd(lr), real, latent_dim=LATENT, update=update)
    assert out["d_loss"] == pytest.approx(d_loss, rel=1e-5)
    # D's update is the same plain SGD step from the pre-update parameters either way.
    for w0, grad, w1 in zip(d0, d_grads, d.get_weights()):
        np.testing.assert_allclose(w1, w0 - lr * grad, rtol=1e-4, atol=1e-6)
    g_expected = [w0 - lr * grad for w0, grad in zip(g0, g_grads)]
    g_max_diff = max(np.abs(a - b).max() for a, b in zip(g_expected, g.get_weights()))
    if update == "simultaneous":
        # G's step used the discriminator *before* its update, on the same fakes.
        assert out["g_loss"] == pytest.approx(g_loss, rel=1e-5)
        assert g_max_diff < 1e-5
    else:
        # Alternating: G was judged by the updated D on fresh noise, so its step differs.
        assert g_max_diff > 1e-4


@pytest.mark.parametrize("as_list", [False, True])
def test_d_steps_does_k_discriminator_updates(fresh, as_list):
    g, d, real = fresh
    g_opt, d_opt = sgd(), sgd()
    real_arg = [real, real + 0.1, real - 0.1] if as_list else real
    train.train_step(g, d, g_opt, d_opt, real_arg, latent_dim=LATENT, d_steps=3)
    assert int(d_opt.iterations.numpy()) == 3
    assert int(g_opt.iterations.numpy()) == 1


def test_nan_guard_names_the_discriminator_loss_and_protects_the_weights(fresh):
    g, d, real = fresh
    g0, d0 = weights(g), weights(d)
    bad = tf.tensor_scatter_nd_update(real, [[0, 0]], [float("nan")])
    with pytest.raises(FloatingPointError, match="d_loss=nan"):
        train.train_step(g, d, sgd(), sgd(), bad, latent_dim=LATENT)
    assert not changed(g0, g) and not changed(d0, d), "a NaN step must not update the weights"


def test_nan_guard_names_the_generator_loss(fresh):
    g, d, real = fresh
    g0 = weights(g)
    # An absurd D learning rate: d_loss is finite, the updated D overflows, g_loss is NaN.
    with pytest.raises(FloatingPointError, match="g_loss=nan"):
        train.train_step(g, d, sgd(), sgd(1e38), real, latent_dim=LATENT)
    assert not changed(g0, g)


def run_steps(g, d, real, seed, n=3, **kwargs):
    keras.utils.set_random_seed(seed)
    g_opt = keras.optimizers.Adam(1e-3, beta_1=0.5)
    d_opt = keras.optimizers.Adam(1e-3, beta_1=0.5)
    return [train.train_step(g, d, g_opt, d_opt, real, latent_dim=LATENT, **kwargs) for _ in range(n)]


def test_same_seed_same_losses(pair, fresh):
    g, d, real = fresh
    first = run_steps(g, d, real, seed=3, d_steps=2)
    g.set_weights(pair[2])
    d.set_weights(pair[3])
    second = run_steps(g, d, real, seed=3, d_steps=2)
    assert first == second
    g.set_weights(pair[2])
    d.set_weights(pair[3])
    assert run_steps(g, d, real, seed=4, d_steps=2) != first


@pytest.mark.parametrize(
    "kwargs, error, fragment",
    [
        ({"update": "jacobi"}, ValueError, "expected one of ('alternating', 'simultaneous')"),
        ({"update": "simultaneous", "d_steps": 2}, ValueError, "d_steps must be 1"),
        ({"d_steps": 0}, ValueError, "d_steps must be a positive int"),
        ({"g_loss_kind": "wasserstein"}, ValueError, "unknown g_loss_kind"),
        ({"real_label": 0.0}, ValueError, "real_label"),
        ({"d_steps": 2, "real": ["a"]}, ValueError, "sequence of 1 batches but d_steps=2"),
        ({"real": "data"}, TypeError, "real must be a tf.Tensor batch"),
        ({"real": np.zeros(4, np.float32)}, ValueError, "shape (N, ...)"),
        ({"g_optimizer": "adam"}, TypeError, "g_optimizer must be a keras.optimizers.Optimizer"),
        ({"generator": "g"}, TypeError, "generator must be a keras.Model"),
    ],
)
def test_train_step_validation(fresh, kwargs, error, fragment):
    g, d, real = fresh
    args = {"generator": g, "discriminator": d, "g_optimizer": sgd(), "d_optimizer": sgd(), "real": real}
    args.update({k: v for k, v in kwargs.items() if k in args})
    options = {k: v for k, v in kwargs.items() if k not in args}
    with pytest.raises(error) as info:
        train.train_step(**args, latent_dim=LATENT, **options)
    assert fragment in str(info.value)


# ------------------------------------------------------------------------- Keras GAN


def test_keras_gan_train_step_matches_train_step(pair, fresh):
    g, d, real = fresh
    keras.utils.set_random_seed(5)
    expected = train.train_step(
        g, d, keras.optimizers.Adam(1e-3, beta_1=0.5), keras.optimizers.Adam(1e-3, beta_1=0.5), real,
        latent_dim=LATENT, d_steps=2,
    )
    g_after, d_after = weights(g), weights(d)

    keras.utils.set_random_seed(5)  # the same noise: k + 1 batches in the same order
    noise = [train.sample_noise(BATCH, LATENT) for _ in range(3)]

    class FedGAN(train.GAN):
        def draw_noise(self, batch_size):
            return noise.pop(0)

    g.set_weights(pair[2])
    d.set_weights(pair[3])
    gan = FedGAN(g, d, latent_dim=LATENT, d_steps=2)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5), g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
    logs = gan.train_step(real)  # eagerly, as Keras would inside fit()
    assert not noise
    got = {k: float(v) for k, v in logs.items()}
    assert set(got) == {"d_loss", "g_loss", "d_real", "d_fake"}
    for key in got:
        assert got[key] == pytest.approx(expected[key], rel=1e-6, abs=1e-6), key
    for a, b in zip(g_after + d_after, g.get_weights() + d.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_keras_gan_fits_and_reports_its_metrics(fresh):
    g, d, real = fresh
    d0 = weights(d)
    gan = train.GAN(g, d, latent_dim=LATENT)
    gan.compile(d_optimizer=sgd(0.05), g_optimizer=sgd(0.05))
    history = gan.fit(real.numpy(), batch_size=16, epochs=1, verbose=0, shuffle=False)
    assert set(history.history) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(np.isfinite(v[0]) for v in history.history.values())
    assert int(gan.d_optimizer.iterations.numpy()) == 2 and changed(d0, d)
    assert gan(tf.zeros((3, LATENT))).shape == (3, 2)
    assert d.trainable and g.trainable  # nothing was frozen


def test_keras_gan_validation(fresh):
    g, d, _ = fresh
    with pytest.raises(TypeError, match="discriminator must be a keras.Model"):
        train.GAN(g, "d", latent_dim=2)
    with pytest.raises(ValueError, match="latent_dim"):
        train.GAN(g, d, latent_dim=0)
    with pytest.raises(TypeError, match="d_optimizer must be a keras.optimizers.Optimizer"):
        train.GAN(g, d, latent_dim=2).compile(d_optimizer=None, g_optimizer=sgd())


# ------------------------------------------------------- the chapter's exercise checker


def reference_loss(real_logits, fake_logits):
    bce = tf.nn.sigmoid_cross_entropy_with_logits
    return tf.reduce_mean(bce(labels=tf.ones_like(real_logits), logits=real_logits)) + tf.reduce_mean(
        bce(labels=tf.zeros_like(fake_logits), logits=fake_logits)
    )


def test_checker_accepts_the_reference_and_the_package_loss():
    assert check_discriminator_loss(reference_loss, verbose=False)
    assert check_discriminator_loss(losses.discriminator_loss, verbose=False)


def test_checker_reports_a_stub_as_not_attempted():
    def stub(real_logits, fake_logits):
        raise NotImplementedError("Exercise 3.1: write the discriminator loss")

    assert check_discriminator_loss(stub, verbose=False).status == "not attempted"


def swapped_labels(r, f):
    bce = tf.nn.sigmoid_cross_entropy_with_logits
    return tf.reduce_mean(bce(labels=tf.zeros_like(r), logits=r)) + tf.reduce_mean(bce(labels=tf.ones_like(f), logits=f))


def summed(r, f):
    bce = tf.nn.sigmoid_cross_entropy_with_logits
    return tf.reduce_sum(bce(labels=tf.ones_like(r), logits=r)) + tf.reduce_sum(bce(labels=tf.zeros_like(f), logits=f))


def sigmoid_then_logits_loss(r, f):
    return reference_loss(tf.sigmoid(r), tf.sigmoid(f))


def averaged_terms(r, f):
    bce = tf.nn.sigmoid_cross_entropy_with_logits
    logits = tf.concat([r, f], axis=0)
    labels = tf.concat([tf.ones_like(r), tf.zeros_like(f)], axis=0)
    return tf.reduce_mean(bce(labels=labels, logits=logits))


def naive_log_sigmoid(r, f):
    return -tf.reduce_mean(tf.math.log(tf.sigmoid(r))) - tf.reduce_mean(tf.math.log(1 - tf.sigmoid(f)))


@pytest.mark.parametrize(
    "fn, fragment",
    [
        (swapped_labels, "case 2/4 (one real, one fake)"),
        (summed, "case 3/4 (4 real, 2 fake)"),
        (sigmoid_then_logits_loss, "sigmoid was applied to the inputs"),
        (averaged_terms, "averaged instead of added"),
        (naive_log_sigmoid, "log(0) = -inf"),
    ],
)
def test_checker_rejects_wrong_losses_with_the_right_hint(fn, fragment):
    verdict = check_discriminator_loss(fn, verbose=False)
    assert verdict.status == "fail"
    assert fragment in verdict.message, verdict.message
    hints = {
        swapped_labels: "Check the labels",
        summed: "do not sum",
        sigmoid_then_logits_loss: "case 1/4",
        averaged_terms: "case 1/4",
        naive_log_sigmoid: "case 4/4",
    }
    assert hints[fn] in verdict.message, verdict.message
