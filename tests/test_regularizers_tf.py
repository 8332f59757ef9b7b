"""gan_utils.tensorflow.regularizers (gradient penalty, R1, spectral norm, weight clipping)
and the Wasserstein losses of gan_utils.tensorflow.losses.

The same closed forms as tests/test_regularizers_torch.py: a linear critic
``f(x) = w.x + b`` has input gradient ``w``, so WGAN-GP is ``weight (||w|| - 1)^2`` and R1
is ``weight / 2 ||w||^2``; ``f(x) = ||x||^2 / 2`` has gradient ``x``.  Images are
channels-last here, ``(N, 28, 28, 1)``.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
tf = pytest.importorskip("tensorflow")
import keras  # noqa: E402

from gan_utils.tensorflow import (  # noqa: E402
    clip_weights,
    gradient_penalty,
    largest_singular_value,
    mlp_discriminator,
    r1_penalty,
    spectral_norm,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)

tf.get_logger().setLevel("ERROR")

SHAPES = [(2,), (5,), (28, 28, 1)]


def linear_critic(shape, norm, seed, bias=0.7):
    """``f(x) = w . flatten(x) + b`` with ``||w|| = norm``, as a built ``keras.Sequential``."""
    dim = int(np.prod(shape))
    rng = np.random.default_rng(seed)
    w = rng.normal(size=dim)
    w *= norm / np.linalg.norm(w)
    critic = keras.Sequential([keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(1)])
    critic.layers[-1].kernel.assign(w[:, None].astype(np.float32))
    critic.layers[-1].bias.assign([bias])
    return critic, w


def batch(n, shape, seed, scale=1.0):
    return tf.constant(np.random.default_rng(seed).normal(size=(n, *shape)).astype(np.float32) * scale)


def half_squared_norm(x):
    """``f(x) = ||x||^2 / 2`` per sample; its gradient is ``x``."""
    return 0.5 * tf.reduce_sum(tf.reshape(tf.square(x), (x.shape[0], -1)), axis=1)


# ------------------------------------------------------------------ closed forms


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("norm", [0.0, 0.3, 1.0, 2.5, 7.0])
@pytest.mark.parametrize("weight", [10.0, 1.5])
def test_gradient_penalty_of_a_linear_critic_is_weight_times_norm_minus_one_squared(shape, norm, weight):
    critic, w = linear_critic(shape, norm, seed=int(10 * norm) + len(shape))
    real, fake = batch(8, shape, seed=1), batch(8, shape, seed=2, scale=3.0)
    got = gradient_penalty(critic, real, fake, weight=weight, seed=0)
    assert got.shape == ()
    assert float(got) == pytest.approx(weight * (np.linalg.norm(w) - 1) ** 2, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("norm", [0.0, 0.3, 1.0, 2.5])
@pytest.mark.parametrize("weight", [10.0, 0.5])
def test_r1_of_a_linear_critic_is_half_weight_times_squared_norm(shape, norm, weight):
    critic, w = linear_critic(shape, norm, seed=3 + len(shape))
    got = r1_penalty(critic, batch(6, shape, seed=4), weight=weight)
    assert got.shape == ()
    assert float(got) == pytest.approx(weight / 2 * np.linalg.norm(w) ** 2, rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("shape", [(3,), (28, 28, 1)])
def test_r1_of_half_squared_norm_is_half_weight_times_mean_squared_norm_of_the_data(shape):
    real = batch(7, shape, seed=5)
    expected = 10.0 / 2 * np.mean(np.sum(real.numpy().reshape(7, -1).astype(np.float64) ** 2, axis=1))
    assert float(r1_penalty(half_squared_norm, real)) == pytest.approx(expected, rel=1e-5)


# -------------------------------------------------------- per-sample interpolation


@pytest.mark.parametrize("shape", [(2,), (28, 28, 1)])
def test_gradient_penalty_interpolates_each_sample_with_its_own_epsilon(shape):
    n = 9
    real, fake = batch(n, shape, seed=6), batch(n, shape, seed=7, scale=0.2)
    eps = np.random.default_rng(8).uniform(size=n).astype(np.float32)
    r, f = real.numpy().astype(np.float64), fake.numpy().astype(np.float64)
    e = eps.astype(np.float64).reshape((n,) + (1,) * len(shape))
    x_hat = e * r + (1 - e) * f  # the gradient of ||x||^2 / 2 at x_hat is x_hat
    norms = np.linalg.norm(x_hat.reshape(n, -1), axis=1)
    expected = 10.0 * np.mean((norms - 1) ** 2)
    got = gradient_penalty(half_squared_norm, real, fake, epsilon=tf.constant(eps))
    assert float(got) == pytest.approx(expected, rel=1e-5)
    full = eps.reshape((n,) + (1,) * len(shape))
    assert float(gradient_penalty(half_squared_norm, real, fake, epsilon=full)) == pytest.approx(expected, rel=1e-5)
    shared = np.full(n, eps.mean(), dtype=np.float32)
    assert abs(float(gradient_penalty(half_squared_norm, real, fake, epsilon=shared)) - expected) > 1e-3 * expected


def record_inputs(store):
    def critic(x):
        store.append(tf.identity(x).numpy())
        return tf.reduce_sum(tf.reshape(x, (x.shape[0], -1)), axis=1)

    return critic


@pytest.mark.parametrize("shape", [(2,), (4, 4, 1)])
def test_drawn_epsilons_are_per_sample_uniform_and_reproducible(shape):
    n = 2000
    real, fake = tf.ones((n, *shape)), tf.zeros((n, *shape))  # then x_hat_i = eps_i everywhere
    seen = []
    gradient_penalty(record_inputs(seen), real, fake, seed=123)
    x_hat = seen[0].reshape(n, -1)
    eps = x_hat[:, 0].astype(np.float64)
    assert np.array_equal(x_hat, np.broadcast_to(x_hat[:, :1], x_hat.shape))
    assert np.all((eps > 0) & (eps < 1))
    assert len(np.unique(eps)) == n
    assert abs(eps.mean() - 0.5) < 6 * np.sqrt(1 / 12 / n)
    assert abs(eps.var() - 1 / 12) < 0.01
    counts = np.histogram(eps, bins=10, range=(0, 1))[0]
    assert np.all(np.abs(counts - n / 10) < 6 * np.sqrt(n * 0.1 * 0.9))
    again, other, gen1, gen2 = [], [], [], []
    gradient_penalty(record_inputs(again), real, fake, seed=123)
    gradient_penalty(record_inputs(other), real, fake, seed=124)
    gradient_penalty(record_inputs(gen1), real, fake, generator=tf.random.Generator.from_seed(7))
    gradient_penalty(record_inputs(gen2), real, fake, generator=tf.random.Generator.from_seed(7))
    assert np.array_equal(again[0], seen[0]) and np.array_equal(gen1[0], gen2[0])
    assert not np.array_equal(other[0], seen[0])
    # The default draws fresh weights at every call.
    first, second = [], []
    gradient_penalty(record_inputs(first), real, fake)
    gradient_penalty(record_inputs(second), real, fake)
    assert not np.array_equal(first[0], second[0])


def test_inside_tf_function_each_call_draws_new_epsilons():
    """Traced once, the default draw must still be a random op, not a frozen constant."""
    critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)])
    real, fake = batch(64, (2,), seed=30), batch(64, (2,), seed=31, scale=2.0)
    compiled = tf.function(lambda r, f: gradient_penalty(critic, r, f))
    values = {float(compiled(real, fake)) for _ in range(3)}
    assert len(values) == 3
    # and with a fixed epsilon the compiled penalty equals the eager one
    eps = tf.constant(np.linspace(0.05, 0.95, 64, dtype=np.float32))
    fixed = tf.function(lambda r, f: gradient_penalty(critic, r, f, epsilon=eps))
    assert float(fixed(real, fake)) == pytest.approx(float(gradient_penalty(critic, real, fake, epsilon=eps)), rel=1e-6)


# ------------------------------------------------------------- finite at the edges


def naive_gradient_penalty(critic, real, fake, eps):
    """The textbook formula with ``tf.norm``: its derivative at a zero gradient is NaN."""
    x_hat = eps * real + (1 - eps) * fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat)
    grad = tape.gradient(scores, x_hat)
    return 10.0 * tf.reduce_mean(tf.square(tf.norm(tf.reshape(grad, (grad.shape[0], -1)), axis=1) - 1))


@pytest.mark.parametrize("shape", [(2,), (28, 28, 1)])
def test_penalty_and_its_parameter_gradients_are_finite_for_a_zero_input_gradient(shape):
    critic, _ = linear_critic(shape, 0.0, seed=9)  # w = 0: a constant critic, input gradient exactly 0
    real, fake = batch(4, shape, seed=10), batch(4, shape, seed=11)
    eps = tf.fill((4,) + (1,) * len(shape), 0.25)
    with tf.GradientTape() as tape:
        penalty = gradient_penalty(critic, real, fake, epsilon=eps)
    assert float(penalty) == pytest.approx(10.0)
    grads = tape.gradient(penalty, critic.trainable_variables)
    assert grads[0] is not None
    assert all(g is None or bool(tf.reduce_all(tf.math.is_finite(g))) for g in grads)
    # tf.norm would have put NaN into the kernel: the safe norm is needed.
    with tf.GradientTape() as tape:
        naive = naive_gradient_penalty(critic, real, fake, eps)
    assert bool(tf.reduce_any(tf.math.is_nan(tape.gradient(naive, critic.layers[-1].kernel))))


def test_penalty_is_finite_when_real_equals_fake():
    keras.utils.set_random_seed(0)
    critic = mlp_discriminator(3, hidden=(16, 16))
    real = batch(10, (3,), seed=12)
    with tf.GradientTape() as tape:
        penalty = gradient_penalty(critic, real, tf.identity(real), seed=1)
    assert bool(tf.math.is_finite(penalty)) and float(penalty) > 0
    grads = tape.gradient(penalty, critic.trainable_variables)
    assert float(tf.reduce_sum(tf.abs(grads[0]))) > 0
    assert all(g is None or bool(tf.reduce_all(tf.math.is_finite(g))) for g in grads)
    again = gradient_penalty(critic, real, tf.identity(real), seed=2)
    assert float(again) == pytest.approx(float(penalty), rel=1e-6)
    flat = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)])
    flat.layers[0].bias.assign(tf.fill((4,), -100.0))
    with tf.GradientTape() as tape:
        penalty = gradient_penalty(flat, real, tf.identity(real), seed=1)
    assert float(penalty) == pytest.approx(10.0)
    grads = tape.gradient(penalty, flat.trainable_variables)
    assert all(g is None or bool(tf.reduce_all(tf.math.is_finite(g))) for g in grads)


def test_a_critic_that_ignores_its_input_has_penalty_weight_and_r1_zero():
    bias = tf.Variable(0.3)
    critic = lambda x: tf.fill((x.shape[0],), 1.0) * bias  # noqa: E731
    real, fake = batch(5, (2,), seed=13), batch(5, (2,), seed=14)
    assert float(gradient_penalty(critic, real, fake, weight=4.0)) == pytest.approx(4.0)
    assert float(r1_penalty(critic, real)) == 0.0


# ---------------------------------------------------------------------- backprop


def test_one_step_on_the_penalty_moves_the_critic_towards_unit_gradient_norm():
    critic, w = linear_critic((4,), 3.0, seed=15)
    real, fake = batch(16, (4,), seed=16), batch(16, (4,), seed=17)
    kernel = critic.layers[-1].kernel
    before = kernel.numpy().copy()
    optimizer = keras.optimizers.SGD(learning_rate=0.01)
    with tf.GradientTape() as tape:
        penalty = gradient_penalty(critic, real, fake, seed=0)
    grads = tape.gradient(penalty, critic.trainable_variables)
    expected = 2 * 10.0 * (3.0 - 1) * w / 3.0
    np.testing.assert_allclose(grads[0].numpy()[:, 0], expected, rtol=1e-5, atol=1e-6)
    assert grads[1] is None  # the bias does not change the input gradient
    optimizer.apply_gradients([(grads[0], kernel)])
    assert not np.array_equal(kernel.numpy(), before)
    assert float(gradient_penalty(critic, real, fake, seed=0)) < float(penalty)
    with tf.GradientTape() as tape:
        r1 = r1_penalty(critic, real)
    optimizer.apply_gradients([(tape.gradient(r1, kernel), kernel)])
    assert float(r1_penalty(critic, real)) < float(r1)


def test_the_penalties_do_not_reach_the_generator():
    generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
    critic = mlp_discriminator(3, hidden=(8,))
    real = batch(6, (3,), seed=19)
    with tf.GradientTape() as tape:
        fake = generator(batch(6, (2,), seed=18))
        total = gradient_penalty(critic, real, fake, seed=0) + r1_penalty(critic, real)
    g_grads = tape.gradient(total, generator.trainable_variables + critic.trainable_variables)
    assert g_grads[0] is None and g_grads[1] is None
    assert g_grads[2] is not None and bool(tf.reduce_all(tf.math.is_finite(g_grads[2])))


# ------------------------------------------------------------------------ bad input


def test_bad_inputs_get_clear_errors():
    critic = mlp_discriminator(2, hidden=(4,))
    real, fake = batch(4, (2,), seed=20), batch(4, (2,), seed=21)
    with pytest.raises(ValueError, match="real and fake must have the same shape"):
        gradient_penalty(critic, real, fake[:3])
    with pytest.raises(TypeError, match="real must be a floating-point tensor"):
        gradient_penalty(critic, tf.cast(real, tf.int32), fake)
    with pytest.raises(TypeError, match="fake must be a tf.Tensor"):
        gradient_penalty(critic, real, "fake")
    with pytest.raises(TypeError, match="same dtype"):
        gradient_penalty(critic, real, tf.cast(fake, tf.float64))
    with pytest.raises(ValueError, match="weight must be a finite number >= 0"):
        gradient_penalty(critic, real, fake, weight=-1.0)
    with pytest.raises(ValueError, match="weight must be a finite number >= 0"):
        r1_penalty(critic, real, weight=float("nan"))
    bad = real.numpy()
    bad[1, 0] = np.nan
    with pytest.raises(ValueError, match="real contains NaN"):
        gradient_penalty(critic, bad, fake)
    with pytest.raises(ValueError, match="fake contains NaN"):
        gradient_penalty(critic, real, bad)
    with pytest.raises(ValueError, match="real contains NaN"):
        r1_penalty(critic, bad)
    with pytest.raises(ValueError, match=r"real must have shape \(N, \.\.\.\)"):
        gradient_penalty(critic, real[:, 0], fake[:, 0])
    with pytest.raises(TypeError, match="critic must be a callable"):
        gradient_penalty("critic", real, fake)
    with pytest.raises(ValueError, match="critic must return one score per sample"):
        gradient_penalty(lambda x: x, real, fake)
    with pytest.raises(ValueError, match="epsilon must lie in"):
        gradient_penalty(critic, real, fake, epsilon=tf.fill((4,), 1.5))
    with pytest.raises(ValueError, match="epsilon must have shape"):
        gradient_penalty(critic, real, fake, epsilon=tf.fill((3,), 0.5))
    with pytest.raises(ValueError, match="at most one of epsilon, seed and generator"):
        gradient_penalty(critic, real, fake, epsilon=tf.fill((4,), 0.5), seed=1)
    with pytest.raises(ValueError, match="seed must be an int"):
        gradient_penalty(critic, real, fake, seed=-1)
    with pytest.raises(TypeError, match="generator must be a tf.random.Generator"):
        gradient_penalty(critic, real, fake, generator=1)


# ------------------------------------------------------------ spectral normalisation


@pytest.mark.parametrize(
    "make, x_shape",
    [
        (lambda: keras.layers.Dense(30), (8, 20)),
        (lambda: keras.layers.Conv2D(8, 3), (2, 9, 9, 3)),
        (lambda: keras.layers.Conv1D(5, 4), (2, 16, 2)),
    ],
)
def test_spectral_norm_brings_the_largest_singular_value_to_one(make, x_shape):
    keras.utils.set_random_seed(0)
    layer = make()
    layer.build(x_shape)
    layer.kernel.assign(layer.kernel * 5.0)  # sigma well above 1 before
    sigma_before = largest_singular_value(layer.kernel)
    assert sigma_before > 2.0
    wrapped = spectral_norm(layer)
    assert isinstance(wrapped, keras.layers.SpectralNormalization) and wrapped.layer is layer
    x = tf.random.normal(x_shape)
    unnormalised = layer(x)
    # Without training=True nothing is normalised.
    wrapped(x)
    assert largest_singular_value(layer.kernel) == pytest.approx(sigma_before, rel=1e-6)
    for _ in range(30):  # one power-iteration step per call in training mode
        out = wrapped(x, training=True)
    assert largest_singular_value(layer.kernel) == pytest.approx(1.0, abs=0.05)
    # The output is the unnormalised layer's, scaled down (the bias is still 0).
    assert float(tf.reduce_max(tf.abs(out))) < float(tf.reduce_max(tf.abs(unnormalised))) / 1.5


def test_spectral_norm_rejects_what_it_cannot_normalise():
    with pytest.raises(TypeError, match=r"layer must be one of keras.layers.*got str"):
        spectral_norm("dense")
    with pytest.raises(TypeError, match="got ReLU"):
        spectral_norm(keras.layers.ReLU())
    with pytest.raises(TypeError, match="got Conv2DTranspose"):
        spectral_norm(keras.layers.Conv2DTranspose(2, 3))
    with pytest.raises(ValueError, match="n_power_iterations must be a positive int"):
        spectral_norm(keras.layers.Dense(2), n_power_iterations=0)


def test_largest_singular_value_of_known_matrices_and_conv_kernels():
    assert largest_singular_value(np.diag([3.0, -1.0, 0.5])) == pytest.approx(3.0)
    u, v = np.array([1.0, 2.0, 2.0]), np.array([0.6, 0.8])
    assert largest_singular_value(tf.constant(np.outer(u, v))) == pytest.approx(3.0)
    # On an input of the kernel's size a convolution (no bias) is the linear map whose
    # matrix is the (kh * kw * in, out) view: its operator norm, from the Jacobian.
    keras.utils.set_random_seed(2)
    conv = keras.layers.Conv2D(4, (2, 3), use_bias=False)
    x = tf.zeros((1, 2, 3, 3))
    conv.build(x.shape)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reshape(conv(x), (-1,))
    jacobian = tape.jacobian(y, x).numpy().reshape(4, -1).astype(np.float64)
    assert largest_singular_value(conv.kernel) == pytest.approx(np.linalg.norm(jacobian, 2), rel=1e-5)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        largest_singular_value(np.ones(3))
    with pytest.raises(ValueError, match="NaN"):
        largest_singular_value(np.full((2, 2), np.nan))


# ------------------------------------------------------------------ weight clipping


def test_clip_weights_bounds_every_trainable_variable_and_keeps_the_small_ones():
    keras.utils.set_random_seed(1)
    model = mlp_discriminator(2, hidden=(16, 16))
    for v in model.trainable_variables:
        v.assign(v * 10.0)
    before = [v.numpy().copy() for v in model.trainable_variables]
    assert max(float(np.abs(b).max()) for b in before) > 0.05
    assert clip_weights(model, clip=0.05) is model
    for old, new in zip(before, model.trainable_variables):
        assert float(np.abs(new.numpy()).max()) <= np.float32(0.05)
        np.testing.assert_array_equal(new.numpy(), np.clip(old, np.float32(-0.05), np.float32(0.05)))
    # A spectral norm's u vector is not a weight of the critic: left alone.
    sn = spectral_norm(keras.layers.Dense(3))
    sn.build((None, 2))
    sn.vector_u.assign(tf.fill(sn.vector_u.shape, 0.5))
    clip_weights(sn, clip=0.01)
    assert float(tf.reduce_min(sn.vector_u)) == 0.5
    assert float(tf.reduce_max(tf.abs(sn.layer.kernel))) <= np.float32(0.01)
    with pytest.raises(ValueError, match="clip must be a finite number > 0"):
        clip_weights(model, clip=0.0)
    with pytest.raises(ValueError, match="clip must be a finite number > 0"):
        clip_weights(model, clip=-0.01)
    with pytest.raises(TypeError, match="model must be a keras.layers.Layer"):
        clip_weights([tf.ones(2)])


# ---------------------------------------------------------------- Wasserstein losses


def test_wasserstein_losses_are_differences_of_means():
    real = tf.constant([[1.0], [2.0], [6.0]])
    fake = tf.constant([[-1.0], [0.5]])
    assert float(wasserstein_critic_loss(real, fake)) == pytest.approx(-0.25 - 3.0)
    assert float(wasserstein_generator_loss(fake)) == pytest.approx(0.25)
    assert float(wasserstein_critic_loss(real[:, 0], fake[:, 0])) == pytest.approx(-3.25)
    assert float(wasserstein_critic_loss(100 * real, 100 * fake)) == pytest.approx(-325.0)
    with pytest.raises(ValueError, match="same trailing shape"):
        wasserstein_critic_loss(real, fake[:, 0])
    with pytest.raises(ValueError, match=r"fake_scores must have shape \(N, 1\) or \(N,\)"):
        wasserstein_generator_loss(tf.ones((3, 2)))
    with pytest.raises(TypeError, match="real_scores must be a floating-point tensor"):
        wasserstein_critic_loss(tf.ones((3, 1), dtype=tf.int32), fake)
