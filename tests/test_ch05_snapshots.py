"""gan_utils.torch.snapshots: the per-epoch DCGAN generators chapter 5 ships for chapter 6.

Round trip through a temporary pretrained folder (float16 storage, float32 eval-mode
generators that reproduce the saved ones' images to float16 precision, history and
steps per epoch), the checksum guard, argument checks, and — once chapter 5's full run
has published it — the shipped file itself.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gan_utils.pretrained import PretrainedFileError, publish, read_checksums, temporary_path  # noqa: E402
from gan_utils.torch.mnist import dcgan_generator  # noqa: E402
from gan_utils.torch.snapshots import (  # noqa: E402
    SNAPSHOT_FILE,
    Snapshot,
    load_dcgan_history,
    load_dcgan_snapshots,
    save_dcgan_snapshots,
)

WIDTH = 8  # small, so the test is fast; the chapter uses DCGAN_GENERATOR_WIDTH


def _run(n_epochs=3, steps=5):
    torch.manual_seed(0)
    gens, seconds = [], 0.0
    G = dcgan_generator(width=WIDTH)
    for epoch in range(n_epochs + 1):
        with torch.no_grad():  # stand-in for training: perturb the weights and BatchNorm statistics
            for p in G.parameters():
                p.add_(0.05 * torch.randn_like(p))
            for m in G.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.add_(0.1 * epoch)
                    m.num_batches_tracked.fill_(epoch * steps)
        gens.append((epoch, seconds, {k: v.clone() for k, v in G.state_dict().items()}))
        seconds += 1.5 + epoch
    rng = np.random.default_rng(0)
    history = {key: rng.uniform(0, 2, n_epochs * steps).tolist() for key in ("d_loss", "g_loss", "d_real", "d_fake")}
    return gens, history


@pytest.fixture
def published(tmp_path):
    gens, history = _run()
    tmp = temporary_path(SNAPSHOT_FILE, folder=tmp_path)
    save_dcgan_snapshots(tmp, gens, history, steps_per_epoch=5, width=WIDTH)
    publish({SNAPSHOT_FILE: tmp}, folder=tmp_path)
    return tmp_path, gens, history


def test_round_trip(published):
    folder, gens, history = published
    snapshots = load_dcgan_snapshots(folder=folder)
    assert [s.epoch for s in snapshots] == [0, 1, 2, 3]
    assert [s.train_seconds for s in snapshots] == [g[1] for g in gens]
    z = torch.randn(16, 100, generator=torch.Generator().manual_seed(1))
    for snap, (_, _, state) in zip(snapshots, gens):
        assert isinstance(snap, Snapshot) and not snap.generator.training
        weights = snap.generator.state_dict()
        for name, value in state.items():
            assert weights[name].dtype == value.dtype  # float32 again (int64 counter kept)
            if value.is_floating_point():
                torch.testing.assert_close(weights[name], value.half().float(), rtol=0, atol=0)
            else:
                assert torch.equal(weights[name], value)
        reference = dcgan_generator(width=WIDTH)
        reference.load_state_dict(state)
        with torch.no_grad():
            np.testing.assert_allclose(snap.generator(z).numpy(), reference.eval()(z).numpy(), atol=5e-3)
    # different epochs are different generators
    assert not torch.equal(snapshots[0].generator.state_dict()["0.weight"], snapshots[3].generator.state_dict()["0.weight"])  # the projection
    loaded = load_dcgan_history(folder=folder)
    assert set(loaded) == {"d_loss", "g_loss", "d_real", "d_fake", "steps_per_epoch"}
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert loaded[key].dtype == np.float32
        np.testing.assert_array_equal(loaded[key], np.asarray(history[key], np.float32))
    assert int(loaded["steps_per_epoch"]) == 5


def test_weights_are_stored_as_float16(published):
    folder, _, _ = published
    state = torch.load(folder / SNAPSHOT_FILE, weights_only=True)
    dtypes = {v.dtype for g in state["generators"] for v in g.values()}
    assert dtypes == {torch.float16, torch.int64}


def test_altered_file_gives_a_clear_error(published):
    folder, _, _ = published
    path = folder / SNAPSHOT_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(PretrainedFileError, match=r"dcgan_torch_generator_snapshots\.pt.*SHA-256.*05_dcgan_pytorch"):
        load_dcgan_snapshots(folder=folder)
    with pytest.raises(PretrainedFileError, match="git checkout"):
        load_dcgan_history(folder=folder)


def test_missing_file_gives_a_clear_error(tmp_path):
    with pytest.raises(PretrainedFileError, match="is missing"):
        load_dcgan_snapshots(folder=tmp_path)
    with pytest.raises(FileNotFoundError, match="no snapshot file"):
        load_dcgan_snapshots(tmp_path / "nothing.pt")


def test_explicit_path_and_wrong_format(tmp_path):
    gens, history = _run(1)
    path = save_dcgan_snapshots(tmp_path / "mine.pt", gens, history, steps_per_epoch=5, width=WIDTH)
    assert [s.epoch for s in load_dcgan_snapshots(path)] == [0, 1]
    torch.save({"format": "something else"}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a snapshot file"):
        load_dcgan_snapshots(tmp_path / "other.pt")
    with pytest.raises(ValueError, match="path or folder"):
        load_dcgan_snapshots(path, folder=tmp_path)


def test_save_rejects_bad_input(tmp_path):
    gens, history = _run(2)
    out = tmp_path / "s.pt"
    with pytest.raises(ValueError, match="strictly increasing"):
        save_dcgan_snapshots(out, [gens[1], gens[0]], history, steps_per_epoch=5, width=WIDTH)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        save_dcgan_snapshots(out, gens, history, steps_per_epoch=0, width=WIDTH)
    with pytest.raises(ValueError, match="keys"):
        save_dcgan_snapshots(out, gens, {"d_loss": [1.0]}, steps_per_epoch=5, width=WIDTH)
    with pytest.raises(ValueError, match="equal length"):
        save_dcgan_snapshots(out, gens, {**history, "g_loss": [1.0]}, steps_per_epoch=5, width=WIDTH)
    with pytest.raises(TypeError, match="state_dict"):
        save_dcgan_snapshots(out, [(0, 0.0, "weights")], history, steps_per_epoch=5, width=WIDTH)
    with pytest.raises(ValueError, match="non-empty"):
        save_dcgan_snapshots(out, [], history, steps_per_epoch=5, width=WIDTH)
    assert not out.exists()


def test_shipped_snapshots_if_published():
    if SNAPSHOT_FILE not in read_checksums():
        pytest.skip("chapter 5's full run has not published the snapshots yet")
    snapshots = load_dcgan_snapshots()
    history = load_dcgan_history()
    epochs = [s.epoch for s in snapshots]
    # chapter 5 ships epochs 0, 1, 2, then every other one, and always the last (the 25 MB budget)
    assert epochs[:3] == [0, 1, 2] and epochs[-1] >= 4
    assert epochs[3:] == [e for e in range(4, epochs[-1] + 1) if e % 2 == 0 or e == epochs[-1]]
    seconds = [s.train_seconds for s in snapshots]
    assert all(b > a for a, b in zip(seconds, seconds[1:]))
    steps = int(history["steps_per_epoch"])
    assert len(history["d_loss"]) == steps * epochs[-1]
    assert np.all(np.isfinite(history["d_loss"])) and np.all((history["d_real"] > 0) & (history["d_real"] < 1))
    with torch.no_grad():
        images = snapshots[-1].generator(torch.randn(8, 100))
    assert images.shape == (8, 1, 28, 28) and float(images.abs().max()) <= 1.0
