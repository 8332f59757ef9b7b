"""Tests of gan_utils.data: the shipped MNIST files and every way loading them can fail.

The real training set is loaded once (about a second); failure cases use small
synthetic IDX files with their own SHA256SUMS in a temporary folder, plus a few real
files copied there, so the whole module runs in a few seconds.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import struct
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gan_utils import data
from gan_utils.data import (
    MNIST_DIR,
    MNIST_TRAIN_LABEL_COUNTS,
    DataFileError,
    load_mnist,
    read_idx,
    verify_mnist,
)

TRAIN_IMAGES, TRAIN_LABELS = data.MNIST_FILES["train"]
TEST_IMAGES, TEST_LABELS = data.MNIST_FILES["test"]


# ---------------------------------------------------------------- helpers


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """Encode a uint8 array as IDX (big-endian magic and dims, then the data)."""
    if magic is None:
        magic = 0x0800 | array.ndim
    return struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes()


def write_sums(folder, raw_by_name: dict[str, bytes]) -> None:
    lines = [f"{hashlib.sha256(raw).hexdigest()}  {name}" for name, raw in raw_by_name.items()]
    (folder / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def write_fake_mnist(folder, n: int = 6, seed: int = 0, overrides: dict[str, bytes] | None = None):
    """Write four tiny valid MNIST files and a matching SHA256SUMS; return the raw IDX bytes.

    ``overrides`` maps a ``.gz`` file name to the raw IDX bytes to write instead; the
    checksum still matches them, so only the IDX checks can catch a bad one.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    raws = {}
    for images_name, labels_name in data.MNIST_FILES.values():
        raws[images_name] = idx_bytes(rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8))
        raws[labels_name] = idx_bytes(rng.integers(0, 10, size=n, dtype=np.uint8))
    raws.update(overrides or {})
    for name, raw in raws.items():
        (folder / name).write_bytes(gzip.compress(raw))
    write_sums(folder, {name.removesuffix(".gz"): raw for name, raw in raws.items()})
    return raws


def rewrite_later(path, content: bytes) -> None:
    """Replace a file's content and move its mtime a second on, as a later edit would
    (some file systems keep only whole seconds)."""
    before = path.stat().st_mtime_ns
    path.write_bytes(content)
    os.utime(path, ns=(before + 10**9, before + 10**9))


@pytest.fixture(scope="module")
def train():
    return load_mnist("train")


@pytest.fixture()
def real_test_copy(tmp_path):
    """A temporary folder with the real test split and SHA256SUMS (about 1.6 MB)."""
    for name in (TEST_IMAGES, TEST_LABELS, "SHA256SUMS"):
        shutil.copy(MNIST_DIR / name, tmp_path / name)
    return tmp_path


# ---------------------------------------------------------------- the real files


def test_train_split_shapes_and_dtypes(train):
    images, labels = train
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.uint8
    assert images.min() == 0 and images.max() == 255
    assert set(np.unique(labels)) == set(range(10))


def test_train_label_counts_match_documented_facts(train):
    counts = np.bincount(train[1], minlength=10)
    assert tuple(int(c) for c in counts) == MNIST_TRAIN_LABEL_COUNTS
    assert sum(MNIST_TRAIN_LABEL_COUNTS) == 60000


def test_test_split_shapes():
    images, labels = load_mnist("test")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.uint8


def test_float32_is_scaled_to_minus_one_one():
    as_uint8, labels_u = load_mnist("test")
    images, labels = load_mnist("test", dtype="float32")
    assert images.dtype == np.float32 and images.shape == (10000, 28, 28)
    assert images.min() == -1.0 and images.max() == 1.0
    np.testing.assert_array_equal(images, as_uint8.astype(np.float32) / 127.5 - 1)
    np.testing.assert_array_equal(labels, labels_u)
    # NumPy dtype objects are accepted for the same thing.
    np.testing.assert_array_equal(load_mnist("test", dtype=np.float32, limit=3)[0], images[:3])


