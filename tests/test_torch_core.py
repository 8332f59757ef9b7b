"""gan_utils.torch: losses on logits, the MLP models, sample_noise and train_step; and the
chapter 3 (PyTorch) exercise checker."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from gan_utils.exercises.training_torch import check_discriminator_loss
from gan_utils.torch import (
    count_parameters,
    discriminator_loss,
    generator_loss,
    mlp_discriminator,
    mlp_generator,
    sample_noise,
    train_step,
)

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def softplus(x: float) -> float:
    return float(np.logaddexp(0.0, x))


def col(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32).reshape(-1, 1)


# ---------------------------------------------------------------------------- losses


def test_discriminator_loss_matches_hand_computed_values():
    real, fake = [2.0, -1.0, 0.5], [0.5, -3.0]
    expected = np.mean([softplus(-a) for a in real]) + np.mean([softplus(a) for a in fake])
    got = discriminator_loss(col(real), col(fake))
    assert got.shape == ()
    assert float(got) == pytest.approx(expected, rel=1e-6)
    # (N,) works like (N, 1).
    assert float(discriminator_loss(col(real)[:, 0], col(fake)[:, 0])) == pytest.approx(expected, rel=1e-6)


def test_discriminator_loss_with_label_smoothing():
    real, fake, y = [2.0, -1.0], [0.5], 0.9
    # BCE(a, y) = y softplus(-a) + (1 - y) softplus(a)
    expected = np.mean([y * softplus(-a) + (1 - y) * softplus(a) for a in real]) + softplus(0.5)
    assert float(discriminator_loss(col(real), col(fake), real_label=y)) == pytest.approx(expected, rel=1e-6)


def test_generator_losses_match_hand_computed_values():
    a = [2.0, -1.0, 0.0, 4.0]
    assert float(generator_loss(col(a))) == pytest.approx(np.mean([softplus(-x) for x in a]), rel=1e-6)
    assert float(generator_loss(col(a), kind="saturating")) == pytest.approx(
        np.mean([-softplus(x) for x in a]), rel=1e-6
    )
    # -log sigmoid(a) and log(1 - sigmoid(a)), the textbook forms, where they are safe to evaluate.
    s = 1 / (1 + np.exp(-np.array(a)))
    assert float(generator_loss(col(a))) == pytest.approx(-np.mean(np.log(s)), rel=1e-6)
    assert float(generator_loss(col(a), kind="saturating")) == pytest.approx(np.mean(np.log(1 - s)), rel=1e-6)


def test_large_logits_give_finite_exact_losses():
    big = col([100.0, -100.0])
    assert float(discriminator_loss(big, big)) == pytest.approx(100.0)  # 50 + 50
    assert float(generator_loss(big)) == pytest.approx(50.0)
    assert float(generator_loss(big, kind="saturating")) == pytest.approx(-50.0)
    for loss in (discriminator_loss(big, -big), generator_loss(-big), generator_loss(big, kind="saturating")):
        assert math.isfinite(float(loss))
    # The gradients are finite too: sigmoid(100) and 1 - sigmoid(100) without overflow.
    x = big.clone().requires_grad_(True)
    discriminator_loss(x, x).backward()
    assert torch.isfinite(x.grad).all()


def test_all_zero_logits_give_two_log_two():
    zero = torch.zeros(5, 1)
    assert float(discriminator_loss(zero, zero)) == pytest.approx(2 * math.log(2), rel=1e-6)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-30, 30, allow_nan=False), min_size=1, max_size=8))
def test_gradients_wrt_logits_saturating_vs_nonsaturating(values):
    """d/da of the per-sample loss: -sigmoid(a) (saturating), -(1 - sigmoid(a)) (non-saturating)."""
    a = torch.tensor(values, dtype=torch.float64).reshape(-1, 1)
    n = a.shape[0]
    for kind, expected in (("saturating", -torch.sigmoid(a)), ("nonsaturating", -(1 - torch.sigmoid(a)))):
        x = a.clone().requires_grad_(True)
        generator_loss(x, kind=kind).backward()
        torch.testing.assert_close(x.grad * n, expected, rtol=1e-9, atol=1e-12)


def test_saturating_gradient_vanishes_where_the_discriminator_rejects_fakes():
    a = col([-10.0]).requires_grad_(True)  # D(G(z)) = sigmoid(-10) = 4.5e-5
    generator_loss(a, kind="saturating").backward()
    saturating = float(a.grad)
    a.grad = None
    generator_loss(a).backward()
    assert abs(saturating) < 1e-4 and float(a.grad) == pytest.approx(-1.0, abs=1e-4)


def test_discriminator_loss_minimum():
    fake = col([-3.0])
    grid = torch.linspace(-10, 10, 2001)
    # Loss falls monotonically as real logits grow and fake logits fall; it is never negative.
    real_curve = torch.stack([discriminator_loss(col([float(r)]), fake) for r in grid])
    assert torch.all(real_curve[1:] <= real_curve[:-1]) and torch.all(real_curve >= 0)
    assert float(discriminator_loss(col([30.0]), col([-30.0]))) < 1e-12
    # With label smoothing the best real logit is logit(0.9) = log 9, and the floor is H(0.9).
    smooth = torch.stack([discriminator_loss(col([float(r)]), col([-30.0]), real_label=0.9) for r in grid])
    assert float(grid[int(torch.argmin(smooth))]) == pytest.approx(math.log(9), abs=0.01)
    entropy = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))
    assert float(smooth.min()) == pytest.approx(entropy, abs=1e-5)


@pytest.mark.parametrize(
    "call, error, fragment",
    [
        (lambda: discriminator_loss(np.zeros((2, 1)), col([0.0])), TypeError, "real_logits must be a torch.Tensor"),
        (lambda: discriminator_loss(col([0.0]), torch.zeros(2, 2)), ValueError, "fake_logits must have shape (N, 1) or (N,)"),
        (lambda: discriminator_loss(torch.zeros(0, 1), col([0.0])), ValueError, "got (0, 1)"),
        (lambda: discriminator_loss(torch.zeros(2, 1, dtype=torch.int64), col([0.0])), TypeError, "floating-point"),
        (lambda: discriminator_loss(col([0.0, 1.0]), torch.zeros(2)), ValueError, "same trailing shape"),
        (lambda: discriminator_loss(col([0.0]), col([0.0]), real_label=0.0), ValueError, "real_label must be a number in (0, 1]"),
        (lambda: discriminator_loss(col([0.0]), col([0.0]), real_label=1.5), ValueError, "got 1.5"),
        (lambda: discriminator_loss(col([0.0]), col([0.0]), real_label=True), ValueError, "real_label"),
        (lambda: generator_loss(col([0.0]), kind="minimax"), ValueError, "('nonsaturating', 'saturating')"),
        (lambda: generator_loss([0.0]), TypeError, "fake_logits must be a torch.Tensor"),
    ],
)
def test_loss_validation(call, error, fragment):
    with pytest.raises(error) as info:
        call()
    assert fragment in str(info.value)


# ---------------------------------------------------------------------------- models


def test_mlp_shapes_layers_and_parameter_counts():
    G = mlp_generator(2, 2)
    D = mlp_discriminator(2)
    assert [type(m) for m in G] == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    assert [type(m) for m in D] == [nn.Linear, nn.LeakyReLU, nn.Linear, nn.LeakyReLU, nn.Linear]
    assert D[1].negative_slope == 0.2
    assert count_parameters(G) == (2 * 64 + 64) + (64 * 64 + 64) + (64 * 2 + 2) == 4482
    assert count_parameters(D) == (2 * 64 + 64) + (64 * 64 + 64) + (64 + 1) == 4417
    z = torch.randn(7, 2)
    assert G(z).shape == (7, 2) and D(G(z)).shape == (7, 1)
    wide = mlp_generator(16, 1, hidden=(32, 32, 32))
    assert wide(torch.randn(3, 16)).shape == (3, 1)
    assert count_parameters(mlp_discriminator(1, hidden=())) == 2  # a single Linear(1, 1)
    assert count_parameters(mlp_discriminator(2, negative_slope=0.0)) == 4417


def test_generator_output_is_unbounded():
    G = mlp_generator(2, 2, hidden=(8,))
    with torch.no_grad():
        G[-1].bias.fill_(50.0)
    assert float(G(torch.zeros(1, 2)).detach().min()) > 1.0  # no tanh/sigmoid at the end


@pytest.mark.parametrize(
    "call, error, fragment",
    [
        (lambda: mlp_generator(0, 2), ValueError, "latent_dim must be a positive int, got 0"),
        (lambda: mlp_generator(2, 2.0), ValueError, "data_dim must be a positive int"),
        (lambda: mlp_generator(2, 2, hidden=64), TypeError, "hidden must be a sequence"),
        (lambda: mlp_discriminator(2, hidden=(64, -1)), ValueError, "hidden[1] must be a positive int"),
        (lambda: mlp_discriminator(2, negative_slope=1.5), ValueError, "negative_slope must be a number in [0, 1)"),
        (lambda: count_parameters([1, 2]), TypeError, "torch.nn.Module"),
    ],
)
def test_model_validation(call, error, fragment):
    with pytest.raises(error) as info:
        call()
    assert fragment in str(info.value)


# ---------------------------------------------------------------------------- sample_noise


def test_sample_noise():
    z = sample_noise(5, 3)
    assert z.shape == (5, 3) and z.dtype == torch.float32
    a = sample_noise(4, 2, generator=torch.Generator().manual_seed(1))
    b = sample_noise(4, 2, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    torch.manual_seed(3)
    c = sample_noise(4, 2)
    torch.manual_seed(3)
    assert torch.equal(c, torch.randn(4, 2))  # the global generator, like torch.randn
    big = sample_noise(20000, 2, generator=torch.Generator().manual_seed(0))
    assert abs(float(big.mean())) < 0.02 and float(big.std()) == pytest.approx(1.0, abs=0.02)
    with pytest.raises(ValueError, match="n must be a positive int"):
        sample_noise(0, 2)
    with pytest.raises(ValueError, match="latent_dim must be a positive int"):
        sample_noise(2, True)
    with pytest.raises(TypeError, match="torch.Generator"):
        sample_noise(2, 2, generator=np.random.default_rng(0))


# ---------------------------------------------------------------------------- train_step

LATENT = 3


def make_gan(seed=0, lr=1e-2, optimizer=torch.optim.Adam):
    torch.manual_seed(seed)
    G = mlp_generator(LATENT, 2, hidden=(16,))
    D = mlp_discriminator(2, hidden=(16,))
    return G, D, optimizer(G.parameters(), lr=lr), optimizer(D.parameters(), lr=lr)


def params(model):
    return [p.detach().clone() for p in model.parameters()]


def changed(before, model):
    return any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def real_batch(n=32, seed=1):
    return torch.randn(n, 2, generator=torch.Generator().manual_seed(seed)) + 2.0


def count_calls(optimizer):
    calls = []
    original = optimizer.step

    def step(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    optimizer.step = step
    return calls


@pytest.mark.parametrize("update", ["alternating", "simultaneous"])
def test_a_step_changes_both_nets_and_returns_floats(update):
    G, D, og, od = make_gan()
    G.eval(), D.eval()
    g0, d0 = params(G), params(D)
    out = train_step(G, D, og, od, real_batch(), latent_dim=LATENT, update=update)
    assert set(out) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(type(v) is float and math.isfinite(v) for v in out.values())
    assert 0 < out["d_real"] < 1 and 0 < out["d_fake"] < 1 and out["d_loss"] > 0
    assert changed(g0, G) and changed(d0, D)
    assert G.training and D.training


def test_discriminator_updates_send_no_gradient_into_the_generator():
    """The .detach(): with d_steps=3, G's weights receive exactly one gradient (its own step)."""
    G, D, og, od = make_gan()
    hits = []
    G[0].weight.register_hook(lambda grad: hits.append(1))
    train_step(G, D, og, od, real_batch(), latent_dim=LATENT, d_steps=3)
    assert len(hits) == 1
    # With a generator optimiser that cannot move, the D updates leave G exactly as it was.
    G, D, _, od = make_gan()
    frozen = torch.optim.SGD(G.parameters(), lr=0.0)
    g0, d0 = params(G), params(D)
    train_step(G, D, frozen, od, real_batch(), latent_dim=LATENT, d_steps=3)
    assert not changed(g0, G) and changed(d0, D)


