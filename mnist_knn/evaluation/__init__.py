"""How good the model is: metrics on the stored test evaluation, tuning k, choosing presets,
comparing with other models, the digit map, and the benchmark.

The metrics (:mod:`.metrics`) are re-exported here; the other modules are imported by name
(``from mnist_knn.evaluation import tuning``): they build on the model, which itself needs
the metrics' :class:`Evaluation`.
"""

from .metrics import (
    LABELS,
    METRICS,
    Curve,
    Evaluation,
    NeighbourVote,
    Reliability,
    class_counts,
    class_means,
    compute_metrics,
    confidence,
    confusion,
    misclassified,
    neighbour_vote,
    normalise_confusion,
    per_class_report,
    pr_curves,
    reliability,
    roc_curves,
    select,
    top_confusions,
)

__all__ = [
    "LABELS",
    "METRICS",
    "Curve",
    "Evaluation",
    "NeighbourVote",
    "Reliability",
    "class_counts",
    "class_means",
    "compute_metrics",
    "confidence",
    "confusion",
    "misclassified",
    "neighbour_vote",
    "normalise_confusion",
    "per_class_report",
    "pr_curves",
    "reliability",
    "roc_curves",
    "select",
    "top_confusions",
]
