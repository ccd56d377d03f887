"""The "How it works" library: stepper ablations, distances, the vote, and KNN from scratch."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import ndimage
from sklearn.neighbors import KNeighborsClassifier

from mnist_knn import load_mnist, to_mnist
from mnist_knn import teaching as tch
from mnist_knn.model import Preset, make_pipeline
from mnist_knn.preprocess import EmptyDrawingError, preprocess_steps
from mnist_knn.synthetic import ONE, SEVEN, ZERO, sample_drawing, stroke_image
from mnist_knn.trained import load_artifact


@pytest.fixture(scope="module")
def data():
    return load_mnist(download=False)


@pytest.fixture(scope="module")
def default(data):
    return load_artifact("default", data=data).model


@pytest.fixture(scope="module")
def baseline(data):
    return load_artifact("baseline", data=data).model


def _small_one_in_a_corner():
    """A short stroke in the top-left corner: crop, fit and centre all have work to do."""
    return stroke_image([(0.15, 0.1), (0.15, 0.35)], width=10)


# ------------------------------------------------------------------ preprocessing


@pytest.mark.parametrize("points", [ONE, ZERO, SEVEN])
def test_nothing_skipped_is_exactly_to_mnist(points):
    image = stroke_image(points)
    np.testing.assert_array_equal(preprocess_steps(image).result, to_mnist(image))


def test_every_combination_of_skipped_steps_gives_a_28x28_digit():
    image = _small_one_in_a_corner()
    for n in range(4):
        for skip in itertools.combinations(tch.PREPROCESSING, n):
            result = preprocess_steps(image, skip=skip).result
            assert result.shape == (28, 28) and result.dtype == np.uint8
            assert result.max() == 255, skip


def _ink_extent(digit):
    rows, cols = np.nonzero(digit > 25)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


def test_skipping_fit_keeps_a_small_drawing_small():
    image = _small_one_in_a_corner()  # 25 % of the canvas tall: 7 px of 28
    assert _ink_extent(preprocess_steps(image).result)[0] == 20
    height, _ = _ink_extent(preprocess_steps(image, skip=["fit"]).result)
    assert 7 <= height <= 9


def test_skipping_centre_leaves_the_digit_where_it_was_drawn():
    image = _small_one_in_a_corner()
    cy, cx = ndimage.center_of_mass(preprocess_steps(image, skip=["fit", "centre"]).result)
    assert cy < 8 and cx < 8  # top-left, as drawn
    cy, cx = ndimage.center_of_mass(preprocess_steps(image).result)
    assert abs(cy - 13.5) <= 1 and abs(cx - 13.5) <= 1


def test_skipping_crop_keeps_the_whole_canvas():
    image = _small_one_in_a_corner()
    steps = preprocess_steps(image, skip=["crop"])
    assert steps.cropped.shape == (280, 280)
    # The whole canvas fitted into 20x20: the stroke is 25 % of it, about 5 px tall.
    assert _ink_extent(steps.result)[0] <= 7


def test_unknown_step_and_empty_drawing_are_refused():
    with pytest.raises(ValueError, match="cannot skip"):
        preprocess_steps(stroke_image(ONE), skip=["deskew"])
    blank = np.zeros((280, 280, 4), dtype=np.uint8)
    with pytest.raises(EmptyDrawingError):
        preprocess_steps(blank, skip=["crop"])


def test_sample_drawing_is_a_canvas_that_preprocesses_back_to_the_digit(data, default):
    same = 0
    for index in range(8):
        digit = data.x_test[index]
        drawing = sample_drawing(digit, seed=index)
        assert drawing.shape == (280, 280, 4) and drawing.dtype == np.uint8
        assert not drawing[..., :3].any() and drawing[..., 3].max() >= 250
        rows, cols = np.nonzero(drawing[..., 3])
        assert 0.3 * 280 <= max(np.ptp(rows), np.ptp(cols)) <= 0.72 * 280
        # Resized and moved on the canvas, but the same digit once preprocessed
        # (up to resampling), and the model reads it the same.
        back = to_mnist(drawing).astype(float)
        assert np.abs(back - to_mnist(digit)).mean() < 6
        same += int(default.predict(back[None])[0] == default.predict(digit[None])[0])
    assert same >= 7  # the small fixture model reads one 9 redrawn this way as an 8


# ------------------------------------------------------------------ the model's side


def test_model_view_skips_deskew_for_the_drawing_only(default, baseline):
    digit = to_mnist(stroke_image([(0.35, 0.2), (0.6, 0.8)]))  # a slanted 1
    plain = tch.model_view(default, digit, ["deskew", "blur"])
    np.testing.assert_allclose(plain.image, digit / 255, atol=1e-6)
    straight = tch.model_view(default, digit)
    assert np.abs(straight.image - plain.image).sum() > 10
    assert straight.features.shape == plain.features.shape == (1, 60)
    assert "60 numbers" in straight.description and "8 directions" in straight.description
    # default searches on edges: drawn as strokes along them, 8x8 cells of 16 px.
    assert set(straight.stages) == {"deskew", "blur"} and straight.seen.shape == (128, 128)
    pixels = tch.model_view(baseline, digit)
    assert pixels.seen.shape == (28, 28) and "the pixels themselves" in pixels.description


def test_explain_reads_synthetic_digits(default, baseline):
    for model in (default, baseline):
        for points, label in ((ONE, 1), (ZERO, 0), (SEVEN, 7)):
            found = tch.explain(model, stroke_image(points)).neighbours
            assert found.labels[0] == label
            assert found.dist.shape == (1, 15) and np.all(np.diff(found.dist[0]) >= 0)


def test_ablation_rows(default):
    rows = tch.ablation(default, _small_one_in_a_corner())
    assert [row["skipped"] for row in rows] == [
        (),
        ("crop",),
        ("stroke",),
        ("fit",),
        ("centre",),
        ("deskew",),
        ("blur",),
        ("crop", "stroke", "fit", "centre", "deskew", "blur"),
    ]
    assert rows[0]["switched_off"] == "nothing" and rows[1]["switched_off"] == "Cropped"
    assert rows[0]["label"] == 1
    for row in rows:
        assert 0 <= row["label"] <= 9 and 0 < row["confidence"] <= 1


def test_distances_to_every_training_digit(default, baseline, data):
    for model in (default, baseline):
        explanation = tch.explain(model, stroke_image(SEVEN))
        dist = tch.distances_to_training(model, explanation.view.features)
        assert dist.shape == (len(data.y_train),)
        features = model[:-1].transform(data.x_train[:50])
        direct = np.linalg.norm(features - explanation.view.features, axis=1)
        # A digit's distance is that of its nearest copy: default's zeros have a struck-through one.
        plain = data.y_train[:50] != 0 if model.styles else np.ones(50, bool)
        np.testing.assert_allclose(dist[:50][plain], direct[plain], rtol=1e-4, atol=1e-4)
        assert (dist[:50] <= direct + 1e-4).all()
        found = explanation.candidates  # the euclidean search (default re-ranks after it)
        np.testing.assert_allclose(np.sort(dist)[:15], found.dist[0], rtol=1e-4, atol=1e-4)
        assert set(np.argsort(dist)[:3]) == set(found.ind[0, :3])


def test_distances_with_augmentation_are_per_original_digit(data):
    preset = Preset("aug", "test", shifts=4, k=3)
    model = make_pipeline(preset).fit(data.x_train[:400], data.y_train[:400])
    explanation = tch.explain(model, stroke_image(ONE))
    dist = tch.distances_to_training(model, explanation.view.features)
    assert dist.shape == (400,)  # 2,000 rows searched, one distance per original digit
    assert dist.min() == pytest.approx(explanation.neighbours.dist[0, 0], rel=1e-4)


def test_neighbour_images_are_deskewed_like_the_training_set(default, data):
    images = tch.neighbour_images(default, data.x_train[:3])
    deskewed = default.named_steps["deskew"].transform(data.x_train[:3])
    expected = default.named_steps["blur"].transform(deskewed)
    np.testing.assert_allclose(images, np.clip(expected, 0, 1))


def test_vote_table_by_weights(default):
    found = tch.explain(default, stroke_image(SEVEN)).neighbours
    rows = tch.vote_table(found, 4, "distance")
    assert [row["rank"] for row in rows] == [1, 2, 3, 4]
    assert sum(row["share"] for row in rows) == pytest.approx(1)
    for row in rows:
        assert row["weight"] == pytest.approx(1 / row["distance"])
    shares = {}
    for row in rows:
        shares[row["label"]] = shares.get(row["label"], 0) + row["share"]
    np.testing.assert_allclose([shares.get(d, 0) for d in range(10)], found.proba[0], atol=1e-6)
    uniform = tch.vote_table(found, 5, "uniform")
    assert [row["share"] for row in uniform] == [0.2] * 5


def test_stage_images_are_framed_squares(default):
    drawing = np.asarray(stroke_image(SEVEN))
    explanation = tch.explain(default, drawing)
    stages = tch.stage_images(drawing, explanation)
    assert list(stages) == [
        "canvas",
        "ink",
        "crop",
        "stroke",
        "fit",
        "centre",
        "deskew",
        "blur",
        "model",
    ]
    for picture in stages.values():
        assert picture.shape == (140, 140) and picture.dtype == np.uint8
        assert picture[0].max() == picture[0].min() == 200  # the frame
        assert picture.min() < 60  # dark ink inside


# ------------------------------------------------------------------ KNN from scratch


def test_knn_from_scratch_by_hand():
    train = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 3.0], [5.0, 5.0]])
    labels = np.array([2, 2, 7, 7])
    queries = np.array([[0.0, 0.5], [5.0, 5.0]])
    pred, proba, dist, ind = tch.knn_from_scratch(train, labels, queries, k=3)
    np.testing.assert_array_equal(ind, [[0, 1, 2], [3, 2, 1]])
    np.testing.assert_allclose(dist[0], [0.5, np.sqrt(1.25), 2.5])
    # 1/0.5 + 1/1.118 for the 2s against 1/2.5 for the 7.
    w = np.array([2, 1 / np.sqrt(1.25), 0.4])
    assert proba[0, 2] == pytest.approx(w[:2].sum() / w.sum())
    # A neighbour at distance 0 takes the whole vote.
    assert pred[1] == 7 and proba[1, 7] == 1
    pred, proba, _, _ = tch.knn_from_scratch(train, labels, queries, k=3, weights="uniform")
    assert proba[0, 2] == pytest.approx(2 / 3) and pred[0] == 2


@pytest.mark.parametrize("preset", ["default", "baseline"])
def test_knn_from_scratch_gives_the_pipelines_labels(preset, data):
    """The numpy KNN and the scikit-learn pipeline agree on a sample of the test set."""
    model = load_artifact(preset, data=data).model
    sample = data.x_test[:300]
    features = model[:-1].transform(sample)
    labels, proba, dist, ind = tch.scratch_for_model(model, features)
    # The search in feature space: the first stage of a preset that re-ranks or measures
    # variants, else its answer.
    first = model.search_features(features, first_stage=True).labels
    np.testing.assert_array_equal(labels, first)
    if not (model.rerank or model.variants):
        np.testing.assert_array_equal(labels, model.predict(sample))
        np.testing.assert_array_equal(labels, model.search_features(features).labels)
    # And scikit-learn's own brute-force KNeighborsClassifier on the same features.
    knn = model.steps[-1][1]
    reference = KNeighborsClassifier(knn.n_neighbors, weights=knn.weights, algorithm="brute")
    reference.fit(model.training_features_, model.train_labels_)
    np.testing.assert_array_equal(labels, reference.predict(features))
    np.testing.assert_allclose(proba, reference.predict_proba(features), atol=1e-4)
    ref_dist, ref_ind = reference.kneighbors(features)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-3, atol=1e-3)
    assert np.mean(ind == ref_ind) > 0.99  # any difference is the order of exact ties


@pytest.mark.parametrize("preset", ["default", "best"])
def test_agreement_and_side_by_side(preset, data):
    model = load_artifact(preset, data=data).model
    check = tch.agreement(model, data.x_test[:100])
    assert check["n"] == 100 and check["same"] == 100
    explanation = tch.explain(model, stroke_image(ZERO))
    scratch = tch.scratch_for_model(model, explanation.view.features)
    columns, same = tch.side_by_side(scratch, explanation.candidates, 4)
    assert same and columns["from scratch"] == columns["scikit-learn"]
    assert explanation.neighbours.labels[0] == 0 and columns["from scratch"][0] == "0"
    # best re-ranks by tangent distances, default by its candidates' nearest variants:
    # the answer's distances are not the first stage's.
    reranked = not np.array_equal(explanation.neighbours.dist, explanation.candidates.dist)
    assert reranked and bool(model.rerank) == (preset == "best")
    assert bool(model.variants) == (preset == "default")


def test_neighbour_pictures(default, data):
    drawing = np.zeros((28, 28))
    drawing[5:20, 14] = 1.0
    neighbours = np.zeros((2, 28, 28))
    neighbours[1, 5:20, 14] = 1.0  # the second neighbour is the drawing itself
    first, empty, same = tch.neighbour_pictures(drawing, neighbours)
    assert first.shape == empty.shape == same.shape == (58, 28)
    assert first[30:].min() == 255  # the drawing has no difference image below it
    assert empty[30:, 14].min() == 0  # all the drawing's ink differs from a blank
    assert same[30:].min() == 255 and same[:28, 14].min() == 0


def test_turned_degrees_names_the_turned_copies():
    from dataclasses import replace

    from mnist_knn.model import PRESETS

    assert tch.turned_degrees(make_pipeline(PRESETS["best"])) == "6"
    assert tch.turned_degrees(make_pipeline(PRESETS["default"])) == ""
    both = replace(PRESETS["default"], angles=(-8.0, -4.0, 4.0, 8.0), variants=())
    assert tch.turned_degrees(make_pipeline(both)) == "4 and 8"
