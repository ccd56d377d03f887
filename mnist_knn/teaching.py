"""How KNN reads a drawing, step by step: the preprocessing with steps switched off, the
distances to every training digit, the vote, and a KNN written from scratch in numpy."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .features import PADDED, VARIANTS, as_images
from .model import KNNPipeline, Neighbours
from .preprocess import SIZE, SKIPPABLE, Steps, preprocess_steps

# Preprocessing steps a student can switch off (the ink extraction always runs).
PREPROCESSING = SKIPPABLE
# Feature steps of a pipeline that work on images and can be skipped for one drawing.
IMAGE_STEPS = ("deskew", "blur")


@dataclass(frozen=True)
class StepInfo:
    """One stage of the stepper: its title, what it does, and what skipping it means."""

    key: str
    short: str  # a few characters, for the stepper's thumbnails
    title: str
    does: str
    skipped: str = ""  # empty: the stage cannot be switched off


STEPS = {
    s.key: s
    for s in (
        StepInfo("canvas", "Canvas", "Raw canvas", "What you drew: a 280×280 RGBA picture."),
        StepInfo(
            "ink",
            "Ink",
            "Ink",
            "How strongly each pixel is inked, 0 to 1: the alpha channel on a transparent "
            "canvas, else the distance from the background colour (on a photo of paper: how "
            "much darker than the paper around it).",
        ),
        StepInfo(
            "crop",
            "Crop",
            "Cropped",
            "Cut to the bounding box of the ink, so where you drew stops mattering.",
            "The whole canvas is kept, margins and all.",
        ),
        StepInfo(
            "stroke",
            "Stroke",
            "Stroke width evened",
            "Measured on the digit scaled to 80 px, strokes are grown or thinned into "
            "MNIST's typical width (2-3 px once fitted into 20 px), so a fine pen and a "
            "fat brush look alike.",
            "The strokes keep the width they were drawn with.",
        ),
        StepInfo(
            "fit",
            "Fit 20×20",
            "Fitted to 20×20",
            "Scaled so the longer side is 20 px, keeping the aspect ratio (MNIST's recipe), "
            "so how big you drew stops mattering.",
            "The ink shrinks by the same factor as the whole canvas to 28×28: "
            "a small drawing stays small.",
        ),
        StepInfo(
            "centre",
            "Centre",
            "Centred by mass",
            "Pasted into 28×28 with its centre of mass in the middle, as MNIST's digits are.",
            "The digit stays where it was on the canvas.",
        ),
        StepInfo(
            "deskew",
            "Deskew",
            "Deskewed",
            "Slanted strokes are sheared upright (image moments), so the slant of your "
            "handwriting stops mattering. The training digits were deskewed the same way.",
            "The drawing goes to the model with its slant; the training digits stay deskewed.",
        ),
        StepInfo(
            "blur",
            "Blur",
            "Blurred",
            "A light Gaussian blur, so strokes one pixel apart still overlap.",
            "The drawing goes to the model unblurred; the training digits stay blurred.",
        ),
        StepInfo(
            "model",
            "Model",  # "Model's view" wrapped in its narrow column
            "What the model sees",
            "The numbers the distances are measured on.",
        ),
    )
}


def ink_pixels(image: np.ndarray) -> np.ndarray:
    """Ink strength in [0, 1] (or a uint8 digit, ink = 255) as dark-on-white uint8 pixels."""
    image = np.asarray(image)
    ink = image / 255 if np.issubdtype(image.dtype, np.integer) else image
    return np.rint(255 * (1 - np.clip(ink, 0, 1))).astype(np.uint8)


def framed(pixels: np.ndarray, size: int = 140, frame: int = 200) -> np.ndarray:
    """Grey pixels (h, w) or an RGB(A) picture as a ``size`` x ``size`` square in a grey frame.

    RGBA is composited over white first; the picture is padded white to a square
    and scaled (small ones with visible pixels). Every stepper picture then has
    the same shape and frame on screen, and the frame shows how much the digit fills.
    """
    pixels = np.asarray(pixels)
    if pixels.ndim == 3:
        rgb = pixels[..., :3].astype(np.float64)
        if pixels.shape[2] == 4:
            alpha = pixels[..., 3:4] / 255
            rgb = rgb * alpha + 255 * (1 - alpha)
        pixels = np.rint(rgb @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
    h, w = pixels.shape
    side = max(h, w)
    square = np.full((side, side), 255, dtype=np.uint8)
    top, left = (side - h) // 2, (side - w) // 2
    square[top : top + h, left : left + w] = pixels
    resample = Image.Resampling.NEAREST if side <= SIZE else Image.Resampling.LANCZOS
    out = np.asarray(Image.fromarray(square).resize((size - 2, size - 2), resample))
    return np.pad(out, 1, constant_values=frame)


def stacked(*pixels: np.ndarray, gap: int = 2) -> np.ndarray:
    """Equal-width grey pictures one above the other, ``gap`` white rows between them."""
    width = pixels[0].shape[1]
    space = np.full((gap, width), 255, dtype=np.uint8)
    parts = [part for p in pixels for part in (space, p)][1:]
    return np.vstack(parts)


# ------------------------------------------------------------------ the model's side


def image_steps(model: KNNPipeline) -> list[str]:
    """The pipeline's feature steps that change images (and so can be skipped for a drawing)."""
    return [name for name, _ in model.steps if name in IMAGE_STEPS]


