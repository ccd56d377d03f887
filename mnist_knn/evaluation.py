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


# name -> (label for people, function of an Evaluation); the order is the table's.
METRICS = {
    "accuracy": ("Accuracy", lambda e: skm.accuracy_score(e.y_true, e.y_pred)),
    "precision_weighted": (
        "Precision (weighted)",
        lambda e: skm.precision_score(e.y_true, e.y_pred, average="weighted", zero_division=0),
    ),
    "recall_weighted": (
        "Recall (weighted)",
        lambda e: skm.recall_score(e.y_true, e.y_pred, average="weighted", zero_division=0),
    ),
    "f1_weighted": (
        "F1 (weighted)",
        lambda e: skm.f1_score(e.y_true, e.y_pred, average="weighted", zero_division=0),
    ),
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
