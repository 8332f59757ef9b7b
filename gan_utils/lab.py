"""The 2-D instability lab of chapter 7: many GAN remedies, many seeds, one fast engine.

One idea: train the same small MLP GAN on a 2-D Gaussian mixture (the ring of 8 or the
grid of 25 of VEEGAN and PacGAN) with one *method* -- a loss, a regulariser or a trick --
on several seeds at once, and score the final samples with
:func:`gan_utils.metrics.mixture_metrics`.

Why batched: the networks are tiny, so per-call overhead dominates.  All seeds of a
method are trained as **one** model whose weights carry a leading seed dimension
``(S, fan_in, fan_out)`` and whose layers are ``torch.baddbmm`` calls.  The seeds stay
independent: every loss is the *sum over seeds* of that seed's own mean loss, so the
gradient reaching seed ``s``'s weights is exactly the gradient of its own loss, and Adam /
RMSprop act element by element.  (A seed that diverges does not contaminate the others.)

The losses and regularisers are the package's: :mod:`gan_utils.torch.losses` and
:mod:`gan_utils.torch.regularizers` (called on the seeds flattened into one batch and
multiplied by ``S``, which turns their batch mean into the sum of per-seed means).  Only
spectral normalisation is written here, because PyTorch's implementation wraps an
``nn.Linear`` and the batched layer is not one; ``tests/test_lab.py`` checks it against
:func:`gan_utils.torch.regularizers.largest_singular_value`.

Used in chapter 7.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from numbers import Integral, Real
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gan_utils.metrics import mixture_metrics
from gan_utils.toy import GaussianMixture2D, grid_of_gaussians, ring_of_gaussians
from gan_utils.torch.losses import (
    discriminator_loss,
    generator_loss,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from gan_utils.torch.regularizers import clip_weights, gradient_penalty, r1_penalty

__all__ = [
    "Method",
    "METHODS",
    "LabConfig",
    "BENCHMARKS",
    "benchmark",
    "data_scale",
    "BatchedMLP",
    "pack",
    "instance_noise_std",
    "discriminator_objective",
    "generator_objective",
    "train_method",
    "run_lab",
    "run_jobs",
]

LOSSES = ("nonsaturating", "saturating", "wasserstein")
OPTIMIZERS = ("adam", "rmsprop")


# ----------------------------------------------------------------------------- methods


@dataclass(frozen=True)
class Method:
    """One recipe of the lab: what differs from the plain (non-saturating) GAN.

    ``loss``: ``"nonsaturating"``, ``"saturating"`` or ``"wasserstein"`` (critic scores,
    no sigmoid).  ``real_label < 1``: one-sided label smoothing.  ``instance_noise``: the
    initial std of Gaussian noise added to *both* real and fake inputs of D, annealed
    linearly to 0 over the first ``noise_anneal`` fraction of training
    (:func:`instance_noise_std`).  ``clip``: WGAN weight clipping of every critic
    parameter.  ``gradient_penalty`` / ``r1``: penalty weights (0 = off).
    ``spectral_norm``: every critic layer divided by its largest singular value.
    ``pack``: PacGAN's degree (D sees ``pack`` samples concatenated).  ``lr_d`` /
    ``lr_g``: ``None`` = the lab's base rate.  ``n_critic``: critic updates per generator
    update.  ``betas``: Adam's; ``None`` = the lab's.
    """

    name: str
    loss: str = "nonsaturating"
    real_label: float = 1.0
    instance_noise: float = 0.0
    noise_anneal: float = 0.5
    clip: float | None = None
    gradient_penalty: float = 0.0
    r1: float = 0.0
    spectral_norm: bool = False
    pack: int = 1
    lr_d: float | None = None
    lr_g: float | None = None
    n_critic: int = 1
    optimizer: str = "adam"
    betas: tuple | None = None

    def __post_init__(self) -> None:
        where = f"Method({self.name!r})"
        if self.loss not in LOSSES:
            raise ValueError(f"{where}: loss must be one of {LOSSES}, got {self.loss!r}.")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"{where}: optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}.")
        if not 0.0 < float(self.real_label) <= 1.0:
            raise ValueError(f"{where}: real_label must be in (0, 1], got {self.real_label!r}.")
        if self.loss == "wasserstein" and self.real_label != 1.0:
            raise ValueError(f"{where}: label smoothing has no meaning for the Wasserstein loss.")
        for name in ("instance_noise", "gradient_penalty", "r1"):
            if float(getattr(self, name)) < 0:
                raise ValueError(f"{where}: {name} must be >= 0, got {getattr(self, name)!r}.")
        if not 0.0 < float(self.noise_anneal) <= 1.0:
            raise ValueError(f"{where}: noise_anneal must be in (0, 1], got {self.noise_anneal!r}.")
        if self.clip is not None and not float(self.clip) > 0:
            raise ValueError(f"{where}: clip must be None or > 0, got {self.clip!r}.")
        for name in ("pack", "n_critic"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
                raise ValueError(f"{where}: {name} must be a positive int, got {value!r}.")


#: The methods of chapter 7's table, in its order.  Settings follow the papers where the
#: papers give them (WGAN: RMSprop, clip 0.01, 5 critic steps; WGAN-GP: lambda 10, 5
#: critic steps, Adam betas (0.5, 0.9); TTUR: D four times faster than G).
METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("GAN (non-saturating)"),
        Method("GAN (saturating)", loss="saturating"),
        Method("label smoothing 0.9", real_label=0.9),
        Method("instance noise", instance_noise=0.5),
        Method("WGAN (clipping)", loss="wasserstein", clip=0.01, n_critic=5, optimizer="rmsprop", lr_d=5e-4, lr_g=5e-4),
        Method("WGAN-GP", loss="wasserstein", gradient_penalty=10.0, n_critic=5, betas=(0.5, 0.9)),
        Method("spectral norm", spectral_norm=True),
        Method("R1 penalty", r1=0.1),
        Method("TTUR", lr_d=4e-3, lr_g=1e-3),
        Method("PacGAN2", pack=2),
        Method("PacGAN4", pack=4),
    )
}


# -------------------------------------------------------------------------- benchmarks

#: The two targets: PacGAN's ring (8 modes, radius 1, std 0.01) and VEEGAN's / PacGAN's
#: grid (25 modes on {-4,-2,0,2,4}^2, std 0.05).
BENCHMARKS = ("ring", "grid")


def benchmark(name: str) -> GaussianMixture2D:
    """The target mixture called ``name`` (``"ring"`` or ``"grid"``)."""
    if name == "ring":
        return ring_of_gaussians(8, radius=1.0, std=0.01)
    if name == "grid":
        return grid_of_gaussians(5, spacing=2.0, std=0.05)
    raise ValueError(f"benchmark: name must be one of {BENCHMARKS}, got {name!r}.")


def data_scale(target: GaussianMixture2D) -> float:
    """The target's standard deviation per coordinate: ``sqrt(E|x|^2 / 2)`` about the origin.

    For a mixture with weights ``w_k``, means ``mu_k`` and stds ``s_k`` this is
    ``sqrt(sum_k w_k (|mu_k|^2 / 2 + s_k^2))``: 2.83 for the 5 x 5 grid, 0.71 for the ring.
    """
    if not isinstance(target, GaussianMixture2D):
        raise TypeError(f"data_scale: target must be a GaussianMixture2D, got {type(target).__name__}.")
    second = np.sum(target.weights * (np.sum(target.means**2, axis=1) / 2 + target.stds**2))
    return float(np.sqrt(second))


@dataclass(frozen=True)
class LabConfig:
    """The budget and the networks, the same for every method.

    ``steps`` counts **discriminator (critic) updates**, so a method with ``n_critic=5``
    makes ``steps / 5`` generator updates: every method gets the same number of critic
    gradient evaluations.  ``standardize``: the networks work in coordinates divided by
    the target's standard deviation per coordinate (:func:`data_scale`: 2.83 for the grid,
    0.71 for the ring), so that D's inputs and G's outputs are of order 1 whatever the
    target's size, as the WGAN-GP authors' toy code does; samples are scaled back before
    they are scored or returned.  ``snapshots``: the steps at which seed 0's samples (of
    ``n_snapshot`` fixed latents) are recorded for the figures.
    """

    steps: int = 4000
    batch: int = 128
    latent: int = 2
    hidden: int = 128
    g_layers: int = 3
    d_layers: int = 3
    lr: float = 1e-3
    betas: tuple = (0.5, 0.999)
    lr_decay: bool = True
    standardize: bool = True
    n_eval: int = 2500
    n_snapshot: int = 500
    snapshots: tuple = ()

    def __post_init__(self) -> None:
        for name in ("steps", "batch", "latent", "hidden", "g_layers", "d_layers", "n_eval", "n_snapshot"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
                raise ValueError(f"LabConfig: {name} must be a positive int, got {value!r}.")
        if not float(self.lr) > 0:
            raise ValueError(f"LabConfig: lr must be > 0, got {self.lr!r}.")


# ----------------------------------------------------------------------- the networks


class BatchedMLP(nn.Module):
    """``S`` independent MLPs evaluated at once: weights ``(S, fan_in, fan_out)``.

    ``sizes`` lists the layer widths, e.g. ``(2, 128, 128, 1)``; hidden layers use
    ``activation`` (``"relu"`` or ``"leaky_relu"`` with slope 0.2), the output is linear.
    Initialisation is PyTorch's ``nn.Linear`` default (uniform in +-1/sqrt(fan_in)),
    drawn from ``generator``.  With ``spectral_norm=True`` each weight is divided by an
    estimate of its largest singular value, refreshed by one power-iteration step per
    training-mode forward pass (Miyato et al. 2018); the vectors persist between calls.

    Input ``(S, N, sizes[0])``, output ``(S, N, sizes[-1])``.
    """

    def __init__(
        self,
        n_seeds: int,
        sizes: Sequence[int],
        *,
        activation: str = "relu",
        spectral_norm: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if isinstance(n_seeds, bool) or not isinstance(n_seeds, Integral) or n_seeds < 1:
            raise ValueError(f"BatchedMLP: n_seeds must be a positive int, got {n_seeds!r}.")
        sizes = tuple(int(s) for s in sizes)
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"BatchedMLP: sizes must list >= 2 positive widths, got {sizes!r}.")
        if activation not in ("relu", "leaky_relu"):
            raise ValueError(f"BatchedMLP: activation must be 'relu' or 'leaky_relu', got {activation!r}.")
        self.n_seeds, self.sizes, self.activation = int(n_seeds), sizes, activation
        self.spectral_norm = bool(spectral_norm)
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for k, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            bound = 1.0 / math.sqrt(fan_in)
            w = (torch.rand(n_seeds, fan_in, fan_out, generator=generator) * 2 - 1) * bound
            b = (torch.rand(n_seeds, 1, fan_out, generator=generator) * 2 - 1) * bound
            self.weights.append(nn.Parameter(w))
            self.biases.append(nn.Parameter(b))
            if self.spectral_norm:
                u = F.normalize(torch.randn(n_seeds, fan_out, 1, generator=generator), dim=1)
                self.register_buffer(f"u{k}", u)

    def sigma(self, k: int, update: bool) -> torch.Tensor:
        """Estimated largest singular value of layer ``k``'s weight, per seed: ``(S, 1, 1)``."""
        w = self.weights[k]
        u = getattr(self, f"u{k}")
        with torch.no_grad():
            v = F.normalize(torch.bmm(w, u), dim=1)  # (S, fan_in, 1)
            if update:
                u = F.normalize(torch.bmm(w.transpose(1, 2), v), dim=1)
                getattr(self, f"u{k}").copy_(u)
        # sigma = v^T W u, differentiable in W (u and v are constants, as in Miyato et al.).
        return torch.bmm(v.transpose(1, 2), torch.bmm(w, u))

    def effective_weight(self, k: int, update: bool = False) -> torch.Tensor:
        """The weight layer ``k`` multiplies by (divided by sigma under spectral norm)."""
        w = self.weights[k]
        return w / self.sigma(k, update) if self.spectral_norm else w

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.shape[0] != self.n_seeds or x.shape[2] != self.sizes[0]:
            raise ValueError(
                f"BatchedMLP: input must have shape ({self.n_seeds}, N, {self.sizes[0]}), got {tuple(x.shape)}."
            )
        last = len(self.weights) - 1
        for k in range(last + 1):
            w = self.effective_weight(k, update=self.training) if self.spectral_norm else self.weights[k]
            x = torch.baddbmm(self.biases[k], x, w)
            if k < last:
                x = torch.relu(x) if self.activation == "relu" else F.leaky_relu(x, 0.2)
        return x