@dataclass(frozen=True)
class ModelView:
    """A 28x28 digit as the model takes it in."""

    image: np.ndarray  # (28, 28) float in [0, 1], after the image steps (deskew, blur…)
    stages: dict[str, np.ndarray]  # the image after each image step (unchanged if skipped)
    features: np.ndarray  # (1, d) the vector the distances are measured on
    seen: np.ndarray  # (h, w) float: the features drawn back as a picture (PCA reconstruction)
    description: str  # what the features are, for people


def model_view(model: KNNPipeline, digit: np.ndarray, skip: Iterable[str] = ()) -> ModelView:
    """Run ``digit`` (28x28 uint8) through the model's feature steps, skipping those in ``skip``.

    Skipping "deskew" feeds the pipeline *after* its deskew step: the training
    digits stay deskewed, only the drawing is not.
    """
    X = as_images(digit)
    image, stages = X[0], {}
    for name, after in model.feature_stages(X, frozenset(skip)):
        if name == "flatten":  # the picture the model takes in: the image just before
            image = as_images(X)[0]
        if name in IMAGE_STEPS:
            stages[name] = np.clip(as_images(after)[0], 0, 1)
        X = after
    features = np.asarray(X, dtype=np.float32).reshape(1, -1)
    pca = model.named_steps.get("pca")
    edges = model.named_steps.get("edges")
    drawn = pca.inverse_transform(features) if pca is not None else features
    if edges is not None:
        seen = edges.picture(drawn)
        edge_words = (
            f"in each square of an {PADDED // edges.cell}×{PADDED // edges.cell} grid, how "
            f"strongly the outline runs in each of {edges.directions} directions (darker: a "
            "stronger edge)"
        )
        shown = f"the edges they rebuild: {edge_words}"
    else:
        seen = drawn.reshape(SIZE, SIZE)
        shown = "the image they rebuild"
    if pca is not None:
        space = "edge maps" if edges is not None else "digits"
        description = (
            f"{pca.n_components_} numbers: the digit's coordinates on the {pca.n_components_} "
            f"principal components of the training {space}, drawn back here as {shown}"
        )
    elif edges is not None:
        description = f"{features.shape[1]} numbers: {edge_words}"
    else:
        description = f"{features.shape[1]} numbers: the pixels themselves, row by row"
    return ModelView(image, stages, features, np.clip(seen, 0, 1), description)


def turned_degrees(model: KNNPipeline) -> str:
    """The turns the training digits are also searched at, in words ("6" for ±6°, "4 and
    8" for ±4° and ±8°), or "" for a model without turned copies."""
    augment = model.named_steps.get("augment")
    angles = sorted({abs(float(a)) for a in getattr(augment, "angles", ())})
    return " and ".join(f"{a:g}" for a in angles)


