"""Test-set results and the metrics computed from them (numpy / scikit-learn only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn import metrics as skm

LABELS = np.arange(10)


@dataclass(frozen=True)
class Evaluation:
    """A preset's classification of the test set, stored in models/ beside the model.

    ``neigh_ind`` / ``neigh_dist`` hold the nearest training digits of every test
    digit (more than k, so other k can be voted without searching again).
    """

    y_true: np.ndarray  # (n,) uint8
    y_pred: np.ndarray  # (n,) uint8
    proba: np.ndarray  # (n, 10) float32
    neigh_ind: np.ndarray  # (n, K) int32, indices into the training set
    neigh_dist: np.ndarray  # (n, K) float32, ascending

    @property
    def accuracy(self) -> float:
        return float(np.mean(self.y_true == self.y_pred))


def _averaged(score, average: str):
    """``score`` (precision, recall or F1) of an Evaluation's labels, averaged over digits."""
    return lambda e: score(e.y_true, e.y_pred, average=average, zero_division=0)


_AVERAGED = (("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score))
# name -> (label for people, function of an Evaluation); the order is the table's.
METRICS = {
    "accuracy": ("Accuracy", lambda e: skm.accuracy_score(e.y_true, e.y_pred)),
    **{
        f"{name}_{average}": (
            f"{'F1' if name == 'f1' else name.capitalize()} ({average})",
            _averaged(score, average),
        )
        for average in ("weighted", "macro")
        for name, score in _AVERAGED
    },
    "roc_auc_ovr_macro": (
        "ROC-AUC (one-vs-rest, macro)",
        lambda e: skm.roc_auc_score(e.y_true, e.proba, multi_class="ovr", labels=LABELS),
    ),
    "log_loss": ("Log loss", lambda e: skm.log_loss(e.y_true, e.proba, labels=LABELS)),
    "cohen_kappa": ("Cohen's kappa", lambda e: skm.cohen_kappa_score(e.y_true, e.y_pred)),
    "matthews_corrcoef": (
        "Matthews correlation",
        lambda e: skm.matthews_corrcoef(e.y_true, e.y_pred),
    ),
    "top3_accuracy": (
        "Top-3 accuracy",
        lambda e: skm.top_k_accuracy_score(e.y_true, e.proba, k=3, labels=LABELS),
    ),
}


def compute_metrics(evaluation: Evaluation) -> dict[str, float]:
    """All metrics of :data:`METRICS` for ``evaluation``, as plain floats keyed by name."""
    return {name: float(fn(evaluation)) for name, (_, fn) in METRICS.items()}


# ------------------------------------------------------------------ the dataset


def class_counts(y: np.ndarray) -> np.ndarray:
    """How many digits of each class 0..9 ``y`` holds (10,)."""
    return np.bincount(np.asarray(y, dtype=np.int64), minlength=10)[:10]


def class_means(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The mean image of each digit class, (10, 28, 28) float in [0, 255] (zeros if absent)."""
    x, y = np.asarray(x), np.asarray(y)
    means = np.zeros((10, *x.shape[1:]))
    for digit in LABELS:
        if (y == digit).any():
            means[digit] = x[y == digit].mean(axis=0, dtype=np.float64)
    return means


# ------------------------------------------------------------------ per class


def per_class_report(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F1 (floats) and support (ints) of each digit, each of shape (10,).

    A digit never predicted has precision 0 (scikit-learn's ``zero_division=0``).
    """
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=LABELS, zero_division=0
    )
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def confusion(y_true, y_pred) -> np.ndarray:
    """Counts (10, 10): row = true (drawn) digit, column = predicted (read) digit."""
    return skm.confusion_matrix(np.asarray(y_true), np.asarray(y_pred), labels=LABELS)


def normalise_confusion(counts: np.ndarray, by: str | None = None) -> np.ndarray:
    """Fractions of each row (``by="true"``) or column (``by="pred"``); counts as floats if None.

    A row or column with no digits stays 0 rather than dividing by zero.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if by is None:
        return counts
    if by not in ("true", "pred"):
        raise ValueError(f"by must be 'true', 'pred' or None, got {by!r}")
    totals = counts.sum(axis=1, keepdims=True) if by == "true" else counts.sum(axis=0)
    return counts / np.where(totals == 0, 1, totals)


def confidence(evaluation: Evaluation) -> np.ndarray:
    """The probability the model gave its own answer, for every test digit (n,)."""
    return evaluation.proba[np.arange(len(evaluation.y_pred)), evaluation.y_pred]


def select(
    evaluation: Evaluation,
    true: int | None = None,
    pred: int | None = None,
    *,
    wrong_only: bool = False,
    most_confident_first: bool = True,
) -> np.ndarray:
    """Indices of the test digits with true digit ``true`` and prediction ``pred``.

    None matches any digit. Sorted by the model's confidence in its answer
    (ties keep test-set order), most confident first unless told otherwise.
    """
    keep = np.ones(len(evaluation.y_true), dtype=bool)
    if wrong_only:
        keep &= evaluation.y_true != evaluation.y_pred
    if true is not None:
        keep &= evaluation.y_true == true
    if pred is not None:
        keep &= evaluation.y_pred == pred
    index = np.flatnonzero(keep)
    conf = confidence(evaluation)[index]
    order = np.argsort(-conf if most_confident_first else conf, kind="stable")
    return index[order]


def misclassified(
    evaluation: Evaluation,
    true: int | None = None,
    pred: int | None = None,
    most_confident_first: bool = True,
) -> np.ndarray:
    """Indices of the wrongly classified test digits, filtered and sorted as :func:`select`."""
    return select(
        evaluation, true, pred, wrong_only=True, most_confident_first=most_confident_first
    )


@dataclass(frozen=True)
class NeighbourVote:
    """The ``k`` training digits that decided one test digit, nearest first."""

    index: np.ndarray  # (k,) indices into the training set
    label: np.ndarray  # (k,) their digits
    distance: np.ndarray  # (k,)
    share: np.ndarray  # (k,) each one's share of the whole vote (sums to 1)


def neighbour_vote(
    evaluation: Evaluation, i: int, train_labels: np.ndarray, k: int, weights: str = "distance"
) -> NeighbourVote:
    """Who voted for test digit ``i``, and how much each vote weighed.

    Weighs as scikit-learn (and :func:`mnist_knn.model.vote`) do: equally for
    ``"uniform"``; 1/distance for ``"distance"``, except that neighbours at
    distance 0 share the whole vote.
    """
    index = np.asarray(evaluation.neigh_ind[i, :k])
    distance = np.asarray(evaluation.neigh_dist[i, :k], dtype=np.float64)
    if weights == "uniform":
        w = np.ones(k)
    elif weights == "distance":
        w = (distance == 0).astype(np.float64)
        if not w.any():
            w = 1.0 / distance
    else:
        raise ValueError(f"weights must be 'uniform' or 'distance', got {weights!r}")
    return NeighbourVote(index, np.asarray(train_labels)[index], distance, w / w.sum())


# ------------------------------------------------------------------ curves


@dataclass(frozen=True)
class Curve:
    """A curve to plot and the area that summarises it (AUC or average precision)."""

    x: np.ndarray
    y: np.ndarray
    area: float


def _one_hot(y_true: np.ndarray) -> np.ndarray:
    return (np.asarray(y_true)[:, None] == LABELS[None, :]).astype(np.int8)


def roc_curves(y_true: np.ndarray, proba: np.ndarray) -> dict[int | str, Curve]:
    """One-vs-rest ROC curves (x = false positive rate, y = true positive rate).

    Keys 0..9 for each digit, ``"micro"`` (every digit/score pair pooled) and
    ``"macro"`` (the digits' true positive rates averaged on a common false
    positive grid; its area is the mean of the ten AUCs, as ``roc_auc_score``'s).
    A digit absent from ``y_true`` has no curve.
    """
    onehot, proba = _one_hot(y_true), np.asarray(proba, dtype=np.float64)
    curves: dict[int | str, Curve] = {}
    for digit in LABELS:
        if onehot[:, digit].any() and not onehot[:, digit].all():
            fpr, tpr, _ = skm.roc_curve(onehot[:, digit], proba[:, digit])
            curves[int(digit)] = Curve(fpr, tpr, float(skm.auc(fpr, tpr)))
    fpr, tpr, _ = skm.roc_curve(onehot.ravel(), proba.ravel())
    curves["micro"] = Curve(fpr, tpr, float(skm.auc(fpr, tpr)))
    digits = [curves[d] for d in LABELS if d in curves]
    grid = np.unique(np.concatenate([c.x for c in digits]))
    mean_tpr = np.mean([np.interp(grid, c.x, c.y) for c in digits], axis=0)
    curves["macro"] = Curve(grid, mean_tpr, float(np.mean([c.area for c in digits])))
    return curves


def pr_curves(y_true: np.ndarray, proba: np.ndarray) -> dict[int | str, Curve]:
    """One-vs-rest precision-recall curves (x = recall, y = precision), area = average precision.

    Keys 0..9 and ``"micro"`` (every digit/score pair pooled).
    """
    onehot, proba = _one_hot(y_true), np.asarray(proba, dtype=np.float64)
    curves: dict[int | str, Curve] = {}
    for digit in LABELS:
        if onehot[:, digit].any():
            precision, recall, _ = skm.precision_recall_curve(onehot[:, digit], proba[:, digit])
            ap = skm.average_precision_score(onehot[:, digit], proba[:, digit])
            curves[int(digit)] = Curve(recall, precision, float(ap))
    precision, recall, _ = skm.precision_recall_curve(onehot.ravel(), proba.ravel())
    ap = skm.average_precision_score(onehot.ravel(), proba.ravel())
    curves["micro"] = Curve(recall, precision, float(ap))
    return curves


@dataclass(frozen=True)
class Reliability:
    """A reliability diagram of the model's confidence in its own answers.

    Bin ``b`` holds the answers with confidence in (edges[b], edges[b + 1]]
    (the first bin also takes 0). Empty bins have NaN confidence and accuracy.
    """

    edges: np.ndarray  # (n_bins + 1,)
    confidence: np.ndarray  # (n_bins,) mean confidence in the bin
    accuracy: np.ndarray  # (n_bins,) fraction of the bin's answers that are right
    count: np.ndarray  # (n_bins,)
    ece: float  # expected calibration error: sum of count/n * |accuracy - confidence|


def reliability(y_true: np.ndarray, proba: np.ndarray, n_bins: int = 10) -> Reliability:
    """Top-label calibration: for answers given with confidence c, how often are they right?

    The answer is the most probable digit and its probability is the
    confidence; the expected calibration error (ECE) is the count-weighted mean
    gap between confidence and accuracy over ``n_bins`` equal-width bins.
    """
    proba = np.asarray(proba, dtype=np.float64)
    answer, conf = proba.argmax(axis=1), proba.max(axis=1)
    right = answer == np.asarray(y_true)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.digitize(conf, edges[1:-1], right=True)
    count = np.bincount(bins, minlength=n_bins)
    safe = np.where(count == 0, 1, count)
    with np.errstate(invalid="ignore"):
        mean_conf = np.where(count > 0, np.bincount(bins, conf, n_bins) / safe, np.nan)
        accuracy = np.where(count > 0, np.bincount(bins, right, n_bins) / safe, np.nan)
    gaps = np.abs(np.nan_to_num(accuracy) - np.nan_to_num(mean_conf))
    ece = float((count * gaps).sum() / max(len(conf), 1))
    return Reliability(edges, mean_conf, accuracy, count, ece)


def top_confusions(counts: np.ndarray, n: int = 5) -> list[tuple[int, int, int]]:
    """The ``n`` most frequent mistakes as (true digit, predicted digit, count), most first.

    Off-diagonal cells only; ties keep row-major order; cells with no digits are left out.
    """
    off = np.array(counts, dtype=np.int64)
    np.fill_diagonal(off, 0)
    order = np.argsort(-off.ravel(), kind="stable")[:n]
    return [(int(c // 10), int(c % 10), int(off.flat[c])) for c in order if off.flat[c] > 0]
