"""The feature steps' fast paths give what the plain formulas give."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from mnist_knn.data import load_mnist
from mnist_knn.features import Deskew, EdgeDirections, as_images, in_batches


def deskew_by_map_coordinates(images: np.ndarray) -> np.ndarray:
    """The moments deskew written out plainly: one map_coordinates call per image."""
    out = np.empty_like(images)
    grid = np.arange(28, dtype=np.float64)
    rr, cc = np.meshgrid(grid, grid, indexing="ij")
    for i, image in enumerate(images.astype(np.float64)):
        total = image.sum()
        if total == 0:
            out[i] = image
            continue
        mr = (image.sum(axis=1) @ grid) / total
        mc = (image.sum(axis=0) @ grid) / total
        var_r = (image.sum(axis=1) * (grid - mr) ** 2).sum() / total
        cov = (image * np.outer(grid - mr, grid - mc)).sum() / total
        alpha = cov / var_r if var_r > 1e-6 else 0.0
        coords = [rr + mr - 13.5, cc + mc - 13.5 + alpha * (rr - 13.5)]
        out[i] = ndimage.map_coordinates(image, coords, order=1, mode="constant", cval=0.0)
    return out


@pytest.fixture(scope="module")
def digits():
    return as_images(load_mnist(download=False).x_test[:300])


def odd_images() -> np.ndarray:
    images = np.zeros((5, 28, 28), np.float32)
    images[1, 0:6, 0:3] = 1.0  # ink in a corner: the shift samples far outside
    images[2, 27, 27] = 0.5  # one pixel on the edge
    images[3][np.arange(28), np.arange(28)] = 1.0  # a strong slant
    images[4, 3:25, 20:22] = 1.0  # a bar off to one side
    return images  # images[0] is empty and must stay so


def test_deskew_matches_map_coordinates_on_digits_and_odd_images(digits):
    images = np.concatenate([digits, odd_images()])
    got = Deskew(batch_size=128).transform(images)
    assert got.shape == images.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, deskew_by_map_coordinates(images), atol=1e-4)
    assert not got[300].any()  # the empty image


def test_deskew_straightens_a_slanted_bar():
    image = np.zeros((1, 28, 28), np.float32)
    rows = np.arange(4, 24)
    image[0, rows, (rows * 0.5 + 6).astype(int)] = 1.0
    straight = Deskew().transform(image)[0]
    columns = (straight * np.arange(28)).sum(axis=1) / np.maximum(straight.sum(axis=1), 1e-6)
    inked = straight.sum(axis=1) > 0.5
    assert np.ptp(columns[inked]) < 1.5  # it leaned 10 columns over its height


def test_edges_in_batches_over_the_cores_match_one_image_at_a_time(digits):
    edges = EdgeDirections()
    together = edges.transform(digits)  # 300 images, batches of 128 over the cores
    assert together.shape == (300, 512)
    one_by_one = np.concatenate([edges.transform(d[None]) for d in digits[:40]])
    np.testing.assert_allclose(together[:40], one_by_one, atol=1e-6)


def test_edges_batches_keep_their_order(digits, monkeypatch):
    monkeypatch.setattr(EdgeDirections, "BATCH", 7)
    small = EdgeDirections().transform(digits[:50])
    monkeypatch.setattr(EdgeDirections, "BATCH", 512)
    np.testing.assert_allclose(small, EdgeDirections().transform(digits[:50]), atol=1e-6)


def test_in_batches_fills_every_row_in_place():
    X = np.arange(1000, dtype=np.float32).reshape(100, 10)
    out = np.empty_like(X)
    assert in_batches(lambda rows: rows * 2, X, 9, out) is out
    np.testing.assert_array_equal(out, X * 2)
