"""Checkers for the code exercises of chapter 3, TensorFlow twin (``03_training_loop_tensorflow``).

``check_discriminator_loss(fn)`` runs a learner's ``fn(real_logits, fake_logits)`` on
hidden cases.  The cases are ordered so that each classic mistake fails first on the
case whose hint names it:

1. all logits 0: applying ``sigmoid`` before a from-logits loss, or averaging the two
   terms instead of adding them, changes the value here;
2. one real and one fake logit of different size: swapped or wrong target labels;
3. batches of 4 real and 2 fake logits: a sum instead of a mean over the batch;
4. logits of size 120: ``log(sigmoid(a))`` computed naively, which overflows to ``inf``.

The inputs are float32 ``tf.Tensor`` of shape ``(N, 1)``; the expected outputs were
computed with NumPy in float64 (``log(1 + exp(.))`` via ``np.logaddexp``).  Used in
chapter 3 (TensorFlow).
"""

from __future__ import annotations

from . import Case, Verdict, check_function
from .discriminator_loss import build_cases

__all__ = ["check_discriminator_loss", "discriminator_loss_cases"]

EXERCISE = "Exercise 3.1 (discriminator loss, TensorFlow)"


def discriminator_loss_cases() -> list[Case]:
    """The hidden cases of :func:`check_discriminator_loss` (TensorFlow tensors in)."""
    import tensorflow as tf

    hints = {
        "all logits 0": (
            "With every logit 0 the discriminator says 1/2 everywhere, each term is log 2 and the "
            "loss is 2 log 2 = 1.386. About 1.448 means sigmoid was applied to the inputs before a "
            "from-logits loss (they are logits already); 0.693 means the two terms were averaged "
            "instead of added."
        ),
        "one real, one fake": (
            "Real samples have the target label 1 and fakes the target 0: the loss is "
            "BCE(real_logits, 1) + BCE(fake_logits, 0). Check the labels (swapped?)."
        ),
        "4 real, 2 fake": (
            "Average each term over its own batch (tf.reduce_mean), do not sum: a sum makes the loss, "
            "and with it the step size, grow with the batch size."
        ),
        "large logits": (
            "For large |logit| compute the loss from the logits with a stable function "
            "(tf.nn.sigmoid_cross_entropy_with_logits or tf.nn.softplus): sigmoid(-120) rounds to 0 "
            "in float32 and log(0) = -inf."
        ),
    }
    return build_cases(tf.constant, hints)


def check_discriminator_loss(fn, *, verbose: bool = True) -> Verdict:
    """Check ``fn(real_logits, fake_logits)`` against the discriminator's BCE-with-logits loss.

    ``fn`` takes two float32 ``tf.Tensor`` of logits shaped ``(N, 1)`` and must return a
    scalar: ``mean BCE(real_logits, 1) + mean BCE(fake_logits, 0)``.  Prints and returns
    a :class:`~gan_utils.exercises.Verdict`.  Used in chapter 3 (TensorFlow).
    """
    return check_function(EXERCISE, fn, discriminator_loss_cases(), rtol=1e-5, atol=1e-5, verbose=verbose)
