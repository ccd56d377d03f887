"""Classify one drawing and explain it: the vote, the neighbours that cast it, how sure it is."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .evaluation.metrics import Evaluation
from .model import K_MAX, KNNPipeline, Neighbours, vote
from .preprocess import preprocess_steps

# The verdict. A drawing is *sure* when three signals agree (tools/research/verdict.py,
# docs/real-drawings.md "F. The verdict" and "2026-12-07"):
# - near: its nearest training digit is within the FAR_QUANTILE of the distances at
#   which training digits find their nearest other one (``trained.training_nearest``;
#   "far" otherwise);
# - share: the winner holds at least SURE_SHARE of the vote ("split" otherwise);
# - margin (where the model measures tangent distances: re-ranking, or
#   ``Preset.tangent_margin``): by tangent distance, the nearest training digit of the
#   winning label is closer than MARGIN times the nearest one of any other label among
#   the neighbours ("close": it looks like a 1 *or* a 7).
# SURE_SHARE and MARGIN were chosen on the UNIPEN dev writers of four institutions
# (apb, art, ibm, tos), the most right answers among settings marking at most 8% of
# them not sure, and checked on the three others (app, imp, uqb): for the default
# preset, sure answers 99.1% right with 9.4% not sure there, against 95.5% right with
# 5.2% not sure for the old rule (share < 0.6 or far). On MNIST's test set: see
# docs/benchmarks.md. Spirals, stars and hatching are all far, about half of zigzags
# and letters.
FAR_QUANTILE = 0.99
FAR_FACTOR = 1.0
# A drawing whose strokes are wider than this, in pixels of MNIST's 20 px box, before
# to_mnist evens them, is a dot or a blot, not a digit: 99.9% of MNIST's training
# digits have strokes up to 6.5 px (median 2.3); a single tap measures 7.1, and
# scaled up to 20 px it looks like a fat 0 to every distance.
BLOT_STROKE = 6.5
SURE_SHARE = 0.8
MARGIN = 0.8

# What helps when the model hesitates between two digits, said to the person drawing.
ADVICE = {
    frozenset({1, 7}): "A 1 reads best as one straight stroke, without a flag or a base; "
    "give a 7 a long, flat top.",
    frozenset({1, 4}): "A 1 reads best as one straight stroke; give a 4 its crossbar.",
    frozenset({1, 2}): "A 1 reads best without a base bar; give a 2 a curved top.",
    frozenset({0, 4}): "Draw the 0 as a plain oval, without a slash through it.",
    frozenset({0, 6}): "Close the 0 at the top; give a 6 a small loop at the bottom.",
    frozenset({0, 8}): "Draw the 0 as one open oval; an 8 needs its waist.",
    frozenset({4, 9}): "Leave the top of a 4 open; close the loop of a 9 at the top.",
    frozenset({3, 5}): "Give a 5 its flat top bar and a 3 two round bumps.",
    frozenset({3, 8}): "Leave the left side of a 3 open; close both loops of an 8.",
    frozenset({3, 9}): "Close the loop of a 9 and finish its tail straight down.",
    frozenset({5, 6}): "Close the bottom loop of a 6; leave a 5's belly open on the left.",
    frozenset({2, 7}): "Give a 2 its flat bottom stroke; a 7 ends with a straight stroke down.",
    frozenset({7, 9}): "Close the loop of a 9; a 7 has a flat top.",
}
ADVICE_FAR = "Is it a digit? Draw it larger, in the middle of the box, in one go."
ADVICE_ANY = "Draw it bigger, in the middle of the box, in the way it is printed in books."


def advice(label: int, runner_up: int | None) -> str:
    """What helps a reader tell ``label`` from ``runner_up``, in one sentence for pupils."""
    if runner_up is None:
        return ADVICE_ANY
    return ADVICE.get(frozenset({int(label), int(runner_up)}), ADVICE_ANY)


@dataclass(frozen=True)
class Reference:
    """The yardsticks of the verdict: how close real digits come to the training set.

    ``far`` is the nearest-neighbour distance beyond which a drawing is called
    far from every training digit; ``typical`` the median one of the digits measured
    (``measured_on``);
    ``margin`` the ratio (nearest of the winning digit / nearest of any other) above
    which the drawing is a close call, or None where it is not used.
    """

    far: float
    typical: float
    quantile: float = FAR_QUANTILE
    margin: float | None = None
    measured_on: str = "MNIST's test digits"  # whose distances set far and typical

    @classmethod
    def from_distances(
        cls,
        nearest: np.ndarray,
        quantile: float = FAR_QUANTILE,
        factor: float = FAR_FACTOR,
        margin: float | None = None,
        measured_on: str = "MNIST's test digits",
    ) -> Reference:
        """From the distances of real digits to their nearest training digit."""
        nearest = np.asarray(nearest, dtype=np.float64)
        if nearest.size == 0:
            raise ValueError("no distances to take a reference from")
        return cls(
            far=float(np.quantile(nearest, quantile) * factor),
            typical=float(np.median(nearest)),
            quantile=quantile,
            margin=margin,
            measured_on=measured_on,
        )

    @classmethod
    def from_evaluation(cls, evaluation: Evaluation, **kwargs) -> Reference:
        """From an artifact's test-set evaluation (its ``neigh_dist[:, 0]``)."""
        return cls.from_distances(np.asarray(evaluation.neigh_dist)[:, 0], **kwargs)

    @classmethod
    def from_artifact(cls, artifact) -> Reference:
        """The verdict's yardsticks for a trained preset (``trained.Artifact``): how near its
        training digits come to each other (``training_nearest``: the test set only
        reports), and the close-call margin where tangent distances are measured."""
        preset = artifact.preset
        margin = MARGIN if preset.rerank or preset.tangent_margin else None
        return cls.from_distances(
            artifact.training_nearest,
            margin=margin,
            measured_on="MNIST's training digits (each against the others)",
        )


