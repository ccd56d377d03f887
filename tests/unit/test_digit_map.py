"""The digit map: stratified sample, PCA + t-SNE artifact, placing a drawing, KNN regions."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_knn import load_mnist, to_mnist
from mnist_knn.__main__ import main
from mnist_knn.evaluation import digit_map
from mnist_knn.synthetic import ONE, ZERO, stroke_image
from tests.support.artifacts import assert_stale_then_unreadable

SMALL = {"per_class": 20, "max_iter": 500}


@pytest.fixture(scope="module")
def data():
    return load_mnist(download=False)


@pytest.fixture(scope="module")
def small_map(data):
    return digit_map.build_map(data, **SMALL)


def test_stratified_sample():
    labels = np.repeat(np.arange(10), [5, 50, 50, 50, 50, 50, 50, 50, 50, 50])
    picked = digit_map.stratified_sample(labels, 20, seed=1)
    assert np.all(np.diff(picked) > 0)
    counts = np.bincount(labels[picked], minlength=10)
    assert counts.tolist() == [5] + [20] * 9  # all of a rare digit, 20 of the others
    np.testing.assert_array_equal(picked, digit_map.stratified_sample(labels, 20, seed=1))


def test_build_map(small_map, data):
    m = small_map
    assert len(m.index) == 200 and np.bincount(m.labels).tolist() == [20] * 10
    np.testing.assert_array_equal(m.labels, data.y_train[m.index])
    assert m.features.shape == (200, 50) and m.pca_components.shape == (50, 784)
    assert set(m.coords) == {"pca", "tsne"}
    for coords in m.coords.values():
        assert coords.shape == (200, 2) and np.isfinite(coords).all()
    # The PCA map is the first two principal components of the sample.
    np.testing.assert_allclose(
        m.coords["pca"], m.pca_features(data.x_train[m.index])[:, :2], atol=1e-4
    )
    assert m.meta["config"]["per_class"] == 20 and m.meta["tsne_seconds"] > 0
    assert 0 < m.meta["explained_variance_2d"] < 1
    # Neighbours on the maps share labels far more often than chance (10 %).
    assert digit_map.map_accuracy(m, "tsne", 5) > 0.6
    assert digit_map.map_accuracy(m, "pca", 5) > 0.3


def test_round_trip_stale_and_damaged(small_map, data, models_dir):
    assert digit_map.map_problem(data) == "not built yet"
    digit_map.save_map(small_map, data)
    assert digit_map.map_problem(data) is None
    again = digit_map.read_map(data)
    for name in ("index", "labels", "features", "pca_mean", "pca_components"):
        np.testing.assert_array_equal(getattr(again, name), getattr(small_map, name))
    np.testing.assert_array_equal(again.coords["tsne"], small_map.coords["tsne"])
    # load_map reuses a fresh map of the requested config, and rebuilds for another one.
    assert digit_map.load_map(data, **SMALL).meta["built"] == small_map.meta["built"]
    assert_stale_then_unreadable(
        digit_map.map_path(),
        lambda: digit_map.map_problem(data),
        lambda: digit_map.read_map(data),
    )
    rebuilt = digit_map.load_map(data, per_class=10, max_iter=300)
    assert len(rebuilt.index) == 100 and digit_map.map_problem(data) is None


def test_place_a_drawing(small_map):
    digit = to_mnist(stroke_image(ONE))
    placement = digit_map.place(small_map, digit)
    assert placement.neighbours.shape == (digit_map.PLACE_NEIGHBOURS,)
    assert np.all(np.diff(placement.distances) >= 0)
    np.testing.assert_allclose(
        placement.coords["pca"], small_map.pca_features(digit[None])[0, :2], atol=1e-5
    )
    # t-SNE: a weighted mean of its neighbours' positions lies inside their bounding box.
    near = small_map.coords["tsne"][placement.neighbours]
    assert np.all(placement.coords["tsne"] >= near.min(axis=0) - 1e-4)
    assert np.all(placement.coords["tsne"] <= near.max(axis=0) + 1e-4)
    # A drawn 1 lands among the 1s (most of its nearest sampled digits are 1s).
    assert np.mean(small_map.labels[placement.neighbours] == 1) >= 0.7
    assert digit_map.classify_on_map(small_map, "tsne", 5, placement.coords["tsne"]) == 1
    # A training digit of the sample lands exactly on itself.
    row = 7
    own = digit_map.place(small_map, np.asarray(load_mnist().x_train[small_map.index[row]]))
    assert own.neighbours[0] == row and own.distances[0] < 1e-3
    np.testing.assert_allclose(own.coords["tsne"], small_map.coords["tsne"][row], atol=1e-2)


def test_decision_grid(small_map):
    grid = digit_map.decision_grid(small_map.coords["tsne"], small_map.labels, k=1, resolution=50)
    assert grid.labels.shape == (50, 50) and grid.x.shape == grid.y.shape == (50,)
    # With k=1 the grid cell nearest to each sampled digit takes that digit's label.
    coords = small_map.coords["tsne"]
    hits = 0
    for (x, y), label in zip(coords, small_map.labels, strict=True):
        i, j = np.abs(grid.y - y).argmin(), np.abs(grid.x - x).argmin()
        hits += grid.labels[i, j] == label
    assert hits / len(coords) > 0.8
    assert set(np.unique(grid.labels)) == set(range(10))


def test_hand_made_decision_grid():
    coords = np.array([[0.0, 0.0], [10.0, 0.0]])
    grid = digit_map.decision_grid(coords, np.array([3, 8]), k=1, resolution=11, margin=0)
    assert grid.labels[:, :5].tolist() == [[3] * 5] * 11
    assert grid.labels[:, 6:].tolist() == [[8] * 5] * 11


def test_cli_embed(models_dir, capsys):
    assert main(["embed", "--per-class", "15", "--max-iter", "300"]) == 0
    out = capsys.readouterr().out
    assert "150 training digits mapped (15 per digit at most)" in out
    assert "leave-one-out accuracy on the tsne map" in out
    assert (models_dir / "embedding.npz").exists()
    before = (models_dir / "embedding.npz").stat().st_mtime_ns
    assert main(["embed", "--per-class", "15", "--max-iter", "300"]) == 0  # up to date: reused
    assert (models_dir / "embedding.npz").stat().st_mtime_ns == before


def test_zero_digit_lands_among_zeros(small_map):
    placement = digit_map.place(small_map, to_mnist(stroke_image(ZERO)))
    assert np.bincount(small_map.labels[placement.neighbours], minlength=10).argmax() == 0


def test_tsne_progress_moves_with_the_iterations(data):
    seen = []
    digit_map.build_map(
        data, progress=lambda f, text: seen.append((f, text)), per_class=10, max_iter=300
    )
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    iterations = [t for _, t in seen if t.startswith("t-SNE iteration")]
    # Reported every 50 iterations: 50, 100, ..., 300 (it may stop early once settled).
    assert iterations[:5] == [
        f"t-SNE iteration {i} of 300: pulling the clusters apart" for i in (50, 100, 150, 200, 250)
    ]
    steps = [f for f, t in seen if t.startswith("t-SNE iteration")]
    assert steps[0] == pytest.approx(0.12 + 0.86 * 50 / 300)
    assert steps[4] == pytest.approx(0.12 + 0.86 * 250 / 300)


def test_tsne_report_passes_other_output_through(capsys):
    calls = []
    with digit_map.tsne_iterations(calls.append):
        print("[t-SNE] Iteration 150: error = 1.0, gradient norm = 0.1 (50 iterations in 0.1s)")
        print("[t-SNE] Computed neighbors for 100 samples in 0.01s...")
        print("something else")
    assert calls == [150]
    assert capsys.readouterr().out == "something else\n"
    print("after")
    assert capsys.readouterr().out == "after\n" and calls == [150]
