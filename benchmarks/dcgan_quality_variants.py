"""Which changes to chapter 5's DCGAN move its FID and class balance?  (Issue 4's quality targets.)

The plain DCGAN (``gan_utils.torch.mnist``, width 32, batch 128, Adam 2e-4 / beta1 0.5; chapter 5's
until 2026-12) reaches an evaluator FID of about 17 and a KL(class histogram || uniform) of about
0.12 after 5 epochs and stays there; issue 4 asks for KL <= 0.05 and FID <= 15 x the real-vs-real
floor.  The variants measured here led to chapter 5's current DCGAN (generator width 64, a
discriminator that judges pairs and sees the minibatch standard deviation).  This script
trains one variant from scratch in PyTorch and prints, after every epoch, one JSON line with the
FID and the KL of 5,000 samples (eval-mode BatchNorm) against 5,000 random MNIST test images
(the real-vs-real floor at this size is about 0.25-0.28).  Not a test: a run takes 10-20 minutes.

Every variant trains with the package's step, :func:`gan_utils.torch.train.train_step`
(alternating, non-saturating), and the package's discriminator,
:func:`gan_utils.torch.mnist.dcgan_discriminator`, whose ``pack`` (PacGAN, Lin et al. 2018: the
discriminator judges ``k`` images stacked as channels, all real or all generated) and
``minibatch_std`` (Karras et al. 2018: the batch's mean feature standard deviation as one extra
channel before the last layer) options chapter 5 now uses.  ``--batch`` counts packed samples,
i.e. ``batch * pack`` images per step.  Without packing or minibatch std, an exponential moving
average of the generator's weights (``--ema``, one or more decays; scored with its own batch
statistics) is scored too, and so it is for any variant with ``--score-ema``; ``--lr-g`` and
``--lr-d`` set the two learning rates, ``--lr-decay-epochs`` decays both linearly to 0 over the
last epochs.

The table's packed and minibatch-std rows were measured with an earlier copy of these layers
written out in this script, which had no epsilon inside the minibatch standard deviation's square
root (the package adds ``1e-8``); the initial weights for a seed are the same, the numbers agree to
the run-to-run noise, not bit for bit.

Examples (the results in ``benchmarks/README.md`` came from these, two runs side by side,
``--threads 1`` each)::

    python benchmarks/dcgan_quality_variants.py --epochs 6                       # chapter 5's set-up + EMA
    python benchmarks/dcgan_quality_variants.py --epochs 6 --lr-decay-epochs 3
    python benchmarks/dcgan_quality_variants.py --g-width 64 --batch 64 --epochs 5
    python benchmarks/dcgan_quality_variants.py --g-width 64 --batch 32 --pack 2 --epochs 4
"""

from __future__ import annotations

import argparse
import copy
import json
import time

import numpy as np
import torch
from torch import nn

from gan_utils.data import load_mnist
from gan_utils.evaluator import evaluate_images
from gan_utils.metrics import class_coverage, fid_from_features
from gan_utils.torch import mnist as models
from gan_utils.torch.train import train_step

