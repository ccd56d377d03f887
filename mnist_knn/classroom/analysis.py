"""How the model does on the class's drawings, and what adding them to the training set changes."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import KFold

from ..artifacts import Progress
from ..data import Mnist
from ..evaluation.metrics import Evaluation, confusion
from ..model import KNNPipeline, Preset, make_pipeline
from ..neighbors import smallest_k, training_rows, vote
from .limits import MAX_USE_DRAWINGS
from .store import Drawings

DIGITS = np.arange(10)


def per_digit_accuracy(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """(accuracy, count) of each digit 0-9; accuracy is NaN for a digit never drawn."""
    cm = confusion(y_true, y_pred)
    counts = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.where(counts > 0, np.diag(cm) / np.maximum(counts, 1), np.nan)
    return accuracy, counts


def mnist_per_digit_accuracy(evaluation: Evaluation) -> np.ndarray:
    """Accuracy of each digit 0-9 on the MNIST test set."""
    return per_digit_accuracy(evaluation.y_true, evaluation.y_pred)[0]


@dataclass(frozen=True)
class HardDigit:
    """One digit's record on the class's drawings."""

    digit: int
    count: int
    correct: int
    accuracy: float
    mnist_accuracy: float
    confused_with: int | None  # the digit it is most often read as, when it is misread
    confused_count: int


def hardest_digits(
    items: Drawings, mnist_accuracy: np.ndarray | None = None, n: int = 3
) -> list[HardDigit]:
    """The digits the model reads worst in ``items`` (lowest accuracy, then most drawn).

    Only digits misread at least once are listed, so an all-correct class gets [].
    """
    cm = confusion(items.true_labels, items.predicted)
    mnist_accuracy = np.full(10, np.nan) if mnist_accuracy is None else mnist_accuracy
    rows = []
    for d in DIGITS:
        count, correct = int(cm[d].sum()), int(cm[d, d])
        if count == 0 or correct == count:
            continue
        wrong = cm[d].copy()
        wrong[d] = 0
        other = int(wrong.argmax())
        rows.append(
            HardDigit(
                int(d),
                count,
                correct,
                correct / count,
                float(mnist_accuracy[d]),
                other,
                int(wrong[other]),
            )
        )
    rows.sort(key=lambda r: (r.accuracy, -r.count, r.digit))
    return rows[:n]


def hardest_digits_markdown(hardest: list[HardDigit]) -> str:
    """A few lines for people about :func:`hardest_digits`' result."""
    if not hardest:
        return "**Hardest digits:** none here: the model read every drawn digit correctly."
    lines = ["**Hardest digits for the model here**", ""]
    for h in hardest:
        mnist = "" if np.isnan(h.mnist_accuracy) else f"; {h.mnist_accuracy:.0%} on MNIST"
        lines.append(
            f"- **{h.digit}**: {h.correct} of {h.count} read right ({h.accuracy:.0%}{mnist}), "
            f"{h.confused_count} read as {h.confused_with}"
        )
    return "\n".join(lines)


def use_effect_markdown(effect: UseEffect, true_labels) -> str:
    """What adding the drawings changed, in words (which drawings it fixed and broke)."""
    true_labels = np.asarray(true_labels)
    before_ok = effect.class_pred_before == true_labels
    after_ok = effect.class_pred_after == true_labels
    fixed, broken = int(np.sum(after_ok & ~before_ok)), int(np.sum(before_ok & ~after_ok))
    class_change = (effect.class_after - effect.class_before) * 100
    test_change = (effect.test_after - effect.test_before) * 100
    return (
        f"On the class's drawings: **{effect.class_before:.1%} → {effect.class_after:.1%}** "
        f"({class_change:+.1f} points; {fixed} drawing{'s' * (fixed != 1)} now read right, "
        f"{broken} now read wrong). On MNIST's test digits: **{effect.test_before:.2%} → "
        f"{effect.test_after:.2%}** ({test_change:+.2f} points)."
    )


