"""The discriminator variants of ``benchmarks/dcgan_quality_variants.py`` (PacGAN, minibatch std).

The benchmark's table in ``benchmarks/README.md`` compares these variants with chapter 5's
DCGAN, so the unpacked variant must *be* chapter 5's discriminator, and the two additions must do
what their papers describe.
"""

import importlib.util
from pathlib import Path

import pytest
import torch

from gan_utils.torch import mnist as models

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "dcgan_quality_variants.py"


@pytest.fixture(scope="module")
def variants():
    spec = importlib.util.spec_from_file_location("dcgan_quality_variants", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_unpacked_variant_is_chapter_5s_discriminator(variants):
    torch.manual_seed(0)
    package = models.dcgan_discriminator(32).eval()
    variant = variants.variant_discriminator(32, pack=1, minibatch_std=False).eval()
    variant.load_state_dict(package.state_dict())          # same layers, same names, same shapes
    x = torch.rand(8, 1, 28, 28) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(variant(x), package(x), atol=1e-6)
    assert sum(p.numel() for p in variant.parameters()) == sum(p.numel() for p in package.parameters())


def test_packed_discriminator_scores_one_logit_per_group(variants):
    D = variants.variant_discriminator(16, pack=2, minibatch_std=False)
    assert D[0].in_channels == 2
    assert D(torch.zeros(3, 2, 28, 28)).shape == (3, 1)
    with pytest.raises(RuntimeError):
        D(torch.zeros(3, 1, 28, 28))                        # an unpacked batch does not fit


def test_minibatch_std_appends_the_mean_feature_std(variants):
    layer = variants.MinibatchStd()
    h = torch.randn(6, 4, 7, 7)
    out = layer(h)
    assert out.shape == (6, 5, 7, 7)
    assert torch.equal(out[:, :4], h)
    expected = h.std(0, unbiased=False).mean()
    assert torch.allclose(out[:, 4], expected.expand(6, 7, 7))
    same = layer(h[:1].expand(6, -1, -1, -1))                # identical samples: no spread
    assert torch.allclose(same[:, 4], torch.zeros(6, 7, 7))


def test_minibatch_std_variant_has_one_more_input_to_the_last_layer(variants):
    D = variants.variant_discriminator(16, pack=1, minibatch_std=True)
    assert D[-2].in_channels == 2 * 16 + 1
    assert D(torch.zeros(4, 1, 28, 28)).shape == (4, 1)
