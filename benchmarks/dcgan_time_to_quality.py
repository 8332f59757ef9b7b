"""Time to quality of the chapter-5 DCGAN (PyTorch): evaluator FID against training seconds (not a test).

The chapter-5 PyTorch notebook's full run saves the generator after epochs 0, 1, 2, every second
epoch after that and the last, with the cumulative training seconds at that point, in ``data/pretrained/dcgan_torch_generator_snapshots.pt``
(read through ``gan_utils.torch.snapshots.load_dcgan_snapshots``, which checks its checksum).
This script scores each snapshot with the book's MNIST evaluator (chapter 6):

- FID between the evaluator features of ``--samples`` generated images and as many MNIST
  test images, next to the real-vs-real floor (as many MNIST *training* images vs the same
  test images) — the quality target of issue 4 is FID <= 15x that floor;
- classes covered (>= 1 % of the samples) and KL(class histogram || uniform);

and prints one row per saved epoch with the training seconds the run had spent to reach it. The
seconds are the full run's own (``fit``'s per-epoch timing on the machine that ran the
chapter), so the curve says how long *training* took to reach each quality; scoring here
takes extra time that is not counted.

    python benchmarks/dcgan_time_to_quality.py                  # ~1 min
    python benchmarks/dcgan_time_to_quality.py --samples 5000 --plot ttq.png
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from gan_utils.data import load_mnist
from gan_utils.evaluator import evaluate_images
from gan_utils.metrics import class_coverage, fid_from_features
from gan_utils.torch.snapshots import load_dcgan_snapshots

FID_TARGET_FACTOR = 15.0  # issue 4: FID <= 15 x the real-vs-real floor
KL_TARGET = 0.05


def generated_images(generator: torch.nn.Module, n: int, seed: int, latent_dim: int = 100) -> np.ndarray:
    noise = torch.randn(n, latent_dim, generator=torch.Generator().manual_seed(seed))
    generator.eval()
    with torch.no_grad():
        return torch.cat([generator(chunk) for chunk in noise.split(1000)]).numpy()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=10_000, help="images per FID set (default 10000, at most 10000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--plot", default=None, help="save the curve to this PNG file")
    args = parser.parse_args(argv)
    if not 200 <= args.samples <= 10_000:
        parser.error(f"--samples must be in 200..10000 (a covariance of 128 features needs a few hundred; "
                     f"the MNIST test set has 10,000), got {args.samples}")
    torch.set_num_threads(args.threads)

    # Random subsets, not the first n images: the MNIST test file is not shuffled (LeCun et al.'s
    # MNIST page: its first 5,000 images come from NIST's training set and are cleaner and easier
    # than the last 5,000), so a first-n floor measures that difference, not sampling noise.
    rng = np.random.default_rng(args.seed)
    test_all, train_all = load_mnist("test", dtype="float32")[0], load_mnist("train", dtype="float32")[0]
    test_images = test_all[np.sort(rng.choice(len(test_all), args.samples, replace=False))]
    train_images = train_all[np.sort(rng.choice(len(train_all), args.samples, replace=False))]
    _, test_features = evaluate_images(test_images)
    _, train_features = evaluate_images(train_images)
    floor = fid_from_features(train_features, test_features)
    print(f"real-vs-real floor (MNIST train vs test, {args.samples:,} each): FID {floor:.3f}; "
          f"target FID <= {FID_TARGET_FACTOR:g} x floor = {FID_TARGET_FACTOR * floor:.3f}")

    rows = []
    print(f"{'epoch':>5} {'train s':>8} {'FID':>8} {'x floor':>8} {'classes':>7} {'KL':>7}")
    for snap in load_dcgan_snapshots():
        probs, features = evaluate_images(generated_images(snap.generator, args.samples, args.seed))
        fid = fid_from_features(features, test_features)
        coverage = class_coverage(probs)
        rows.append((snap.epoch, snap.train_seconds, fid, coverage["classes_covered"], coverage["kl_to_uniform"]))
        print(f"{snap.epoch:>5} {snap.train_seconds:>8.0f} {fid:>8.3f} {fid / floor:>8.1f} "
              f"{coverage['classes_covered']:>7} {coverage['kl_to_uniform']:>7.4f}")
    reached = [r for r in rows if r[2] <= FID_TARGET_FACTOR * floor and r[3] == 10 and r[4] <= KL_TARGET]
    if reached:
        epoch, seconds = reached[0][0], reached[0][1]
        print(f"first epoch meeting all of issue 4's DCGAN targets: {epoch} ({seconds:.0f} training seconds)")
    else:
        print("no snapshot meets all of issue 4's DCGAN targets")

    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot([r[1] for r in rows], [r[2] for r in rows], "o-", label="DCGAN (PyTorch, chapter 5)")
        ax.axhline(floor, color="grey", ls=":", label="real vs real floor")
        ax.axhline(FID_TARGET_FACTOR * floor, color="tab:red", ls="--", label=f"target ({FID_TARGET_FACTOR:g} x floor)")
        ax.set(xlabel="training seconds (full run of chapter 5)", ylabel="evaluator FID", yscale="log",
               title="DCGAN time to quality")
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=90)
        print(f"saved {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
