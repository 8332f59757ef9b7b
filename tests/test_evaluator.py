"""The MNIST evaluator of chapter 6: shipped weights, accuracy, API and error messages."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from gan_utils import REPO_ROOT
from gan_utils.data import load_mnist
from gan_utils.evaluator import (
    CHECKSUM_FILE,
    FEATURE_DIM,
    WEIGHTS_FILE,
    EvaluatorFileError,
    MnistEvaluator,
    count_parameters,
    default_weights_path,
    evaluate_images,
    load_evaluator,
    sha256_of,
    verify_weights,
)

SHIPPED = REPO_ROOT / "data" / "evaluator" / WEIGHTS_FILE
N_TEST = 2000


@pytest.fixture(scope="module")
def model():
    return load_evaluator()


@pytest.fixture(scope="module")
def test_images():
    images, labels = load_mnist("test", dtype="float32", limit=N_TEST)
    return images, labels


@pytest.fixture(scope="module")
def outputs(model, test_images):
    return evaluate_images(test_images[0], model=model)


def test_shipped_weights_verify_and_are_small():
    assert SHIPPED.is_file()
    listed = (SHIPPED.parent / CHECKSUM_FILE).read_text().split()
    assert listed == [sha256_of(SHIPPED), WEIGHTS_FILE]
    assert verify_weights() == sha256_of(SHIPPED)
    assert SHIPPED.stat().st_size < 2_000_000
    assert (SHIPPED.parent / "README.md").is_file()


def test_load_evaluator_eval_mode_cached(model):
    assert isinstance(model, MnistEvaluator)
    assert not model.training
    assert all(not p.requires_grad for p in model.parameters())
    assert load_evaluator() is model
    assert load_evaluator(SHIPPED) is model
    assert model.test_accuracy >= 0.99
    assert count_parameters(model) == count_parameters(MnistEvaluator())


def test_accuracy_on_test_images(outputs, test_images):
    probs, _ = outputs
    accuracy = float((probs.argmax(1) == test_images[1]).mean())
    assert accuracy >= 0.99, accuracy


def test_outputs_shapes_and_probabilities(outputs):
    probs, feats = outputs
    assert probs.shape == (N_TEST, 10) and feats.shape == (N_TEST, FEATURE_DIM)
    assert probs.dtype == np.float64 and feats.dtype == np.float64
    assert np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=0, atol=1e-12)
    assert np.isfinite(feats).all() and np.all(feats >= 0)  # post-ReLU activations
    assert feats.std(0).max() > 0


def test_layouts_give_identical_results(model, test_images):
    x = test_images[0][:64]
    flat = evaluate_images(x, model=model)
    nhwc = evaluate_images(x[..., None], model=model)
    nchw = evaluate_images(x[:, None], model=model)
    small_batches = evaluate_images(x, batch_size=7, model=model)
    for other in (nhwc, nchw):
        np.testing.assert_array_equal(flat[0], other[0])
        np.testing.assert_array_equal(flat[1], other[1])
    np.testing.assert_allclose(flat[0], small_batches[0], atol=1e-6)
    np.testing.assert_allclose(flat[1], small_batches[1], rtol=1e-5, atol=1e-5)
    # float64 input and a torch tensor are accepted too
    np.testing.assert_allclose(evaluate_images(x.astype(np.float64), model=model)[0], flat[0])
    np.testing.assert_allclose(evaluate_images(torch.from_numpy(x), model=model)[0], flat[0])
    # default model is the shipped one
    np.testing.assert_array_equal(evaluate_images(x)[0], flat[0])



def test_read_only_images_are_accepted_without_warning(model, test_images):
    # np.asarray of a TensorFlow tensor is read-only; torch.from_numpy warns on such memory.
    x = test_images[0][:16].astype(np.float32)
    frozen = x.copy()
    frozen.setflags(write=False)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        probs, _ = evaluate_images(frozen, model=model)
    np.testing.assert_array_equal(probs, evaluate_images(x, model=model)[0])
    assert not frozen.flags.writeable  # the caller's array is left as it was

def test_torch_api(model, test_images):
    x = torch.from_numpy(test_images[0][:16])
    with torch.no_grad():
        logits = model(x)
        assert torch.equal(logits, model(x[:, None]))
        probs = model.probabilities(x)
        feats = model.features(x)
    assert logits.shape == (16, 10) and feats.shape == (16, FEATURE_DIM)
    torch.testing.assert_close(probs.sum(1), torch.ones(16))
    torch.testing.assert_close(probs, torch.softmax(logits, 1))


@pytest.mark.parametrize(
    ("images", "error", "match"),
    [
        (np.zeros((4, 32, 32), np.float32), ValueError, r"shape .*got \(4, 32, 32\)"),
        (np.zeros((0, 28, 28), np.float32), ValueError, "N >= 1"),
        (np.zeros((4, 3, 28, 28), np.float32), ValueError, "shape"),
        (np.full((2, 28, 28), 255.0, np.float32), ValueError, r"\[-1, 1\].*255"),
        (np.full((2, 28, 28), np.nan, np.float32), ValueError, "NaN"),
        (np.full((2, 28, 28), np.inf, np.float32), ValueError, "infinite"),
        (np.zeros((2, 28, 28), np.uint8), TypeError, "float.*127.5"),
        ("not images", TypeError, "float"),
    ],
)
def test_bad_images_raise(model, images, error, match):
    with pytest.raises(error, match=match):
        evaluate_images(images, model=model)


def test_bad_arguments_raise(model):
    x = np.zeros((2, 28, 28), np.float32)
    with pytest.raises(ValueError, match="batch_size"):
        evaluate_images(x, batch_size=0, model=model)
    with pytest.raises(TypeError, match="model"):
        evaluate_images(x, model=torch.nn.Linear(2, 2))
    with pytest.raises(TypeError, match="torch.Tensor"):
        model(x)
    with pytest.raises(ValueError, match="NaN"):
        model(torch.full((1, 28, 28), float("nan")))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        model.features(torch.full((1, 1, 28, 28), 2.0))
    with pytest.raises(TypeError, match="float tensor"):
        model(torch.zeros((1, 28, 28), dtype=torch.uint8))
    # a tiny excursion beyond [-1, 1] (float rounding) is tolerated
    model(torch.full((1, 28, 28), 1.0 + 1e-4))


@pytest.fixture
def copied(tmp_path):
    for name in (WEIGHTS_FILE, CHECKSUM_FILE):
        shutil.copy(SHIPPED.parent / name, tmp_path / name)
    return tmp_path / WEIGHTS_FILE


def test_copy_loads(copied, model):
    other = load_evaluator(copied)
    assert other is not model
    for a, b in zip(other.state_dict().values(), model.state_dict().values()):
        assert torch.equal(a, b)


def test_corrupted_weights_name_the_file(copied):
    data = bytearray(copied.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copied.write_bytes(bytes(data))
    with pytest.raises(EvaluatorFileError, match="does not match SHA256SUMS") as info:
        load_evaluator(copied)
    assert str(copied) in str(info.value)
    assert "python tools/train_evaluator.py" in str(info.value)
    assert isinstance(info.value, OSError) and not isinstance(info.value, ValueError)


def test_changed_file_is_reverified_after_caching(copied):
    load_evaluator(copied)
    copied.write_bytes(copied.read_bytes() + b"\0")
    with pytest.raises(EvaluatorFileError, match="does not match"):
        load_evaluator(copied)


def test_missing_file_names_the_fix(tmp_path):
    path = tmp_path / WEIGHTS_FILE
    with pytest.raises(EvaluatorFileError, match="is missing") as info:
        load_evaluator(path)
    message = str(info.value)
    assert str(path) in message
    assert "python tools/train_evaluator.py" in message and "git checkout" in message


def test_missing_or_bad_checksum_file(copied):
    sums = copied.parent / CHECKSUM_FILE
    sums.write_text(f"{'0' * 64}  other.pt\n")
    with pytest.raises(EvaluatorFileError, match="no checksum for 'mnist_evaluator.pt'"):
        load_evaluator(copied)
    sums.write_text("garbage\n")
    with pytest.raises(EvaluatorFileError, match="line 1"):
        load_evaluator(copied)
    sums.unlink()
    with pytest.raises(EvaluatorFileError, match=r"SHA256SUMS is missing"):
        load_evaluator(copied)


def test_checksummed_file_that_is_not_a_checkpoint(tmp_path):
    path = tmp_path / WEIGHTS_FILE
    torch.save({"weights": torch.zeros(3)}, path)
    (tmp_path / CHECKSUM_FILE).write_text(f"{sha256_of(path)}  {WEIGHTS_FILE}\n")
    with pytest.raises(EvaluatorFileError, match="format"):
        load_evaluator(path)


def test_data_dir_env_var(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_BOOK_DATA_DIR", str(tmp_path))
    assert default_weights_path() == tmp_path / "evaluator" / WEIGHTS_FILE
    with pytest.raises(EvaluatorFileError, match="GAN_BOOK_DATA_DIR"):
        load_evaluator()
    monkeypatch.delenv("GAN_BOOK_DATA_DIR")
    assert default_weights_path() == SHIPPED
