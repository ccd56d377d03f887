"""to_mnist on synthetic drawings: each step, polarity, position, size, transparency, emptiness."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from mnist_knn.preprocess import (
    EmptyDrawingError,
    ImageError,
    centre_by_mass,
    extract_ink,
    fit_box,
    ink_box,
    load_image,
    preprocess_steps,
    to_mnist,
)
from mnist_knn.synthetic import ONE, SEVEN, ZERO, stroke_image


def _shift(points, dx, dy, scale=1.0):
    return [(0.5 + (x - 0.5) * scale + dx, 0.5 + (y - 0.5) * scale + dy) for x, y in points]


def _close(a, b, tolerance=12.0):
    """Mean absolute pixel difference (0-255 scale) below ``tolerance``."""
    return np.abs(a.astype(float) - b.astype(float)).mean() < tolerance


def test_output_contract():
    out = to_mnist(stroke_image(SEVEN))
    assert out.shape == (28, 28) and out.dtype == np.uint8
    assert out.max() == 255
    ys, xs = np.nonzero(out > 25)
    # MNIST's frame: the ink fits a 20x20 box, leaving a margin of about 4 px.
    assert ys.max() - ys.min() + 1 <= 20 and xs.max() - xs.min() + 1 <= 20


@pytest.mark.parametrize("points", [ONE, ZERO, SEVEN])
def test_position_and_size_do_not_matter(points):
    reference = to_mnist(stroke_image(points))
    for dx, dy, scale in [(-0.2, -0.15, 0.6), (0.15, 0.2, 0.5), (0.0, 0.0, 1.4)]:
        moved = stroke_image(_shift(points, dx, dy, scale), width=round(18 * scale))
        assert _close(to_mnist(moved), reference), (dx, dy, scale)


@pytest.mark.parametrize("points", [ONE, ZERO, SEVEN])
def test_polarity_and_transparency_do_not_matter(points):
    reference = to_mnist(stroke_image(points))
    white_on_black = stroke_image(points, ink=(255, 255, 255, 255), background=(0, 0, 0, 255))
    on_transparent = stroke_image(points, ink=(20, 20, 200, 255), background=(0, 0, 0, 0))
    grey = stroke_image(points, ink=40, background=230, mode="L")
    for image in (white_on_black, on_transparent, grey):
        assert _close(to_mnist(image), reference, tolerance=3)
    assert _close(to_mnist(np.asarray(white_on_black)), reference, tolerance=3)


def test_extract_ink_scales_to_unit_and_handles_both_polarities():
    dark_on_light = np.full((10, 10), 200.0)
    dark_on_light[4:6, 2:8] = 50
    ink = extract_ink(dark_on_light)
    assert ink.max() == 1 and ink[0, 0] == 0 and ink[5, 5] == 1
    np.testing.assert_allclose(extract_ink(255 - dark_on_light), ink)


def test_extract_ink_uses_a_varying_alpha_channel():
    rgba = np.zeros((6, 6, 4), dtype=np.uint8)
    rgba[2:4, 2:4] = (0, 0, 0, 255)  # black ink on transparent black
    ink = extract_ink(rgba)
    assert ink[2, 2] == 1 and ink.sum() == 4


def test_ink_box_and_threshold():
    ink = np.zeros((10, 12))
    ink[3:5, 4:9] = 1
    ink[0, 0] = 0.05  # below the noise threshold
    assert ink_box(ink) == (3, 4, 5, 9)
    with pytest.raises(EmptyDrawingError, match="draw a digit"):
        ink_box(np.full((5, 5), 0.05))


def test_fit_box_keeps_aspect_ratio():
    assert fit_box(np.ones((100, 50))).shape == (20, 10)
    assert fit_box(np.ones((7, 140))).shape == (1, 20)
    assert fit_box(np.ones((5, 5))).shape == (20, 20)


def test_centre_by_mass_puts_mass_at_the_centre():
    patch = np.zeros((20, 10))
    patch[:, :3] = 1  # mass on the left of the patch
    out = centre_by_mass(patch)
    rows, cols = np.nonzero(out)
    assert out.shape == (28, 28) and out.sum() == patch.sum()
    assert abs(np.average(cols, weights=out[rows, cols]) - 13.5) <= 0.5
    assert abs(np.average(rows, weights=out[rows, cols]) - 13.5) <= 0.5


def test_steps_are_consistent():
    steps = preprocess_steps(stroke_image(ONE, width=20))
    top, left, bottom, right = steps.box
    assert steps.cropped.shape == (bottom - top, right - left)
    assert max(steps.fitted.shape) == 20
    assert steps.centred.shape == (28, 28)
    np.testing.assert_array_equal(steps.result, to_mnist(stroke_image(ONE, width=20)))


@pytest.mark.parametrize(
    "blank",
    [
        stroke_image([(0.5, 0.5)], width=0),
        np.zeros((280, 280, 4), dtype=np.uint8),
        np.full((50, 50), 255, dtype=np.uint8),
        np.full((50, 50, 3), 0.3),
    ],
)
def test_blank_drawing_is_a_dedicated_error(blank):
    with pytest.raises(EmptyDrawingError, match="draw a digit"):
        to_mnist(blank)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.zeros((5, 5, 7)), "channels"),
        (np.zeros((2, 3, 4, 5)), "shape"),
        (np.array([[np.nan, 1.0]]), "NaN"),
        (np.array([["a", "b"]]), "numbers"),
        (np.zeros((0, 5)), "shape"),
    ],
)
def test_non_images_raise_image_error(bad, message):
    with pytest.raises(ImageError, match=message):
        to_mnist(bad)


def test_load_image_reads_png_and_refuses_garbage(tmp_path):
    buffer = io.BytesIO()
    stroke_image(SEVEN).save(buffer, format="PNG")
    image = load_image(buffer.getvalue(), "seven.png")
    assert image.size == (280, 280)
    assert to_mnist(image).shape == (28, 28)
    with pytest.raises(ImageError, match=r"notes\.png: not a readable image"):
        load_image(b"hello, not a picture", "notes.png")
    with pytest.raises(ImageError, match=r"missing\.png: no such file"):
        load_image(str(tmp_path / "missing.png"), "missing.png")
    truncated = buffer.getvalue()[: len(buffer.getvalue()) // 2]
    with pytest.raises(ImageError, match=r"half\.png"):
        load_image(truncated, "half.png")


def test_load_image_refuses_huge_images_before_decoding():
    buffer = io.BytesIO()
    Image.new("1", (9000, 9000)).save(buffer, format="PNG")
    with pytest.raises(ImageError, match="too large"):
        load_image(buffer.getvalue(), "huge.png")
