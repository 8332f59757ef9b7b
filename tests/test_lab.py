"""Tests of chapter 7's instability lab engine (gan_utils.lab)."""

from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gan_utils.lab import (
    METHODS,
    BatchedMLP,
    LabConfig,
    Method,
    benchmark,
    data_scale,
    discriminator_objective,
    generator_objective,
    instance_noise_std,
    pack,
    run_jobs,
    run_lab,
    train_method,
)
from gan_utils.toy import GaussianMixture2D
from gan_utils.torch.regularizers import gradient_penalty, largest_singular_value

TINY = LabConfig(steps=6, batch=16, hidden=8, latent=2, n_eval=50, n_snapshot=10, snapshots=(0, 6))


def softplus(x):
    return np.log1p(np.exp(x))


@pytest.fixture
def scores():
    real = torch.tensor([[[0.5], [-1.0], [2.0]], [[0.0], [3.0], [-0.5]]])  # (S=2, N=3, 1)
    fake = torch.tensor([[[-2.0], [0.3], [1.0]], [[1.5], [-0.7], [0.2]]])
    return real, fake


def test_pack_groups_consecutive_samples_of_each_seed():
    x = torch.arange(2 * 4 * 2, dtype=torch.float32).reshape(2, 4, 2)
    p = pack(x, 2)
    assert p.shape == (2, 2, 4)
    assert p[0, 0].tolist() == [0, 1, 2, 3]          # samples 0 and 1 of seed 0
    assert p[1, 1].tolist() == [12, 13, 14, 15]      # samples 2 and 3 of seed 1
    assert torch.equal(pack(x, 1), x)
    with pytest.raises(ValueError, match="multiple"):
        pack(x, 3)
    with pytest.raises(ValueError, match="m must be"):
        pack(x, 0)


def test_instance_noise_decays_linearly_to_zero():
    assert instance_noise_std(0, 100, 0.5) == 0.5
    assert instance_noise_std(25, 100, 0.5) == pytest.approx(0.25)   # half-way through the anneal
    assert instance_noise_std(50, 100, 0.5) == 0.0
    assert instance_noise_std(99, 100, 0.5) == 0.0
    assert instance_noise_std(50, 100, 1.0, anneal=1.0) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="step"):
        instance_noise_std(100, 100, 0.5)


def test_nonsaturating_losses_match_hand_computation(scores):
    real, fake = scores
    r, f = real.numpy()[..., 0], fake.numpy()[..., 0]
    m = METHODS["GAN (non-saturating)"]
    expected_d = sum(softplus(-r[i]).mean() + softplus(f[i]).mean() for i in range(2))
    assert discriminator_objective(m, real, fake).item() == pytest.approx(expected_d, rel=1e-5)
    expected_g = sum(softplus(-f[i]).mean() for i in range(2))
    assert generator_objective(m, fake).item() == pytest.approx(expected_g, rel=1e-5)


def test_saturating_generator_loss_is_minus_log_one_minus_d(scores):
    _, fake = scores
    f = fake.numpy()[..., 0]
    expected = sum(np.log(1 - 1 / (1 + np.exp(-f[i]))).mean() for i in range(2))
    assert generator_objective(METHODS["GAN (saturating)"], fake).item() == pytest.approx(expected, rel=1e-5)


def test_label_smoothing_changes_only_the_real_term(scores):
    real, fake = scores
    r, f = real.numpy()[..., 0], fake.numpy()[..., 0]
    m = METHODS["label smoothing 0.9"]
    assert m.real_label == 0.9
    expected = sum((0.9 * softplus(-r[i]) + 0.1 * softplus(r[i])).mean() + softplus(f[i]).mean() for i in range(2))
    assert discriminator_objective(m, real, fake).item() == pytest.approx(expected, rel=1e-5)
    # the fakes keep label 0: with identical real scores, only the fake term can differ from the plain GAN
    plain = METHODS["GAN (non-saturating)"]
    diff_fake = discriminator_objective(m, real, fake + 1) - discriminator_objective(m, real, fake)
    diff_plain = discriminator_objective(plain, real, fake + 1) - discriminator_objective(plain, real, fake)
    assert diff_fake.item() == pytest.approx(diff_plain.item(), rel=1e-5)
    # and the generator's loss is not smoothed
    assert generator_objective(m, fake).item() == pytest.approx(generator_objective(plain, fake).item())


def test_wasserstein_losses(scores):
    real, fake = scores
    m = METHODS["WGAN-GP"]
    expected = sum(fake[i].mean().item() - real[i].mean().item() for i in range(2))
    assert discriminator_objective(m, real, fake).item() == pytest.approx(expected, rel=1e-5)
    assert generator_objective(m, fake).item() == pytest.approx(-fake.mean().item() * 2, rel=1e-5)


def test_flattened_gradient_penalty_is_the_sum_of_per_seed_penalties():
    torch.manual_seed(0)
    d = BatchedMLP(3, (4, 8, 1), activation="leaky_relu")
    real, fake = torch.randn(3, 5, 4), torch.randn(3, 5, 4)
    eps = torch.rand(3, 5)
    flat = gradient_penalty(lambda x: d(x.reshape(3, -1, 4)).reshape(-1, 1), real.reshape(-1, 4),
                            fake.reshape(-1, 4), weight=10.0, epsilon=eps.reshape(-1))
    per_seed = []
    for i in range(3):
        def critic_i(x, i=i):
            full = torch.zeros(3, x.shape[0], 4)
            full[i] = x
            return d(full)[i]
        per_seed.append(gradient_penalty(critic_i, real[i], fake[i], weight=10.0, epsilon=eps[i]).item())
    assert 3 * flat.item() == pytest.approx(sum(per_seed), rel=1e-5)