def test_alternating_matches_a_manual_computation():
    """k D-steps on detached fakes, then G's step against the *updated* D (plain SGD, by hand)."""
    lr = 0.1
    G, D, og, od = make_gan(optimizer=torch.optim.SGD, lr=lr)
    G2, D2 = copy.deepcopy(G), copy.deepcopy(D)
    real = real_batch()
    torch.manual_seed(7)
    out = train_step(G, D, og, od, real, latent_dim=LATENT, d_steps=2)
    torch.manual_seed(7)
    for _ in range(2):
        z = torch.randn(len(real), LATENT)
        with torch.no_grad():
            fake = G2(z)
        d_loss = F.softplus(-D2(real)).mean() + F.softplus(D2(fake)).mean()
        grads = torch.autograd.grad(d_loss, list(D2.parameters()))
        with torch.no_grad():
            for p, g in zip(D2.parameters(), grads):
                p -= lr * g
    z = torch.randn(len(real), LATENT)
    g_loss = F.softplus(-D2(G2(z))).mean()
    grads = torch.autograd.grad(g_loss, list(G2.parameters()))
    with torch.no_grad():
        for p, g in zip(G2.parameters(), grads):
            p -= lr * g
    assert out["d_loss"] == pytest.approx(float(d_loss.detach()), rel=1e-5)
    assert out["g_loss"] == pytest.approx(float(g_loss.detach()), rel=1e-5)
    for a, b in zip(list(G.parameters()) + list(D.parameters()), list(G2.parameters()) + list(D2.parameters())):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_simultaneous_uses_the_pre_update_parameters():
    lr = 0.1
    G, D, og, od = make_gan(optimizer=torch.optim.SGD, lr=lr)
    G2, D2 = copy.deepcopy(G), copy.deepcopy(D)
    real = real_batch()
    torch.manual_seed(11)
    out = train_step(G, D, og, od, real, latent_dim=LATENT, update="simultaneous")
    torch.manual_seed(11)
    z = torch.randn(len(real), LATENT)
    fake_logits = D2(G2(z))
    d_loss = F.softplus(-D2(real)).mean() + F.softplus(fake_logits).mean()
    g_loss = F.softplus(-fake_logits).mean()
    d_grads = torch.autograd.grad(d_loss, list(D2.parameters()), retain_graph=True)
    g_grads = torch.autograd.grad(g_loss, list(G2.parameters()))  # at the *old* D
    with torch.no_grad():
        for p, g in zip(list(D2.parameters()) + list(G2.parameters()), d_grads + g_grads):
            p -= lr * g
    assert out["d_loss"] == pytest.approx(float(d_loss.detach()), rel=1e-5)
    assert out["g_loss"] == pytest.approx(float(g_loss.detach()), rel=1e-5)
    for a, b in zip(list(G.parameters()) + list(D.parameters()), list(G2.parameters()) + list(D2.parameters())):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    # ... which is not what the alternating step does.
    G3, D3, og3, od3 = make_gan(optimizer=torch.optim.SGD, lr=lr)
    torch.manual_seed(11)
    train_step(G3, D3, og3, od3, real, latent_dim=LATENT, update="alternating")
    assert not torch.allclose(G3[0].weight, G[0].weight)


