"""Chapter 5's exercise checkers: the reference answers pass, the classic mistakes fail with the right hint."""

from __future__ import annotations

import numpy as np
import pytest

from gan_utils.exercises.dcgan import (
    check_conv_output_size,
    check_discriminator_block,
    check_slerp,
    conv_output_size_cases,
    slerp_cases,
)


def right_size(size, kernel, stride, padding, transposed):
    return (size - 1) * stride - 2 * padding + kernel if transposed else (size + 2 * padding - kernel) // stride + 1


def test_conv_output_size_cases_follow_the_dcgan_path():
    got = {case.name.split(":")[0]: case.expected for case in conv_output_size_cases()}
    assert len(conv_output_size_cases()) >= 8
    for case in conv_output_size_cases():
        assert right_size(*case.args) == case.expected


def test_conv_output_size_verdicts():
    assert check_conv_output_size(right_size, verbose=False)
    swapped = lambda n, k, s, p, t: right_size(n, k, s, p, not t)  # noqa: E731
    assert "floor((size" in check_conv_output_size(swapped, verbose=False).message
    no_floor = lambda n, k, s, p, t: (n - 1) * s - 2 * p + k if t else (n + 2 * p - k) / s + 1  # noqa: E731
    verdict = check_conv_output_size(no_floor, verbose=False)
    assert verdict.status == "fail" and "floor" in verdict.message
    one_padding = lambda n, k, s, p, t: (n - 1) * s - p + k if t else (n + 2 * p - k) // s + 1  # noqa: E731
    assert "both sides" in check_conv_output_size(one_padding, verbose=False).message
    as_float = lambda *a: float(right_size(*a))  # noqa: E731
    assert "int" in check_conv_output_size(as_float, verbose=False).message

    def stub(*args):
        raise NotImplementedError("Exercise 5.1")

    assert check_conv_output_size(stub, verbose=False).status == "not attempted"


def test_slerp_verdicts():
    def good(z0, z1, t):
        cos = np.dot(z0, z1) / (np.linalg.norm(z0) * np.linalg.norm(z1))
        om = np.arccos(np.clip(cos, -1, 1))
        if np.sin(om) < 1e-6:
            return (1 - t) * z0 + t * z1
        return (np.sin((1 - t) * om) * z0 + np.sin(t * om) * z1) / np.sin(om)

    assert check_slerp(good, verbose=False)
    lerp = lambda z0, z1, t: (1 - t) * z0 + t * z1  # noqa: E731
    assert "sqrt(2)" in check_slerp(lerp, verbose=False).message

    def unnormalised_angle(z0, z1, t):
        om = np.arccos(np.clip(np.dot(z0, z1), -1, 1))
        return (np.sin((1 - t) * om) * z0 + np.sin(t * om) * z1) / np.sin(om)

    with np.errstate(invalid="ignore", divide="ignore"):  # the wrong version divides by sin(0) on purpose
        assert check_slerp(unnormalised_angle, verbose=False).status == "fail"

    def no_fallback(z0, z1, t):
        cos = np.dot(z0, z1) / (np.linalg.norm(z0) * np.linalg.norm(z1))
        om = np.arccos(np.clip(cos, -1, 1))
        return (np.sin((1 - t) * om) * z0 + np.sin(t * om) * z1) / np.sin(om)

    with np.errstate(all="ignore"):
        verdict = check_slerp(no_fallback, verbose=False)
    assert verdict.status == "fail" and "parallel" in verdict.message
    # the orthogonal case really is on the unit circle
    case = [c for c in slerp_cases() if c.name.startswith("orthogonal")][0]
    assert np.isclose(np.linalg.norm(case.expected), 1.0)


def test_discriminator_block_verdicts_torch():
    pytest.importorskip("torch")
    from torch import nn

    def good(cin, cout, bn):
        layers = [nn.Conv2d(cin, cout, 4, 2, 1, bias=not bn)] + ([nn.BatchNorm2d(cout)] if bn else [])
        return nn.Sequential(*layers, nn.LeakyReLU(0.2))

    assert check_discriminator_block(good, verbose=False)

    def with_bias(cin, cout, bn):
        layers = [nn.Conv2d(cin, cout, 4, 2, 1)] + ([nn.BatchNorm2d(cout)] if bn else [])
        return nn.Sequential(*layers, nn.LeakyReLU(0.2))

    assert "no bias" in check_discriminator_block(with_bias, verbose=False).message

    def relu(cin, cout, bn):
        layers = [nn.Conv2d(cin, cout, 4, 2, 1, bias=not bn)] + ([nn.BatchNorm2d(cout)] if bn else [])
        return nn.Sequential(*layers, nn.ReLU())

    assert "LeakyReLU" in check_discriminator_block(relu, verbose=False).message

    def wrong_slope(cin, cout, bn):
        layers = [nn.Conv2d(cin, cout, 4, 2, 1, bias=not bn)] + ([nn.BatchNorm2d(cout)] if bn else [])
        return nn.Sequential(*layers, nn.LeakyReLU(0.01))

    assert "0.2" in check_discriminator_block(wrong_slope, verbose=False).message

    def no_padding(cin, cout, bn):
        layers = [nn.Conv2d(cin, cout, 4, 2, 0, bias=not bn)] + ([nn.BatchNorm2d(cout)] if bn else [])
        return nn.Sequential(*layers, nn.LeakyReLU(0.2))

    assert "halve" in check_discriminator_block(no_padding, verbose=False).message

    def always_bn(cin, cout, bn):
        return nn.Sequential(nn.Conv2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2))

    assert "BatchNorm present" in check_discriminator_block(always_bn, verbose=False).message


def test_discriminator_block_verdicts_keras():
    pytest.importorskip("tensorflow")
    import keras

    def good(cin, cout, bn):
        layers = [keras.layers.Conv2D(cout, 4, strides=2, padding="same", use_bias=not bn)]
        layers += [keras.layers.BatchNormalization()] if bn else []
        return keras.Sequential([*layers, keras.layers.LeakyReLU(negative_slope=0.2)])

    assert check_discriminator_block(good, verbose=False)

    def default_slope(cin, cout, bn):  # Keras' LeakyReLU defaults to 0.3 (source document 004)
        layers = [keras.layers.Conv2D(cout, 4, strides=2, padding="same", use_bias=not bn)]
        layers += [keras.layers.BatchNormalization()] if bn else []
        return keras.Sequential([*layers, keras.layers.LeakyReLU()])

    assert "0.2" in check_discriminator_block(default_slope, verbose=False).message

    def valid_padding(cin, cout, bn):
        layers = [keras.layers.Conv2D(cout, 4, strides=2, padding="valid", use_bias=not bn)]
        layers += [keras.layers.BatchNormalization()] if bn else []
        return keras.Sequential([*layers, keras.layers.LeakyReLU(negative_slope=0.2)])

    assert "halve" in check_discriminator_block(valid_padding, verbose=False).message
