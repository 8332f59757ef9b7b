"""gan_utils.tensorflow.fit: history, versioned atomic checkpoints, exact resume, NaN guard, validation.

The twin of tests/test_fit_torch.py, on the same tiny data and models (512 MNIST images,
a DCGAN of width 4 and latent size 8).
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
tf = pytest.importorskip("tensorflow")
import keras  # noqa: E402

from gan_utils.checkpoint import TEMP_PREFIX, History  # noqa: E402
from gan_utils.data import load_mnist  # noqa: E402
from gan_utils.tensorflow import mnist as km  # noqa: E402
from gan_utils.tensorflow import fit as fit_module  # noqa: E402
from gan_utils.tensorflow.fit import LATEST_FILE, fit, load_checkpoint  # noqa: E402

LATENT = 8
TINY = dict(batch_size=64, latent_dim=LATENT, fixed_noise_size=16, progress=False)


@pytest.fixture(scope="module")
def images():
    return load_mnist("train", dtype="float32", limit=512)[0]


def models(seed=0, kind="dcgan"):
    keras.utils.set_random_seed(seed)
    if kind == "dcgan":
        return km.dcgan_generator(latent_dim=LATENT, width=4), km.dcgan_discriminator(width=4)
    return km.mlp_generator(LATENT, hidden=(16,)), km.mlp_discriminator(hidden=(16,))


def weights(*models_):
    return [w.numpy().copy() for m in models_ for w in m.weights]


def stop_at_epoch(epoch):
    def callback(event, e, step, history):
        if event == "epoch_start" and e == epoch:
            raise KeyboardInterrupt

    return callback


def layout(folder):
    """(pointer, version folders, temporaries) in a checkpoint folder."""
    names = sorted(os.listdir(folder))
    pointer = json.loads((folder / LATEST_FILE).read_text()) if LATEST_FILE in names else None
    return pointer, [n for n in names if n.startswith("epoch-")], [n for n in names if n.startswith(TEMP_PREFIX)]


def test_history_and_a_checkpoint_after_every_epoch(images, tmp_path, capsys):
    seen = []

    def callback(event, epoch, step, history):
        if event == "epoch_end":
            pointer, versions, temporaries = layout(tmp_path)
            assert versions == [pointer["folder"]] and temporaries == []
            seen.append((epoch, step, pointer["epoch"], pointer["step"]))

    g, d = models()
    history = fit(g, d, images, epochs=2, checkpoint_dir=tmp_path, callback=callback, **TINY)
    assert capsys.readouterr() == ("", "")  # progress=False prints nothing
    assert isinstance(history, History)
    assert seen == [(1, 8, 1, 8), (2, 16, 2, 16)]
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert len(getattr(history, key)) == 16
        assert all(np.isfinite(getattr(history, key)))
    assert history.epoch_end_steps == [8, 16] and len(history.images_per_second) == 2
    assert history.sample_epochs == [0, 1, 2]
    assert all(s.dtype == np.uint8 and s.shape == (122, 122) for s in history.samples)

    pointer, versions, _ = layout(tmp_path)
    assert sorted(os.listdir(tmp_path / pointer["folder"])) == [
        "discriminator.weights.h5", "generator.weights.h5", "state.npz"]
    # The Keras weights files load on their own, into fresh models.
    g2, d2 = models(seed=7)
    g2.load_weights(tmp_path / pointer["folder"] / "generator.weights.h5")
    for a, b in zip(weights(g), weights(g2)):
        np.testing.assert_array_equal(a, b)
    loaded = load_checkpoint(tmp_path, discriminator=d2)
    assert loaded["epoch"] == 2 and loaded["history"].d_loss == history.d_loss
    for a, b in zip(weights(d), weights(d2)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["dcgan", "mlp"])
def test_resume_after_a_kill_ends_like_an_uninterrupted_run(images, tmp_path, kind):
    g, d = models(kind=kind)
    straight = fit(g, d, images, epochs=2, seed=3, **TINY)
    expected = weights(g, d)

    g, d = models(kind=kind)
    with pytest.raises(KeyboardInterrupt):
        fit(g, d, images, epochs=2, seed=3, checkpoint_dir=tmp_path, callback=stop_at_epoch(2), **TINY)
    assert layout(tmp_path)[0]["epoch"] == 1

    g, d = models(seed=99, kind=kind)
    np.random.seed(12345)  # whatever the global state now, the checkpoint's must be used
    resumed = fit(g, d, images, epochs=2, seed=3, checkpoint_dir=tmp_path, **TINY)
    assert resumed.d_loss == straight.d_loss and resumed.g_loss == straight.g_loss
    assert resumed.d_real == straight.d_real and resumed.d_fake == straight.d_fake
    for a, b in zip(resumed.samples, straight.samples):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(weights(g, d), expected):
        np.testing.assert_array_equal(a, b)


def test_resume_refuses_a_checkpoint_of_other_settings(images, tmp_path):
    fit(*models(kind="mlp"), images, epochs=1, checkpoint_dir=tmp_path, **TINY)
    g, d = models(seed=1, kind="mlp")
    before = weights(g)
    with pytest.raises(ValueError, match=r"latent_dim|batch_size: checkpoint 64, now 32"):
        fit(g, d, images, epochs=2, checkpoint_dir=tmp_path, **{**TINY, "batch_size": 32})
    for a, b in zip(before, weights(g)):
        np.testing.assert_array_equal(a, b)


def test_nan_guard_names_step_epoch_and_loss_and_keeps_the_last_good_checkpoint(images, tmp_path):
    def poison(event, epoch, step, history):
        if event == "step_end" and step == 10:
            kernel = d.trainable_variables[0]
            value = kernel.numpy()
            value.flat[0] = np.nan
            kernel.assign(value)

    g, d = models(kind="mlp")
    with pytest.raises(FloatingPointError, match=r"step 11 \(epoch 2 of 3, batch 3 of 8\).*d_loss=nan") as info:
        fit(g, d, images, epochs=3, checkpoint_dir=tmp_path, callback=poison, **TINY)
    assert "still holds epoch 1" in str(info.value)
    pointer, versions, temporaries = layout(tmp_path)
    assert pointer["epoch"] == 1 and versions == [pointer["folder"]] and temporaries == []
    _, d2 = models(seed=2, kind="mlp")
    load_checkpoint(tmp_path, discriminator=d2)
    assert all(np.isfinite(w).all() for w in weights(d2))


def test_an_interrupted_write_leaves_the_old_checkpoint_and_is_cleaned_up(images, tmp_path, monkeypatch):
    fit(*models(kind="mlp"), images, epochs=1, checkpoint_dir=tmp_path, **TINY)
    old = layout(tmp_path)[0]

    def dying_savez(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(fit_module.np, "savez", dying_savez)
    with pytest.raises(KeyboardInterrupt):
        fit(*models(kind="mlp"), images, epochs=2, checkpoint_dir=tmp_path, **TINY)
    monkeypatch.undo()
    assert layout(tmp_path) == (old, [old["folder"]], [])
    # Leftovers of a write killed harder (a temporary folder, a version no pointer names) ...
    (tmp_path / f"{TEMP_PREFIX}epoch-0002-dead").mkdir()
    (tmp_path / "epoch-0002-0000beef").mkdir()
    (tmp_path / "epoch-notes").mkdir()  # not a checkpoint version: left alone
    history = fit(*models(kind="mlp"), images, epochs=2, checkpoint_dir=tmp_path, **TINY)
    # ... are removed by the next run, which resumed from the good version.
    pointer, versions, temporaries = layout(tmp_path)
    assert pointer["epoch"] == 2 and versions == sorted([pointer["folder"], "epoch-notes"]) and temporaries == []
    assert history.epoch_end_steps == [8, 16]


def test_tensor_layout_and_array_layout_train_alike(images):
    a = fit(*models(kind="mlp"), images, epochs=1, max_steps_per_epoch=3, **TINY)
    b = fit(*models(kind="mlp"), tf.constant(images[..., None]), epochs=1, max_steps_per_epoch=3, **TINY)
    assert a.d_loss == b.d_loss


def test_progress_shows_a_bar(images, capsys):
    fit(*models(kind="mlp"), images, epochs=1, max_steps_per_epoch=2, **{**TINY, "progress": True})
    out, err = capsys.readouterr()
    assert "epoch 1/1" in err and "img/s" in err


BAD = [
    (dict(images=np.zeros((4, 28, 28), np.uint8)), TypeError, r"images must hold floats.*dtype='float32'"),
    (dict(images=np.full((4, 28, 28), 255.0, np.float32)), ValueError, r"\[-1, 1\].*0\.\.255"),
    (dict(images=np.zeros((4, 1, 28, 28), np.float32)), ValueError, r"\(N, 28, 28\) or \(N, 28, 28, 1\), got \(4, 1, 28, 28\)"),
    (dict(images="mnist"), TypeError, r"NumPy array or a tf.Tensor"),
    (dict(epochs=0), ValueError, r"epochs must be an int >= 1, got 0"),
    (dict(batch_size=1024), ValueError, r"fewer than batch_size=1024"),
    (dict(lr_d=0.0), ValueError, r"lr_d must be a positive finite number"),
    (dict(betas=(0.5, 1.0)), ValueError, r"betas must be a pair"),
    (dict(latent_dim=9), ValueError, r"generator cannot take noise of shape \(n, 9\)"),
    (dict(resume=None), TypeError, r"resume must be True or False"),
    (dict(generator=object()), TypeError, r"generator must be a keras.Model"),
]


@pytest.mark.parametrize("change, error, message", BAD, ids=[f"{next(iter(c))}-{i}" for i, (c, _, _) in enumerate(BAD)])
def test_bad_arguments_are_refused_with_clear_messages(images, change, error, message):
    g, d = models()
    kwargs = {"generator": g, "discriminator": d, "images": images, "epochs": 1, **TINY, **change}
    with pytest.raises(error, match=message):
        fit(kwargs.pop("generator"), kwargs.pop("discriminator"), kwargs.pop("images"), **kwargs)


def test_same_fixed_noise_as_the_pytorch_twin():
    """Both halves draw the sample-grid noise with NumPy, so the same seed shows the same z."""
    from gan_utils.checkpoint import fixed_noise

    z = fixed_noise(16, LATENT, seed=3)
    assert z.shape == (16, LATENT) and z.dtype == np.float32
    np.testing.assert_array_equal(z, fixed_noise(16, LATENT, seed=3))
    assert not np.array_equal(z, fixed_noise(16, LATENT, seed=4))