@pytest.mark.parametrize("k", [1, 3])
def test_d_steps_performs_k_discriminator_updates(k):
    G, D, og, od = make_gan()
    d_calls, g_calls = count_calls(od), count_calls(og)
    train_step(G, D, og, od, real_batch(), latent_dim=LATENT, d_steps=k)
    assert (len(d_calls), len(g_calls)) == (k, 1)


def test_a_sequence_of_batches_gives_one_fresh_batch_per_discriminator_step():
    G, D, og, od = make_gan()
    batches = [real_batch(seed=s) for s in range(3)]
    seen = []
    D.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    train_step(G, D, og, od, batches, latent_dim=LATENT, d_steps=3)
    reals = [x for x in seen if any(x is b for b in batches)]
    assert [next(i for i, b in enumerate(batches) if x is b) for x in reals] == [0, 1, 2]


class _NaNOnSecondCall(nn.Module):
    """A generator that behaves for the D step and returns NaN for the G step."""

    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(LATENT, 2)
        self.calls = 0

    def forward(self, z):
        self.calls += 1
        out = self.inner(z)
        return out * float("nan") if self.calls > 1 else out


def test_nan_guard_names_the_loss_and_skips_the_update():
    G, D, og, od = make_gan()
    bad = real_batch()
    bad[0, 0] = float("nan")
    d0 = params(D)
    with pytest.raises(FloatingPointError, match=r"training diverged: d_loss=nan at this step"):
        train_step(G, D, og, od, bad, latent_dim=LATENT)
    assert not changed(d0, D)

    G = _NaNOnSecondCall()
    og = torch.optim.Adam(G.parameters(), lr=1e-2)
    g0 = params(G)
    with pytest.raises(FloatingPointError, match=r"g_loss=nan"):
        train_step(G, D, og, od, real_batch(), latent_dim=LATENT)
    assert not changed(g0, G)


