"""The run profiles, notebook knobs and the seeding helper (gan_utils.profile)."""

import random
import subprocess
import sys

import numpy as np
import pytest

from gan_utils.profile import PROFILE_ENV_VAR, current_profile, is_smoke, seed_everything, settings


@pytest.mark.parametrize(
    "value, expected",
    [(None, "full"), ("", "full"), ("full", "full"), ("smoke", "smoke"), (" SMOKE ", "smoke")],
)
def test_current_profile_reads_the_environment(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv(PROFILE_ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(PROFILE_ENV_VAR, value)
    assert current_profile() == expected
    assert is_smoke() == (expected == "smoke")


def test_unknown_profile_is_an_error_naming_the_variable(monkeypatch):
    monkeypatch.setenv(PROFILE_ENV_VAR, "fast")
    with pytest.raises(ValueError, match=r"GAN_BOOK_PROFILE='fast'.*'full', 'smoke'"):
        current_profile()


def test_settings_pick_the_active_profile_and_reader_values_win(monkeypatch):
    full, smoke = {"steps": 3000, "batch": 128}, {"steps": 20, "batch": 16}
    monkeypatch.setenv(PROFILE_ENV_VAR, "smoke")
    s = settings(full, smoke, steps=None, batch=None)
    assert (s.profile, s.steps, s.batch) == ("smoke", 20, 16)
    s = settings(full, smoke, steps=5)  # the reader's value wins; omitted knobs come from the profile
    assert (s.steps, s.batch) == (5, 16)
    monkeypatch.setenv(PROFILE_ENV_VAR, "full")
    s = settings(full, smoke, steps=None, batch=64)
    assert (s.profile, s.steps, s.batch) == ("full", 3000, 64)


def test_settings_rejects_mismatched_profiles_and_unknown_knobs():
    with pytest.raises(ValueError, match=r"same knobs.*only in full: \['batch'\]"):
        settings({"steps": 1, "batch": 2}, {"steps": 1})
    with pytest.raises(ValueError, match=r"unknown knob\(s\) \['stpes'\]"):
        settings({"steps": 1}, {"steps": 1}, stpes=3)
    with pytest.raises(TypeError, match="must be mappings"):
        settings([("steps", 1)], {"steps": 1})


def _draws():
    import torch

    return (random.random(), np.random.rand(3).tolist(), torch.rand(3).tolist())


def test_same_seed_gives_the_same_numbers_in_python_numpy_and_torch():
    import torch  # noqa: F401  (imported, so "auto" seeds it)

    seeded = seed_everything(123)
    assert seeded[:2] == ["random", "numpy"] and "torch" in seeded  # TF too, if an earlier test imported it
    first = _draws()
    seed_everything(123)
    again = _draws()
    seed_everything(124)
    other = _draws()
    assert first == again
    for a, b in zip(first, other):
        assert a != b


def test_same_seed_gives_the_same_numbers_in_tensorflow():
    import tensorflow as tf

    def draw():
        return tf.random.uniform((4,)).numpy().tolist(), tf.keras.initializers.GlorotUniform()((2, 2)).numpy().tolist()

    assert "tensorflow" in seed_everything(7, frameworks=("tensorflow",))
    first = draw()
    seed_everything(7, frameworks=("tensorflow",))
    assert draw() == first
    seed_everything(8, frameworks=("tensorflow",))
    assert draw() != first


def test_auto_mode_does_not_import_frameworks():
    code = (
        "import sys; from gan_utils.profile import seed_everything; "
        "print(seed_everything(0), 'torch' in sys.modules, 'tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['random', 'numpy'] False False"


@pytest.mark.parametrize(
    "seed, frameworks, error, message",
    [
        (1.5, "auto", TypeError, "seed must be an int, got float"),
        (True, "auto", TypeError, "seed must be an int, got bool"),
        (-1, "auto", ValueError, r"seed must be in \[0, 2\*\*32\), got -1"),
        (0, ("jax",), ValueError, r"unknown framework\(s\) \['jax'\]"),
    ],
)
def test_seed_everything_rejects_bad_input(seed, frameworks, error, message):
    with pytest.raises(error, match=message):
        seed_everything(seed, frameworks=frameworks)
