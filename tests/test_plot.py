"""Tests of gan_utils.plot: image grids, captions, loss curves and animations."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from PIL import Image  # noqa: E402

from gan_utils.plot import (  # noqa: E402
    animate_images,
    as_image_batch,
    gif_html,
    image_grid,
    plot_losses,
    show_images,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _ramp(n=5, c=1, h=4, w=3, seed=0):
    """NHWC float data in [-1, 1] with distinct values."""
    return np.random.default_rng(seed).uniform(-1, 1, size=(n, h, w, c)).astype(np.float32)


# ------------------------------------------------------------------ framework-neutral


def test_importing_plot_imports_no_framework():
    code = (
        "import sys, gan_utils.plot; "
        "print(sorted(m for m in ('torch', 'tensorflow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------ as_image_batch


def test_layouts_and_ranges_are_inferred_and_reported():
    nchw = np.zeros((2, 3, 5, 6), dtype=np.float32) - 1
    batch, info = as_image_batch(nchw)
    assert batch.shape == (2, 5, 6, 3) and batch.dtype == np.float32
    assert info == {"layout": "NCHW", "value_range": "[-1, 1]", "channels": 3}
    assert batch.max() == 0.0

    _, info = as_image_batch(np.full((2, 5, 6, 1), 0.5))
    assert info == {"layout": "NHWC", "value_range": "[0, 1]", "channels": 1}

    batch, info = as_image_batch(np.full((4, 7, 8), 255, dtype=np.uint8))
    assert info == {"layout": "NHW", "value_range": "[0, 255]", "channels": 1}
    assert batch.shape == (4, 7, 8, 1) and np.all(batch == 1.0)


def test_single_images_become_a_batch_of_one():
    assert as_image_batch(np.zeros((7, 8)))[0].shape == (1, 7, 8, 1)
    batch, info = as_image_batch(np.zeros((7, 8, 3)))
    assert batch.shape == (1, 7, 8, 3) and info["layout"] == "NHWC"
    batch, info = as_image_batch(np.zeros((3, 7, 8)), layout="NCHW")
    assert batch.shape == (1, 7, 8, 3) and info["layout"] == "NCHW"
    assert as_image_batch(np.zeros((3, 7, 8)), layout="NHW")[0].shape == (3, 7, 8, 1)
    assert as_image_batch(np.zeros((1, 7, 8)))[0].shape == (1, 7, 8, 1)


def test_values_are_scaled_per_range():
    x = np.array([[-1.0, 0.0, 1.0]])
    assert as_image_batch(x)[0].ravel().tolist() == [0.0, 0.5, 1.0]
    assert as_image_batch(x, value_range=(-1, 1))[0].ravel().tolist() == [0.0, 0.5, 1.0]
    y = np.array([[0.0, 51.0, 255.0]])
    assert np.allclose(as_image_batch(y, value_range="[0, 255]")[0].ravel(), [0.0, 0.2, 1.0])
    assert np.allclose(as_image_batch(y, value_range="[0,255]")[0].ravel(), [0.0, 0.2, 1.0])
    # Within the 0.1% tolerance: clipped, not refused.
    assert as_image_batch(np.array([[1.0005, 0.2]]))[0].max() == 1.0
    assert as_image_batch(np.array([[True, False]]))[1]["value_range"] == "[0, 1]"


@pytest.mark.parametrize(
    "images, kwargs, error, match",
    [
        (np.zeros((2, 2, 1, 3, 3)), {}, ValueError, r"5-D shape \(2, 2, 1, 3, 3\)"),
        (np.zeros(5), {}, ValueError, "1-D"),
        (np.zeros((2, 3, 8, 3)), {}, ValueError, r"cannot tell the layout.*layout='NCHW'"),
        (np.zeros((3, 8, 9)), {}, ValueError, r"cannot tell the layout.*layout="),
        (np.zeros((2, 2, 8, 8)), {}, ValueError, "no channel axis of size 1 or 3"),
        (np.zeros((2, 8, 8, 4)), {"layout": "NHWC"}, ValueError, "have 4 channels"),
        (np.zeros((2, 2, 8, 8)), {"layout": "NCHW"}, ValueError, "have 2 channels"),
        (np.zeros((0, 1, 8, 8)), {}, ValueError, "batch is empty"),
        (np.array([[0.1, np.nan]]), {}, ValueError, "NaN or inf"),
        (np.array([[0.1, np.inf]]), {}, ValueError, "NaN or inf"),
        (
            np.array([[-0.2, 1.5]]),
            {},
            ValueError,
            r"values in \[-0.2, 1.5\] are outside \[-1, 1\]",
        ),
        (np.array([[0.0, 1.5]]), {"value_range": "[0, 1]"}, ValueError, r"outside \[0, 1\]"),
        (np.array([[0.0, 37.0]]), {}, ValueError, r"value_range='\[0, 255\]'"),
        (np.array([["a", "b"]]), {}, TypeError, "must hold numbers"),
        (np.array([[1 + 2j]]), {}, TypeError, "must hold numbers"),
        (np.zeros((2, 8, 8)), {"layout": "CHW"}, ValueError, "unknown layout 'CHW'"),
        (np.zeros((2, 8, 8)), {"value_range": "[0, 2]"}, ValueError, "unknown value_range"),
        (np.zeros((2, 8, 8)), {"value_range": (0, 2)}, ValueError, "unknown value_range"),
        (np.zeros((2, 1, 8, 8)), {"layout": "NHW"}, ValueError, "layout 'NHW' expects a 3-D"),
    ],
)
def test_as_image_batch_errors_name_the_problem(images, kwargs, error, match):
    with pytest.raises(error, match=match):
        as_image_batch(images, **kwargs)


# ---------------------------------------------------------------------- image_grid


@pytest.mark.parametrize(
    "n, nrow, padding, expected",
    [
        (64, None, 2, (8 * 30 + 2, 8 * 30 + 2)),
        (10, None, 2, (3 * 30 + 2, 4 * 30 + 2)),  # ceil(sqrt(10)) = 4 per row, 3 rows
        (10, 5, 0, (2 * 28, 5 * 28)),
        (3, 8, 1, (1 * 29 + 1, 3 * 29 + 1)),  # fewer images than nrow: one short row
        (1, None, 4, (32 + 4, 32 + 4)),
    ],
)
def test_grid_shape(n, nrow, padding, expected):
    grid = image_grid(np.zeros((n, 1, 28, 28)), nrow=nrow, padding=padding)
    assert grid.shape == expected
    assert grid.dtype == np.float32


def test_grid_places_pixels_and_padding():
    images = np.full((3, 1, 2, 2), -1.0)
    images[1] = 1.0
    images[2, 0, 1, 0] = 0.0
    grid = image_grid(images, nrow=2, padding=1, pad_value=0.25)
    assert grid.shape == (2 * 3 + 1, 2 * 3 + 1)
    assert np.all(grid[1:3, 1:3] == 0.0)  # image 0: -1 -> 0.0
    assert np.all(grid[1:3, 4:6] == 1.0)  # image 1: +1 -> 1.0
    assert grid[4:6, 1:3].tolist() == [[0.0, 0.0], [0.5, 0.0]]  # image 2, second row
    assert np.all(grid[4:6, 4:6] == 0.25)  # empty cell
    assert np.all(grid[0] == 0.25) and np.all(grid[:, 3] == 0.25)  # padding lines


def test_uint8_255_is_white_and_rgb_keeps_channels():
    images = np.zeros((2, 4, 4, 3), dtype=np.uint8)
    images[1, :, :, 0] = 255  # red
    grid = image_grid(images, padding=0)
    assert grid.shape == (4, 8, 3)
    assert np.all(grid[:, :4] == 0.0)
    assert np.all(grid[:, 4:, 0] == 1.0) and np.all(grid[:, 4:, 1:] == 0.0)


def test_nchw_and_nhwc_give_identical_grids():
    for c in (1, 3):
        nhwc = _ramp(n=5, c=c, h=6, w=7)
        nchw = np.transpose(nhwc, (0, 3, 1, 2))
        assert np.array_equal(image_grid(nchw, nrow=3), image_grid(nhwc, nrow=3))
        if c == 1:  # (N, H, W) grey batch too
            assert np.array_equal(image_grid(nhwc[..., 0], nrow=3), image_grid(nhwc, nrow=3))


def test_torch_tensors_give_the_numpy_grid():
    torch = pytest.importorskip("torch")
    nhwc = _ramp(n=6, c=1, h=5, w=5)
    nchw = np.ascontiguousarray(np.transpose(nhwc, (0, 3, 1, 2)))
    tensor = torch.from_numpy(nchw).requires_grad_(True) * 1.0  # non-leaf, needs detach
    assert np.array_equal(image_grid(tensor), image_grid(nhwc))
    assert as_image_batch(tensor)[1]["layout"] == "NCHW"
    assert np.array_equal(image_grid(list(torch.from_numpy(nchw))), image_grid(nhwc))
    assert np.allclose(image_grid(tensor.to(torch.bfloat16)), image_grid(nhwc), atol=1e-2)


def test_tensorflow_tensors_give_the_numpy_grid():
    tf = pytest.importorskip("tensorflow")
    nhwc = _ramp(n=6, c=3, h=5, w=5)
    assert np.array_equal(image_grid(tf.constant(nhwc)), image_grid(nhwc))
    assert np.array_equal(image_grid(tf.Variable(nhwc)), image_grid(nhwc))
    assert as_image_batch(tf.constant(nhwc))[1] == {
        "layout": "NHWC",
        "value_range": "[-1, 1]",
        "channels": 3,
    }


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"nrow": 0}, "nrow must be an int >= 1"),
        ({"nrow": 2.5}, "nrow must be an int >= 1"),
        ({"padding": -1}, "padding must be an int >= 0"),
        ({"pad_value": 2.0}, r"pad_value must be a number in \[0, 1\]"),
    ],
)
def test_grid_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        image_grid(np.zeros((4, 1, 3, 3)), **kwargs)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 12),
    c=st.sampled_from([1, 3]),
    nrow=st.one_of(st.none(), st.integers(1, 13)),
    padding=st.integers(0, 3),
    pad_value=st.floats(0, 1),
    low=st.floats(-1, 1),
    seed=st.integers(0, 2**16),
)
def test_grid_is_within_unit_interval_and_holds_every_image(
    n, c, nrow, padding, pad_value, low, seed
):
    rng = np.random.default_rng(seed)
    images = rng.uniform(low, 1.0, size=(n, c, 4, 5))
    grid = image_grid(images, nrow=nrow, padding=padding, pad_value=pad_value)
    assert grid.min() >= 0.0 and grid.max() <= 1.0
    per_row = nrow or int(np.ceil(np.sqrt(n)))
    rows, cols = -(-n // per_row), min(per_row, n)
    assert grid.shape[:2] == (rows * (4 + padding) + padding, cols * (5 + padding) + padding)
    batch, _ = as_image_batch(images)
    last = n - 1
    top = padding + (last // per_row) * (4 + padding)
    left = padding + (last % per_row) * (5 + padding)
    cell = grid[top : top + 4, left : left + 5]
    assert np.array_equal(cell, batch[last, :, :, 0] if c == 1 else batch[last])


# --------------------------------------------------------------------- show_images


def test_show_images_captions_layout_and_range():
    ax = show_images(np.zeros((64, 1, 8, 8)) - 1, title="samples")
    assert ax.get_xlabel() == "64 images, NCHW, range [-1, 1]"
    assert ax.get_title() == "samples"
    assert ax.get_xticks().size == 0 and ax.get_yticks().size == 0
    (image,) = ax.get_images()
    assert image.get_cmap().name == "gray" and image.get_clim() == (0.0, 1.0)
    assert np.array_equal(image.get_array(), image_grid(np.zeros((64, 1, 8, 8)) - 1))

    _, ax2 = plt.subplots()
    assert show_images(np.zeros((1, 8, 8, 3), dtype=np.uint8), ax=ax2) is ax2
    assert ax2.get_xlabel() == "1 image, NHWC, range [0, 255]"
    assert show_images(np.zeros((2, 8, 8)), describe=False).get_xlabel() == ""


def test_show_images_propagates_errors():
    with pytest.raises(ValueError, match="are outside"):
        show_images(np.full((2, 1, 4, 4), 3.0), value_range="[0, 1]")


# --------------------------------------------------------------------- plot_losses


def test_plot_losses_mapping_draws_one_line_per_key():
    history = {"d_loss": [1.0, 0.8, 0.6], "g_loss": [2.0, 1.0, 0.5, 0.25]}
    ax = plot_losses(history, title="losses")
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["d_loss", "g_loss"]
    assert lines[1].get_xdata().tolist() == [0, 1, 2, 3]  # its own index
    assert ax.get_xlabel() == "step" and ax.get_title() == "losses"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["d_loss", "g_loss"]


def test_plot_losses_smoothing_is_a_trailing_moving_average():
    values = [4.0, 2.0, 6.0, 0.0, 8.0]
    ax = plot_losses({"g_loss": values, "d_loss": [1.0] * 5}, keys=["g_loss"], smooth=3)
    raw, smoothed = ax.get_lines()
    assert raw.get_ydata().tolist() == values
    assert raw.get_alpha() < 1 and smoothed.get_color() == raw.get_color()
    expected = [4.0, 3.0, 4.0, 8 / 3, 14 / 3]  # mean of the last <= 3 values
    assert np.allclose(smoothed.get_ydata(), expected)
    assert smoothed.get_label() == "g_loss"


def test_plot_losses_list_of_dicts_unions_keys():
    history = [{"d_loss": 1.0}, {"d_loss": 0.5, "g_loss": np.float32(2.0)}, {"g_loss": 1.0}]
    ax = plot_losses(history, smooth=2, xlabel="iteration")
    lines = ax.get_lines()
    assert len(lines) == 4
    d_smooth, g_smooth = lines[1].get_ydata(), lines[3].get_ydata()
    assert np.isnan(lines[0].get_ydata()[2])  # the raw curve has a gap there
    assert np.allclose(d_smooth, [1.0, 0.75, 0.5])  # NaN left out of the mean
    assert np.isnan(g_smooth[0]) and np.allclose(g_smooth[1:], [2.0, 1.5])
    assert ax.get_xlabel() == "iteration"


def test_plot_losses_accepts_tensor_scalars():
    torch = pytest.importorskip("torch")
    losses = [torch.tensor(1.5, requires_grad=True) * 1.0, torch.tensor(0.5)]
    ax = plot_losses({"g_loss": losses, "d_loss": torch.tensor([1.0, 2.0])})
    assert ax.get_lines()[0].get_ydata().tolist() == [1.5, 0.5]
    assert ax.get_lines()[1].get_ydata().tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    "history, kwargs, error, match",
    [
        ({}, {}, ValueError, "history is empty"),
        ([], {}, ValueError, "history is empty"),
        ({"g": []}, {}, ValueError, "history is empty"),
        ({"g": [1.0]}, {"keys": ["d"]}, ValueError, r"unknown key\(s\) \['d'\]"),
        ({"g": [1.0, "x"]}, {}, TypeError, r"history\['g'\]\[1\] is 'x'"),
        ({"g": [1.0, None]}, {}, TypeError, r"history\['g'\]\[1\] is None"),
        ([{"g": 1.0}, {"g": [1, 2]}], {}, TypeError, r"history\['g'\]\[1\]"),
        ({"g": "123"}, {}, TypeError, "expected a"),
        ([1.0, 2.0], {}, TypeError, "one dict per step"),
        ({"g": [1.0]}, {"smooth": 0}, ValueError, "smooth must be an int >= 1"),
        ({"g": [1.0]}, {"smooth": 1.5}, ValueError, "smooth must be an int >= 1"),
    ],
)
def test_plot_losses_errors(history, kwargs, error, match):
    with pytest.raises(error, match=match):
        plot_losses(history, **kwargs)


# ------------------------------------------------------------------ animate_images


def _frames(t, n=4, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, size=(n, 1, 8, 8)) for _ in range(t)]


def test_gif_has_every_frame_and_loops():
    frames = _frames(5)
    gif = animate_images(frames, fps=5, titles=[f"epoch {i}" for i in range(5)])
    assert isinstance(gif, bytes) and gif.startswith(b"GIF8")
    with Image.open(io.BytesIO(gif)) as im:
        assert im.n_frames == 5
        assert im.info.get("loop") == 0
        assert im.info.get("duration") == 200
        grid = image_grid(frames[0])
        assert im.size == (grid.shape[1], grid.shape[0] + 14)  # 14-px title strip on top


def test_gif_frame_pixels_match_the_grid():
    frames = [np.full((1, 4, 4), -1.0), np.full((1, 4, 4), 1.0)]
    gif = animate_images(frames, nrow=1)
    with Image.open(io.BytesIO(gif)) as im:
        first = np.asarray(im.convert("L"))
        im.seek(1)
        second = np.asarray(im.convert("L"))
    assert first.shape == (8, 8)
    assert np.all(first[2:6, 2:6] == 0) and np.all(first[0] == 255)
    assert np.all(second[2:6, 2:6] == 255)


def test_rgb_gif_and_mixed_ranges():
    rng = np.random.default_rng(1)
    frames = [rng.uniform(-1, 1, size=(4, 6, 6, 3)), rng.uniform(0, 1, size=(4, 6, 6, 3))]
    gif = animate_images(frames)
    with Image.open(io.BytesIO(gif)) as im:
        assert im.n_frames == 2
        im.seek(1)
        second = np.asarray(im.convert("RGB"), dtype=float)
    # Frame 1 is read as [-1, 1] like frame 0, so no pixel of an image is below 0.5 * 255.
    assert second[2:8, 2:8].min() >= 127 - 8


def test_gif_respects_max_bytes_by_dropping_and_shrinking_frames():
    rng = np.random.default_rng(0)
    frames = [rng.random((64, 1, 28, 28)).astype(np.float32) for _ in range(40)]
    full_size = image_grid(frames[0]).shape
    gif = animate_images(frames, max_bytes=200_000)
    assert gif.startswith(b"GIF8") and len(gif) <= 200_000
    with Image.open(io.BytesIO(gif)) as im:
        assert 1 < im.n_frames < 40
        # Noise barely compresses: even 8 full-size frames exceed 200 kB, so it shrank.
        assert im.size[0] < full_size[1] and im.size[1] < full_size[0]
    with pytest.raises(ValueError, match="cannot be made to fit max_bytes=100"):
        animate_images(frames[:2], max_bytes=100)


def test_gif_is_written_atomically(tmp_path):
    target = tmp_path / "out" / "training.gif"
    gif = animate_images(_frames(3), path=target)
    assert target.read_bytes() == gif
    assert os.listdir(target.parent) == ["training.gif"]
    again = animate_images(_frames(3, seed=1), path=str(target))  # replaces the file
    assert target.read_bytes() == again != gif
    assert os.listdir(target.parent) == ["training.gif"]


def test_jshtml_returns_a_player_and_closes_its_figure(tmp_path):
    before = plt.get_fignums()
    html = animate_images(_frames(3), format="jshtml", fps=2, path=tmp_path / "a.html")
    assert isinstance(html, str) and "<script" in html
    assert (tmp_path / "a.html").read_text(encoding="utf-8") == html
    assert plt.get_fignums() == before


def test_gif_html_embeds_base64():
    import base64

    gif = animate_images(_frames(2))
    tag = gif_html(gif)
    assert tag.startswith('<img src="data:image/gif;base64,')
    payload = tag.split("base64,", 1)[1].split('"', 1)[0]
    assert base64.b64decode(payload) == gif
    with pytest.raises(ValueError, match="does not hold a GIF"):
        gif_html(b"\x89PNG....")
    with pytest.raises(TypeError, match="must be bytes"):
        gif_html("movie.gif")


@pytest.mark.parametrize(
    "frames, kwargs, error, match",
    [
        ([], {}, ValueError, "frames is empty"),
        (None, {}, TypeError, "frames is NoneType"),
        ("abc", {}, TypeError, "frames is str"),
        ([np.zeros((4, 1, 8, 8)), np.zeros((9, 1, 8, 8))], {}, ValueError, "same shape"),
        ([np.zeros((4, 1, 8, 8)), np.zeros((4, 2, 8, 8))], {}, ValueError, r"frame 1: .*channel"),
        (
            [np.zeros((2, 4, 4), np.uint8), np.zeros((2, 4, 4))],
            {},
            ValueError,
            "different value ranges",
        ),
        (_frames(2), {"format": "mp4"}, ValueError, "unknown format 'mp4'"),
        (_frames(2), {"fps": 0}, ValueError, "fps must be a positive number"),
        (_frames(2), {"fps": 100}, ValueError, "too fast for a GIF"),
        (_frames(2), {"max_bytes": 0}, ValueError, "max_bytes must be a positive int"),
        (_frames(2), {"titles": ["one"]}, ValueError, "one string per frame"),
        (_frames(2), {"nrow": 0}, ValueError, "nrow must be an int >= 1"),
    ],
)
def test_animate_images_errors(frames, kwargs, error, match):
    with pytest.raises(error, match=match):
        animate_images(frames, **kwargs)