# ------------------------------------------------------------------ the method pieces


def pack(x: torch.Tensor, m: int) -> torch.Tensor:
    """PacGAN's packing: ``(S, N, d)`` -> ``(S, N // m, m * d)``.

    Pack ``j`` concatenates samples ``j*m, ..., j*m + m - 1`` of the same seed (all drawn
    independently, so consecutive ones are as good as random ones).  ``N`` must be a
    multiple of ``m``.  ``m = 1`` returns ``x`` unchanged.
    """
    if isinstance(m, bool) or not isinstance(m, Integral) or m < 1:
        raise ValueError(f"pack: m must be a positive int, got {m!r}.")
    if not isinstance(x, torch.Tensor) or x.ndim != 3:
        raise ValueError(f"pack: x must be a tensor of shape (S, N, d), got {getattr(x, 'shape', type(x).__name__)}.")
    s, n, d = x.shape
    if n % m:
        raise ValueError(f"pack: the batch size N={n} must be a multiple of the packing degree m={m}.")
    return x.reshape(s, n // m, m * d)


def instance_noise_std(step: int, steps: int, initial: float, anneal: float = 0.5) -> float:
    """Std of the instance noise at ``step`` (0-based) of ``steps``.

    Linear decay from ``initial`` at step 0 to 0 at step ``anneal * steps``, then 0:
    ``initial * max(0, 1 - step / (anneal * steps))``.  Noise blurs both distributions so
    that they overlap and D's gradient is informative early; it must vanish by the end,
    or the generator learns the blurred target.
    """
    if isinstance(steps, bool) or not isinstance(steps, Integral) or steps < 1:
        raise ValueError(f"instance_noise_std: steps must be a positive int, got {steps!r}.")
    if isinstance(step, bool) or not isinstance(step, Integral) or not 0 <= step < steps:
        raise ValueError(f"instance_noise_std: step must be an int in [0, {steps}), got {step!r}.")
    if not isinstance(initial, Real) or initial < 0:
        raise ValueError(f"instance_noise_std: initial must be a number >= 0, got {initial!r}.")
    if not isinstance(anneal, Real) or not 0 < anneal <= 1:
        raise ValueError(f"instance_noise_std: anneal must be in (0, 1], got {anneal!r}.")
    return float(initial) * max(0.0, 1.0 - step / (anneal * steps))


def _flat(scores: torch.Tensor) -> torch.Tensor:
    """``(S, N, 1)`` -> ``(S * N, 1)``, the layout the package's losses take."""
    return scores.reshape(-1, 1)


def discriminator_objective(method: Method, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """The critic's loss, **summed over seeds** of each seed's batch-mean loss.

    ``real_scores`` and ``fake_scores`` are ``(S, N, 1)`` logits (or critic scores).  The
    package's losses average over ``S * N``; multiplying by ``S`` gives the sum of the
    per-seed means (every seed has the same ``N``).
    """
    s = real_scores.shape[0]
    if method.loss == "wasserstein":
        return s * wasserstein_critic_loss(_flat(real_scores), _flat(fake_scores))
    return s * discriminator_loss(_flat(real_scores), _flat(fake_scores), real_label=method.real_label)


def generator_objective(method: Method, fake_scores: torch.Tensor) -> torch.Tensor:
    """The generator's loss, summed over seeds (see :func:`discriminator_objective`)."""
    s = fake_scores.shape[0]
    if method.loss == "wasserstein":
        return s * wasserstein_generator_loss(_flat(fake_scores))
    return s * generator_loss(_flat(fake_scores), kind=method.loss)


def _flat_critic(critic: BatchedMLP, s: int, m: int):
    """Wrap ``critic`` so that it takes ``(S * N', m * 2)`` and returns ``(S * N', 1)``.

    The package's penalties work on one batch ``(N, ...)``; flattening the seeds keeps
    every sample's gradient its own (the seeds' networks do not share weights).
    """

    def flat(x: torch.Tensor) -> torch.Tensor:
        return critic(x.reshape(s, -1, x.shape[-1])).reshape(-1, 1)

    return flat


# ----------------------------------------------------------------------------- training


def _make_optimizer(method: Method, params, lr: float, betas: tuple) -> torch.optim.Optimizer:
    if method.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.Adam(params, lr=lr, betas=method.betas or betas)


def train_method(
    method: Method | str,
    target: GaussianMixture2D | str,
    seeds: Sequence[int],
    config: LabConfig = LabConfig(),
) -> dict:
    """Train ``method`` on ``target`` for every seed in ``seeds`` at once; return the results.

    Seed ``seeds[i]`` fixes network ``i``'s initialisation, its latents and its real
    batches (the same seed gives the same run whatever the other seeds are).  Returns a
    dict: ``"method"``, ``"benchmark"``, ``"seeds"``, ``"metrics"`` (one
    :func:`~gan_utils.metrics.mixture_metrics` dict per seed, on ``config.n_eval``
    fresh samples, with ``"diverged"``), ``"samples"`` (``(S, n_eval, 2)`` float32),
    ``"snapshots"`` (``{step: (n_snapshot, 2)}`` for seed 0), ``"d_loss"`` (per seed,
    ``(steps,)``), ``"generator_state"`` / ``"critic_state"`` (the final
    :class:`BatchedMLP` state dicts) and ``"seconds"``.
    """
    if isinstance(method, str):
        if method not in METHODS:
            raise ValueError(f"train_method: unknown method {method!r}; expected one of {list(METHODS)}.")
        method = METHODS[method]
    if not isinstance(method, Method):
        raise TypeError(f"train_method: method must be a Method or a name, got {type(method).__name__}.")
    bench_name = target if isinstance(target, str) else repr(target)
    if isinstance(target, str):
        target = benchmark(target)
    if not isinstance(target, GaussianMixture2D):
        raise TypeError(f"train_method: target must be a GaussianMixture2D or a name, got {type(target).__name__}.")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("train_method: seeds must not be empty.")
    if config.batch % method.pack:
        raise ValueError(f"train_method: batch {config.batch} is not a multiple of {method.name}'s pack {method.pack}.")
    t0 = time.perf_counter()
    s, b, c = len(seeds), config.batch, config
    gens = [torch.Generator().manual_seed(seed) for seed in seeds]

    def per_seed(fn):
        return torch.stack([fn(g) for g in gens])

    # Per-seed initialisation: build each seed's networks from its own generator, then stack.
    g_sizes = (c.latent,) + (c.hidden,) * c.g_layers + (2,)
    d_sizes = (2 * method.pack,) + (c.hidden,) * c.d_layers + (1,)
    G = BatchedMLP(s, g_sizes, activation="relu")
    D = BatchedMLP(s, d_sizes, activation="leaky_relu", spectral_norm=method.spectral_norm)
    with torch.no_grad():
        for i, g in enumerate(gens):
            gi = BatchedMLP(1, g_sizes, generator=g)
            di = BatchedMLP(1, d_sizes, spectral_norm=method.spectral_norm, generator=g)
            for dst, src in ((G, gi), (D, di)):
                for name, tensor in src.state_dict().items():
                    dict(dst.named_parameters()).get(name, dict(dst.named_buffers()).get(name))[i].copy_(tensor[0])

    scale = data_scale(target) if c.standardize else 1.0
    means = torch.tensor(np.array(target.means) / scale, dtype=torch.float32)
    stds = torch.tensor(np.array(target.stds) / scale, dtype=torch.float32)
    k = means.shape[0]
    lr_d = method.lr_d if method.lr_d is not None else c.lr
    lr_g = method.lr_g if method.lr_g is not None else c.lr
    opt_d = _make_optimizer(method, D.parameters(), lr_d, c.betas)
    opt_g = _make_optimizer(method, G.parameters(), lr_g, c.betas)
    schedulers = []
    if c.lr_decay:  # linear decay to 0: the last steps settle the samples onto the modes
        for opt in (opt_d, opt_g):
            schedulers.append(torch.optim.lr_scheduler.LambdaLR(opt, lambda i: max(0.0, 1.0 - i / c.steps)))
    g_every = method.n_critic
    n_g_steps = c.steps // g_every
    g_sched = schedulers[1] if schedulers else None
    if g_sched is not None:  # the generator's schedule counts its own updates
        g_sched.lr_lambdas[0] = lambda i: max(0.0, 1.0 - i / max(n_g_steps, 1))

    z_snap = per_seed(lambda g: torch.randn(c.n_snapshot, c.latent, generator=g))
    snapshots, d_losses = {}, torch.zeros(c.steps, s)
    snap_steps = set(int(t) for t in c.snapshots)
    critic_flat = _flat_critic(D, s, method.pack)

    def record(step: int) -> None:
        with torch.no_grad():
            snapshots[step] = G(z_snap)[0].numpy() * np.float32(scale)

    for step in range(c.steps):
        if step in snap_steps:
            record(step)
        comp = per_seed(lambda g: torch.randint(k, (b,), generator=g))
        real = means[comp] + stds[comp, None] * per_seed(lambda g: torch.randn(b, 2, generator=g))
        z = per_seed(lambda g: torch.randn(b, c.latent, generator=g))
        g_step = (step + 1) % g_every == 0
        fake = G(z) if g_step else None
        with torch.no_grad():
            fake_d = fake.detach() if g_step else G(z)
        real_in, fake_in = real, fake_d
        sigma = instance_noise_std(step, c.steps, method.instance_noise, method.noise_anneal) if method.instance_noise else 0.0
        if sigma > 0:
            real_in = real_in + sigma * per_seed(lambda g: torch.randn(b, 2, generator=g))
            fake_in = fake_in + sigma * per_seed(lambda g: torch.randn(b, 2, generator=g))
        real_p, fake_p = pack(real_in, method.pack), pack(fake_in, method.pack)
        real_scores, fake_scores = D(real_p), D(fake_p)
        loss_d = discriminator_objective(method, real_scores, fake_scores)
        if method.gradient_penalty:
            loss_d = loss_d + s * gradient_penalty(
                critic_flat, _flat_pairs(real_p), _flat_pairs(fake_p), weight=method.gradient_penalty,
                epsilon=per_seed(lambda g: torch.rand(real_p.shape[1], generator=g)).reshape(-1),
            )
        if method.r1:
            loss_d = loss_d + s * r1_penalty(critic_flat, _flat_pairs(real_p), weight=method.r1)
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        if method.clip is not None:
            clip_weights(D, method.clip)
        if schedulers:
            schedulers[0].step()
        with torch.no_grad():
            d_losses[step] = _per_seed_d_loss(method, real_scores, fake_scores)
        if g_step:
            fake_in = fake
            if sigma > 0:
                fake_in = fake_in + sigma * per_seed(lambda g: torch.randn(b, 2, generator=g))
            loss_g = generator_objective(method, D(pack(fake_in, method.pack)))
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            if g_sched is not None:
                g_sched.step()
    if c.steps in snap_steps:
        record(c.steps)
    G.eval()
    with torch.no_grad():
        samples = G(per_seed(lambda g: torch.randn(c.n_eval, c.latent, generator=g))).numpy() * np.float32(scale)
    metrics = []
    for i in range(s):
        finite = bool(np.isfinite(samples[i]).all())
        if finite:
            m = mixture_metrics(samples[i], target)
        else:
            m = {"modes_captured": 0, "high_quality_fraction": 0.0, "reverse_kl": float("nan")}
        m["diverged"] = not finite
        metrics.append(m)
    return {
        "method": method.name,
        "benchmark": bench_name,
        "seeds": seeds,
        "metrics": metrics,
        "samples": samples,
        "snapshots": snapshots,
        "d_loss": d_losses.T.numpy(),
        "generator_state": {k: v.detach().clone() for k, v in G.state_dict().items()},
        "critic_state": {k: v.detach().clone() for k, v in D.state_dict().items()},
        "seconds": time.perf_counter() - t0,
    }


def _flat_pairs(x: torch.Tensor) -> torch.Tensor:
    """``(S, N, d)`` -> ``(S * N, d)``."""
    return x.reshape(-1, x.shape[-1])


def _per_seed_d_loss(method: Method, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Each seed's critic loss (no penalty), for the loss curves: ``(S,)``."""
    if method.loss == "wasserstein":
        return fake_scores.mean((1, 2)) - real_scores.mean((1, 2))
    return F.softplus(-real_scores).mean((1, 2)) * method.real_label + F.softplus(real_scores).mean((1, 2)) * (
        1 - method.real_label
    ) + F.softplus(fake_scores).mean((1, 2))


def _job(args: tuple) -> dict:
    method, bench, seeds, config = args
    torch.set_num_threads(1)  # tiny networks: one thread per worker is fastest
    return train_method(method, bench, seeds, config)


def run_lab(
    methods: Sequence[str],
    benchmarks: Sequence[str],
    seeds: Sequence[int],
    config: LabConfig = LabConfig(),
    *,
    workers: int = 2,
) -> list[dict]:
    """Run every (method, benchmark) pair on all ``seeds``; return the results in that order.

    ``workers > 1`` spreads the pairs over that many processes (spawned, one thread
    each); ``workers = 1`` runs them here, one after the other.  The results do not
    depend on ``workers``.
    """
    if isinstance(workers, bool) or not isinstance(workers, Integral) or workers < 1:
        raise ValueError(f"run_lab: workers must be a positive int, got {workers!r}.")
    for name in methods:
        if name not in METHODS:
            raise ValueError(f"run_lab: unknown method {name!r}; expected names from {list(METHODS)}.")
    jobs = [(name, bench, tuple(seeds), config) for name in methods for bench in benchmarks]
    return run_jobs(jobs, workers=workers)


def run_jobs(jobs: Sequence[tuple], *, workers: int = 2) -> list[dict]:
    """Run :func:`train_method` on each ``(method, benchmark, seeds, config)`` tuple; results in order.

    Because seeds are independent (a seed's run does not depend on its batch-mates), one
    method's seeds may be split over several jobs to share them between ``workers``
    processes, e.g. ``[("R1 penalty", "grid", (0, 1, 2), c), ("R1 penalty", "grid", (3, 4), c)]``.
    """
    if isinstance(workers, bool) or not isinstance(workers, Integral) or workers < 1:
        raise ValueError(f"run_jobs: workers must be a positive int, got {workers!r}.")
    jobs = [tuple(job) for job in jobs]
    for job in jobs:
        if len(job) != 4 or not isinstance(job[3], LabConfig):
            raise ValueError(f"run_jobs: each job must be (method, benchmark, seeds, LabConfig), got {job!r}.")
    if workers == 1 or len(jobs) == 1:
        return [_job(job) for job in jobs]
    import multiprocessing

    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(_job, jobs))