def variant_words(model: KNNPipeline) -> str:
    """The deformations of a model's ``variants`` in words ("turned 6° or 12° either way,
    a tenth smaller or larger, ..."), or "" for a model without them."""
    names = list(getattr(model, "variants", ()))
    turns = sorted({abs(float(n[len("turn") :])) for n in names if n.startswith("turn")})
    sizes = [n for n in ("smaller", "larger") if n in names]
    shifts = [n for n in ("up", "down", "left", "right") if n in names]
    strokes = [n for n in ("thicker", "thinner") if n in names]

    def either(words: list[str]) -> str:
        return ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0]

    parts = []
    if turns:
        parts.append(f"turned {either([f'{t:g}°' for t in turns])} either way")
    if sizes:
        parts.append(f"a tenth {either(sizes)}")
    if shifts:
        parts.append(f"a pixel {either(shifts)}")
    if strokes:
        parts.append(f"with {either(strokes)} strokes")
    return ", ".join(parts)


# Each variant (features.VARIANTS) in words, as a neighbour's caption says how it matched.
VARIANT_WORDS = {
    "turn-12": "turned 12° clockwise",
    "turn-6": "turned 6° clockwise",
    "turn+6": "turned 6° anticlockwise",
    "turn+12": "turned 12° anticlockwise",
    "smaller": "a tenth smaller",
    "larger": "a tenth larger",
    "up": "a pixel higher",
    "down": "a pixel lower",
    "left": "a pixel to the left",
    "right": "a pixel to the right",
    "thicker": "thicker strokes",
    "thinner": "thinner strokes",
}


def as_matched(
    model: KNNPipeline, images: np.ndarray, variant: np.ndarray | None
) -> tuple[np.ndarray, list[str]]:
    """Neighbours ``images`` (k, 28, 28), as :func:`neighbour_images` gives them, each
    deformed as the variant that matched it (``Neighbours.variant`` of one query: -1
    for none), and that deformation in words ("" for none)."""
    images = np.array(images, np.float32)
    words = [""] * len(images)
    if variant is None:
        return images, words
    for i, which in enumerate(np.asarray(variant)[: len(images)]):
        if which >= 0:
            name = model.variants[which]
            images[i] = np.clip(VARIANTS[name](images[i][None])[0], 0, 1)
            words[i] = VARIANT_WORDS[name]
    return images, words


def distances_to_training(model: KNNPipeline, features: np.ndarray) -> np.ndarray:
    """Euclidean distance from one input (1, d) to every training digit, shape (n_train,).

    With augmentation a digit's distance is that of its nearest copy.
    """
    X = model.training_features_
    q = np.asarray(features, dtype=X.dtype).reshape(-1)
    norms = getattr(model.steps[-1][1], "sq_norms_", None)
    if norms is None:
        norms = np.einsum("ij,ij->i", X, X)
    sq = norms.astype(np.float64) - 2 * (X @ q) + float(q.astype(np.float64) @ q)
    dist = np.sqrt(np.maximum(sq, 0))
    n = int(model.source_index_.max()) + 1
    if len(dist) == n:
        return dist
    out = np.full(n, np.inf)
    np.minimum.at(out, model.source_index_, dist)
    return out


def neighbour_images(model: KNNPipeline, train_images: np.ndarray) -> np.ndarray:
    """Training digits (n, 28, 28) after the model's image steps, as floats in [0, 1]."""
    X = as_images(train_images)
    for name, step in model.steps[:-1]:
        if name in IMAGE_STEPS:
            X = step.transform(X)
    return np.clip(X, 0, 1)


@dataclass(frozen=True)
class Explanation:
    """Everything the "How it works" page shows for one drawing and one choice of steps."""

    steps: Steps
    view: ModelView
    neighbours: Neighbours  # of the single drawing: arrays of shape (1, K)
    skipped: frozenset[str]
    # The search in feature space alone (euclidean distances): the first stage of a model
    # that re-ranks or has variants, whose nearest it then measures again; the same as
    # ``neighbours`` otherwise.
    candidates: Neighbours | None = None


