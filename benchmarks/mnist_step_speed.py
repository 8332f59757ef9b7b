"""Training speed of the MNIST GANs of chapters 4 and 5 on this machine's CPU (not a test).

For each framework and model (the MLP GAN of chapter 4, the DCGAN of chapter 5, and plain
DCGANs of the ``--widths`` given, for comparison) it times training steps at batch 128 on real
MNIST images:

- **package loop**: ``gan_utils.<framework>.fit.fit`` (chapter 3's ``train_step``; in
  TensorFlow that step is compiled with ``tf.function``), timed from inside through its
  ``callback`` after a few warm-up steps (which include tracing);
- **plain eager loop**: the textbook loop written out below (PyTorch eager, or
  TensorFlow eager with ``GradientTape``), same model, optimiser, loss and batches;
- optionally ``--torch-compile``: the package loop with both models passed through
  ``torch.compile`` (the warm-up then includes compilation, which is timed too);

and prints images/s, their ratio, the seconds an epoch of 60,000 images would take, and
the peak resident memory during the measurement (Linux: ``VmHWM``, reset through
``/proc/self/clear_refs`` before each measurement).  The two loops are timed in ``--repeats``
alternating bursts of about ``--seconds`` seconds each (package, eager, eager, package, ...;
fresh models for every burst) and the median of each is reported: timed one after the other,
the second loop came out up to 20 % slower or faster than the first on the development
machine, which is as large as the differences measured.

    python benchmarks/mnist_step_speed.py                   # chapters 4 and 5, plain DCGAN w=32, ~6 min
    python benchmarks/mnist_step_speed.py --frameworks torch --widths 32 --torch-compile
    python benchmarks/mnist_step_speed.py --widths 16,32,64 --no-mlp   # the plain DCGAN's widths
    python benchmarks/mnist_step_speed.py --torch-threads 1  # see README: busy machines

Results and the machine they were measured on: ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

BATCH = 128
LATENT = 100
WARMUP_STEPS = 3


class _Enough(Exception):
    """Raised by the timing callback to stop ``fit`` once the measurement is complete."""


def reset_peak_memory() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_memory_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_avg() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def timed_fit(fit, generator, discriminator, images, seconds: float, max_steps: int) -> dict:
    """Run ``fit`` until ``seconds`` have passed after the warm-up; return images/s and the warm-up time."""
    marks: list[float] = []
    start = time.perf_counter()

    def callback(event, epoch, step, history):
        if event != "step_end":
            return
        marks.append(time.perf_counter())
        measured = len(marks) - 1 - WARMUP_STEPS
        if measured >= max_steps or (measured > 0 and marks[-1] - marks[WARMUP_STEPS] >= seconds):
            raise _Enough

    try:
        fit(generator, discriminator, images, epochs=10_000, batch_size=BATCH, latent_dim=LATENT,
            progress=False, callback=callback, fixed_noise_size=64)
    except _Enough:
        pass
    steps = len(marks) - 1 - WARMUP_STEPS
    return {
        "images_per_s": steps * BATCH / (marks[-1] - marks[WARMUP_STEPS]),
        "warmup_s": marks[WARMUP_STEPS] - start,
        "steps": steps,
    }


def timed_loop(step_fn, images: np.ndarray, seconds: float, max_steps: int) -> dict:
    rng = np.random.default_rng(0)
    order = rng.permutation(len(images))
    per_epoch = len(images) // BATCH
    marks = []
    start = time.perf_counter()
    i = 0
    while True:
        k = i % per_epoch
        if k == 0 and i:
            order = rng.permutation(len(images))
        step_fn(images[order[k * BATCH:(k + 1) * BATCH]])
        marks.append(time.perf_counter())
        i += 1
        measured = len(marks) - 1 - WARMUP_STEPS
        if measured >= max_steps or (measured > 0 and marks[-1] - marks[WARMUP_STEPS] >= seconds):
            break
    steps = len(marks) - 1 - WARMUP_STEPS
    return {
        "images_per_s": steps * BATCH / (marks[-1] - marks[WARMUP_STEPS]),
        "warmup_s": marks[WARMUP_STEPS] - start,
        "steps": steps,
    }


def timed_package(fit, build, images: np.ndarray, args) -> dict:
    """One burst of the package loop on freshly built models (``build()`` returns ``(G, D)``)."""
    return timed_fit(fit, *build(), images, args.seconds, args.max_steps)


def alternating(measure_package, measure_eager, repeats: int) -> tuple[dict, dict]:
    """Time the two loops in alternating bursts (package, eager, eager, package, ...); return their medians.

    Measured one after the other, the second loop ran up to 20 % slower or faster than the first on
    this machine (2026-12-07), an order effect as large as the differences being measured;
    alternating the order and taking the median of each side removes it.  Each burst builds
    fresh models.  Returns one dict per loop: median images/s, every burst's images/s, the first
    burst's warm-up and the largest peak memory.
    """
    runs: dict[str, list[dict]] = {"package": [], "eager": []}
    for i in range(repeats):
        order = ("package", "eager") if i % 2 == 0 else ("eager", "package")
        for kind in order:
            reset_peak_memory()
            run = (measure_package if kind == "package" else measure_eager)()
            run["peak_mb"] = peak_memory_mb()
            runs[kind].append(run)

    def summary(kind: str) -> dict:
        speeds = [r["images_per_s"] for r in runs[kind]]
        return {"images_per_s": float(np.median(speeds)), "bursts": [round(v) for v in speeds],
                "warmup_s": runs[kind][0]["warmup_s"], "peak_mb": max(r["peak_mb"] for r in runs[kind])}

    return summary("package"), summary("eager")


# ----------------------------------------------------------------------------- PyTorch


def torch_runs(models, images, args) -> list[dict]:
    import torch
    import torch.nn.functional as F

    from gan_utils.torch import mnist as tm
    from gan_utils.torch.fit import fit
    from gan_utils.torch.models import count_parameters

    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    results = []
    for name, width in models:
        def build():
            torch.manual_seed(0)
            if name == "mlp":
                return tm.mlp_generator(LATENT), tm.mlp_discriminator()
            if name == "dcgan":  # chapter 5's: G width 64, D width 32 judging pairs, minibatch std
                return tm.dcgan_generator(LATENT), tm.dcgan_discriminator()
            return tm.dcgan_generator(LATENT, width=width), tm.dcgan_discriminator(width=width, pack=1, minibatch_std=False)

        g, d = build()
        row = {"framework": "torch", "model": name, "width": width,
               "parameters": count_parameters(g) + count_parameters(d), "threads": torch.get_num_threads()}

        measure_package = functools.partial(timed_package, fit, build, images, args)

        def measure_eager(build=build):
            g, d = build()
            g_opt = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
            d_opt = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
            step = functools.partial(eager_step, g=g, d=d, g_opt=g_opt, d_opt=d_opt)
            return timed_loop(step, images, args.seconds, args.max_steps)

        def eager_step(batch_np, g, d, g_opt, d_opt):
            real = torch.from_numpy(batch_np).unsqueeze(1)
            fake = g(torch.randn(len(real), LATENT)).detach()
            real_logits, fake_logits = d(real), d(fake)  # a packing D gives one logit per group
            d_loss = (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                      + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
            d_opt.zero_grad()
            d_loss.backward()
            d_opt.step()
            g_logits = d(g(torch.randn(len(real), LATENT)))
            g_loss = F.binary_cross_entropy_with_logits(g_logits, torch.ones_like(g_logits))
            g_opt.zero_grad()
            g_loss.backward()
            g_opt.step()
            return d_loss.item(), g_loss.item()

        row["package"], row["eager"] = alternating(measure_package, measure_eager, args.repeats)

        if args.torch_compile:
            g, d = build()
            try:
                reset_peak_memory()
                row["compiled"] = timed_fit(fit, torch.compile(g), torch.compile(d), images, args.seconds, args.max_steps)
                row["compiled"]["peak_mb"] = peak_memory_mb()
            except Exception as err:  # no compiler, no Triton/C++ toolchain, ...
                row["compiled"] = {"error": f"{type(err).__name__}: {str(err).splitlines()[0][:200]}"}
        results.append(row)
        report(row)
    return results


# -------------------------------------------------------------------------- TensorFlow


def tensorflow_runs(models, images, args) -> list[dict]:
    import keras
    import tensorflow as tf

    from gan_utils.tensorflow import mnist as km
    from gan_utils.tensorflow.fit import fit

    results = []
    for name, width in models:
        def build():
            keras.utils.set_random_seed(0)
            if name == "mlp":
                return km.mlp_generator(LATENT), km.mlp_discriminator()
            if name == "dcgan":
                return km.dcgan_generator(LATENT), km.dcgan_discriminator()
            return km.dcgan_generator(LATENT, width=width), km.dcgan_discriminator(width=width, pack=1, minibatch_std=False)

        g, d = build()
        row = {"framework": "tensorflow", "model": name, "width": width,
               "parameters": km.trainable_parameter_count(g) + km.trainable_parameter_count(d)}
        bce = tf.nn.sigmoid_cross_entropy_with_logits

        measure_package = functools.partial(timed_package, fit, build, images, args)

        def measure_eager(build=build):
            g, d = build()
            g_opt = keras.optimizers.Adam(2e-4, beta_1=0.5, epsilon=1e-8)
            d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5, epsilon=1e-8)
            step = functools.partial(eager_step, g=g, d=d, g_opt=g_opt, d_opt=d_opt)
            return timed_loop(step, images, args.seconds, args.max_steps)

        def eager_step(batch_np, g, d, g_opt, d_opt):
            real = tf.constant(batch_np[..., None])
            n = real.shape[0]
            fake = g(tf.constant(np.random.standard_normal((n, LATENT)).astype(np.float32)), training=True)
            with tf.GradientTape() as tape:
                real_logits, fake_logits = d(real, training=True), d(fake, training=True)
                d_loss = tf.reduce_mean(bce(labels=tf.ones_like(real_logits), logits=real_logits)) + tf.reduce_mean(
                    bce(labels=tf.zeros_like(fake_logits), logits=fake_logits))
            d_opt.apply_gradients(zip(tape.gradient(d_loss, d.trainable_variables), d.trainable_variables))
            z = tf.constant(np.random.standard_normal((n, LATENT)).astype(np.float32))
            with tf.GradientTape() as tape:
                logits = d(g(z, training=True), training=True)
                g_loss = tf.reduce_mean(bce(labels=tf.ones_like(logits), logits=logits))
            g_opt.apply_gradients(zip(tape.gradient(g_loss, g.trainable_variables), g.trainable_variables))
            return float(d_loss), float(g_loss)

        row["package"], row["eager"] = alternating(measure_package, measure_eager, args.repeats)
        results.append(row)
        report(row)
    return results


# ------------------------------------------------------------------------------ output


def report(row: dict) -> None:
    label = f"{row['framework']:<10} {row['model']:<11} {row['width'] or '':>5} {row['parameters']:>10,}"
    pkg, eager = row["package"], row["eager"]
    ratio = pkg["images_per_s"] / eager["images_per_s"]
    epoch = 60_000 // BATCH * BATCH / pkg["images_per_s"]
    line = (f"{label} {pkg['images_per_s']:>9,.0f} {eager['images_per_s']:>9,.0f} {ratio:>6.2f}x "
            f"{epoch:>8,.0f} {pkg['peak_mb']:>8,.0f} {pkg['warmup_s']:>7.1f}")
    if "compiled" in row:
        c = row["compiled"]
        line += (f"   torch.compile: {c['images_per_s']:,.0f} img/s after {c['warmup_s']:.0f} s warm-up"
                 if "error" not in c else f"   torch.compile failed: {c['error']}")
    print(line, flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frameworks", default="torch,tensorflow")
    parser.add_argument("--widths", default="32",
                        help="plain DCGANs (G and D of this width, no packing, no minibatch std) to time besides "
                             "chapter 5's; comma-separated, empty for none")
    parser.add_argument("--no-mlp", action="store_true")
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds per burst")
    parser.add_argument("--repeats", type=int, default=2,
                        help="bursts per loop, package and eager alternating (the median is reported)")
    parser.add_argument("--max-steps", type=int, default=300, help="at most this many measured steps")
    parser.add_argument("--torch-threads", type=int, default=0, help="torch.set_num_threads (0: leave it)")
    parser.add_argument("--torch-compile", action="store_true", help="also time torch.compile'd models")
    parser.add_argument("--images", type=int, default=10_000, help="MNIST training images to draw batches from")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.seconds <= 0:
        parser.error("--repeats must be >= 1 and --seconds > 0")

    from gan_utils.data import load_mnist

    images = load_mnist("train", dtype="float32", limit=args.images)[0]
    models = ([] if args.no_mlp else [("mlp", None)]) + [("dcgan", None)]
    models += [("dcgan-plain", int(w)) for w in args.widths.split(",") if w]
    started = time.time()
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}  {platform.processor() or platform.machine()}  "
          f"{os.cpu_count()} CPUs  load average {load_avg()}  batch {BATCH}")
    print(f"{'framework':<10} {'model':<11} {'width':>5} {'params G+D':>10} {'pkg img/s':>9} "
          f"{'eager':>9} {'ratio':>7} {'s/epoch':>8} {'peak MB':>8} {'warm s':>7}")
    results = []
    for framework in args.frameworks.split(","):
        if framework == "torch":
            results += torch_runs(models, images, args)
        elif framework in ("tensorflow", "tf"):
            results += tensorflow_runs(models, images, args)
        else:
            parser.error(f"unknown framework {framework!r}")
    print(f"# done in {time.time() - started:.0f} s; load average {load_avg()}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"date": time.strftime("%Y-%m-%d %H:%M"), "load_average_end": load_avg(),
                       "python": sys.version.split()[0], "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
