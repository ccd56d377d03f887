"""Class statistics and "use them": per-digit accuracy, hardest digits, fooled, refit and CV."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from mnist_knn import PRESETS, load_artifact, load_mnist, to_mnist
from mnist_knn.charts.classroom import (
    before_after_figure,
    confusion_figure,
    per_digit_accuracy_figure,
)
from mnist_knn.classroom.analysis import (
    UseEffect,
    cross_validated_labels,
    fit_with_drawings,
    fold_of,
    fooled,
    hardest_digits,
    hardest_digits_markdown,
    per_digit_accuracy,
    use_drawings,
    use_effect_markdown,
)
from mnist_knn.classroom.store import Drawings
from mnist_knn.evaluation import confusion
from mnist_knn.synthetic import hand_drawing


def make_set(true, pred, proba=None) -> Drawings:
    n = len(true)
    proba = np.eye(10)[pred] * 0.6 + 0.04 if proba is None else np.asarray(proba)
    return Drawings(
        ids=np.arange(n),
        uids=np.array([f"u{i}" for i in range(n)]),
        created=np.full(n, np.datetime64("2025-01-01T00:00:00", "us")),
        room=np.array(["A"] * n),
        session_id=np.array(["s"] * n),
        images=np.zeros((n, 28, 28), np.uint8),
        true_labels=np.array(true, np.uint8),
        predicted=np.array(pred, np.uint8),
        proba=proba,
        preset=np.array(["default"] * n),
        k=np.full(n, 4),
        png=(b"",) * n,
    )


def test_per_digit_accuracy_confusion_and_hardest_digits():
    # 7 drawn 4x (2 read as 1), 1 drawn 2x (right), 9 drawn 3x (1 read as 4), 4 drawn once (right)
    true = [7, 7, 7, 7, 1, 1, 9, 9, 9, 4]
    pred = [7, 1, 1, 7, 1, 1, 9, 4, 9, 4]
    items = make_set(true, pred)
    accuracy, counts = per_digit_accuracy(items.true_labels, items.predicted)
    assert counts.tolist() == [0, 2, 0, 0, 1, 0, 0, 4, 0, 3]
    assert accuracy[7] == 0.5 and accuracy[1] == 1.0 and accuracy[9] == pytest.approx(2 / 3)
    assert np.isnan(accuracy[0])
    cm = confusion(true, pred)
    assert cm[7, 1] == 2 and cm[9, 4] == 1 and cm.sum() == 10
    mnist = np.linspace(0.9, 0.99, 10)
    hardest = hardest_digits(items, mnist)
    assert [(h.digit, h.count, h.correct, h.confused_with, h.confused_count) for h in hardest] == [
        (7, 4, 2, 1, 2),
        (9, 3, 2, 4, 1),
    ]
    assert hardest[0].mnist_accuracy == mnist[7]
    text = hardest_digits_markdown(hardest)
    assert "**7**: 2 of 4 read right (50%; 97% on MNIST), 2 read as 1" in text
    assert "none here" in hardest_digits_markdown([])


def test_fooled_lists_the_misread_most_confident_first():
    proba = np.full((4, 10), 0.0)
    proba[0, 3], proba[1, 5], proba[2, 8], proba[3, 2] = 0.9, 0.55, 0.99, 0.7
    items = make_set([3, 6, 0, 7], [3, 5, 8, 2], proba)
    assert fooled(items).tolist() == [2, 3, 1]


def test_figures_carry_the_numbers():
    accuracy, counts = per_digit_accuracy([1, 1, 2], [1, 7, 2])
    fig = per_digit_accuracy_figure(accuracy, counts, np.full(10, 0.97))
    mnist_bar, class_bar = fig.data
    assert class_bar.y[1] == 50 and class_bar.y[2] == 100 and np.isnan(class_bar.y[0])
    assert mnist_bar.y[0] == 97
    heat = confusion_figure(confusion([1, 1, 2], [1, 7, 2]), "t").data[0]
    assert heat.z[1][7] == 0.5 and heat.text[1][7] == "1" and heat.text[0][0] == ""
    bars = before_after_figure(0.5, 0.75, 0.98, 0.981).data
    assert [b.text for b in bars] == [("50.00%", "98.00%"), ("75.00%", "98.10%")]


def test_folds_split_every_drawing_once():
    fold = fold_of(23, 5)
    assert sorted(np.bincount(fold).tolist()) == [4, 4, 5, 5, 5]
    assert fold_of(1).tolist() == [0]


def test_a_drawing_never_votes_for_itself():
    # Random noise with random labels: whoever votes for itself (distance 0, the whole
    # vote under distance weights) scores 100%; honest cross-validation scores ~chance.
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 40).astype(np.uint8)
    data = load_mnist()
    preset = PRESETS["default"]
    model = fit_with_drawings(preset, data, images, labels)
    naive = model.search(images).labels
    assert np.mean(naive == labels) == 1.0
    after, proba = cross_validated_labels(
        model, len(data.x_train), images, fold_of(40), preset.k, preset.weights
    )
    assert np.mean(after == labels) < 0.4
    assert proba.shape == (40, 10) and np.allclose(proba.sum(axis=1), 1)


def test_cross_validation_equals_refitting_each_fold_without_learned_features():
    # The baseline preset has no fitted feature step, so striking a fold from the
    # neighbour lists must give exactly what a refit without that fold gives.
    rng = np.random.default_rng(3)
    digits = rng.integers(0, 10, 30)
    images = np.stack([to_mnist(hand_drawing(int(d), rng)) for d in digits])
    labels = digits.astype(np.uint8)
    data = load_mnist()
    preset = PRESETS["baseline"]
    fold = fold_of(30, 5)
    model = fit_with_drawings(preset, data, images, labels)
    fast, _ = cross_validated_labels(model, len(data.x_train), images, fold, preset.k, "distance")
    slow = np.empty(30, dtype=np.uint8)
    for f in range(5):
        held = fold == f
        refit = fit_with_drawings(preset, data, images[~held], labels[~held])
        slow[held] = refit.search(images[held]).labels
    np.testing.assert_array_equal(fast, slow)


def test_use_drawings_reports_before_and_after(models_dir):
    rng = np.random.default_rng(5)
    digits = np.repeat(np.arange(10), 3)
    images = np.stack([to_mnist(hand_drawing(int(d), rng)) for d in digits])
    artifact = load_artifact("default")
    data = load_mnist()
    seen = []
    model, effect = use_drawings(
        artifact.preset,
        data,
        artifact.model,
        artifact.evaluation,
        images,
        digits,
        progress=lambda f, m: seen.append(f),
    )
    before = artifact.model.search(images).labels
    assert effect.class_before == pytest.approx(np.mean(before == digits))
    assert effect.test_before == artifact.evaluation.accuracy
    assert effect.n_drawings == 30 and effect.folds == 5
    np.testing.assert_array_equal(effect.class_pred_before, before)
    assert 0 <= effect.class_after <= 1
    refit_test = np.mean(model.search(data.x_test).labels == data.y_test)
    assert effect.test_after == pytest.approx(refit_test)
    # The 30 drawings join the training set (and, with default's struck zeros, a struck
    # copy of each drawn 0, as of every training 0).
    added = len(model.train_labels_) - len(artifact.model.train_labels_)
    assert added == 30 + int(np.sum(np.asarray(digits) == 0))
    assert seen[-1] == 1.0 and seen == sorted(seen)
    with pytest.raises(ValueError, match="no drawings"):
        use_drawings(artifact.preset, data, artifact.model, artifact.evaluation, images[:0], [])


def test_use_effect_in_words():
    effect = UseEffect(
        n_drawings=4,
        folds=4,
        class_before=0.5,
        class_after=0.75,
        test_before=0.9862,
        test_after=0.9861,
        class_pred_before=np.array([1, 2, 9, 9]),
        class_pred_after=np.array([1, 9, 3, 4]),
        fit_seconds=1.0,
        seconds=2.0,
    )
    text = use_effect_markdown(effect, [1, 9, 3, 9])
    assert "**50.0% → 75.0%** (+25.0 points; 2 drawings now read right, 1 now read wrong)" in text
    assert "**98.62% → 98.61%** (-0.01 points)" in text


def test_cross_validation_memory_does_not_grow_with_the_drawings():
    # 3,000 drawings: the old search asked for k + 3,000 neighbours of each, 3,000 x 3,004
    # distances, indices and masks (~150 MB); chunked, it stays near one chunk's scores.
    rng = np.random.default_rng(5)
    n = 3000
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    data = load_mnist()
    preset = PRESETS["default"]
    model = fit_with_drawings(preset, data, images, labels)
    fold = fold_of(n)
    tracemalloc.start()
    try:
        after, _ = cross_validated_labels(
            model, len(data.x_train), images, fold, preset.k, preset.weights, chunk_bytes=1 << 23
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40 << 20, f"{peak / 2**20:.0f} MiB"
    assert after.shape == (n,) and np.mean(after == labels) < 0.3  # no drawing voted for itself


def test_use_drawings_refuses_more_than_the_cap(monkeypatch):
    from mnist_knn.classroom import analysis

    monkeypatch.setattr(analysis, "MAX_USE_DRAWINGS", 5)
    images = np.zeros((6, 28, 28), dtype=np.uint8)
    with pytest.raises(ValueError, match="6 drawings are more than the 5"):
        analysis.use_drawings(PRESETS["default"], None, None, None, images, np.zeros(6))
