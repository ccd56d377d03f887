"""Choosing k by cross-validation on the training set, and its models/ artifact.

The test set is never used here: every accuracy comes from stratified folds of
the *training* digits. Each fold fits the preset's feature pipeline on its
training part and searches the ``K_MAX`` nearest neighbours of its held-out
part once; every k and both weightings are then voted from that one search.

Kept apart from :mod:`mnist_knn.evaluation` (which :mod:`mnist_knn.model`
imports) because it needs the model's pipeline and vote.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

from ..artifacts import ArtifactError, Progress, Recipe, load_or_build, models_dir
from ..data import Mnist, load_mnist
from ..features import StatelessTransformer
from ..model import K_MAX, Preset, get_preset, make_pipeline, vote
from .metrics import Evaluation

WEIGHTS = ("uniform", "distance")
# Everything that shapes the result besides the preset and the data; a change makes old files stale.
CV_CONFIG = {"n_splits": 10, "shuffle": True, "random_state": 0, "k_max": K_MAX, "format": 1}
# Rows of the held-out part searched at once (bounds memory, paces the progress bar).
SEARCH_BATCH = 2000


@dataclass(frozen=True)
class Tuning:
    """Cross-validated accuracy of every k (1..K_MAX) and weighting for one preset.

    ``fold_accuracy[f, w, k - 1]`` is the accuracy on held-out fold ``f`` of the
    ``k`` nearest neighbours voting with ``weights[w]``.
    """

    preset: Preset
    ks: np.ndarray  # (K,) 1..K_MAX
    weights: tuple[str, ...]  # ("uniform", "distance")
    fold_accuracy: np.ndarray  # (n_splits, len(weights), K)
    meta: dict

    @property
    def key(self) -> tuple[str, str]:
        """(preset, build time): what caches know it by, instead of its arrays."""
        return self.preset.name, str(self.meta.get("built", ""))

    @property
    def mean(self) -> np.ndarray:
        """(len(weights), K) mean accuracy over the folds."""
        return self.fold_accuracy.mean(axis=0)

    @property
    def std(self) -> np.ndarray:
        """(len(weights), K) standard deviation over the folds."""
        return self.fold_accuracy.std(axis=0)

    def best(self) -> tuple[int, str, float]:
        """The (k, weights, mean accuracy) with the highest mean; ties go to the smaller k."""
        mean = self.mean
        # argmax over a (K, W) transpose so ties prefer the smaller k, then uniform.
        flat = int(np.argmax(mean.T))
        k_index, w_index = divmod(flat, len(self.weights))
        return int(self.ks[k_index]), self.weights[w_index], float(mean[w_index, k_index])

    def accuracy(self, k: int, weights: str) -> float:
        """The mean cross-validated accuracy of ``k`` neighbours voting with ``weights``."""
        return float(self.mean[self.weights.index(weights), list(self.ks).index(k)])


def cross_validate(
    preset: Preset,
    x: np.ndarray,
    y: np.ndarray,
    *,
    n_splits: int = CV_CONFIG["n_splits"],
    k_max: int = K_MAX,
    progress: Progress | None = None,
) -> np.ndarray:
    """Accuracy of every k in 1..``k_max`` and both weightings on each stratified fold.

    Parameters
    ----------
    preset : Preset
        The feature pipeline to fit on each fold's training part.
    x, y : ndarray
        Training images (n, 28, 28) uint8 and labels (n,).
    n_splits : int
        Folds of ``StratifiedKFold(shuffle=True, random_state=0)``.
    k_max : int
        The largest k; one search of ``k_max`` neighbours per fold serves every k.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    ndarray
        ``(n_splits, 2, k_max)``: fold, weighting (:data:`WEIGHTS`), k - 1.
    """
    progress = progress or (lambda fraction, message: None)
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=0).split(x, y)
    progress(0.0, f"preparing {len(x):,} digits")
    x, prepared = _stateless_prefix(preset, x)
    out = np.empty((n_splits, len(WEIGHTS), k_max))
    for f, (train, held_out) in enumerate(folds):
        progress(f / n_splits, f"fold {f + 1} of {n_splits}: fitting on {len(train):,} digits")
        model = make_pipeline(preset)
        model.set_params(**dict.fromkeys(prepared, "passthrough"))
        model.fit(x[train], y[train])
        dist, labels = [], []
        for start in range(0, len(held_out), SEARCH_BATCH):
            progress(
                (f + 0.2 + 0.8 * start / len(held_out)) / n_splits,
                f"fold {f + 1} of {n_splits}: searching neighbours of {len(held_out):,} digits",
            )
            found = model.search(x[held_out[start : start + SEARCH_BATCH]], n_neighbors=k_max)
            dist.append(found.dist)
            labels.append(found.neigh_labels)
        dist, labels = np.concatenate(dist), np.concatenate(labels)
        truth = y[held_out]
        for w, weights in enumerate(WEIGHTS):
            for k in range(1, k_max + 1):
                out[f, w, k - 1] = np.mean(vote(dist, labels, k, weights).argmax(axis=1) == truth)
    progress(1.0, f"{n_splits} folds done")
    return out


def _stateless_prefix(preset: Preset, x: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Apply the pipeline's leading steps that learn nothing to all of ``x`` at once.

    Such steps (deskew, blur, flatten) map each image on its own, so transforming
    every digit once gives exactly what each fold's pipeline would compute, at a
    tenth of the cost. Returns the transformed ``x`` and the names of those steps.
    tests/test_tuning.py checks this shortcut against plain folds for every preset.
    """
    names = []
    if preset.styles:  # styled copies are made from the raw digits of each fold
        return x, names
    for name, step in make_pipeline(preset).steps[:-1]:
        # Stop at a step that learns, or that adds training digits (augmentation must
        # see each fold's training images, and only those).
        if not isinstance(step, StatelessTransformer) or hasattr(step, "fit_resample"):
            break
        x = step.fit(x).transform(x)
        names.append(name)
    return x, names