@pytest.mark.parametrize("update", ["alternating", "simultaneous"])
def test_same_seed_same_losses(update):
    def run():
        G, D, og, od = make_gan(seed=5)
        torch.manual_seed(6)
        return [train_step(G, D, og, od, real_batch(), latent_dim=LATENT, update=update) for _ in range(4)]

    assert run() == run()


@pytest.mark.parametrize(
    "kwargs, error, fragment",
    [
        (dict(update="both"), ValueError, "unknown update 'both'; expected one of ('alternating', 'simultaneous')"),
        (dict(g_loss_kind="mse"), ValueError, "unknown g_loss_kind 'mse'"),
        (dict(d_steps=0), ValueError, "d_steps must be a positive int, got 0"),
        (dict(d_steps=2, update="simultaneous"), ValueError, "d_steps must be 1"),
        (dict(real_label=0.0), ValueError, "real_label must be a number in (0, 1]"),
        (dict(latent_dim=0), ValueError, "latent_dim must be a positive int"),
        (dict(real=np.zeros((4, 2), dtype=np.float32)), TypeError, "real must be a torch.Tensor batch"),
        (dict(real=[torch.zeros(4, 2)] * 2, d_steps=3), ValueError, "sequence of 2 batches but d_steps=3"),
        (dict(real=torch.zeros(4)), ValueError, "shape (N, ...)"),
        (dict(d_optimizer="adam"), TypeError, "d_optimizer must be a torch.optim.Optimizer"),
        (dict(generator=lambda z: z), TypeError, "generator must be a torch.nn.Module"),
    ],
)
def test_train_step_validation_happens_before_any_update(kwargs, error, fragment):
    G, D, og, od = make_gan()
    args = dict(generator=G, discriminator=D, g_optimizer=og, d_optimizer=od, real=real_batch(), latent_dim=LATENT)
    args.update(kwargs)
    g0, d0 = params(G), params(D)
    positional = [args.pop(k) for k in ("generator", "discriminator", "g_optimizer", "d_optimizer", "real")]
    with pytest.raises(error) as info:
        train_step(*positional, **args)
    assert fragment in str(info.value)
    assert not changed(g0, G) and not changed(d0, D)


