"""Run profiles and seeding: the two things every notebook does first.

A notebook runs under one of two *profiles*, chosen by the environment variable
``GAN_BOOK_PROFILE``:

``full`` (the default)
    the real experiment, whose outputs are committed and shown in the book;
``smoke``
    a seconds-long version of the same code path (few steps, small data) that the
    test suite runs under nbval.

Each notebook's first code cell is tagged ``parameters`` (papermill) and holds the
knobs a learner may change.  A knob left at ``None`` is filled in by the profile;
a knob the reader set wins in every profile.  Used in every chapter.
"""

from __future__ import annotations

import os
import random
import sys
from types import SimpleNamespace
from typing import Any, Iterable, Mapping

import numpy as np

PROFILE_ENV_VAR = "GAN_BOOK_PROFILE"
PROFILES = ("full", "smoke")
DEFAULT_PROFILE = "full"


def current_profile() -> str:
    """Return the active profile, ``"full"`` or ``"smoke"``.

    Reads ``GAN_BOOK_PROFILE``; unset or empty means ``"full"``.  Any other value
    raises ``ValueError`` so a typo never silently runs the hour-long profile.
    """
    value = os.environ.get(PROFILE_ENV_VAR, "").strip().lower()
    if value == "":
        return DEFAULT_PROFILE
    if value not in PROFILES:
        raise ValueError(
            f"{PROFILE_ENV_VAR}={os.environ[PROFILE_ENV_VAR]!r} is not a known profile; "
            f"expected one of {PROFILES} (unset means {DEFAULT_PROFILE!r})."
        )
    return value


def is_smoke() -> bool:
    """True when the fast test profile is active."""
    return current_profile() == "smoke"


def settings(full: Mapping[str, Any], smoke: Mapping[str, Any], **chosen: Any) -> SimpleNamespace:
    """Resolve a notebook's knobs for the active profile.

    ``full`` and ``smoke`` give each knob's value per profile and must name the same
    knobs.  Keyword arguments are the values from the notebook's ``parameters`` cell:
    ``None`` means "let the profile decide", anything else overrides both profiles.

    >>> s = settings({"steps": 3000}, {"steps": 20}, steps=None)
    >>> s.steps in (3000, 20)
    True
    """
    if not isinstance(full, Mapping) or not isinstance(smoke, Mapping):
        raise TypeError(
            f"settings: 'full' and 'smoke' must be mappings, got {type(full).__name__} "
            f"and {type(smoke).__name__}."
        )
    if set(full) != set(smoke):
        raise ValueError(
            "settings: the 'full' and 'smoke' profiles must define the same knobs; "
            f"only in full: {sorted(set(full) - set(smoke))}, "
            f"only in smoke: {sorted(set(smoke) - set(full))}."
        )
    unknown = set(chosen) - set(full)
    if unknown:
        raise ValueError(
            f"settings: unknown knob(s) {sorted(unknown)}; the profiles define {sorted(full)}."
        )
    profile = current_profile()
    base = full if profile == "full" else smoke
    resolved = {key: (chosen[key] if chosen.get(key) is not None else base[key]) for key in full}
    return SimpleNamespace(profile=profile, **resolved)


def seed_everything(seed: int, frameworks: str | Iterable[str] = "auto") -> list[str]:
    """Seed Python's ``random``, NumPy and the deep-learning frameworks.

    ``frameworks="auto"`` seeds PyTorch and TensorFlow only if the notebook has
    already imported them (so a PyTorch chapter does not pay for importing
    TensorFlow); pass ``("torch",)``, ``("tensorflow",)`` or both to import and seed
    them explicitly.  Returns the names of what was seeded.  The same seed gives the
    same numbers on the same machine.  Used in every chapter.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed_everything: seed must be an int, got {type(seed).__name__}.")
    if not 0 <= int(seed) < 2**32:
        raise ValueError(f"seed_everything: seed must be in [0, 2**32), got {seed}.")
    seed = int(seed)
    known = ("torch", "tensorflow")
    if frameworks == "auto":
        wanted = [name for name in known if name in sys.modules]
    else:
        wanted = [frameworks] if isinstance(frameworks, str) else list(frameworks)
        bad = [name for name in wanted if name not in known]
        if bad:
            raise ValueError(
                f"seed_everything: unknown framework(s) {bad}; expected 'auto' or names from {known}."
            )

    random.seed(seed)
    np.random.seed(seed)
    seeded = ["random", "numpy"]
    if "torch" in wanted:
        import torch

        torch.manual_seed(seed)
        seeded.append("torch")
    if "tensorflow" in wanted:
        import tensorflow as tf

        # Seeds Python, NumPy and TF's global generator in one call.
        tf.keras.utils.set_random_seed(seed)
        seeded.append("tensorflow")
    return seeded