def accuracy_by_k_on_test_set(
    evaluation: Evaluation, train_labels: np.ndarray, k_max: int = K_MAX
) -> np.ndarray:
    """Test-set accuracy of every k and weighting, re-voted from the stored neighbours.

    For reference only (how the choice made on the training folds turned out):
    never use it to choose k. Returns ``(len(WEIGHTS), k_max)``.
    """
    labels = np.asarray(train_labels)[evaluation.neigh_ind]
    return np.array(
        [
            [
                np.mean(
                    vote(evaluation.neigh_dist, labels, k, w).argmax(axis=1) == evaluation.y_true
                )
                for k in range(1, k_max + 1)
            ]
            for w in WEIGHTS
        ]
    )


# ------------------------------------------------------------------ artifact

# Bump when the arrays of a tuning artifact change.
FORMAT = 1


def tuning_path(preset: str, folder: Path | None = None) -> Path:
    return (folder or models_dir()) / f"tuning-{preset}.npz"


def recipe(preset: Preset, data: Mnist) -> Recipe:
    """What models/tuning-<preset>.npz must have been computed from (besides :data:`CV_CONFIG`,
    recorded as its own field ``cv``)."""
    return Recipe.make(
        f"tuning-{preset.name}.npz", "tuning", FORMAT, preset.config(), data.checksum
    )


def expected_meta(preset: Preset, data: Mnist) -> dict:
    """The record a fresh tuning of ``preset`` holds."""
    return recipe(preset, data).record() | {"cv": CV_CONFIG}


def build_tuning(preset: Preset, data: Mnist, progress: Progress | None = None) -> Tuning:
    """Cross-validate every k and weighting of ``preset`` on the training set."""
    start = time.perf_counter()
    fold_accuracy = cross_validate(preset, data.x_train, data.y_train, progress=progress)
    meta = expected_meta(preset, data) | {
        "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": round(time.perf_counter() - start, 3),
        "n_train": len(data.y_train),
    }
    return Tuning(preset, np.arange(1, K_MAX + 1), WEIGHTS, fold_accuracy, meta)


def save_tuning(tuning: Tuning, data: Mnist) -> None:
    """Write ``tuning`` as models/tuning-<preset>.npz (no pickled objects), atomically."""
    spec = recipe(tuning.preset, data)
    arrays = {
        "ks": tuning.ks,
        "weights": np.array(tuning.weights),
        "fold_accuracy": tuning.fold_accuracy,
    }
    spec.save(arrays, tuning.meta)


def read_tuning(preset: Preset, data: Mnist) -> Tuning:
    """Load models/tuning-<preset>.npz, refusing one that does not match ``preset`` and ``data``.

    Raises
    ------
    FileNotFoundError
        If there is no file.
    ValueError
        If it is corrupt, or was computed for another config, data or library version.
    """
    spec = recipe(preset, data)
    meta, arrays = spec.read()
    if meta.get("cv") != CV_CONFIG:
        raise ArtifactError(spec.filename, "stale (cross-validation settings changed)")
    try:
        ks, weights, fold_accuracy = arrays["ks"], arrays["weights"], arrays["fold_accuracy"]
    except KeyError as exc:
        raise ArtifactError(spec.filename, f"unreadable (no {exc} array)") from None
    weights = tuple(str(w) for w in weights)
    if weights != WEIGHTS or fold_accuracy.shape != (CV_CONFIG["n_splits"], len(WEIGHTS), len(ks)):
        raise ArtifactError(spec.filename, "incomplete (unexpected array shapes)")
    return Tuning(preset, ks, weights, fold_accuracy, meta)


def tuning_problem(preset: str, data: Mnist | None = None) -> str | None:
    """Why models/tuning-<preset>.npz cannot be used (None when it is fresh)."""
    data = data or load_mnist()
    try:
        read_tuning(get_preset(preset), data)
    except FileNotFoundError:
        return "not computed yet"
    except ArtifactError as exc:
        return exc.reason
    return None


def load_tuning(
    preset: str,
    *,
    data: Mnist | None = None,
    progress: Progress | None = None,
    rebuild: bool = False,
    build: bool = True,
) -> Tuning | None:
    """models/tuning-<preset>.npz, computed first when missing or stale (unless ``build=False``).

    Returns None only when ``build`` is false and there is no usable file.
    """
    spec = get_preset(preset)
    data = data or load_mnist()
    if not build and not rebuild:
        try:
            return read_tuning(spec, data)
        except (FileNotFoundError, ValueError):
            return None

    def compute() -> Tuning:
        tuning = build_tuning(spec, data, progress)
        save_tuning(tuning, data)
        return tuning

    return load_or_build(
        recipe(spec, data), lambda: read_tuning(spec, data), compute, rebuild=rebuild, warn=False
    )