def explain(
    model: KNNPipeline, drawing, skip: Iterable[str] = (), k=None, weights=None
) -> Explanation:
    """Preprocess ``drawing`` with ``skip``-ped steps, then search and vote.

    ``skip`` may name preprocessing steps (:data:`PREPROCESSING`) and the
    model's image steps (:func:`image_steps`).

    Raises
    ------
    EmptyDrawingError
        If the drawing has no ink.
    """
    skip = frozenset(skip)
    steps = preprocess_steps(drawing, skip=skip & set(PREPROCESSING))
    view = model_view(model, steps.result, skip & set(IMAGE_STEPS))
    images = np.asarray(view.image, np.float32).reshape(1, -1)  # for a re-ranking model
    neighbours = model.search_features(view.features, k=k, weights=weights, images=images)
    candidates = (
        model.search_features(view.features, k=k, weights=weights, first_stage=True)
        if model.rerank or model.variants
        else neighbours
    )
    return Explanation(steps, view, neighbours, skip, candidates)


def neighbour_pictures(drawing: np.ndarray, neighbours: np.ndarray) -> list[np.ndarray]:
    """The drawing, then each neighbour above its |drawing - neighbour| difference image.

    ``drawing`` (28, 28) and ``neighbours`` (k, 28, 28) are floats in [0, 1], as
    the model compares them; returns dark-on-white uint8 pictures (58, 28).
    """
    blank = np.zeros_like(drawing)
    pictures = [stacked(ink_pixels(drawing), ink_pixels(blank))]
    for image in neighbours:
        pictures.append(stacked(ink_pixels(image), ink_pixels(np.abs(drawing - image))))
    return pictures


def stage_images(drawing, explanation: Explanation) -> dict[str, np.ndarray]:
    """The stepper's pictures, keyed as :data:`STEPS`: the canvas as drawn, then every stage
    up to what the model sees, as framed square dark-on-white uint8 images."""
    steps, view = explanation.steps, explanation.view
    pictures = {
        "canvas": np.asarray(drawing),
        "ink": ink_pixels(steps.ink),
        "crop": ink_pixels(steps.cropped),
        "stroke": ink_pixels(steps.cropped if steps.adjusted is None else steps.adjusted),
        "fit": ink_pixels(steps.fitted),
        "centre": ink_pixels(steps.centred),
        **{name: ink_pixels(image) for name, image in view.stages.items()},
        "model": ink_pixels(view.seen),
    }
    return {key: framed(picture) for key, picture in pictures.items()}


def ablation(model: KNNPipeline, drawing, k=None, weights=None) -> list[dict]:
    """The prediction with every step, with each switchable step alone off, and with all off.

    Returns one dict per row: ``skipped`` (tuple of step keys), ``switched_off`` (their
    titles, for people), ``label`` and ``confidence`` (the winner's share of the vote).
    """
    switchable = [*PREPROCESSING, *image_steps(model)]
    rows = []
    for skip in [(), *[(s,) for s in switchable], tuple(switchable)]:
        result = explain(model, drawing, skip, k, weights).neighbours
        label = int(result.labels[0])
        rows.append(
            {
                "skipped": skip,
                "switched_off": ", ".join(STEPS[s].title for s in skip) or "nothing",
                "label": label,
                "confidence": float(result.proba[0, label]),
            }
        )
    return rows


def vote_table(neighbours: Neighbours, k: int, weights: str) -> list[dict]:
    """The ``k`` voters of one drawing: rank, training index, label, distance, weight, share."""
    dist = neighbours.dist[0, :k].astype(np.float64)
    if weights == "uniform":
        w = np.ones(k)
    else:
        with np.errstate(divide="ignore"):
            w = 1 / dist
        if np.isinf(w).any():
            w = np.isinf(w).astype(float)
    return [
        {
            "rank": i + 1,
            "index": int(neighbours.ind[0, i]),
            "label": int(neighbours.neigh_labels[0, i]),
            "distance": float(dist[i]),
            "weight": float(w[i]),
            "share": float(w[i] / w.sum()),
        }
        for i in range(k)
    ]


# ------------------------------------------------------------------ KNN from scratch


