"""Train the MNIST evaluator of chapter 6 and ship its weights.  Used in chapter 6 (and 4, 5, 7).

One command, run from the repository root (a few CPU minutes)::

    python tools/train_evaluator.py

It trains :class:`gan_utils.evaluator.MnistEvaluator` on the 60,000 MNIST training
images of ``data/mnist/`` (seeded with ``seed_everything``; Adam, one-cycle learning
rate, random shifts of up to 2 pixels as light augmentation), reports the accuracy on
the 10,000 test images and refuses to save if it is below 99.0%.  Otherwise it writes
``data/evaluator/mnist_evaluator.pt`` atomically (a temporary file, then
``os.replace``) and rewrites ``data/evaluator/SHA256SUMS``, which
:func:`gan_utils.evaluator.load_evaluator` checks on every load.

The same seed gives the same weights on the same machine and thread count; other
machines may differ in the last bits (and hence in the checksum), not in accuracy.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gan_utils.data import load_mnist  # noqa: E402
from gan_utils.evaluator import (  # noqa: E402
    CHECKSUM_FILE,
    EVALUATOR_DIR,
    FORMAT,
    WEIGHTS_FILE,
    MnistEvaluator,
    count_parameters,
    sha256_of,
)
from gan_utils.profile import seed_everything  # noqa: E402

MIN_ACCURACY = 0.99


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each image by up to ``max_shift`` pixels in x and y, filling with -1 (black)."""
    if max_shift == 0:
        return x
    n = x.shape[0]
    padded = F.pad(x, (max_shift,) * 4, value=-1.0)
    offsets = torch.randint(0, 2 * max_shift + 1, (n, 2), generator=generator).tolist()
    return torch.stack([padded[i, :, dy : dy + 28, dx : dx + 28] for i, (dy, dx) in enumerate(offsets)])


@torch.no_grad()
def accuracy(model: MnistEvaluator, images: torch.Tensor, labels: torch.Tensor) -> float:
    model.eval()
    correct = 0
    for start in range(0, len(images), 1000):
        logits = model(images[start : start + 1000])
        correct += int((logits.argmax(1) == labels[start : start + 1000]).sum())
    return correct / len(images)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(model: MnistEvaluator, out_dir: Path, test_accuracy: float, args: argparse.Namespace) -> str:
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = out_dir / WEIGHTS_FILE
    checkpoint = {
        "format": FORMAT,
        "state_dict": {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()},
        "test_accuracy": float(test_accuracy),
        "seed": int(args.seed),
        "epochs": int(args.epochs),
        "torch_version": str(torch.__version__),
    }
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{WEIGHTS_FILE}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(checkpoint, tmp)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the shipped file must be readable
        digest = sha256_of(tmp)
        os.replace(tmp, weights)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    atomic_write_bytes(out_dir / CHECKSUM_FILE, f"{digest}  {WEIGHTS_FILE}\n".encode("ascii"))
    return digest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (one-cycle)")
    parser.add_argument("--max-shift", type=int, default=2, help="augmentation: max shift in pixels")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--out", type=Path, default=EVALUATOR_DIR, help="folder for the weights")
    parser.add_argument("--min-accuracy", type=float, default=MIN_ACCURACY)
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    seed_everything(args.seed, frameworks=("torch",))
    generator = torch.Generator().manual_seed(args.seed)

    train_x, train_y = load_mnist("train", dtype="float32")
    test_x, test_y = load_mnist("test", dtype="float32")
    train_x = torch.from_numpy(train_x).unsqueeze(1)
    train_y = torch.from_numpy(train_y.astype(np.int64))
    test_x = torch.from_numpy(test_x).unsqueeze(1)
    test_y = torch.from_numpy(test_y.astype(np.int64))

    model = MnistEvaluator()
    print(f"MnistEvaluator: {count_parameters(model):,} parameters; "
          f"{args.epochs} epochs, batch {args.batch_size}, {args.threads} threads", flush=True)
    steps_per_epoch = (len(train_x) + args.batch_size - 1) // args.batch_size
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch
    )
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(train_x), generator=generator)
        total, seen = 0.0, 0
        for step in range(steps_per_epoch):
            idx = order[step * args.batch_size : (step + 1) * args.batch_size]
            x = random_shift(train_x[idx], args.max_shift, generator)
            loss = F.cross_entropy(model(x), train_y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item() * len(idx)
            seen += len(idx)
            if (step + 1) % 100 == 0:
                print(f"  epoch {epoch + 1} step {step + 1}/{steps_per_epoch} "
                      f"loss {total / seen:.4f} ({time.perf_counter() - start:.0f} s)", flush=True)
        acc = accuracy(model, test_x, test_y)
        print(f"epoch {epoch + 1}: train loss {total / seen:.4f}, test accuracy {acc:.4%} "
              f"({time.perf_counter() - start:.0f} s)", flush=True)
    elapsed = time.perf_counter() - start
    acc = accuracy(model, test_x, test_y)
    print(f"final test accuracy: {acc:.4%} ({int(round(acc * len(test_x)))}/{len(test_x)}); "
          f"training took {elapsed:.0f} s", flush=True)
    if acc < args.min_accuracy:
        print(f"REFUSING to save: test accuracy {acc:.4%} is below {args.min_accuracy:.2%}. "
              "Train longer (--epochs) or check the data.", file=sys.stderr)
        return 1
    digest = save(model, args.out, acc, args)
    size = (args.out / WEIGHTS_FILE).stat().st_size
    print(f"wrote {args.out / WEIGHTS_FILE} ({size:,} bytes, sha256 {digest}) "
          f"and {args.out / CHECKSUM_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
