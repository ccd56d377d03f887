"""MNIST digits re-drawn as canvas strokes (the drawn-digit benchmark's test set)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mnist_knn import load_mnist, preprocess, synthetic, to_mnist


@pytest.fixture(scope="module")
def digits():
    data = load_mnist(download=False)
    return data.x_train[:12], data.y_train[:12]


def test_mnist_stroke_width_is_two_to_three_pixels(digits):
    widths = synthetic.stroke_width(digits[0])
    assert widths.shape == (12,)
    assert 1.9 <= np.median(widths) <= 2.8
    assert (widths > 1).all() and (widths < 5).all()


def test_default_brush_is_derived_from_mnist_stroke():
    assert (
        preprocess.DEFAULT_BRUSH
        == round(preprocess.MNIST_STROKE * preprocess.DRAWN_HEIGHT / 20)
        == 23
    )


def test_skeletons_are_thin_and_follow_the_digit(digits):
    skeletons = synthetic.mnist_skeletons(digits[0])
    assert skeletons.shape == (12, 112, 112)
    big_ink = np.kron(digits[0] > 64, np.ones((4, 4), dtype=bool))
    for skeleton, ink in zip(skeletons, big_ink, strict=True):
        assert skeleton.sum() > 20
        assert skeleton.sum() < ink.sum() / 4  # a line, not an area
        assert ink[skeleton].mean() > 0.9  # inside the original strokes


def test_redraw_is_deterministic_and_canvas_like(digits):
    first, styles = synthetic.redraw(digits[0][:4], seed=3)
    again, _ = synthetic.redraw(digits[0][:4], seed=3)
    other, _ = synthetic.redraw(digits[0][:4], seed=4)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any((a != b).any() for a, b in zip(first, other, strict=True))
    for image, style in zip(first, styles, strict=True):
        assert image.shape == (280, 280, 4) and image.dtype == np.uint8
        assert style.background in synthetic.BACKGROUNDS
        assert 10 <= style.brush <= 36 and abs(style.slant) <= 0.35


def test_redrawn_digit_keeps_its_brush_and_stays_on_the_canvas(digits):
    skeleton = synthetic.mnist_skeletons(digits[0][:1])[0]
    style = synthetic.Style(
        height=200, width_scale=1, slant=0, brush=24, top=30, left=60, background="black"
    )
    image = synthetic.render(skeleton, style)
    ink = image[..., 0] > 127
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    # 200 px of skeleton plus the brush's radius at each end.
    assert 215 <= rows[-1] - rows[0] <= 230
    assert rows[0] >= 28 and cols[0] >= 58
    assert (image[..., 3] == 255).all()
    # The same drawing on white is the negative, and on transparent lives in the alpha.
    white = synthetic.render(skeleton, dataclasses.replace(style, background="white"))
    clear = synthetic.render(skeleton, dataclasses.replace(style, background="transparent"))
    np.testing.assert_array_equal(white[..., 0], 255 - image[..., 0])
    np.testing.assert_array_equal(clear[..., 3], image[..., 0])


def test_random_styles_always_fit_the_canvas():
    rng = np.random.default_rng(0)
    for _ in range(200):
        style = synthetic.random_style(rng, (70, 90))
        assert style.top >= 4 and style.left >= 4
        assert style.top + style.height + style.brush <= synthetic.CANVAS - 4


def test_compose_rejects_an_unknown_background():
    with pytest.raises(ValueError, match="background"):
        synthetic.compose(np.zeros((4, 4)), "plaid")


def test_redrawn_digits_go_through_to_mnist(digits):
    drawings, _ = synthetic.redraw(digits[0][:3], seed=0)
    for drawing in drawings:
        image = to_mnist(drawing)
        assert image.shape == (28, 28) and image.max() == 255
