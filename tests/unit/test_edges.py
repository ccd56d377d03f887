"""Edge-direction features, the re-ranking mix and the tangent distances a search can add."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mnist_knn.data import load_mnist
from mnist_knn.features import EdgeDirections
from mnist_knn.model import PRESETS, make_pipeline


@pytest.fixture(scope="module")
def data():
    return load_mnist(download=False)


def bar(vertical: bool, at: int = 14) -> np.ndarray:
    image = np.zeros((28, 28), np.uint8)
    if vertical:
        image[6:22, at - 1 : at + 1] = 255
    else:
        image[at - 1 : at + 1, 6:22] = 255
    return image


def energy(features: np.ndarray) -> np.ndarray:
    """Each direction's total strength, from one feature row (8 directions x 8 x 8)."""
    return (features.reshape(8, 64) ** 2).sum(axis=1)


def test_edges_have_the_documented_shape_and_range():
    out = EdgeDirections().transform(np.stack([bar(True), bar(False)]))
    assert out.shape == (2, 8 * 8 * 8) and out.dtype == np.float32
    assert out.min() >= 0
    assert EdgeDirections(directions=4, cell=8).transform(bar(True)).shape == (1, 4 * 4 * 4)
    blank = EdgeDirections().transform(np.zeros((1, 28, 28), np.uint8))
    assert not blank.any()


def test_a_vertical_bar_has_left_and_right_edges_a_horizontal_one_up_and_down():
    vertical, horizontal = (energy(f) for f in EdgeDirections().transform([bar(True), bar(False)]))
    # Direction 0 is +x (ink rising to the right), 2 is +y (down the rows), 4 and 6 opposite.
    assert vertical[[0, 4]].sum() > 0.8 * vertical.sum()  # the rest: the bar's ends
    assert vertical[0] == pytest.approx(vertical[4], rel=0.05)
    assert horizontal[[2, 6]].sum() > 0.8 * horizontal.sum()
    assert horizontal[2] == pytest.approx(horizontal[6], rel=0.05)


def test_edges_move_less_than_pixels_when_a_stroke_shifts_or_thickens():
    edges = EdgeDirections()
    thin, shifted = bar(True), bar(True, at=15)
    thick = thin.copy()
    thick[6:22, 12:16] = 255

    def change(a, b, f):
        fa, fb = f(a), f(b)
        return np.linalg.norm(fa - fb) / np.linalg.norm(fa)

    def pixels(a):
        return a.reshape(-1) / 255.0

    def edge(a):
        return edges.transform(a)[0]

    assert change(thin, shifted, edge) < 0.5 * change(thin, shifted, pixels)
    assert change(thin, thick, edge) < change(thin, thick, pixels)


def test_the_picture_draws_each_edge_along_its_direction():
    edges = EdgeDirections()
    vertical = edges.picture(edges.transform(bar(True))[0])
    horizontal = edges.picture(edges.transform(bar(False))[0])
    assert vertical.shape == (8 * 16, 8 * 16)
    assert vertical.max() == pytest.approx(1.0) and vertical.min() == 0.0
    # The bars are each other's transpose, and so are their pictures.
    np.testing.assert_allclose(horizontal, vertical.T, atol=1e-4)
    # The vertical bar's edges are drawn as vertical strokes around its columns (14 of 28,
    # padded by 2: the grid's middle), the ink in the middle third of the picture.
    columns = vertical.sum(axis=0)
    assert columns[40:88].sum() > 0.9 * columns.sum()
    rows = vertical.sum(axis=1)
    assert rows[40:88].sum() > 0.5 * rows.sum()  # and along its length, not only at the ends


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="cell divide 32"):
        EdgeDirections(cell=5).transform(bar(True))
    with pytest.raises(ValueError, match="directions must be >= 2"):
        EdgeDirections(directions=1).transform(bar(True))


def test_edges_read_mnist_better_than_pixels_on_a_small_sample(data):
    x, y = data.x_train[:3000], data.y_train[:3000]
    q, yq = data.x_test[:500], data.y_test[:500]
    plain = replace(PRESETS["default"], edges=False, tangent_margin=False, styles=())
    with_edges = replace(PRESETS["default"], tangent_margin=False, styles=())
    acc_plain = (make_pipeline(plain).fit(x, y).predict(q) == yq).mean()
    acc_edges = (make_pipeline(with_edges).fit(x, y).predict(q) == yq).mean()
    assert acc_edges > acc_plain + 0.01 and acc_edges > 0.93


def test_the_mix_adds_the_first_search_distance_to_the_tangent_distance(data):
    x, y = data.x_train[:1500], data.y_train[:1500]
    queries = data.x_test[:40]
    mixed = make_pipeline(replace(PRESETS["best"], styles=())).fit(x, y)
    assert mixed.mix == 2.0 and mixed.rerank == 30
    found = mixed.search(queries, n_neighbors=5)
    assert found.tangent is not None and found.tangent.shape == found.dist.shape
    # Re-measure the candidates in feature space: score = tangent + 2 x feature distance,
    # a digit's feature distance being that of its nearest copy (as drawn, turned 6° either
    # way: rows i, i + 1500 and i + 3000).
    features = mixed.features(queries)
    rows = found.ind[:, :, None] + 1500 * np.arange(mixed.copies)
    copies = np.linalg.norm(features[:, None, None] - mixed.training_features_[rows], axis=3)
    first = copies.min(axis=2)
    np.testing.assert_allclose(found.dist, found.tangent + 2.0 * first, rtol=1e-3, atol=1e-3)
    assert np.all(np.diff(found.dist, axis=1) >= 0)


def test_tangent_distances_come_only_when_asked_and_kept(data):
    x, y = data.x_train[:1500], data.y_train[:1500]
    model = make_pipeline(replace(PRESETS["default"], styles=())).fit(x, y)
    assert model.tangent_margin and not model.rerank and model.measures_tangent
    assert model.rerank_images_.shape == (1500, 784)
    plain = model.search(data.x_test[:5], n_neighbors=6)
    asked = model.search(data.x_test[:5], n_neighbors=6, tangent=True)
    assert plain.tangent is None and asked.tangent.shape == (5, 6)
    np.testing.assert_array_equal(plain.ind, asked.ind)  # the same neighbours, measured again
    # A training digit itself: tangent distance 0 to its own copy.
    itself = model.search(x[:3], n_neighbors=1, tangent=True)
    np.testing.assert_allclose(itself.tangent[:, 0], 0, atol=1e-3)
    without = make_pipeline(replace(PRESETS["default"], styles=(), tangent_margin=False))
    without.fit(x, y)
    assert not hasattr(without, "rerank_images_")
    assert without.search(data.x_test[:5], tangent=True).tangent is None