def test_limit_returns_the_first_examples(train):
    images, labels = load_mnist("train", limit=100)
    assert images.shape == (100, 28, 28) and labels.shape == (100,)
    np.testing.assert_array_equal(images, train[0][:100])
    np.testing.assert_array_equal(labels, train[1][:100])
    assert load_mnist("test", limit=np.int64(1))[0].shape == (1, 28, 28)
    assert load_mnist("test", limit=10**6)[0].shape == (10000, 28, 28)  # above N: all


def test_returned_arrays_are_independent_copies():
    images, labels = load_mnist("test", limit=5)
    expected_images, expected_labels = images.copy(), labels.copy()
    images[:] = 7  # would raise if the read-only cached array were handed out
    labels[:] = 99
    again_images, again_labels = load_mnist("test", limit=5)
    np.testing.assert_array_equal(again_images, expected_images)
    np.testing.assert_array_equal(again_labels, expected_labels)


def test_verify_mnist_returns_the_shipped_checksums():
    lines = (MNIST_DIR / "SHA256SUMS").read_text().splitlines()
    listed = {line.split()[1]: line.split()[0] for line in lines if line.strip()}
    assert verify_mnist() == listed
    assert len(listed) == 4


def test_module_imports_no_deep_learning_framework():
    code = "import sys, gan_utils.data; print(sorted({'torch', 'tensorflow'} & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# ---------------------------------------------------------------- real-file failures


def test_missing_real_file_is_named(real_test_copy):
    (real_test_copy / TEST_LABELS).unlink()
    with pytest.raises(DataFileError, match=TEST_LABELS) as info:
        load_mnist("test", data_dir=real_test_copy)
    assert "is missing" in str(info.value)
    assert f"git checkout -- data/mnist/{TEST_LABELS}" in str(info.value)
    assert "never downloads" in str(info.value)


def test_truncated_real_gzip_is_named(real_test_copy):
    path = real_test_copy / TEST_IMAGES
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DataFileError, match=TEST_IMAGES) as info:
        load_mnist("test", data_dir=real_test_copy)
    assert "truncated or corrupt" in str(info.value)


def test_altered_real_labels_fail_the_checksum(real_test_copy):
    path = real_test_copy / TEST_LABELS
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[-1] = (raw[-1] + 1) % 10  # one label changed: still a valid gzip and a valid IDX
    path.write_bytes(gzip.compress(bytes(raw)))
    expected = hashlib.sha256(gzip.decompress((MNIST_DIR / TEST_LABELS).read_bytes())).hexdigest()
    with pytest.raises(DataFileError, match=TEST_LABELS) as info:
        load_mnist("test", data_dir=real_test_copy)
    message = str(info.value)
    assert "altered or corrupt" in message
    assert f"expected {expected}" in message and f"got {hashlib.sha256(raw).hexdigest()}" in message


# ---------------------------------------------------------------- synthetic failures


def test_fake_files_load(tmp_path):
    raws = write_fake_mnist(tmp_path, n=6)
    images, labels = load_mnist("test", data_dir=tmp_path)
    assert images.shape == (6, 28, 28)
    np.testing.assert_array_equal(labels, np.frombuffer(raws[TEST_LABELS][8:], dtype=np.uint8))


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda gz: gz[:-10], id="truncated"),
        pytest.param(lambda gz: gz[:20] + bytes([gz[20] ^ 0xFF]) + gz[21:], id="byte-flipped"),
        pytest.param(lambda gz: b"version https://git-lfs.github.com/spec/v1\n", id="not-gzip"),
        pytest.param(lambda gz: b"", id="empty"),
    ],
)
def test_corrupt_gzip_is_reported_as_data_file_error(tmp_path, damage):
    write_fake_mnist(tmp_path)
    path = tmp_path / TRAIN_IMAGES
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(DataFileError, match=TRAIN_IMAGES):
        load_mnist("train", data_dir=tmp_path)


def test_missing_checksum_file(tmp_path):
    write_fake_mnist(tmp_path)
    (tmp_path / "SHA256SUMS").unlink()
    with pytest.raises(DataFileError, match="SHA256SUMS") as info:
        load_mnist("train", data_dir=tmp_path)
    assert "is missing" in str(info.value) and "cannot be verified" in str(info.value)