# ---------------------------------------------------------------------------- exercise checker


def reference_solution(real_logits, fake_logits):
    return F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits)) + F.binary_cross_entropy_with_logits(
        fake_logits, torch.zeros_like(fake_logits)
    )


def test_the_reference_solution_and_the_package_pass_the_checker():
    assert check_discriminator_loss(reference_solution, verbose=False)
    assert check_discriminator_loss(discriminator_loss, verbose=False)


def stub(real_logits, fake_logits):
    raise NotImplementedError("Exercise 3.1: write the discriminator loss")


@pytest.mark.parametrize(
    "fn, fragment",
    [
        # wrong target labels: real labelled 0 and fake 1
        (lambda r, f: reference_solution(f, r), "case 2/4 (one real, one fake)"),
        # a sum instead of a mean over each batch
        (
            lambda r, f: F.binary_cross_entropy_with_logits(r, torch.ones_like(r), reduction="sum")
            + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f), reduction="sum"),
            "do not sum",
        ),
        # one mean over both batches: half the loss
        (
            lambda r, f: F.binary_cross_entropy_with_logits(
                torch.cat([r, f]), torch.cat([torch.ones_like(r), torch.zeros_like(f)])
            ),
            "averaged instead of added",
        ),
        # sigmoid, then BCE on probabilities: clamped log for large logits
        (
            lambda r, f: F.binary_cross_entropy(torch.sigmoid(r), torch.ones_like(r))
            + F.binary_cross_entropy(torch.sigmoid(f), torch.zeros_like(f)),
            "expected 240, got 200",
        ),
        # sigmoid and a hand-written log: inf for large logits
        (
            lambda r, f: -torch.log(torch.sigmoid(r)).mean() - torch.log(1 - torch.sigmoid(f)).mean(),
            "expected 240, got inf",
        ),
        # sigmoid applied before the with-logits loss
        (lambda r, f: reference_solution(torch.sigmoid(r), torch.sigmoid(f)), "got 1.44815"),
    ],
)
def test_wrong_solutions_are_rejected_with_the_right_hint(fn, fragment):
    verdict = check_discriminator_loss(fn, verbose=False)
    assert verdict.status == "fail"
    assert fragment in verdict.message


def test_a_blank_stub_is_not_attempted():
    verdict = check_discriminator_loss(stub, verbose=False)
    assert verdict.status == "not attempted"
