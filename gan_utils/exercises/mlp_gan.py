"""Checkers for the code exercises of chapter 4 (``04_mlp_gan_pytorch`` / ``04_mlp_gan_tensorflow``).

- ``check_scale_images(fn)``: a learner's ``fn(uint8_images)`` must return float32
  images in ``[-1, 1]`` (``x / 127.5 - 1``), the range of a generator that ends in
  ``tanh``.  The cases are ordered so that each classic mistake fails first on the case
  whose hint names it: ``x / 255`` (range ``[0, 1]``), ``x / 128 - 1`` (255 maps to
  0.992), integer arithmetic on ``uint8`` (wrap-around), a changed shape.
- ``check_mlp_discriminator(build)``: ``build()`` must return the chapter's MLP
  discriminator in either framework (a ``torch.nn.Module`` taking ``(N, 1, 28, 28)``
  or a Keras model taking ``(N, 28, 28, 1)``): 533,505 parameters, one **logit** per
  image (shape ``(N, 1)``, no sigmoid layer), and LeakyReLU rather than ReLU hidden
  activations (a negative hidden pre-activation must pass a non-zero gradient; checked
  by looking for the layer type).

Framework-neutral: no framework is imported unless the learner's model comes from it.
Used in chapter 4 (both twins).
"""

from __future__ import annotations

import numpy as np

from . import Case, Verdict, check_function

__all__ = [
    "MLP_DISCRIMINATOR_PARAMETERS",
    "check_mlp_discriminator",
    "check_scale_images",
    "scale_images_cases",
]

SCALE_EXERCISE = "Exercise 4.1 (scale uint8 images to [-1, 1])"
DISCRIMINATOR_EXERCISE = "Exercise 4.2 (the MLP discriminator)"

#: ``784*512+512 + 512*256+256 + 256*1+1``.
MLP_DISCRIMINATOR_PARAMETERS = 533_505


def scale_images_cases() -> list[Case]:
    """The hidden cases of :func:`check_scale_images` (inputs are ``uint8`` NumPy arrays)."""
    extremes = np.array([[0, 255], [128, 127]], dtype=np.uint8)
    rng = np.random.default_rng(4)
    batch = rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    return [
        Case(
            (extremes.copy(),),
            extremes.astype(np.float64) / 127.5 - 1.0,
            hint="0 must map to -1 and 255 to +1: divide by 127.5 and subtract 1 (x / 255 gives [0, 1]; "
            "x / 128 - 1 stops at 0.992). Convert to float before dividing (uint8 arithmetic wraps around).",
            name="0, 255, 128, 127",
        ),
        Case(
            (batch.copy(),),
            batch.astype(np.float64) / 127.5 - 1.0,
            hint="keep the shape (N, 28, 28): scaling must not flatten or add a channel axis.",
            name="a batch of 3 images",
        ),
    ]


def check_scale_images(fn, *, verbose: bool = True) -> Verdict:
    """Check ``fn(uint8 images) -> float images in [-1, 1]`` on hidden cases; also require float32 output."""
    verdict = check_function(SCALE_EXERCISE, fn, scale_images_cases(), rtol=1e-6, atol=1e-6, verbose=False)
    if verdict:
        got = fn(np.zeros((1, 28, 28), np.uint8))
        dtype = str(getattr(got, "dtype", type(got).__name__))
        if "float32" not in dtype:
            verdict = Verdict(
                SCALE_EXERCISE,
                "fail",
                f"[fail] {SCALE_EXERCISE}: the values are right but the dtype is {dtype}; return float32 "
                "(both frameworks' layers expect it, and float64 doubles the memory).",
            )
    if verbose:
        print(verdict.message)
    return verdict


def _framework(model: object) -> str | None:
    module = type(model).__module__ or ""
    if module.startswith("torch"):
        return "torch"
    if module.startswith(("keras", "tensorflow", "tf_keras")):
        return "tensorflow"
    return None


def _layer_types(model: object, framework: str) -> list[tuple[str, str]]:
    """(class name, activation name or '') of every sub-layer."""
    if framework == "torch":
        return [(type(m).__name__, "") for m in model.modules()]
    out = []
    for layer in model._flatten_layers(include_self=False):
        activation = getattr(layer, "activation", None)
        name = getattr(activation, "__name__", "") if activation is not None else ""
        out.append((type(layer).__name__, name))
    return out


def check_mlp_discriminator(build, *, verbose: bool = True) -> Verdict:
    """Build the learner's discriminator with ``build()`` and check it; print and return a :class:`Verdict`."""
    ex = DISCRIMINATOR_EXERCISE

    def finish(status: str, message: str) -> Verdict:
        verdict = Verdict(ex, status, message)
        if verbose:
            print(message)
        return verdict

    if not callable(build):
        raise TypeError(f"{ex}: expected a function that builds the model, got {type(build).__name__}.")
    try:
        model = build()
    except NotImplementedError:
        return finish(
            "not attempted",
            f"[not attempted] {ex}: the function still raises NotImplementedError; "
            "fill in the stub and run this cell again.",
        )
    except Exception as error:  # a learner's bug: report it, do not crash the notebook
        return finish("fail", f"[fail] {ex}: building the model raised {type(error).__name__}: {error}")
    framework = _framework(model)
    if framework is None:
        return finish("fail", f"[fail] {ex}: expected a torch.nn.Module or a Keras model, got {type(model).__name__}.")
    rng = np.random.default_rng(0)
    images = rng.uniform(-1.0, 1.0, size=(5, 28, 28, 1)).astype(np.float32)
    try:
        if framework == "torch":
            import torch

            n_params = int(sum(p.numel() for p in model.parameters()))
            with torch.no_grad():
                out = model(torch.from_numpy(images.transpose(0, 3, 1, 2).copy())).numpy()
        else:
            n_params = int(sum(int(np.prod(v.shape)) for v in model.trainable_weights))
            out = np.asarray(model(images, training=False))
    except Exception as error:
        return finish(
            "fail",
            f"[fail] {ex}: calling the model on 5 images of shape "
            f"{'(5, 1, 28, 28)' if framework == 'torch' else '(5, 28, 28, 1)'} raised "
            f"{type(error).__name__}: {error}. Flatten the image first (784 inputs).",
        )
    if tuple(out.shape) != (5, 1):
        return finish("fail", f"[fail] {ex}: the output has shape {tuple(out.shape)}, expected (5, 1): one logit per image.")
    if n_params != MLP_DISCRIMINATOR_PARAMETERS:
        return finish(
            "fail",
            f"[fail] {ex}: {n_params:,} parameters, expected {MLP_DISCRIMINATOR_PARAMETERS:,} "
            "(784 -> 512 -> 256 -> 1, every layer with a bias).",
        )
    kinds = _layer_types(model, framework)
    if any(name == "Sigmoid" or act == "sigmoid" for name, act in kinds):
        return finish(
            "fail",
            f"[fail] {ex}: the model ends in a sigmoid; return the logit and let the loss apply the sigmoid "
            "(binary cross-entropy with logits is exact where sigmoid + log rounds to 0 or inf).",
        )
    if any(name == "ReLU" or act == "relu" for name, act in kinds) or sum(name == "LeakyReLU" for name, _ in kinds) != 2:
        return finish(
            "fail",
            f"[fail] {ex}: use LeakyReLU(0.2) after each of the two hidden layers (and no ReLU): a ReLU unit that is "
            "off passes no gradient to the generator.",
        )
    return finish("pass", f"[pass] {ex}: {n_params:,} parameters, one logit per image, LeakyReLU hidden layers.")
