"""tangent.align: a neighbour moved to match a drawing, and the words for how it moved.

The known deformations are made with scipy.ndimage (not with tangent.warp, which align
uses), so the test checks the conventions too: angles clockwise on screen, shifts in
pixels right and down, scale as a factor of size.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import ndimage

from mnist_knn import load_mnist
from mnist_knn.model import PRESETS, make_pipeline
from mnist_knn.tangent import align, describe, warp


@pytest.fixture(scope="module")
def data():
    return load_mnist(download=False)


@pytest.fixture(scope="module")
def digit(data):
    """A real MNIST 7 (training digit 0 is a 5; take the first 7), lightly blurred, in [0, 1]."""
    seven = data.x_train[np.flatnonzero(data.y_train == 7)[0]]
    return ndimage.gaussian_filter(seven / 255.0, 0.5)


@pytest.mark.parametrize("angle", [-10, -6, -3, 3, 6, 10])
def test_a_turned_copy_is_found_turned_by_its_angle(digit, angle):
    # ndimage.rotate turns the copy anticlockwise on screen for a positive angle; the
    # original is moved to match the copy, so it turns by -angle (clockwise > 0).
    query = np.clip(ndimage.rotate(digit, angle, reshape=False, order=3), 0, 1)
    found = align(query, digit)
    assert found.angle_deg == pytest.approx(-angle, abs=0.5)
    assert found.scale == pytest.approx(1, abs=0.02)
    assert np.abs(found.shift_xy).max() < 0.3
    assert found.distance < 0.5 * found.distance_before  # the rest: bilinear vs cubic
    way = "anticlockwise" if angle > 0 else "clockwise"
    assert found.words() == f"turned {abs(angle)}° {way}"


def test_a_shifted_copy_is_found_shifted(digit):
    query = ndimage.shift(digit, (1, -2), order=3)  # 1 px down, 2 px left
    found = align(query, digit)
    assert found.shift_xy == pytest.approx((-2, 1), abs=0.1)
    assert abs(found.angle_deg) < 0.5 and found.scale == pytest.approx(1, abs=0.01)
    assert found.words() == "moved 2 px left and 1 px down"


def test_a_larger_copy_is_found_larger(digit):
    # 12% larger about the image centre, made with ndimage.affine_transform.
    c = 13.5
    query = ndimage.affine_transform(digit, np.eye(2) / 1.12, offset=c - c / 1.12, order=3)
    found = align(query, digit)
    assert found.scale == pytest.approx(1.12, abs=0.01)
    assert abs(found.angle_deg) < 0.5
    assert found.words() == "12% larger"


def test_a_thicker_copy_is_found_thicker(digit):
    query = ndimage.grey_dilation(digit, footprint=ndimage.generate_binary_structure(2, 1))
    found = align(query, digit)
    assert found.thickness > 0.4
    assert "thicker strokes" in found.words()
    thinner = align(digit, query)
    assert thinner.thickness < -0.3 and "thinner strokes" in thinner.words()


def test_describe_leaves_out_what_cannot_be_seen():
    assert describe(1.4, 1.02, (0.3, -0.4), 0.1) == "already lined up"
    assert describe(0, 1, (0.5, -2.5), 0) == "moved 1 px right and 2 px up"
    assert describe(-6.4, 0.9, (1.2, -0.8), -0.3) == (
        "turned 6° anticlockwise, 10% smaller, moved 1 px right and 1 px up, thinner strokes"
    )


def test_warp_with_identity_changes_nothing(digit):
    np.testing.assert_allclose(warp(digit, np.eye(2), (0, 0)), np.clip(digit, 0, 1), atol=1e-12)


def test_pipeline_aligns_the_neighbours_only_where_tangent_distance_ranked_them(data):
    x, y = data.x_train[:1500], data.y_train[:1500]
    query = data.x_test[0]
    best = make_pipeline(PRESETS["best"]).fit(x, y)
    found = best.search(query[None], n_neighbors=4)
    aligned = best.align_neighbours(query, x[found.ind[0]])
    assert len(aligned) == 4
    for a, raw in zip(aligned, x[found.ind[0]], strict=True):
        assert a.image.shape == (28, 28) and a.image.min() >= 0 and a.image.max() <= 1
        assert a.distance < a.distance_before  # moving it brought it closer
        assert not np.allclose(a.image, raw / 255.0)  # the picture shows the move
    plain = replace(PRESETS["default"], rerank=0, styles=())  # ranked by PCA distances
    assert make_pipeline(plain).fit(x, y).align_neighbours(query, x[:4]) is None


def test_through_best_deskew_takes_part_of_a_turn_before_tangent_distance(data):
    # best compares deskewed images: turning a digit changes its slant, which deskew
    # evens out, so a copy turned 6° is matched by turning the stored digit about 4°
    # (median of 10 digits; align on the images themselves finds 6°, tests above).
    x, y = data.x_train[:1500], data.y_train[:1500]
    best = make_pipeline(PRESETS["best"]).fit(x, y)
    found = []
    for digit in x[:10]:
        turned = ndimage.rotate(digit.astype(float), 6, reshape=False, order=1)
        query = np.clip(turned, 0, 255).astype(np.uint8)  # 6° anticlockwise on screen
        found.append(best.align_neighbours(query, digit[None])[0].angle_deg)
    assert -5.5 < np.median(found) < -3.5
