"""InceptionV3 pool features from user-supplied weights, tested with random weights.

No real Inception weights exist on the machines the book runs on (and nothing may be
downloaded), so these tests check the plumbing: shapes, determinism, input handling,
the key layout and the error messages.
"""

from __future__ import annotations

import socket

import numpy as np
import pytest
import torch

from gan_utils.inception import (
    FEATURE_DIM,
    InceptionV3Features,
    InceptionWeightsError,
    expected_keys,
    inception_pool_features,
    load_inception,
)


_STATE: dict = {}


def _state() -> dict:
    """A randomly initialised (seeded) state dict, built once."""
    if not _STATE:
        torch.manual_seed(0)
        _STATE.update(InceptionV3Features("fid").state_dict())
    return _STATE


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """A randomly initialised FID-Inception state dict with a classifier, as shipped by pytorch-fid."""
    state = dict(_state())
    state["fc.weight"] = torch.randn(1008, 2048) * 0.01  # ignored by the pool features
    state["fc.bias"] = torch.zeros(1008)
    path = tmp_path_factory.mktemp("inception") / "random_inception.pth"
    torch.save(state, path)
    return path


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    return rng.uniform(-1, 1, size=(2, 28, 28)).astype(np.float32)


@pytest.fixture(scope="module")
def features(weights, images):
    return inception_pool_features(images, weights)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("gan_utils.inception tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_architecture_matches_torchvision_inception_v3():
    with torch.device("meta"):
        model = InceptionV3Features()
    # torchvision's inception_v3 has 27,161,264 parameters; without fc (2,049,000) and
    # AuxLogits (3,326,696) that leaves the 21,785,568 of the feature extractor.
    assert sum(p.numel() for p in model.parameters()) == 21_785_568
    keys = expected_keys()
    assert len(keys) == 94 * 5  # 94 BasicConv2d, each conv.weight + 4 BN tensors
    assert keys[0] == "Conv2d_1a_3x3.conv.weight"
    assert "Mixed_7c.branch3x3dbl_3b.bn.running_var" in keys
    assert expected_keys("torchvision") == keys


def test_shape_finite_deterministic(features, weights, images):
    assert features.shape == (2, FEATURE_DIM) and features.dtype == np.float64
    assert np.isfinite(features).all()
    assert np.all(features >= 0)  # average of ReLU outputs
    assert features.std() > 0
    again = inception_pool_features(images, weights, batch_size=1)
    np.testing.assert_allclose(again, features, rtol=1e-5, atol=1e-7)


def test_input_layouts(features, weights, images):
    # grey (N, H, W) == explicit (N, 1, H, W) == RGB repeated, NCHW or NHWC
    # (one image each, in one batch: the same image in four layouts and dtypes)
    rgb = np.repeat(images[:1, None], 3, axis=1)
    np.testing.assert_array_equal(inception_pool_features(images[:1, None], weights), features[:1])
    np.testing.assert_array_equal(inception_pool_features(rgb.transpose(0, 2, 3, 1), weights), features[:1])
    uint8 = np.round((images[:1] + 1) * 127.5).astype(np.uint8)  # uint8 x means x / 127.5 - 1
    np.testing.assert_array_equal(
        inception_pool_features(uint8, weights),
        inception_pool_features(uint8.astype(np.float32) / np.float32(127.5) - np.float32(1), weights),
    )


def test_torchvision_variant_loads_the_same_keys(weights, images):
    feats = inception_pool_features(images[:1], weights, variant="torchvision")
    assert feats.shape == (1, FEATURE_DIM) and np.isfinite(feats).all()


def test_missing_file_names_it(tmp_path, images):
    path = tmp_path / "pt_inception.pth"
    with pytest.raises(InceptionWeightsError, match="is missing") as info:
        inception_pool_features(images, path)
    assert str(path) in str(info.value)
    assert "never downloads" in str(info.value)
    assert isinstance(info.value, OSError)


def test_wrong_keys_are_listed(tmp_path, images):
    state = dict(_state())
    state["Mixed_8a.conv.weight"] = state.pop("Mixed_7c.branch_pool.conv.weight")
    path = tmp_path / "wrong.pth"
    torch.save(state, path)
    with pytest.raises(InceptionWeightsError) as info:
        load_inception(path)
    message = str(info.value)
    assert str(path) in message
    assert "missing keys [Mixed_7c.branch_pool.conv.weight]" in message
    assert "unexpected keys [Mixed_8a.conv.weight]" in message


def test_wrong_shapes_and_non_state_dicts(tmp_path):
    state = dict(_state())
    state["Conv2d_1a_3x3.conv.weight"] = torch.zeros(32, 1, 3, 3)
    path = tmp_path / "shape.pth"
    torch.save(state, path)
    with pytest.raises(InceptionWeightsError, match=r"wrong shape: Conv2d_1a_3x3.conv.weight \(32, 1, 3, 3\)"):
        load_inception(path)
    torch.save(torch.zeros(3), path)
    with pytest.raises(InceptionWeightsError, match="does not hold a state dict"):
        load_inception(path)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(InceptionWeightsError, match="weights_only"):
        load_inception(path)


def test_wrapped_state_dict_without_bn_counters(tmp_path):
    state = {
        k: v for k, v in _state().items() if not k.endswith("num_batches_tracked")
    }
    path = tmp_path / "wrapped.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}}, path)
    model = load_inception(path)
    assert not model.training and load_inception(path) is model


@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        (np.zeros((2, 2, 28, 28), np.float32), ValueError, "shape"),
        (np.full((1, 28, 28), 3.0, np.float32), ValueError, r"\[-1, 1\]"),
        (np.full((1, 28, 28), np.nan, np.float32), ValueError, "NaN"),
        (np.zeros((1, 28, 28), np.int64), TypeError, "dtype"),
    ],
)
def test_bad_images(weights, bad, error, match):
    with pytest.raises(error, match=match):
        inception_pool_features(bad, weights)


def test_bad_arguments(weights, images):
    with pytest.raises(ValueError, match="variant"):
        inception_pool_features(images, weights, variant="tf")
    with pytest.raises(ValueError, match="batch_size"):
        inception_pool_features(images, weights, batch_size=0)
