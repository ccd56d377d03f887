"""Classify one drawing and explain it: the vote, the neighbours that cast it, how sure it is."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .evaluation.metrics import Evaluation
from .model import K_MAX, KNNPipeline, Neighbours, vote
from .preprocess import preprocess_steps

# A drawing whose nearest training digit is farther than this quantile of the
# test digits' nearest-neighbour distances (times FAR_FACTOR) is "far from every
# training digit"; the vote is "split" when the winner holds less than
# SPLIT_SHARE of it. Chosen on re-drawn *training* digits held out from the
# model (scripts/draw_bench.py accuracy --split tune, 10,000 digits): re-drawn
# digits come as close to the training set as MNIST's own (99th percentile 4.37
# vs 4.36), so "far" flags 1% of them, "split" 2%; 2.7% in all are "not sure",
# and those are right 65% of the time against 98% for the rest. Spirals, stars
# and hatching are all "far", about half of zigzags and letters; a filled blob
# is not (in 50 principal components it looks like a fat 0).
FAR_QUANTILE = 0.99
FAR_FACTOR = 1.0
SPLIT_SHARE = 0.6


@dataclass(frozen=True)
class Reference:
    """How close real digits come to the training set: the yardstick for "far".

    ``far`` is the nearest-neighbour distance beyond which a drawing is called
    far from every training digit; ``typical`` the median one of test digits.
    """

    far: float
    typical: float
    quantile: float = FAR_QUANTILE

    @classmethod
    def from_distances(
        cls, nearest: np.ndarray, quantile: float = FAR_QUANTILE, factor: float = FAR_FACTOR
    ) -> Reference:
        """From the distances of real digits to their nearest training digit."""
        nearest = np.asarray(nearest, dtype=np.float64)
        if nearest.size == 0:
            raise ValueError("no distances to take a reference from")
        return cls(
            far=float(np.quantile(nearest, quantile) * factor),
            typical=float(np.median(nearest)),
            quantile=quantile,
        )

    @classmethod
    def from_evaluation(cls, evaluation: Evaluation, **kwargs) -> Reference:
        """From an artifact's test-set evaluation (its ``neigh_dist[:, 0]``)."""
        return cls.from_distances(np.asarray(evaluation.neigh_dist)[:, 0], **kwargs)


@dataclass(frozen=True)
class Verdict:
    """Whether to trust the prediction, with the reason in words for people."""

    sure: bool
    kind: str  # "sure", "split" or "far"
    reason: str


@dataclass(frozen=True)
class Reading:
    """Everything the Draw page shows about one drawing."""

    image: np.ndarray  # (28, 28) uint8: what the model receives
    label: int
    proba: np.ndarray  # (10,) vote shares
    k: int
    weights: str
    dist: np.ndarray  # (k,) distances of the voting neighbours, ascending
    ind: np.ndarray  # (k,) their indices in the training set
    neigh_labels: np.ndarray  # (k,) their labels
    tally: list[tuple[int, int, float]]  # (digit, neighbours, vote share), biggest share first
    verdict: Verdict


def search(model: KNNPipeline, image: np.ndarray) -> Neighbours:
    """The one neighbour search of a 28x28 image: its :data:`K_MAX` nearest training digits.

    Any ``k`` up to :data:`K_MAX` can then be voted by :func:`read` without searching again.
    """
    image = np.asarray(image)
    if image.shape != (28, 28):
        raise ValueError(f"expected one (28, 28) image, got shape {image.shape}")
    return model.search(image[None], n_neighbors=K_MAX)


def tally(neigh_labels: np.ndarray, proba: np.ndarray) -> list[tuple[int, int, float]]:
    """(digit, neighbours, vote share) of each digit that got a vote, biggest share first."""
    neigh_labels = np.asarray(neigh_labels)
    digits = sorted({int(d) for d in neigh_labels}, key=lambda d: (-proba[d], d))
    return [(d, int((neigh_labels == d).sum()), float(proba[d])) for d in digits]