def test_checksum_file_without_an_entry(tmp_path):
    write_fake_mnist(tmp_path)
    sums = tmp_path / "SHA256SUMS"
    kept = [line for line in sums.read_text().splitlines() if TEST_LABELS[:-3] not in line]
    sums.write_text("\n".join(kept) + "\n")
    load_mnist("train", data_dir=tmp_path)  # the other split is unaffected
    with pytest.raises(DataFileError, match=TEST_LABELS[:-3]) as info:
        load_mnist("test", data_dir=tmp_path)
    assert "has no checksum" in str(info.value)


def test_malformed_checksum_line(tmp_path):
    write_fake_mnist(tmp_path)
    (tmp_path / "SHA256SUMS").write_text("not a checksum line\n")
    with pytest.raises(DataFileError, match="line 1"):
        load_mnist("train", data_dir=tmp_path)


def test_bad_idx_magic_is_named(tmp_path):
    bad = idx_bytes(np.zeros((6, 28, 28), np.uint8), magic=0x00000D03)  # float type code
    write_fake_mnist(tmp_path, overrides={TRAIN_IMAGES: bad})
    with pytest.raises(DataFileError, match=TRAIN_IMAGES) as info:
        load_mnist("train", data_dir=tmp_path)
    assert "magic number 00000d03" in str(info.value)


def test_idx_dims_not_matching_byte_count(tmp_path):
    bad = idx_bytes(np.zeros((6, 28, 28), np.uint8))[:-1]  # one pixel short
    write_fake_mnist(tmp_path, overrides={TRAIN_IMAGES: bad})
    with pytest.raises(DataFileError, match="shape \\(6, 28, 28\\)"):
        load_mnist("train", data_dir=tmp_path)


@pytest.mark.parametrize(
    "overrides, name, text",
    [
        (
            {TEST_IMAGES: idx_bytes(np.zeros((6, 27, 27), np.uint8))},
            TEST_IMAGES,
            "expected (N, 28, 28)",
        ),
        ({TEST_LABELS: idx_bytes(np.zeros(5, np.uint8))}, TEST_LABELS, "expected (6,)"),
        ({TEST_LABELS: idx_bytes(np.zeros((6, 1), np.uint8))}, TEST_LABELS, "expected (6,)"),
    ],
    ids=["images-27x27", "labels-too-few", "labels-2d"],
)
def test_valid_idx_of_the_wrong_shape(tmp_path, overrides, name, text):
    write_fake_mnist(tmp_path, overrides=overrides)
    with pytest.raises(DataFileError, match=name) as info:
        load_mnist("test", data_dir=tmp_path)
    assert text in str(info.value)


def test_verify_mnist_stops_at_the_first_bad_file(tmp_path):
    raws = write_fake_mnist(tmp_path)
    result = verify_mnist(tmp_path)
    assert result[TEST_IMAGES[:-3]] == hashlib.sha256(raws[TEST_IMAGES]).hexdigest()
    (tmp_path / TEST_LABELS).unlink()
    with pytest.raises(DataFileError, match=TEST_LABELS):
        verify_mnist(tmp_path)


def test_environment_variable_replaces_the_data_root(tmp_path, monkeypatch):
    raws = write_fake_mnist(tmp_path / "mnist", n=3)
    monkeypatch.setenv("GAN_BOOK_DATA_DIR", str(tmp_path))
    assert data.default_mnist_dir() == tmp_path / "mnist"
    labels = load_mnist("train")[1]
    np.testing.assert_array_equal(labels, np.frombuffer(raws[TRAIN_LABELS][8:], dtype=np.uint8))
    (tmp_path / "mnist" / TRAIN_LABELS).unlink()
    with pytest.raises(DataFileError, match="GAN_BOOK_DATA_DIR"):
        load_mnist("train")


# ---------------------------------------------------------------- caching