def knn_from_scratch(train_X, train_y, queries, k: int, weights: str = "distance"):
    """k-nearest-neighbours classification in plain numpy: distances, argpartition, vote.

    Returns (labels, proba, dist, ind) for each query: the predicted digit, the
    vote shares of the 10 digits, and the distances and indices of its k nearest
    training rows, nearest first.
    """
    train_X = np.asarray(train_X)
    queries = np.asarray(queries, dtype=train_X.dtype)
    # 1. Squared distance to every training row, from |q - x|² = |q|² - 2 q·x + |x|²:
    #    one matrix product instead of a Python loop over 60,000 digits.
    q_norms = np.einsum("ij,ij->i", queries, queries)  # |q|² of each query
    x_norms = np.einsum("ij,ij->i", train_X, train_X)  # |x|² of each training row
    sq = q_norms[:, None] - 2 * queries @ train_X.T + x_norms[None, :]
    sq = np.maximum(sq, 0)  # rounding can push a zero distance just below 0
    # 2. The k smallest of each row. argpartition moves them to the front without
    #    sorting the other 59,990; then only those k are sorted, nearest first.
    ind = np.argpartition(sq, k - 1, axis=1)[:, :k]
    order = np.argsort(np.take_along_axis(sq, ind, axis=1), axis=1, kind="stable")
    ind = np.take_along_axis(ind, order, axis=1)
    dist = np.sqrt(np.take_along_axis(sq, ind, axis=1))
    # 3. The vote: each neighbour adds its weight to its digit's score.
    if weights == "uniform":
        w = np.ones_like(dist, dtype=np.float64)
    else:  # "distance": closer neighbours count more, 1 / distance
        with np.errstate(divide="ignore"):
            w = 1 / dist.astype(np.float64)
        perfect = np.isinf(w)  # a neighbour at distance 0 takes the whole vote
        w = np.where(perfect.any(axis=1, keepdims=True), perfect, w)
    scores = np.zeros((len(queries), 10))
    np.add.at(scores, (np.arange(len(queries))[:, None], np.asarray(train_y)[ind]), w)
    proba = scores / scores.sum(axis=1, keepdims=True)
    # argmax takes the smallest digit on a tied vote, as scikit-learn does.
    return proba.argmax(axis=1), proba, dist, ind


def scratch_for_model(model: KNNPipeline, features: np.ndarray, k=None, weights=None):
    """Run :func:`knn_from_scratch` on the model's own training features and settings.

    ``features`` are model inputs after the feature steps (``model.features``).
    Indices are mapped back to training digits as :meth:`KNNPipeline.kneighbors` does.
    """
    knn = model.steps[-1][1]
    labels, proba, dist, rows = knn_from_scratch(
        model.training_features_,
        model.train_labels_,
        features,
        k or knn.n_neighbors,
        weights or knn.weights,
    )
    return labels, proba, dist, model.source_index_[rows]


def side_by_side(scratch, neighbours: Neighbours, k: int) -> tuple[dict, bool]:
    """The from-scratch result of one drawing beside the model's, as table columns.

    ``scratch`` is :func:`scratch_for_model`'s result; returns the columns and
    whether both found the same label and the same ``k`` neighbours.
    """
    labels, _, dist, ind = scratch
    columns = {
        name: [str(int(lab[0])), ", ".join(str(i) for i in nn[0, :3]), f"{d[0, 0]:.4f}"]
        for name, lab, nn, d in (
            ("from scratch", labels, ind, dist),
            ("scikit-learn", neighbours.labels, neighbours.ind, neighbours.dist),
        )
    }
    same = labels[0] == neighbours.labels[0] and np.array_equal(ind[0], neighbours.ind[0, :k])
    return columns, bool(same)


def agreement(model: KNNPipeline, images: np.ndarray) -> dict:
    """Classify ``images`` with the model's search in feature space (a re-ranking model's
    first stage, or one with variants before them) and with :func:`knn_from_scratch`;
    count agreements."""
    features = model.features(images)
    ours = scratch_for_model(model, features)[0]
    theirs = model.search_features(features, first_stage=True).labels
    return {
        "n": len(images),
        "same": int(np.sum(ours == theirs)),
        "scratch_labels": ours,
        "sklearn_labels": np.asarray(theirs),
    }
