"""evaluation.py on tiny, hand-checkable arrays."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mnist_knn.evaluation import metrics as E
from mnist_knn.evaluation.metrics import Evaluation


def make_eval(y_true, y_pred, proba=None, dist=None, ind=None) -> Evaluation:
    y_true, y_pred = np.asarray(y_true, np.uint8), np.asarray(y_pred, np.uint8)
    n = len(y_true)
    if proba is None:
        proba = np.eye(10, dtype=np.float32)[y_pred]
    return Evaluation(
        y_true,
        y_pred,
        np.asarray(proba, np.float32),
        np.zeros((n, 3), np.int32) if ind is None else np.asarray(ind, np.int32),
        np.ones((n, 3), np.float32) if dist is None else np.asarray(dist, np.float32),
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
def test_metrics_table_has_macro_and_weighted_averages():
    ev = make_eval([0, 0, 1, 1], [0, 1, 1, 1])
    values = E.compute_metrics(ev)
    assert values["accuracy"] == 0.75
    # digit 0: P 1, R 1/2; digit 1: P 2/3, R 1 -> macro P 5/6, macro R 3/4
    assert values["precision_macro"] == pytest.approx(5 / 6)
    assert values["recall_macro"] == pytest.approx(3 / 4)
    assert values["f1_macro"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert values["precision_weighted"] == pytest.approx(5 / 6)


def test_class_counts_and_means():
    y = np.array([0, 2, 2, 9])
    assert E.class_counts(y).tolist() == [1, 0, 2, 0, 0, 0, 0, 0, 0, 1]
    x = np.zeros((4, 2, 2), np.uint8)
    x[1, 0, 0], x[2, 0, 0] = 255, 100
    means = E.class_means(x, y)
    assert means.shape == (10, 2, 2)
    assert means[2, 0, 0] == pytest.approx(177.5)
    assert not means[1].any()  # a digit that is absent stays zero


def test_per_class_report():
    report = E.per_class_report(np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 1, 0]))
    assert report["precision"][:3] == pytest.approx([0.5, 2 / 3, 0.0])
    assert report["recall"][:3] == pytest.approx([0.5, 1.0, 0.0])
    assert report["f1"][:3] == pytest.approx([0.5, 0.8, 0.0])
    assert report["support"].tolist() == [2, 2, 1, 0, 0, 0, 0, 0, 0, 0]


def test_confusion_and_normalisation():
    counts = E.confusion(np.array([0, 0, 0, 1]), np.array([0, 0, 1, 1]))
    assert counts[:2, :2].tolist() == [[2, 1], [0, 1]]
    assert counts.sum() == 4
    by_true = E.normalise_confusion(counts, "true")
    assert by_true[0, :2] == pytest.approx([2 / 3, 1 / 3])
    assert by_true[5].sum() == 0  # an empty row stays 0 instead of NaN
    by_pred = E.normalise_confusion(counts, "pred")
    assert by_pred[:2, 1] == pytest.approx([0.5, 0.5])
    assert E.normalise_confusion(counts, None)[0, 0] == 2.0
    with pytest.raises(ValueError, match="by must be"):
        E.normalise_confusion(counts, "rows")


def test_top_confusions():
    counts = np.zeros((10, 10), int)
    counts[4, 9], counts[9, 4], counts[7, 1], counts[3, 3] = 5, 2, 5, 100
    assert E.top_confusions(counts, 5) == [(4, 9, 5), (7, 1, 5), (9, 4, 2)]


def test_select_and_misclassified_sort_by_confidence():
    proba = np.full((5, 10), 0.0, np.float32)
    # (true, pred, confidence): 0 right .9, 1 wrong .6, 2 wrong .8, 3 wrong .6, 4 right 1.0
    y_true, y_pred = [1, 2, 3, 4, 5], [1, 7, 7, 0, 5]
    for i, (p, c) in enumerate(zip(y_pred, [0.9, 0.6, 0.8, 0.6, 1.0], strict=True)):
        proba[i, p] = c
    ev = make_eval(y_true, y_pred, proba)
    assert E.confidence(ev) == pytest.approx([0.9, 0.6, 0.8, 0.6, 1.0])
    assert E.misclassified(ev).tolist() == [2, 1, 3]  # ties keep test-set order
    assert E.misclassified(ev, most_confident_first=False).tolist() == [1, 3, 2]
    assert E.misclassified(ev, pred=7).tolist() == [2, 1]
    assert E.misclassified(ev, true=4).tolist() == [3]
    assert E.misclassified(ev, true=1).tolist() == []  # right answers are not mistakes
    assert E.select(ev, 1, 1).tolist() == [0]


def test_neighbour_vote_weights():
    ev = make_eval([3], [5], dist=[[1.0, 2.0, 4.0]], ind=[[10, 11, 12]])
    train_labels = np.zeros(20, np.uint8)
    train_labels[[10, 11, 12]] = [5, 5, 3]
    votes = E.neighbour_vote(ev, 0, train_labels, k=3)
    assert votes.index.tolist() == [10, 11, 12]
    assert votes.label.tolist() == [5, 5, 3]
    assert votes.share == pytest.approx(np.array([1, 0.5, 0.25]) / 1.75)
    assert E.neighbour_vote(ev, 0, train_labels, k=2, weights="uniform").share == pytest.approx(
        [0.5, 0.5]
    )
    exact = make_eval([3], [5], dist=[[0.0, 0.0, 4.0]], ind=[[10, 11, 12]])
    assert E.neighbour_vote(exact, 0, train_labels, k=3).share == pytest.approx([0.5, 0.5, 0])
    with pytest.raises(ValueError, match="weights"):
        E.neighbour_vote(ev, 0, train_labels, k=3, weights="gaussian")


# Two classes present; digit 0 scores [.9 .4 .6 .1] for truths [0 0 1 1].
Y_TINY = np.array([0, 0, 1, 1])
P_TINY = np.zeros((4, 10))
P_TINY[:, :2] = [[0.9, 0.1], [0.4, 0.6], [0.6, 0.4], [0.1, 0.9]]


def test_roc_curves_by_hand():
    curves = E.roc_curves(Y_TINY, P_TINY)
    assert set(curves) == {0, 1, "micro", "macro"}  # absent digits have no curve
    # digit 0: positives .9 .4 against negatives .6 .1 -> 3 of 4 pairs ordered right
    assert curves[0].area == pytest.approx(0.75)
    assert curves[1].area == pytest.approx(0.75)
    assert curves["macro"].area == pytest.approx(0.75)
    # pooled: positives .9 .9 .4 .4 against .6 .6 .1 .1 and 32 zeros: (2*36 + 2*34) / (4*36)
    assert curves["micro"].area == pytest.approx(140 / 144)
    assert curves[0].x[0] == 0 and curves[0].x[-1] == 1 and curves[0].y[-1] == 1
    assert np.all(np.diff(curves["macro"].x) > 0)


def test_roc_macro_area_matches_scikit_learn():
    rng = np.random.default_rng(0)
    y = np.arange(200) % 10
    proba = rng.dirichlet(np.ones(10), size=200)
    proba[np.arange(200), y] += 0.3
    proba /= proba.sum(axis=1, keepdims=True)
    curves = E.roc_curves(y, proba)
    assert curves["macro"].area == pytest.approx(roc_auc_score(y, proba, multi_class="ovr"))


def test_pr_curves_by_hand():
    curves = E.pr_curves(Y_TINY, P_TINY)
    # ranking .9 (hit) .6 (miss) .4 (hit) .1: AP = 1/2 * 1 + 1/2 * 2/3
    assert curves[0].area == pytest.approx(0.5 + 1 / 3)
    assert set(curves) == {0, 1, "micro"}
    assert curves[0].x.max() == 1.0  # recall reaches 1


def test_reliability_by_hand():
    # confidences 1.0 (right), 1.0 (wrong), 0.3 (right, on a bin edge), 0.55 (wrong)
    proba = np.zeros((4, 10))
    proba[0, 1] = proba[1, 2] = 1.0
    proba[2, 3], proba[2, 4] = 0.3, 0.25
    proba[3, 5], proba[3, 6] = 0.55, 0.45
    y_true = np.array([1, 7, 3, 6])
    rel = E.reliability(y_true, proba, n_bins=10)
    assert rel.count.tolist() == [0, 0, 1, 0, 0, 1, 0, 0, 0, 2]  # 0.3 falls in (0.2, 0.3]
    assert rel.accuracy[9] == 0.5 and rel.confidence[9] == 1.0
    assert rel.accuracy[2] == 1.0 and rel.confidence[2] == pytest.approx(0.3)
    assert np.isnan(rel.accuracy[0]) and np.isnan(rel.confidence[0])
    # (2 * |0.5 - 1| + 1 * |1 - 0.3| + 1 * |0 - 0.55|) / 4
    assert rel.ece == pytest.approx((1.0 + 0.7 + 0.55) / 4)
    assert rel.edges.tolist() == pytest.approx(np.linspace(0, 1, 11).tolist())


def test_perfect_calibration_has_zero_ece():
    proba = np.eye(10)[[1, 2, 3]]
    assert E.reliability(np.array([1, 2, 3]), proba).ece == 0.0