def a_digit(digit: int) -> str:
    """ "a 7", "an 8": the digit with its article, as said aloud."""
    return f"{'an' if int(digit) == 8 else 'a'} {int(digit)}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def verdict(
    proba: np.ndarray,
    dist: np.ndarray,
    neigh_labels: np.ndarray,
    k: int,
    reference: Reference,
    split_share: float = SPLIT_SHARE,
) -> Verdict:
    """Sure, or not sure and why: far from every training digit, or a split vote.

    Parameters
    ----------
    proba : (10,) vote shares; dist, neigh_labels : (>= k,) the nearest neighbours.
    """
    proba, dist = np.asarray(proba), np.asarray(dist)
    label = int(np.argmax(proba))
    nearest = float(dist[0])
    if nearest > reference.far:
        return Verdict(
            False,
            "far",
            f"This drawing is far from every training digit: the nearest is at distance "
            f"{nearest:.1f}, while {reference.quantile:.0%} of MNIST's test digits have one "
            f"within {reference.far:.1f} (typically {reference.typical:.1f}). "
            "Is it a digit? Try drawing it larger, centred, in one go.",
        )
    votes = tally(np.asarray(neigh_labels)[:k], proba)
    share = float(proba[label])
    if share < split_share:
        parts = ", ".join(f"{_plural(n, 'neighbour')} say {d} ({s:.0%})" for d, n, s in votes)
        return Verdict(
            False,
            "split",
            f"The vote is split: {parts}. The drawing sits between these digits.",
        )
    n_winner = votes[0][1] if votes and votes[0][0] == label else 0
    if n_winner == k:
        reason = f"All {k} nearest training digits are {label}s." if k > 1 else ""
        reason = reason or f"The nearest training digit is {a_digit(label)}."
    else:
        reason = (
            f"{n_winner} of the {k} nearest training digits are {label}s ({share:.0%} of the vote)."
        )
    return Verdict(True, "sure", reason)


def vote_summary(reading: Reading) -> str:
    """The vote in one Markdown line, e.g. "Vote: **7** × 3 (81%), **1** × 1 (19%)."."""
    votes = ", ".join(f"**{d}** × {n} ({share:.0%})" for d, n, share in reading.tally)
    how = (
        "Closer neighbours count more (weight 1/distance). "
        if reading.weights == "distance"
        else "Each neighbour counts once. "
    )
    return f"Vote: {votes}. {how}Distances are measured in the model's feature space."


def read(
    found: Neighbours, k: int, weights: str, reference: Reference, image: np.ndarray | None = None
) -> Reading:
    """Vote the first ``k`` neighbours of one search (:func:`search`) and explain the outcome."""
    if not 1 <= k <= found.dist.shape[1]:
        raise ValueError(f"k must be between 1 and {found.dist.shape[1]}, got {k}")
    dist, ind, labels = found.dist[0], found.ind[0], found.neigh_labels[0]
    proba = vote(dist[None], labels[None], k, weights)[0]
    label = int(np.argmax(proba))
    return Reading(
        image=image if image is not None else np.zeros((28, 28), dtype=np.uint8),
        label=label,
        proba=proba,
        k=k,
        weights=weights,
        dist=dist[:k],
        ind=ind[:k],
        neigh_labels=labels[:k],
        tally=tally(labels[:k], proba),
        verdict=verdict(proba, dist, labels, k, reference),
    )


def classify(
    drawing, model: KNNPipeline, reference: Reference, k: int = 4, weights: str = "distance"
) -> Reading:
    """Any drawing or image -> :class:`Reading` (to_mnist, one search, the vote of ``k``).

    Raises
    ------
    ImageError
        If ``drawing`` is not an image; EmptyDrawingError if nothing is drawn.
    """
    image = preprocess_steps(drawing).result
    return read(search(model, image), k, weights, reference, image)
