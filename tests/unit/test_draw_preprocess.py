"""Every preprocessing step of to_mnist, on synthetic canvas-like drawings."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from mnist_knn import preprocess as P
from mnist_knn.preprocess import EmptyDrawingError, ImageError
from mnist_knn.synthetic import ONE, SEVEN, ZERO, stroke_image

BLACK, WHITE, CLEAR = (0, 0, 0, 255), (255, 255, 255, 255), (0, 0, 0, 0)


def canvases(points, width=18):
    """The same strokes on the three backgrounds a canvas or an upload can have."""
    return {
        "white": stroke_image(points, width=width, ink=BLACK, background=WHITE),
        "black": stroke_image(points, width=width, ink=WHITE, background=BLACK),
        "transparent": stroke_image(points, width=width, ink=BLACK, background=CLEAR),
    }


def bar(shape=(80, 80), width=8, length=60):
    """A vertical bar of ``width`` x ``length`` pixels of full ink, centred."""
    img = np.zeros(shape)
    top, left = (shape[0] - length) // 2, (shape[1] - width) // 2
    img[top : top + length, left : left + width] = 1.0
    return img


# ------------------------------------------------------------------ extract_ink


@pytest.mark.parametrize("background", ["white", "black", "transparent"])
def test_extract_ink_is_one_on_the_stroke_and_zero_around_it(background):
    ink = P.extract_ink(canvases(ONE)[background])
    assert ink.shape == (280, 280)
    assert ink[140, 140] == pytest.approx(1.0)  # the middle of the "1"
    assert ink[140, 40] == 0.0 and ink[10, 10] == 0.0
    assert ink.min() >= 0.0 and ink.max() <= 1.0


def test_extract_ink_is_the_same_on_every_background():
    inks = [P.extract_ink(img) for img in canvases(SEVEN).values()]
    np.testing.assert_allclose(inks[0], inks[1], atol=1e-9)
    np.testing.assert_allclose(inks[0], inks[2], atol=1e-9)


def test_extract_ink_of_grey_and_float_images():
    grey = np.full((50, 40), 200.0)
    grey[10:40, 18:22] = 40.0  # dark stroke on light grey
    ink = P.extract_ink(grey)
    assert ink[20, 20] == pytest.approx(1.0) and ink[5, 5] == 0.0


# ------------------------------------------------------------------ ink_box


def test_ink_box_of_a_one_spans_the_stroke_and_its_round_ends():
    top, left, bottom, right = P.ink_box(P.extract_ink(canvases(ONE, width=18)["white"]))
    # The stroke runs from y=56 to y=224 at x=140, widened by the 9 px brush radius.
    assert 45 <= top <= 48 and 232 <= bottom <= 235
    assert 130 <= left <= 132 and 148 <= right <= 150


@pytest.mark.parametrize("background", [WHITE, BLACK, CLEAR, (30, 60, 90, 255)])
def test_a_blank_canvas_is_an_empty_drawing(background):
    blank = Image.new("RGBA", (280, 280), background)
    with pytest.raises(EmptyDrawingError, match="draw a digit"):
        P.to_mnist(blank)


def test_not_an_image_is_an_image_error():
    with pytest.raises(ImageError):
        P.to_mnist(np.zeros((4, 4, 7)))
    with pytest.raises(ImageError):
        P.to_mnist(np.array([[np.nan, 1.0]]))


# ------------------------------------------------------------------ fit_box, centre_by_mass


def test_fit_box_scales_the_longer_side_to_20_and_keeps_the_aspect():
    fitted = P.fit_box(np.ones((200, 50)))
    assert fitted.shape == (20, 5)
    assert P.fit_box(np.ones((30, 90)), box=80).shape == (27, 80)
    assert fitted.min() >= 0.0 and fitted.max() <= 1.0


def test_centre_by_mass_puts_the_centre_of_mass_in_the_middle():
    fitted = np.zeros((20, 10))
    fitted[:, :3] = 1.0  # mass on the left side of the box
    centred = P.centre_by_mass(fitted)
    assert centred.shape == (28, 28)
    cy, cx = ndimage.center_of_mass(centred)
    assert abs(cy - 13.5) <= 0.5 and abs(cx - 13.5) <= 0.5
    assert centred.sum() == pytest.approx(fitted.sum())


# ------------------------------------------------------------------ thinning and strokes


def test_thin_reduces_a_bar_to_a_one_pixel_line():
    skeleton = P.thin(bar(width=9) > 0.5)
    rows, cols = np.nonzero(skeleton)
    assert np.ptp(cols) <= 1  # one column wide
    assert np.ptp(rows) >= 50  # still nearly the bar's length
    assert skeleton.sum() < 70


def test_thin_keeps_a_ring_closed():
    yy, xx = np.mgrid[:80, :80]
    r = np.hypot(yy - 40, xx - 40)
    skeleton = P.thin((r > 20) & (r < 30))
    assert skeleton.any()
    # A closed loop splits the background in two: the inside and the outside.
    _, n_regions = ndimage.label(~skeleton)
    assert n_regions == 2


def test_thin_works_on_a_batch_like_one_by_one():
    a, b = bar(width=9) > 0.5, np.eye(80, dtype=bool)
    batch = P.thin(np.stack([a, b]))
    np.testing.assert_array_equal(batch[0], P.thin(a))
    np.testing.assert_array_equal(batch[1], P.thin(b))


def test_skeleton_length_counts_straight_and_diagonal_steps():
    line = np.zeros((12, 12), dtype=bool)
    line[5, 1:11] = True
    diagonal = np.eye(11, dtype=bool)
    assert P.skeleton_length(line)[0] == pytest.approx(9.0)
    assert P.skeleton_length(diagonal)[0] == pytest.approx(10 * np.sqrt(2))


@pytest.mark.parametrize("width", [2, 4, 8, 12, 20, 24])
def test_measure_stroke_of_a_bar_in_pixels_of_the_20_px_box(width):
    measured, skeleton = P.measure_stroke(bar(width=width, length=60))
    # Scale 4: an 8 px bar in the 80 px box is 2 px in MNIST's 20 px box, even
    # for a short thick bar whose skeleton stops half a width short of each end.
    assert measured == pytest.approx(width / 4, rel=0.05)
    assert P.skeleton_ends(skeleton)[0] == 2


def test_skeleton_ends_of_a_line_a_ring_and_a_cross():
    line = np.zeros((9, 9), dtype=bool)
    line[4, 1:8] = True
    cross = line | line.T
    yy, xx = np.mgrid[:80, :80]
    ring = P.thin(np.abs(np.hypot(yy - 40, xx - 40) - 25) < 5)
    assert list(P.skeleton_ends(np.stack([line, cross]))) == [2, 4]
    assert P.skeleton_ends(ring)[0] == 0


def test_stroke_widths_of_a_blank_image_is_zero():
    widths, skeletons = P.stroke_widths(np.zeros((2, 80, 80)))
    assert list(widths) == [0.0, 0.0] and not skeletons.any()


def test_adjust_stroke_grows_a_hairline_into_the_band():
    fine = bar(width=4)
    width, skeleton = P.measure_stroke(fine)
    assert width < P.STROKE_BAND[0]
    grown = P.adjust_stroke(fine, width, skeleton)
    assert P.measure_stroke(grown)[0] == pytest.approx(P.STROKE_BAND[0], abs=0.15)
    assert (grown >= fine).all()  # growing only adds ink


def test_adjust_stroke_shrinks_a_blob_into_the_band_and_keeps_its_skeleton():
    fine = bar(width=24)
    width, skeleton = P.measure_stroke(fine)
    assert width > P.STROKE_BAND[1]
    shrunk = P.adjust_stroke(fine, width, skeleton)
    assert P.measure_stroke(shrunk)[0] == pytest.approx(P.STROKE_BAND[1], abs=0.15)
    assert (shrunk <= fine).all()
    assert (shrunk[skeleton] > 0).all()


def test_adjust_stroke_leaves_a_stroke_in_the_band_alone():
    fine = bar(width=9)
    width, skeleton = P.measure_stroke(fine)
    assert P.STROKE_BAND[0] <= width <= P.STROKE_BAND[1]
    assert P.adjust_stroke(fine, width, skeleton) is fine


# ------------------------------------------------------------------ the whole pipeline


@pytest.mark.parametrize("points", [ONE, ZERO, SEVEN], ids=["one", "zero", "seven"])
def test_to_mnist_is_the_same_for_every_background(points):
    results = [P.to_mnist(img) for img in canvases(points).values()]
    for result in results:
        assert result.shape == (28, 28) and result.dtype == np.uint8
        assert result.max() == 255
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])


def test_to_mnist_fits_the_digit_into_20_px_centred_by_mass():
    result = P.to_mnist(canvases(ZERO)["white"])
    rows = np.flatnonzero((result > 25).any(axis=1))
    cols = np.flatnonzero((result > 25).any(axis=0))
    assert 19 <= rows[-1] - rows[0] + 1 <= 21  # the zero is taller than wide
    assert cols[-1] - cols[0] + 1 < 18
    cy, cx = ndimage.center_of_mass(result.astype(float))
    assert abs(cy - 13.5) <= 1 and abs(cx - 13.5) <= 1


@pytest.mark.parametrize("brush", [6, 23, 45])
def test_to_mnist_gives_mnist_like_strokes_whatever_the_brush(brush):
    steps = P.preprocess_steps(canvases(SEVEN, width=brush)["white"])
    after, _ = P.measure_stroke(steps.adjusted)
    low, high = P.STROKE_BAND
    # Growing or shrinking slanted strokes lands a little short of the band (the
    # rim is measured between pixel centres), but inside MNIST's 10-90% range.
    assert 1.68 <= after <= 3.26
    assert low - 0.3 <= after <= high + 0.2
    if brush == 6:
        assert steps.stroke < low
    elif brush == 45:
        assert steps.stroke > high


def test_preprocess_steps_without_the_stroke_band_skips_it():
    steps = P.preprocess_steps(canvases(ONE)["white"], stroke_band=None)
    assert steps.fine is None and steps.stroke is None and steps.adjusted is None
    assert steps.result.shape == (28, 28)


def test_preprocess_steps_records_every_intermediate_image():
    steps = P.preprocess_steps(canvases(SEVEN)["black"])
    top, left, bottom, right = steps.box
    assert steps.ink.shape == (280, 280)
    assert steps.cropped.shape == (bottom - top, right - left)
    assert max(steps.fine.shape) == P.FINE
    assert max(steps.fitted.shape) == P.BOX
    assert steps.centred.shape == (28, 28)
    np.testing.assert_array_equal(steps.result, P.to_mnist(canvases(SEVEN)["black"]))


def test_load_image_names_the_file_when_it_is_not_an_image():
    with pytest.raises(ImageError, match=r"^notes\.png: not a readable image; upload a PNG"):
        P.load_image(b"hello, not a picture", "notes.png")