@dataclass(frozen=True)
class Verdict:
    """Whether to trust the prediction, with the reason and what helps, in words for people."""

    sure: bool
    kind: str  # "sure", "blot", "far", "split" or "close"
    reason: str
    runner_up: int | None = None  # the other digit it might be (not sure), if any
    advice: str = ""  # what helps it read the drawing (not sure)


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
    return model.search(image[None], n_neighbors=K_MAX, tangent=True)


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


def runner_up(dist: np.ndarray, neigh_labels: np.ndarray, label: int) -> tuple[int | None, float]:
    """The nearest other digit among the neighbours, and the margin: the distance of the
    nearest ``label`` over the distance of that other digit (near 1: a close call).

    With no other digit among them, (None, nearest ``label`` / farthest neighbour).
    ``dist`` need not be sorted (tangent distances of neighbours found by another).
    """
    dist, neigh_labels = np.asarray(dist, dtype=np.float64), np.asarray(neigh_labels)
    own, other = dist[neigh_labels == label], dist[neigh_labels != label]
    d_own = float(own.min()) if own.size else float(dist.max())
    if other.size:
        d_other = float(other.min())
        digit = int(neigh_labels[neigh_labels != label][np.argmin(other)])
    else:
        d_other, digit = float(dist.max()), None
    return digit, (d_own / d_other if d_other > 0 else 1.0)


def verdict(
    proba: np.ndarray,
    dist: np.ndarray,
    neigh_labels: np.ndarray,
    k: int,
    reference: Reference,
    sure_share: float = SURE_SHARE,
    stroke: float | None = None,
    tangent: np.ndarray | None = None,
) -> Verdict:
    """Sure, or not sure and why: a dot rather than a line, far from every training
    digit, a split vote, or a close call between two digits.

    Parameters
    ----------
    proba : (10,) vote shares; dist, neigh_labels : (>= k,) the nearest neighbours,
        ascending (all that were searched: the margin looks past the k voters).
    stroke : the drawing's stroke width as drawn (``preprocess.Steps.stroke``), if known.
    tangent : (>= k,) the same neighbours' tangent distances (``Neighbours.tangent``), if
        measured: the close-call margin compares those, the surer yardstick.
    """
    proba, dist = np.asarray(proba), np.asarray(dist)
    label = int(np.argmax(proba))
    if stroke is not None and stroke > BLOT_STROKE:
        return Verdict(
            False,
            "blot",
            f"This is a dot or a blot rather than a line: its strokes are {stroke:.1f} px "
            f"wide once it is scaled to MNIST's 20 px, where digits' strokes are 2-3 px.",
            None,
            "Draw the digit bigger, with a line rather than a tap; a smaller brush helps.",
        )
    other, margin = runner_up(dist if tangent is None else tangent, neigh_labels, label)
    nearest = float(dist[0])
    if nearest > reference.far:
        return Verdict(
            False,
            "far",
            f"This drawing is far from every training digit: the nearest is at distance "
            f"{nearest:.1f}, while {reference.quantile:.0%} of {reference.measured_on} have one "
            f"within {reference.far:.1f} (typically {reference.typical:.1f}).",
            other,
            ADVICE_FAR,
        )
    votes = tally(np.asarray(neigh_labels)[:k], proba)
    share = float(proba[label])
    if share < sure_share:
        parts = ", ".join(f"{_plural(n, 'neighbour')} say {d} ({s:.0%})" for d, n, s in votes)
        second = next((d for d, _, _ in votes if d != label), other)
        looks = (
            f" It looks like {a_digit(label)} or {a_digit(second)}." if second is not None else ""
        )
        return Verdict(
            False,
            "split",
            f"The vote is split: {parts}.{looks}",
            second,
            advice(label, second),
        )
    if reference.margin is not None and other is not None and margin > reference.margin:
        return Verdict(
            False,
            "close",
            f"It looks like {a_digit(label)} or {a_digit(other)}: the nearest {label} is only "
            f"a little closer than the nearest {other} ({margin:.0%} of its distance).",
            other,
            advice(label, other),
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
    found: Neighbours,
    k: int,
    weights: str,
    reference: Reference,
    image: np.ndarray | None = None,
    stroke: float | None = None,
) -> Reading:
    """Vote the first ``k`` neighbours of one search (:func:`search`) and explain the outcome.

    ``stroke``: the drawing's stroke width as drawn (``preprocess.Steps.stroke``), which
    tells a dot or a blot from a digit.
    """
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
        verdict=verdict(
            proba,
            dist,
            labels,
            k,
            reference,
            stroke=stroke,
            tangent=None if found.tangent is None else found.tangent[0],
        ),
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
    steps = preprocess_steps(drawing)
    return read(search(model, steps.result), k, weights, reference, steps.result, steps.stroke)