def fooled(items: Drawings) -> np.ndarray:
    """Indices of the misread drawings, the most confidently wrong first."""
    wrong = np.flatnonzero(~items.correct)
    confidence = items.proba[wrong, items.predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")]


# ------------------------------------------------------------------ "use them"


def fit_with_drawings(preset: Preset, data: Mnist, images, labels) -> KNNPipeline:
    """The preset's pipeline fitted on the MNIST training set plus ``images``.

    The drawings come after the MNIST digits, so training rows ``>= len(data.x_train)``
    (``model.source_index_``) are drawings.
    """
    x = np.concatenate([data.x_train, np.asarray(images, dtype=np.uint8)])
    y = np.concatenate([data.y_train, np.asarray(labels, dtype=np.uint8)])
    return make_pipeline(preset).fit(x, y)


def fold_of(n: int, folds: int = 5, seed: int = 0) -> np.ndarray:
    """The cross-validation fold (0 .. folds-1) of each of ``n`` drawings (shuffled KFold)."""
    fold = np.zeros(n, dtype=np.int64)
    if n >= 2:
        splitter = KFold(n_splits=min(folds, n), shuffle=True, random_state=seed)
        for f, (_, test) in enumerate(splitter.split(np.zeros((n, 1)))):
            fold[test] = f
    return fold


def cross_validated_labels(
    model: KNNPipeline,
    n_base: int,
    images,
    fold: np.ndarray,
    k: int,
    weights: str,
    chunk_bytes: int = 1 << 26,
) -> tuple[np.ndarray, np.ndarray]:
    """Labels and probabilities of the drawings by a model trained on MNIST + the other folds.

    ``model`` was fitted on the ``n_base`` MNIST digits followed by all the drawings
    (:func:`fit_with_drawings`). A KNN's training set is its memory, so "trained
    without fold f" is the same search with fold f's drawings (and their augmented
    copies) struck from the candidates: no drawing ever votes for itself or for
    another drawing of its fold. Only the unsupervised feature steps (PCA) were
    fitted once on everything; with a few dozen drawings among 60,000 digits
    they barely move, and a preset without PCA gives exactly a per-fold refit.

    Memory is bounded by ``chunk_bytes`` whatever the number of drawings: the
    drawings are searched a chunk at a time, each against every training row with
    its own fold's rows set to infinity (not, as a plain search would need, k plus
    every drawing's row as neighbours of every drawing).
    """
    images = np.asarray(images)
    fold = np.asarray(fold)
    train = np.asarray(training_rows(model.steps[-1][1]), dtype=np.float32)
    sq_norms = np.einsum("ij,ij->i", train, train)
    source = model.source_index_
    is_drawing = source >= n_base
    row_fold = np.full(len(source), -1, dtype=np.int64)
    row_fold[is_drawing] = fold[source[is_drawing] - n_base]
    n = len(images)
    step = max(1, chunk_bytes // (5 * len(train)))  # float32 scores + a bool mask per row
    dist = np.empty((n, k), dtype=np.float32)
    rows = np.empty((n, k), dtype=np.intp)
    # A model with variants measures its nearest candidates again against them.
    want = max(k, model.candidates) if model.variants else k
    for start in range(0, n, step):
        part = slice(start, start + step)
        q = np.asarray(model.features(images[part]), dtype=np.float32)
        scores = np.matmul(q * np.float32(-2), train.T)
        scores += sq_norms
        scores[row_fold[None, :] == fold[part, None]] = np.inf
        cand = smallest_k(scores, want)
        del scores
        diff = train[cand] - q[:, None, :]
        d = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
        order = np.argsort(d, axis=1, kind="stable")
        d, cand = np.take_along_axis(d, order, axis=1), np.take_along_axis(cand, order, axis=1)
        if model.variants:
            d, cand, _ = model.nearest_variants(q, d, cand, k)
        dist[part], rows[part] = d[:, :k], cand[:, :k]
    proba = vote(dist, model.train_labels_[rows], k, weights)
    return proba.argmax(axis=1).astype(np.uint8), proba


@dataclass(frozen=True)
class UseEffect:
    """Accuracy before / after adding the class's drawings to the training set."""

    n_drawings: int
    folds: int
    class_before: float  # the plain model on the drawings
    class_after: float  # cross-validated: MNIST + the other folds' drawings
    test_before: float  # the plain model on the MNIST test set
    test_after: float  # the model with every drawing added, on the MNIST test set
    class_pred_before: np.ndarray
    class_pred_after: np.ndarray
    fit_seconds: float
    seconds: float


def use_drawings(
    preset: Preset,
    data: Mnist,
    plain_model: KNNPipeline,
    evaluation: Evaluation,
    images,
    labels,
    folds: int = 5,
    progress: Progress | None = None,
    batch: int = 1000,
) -> tuple[KNNPipeline, UseEffect]:
    """Refit ``preset`` with the class's drawings added and measure what it changes.

    Returns the refitted model (MNIST train + every drawing) and the before / after
    accuracies: on the drawings by ``folds``-fold cross-validation (see
    :func:`cross_validated_labels`), on the MNIST test set directly ("before" is the
    stored ``evaluation``).
    """
    progress = progress or (lambda fraction, message: None)
    images = np.asarray(images, dtype=np.uint8)
    labels = np.asarray(labels, dtype=np.uint8)
    if len(images) == 0:
        raise ValueError("there are no drawings to add")
    if len(images) > MAX_USE_DRAWINGS:
        raise ValueError(
            f"{len(images):,} drawings are more than the {MAX_USE_DRAWINGS:,} that can be "
            "added to the training set at once; choose one room"
        )
    start = time.perf_counter()
    k, weights = preset.k, preset.weights
    before = plain_model.search(images, k=k).labels
    progress(
        0.02, f"fitting {preset.name} on {len(data.x_train):,} digits + {len(images)} drawings"
    )
    model = fit_with_drawings(preset, data, images, labels)
    fit_seconds = time.perf_counter() - start
    fold = fold_of(len(images), folds)
    progress(0.5, f"classifying the drawings, {fold.max() + 1}-fold cross-validated")
    after, _ = cross_validated_labels(model, len(data.x_train), images, fold, k, weights)
    n_test = len(data.x_test)
    test_pred = np.empty(n_test, dtype=np.uint8)
    for i in range(0, n_test, batch):
        progress(
            0.55 + 0.45 * i / n_test,
            f"classifying MNIST test digits {i:,}-{min(i + batch, n_test):,}",
        )
        test_pred[i : i + batch] = model.search(data.x_test[i : i + batch], n_neighbors=k).labels
    effect = UseEffect(
        n_drawings=len(images),
        folds=int(fold.max() + 1),
        class_before=float(np.mean(before == labels)),
        class_after=float(np.mean(after == labels)),
        test_before=evaluation.accuracy,
        test_after=float(np.mean(test_pred == data.y_test)),
        class_pred_before=before,
        class_pred_after=after,
        fit_seconds=fit_seconds,
        seconds=time.perf_counter() - start,
    )
    progress(1.0, f"class drawings {effect.class_before:.0%} -> {effect.class_after:.0%}")
    return model, effect


__all__ = [
    "HardDigit",
    "UseEffect",
    "confusion",
    "cross_validated_labels",
    "fit_with_drawings",
    "fold_of",
    "fooled",
    "hardest_digits",
    "hardest_digits_markdown",
    "mnist_per_digit_accuracy",
    "per_digit_accuracy",
    "use_drawings",
    "use_effect_markdown",
]