def test_batched_spectral_norm_matches_the_largest_singular_value():
    torch.manual_seed(1)
    d = BatchedMLP(2, (4, 16, 8, 1), spectral_norm=True)
    x = torch.randn(2, 10, 4)
    for _ in range(100):  # power iteration sharpens the estimate on every training-mode pass
        d(x)
    for k in range(3):
        for i in range(2):
            exact = largest_singular_value(d.weights[k][i].detach())
            assert d.sigma(k, update=False)[i].item() == pytest.approx(exact, rel=1e-3)
            assert largest_singular_value(d.effective_weight(k)[i].detach()) == pytest.approx(1.0, rel=1e-3)


def test_seeds_are_independent_of_their_batch_mates():
    for name in ("GAN (non-saturating)", "WGAN-GP", "instance noise", "spectral norm", "PacGAN2"):
        alone = train_method(name, "ring", [3], TINY)
        together = train_method(name, "ring", [0, 3], TINY)
        np.testing.assert_allclose(alone["samples"][0], together["samples"][1], rtol=1e-4, atol=1e-5, err_msg=name)
        assert not np.allclose(together["samples"][0], together["samples"][1])


def test_weight_clipping_bounds_every_critic_parameter():
    result = train_method(Method("clip", loss="wasserstein", clip=0.003, n_critic=2), "ring", [0, 1], TINY)
    values = torch.cat([v.flatten() for k, v in result["critic_state"].items() if not k.startswith("u")])
    assert values.abs().max().item() <= np.float32(0.003)
    unclipped = train_method(Method("free", loss="wasserstein", n_critic=2), "ring", [0, 1], TINY)
    values = torch.cat([v.flatten() for v in unclipped["critic_state"].values()])
    assert values.abs().max().item() > 0.003


def test_plain_gan_moves_samples_towards_a_single_gaussian():
    target = GaussianMixture2D([[3.0, -2.0]], std=0.1)
    config = LabConfig(steps=300, batch=64, hidden=32, n_eval=500, snapshots=(0,))
    result = train_method("GAN (non-saturating)", target, [0], config)
    start = np.linalg.norm(result["snapshots"][0].mean(axis=0) - [3.0, -2.0])
    end = np.linalg.norm(result["samples"][0].mean(axis=0) - [3.0, -2.0])
    assert end < 0.25 * start


def test_snapshots_and_loss_curves_have_the_promised_shapes():
    result = train_method("PacGAN4", "grid", [0, 1], TINY)
    assert set(result["snapshots"]) == {0, 6}
    assert result["snapshots"][6].shape == (10, 2)
    assert result["samples"].shape == (2, 50, 2)
    assert result["d_loss"].shape == (2, 6)
    assert len(result["metrics"]) == 2 and "modes_captured" in result["metrics"][0]


def test_run_lab_gives_the_same_numbers_with_two_workers():
    one = run_lab(["GAN (non-saturating)", "TTUR"], ["ring"], [0, 1], TINY, workers=1)
    two = run_lab(["GAN (non-saturating)", "TTUR"], ["ring"], [0, 1], TINY, workers=2)
    for a, b in zip(one, two):
        assert a["method"] == b["method"]
        np.testing.assert_allclose(a["samples"], b["samples"], rtol=1e-5, atol=1e-6)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="loss"):
        Method("x", loss="hinge")
    with pytest.raises(ValueError, match="pack"):
        Method("x", pack=0)
    with pytest.raises(ValueError, match="unknown method"):
        train_method("no such method", "ring", [0], TINY)
    with pytest.raises(ValueError, match="benchmark"):
        benchmark("spiral")
    with pytest.raises(ValueError, match="multiple"):
        train_method(Method("p3", pack=3), "ring", [0], TINY)
    with pytest.raises(ValueError, match="shape"):
        BatchedMLP(2, (2, 4, 1))(torch.zeros(3, 5, 2))


def test_data_scale_is_the_per_coordinate_std_of_the_target():
    grid, ring = benchmark("grid"), benchmark("ring")
    assert data_scale(grid) == pytest.approx(np.sqrt(8 + 0.05**2))
    assert data_scale(ring) == pytest.approx(np.sqrt(0.5 + 0.01**2))
    x = grid.sample(200_000, np.random.default_rng(0))
    assert data_scale(grid) == pytest.approx(np.sqrt((x**2).mean()), rel=0.01)


def test_samples_come_back_in_the_targets_coordinates():
    # Standardising is internal: the same run with and without it scores the same scale of samples.
    target = GaussianMixture2D([[3.0, -2.0]], std=0.1)
    config = LabConfig(steps=300, batch=64, hidden=32, n_eval=500)
    for standardize in (True, False):
        result = train_method("GAN (non-saturating)", target, [0], replace(config, standardize=standardize))
        assert np.linalg.norm(result["samples"][0].mean(axis=0) - [3.0, -2.0]) < 0.5, standardize


def test_run_jobs_splits_seeds_without_changing_any_run():
    whole = run_jobs([("R1 penalty", "ring", (0, 1, 2), TINY)], workers=1)[0]
    parts = run_jobs([("R1 penalty", "ring", (0, 1), TINY), ("R1 penalty", "ring", (2,), TINY)], workers=2)
    np.testing.assert_allclose(np.concatenate([p["samples"] for p in parts]), whole["samples"], rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="job"):
        run_jobs([("R1 penalty", "ring", (0,))])
