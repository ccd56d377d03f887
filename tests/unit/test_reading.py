"""Classifying one drawing: the vote, the neighbours, the confidence verdict, the chart."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from mnist_knn import load_artifact
from mnist_knn import reading as rd
from mnist_knn.charts import evaluation as charts
from mnist_knn.model import K_MAX, Neighbours
from mnist_knn.preprocess import EmptyDrawingError
from mnist_knn.synthetic import ONE, SEVEN, ZERO, stroke_image

REFERENCE = rd.Reference(far=5.0, typical=2.5, quantile=0.99)


def found(dist, labels):
    """A one-drawing search result with hand-made neighbours (what rd.search returns)."""
    dist, labels = np.asarray([dist], dtype=float), np.asarray([labels])
    ind = np.arange(dist.shape[1])[None]
    return Neighbours(labels[:, 0], np.zeros((1, 10)), dist, ind, labels)


@pytest.fixture(scope="module")
def artifact():
    return load_artifact()  # the conftest's 3,000-digit subset


# ------------------------------------------------------------------ reference


def test_reference_from_distances_takes_the_quantile_and_the_median():
    ref = rd.Reference.from_distances(np.arange(1, 101), quantile=0.9)
    assert ref.far == pytest.approx(90.1)
    assert ref.typical == pytest.approx(50.5)
    assert ref.quantile == 0.9


def test_reference_from_an_evaluation_uses_the_nearest_distances(artifact):
    ref = rd.Reference.from_evaluation(artifact.evaluation)
    nearest = artifact.evaluation.neigh_dist[:, 0]
    assert ref.far == pytest.approx(np.quantile(nearest, rd.FAR_QUANTILE))
    assert nearest.min() < ref.typical < ref.far <= nearest.max()
    with pytest.raises(ValueError):
        rd.Reference.from_distances([])


def test_reference_from_an_artifact_is_measured_on_training_digits_not_the_test_set(artifact):
    ref = rd.Reference.from_artifact(artifact)
    nearest = artifact.training_nearest
    assert nearest.shape == (3000,)  # every digit of the conftest's 3,000 training digits
    assert ref.far == pytest.approx(np.quantile(nearest, rd.FAR_QUANTILE))
    assert ref.typical == pytest.approx(np.median(nearest))
    assert ref.measured_on == "MNIST's training digits (each against the others)"
    # Left out: each digit's own row (distance 0); what is left is about as near as test
    # digits come to the training set.
    assert nearest.min() > 0
    test_far = rd.Reference.from_evaluation(artifact.evaluation).far
    assert 0.8 * test_far < ref.far < 1.25 * test_far


def test_reference_from_an_artifact_uses_the_margin_only_with_tangent_distances(artifact):
    ref = rd.Reference.from_artifact(artifact)
    assert artifact.preset.tangent_margin and ref.margin == rd.MARGIN
    plain = replace(artifact, preset=replace(artifact.preset, tangent_margin=False))
    assert rd.Reference.from_artifact(plain).margin is None


def test_the_close_call_margin_compares_tangent_distances_when_given():
    # By feature distance the 7s are clearly nearer; by tangent distance a 1 is as near.
    dist, labels = [1.0, 1.1, 1.2, 1.3, 3.0], [7, 7, 7, 7, 1]
    reference = replace(REFERENCE, margin=rd.MARGIN)
    clear = rd.read(found(dist, labels), 4, "distance", reference)
    assert clear.verdict.sure
    close = found(dist, labels)
    close = replace(close, tangent=np.array([[2.0, 2.2, 2.1, 2.4, 2.1]]))
    verdict = rd.read(close, 4, "distance", reference).verdict
    assert not verdict.sure and verdict.kind == "close" and verdict.runner_up == 1
    assert (
        "It looks like a 7 or a 1" in verdict.reason and "(95% of its distance)" in verdict.reason
    )


# ------------------------------------------------------------------ read: vote, tally, verdict


def test_a_unanimous_vote_is_sure():
    reading = rd.read(found([1, 2, 3, 4, 5], [7, 7, 7, 7, 1]), 4, "distance", REFERENCE)
    assert reading.label == 7 and reading.proba[7] == pytest.approx(1.0)
    assert reading.tally == [(7, 4, pytest.approx(1.0))]
    assert reading.verdict.sure and reading.verdict.kind == "sure"
    assert reading.verdict.reason == "All 4 nearest training digits are 7s."
    assert list(reading.neigh_labels) == [7, 7, 7, 7] and list(reading.dist) == [1, 2, 3, 4]


def test_changing_k_re_votes_the_same_neighbours():
    neighbours = found([1, 1.1, 1.2, 1.3, 1.4], [7, 1, 1, 1, 7])
    assert rd.read(neighbours, 1, "distance", REFERENCE).label == 7
    three = rd.read(neighbours, 3, "distance", REFERENCE)
    assert three.label == 1 and three.k == 3 and len(three.ind) == 3
    assert [(d, n) for d, n, _ in three.tally] == [(1, 2), (7, 1)]
    # 1 holds (1/1.1 + 1/1.2) / (1 + 1/1.1 + 1/1.2) = 64% of the vote: under SURE_SHARE.
    assert three.proba[1] == pytest.approx(0.6353, abs=1e-4)
    assert not three.verdict.sure and three.verdict.kind == "split"
    assert three.verdict.runner_up == 7
    assert "It looks like a 1 or a 7." in three.verdict.reason
    assert three.verdict.advice == rd.ADVICE[frozenset({1, 7})]
    five = found([1, 1.1, 1.2, 1.3, 1.4, 9], [1, 1, 1, 1, 7, 7])
    four = rd.read(five, 4, "distance", REFERENCE)
    assert four.verdict.sure and four.verdict.runner_up is None and four.verdict.advice == ""


def test_most_but_not_all_neighbours_agreeing_is_sure_above_the_share():
    reading = rd.read(found([1, 1.1, 1.2, 9, 9.5], [1, 1, 1, 7, 7]), 4, "distance", REFERENCE)
    assert reading.proba[1] > rd.SURE_SHARE
    assert reading.verdict.sure
    assert reading.verdict.reason == (
        f"3 of the 4 nearest training digits are 1s ({reading.proba[1]:.0%} of the vote)."
    )


def test_a_close_call_names_both_digits_where_the_margin_is_used():
    # Unanimous voters, but the nearest 1 (1.0) is nearly as close as the nearest 7 (0.9).
    neighbours = found([0.9, 0.95, 0.97, 0.98, 1.0], [7, 7, 7, 7, 1])
    with_margin = rd.Reference(far=5.0, typical=2.5, margin=rd.MARGIN)
    reading = rd.read(neighbours, 4, "distance", with_margin)
    assert reading.label == 7 and reading.proba[7] == pytest.approx(1.0)
    assert not reading.verdict.sure and reading.verdict.kind == "close"
    assert reading.verdict.runner_up == 1
    assert reading.verdict.reason == (
        "It looks like a 7 or a 1: the nearest 7 is only a little closer than the nearest 1 "
        "(90% of its distance)."
    )
    assert "without a flag" in reading.verdict.advice
    # Without a margin (a model whose distances are not re-ranked) it is sure ...
    assert rd.read(neighbours, 4, "distance", REFERENCE).verdict.sure
    # ... and with a clear margin (0.9 / 2.0 = 45%) too.
    clear = found([0.9, 0.95, 0.97, 0.98, 2.0], [7, 7, 7, 7, 1])
    assert rd.read(clear, 4, "distance", with_margin).verdict.sure


def test_runner_up_and_margin():
    assert rd.runner_up([1, 2, 4], [3, 3, 5], 3) == (5, 0.25)
    assert rd.runner_up([2, 3, 4], [5, 3, 3], 3) == (5, 1.5)  # the winner is not nearest
    assert rd.runner_up([1, 2, 4], [3, 3, 3], 3) == (None, 0.25)


def test_advice_names_the_pair_or_says_something_general():
    assert rd.advice(9, 4) == rd.advice(4, 9) == rd.ADVICE[frozenset({4, 9})]
    assert rd.advice(2, 5) == rd.ADVICE_ANY
    assert rd.advice(3, None) == rd.ADVICE_ANY


def test_uniform_and_distance_weights_can_disagree():
    neighbours = found([0.5, 3, 3, 4], [2, 8, 8, 2])
    # Distance weights: 2 gets 1/0.5 + 1/4 = 2.25, 8 gets 2/3.
    assert rd.read(neighbours, 3, "distance", REFERENCE).label == 2
    assert rd.read(neighbours, 3, "uniform", REFERENCE).label == 8


def test_a_split_vote_is_not_sure_and_says_who_voted_what():
    reading = rd.read(found([1, 1, 1, 1], [4, 9, 4, 9]), 4, "uniform", REFERENCE)
    assert not reading.verdict.sure and reading.verdict.kind == "split"
    assert reading.verdict.reason == (
        "The vote is split: 2 neighbours say 4 (50%), 2 neighbours say 9 (50%). "
        "It looks like a 4 or a 9."
    )
    assert reading.verdict.runner_up == 9 and "loop of a 9" in reading.verdict.advice


def test_a_drawing_far_from_every_training_digit_is_not_sure():
    reading = rd.read(found([6.0, 6.1, 6.2, 6.3], [3, 3, 3, 3]), 4, "distance", REFERENCE)
    assert reading.label == 3
    assert not reading.verdict.sure and reading.verdict.kind == "far"
    assert "far from every training digit" in reading.verdict.reason
    assert "distance 6.0" in reading.verdict.reason and "within 5.0" in reading.verdict.reason
    assert reading.verdict.advice == rd.ADVICE_FAR


def test_vote_summary_lists_the_tally_and_the_weighting():
    neighbours = found([1, 1, 1, 1], [4, 9, 4, 4])
    uniform = rd.read(neighbours, 4, "uniform", REFERENCE)
    assert rd.vote_summary(uniform) == (
        "Vote: **4** × 3 (75%), **9** × 1 (25%). Each neighbour counts once. "
        "Distances are measured in the model's feature space."
    )
    distance = rd.read(neighbours, 4, "distance", REFERENCE)
    assert "Closer neighbours count more (weight 1/distance)." in rd.vote_summary(distance)


def test_read_refuses_a_k_beyond_the_search():
    with pytest.raises(ValueError, match="k must be between 1 and 4"):
        rd.read(found([1, 2, 3, 4], [1, 1, 1, 1]), 5, "distance", REFERENCE)


# ------------------------------------------------------------------ with the real (small) model


def test_search_returns_k_max_neighbours_in_order(artifact):
    image = np.zeros((28, 28), dtype=np.uint8)
    image[4:24, 13:15] = 255
    result = rd.search(artifact.model, image)
    assert result.dist.shape == result.ind.shape == (1, K_MAX)
    assert (np.diff(result.dist[0]) >= 0).all()
    np.testing.assert_array_equal(result.neigh_labels, artifact.model.train_labels_[result.ind])
    with pytest.raises(ValueError, match="28, 28"):
        rd.search(artifact.model, np.zeros((28, 27)))


@pytest.mark.parametrize(
    ("points", "digit"), [(ONE, 1), (ZERO, 0), (SEVEN, 7)], ids=["one", "zero", "seven"]
)
def test_classify_canvas_strokes(artifact, points, digit):
    reference = rd.Reference.from_evaluation(artifact.evaluation)
    reading = rd.classify(stroke_image(points, width=23), artifact.model, reference, k=4)
    assert reading.label == digit
    assert reading.image.shape == (28, 28) and reading.image.dtype == np.uint8
    assert len(reading.ind) == 4 and (reading.neigh_labels == digit).sum() >= 3
    assert reading.proba.sum() == pytest.approx(1.0)
    assert reading.verdict.sure, reading.verdict.reason


def test_classify_a_blank_canvas_is_an_empty_drawing(artifact):
    reference = rd.Reference.from_evaluation(artifact.evaluation)
    with pytest.raises(EmptyDrawingError):
        rd.classify(Image.new("RGBA", (280, 280), "white"), artifact.model, reference)


def test_a_scribble_is_not_sure(artifact):
    reference = rd.Reference.from_evaluation(artifact.evaluation)
    x = np.linspace(0, 1, 100)  # a wavy line across the box
    wave = [(0.1 + 0.8 * a, 0.5 + 0.3 * np.sin(6 * np.pi * a)) for a in x]
    reading = rd.classify(stroke_image(wave, width=12), artifact.model, reference)
    assert not reading.verdict.sure
    assert reading.verdict.kind == "far"


# ------------------------------------------------------------------ chart


def test_probability_bars_has_ten_bars_and_highlights_the_prediction():
    proba = np.zeros(10)
    proba[[3, 5]] = [0.75, 0.25]
    fig = charts.probability_bars(proba)
    bar = fig.data[0]
    assert list(bar.x) == [str(d) for d in range(10)]
    assert list(bar.y) == list(proba)
    assert bar.marker.color[3] == charts.HIGHLIGHT
    assert {bar.marker.color[d] for d in range(10) if d != 3} == {charts.MUTED}
    assert bar.text[3] == "75%" and bar.text[0] == ""
    assert fig.layout.yaxis.range == (0, 1.12)


def test_probability_bars_refuses_the_wrong_length():
    with pytest.raises(ValueError, match="10 probabilities"):
        charts.probability_bars([0.5, 0.5])


def test_a_digit_takes_an_before_eight():
    assert [rd.a_digit(d) for d in (0, 7, 8)] == ["a 0", "a 7", "an 8"]
