"""Photos of paper: uneven light, shadows, coloured, lined or squared paper, noise, JPEG."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageOps
from scipy import ndimage

from mnist_knn import preprocess as P
from mnist_knn.synthetic import SEVEN, STROKES, stroke_image
from tools.photo_bench import photograph


def alike(a, b) -> float:
    """Correlation of two 28x28 results, blurred a little (a one-pixel shift is no change)."""
    a, b = (ndimage.gaussian_filter(P.preprocess_steps(x).result.astype(float), 1) for x in (a, b))
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def box_of(image) -> tuple[int, int, int, int]:
    return P.ink_box(P.extract_ink(image))


@pytest.mark.parametrize("background", ["white", "black"])
def test_a_canvas_drawing_has_a_flat_background_and_keeps_the_old_ink(background):
    ink, paper = ((0, 0, 0, 255), (255, 255, 255, 255))[:: 1 if background == "white" else -1]
    image = np.asarray(stroke_image(SEVEN, width=23, ink=ink, background=paper))
    gray = image[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
    assert P.flat_background(gray, float(np.median(gray[0])))
    expected = np.abs(gray - gray[0, 0]) / np.abs(gray - gray[0, 0]).max()
    np.testing.assert_allclose(P.extract_ink(image), expected, atol=1e-6)


@pytest.mark.parametrize("lined", [False, True], ids=["uneven-light", "lined-paper"])
@pytest.mark.parametrize("seed", range(4))
def test_a_photo_of_paper_gives_the_digit_not_the_sheet(lined, seed):
    drawing = stroke_image(STROKES[5], width=23)
    photo = photograph(drawing, lined, np.random.default_rng(seed))
    assert not P.flat_background(np.asarray(photo.convert("L"), float), 0.0)
    clean, seen = box_of(drawing), box_of(photo)
    # The ink's box is the digit's (give or take the camera's blur), not the whole sheet.
    assert np.abs(np.subtract(clean, seen)).max() <= 6
    # And the 28x28 images agree: the same digit, at most a few pixels off.
    assert alike(drawing, photo) > 0.9


def test_chalk_on_a_board_is_turned_round():
    photo = photograph(stroke_image(SEVEN, width=23), False, np.random.default_rng(1))
    board = ImageOps.invert(photo.convert("RGB"))
    assert alike(photo, board) > 0.95


def test_rules_are_thin_long_lines_and_a_thick_bar_is_not_one():
    ink = np.zeros((200, 200))
    ink[50:52, :] = 0.3  # a ruled line across the sheet
    ink[100:120, 40:160] = 1.0  # a pen stroke along it, 20 px thick
    found = P.rules(ink)
    assert found[50, 10] == pytest.approx(0.3) and found[51, 190] == pytest.approx(0.3)
    assert found[100:120, 40:160].max() == 0.0


def test_a_large_photo_is_read_at_a_bounded_size():
    photo = photograph(stroke_image(SEVEN, width=23), True, np.random.default_rng(2))
    large = photo.resize((2400, 2400), Image.Resampling.BILINEAR)
    ink = P.extract_ink(large)
    assert max(ink.shape) == P.PHOTO_SIDE
    assert alike(photo, large) > 0.9