def test_second_load_uses_the_cache(tmp_path, monkeypatch):
    write_fake_mnist(tmp_path)
    first = load_mnist("train", data_dir=tmp_path)

    def no_decompress(*args, **kwargs):
        raise AssertionError("the cached arrays should have been reused")

    monkeypatch.setattr(data.gzip, "decompress", no_decompress)
    second = load_mnist("train", data_dir=tmp_path)
    np.testing.assert_array_equal(first[0], second[0])


def test_file_altered_after_a_load_is_detected(tmp_path):
    raws = write_fake_mnist(tmp_path)
    load_mnist("train", data_dir=tmp_path)
    altered = bytearray(raws[TRAIN_LABELS])
    altered[-1] = (altered[-1] + 1) % 10
    rewrite_later(tmp_path / TRAIN_LABELS, gzip.compress(bytes(altered)))
    with pytest.raises(DataFileError, match=TRAIN_LABELS) as info:
        load_mnist("train", data_dir=tmp_path)
    assert "altered or corrupt" in str(info.value)


def test_file_and_checksum_updated_together_give_the_new_data(tmp_path):
    raws = write_fake_mnist(tmp_path)
    assert load_mnist("train", data_dir=tmp_path)[1][-1] == raws[TRAIN_LABELS][-1]
    altered = bytearray(raws[TRAIN_LABELS])
    altered[-1] = (altered[-1] + 1) % 10
    rewrite_later(tmp_path / TRAIN_LABELS, gzip.compress(bytes(altered)))
    new_raws = {**raws, TRAIN_LABELS: bytes(altered)}
    write_sums(tmp_path, {name.removesuffix(".gz"): raw for name, raw in new_raws.items()})
    assert load_mnist("train", data_dir=tmp_path)[1][-1] == altered[-1]


# ---------------------------------------------------------------- read_idx


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(0, 5), min_size=1, max_size=4), seed=st.integers(0, 2**16))
def test_read_idx_round_trips(shape, seed):
    array = np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)
    parsed = read_idx(idx_bytes(array), "x.idx")
    assert parsed.shape == tuple(shape) and parsed.dtype == np.uint8
    np.testing.assert_array_equal(parsed, array)


@pytest.mark.parametrize(
    "raw, text",
    [
        (b"", "magic number (empty)"),
        (b"\x00\x00\x08", "magic number 000008"),
        (struct.pack(">I", 0x00000800), "magic number 00000800"),
        (struct.pack(">II", 0x00000803, 1), "declaring 3 dims"),
        (struct.pack(">II", 0x00000801, 3) + b"\x01\x02", "but holds 10"),
        (struct.pack(">II", 0x00000801, 1) + b"\x01\x02", "but holds 10"),
    ],
    ids=["empty", "short-magic", "zero-dims", "short-header", "too-short", "too-long"],
)
def test_read_idx_rejects_malformed_bytes(raw, text):
    with pytest.raises(DataFileError, match="some/file.idx") as info:
        read_idx(raw, "some/file.idx")
    assert text in str(info.value)


# ---------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(split="validation"), ValueError, ["split", "'validation'", "'train'", "'test'"]),
        (dict(split=None), ValueError, ["split", "None"]),
        (dict(dtype="float64"), ValueError, ["dtype", "'float64'", "'uint8'", "'float32'"]),
        (dict(dtype="not-a-dtype"), ValueError, ["dtype", "'not-a-dtype'"]),
        (dict(limit=0), ValueError, ["limit", "got 0", ">= 1"]),
        (dict(limit=-5), ValueError, ["limit", "got -5"]),
        (dict(limit=2.5), TypeError, ["limit", "float", "2.5"]),
        (dict(limit="10"), TypeError, ["limit", "str"]),
        (dict(limit=True), TypeError, ["limit", "bool"]),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, words):
    # data_dir points nowhere: argument checks must come before any file access.
    with pytest.raises(error) as info:
        load_mnist(**kwargs, data_dir="/nonexistent/mnist")
    assert not isinstance(info.value, DataFileError)
    for word in words:
        assert word in str(info.value)
