"""gan_utils.torch.regularizers (gradient penalty, R1, spectral norm, weight clipping) and
the Wasserstein losses of gan_utils.torch.losses.

Closed forms: a linear critic ``f(x) = w.x + b`` has input gradient ``w`` everywhere, so
WGAN-GP is ``weight (||w|| - 1)^2`` and R1 is ``weight / 2 ||w||^2``; the critic
``f(x) = ||x||^2 / 2`` has gradient ``x``, so the penalty depends on where the
interpolation points are, which checks the per-sample interpolation weights.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from gan_utils.torch import (
    clip_weights,
    gradient_penalty,
    largest_singular_value,
    mlp_discriminator,
    r1_penalty,
    spectral_norm,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)


# float(penalty) on a tensor that keeps its graph is what these tests mean to do.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad=True to a scalar"),
    pytest.mark.usefixtures("torch_one_thread"),
]


# (batch shape without N, the shape of a linear critic's weight vector): points in the
# plane, and MNIST-shaped images (N, 1, 28, 28).
SHAPES = [(2,), (5,), (1, 28, 28)]


def linear_critic(shape, norm, seed, bias=0.7):
    """``f(x) = w . flatten(x) + b`` with ``||w|| = norm``, as an ``nn.Sequential``."""
    dim = int(np.prod(shape))
    rng = np.random.default_rng(seed)
    w = rng.normal(size=dim)
    w *= norm / np.linalg.norm(w)
    critic = nn.Sequential(nn.Flatten(), nn.Linear(dim, 1))
    with torch.no_grad():
        critic[1].weight.copy_(torch.tensor(w[None, :], dtype=torch.float32))
        critic[1].bias.fill_(bias)
    return critic, w


def batch(n, shape, seed, scale=1.0):
    return torch.from_numpy(np.random.default_rng(seed).normal(size=(n, *shape)).astype(np.float32) * scale)


def half_squared_norm(x):
    """``f(x) = ||x||^2 / 2`` per sample; its gradient is ``x``."""
    return 0.5 * x.reshape(x.shape[0], -1).pow(2).sum(dim=1)


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


@pytest.mark.parametrize("shape", [(3,), (1, 28, 28)])
def test_r1_of_half_squared_norm_is_half_weight_times_mean_squared_norm_of_the_data(shape):
    real = batch(7, shape, seed=5)
    expected = 10.0 / 2 * np.mean(np.sum(real.numpy().reshape(7, -1).astype(np.float64) ** 2, axis=1))
    assert float(r1_penalty(half_squared_norm, real)) == pytest.approx(expected, rel=1e-5)


# -------------------------------------------------------- per-sample interpolation


@pytest.mark.parametrize("shape", [(2,), (1, 28, 28)])
def test_gradient_penalty_interpolates_each_sample_with_its_own_epsilon(shape):
    n = 9
    real, fake = batch(n, shape, seed=6), batch(n, shape, seed=7, scale=0.2)
    eps = np.random.default_rng(8).uniform(size=n).astype(np.float32)
    r, f = real.numpy().astype(np.float64), fake.numpy().astype(np.float64)
    e = eps.astype(np.float64).reshape((n,) + (1,) * len(shape))
    x_hat = e * r + (1 - e) * f  # the gradient of ||x||^2 / 2 at x_hat is x_hat
    norms = np.linalg.norm(x_hat.reshape(n, -1), axis=1)
    expected = 10.0 * np.mean((norms - 1) ** 2)
    got = gradient_penalty(half_squared_norm, real, fake, epsilon=torch.from_numpy(eps))
    assert float(got) == pytest.approx(expected, rel=1e-5)
    # (N, 1, ..., 1) is the same as (N,); a NumPy array is accepted.
    full = eps.reshape((n,) + (1,) * len(shape))
    assert float(gradient_penalty(half_squared_norm, real, fake, epsilon=full)) == pytest.approx(expected, rel=1e-5)
    # One epsilon shared by the whole batch gives a different number: the test can tell.
    shared = np.full(n, eps.mean(), dtype=np.float32)
    assert abs(float(gradient_penalty(half_squared_norm, real, fake, epsilon=shared)) - expected) > 1e-3 * expected


def record_inputs(store):
    def critic(x):
        store.append(x.detach().clone())
        return x.reshape(x.shape[0], -1).sum(dim=1)

    return critic


@pytest.mark.parametrize("shape", [(2,), (1, 4, 4)])
def test_drawn_epsilons_are_per_sample_uniform_and_reproducible(shape):
    n = 2000
    real, fake = torch.ones(n, *shape), torch.zeros(n, *shape)  # then x_hat_i = eps_i everywhere
    seen = []
    gradient_penalty(record_inputs(seen), real, fake, seed=123)
    x_hat = seen[0].reshape(n, -1)
    eps = x_hat[:, 0].numpy().astype(np.float64)
    # One weight per sample, the same for all of its features.
    assert torch.equal(x_hat, x_hat[:, :1].expand_as(x_hat))
    assert np.all((eps > 0) & (eps < 1))
    assert len(np.unique(eps)) == n
    # U(0, 1): mean 1/2, variance 1/12, and each decile holds about a tenth (loose: 6 sigma).
    assert abs(eps.mean() - 0.5) < 6 * np.sqrt(1 / 12 / n)
    assert abs(eps.var() - 1 / 12) < 0.01
    counts = np.histogram(eps, bins=10, range=(0, 1))[0]
    assert np.all(np.abs(counts - n / 10) < 6 * np.sqrt(n * 0.1 * 0.9))
    # The same seed gives the same weights, another seed others, and so does a torch.Generator.
    again, other, gen = [], [], []
    gradient_penalty(record_inputs(again), real, fake, seed=123)
    gradient_penalty(record_inputs(other), real, fake, seed=124)
    gradient_penalty(record_inputs(gen), real, fake, generator=torch.Generator().manual_seed(123))
    assert torch.equal(again[0], seen[0]) and torch.equal(gen[0], seen[0])
    assert not torch.equal(other[0], seen[0])
    # The global generator (seeded by seed_everything) is used by default.
    torch.manual_seed(5)
    first = []
    gradient_penalty(record_inputs(first), real, fake)
    torch.manual_seed(5)
    second = []
    gradient_penalty(record_inputs(second), real, fake)
    assert torch.equal(first[0], second[0]) and not torch.equal(first[0], seen[0])


# ------------------------------------------------------------- finite at the edges


def naive_gradient_penalty(critic, real, fake, eps):
    """The textbook formula ``sqrt(sum g^2)``: its derivative at a zero gradient is NaN.

    (``torch.linalg.vector_norm`` happens to define its derivative at 0 as 0, but a hand-
    written square root, or TensorFlow's ``tf.norm``, does not.)
    """
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return 10.0 * (grad.reshape(len(grad), -1).pow(2).sum(dim=1).sqrt() - 1).pow(2).mean()


@pytest.mark.parametrize("shape", [(2,), (1, 28, 28)])
def test_penalty_and_its_parameter_gradients_are_finite_for_a_zero_input_gradient(shape):
    critic, _ = linear_critic(shape, 0.0, seed=9)  # w = 0: a constant critic, input gradient exactly 0
    real, fake = batch(4, shape, seed=10), batch(4, shape, seed=11)
    eps = torch.full((4,) + (1,) * len(shape), 0.25)
    penalty = gradient_penalty(critic, real, fake, epsilon=eps)
    assert float(penalty) == pytest.approx(10.0)  # (0 - 1)^2 for every sample
    penalty.backward()
    for p in critic.parameters():
        assert p.grad is None or torch.isfinite(p.grad).all()
    # The plain norm would have put NaN into the weights: the safe norm is needed.
    critic.zero_grad()
    naive_gradient_penalty(critic, real, fake, eps).backward()
    assert torch.isnan(critic[1].weight.grad).any()


def test_penalty_is_finite_when_real_equals_fake():
    torch.manual_seed(0)
    critic = mlp_discriminator(3, hidden=(16, 16))
    real = batch(10, (3,), seed=12)
    penalty = gradient_penalty(critic, real, real.clone(), seed=1)
    assert torch.isfinite(penalty) and float(penalty) > 0
    penalty.backward()
    # (The last bias does not change the input gradient: no gradient reaches it.)
    assert torch.isfinite(critic[0].weight.grad).all() and float(critic[0].weight.grad.abs().sum()) > 0
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in critic.parameters())
    # x_hat = real whatever epsilon is: the penalty does not depend on it.
    again = gradient_penalty(critic, real, real.clone(), seed=2)
    assert float(again) == pytest.approx(float(penalty), rel=1e-6)
    # A ReLU critic that is flat at the data (all units off) has a zero gradient there, too.
    flat = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    with torch.no_grad():
        flat[0].bias.fill_(-100.0)
    penalty = gradient_penalty(flat, real, real.clone(), seed=1)
    assert float(penalty) == pytest.approx(10.0)
    penalty.backward()
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in flat.parameters())


def test_a_critic_that_ignores_its_input_has_penalty_weight_and_r1_zero():
    bias = nn.Parameter(torch.tensor(0.3))
    critic = lambda x: bias.expand(x.shape[0])  # noqa: E731
    real, fake = batch(5, (2,), seed=13), batch(5, (2,), seed=14)
    assert float(gradient_penalty(critic, real, fake, weight=4.0)) == pytest.approx(4.0)
    assert float(r1_penalty(critic, real)) == 0.0
    # No parameter at all: the same, without autograd.
    assert float(gradient_penalty(lambda x: torch.zeros(x.shape[0]), real, fake, weight=4.0)) == pytest.approx(4.0)


# ---------------------------------------------------------------------- backprop


def test_one_step_on_the_penalty_moves_the_critic_towards_unit_gradient_norm():
    critic, w = linear_critic((4,), 3.0, seed=15)
    real, fake = batch(16, (4,), seed=16), batch(16, (4,), seed=17)
    before = critic[1].weight.detach().clone()
    optimizer = torch.optim.SGD(critic.parameters(), lr=0.01)
    penalty = gradient_penalty(critic, real, fake, seed=0)
    optimizer.zero_grad()
    penalty.backward()
    # d/dw weight (||w|| - 1)^2 = 2 weight (||w|| - 1) w / ||w||.
    expected = 2 * 10.0 * (3.0 - 1) * w / 3.0
    np.testing.assert_allclose(critic[1].weight.grad.numpy()[0], expected, rtol=1e-5, atol=1e-6)
    assert critic[1].bias.grad is None  # the bias does not change the input gradient
    optimizer.step()
    assert not torch.equal(critic[1].weight, before)
    after = gradient_penalty(critic, real, fake, seed=0)
    assert float(after) < float(penalty)
    # R1 shrinks the weights, too.
    r1 = r1_penalty(critic, real)
    optimizer.zero_grad()
    r1.backward()
    optimizer.step()
    assert float(r1_penalty(critic, real)) < float(r1)


def test_the_penalties_do_not_reach_the_generator():
    generator = nn.Linear(2, 3)
    critic = mlp_discriminator(3, hidden=(8,))
    fake = generator(batch(6, (2,), seed=18))  # attached to the generator's graph
    real = batch(6, (3,), seed=19)
    (gradient_penalty(critic, real, fake, seed=0) + r1_penalty(critic, real)).backward()
    assert generator.weight.grad is None and generator.bias.grad is None
    assert critic[0].weight.grad is not None and torch.isfinite(critic[0].weight.grad).all()


# ------------------------------------------------------------------------ bad input


def test_bad_inputs_get_clear_errors():
    critic = mlp_discriminator(2, hidden=(4,))
    real, fake = batch(4, (2,), seed=20), batch(4, (2,), seed=21)
    with pytest.raises(ValueError, match="real and fake must have the same shape"):
        gradient_penalty(critic, real, fake[:3])
    with pytest.raises(TypeError, match="real must be a floating-point tensor"):
        gradient_penalty(critic, real.long(), fake)
    with pytest.raises(TypeError, match="fake must be a torch.Tensor"):
        gradient_penalty(critic, real, fake.numpy())
    with pytest.raises(TypeError, match="same dtype"):
        gradient_penalty(critic, real, fake.double())
    with pytest.raises(ValueError, match="weight must be a finite number >= 0"):
        gradient_penalty(critic, real, fake, weight=-1.0)
    with pytest.raises(ValueError, match="weight must be a finite number >= 0"):
        r1_penalty(critic, real, weight=float("nan"))
    bad = real.clone()
    bad[1, 0] = float("nan")
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
        gradient_penalty(critic, real, fake, epsilon=torch.full((4,), 1.5))
    with pytest.raises(ValueError, match="epsilon must have shape"):
        gradient_penalty(critic, real, fake, epsilon=torch.full((3,), 0.5))
    with pytest.raises(ValueError, match="at most one of epsilon, seed and generator"):
        gradient_penalty(critic, real, fake, epsilon=torch.full((4,), 0.5), seed=1)
    with pytest.raises(ValueError, match="seed must be an int"):
        gradient_penalty(critic, real, fake, seed=-1)
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        gradient_penalty(critic, real, fake, generator=1)
    with torch.no_grad(), pytest.raises(RuntimeError, match="needs autograd"):
        gradient_penalty(critic, real, fake)
    with torch.no_grad(), pytest.raises(RuntimeError, match="needs autograd"):
        r1_penalty(critic, real)


# ------------------------------------------------------------ spectral normalisation


@pytest.mark.parametrize(
    "make, x_shape",
    [
        (lambda: nn.Linear(20, 30), (8, 20)),
        (lambda: nn.Conv2d(3, 8, kernel_size=3), (2, 3, 9, 9)),
        (lambda: nn.Conv1d(2, 5, kernel_size=4), (2, 2, 16)),
    ],
)
def test_spectral_norm_brings_the_largest_singular_value_to_one(make, x_shape):
    torch.manual_seed(0)
    layer = make()
    with torch.no_grad():
        layer.weight.mul_(5.0)  # sigma well above 1 before
    sigma_before = largest_singular_value(layer.weight)
    assert sigma_before > 2.0
    wrapped = spectral_norm(layer)
    assert wrapped is layer
    x = torch.randn(x_shape)
    layer.train()
    for _ in range(30):  # one power-iteration step per forward pass in training mode
        layer(x)
    assert largest_singular_value(layer.weight) == pytest.approx(1.0, abs=0.05)
    # The stored weight is untouched: the division happens at each access.
    assert largest_singular_value(layer.parametrizations.weight.original) == pytest.approx(sigma_before, rel=1e-6)
    # The layer computes with the normalised weight.
    with torch.no_grad():
        layer.eval()
        scaled = layer(x)
    ref = make()
    with torch.no_grad():
        ref.weight.copy_(layer.weight)
        ref.bias.copy_(layer.bias)
        torch.testing.assert_close(ref(x), scaled)


def test_spectral_norm_rejects_what_it_cannot_normalise():
    with pytest.raises(TypeError, match=r"layer must be one of nn.Linear.*got str"):
        spectral_norm("dense")
    with pytest.raises(TypeError, match="got ReLU"):
        spectral_norm(nn.ReLU())
    with pytest.raises(TypeError, match="got ConvTranspose2d"):
        spectral_norm(nn.ConvTranspose2d(2, 3, 3))
    with pytest.raises(ValueError, match="n_power_iterations must be a positive int"):
        spectral_norm(nn.Linear(2, 2), n_power_iterations=0)


def test_largest_singular_value_of_known_matrices_and_conv_kernels():
    assert largest_singular_value(np.diag([3.0, -1.0, 0.5])) == pytest.approx(3.0)
    # A rank-one matrix u v^T has sigma = ||u|| ||v||.
    u, v = np.array([1.0, 2.0, 2.0]), np.array([0.6, 0.8])
    assert largest_singular_value(torch.tensor(np.outer(u, v))) == pytest.approx(3.0)
    # Conv weight (out=2, in=1, 2, 2): each output channel is one orthogonal row of the
    # (out, in * kh * kw) matrix, with norms 3 and 2.
    weight = np.zeros((2, 1, 2, 2))
    weight[0, 0, 0, 0] = 3.0
    weight[1, 0, 0, 1] = 2.0
    assert largest_singular_value(weight) == pytest.approx(3.0)
    # On an input of the kernel's size a convolution (no bias) is the linear map whose
    # matrix is the (out, in * kh * kw) view: its operator norm, from the Jacobian.
    torch.manual_seed(2)
    conv = nn.Conv2d(3, 4, kernel_size=(2, 3), bias=False)
    jacobian = torch.autograd.functional.jacobian(lambda x: conv(x).reshape(-1), torch.zeros(1, 3, 2, 3))
    operator_norm = np.linalg.norm(jacobian.reshape(4, -1).numpy().astype(np.float64), 2)
    assert largest_singular_value(conv.weight) == pytest.approx(operator_norm, rel=1e-5)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        largest_singular_value(np.ones(3))
    with pytest.raises(ValueError, match="NaN"):
        largest_singular_value(np.full((2, 2), np.nan))


# ------------------------------------------------------------------ weight clipping


def test_clip_weights_bounds_every_parameter_and_keeps_the_small_ones():
    torch.manual_seed(1)
    model = mlp_discriminator(2, hidden=(16, 16))
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(10.0)
    before = [p.detach().clone() for p in model.parameters()]
    assert max(float(p.abs().max()) for p in before) > 0.05
    assert clip_weights(model, clip=0.05) is model
    for old, new in zip(before, model.parameters()):
        assert float(new.abs().max()) <= np.float32(0.05)
        torch.testing.assert_close(new.detach(), old.clamp(-0.05, 0.05))
    with pytest.raises(ValueError, match="clip must be a finite number > 0"):
        clip_weights(model, clip=0.0)
    with pytest.raises(ValueError, match="clip must be a finite number > 0"):
        clip_weights(model, clip=-0.01)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        clip_weights([torch.ones(2)])


# ---------------------------------------------------------------- Wasserstein losses


def test_wasserstein_losses_are_differences_of_means():
    real = torch.tensor([[1.0], [2.0], [6.0]])
    fake = torch.tensor([[-1.0], [0.5]])
    assert float(wasserstein_critic_loss(real, fake)) == pytest.approx(-0.25 - 3.0)
    assert float(wasserstein_generator_loss(fake)) == pytest.approx(0.25)
    assert float(wasserstein_critic_loss(real[:, 0], fake[:, 0])) == pytest.approx(-3.25)
    # Unbounded, unlike the cross-entropy: scaling the scores scales the loss.
    assert float(wasserstein_critic_loss(100 * real, 100 * fake)) == pytest.approx(-325.0)
    with pytest.raises(ValueError, match="same trailing shape"):
        wasserstein_critic_loss(real, fake[:, 0])
    with pytest.raises(ValueError, match=r"fake_scores must have shape \(N, 1\) or \(N,\)"):
        wasserstein_generator_loss(torch.ones(3, 2))
    with pytest.raises(TypeError, match="real_scores must be a floating-point tensor"):
        wasserstein_critic_loss(torch.ones(3, 1, dtype=torch.long), fake)
