"""The canvas's awkward cases, through the Draw page's path: a prediction or a reason."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_knn import reading as rd
from mnist_knn.preprocess import EmptyDrawingError, preprocess_steps
from mnist_knn.synthetic import CORNER_DIGITS, ONE, stroke_image, strokes_image
from mnist_knn.trained import load_artifact


@pytest.fixture(scope="module")
def artifact():
    return load_artifact()  # the conftest's 3,000-digit subset


def read(artifact, image) -> rd.Reading:
    """What the Draw page shows for a canvas: the vote of the preset's k, explained."""
    steps = preprocess_steps(np.asarray(image))
    reference = rd.Reference.from_evaluation(artifact.evaluation)
    found = rd.search(artifact.model, steps.result)
    return rd.read(found, 4, "distance", reference, steps.result, steps.stroke)


def test_a_blank_canvas_is_empty_not_an_error():
    blank = np.full((280, 280, 4), 255, np.uint8)
    with pytest.raises(EmptyDrawingError, match="draw a digit"):
        preprocess_steps(blank)


def test_a_single_dot_is_read_but_not_sure(artifact):
    reading = read(artifact, stroke_image([(0.5, 0.5), (0.5, 0.5)], width=23))
    assert reading.label in range(10)
    assert not reading.verdict.sure and reading.verdict.kind == "blot"
    assert reading.verdict.reason.startswith("This is a dot or a blot rather than a line")
    assert "with a line rather than a tap" in reading.verdict.advice


def test_a_line_across_the_whole_canvas_gets_a_reading_with_its_reason(artifact):
    # The full model says "7?, not sure"; this 3,000-digit subset is less certain of
    # what is far, so only the shape of the answer is checked here.
    reading = read(artifact, stroke_image([(0.0, 0.5), (1.0, 0.5)], width=23))
    assert reading.label in range(10)
    assert reading.proba.sum() == pytest.approx(1.0)
    assert reading.verdict.reason


def test_a_tiny_one_in_a_corner_is_scaled_up_and_read(artifact):
    tiny = [(0.05 + x * 0.1, 0.05 + y * 0.1) for x, y in ONE]  # 17 px tall, top left
    reading = read(artifact, stroke_image(tiny, width=4))
    assert reading.label == 1
    assert reading.image.shape == (28, 28)
    rows, cols = np.nonzero(reading.image > 64)
    assert rows.min() >= 3 and rows.max() <= 24  # MNIST's 20-pixel box, centred
    assert abs(cols.mean() - 13.5) < 3


@pytest.mark.parametrize(("corner", "digit", "points"), CORNER_DIGITS)
def test_digits_drawn_from_the_corners_read_right(artifact, corner, digit, points):
    """The browser test draws these (a stroke starting in each corner) at five screen sizes."""
    reading = read(artifact, strokes_image([points], width=23))
    assert (reading.label, reading.verdict.sure) == (digit, True), corner
