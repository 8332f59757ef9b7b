"""gan_utils.torch.fit: history, atomic checkpoints, exact resume, NaN guard, validation, silence.

Tiny data (512 MNIST images) and tiny models (a DCGAN of width 4 and latent size 8)
keep every run to a fraction of a second per epoch.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gan_utils.checkpoint import TEMP_PREFIX, History  # noqa: E402
from gan_utils.data import load_mnist  # noqa: E402
from gan_utils.torch import mnist as tm  # noqa: E402
from gan_utils.torch.fit import CHECKPOINT_FILE, fit, load_checkpoint  # noqa: E402

LATENT = 8
TINY = dict(batch_size=64, latent_dim=LATENT, fixed_noise_size=16, progress=False)

pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def images():
    return load_mnist("train", dtype="float32", limit=512)[0]


def models(seed=0, kind="dcgan"):
    torch.manual_seed(seed)
    if kind == "dcgan":
        return tm.dcgan_generator(latent_dim=LATENT, width=4), tm.dcgan_discriminator(width=4)
    return tm.mlp_generator(LATENT, hidden=(16,)), tm.mlp_discriminator(hidden=(16,))


def stop_at_epoch(epoch, exc=KeyboardInterrupt):
    def callback(event, e, step, history):
        if event == "epoch_start" and e == epoch:
            raise exc()

    return callback


def no_temporaries(folder):
    return [name for name in os.listdir(folder) if name.startswith(TEMP_PREFIX)] == []


def test_history_and_a_checkpoint_after_every_epoch(images, tmp_path):
    seen = []

    def callback(event, epoch, step, history):
        if event == "epoch_end":
            state = torch.load(tmp_path / CHECKPOINT_FILE, weights_only=True)
            seen.append((epoch, step, state["epoch"], state["step"], history.epochs))
            assert no_temporaries(tmp_path)

    g, d = models()
    history = fit(g, d, images, epochs=2, checkpoint_dir=tmp_path, callback=callback, **TINY)
    assert isinstance(history, History)
    assert seen == [(1, 8, 1, 8, 1), (2, 16, 2, 16, 2)]  # 512 // 64 = 8 steps per epoch
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        values = getattr(history, key)
        assert len(values) == 16 and all(isinstance(v, float) and np.isfinite(v) for v in values)
    assert all(0 < v < 1 for v in history.d_real + history.d_fake)
    assert history.epoch_end_steps == [8, 16] and history.steps == 16 and history.epochs == 2
    assert len(history.epoch_seconds) == len(history.images_per_second) == 2
    assert all(v > 0 for v in history.images_per_second)
    assert history.sample_epochs == [0, 1, 2]
    assert all(s.dtype == np.uint8 and s.shape == (122, 122) for s in history.samples)  # 4x4 grid of 28+2 px
    assert history.epoch_means("d_loss").shape == (2,)
    from gan_utils.plot import animate_images  # the grids are ready-made animation frames

    gif = animate_images(history.samples, titles=[f"epoch {e}" for e in history.sample_epochs])
    assert gif[:6] == b"GIF89a"
    assert sorted(os.listdir(tmp_path)) == [CHECKPOINT_FILE]

    loaded = load_checkpoint(tmp_path, *models(seed=7))
    assert loaded["epoch"] == 2 and loaded["step"] == 16
    assert loaded["history"].d_loss == history.d_loss
    np.testing.assert_array_equal(loaded["history"].samples[-1], history.samples[-1])
    assert g.training and d.training


@pytest.mark.parametrize("kind", ["dcgan", "mlp"])
def test_resume_after_a_kill_ends_like_an_uninterrupted_run(images, tmp_path, kind):
    g, d = models(kind=kind)
    straight = fit(g, d, images, epochs=3, seed=3, **TINY)
    expected = {**{f"g.{k}": v for k, v in g.state_dict().items()}, **{f"d.{k}": v for k, v in d.state_dict().items()}}

    g, d = models(kind=kind)
    with pytest.raises(KeyboardInterrupt):
        fit(g, d, images, epochs=3, seed=3, checkpoint_dir=tmp_path, callback=stop_at_epoch(2), **TINY)
    assert load_checkpoint(tmp_path)["epoch"] == 1 and no_temporaries(tmp_path)

    g, d = models(seed=99, kind=kind)  # other initial weights: everything must come from the checkpoint
    resumed = fit(g, d, images, epochs=3, seed=3, checkpoint_dir=tmp_path, **TINY)
    got = {**{f"g.{k}": v for k, v in g.state_dict().items()}, **{f"d.{k}": v for k, v in d.state_dict().items()}}
    assert resumed.d_loss == straight.d_loss and resumed.g_loss == straight.g_loss
    assert resumed.d_real == straight.d_real and resumed.d_fake == straight.d_fake
    assert resumed.epoch_end_steps == straight.epoch_end_steps
    assert resumed.sample_epochs == straight.sample_epochs
    for a, b in zip(resumed.samples, straight.samples):
        np.testing.assert_array_equal(a, b)
    assert got.keys() == expected.keys()
    for key in expected:
        assert torch.equal(got[key], expected[key]), key


def test_a_finished_checkpoint_returns_at_once_and_resume_false_starts_afresh(images, tmp_path):
    g, d = models()
    first = fit(g, d, images, epochs=1, checkpoint_dir=tmp_path, **TINY)
    again = fit(*models(seed=5), images, epochs=1, checkpoint_dir=tmp_path, **TINY)
    assert again.d_loss == first.d_loss and again.epochs == 1
    fresh = fit(*models(seed=5), images, epochs=1, checkpoint_dir=tmp_path, resume=False, **TINY)
    assert fresh.d_loss != first.d_loss
    assert load_checkpoint(tmp_path)["history"].d_loss == fresh.d_loss


def test_resume_refuses_a_checkpoint_of_other_settings(images, tmp_path):
    fit(*models(), images, epochs=1, checkpoint_dir=tmp_path, **TINY)
    g, d = models(seed=1)
    before = [p.clone() for p in g.parameters()]
    with pytest.raises(ValueError, match=r"batch_size: checkpoint 64, now 32.*resume=False"):
        fit(g, d, images, epochs=2, checkpoint_dir=tmp_path, **{**TINY, "batch_size": 32})
    assert all(torch.equal(a, b) for a, b in zip(before, g.parameters()))  # nothing was loaded


def test_nan_guard_names_step_epoch_and_loss_and_keeps_the_last_good_checkpoint(images, tmp_path):
    def poison(event, epoch, step, history):
        if event == "step_end" and step == 10:  # epoch 2, after its 2nd batch
            with torch.no_grad():
                next(d.parameters()).view(-1)[0] = float("nan")

    g, d = models()
    with pytest.raises(FloatingPointError, match=r"step 11 \(epoch 2 of 3, batch 3 of 8\).*d_loss=nan") as info:
        fit(g, d, images, epochs=3, checkpoint_dir=tmp_path, callback=poison, **TINY)
    assert "still holds epoch 1" in str(info.value)
    state = torch.load(tmp_path / CHECKPOINT_FILE, weights_only=True)
    assert state["epoch"] == 1 and state["step"] == 8
    assert all(torch.isfinite(v).all() for v in state["discriminator"].values() if v.is_floating_point())
    assert no_temporaries(tmp_path)


def test_weights_gone_bad_in_an_epochs_last_update_are_not_checkpointed(images, tmp_path):
    def poison(event, epoch, step, history):
        if event == "step_end" and step == 16:  # the last step of epoch 2: no further loss will show it
            with torch.no_grad():
                next(g.parameters()).view(-1)[0] = float("inf")

    g, d = models()
    with pytest.raises(FloatingPointError, match=r"after step 16 \(end of epoch 2\): the generator's weights contain"):
        fit(g, d, images, epochs=3, checkpoint_dir=tmp_path, callback=poison, **TINY)
    assert load_checkpoint(tmp_path)["epoch"] == 1


def test_an_interrupted_write_leaves_the_old_checkpoint(images, tmp_path, monkeypatch):
    fit(*models(), images, epochs=1, checkpoint_dir=tmp_path, **TINY)
    real_save = torch.save

    def dying_save(obj, f, *args, **kwargs):
        f.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        fit(*models(), images, epochs=2, checkpoint_dir=tmp_path, **TINY)
    monkeypatch.setattr(torch, "save", real_save)
    assert load_checkpoint(tmp_path)["epoch"] == 1
    assert no_temporaries(tmp_path)


def test_tensor_layout_and_array_layout_train_alike(images):
    a = fit(*models(), images, epochs=1, **TINY)
    b = fit(*models(), torch.from_numpy(images).unsqueeze(1), epochs=1, **TINY)
    assert a.d_loss == b.d_loss


def test_progress_false_prints_nothing_and_true_shows_a_bar(images, capsys):
    fit(*models(), images, epochs=1, max_steps_per_epoch=2, **TINY)
    out, err = capsys.readouterr()
    assert out == "" and err == ""
    fit(*models(), images, epochs=1, max_steps_per_epoch=2, **{**TINY, "progress": True})
    out, err = capsys.readouterr()
    assert "epoch 1/1" in err and "img/s" in err and "d_loss=" in err


def test_max_steps_per_epoch_caps_the_epoch(images):
    history = fit(*models(), images, epochs=2, max_steps_per_epoch=3, **TINY)
    assert history.epoch_end_steps == [3, 6]


BAD = [
    (dict(images=np.zeros((4, 28, 28), np.uint8)), TypeError, r"images must hold floats.*dtype='float32'"),
    (dict(images=np.full((4, 28, 28), 255.0, np.float32)), ValueError, r"\[-1, 1\].*0\.\.255"),
    (dict(images=np.zeros((4, 28, 29), np.float32)), ValueError, r"images must have shape \(N, 28, 28\) or \(N, 1, 28, 28\)"),
    (dict(images=np.zeros((4, 28, 28, 1), np.float32)), ValueError, r"got \(4, 28, 28, 1\)"),
    (dict(images=np.full((4, 28, 28), np.nan, np.float32)), ValueError, r"NaN or inf"),
    (dict(images=[[0.0]]), TypeError, r"NumPy array or a torch.Tensor"),
    (dict(epochs=0), ValueError, r"epochs must be an int >= 1, got 0"),
    (dict(epochs=1.5), TypeError, r"epochs must be an int"),
    (dict(batch_size=0), ValueError, r"batch_size must be an int >= 1"),
    (dict(batch_size=1024), ValueError, r"512 image\(s\), fewer than batch_size=1024"),
    (dict(lr_g=-1.0), ValueError, r"lr_g must be a positive finite number"),
    (dict(betas=(0.5,)), ValueError, r"betas must be a pair"),
    (dict(seed=-1), ValueError, r"seed must be an int"),
    (dict(latent_dim=9), ValueError, r"generator cannot take noise of shape \(n, 9\)"),
    (dict(fixed_noise_size=-1), ValueError, r"fixed_noise_size"),
    (dict(max_steps_per_epoch=0), ValueError, r"max_steps_per_epoch"),
    (dict(progress="yes"), TypeError, r"progress must be True or False"),
    (dict(callback=3), TypeError, r"callback must be None or a callable"),
    (dict(checkpoint_dir=3), TypeError, r"checkpoint_dir must be a folder path"),
    (dict(generator="G"), TypeError, r"generator must be a torch.nn.Module"),
]


@pytest.mark.parametrize("change, error, message", BAD, ids=[f"{next(iter(c))}-{i}" for i, (c, _, _) in enumerate(BAD)])
def test_bad_arguments_are_refused_with_clear_messages(images, change, error, message):
    g, d = models()
    kwargs = {"generator": g, "discriminator": d, "images": images, "epochs": 1, **TINY, **change}
    with pytest.raises(error, match=message):
        fit(kwargs.pop("generator"), kwargs.pop("discriminator"), kwargs.pop("images"), **kwargs)


def test_a_discriminator_with_the_wrong_output_is_refused(images):
    g, _ = models()
    with pytest.raises(ValueError, match=r"one logit per image, shape \(2, 1\) for n=2 images, got \(2, 784\)"):
        fit(g, torch.nn.Flatten(), images, epochs=1, **TINY)


def test_images_in_zero_one_train_with_a_warning(images):
    with pytest.warns(UserWarning, match=r"probably in \[0, 1\]"):
        fit(*models(), (images + 1) / 2, epochs=1, max_steps_per_epoch=1, **TINY)
