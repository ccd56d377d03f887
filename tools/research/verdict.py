"""A "not sure" verdict from the (re-ranked) neighbours of a drawing, and how to tune it.

Three signals, each computed from a query's N candidates sorted by the final
distance (tangent distance after re-ranking):

- ``share``: vote share of the winning digit among the k voters;
- ``margin``: distance to the nearest training digit of the winning label,
  divided by the distance to the nearest digit of any *other* label among the
  N candidates (near 1: the drawing sits between two digits; small: clearly
  one of them). The other label is the runner-up ("looks like a 1 or a 7");
- ``near``: distance to the nearest training digit, divided by a reference
  quantile of the same distance for held-out MNIST digits (above 1: farther
  than most real digits are).

A drawing is *sure* when share >= s, margin <= m and near <= f. ``choose``
picks (s, m, f) on labelled tuning drawings: the largest sure share whose
sure-accuracy reaches the target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mnist_knn.neighbors import vote
from mnist_knn.reading import runner_up

FIELDS = ("label", "runner_up", "share", "margin", "near")


@dataclass(frozen=True)
class Signals:
    """The verdict's inputs for a batch of queries."""

    label: np.ndarray  # (n,) predicted digit
    runner_up: np.ndarray  # (n,) nearest other digit among the candidates (-1: none)
    share: np.ndarray  # (n,) vote share of the prediction
    margin: np.ndarray  # (n,) best distance of label / best distance of runner_up
    near: np.ndarray  # (n,) nearest distance / reference


def signals(
    dist: np.ndarray, labels: np.ndarray, k: int, reference: float, weights: str = "distance"
) -> Signals:
    """Signals from candidates sorted by distance: ``dist``, ``labels`` (n, N), N >= k."""
    proba = vote(dist, labels, k, weights)
    label = proba.argmax(axis=1)
    share = proba[np.arange(len(label)), label]
    # The library's own runner-up and margin, one query at a time (reading.runner_up):
    # no other label among the candidates counts as at least as clear as the last one.
    pairs = [runner_up(d, lab, int(w)) for d, lab, w in zip(dist, labels, label, strict=True)]
    runner = np.array([-1 if other is None else other for other, _ in pairs])
    margin = np.array([m for _, m in pairs])
    return Signals(label, runner, share, margin, dist[:, 0] / reference)


def sure(sig: Signals, share: float, margin: float, near: float) -> np.ndarray:
    """True where the prediction is trusted."""
    return (sig.share >= share) & (sig.margin <= margin) & (sig.near <= near)


def rates(ok: np.ndarray, is_sure: np.ndarray) -> tuple[float, float]:
    """(accuracy among sure answers, share of answers marked not sure)."""
    n_sure = int(is_sure.sum())
    acc = float(ok[is_sure].mean()) if n_sure else 1.0
    return acc, 1.0 - n_sure / len(ok)


SHARES = (0.0, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0)
MARGINS = tuple(np.round(np.arange(0.70, 1.001, 0.01), 2))
NEARS = (1.0, 1.25, 1.5, 2.0, np.inf)


def choose(
    sig: Signals, ok: np.ndarray, target: float = 0.99, max_unsure: float | None = None
) -> tuple[float, float, float]:
    """Thresholds (share, margin, near) picked on labelled tuning drawings.

    Default: the fewest not-sure answers among settings whose sure-accuracy
    reaches ``target``. With ``max_unsure``: the highest sure-accuracy among
    settings marking at most that share not sure. Ties go to the earlier
    (less strict) setting.
    """
    best, best_score = (1.0, 0.0, 0.0), -1.0
    for s in SHARES:
        for f in NEARS:
            for m in MARGINS:
                acc, unsure = rates(ok, sure(sig, s, m, f))
                if max_unsure is None:
                    score = 1 - unsure if acc >= target else -1
                else:
                    score = acc if unsure <= max_unsure else -1
                if score > best_score:
                    best, best_score = (s, float(m), f), score
    return best


LABEL_FEATURES = 10


def design(sig: Signals) -> np.ndarray:
    """Features of the learned verdict: share, margin, log near, predicted digit one-hot,
    and the runner-up's one-hot (the confusable pair matters: 1 vs 7 is riskier than 3 vs 5)."""
    onehot = np.eye(LABEL_FEATURES)[sig.label]
    runner = np.eye(LABEL_FEATURES + 1)[np.where(sig.runner_up < 0, LABEL_FEATURES, sig.runner_up)]
    return np.column_stack(
        [
            sig.share,
            sig.margin,
            np.log(np.maximum(sig.near, 1e-3)),
            onehot,
            runner[:, :LABEL_FEATURES],
        ]
    )


def fit_scorer(sig: Signals, ok: np.ndarray, c: float = 1.0):
    """A logistic regression of "the prediction is right" on :func:`design` (sklearn)."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=2000).fit(design(sig), ok)


def scorer_threshold(p: np.ndarray, max_unsure: float = 0.10) -> float:
    """The probability below which answers are not sure, marking ``max_unsure`` of them."""
    return float(np.quantile(p, max_unsure))