LATENT_DIM = 100
N_EVAL = 5_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--g-width", type=int, default=32)
    parser.add_argument("--d-width", type=int, default=32)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--ema", default="0.999",
                        help="EMA decays of G's weights, comma-separated (scored for a plain DCGAN, or with --score-ema)")
    parser.add_argument("--score-ema", action="store_true", help="also score EMAs of a packed/minibatch-std variant")
    parser.add_argument("--lr-g", type=float, default=2e-4, help="the generator's Adam learning rate")
    parser.add_argument("--lr-d", type=float, default=2e-4,
                        help="the discriminator's Adam learning rate (TTUR, Heusel et al. 2017: larger than G's)")
    parser.add_argument("--lr-decay-epochs", type=int, default=0, help="linear decay to 0 over the last N epochs")
    parser.add_argument("--pack", type=int, default=1, help="PacGAN packing degree (1: none)")
    parser.add_argument("--minibatch-std", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tag", default="variant")
    args = parser.parse_args()
    if args.pack < 1 or args.batch < 2 or args.epochs < 1:
        parser.error("--pack must be >= 1, --batch >= 2, --epochs >= 1")
    if not (args.lr_g > 0 and args.lr_d > 0):
        parser.error("--lr-g and --lr-d must be positive")
    torch.set_num_threads(args.threads)
    plain = args.pack == 1 and not args.minibatch_std  # a plain DCGAN: its EMA is scored too
    decays = [float(v) for v in args.ema.split(",") if v]
    if any(not 0.0 < d < 1.0 for d in decays):
        parser.error("--ema: every decay must lie strictly between 0 and 1")

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    # The order in which the models are built fixes their initial weights for a seed; it differs
    # between plain and packed/minibatch-std variants because the README's runs were made that way.
    if plain:
        G = models.dcgan_generator(LATENT_DIM, args.g_width)
        D = models.dcgan_discriminator(args.d_width, pack=1, minibatch_std=False)
    else:
        D = models.dcgan_discriminator(args.d_width, pack=args.pack, minibatch_std=args.minibatch_std)
        G = models.dcgan_generator(LATENT_DIM, args.g_width)
    emas = {d: copy.deepcopy(G) for d in decays} if plain or args.score_ema else {}
    g_opt = torch.optim.Adam(G.parameters(), lr=args.lr_g, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(D.parameters(), lr=args.lr_d, betas=(0.5, 0.999))

    train = torch.from_numpy(load_mnist("train", dtype="float32")[0]).reshape(-1, 1, 28, 28)
    test = load_mnist("test", dtype="float32")[0]
    _, test_features = evaluate_images(test[np.random.default_rng(123).choice(len(test), N_EVAL, replace=False)])
    z_eval = np.random.default_rng(7).standard_normal((N_EVAL, LATENT_DIM)).astype(np.float32)

    def score(generator: nn.Module, batch_statistics: bool = False) -> tuple[float, float]:
        generator.train(batch_statistics)
        with torch.no_grad():
            images = np.concatenate([generator(torch.from_numpy(z_eval[i:i + 500])).numpy()
                                     for i in range(0, N_EVAL, 500)])
        generator.train()
        probs, features = evaluate_images(images)
        return (round(fid_from_features(features, test_features), 3),
                round(class_coverage(probs)["kl_to_uniform"], 4))

    images_per_step = args.batch * args.pack
    steps = len(train) // images_per_step
    print(json.dumps({"tag": args.tag, **vars(args), "g_parameters": sum(p.numel() for p in G.parameters()),
                      "d_parameters": sum(p.numel() for p in D.parameters()), "steps_per_epoch": steps}),
          flush=True)

    step, started = 0, time.time()
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(len(train))
        for i in range(steps):
            real = train[order[i * images_per_step:(i + 1) * images_per_step]]
            if args.lr_decay_epochs:
                decay_start = (args.epochs - args.lr_decay_epochs) * steps
                factor = 1.0 if step < decay_start else max(0.0, 1 - (step - decay_start) / (args.lr_decay_epochs * steps))
                for opt, lr in ((g_opt, args.lr_g), (d_opt, args.lr_d)):
                    for group in opt.param_groups:
                        group["lr"] = lr * factor
            values = train_step(G, D, g_opt, d_opt, real, latent_dim=LATENT_DIM)  # D packs the images itself
            d_loss = values["d_loss"]
            with torch.no_grad():
                for decay, ema in emas.items():
                    for p_ema, p in zip(ema.parameters(), G.parameters()):
                        p_ema.lerp_(p, 1 - decay)
                    for b_ema, b in zip(ema.buffers(), G.buffers()):
                        b_ema.copy_(b)
            step += 1
        record = {"tag": args.tag, "epoch": epoch, "seconds": round(time.time() - started),
                  "fid_kl": score(G), "d_loss": round(d_loss, 3)}
        for decay, ema in emas.items():  # scored with its own batch statistics (G's buffers do not fit it)
            record[f"ema_{decay}_fid_kl"] = score(ema, batch_statistics=True)
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
