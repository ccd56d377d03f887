"""The trained presets: each fitted on MNIST's training set, its evaluation on the test set,
kept in models/<preset>.npz (see :mod:`mnist_knn.artifacts`) and rebuilt when missing,
stale or corrupt."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .artifacts import (
    ArtifactError,
    Progress,
    Recipe,
    StaleArtifactWarning,
    load_or_build,
    models_dir,
    no_progress,
)
from .data import Mnist, load_mnist
from .evaluation.metrics import Evaluation
from .model import (
    DEFAULT_PRESET,
    K_MAX,
    KNNPipeline,
    Preset,
    get_preset,
    make_pipeline,
    restore_pipeline,
)
from .printed import printed_lines

# Bump when the arrays of a model artifact or the meaning of a config field change.
FORMAT = 3  # 3: the training digits' nearest distances for the verdict's yardstick
EVALUATION_FIELDS = ("y_true", "y_pred", "proba", "neigh_ind", "neigh_dist")
# Training digits whose nearest *other* training digit is measured at build time: the
# verdict's "far" yardstick (reading.Reference), so the test set only reports.
REFERENCE_SAMPLE = 5000

__all__ = [
    "Artifact",
    "StaleArtifactWarning",
    "artifact_path",
    "artifact_problem",
    "build_artifact",
    "load_artifact",
    "load_model",
    "read_artifact",
    "recipe",
    "save_artifact",
]


def recipe(preset: Preset, data: Mnist) -> Recipe:
    """What models/<preset>.npz must have been built from."""
    return Recipe.make(f"{preset.name}.npz", "model", FORMAT, preset.config(), data.checksum)


@dataclass(frozen=True, eq=False)
class Artifact:
    """What models/<preset>.npz holds: the fitted model, its test evaluation, its record.

    ``key`` identifies it for caches (pages hash an artifact by it, not by its arrays).
    """

    preset: Preset
    model: KNNPipeline
    evaluation: Evaluation
    meta: dict
    # (m,) float32: for a sample of training digits, the distance to the nearest training
    # digit made from another one (reading.Reference.from_artifact).
    training_nearest: np.ndarray

    @property
    def key(self) -> tuple[str, str, str]:
        """(preset, data checksum, build time): equal keys mean the same fitted model."""
        return self.preset.name, self.meta.get("data_checksum", ""), self.meta.get("built", "")


def save_artifact(artifact: Artifact, data: Mnist) -> None:
    """Write ``artifact`` as models/<preset>.npz, atomically."""
    arrays = artifact.model.fitted_arrays()
    for name in EVALUATION_FIELDS:
        arrays[f"eval/{name}"] = getattr(artifact.evaluation, name)
    arrays["reference/training_nearest"] = artifact.training_nearest
    recipe(artifact.preset, data).save(arrays, artifact.meta)


def read_artifact(preset: Preset, data: Mnist) -> Artifact:
    """Load models/<preset>.npz, refusing anything that does not match ``preset`` and ``data``.

    Raises
    ------
    FileNotFoundError
        If there is no file.
    ValueError
        If it is corrupt, truncated, of another format, config, data or library version.
    """
    spec = recipe(preset, data)
    meta, arrays = spec.read()
    try:
        _check_arrays(arrays, len(data.y_train), len(data.y_test))
        model = restore_pipeline(preset, arrays)
        evaluation = Evaluation(**{f: arrays[f"eval/{f}"] for f in EVALUATION_FIELDS})
        training_nearest = arrays["reference/training_nearest"]
        # One query through every step: any array that does not fit the others fails here,
        # not on the first page that uses the model.
        probe = model.search(np.zeros((1, 28, 28), dtype=np.uint8), n_neighbors=K_MAX)
        if probe.proba.shape != (1, 10) or not np.isfinite(probe.proba).all():
            raise ValueError("a test query gives no probabilities")
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise ArtifactError(spec.filename, f"incomplete ({exc})") from exc
    if len(evaluation.y_true) != len(data.y_test) or model.source_index_.max() + 1 != len(
        data.y_train
    ):
        raise ArtifactError(spec.filename, "stale (its sizes do not match the data)")
    return Artifact(preset, model, evaluation, meta, training_nearest)


def _check_arrays(arrays: dict[str, np.ndarray], n_train: int, n_test: int) -> None:
    """Refuse (ValueError) arrays whose shapes, types or values a fitted model cannot have."""
    x, y, source = arrays["knn/X"], arrays["knn/y"], arrays["knn/source"]
    if x.ndim != 2 or x.dtype.kind != "f" or not len(x):
        raise ValueError(f"knn/X is {x.shape} {x.dtype}, not rows of features")
    if y.shape != (len(x),) or source.shape != (len(x),):
        raise ValueError(f"knn/y {y.shape} and knn/source {source.shape} do not match knn/X")
    if y.dtype.kind not in "iu" or y.min() < 0 or y.max() > 9:
        raise ValueError("knn/y holds labels outside 0-9")
    if source.dtype.kind not in "iu" or source.min() < 0:
        raise ValueError("knn/source holds negative rows")
    shapes = {
        "y_true": (n_test,),
        "y_pred": (n_test,),
        "proba": (n_test, 10),
        "neigh_ind": (n_test, K_MAX),
        "neigh_dist": (n_test, K_MAX),
    }
    for name, shape in shapes.items():
        value = arrays[f"eval/{name}"]
        if value.shape != shape:
            raise ValueError(f"eval/{name} is {value.shape}, not {shape}")
    ind = arrays["eval/neigh_ind"]
    if ind.size and (ind.min() < 0 or ind.max() >= n_train):
        raise ValueError("eval/neigh_ind points outside the training set")
    nearest = arrays["reference/training_nearest"]
    if nearest.ndim != 1 or not 0 < len(nearest) <= n_train or not np.isfinite(nearest).all():
        raise ValueError(f"reference/training_nearest is {nearest.shape}, not distances")


def training_nearest(
    model: KNNPipeline, x_train: np.ndarray, n: int = REFERENCE_SAMPLE, batch: int = 1000
) -> np.ndarray:
    """For ``n`` training digits (a fixed sample), the distance to the nearest training
    digit made from another one: each measured against the others, as a drawing is, with
    its own row and its own styled copies left out. Shape (n,) float32."""
    rows = np.sort(np.random.default_rng(0).choice(len(x_train), min(n, len(x_train)), False))
    out = np.empty(len(rows), np.float32)
    for start in range(0, len(rows), batch):
        part = rows[start : start + batch]
        found = model.search(x_train[part], n_neighbors=4)  # itself and a copy, at most
        other = found.ind != part[:, None]
        if not other.any(axis=1).all():
            raise ValueError("a training digit has only copies of itself among its neighbours")
        out[start : start + len(part)] = found.dist[np.arange(len(part)), other.argmax(axis=1)]
    return out


# What scikit-learn's Pipeline(verbose=True) prints when a step is fitted.
_PIPELINE_STEP = re.compile(r"\[Pipeline\].*\(step (\d+) of \d+\) Processing (\S+),")


def build_artifact(
    preset: Preset, data: Mnist, progress: Progress | None = None, batch: int = 500
) -> Artifact:
    """Fit ``preset`` on the training set and classify the whole test set.

    ``progress(fraction, message)`` is called as the work advances.
    """
    progress = progress or no_progress
    start = time.perf_counter()
    model = make_pipeline(preset)
    names = [name for name, _ in model.steps]
    n_train = len(data.x_train)

    def step_done(text: str) -> bool:
        # Pipeline(verbose=True) prints "(step 2 of 5) Processing blur, total= 1.2s" after
        # each step: the fit's stages, 0-10% of the build.
        if not (match := _PIPELINE_STEP.search(text)):
            return False
        # A re-ranking model fits its steps as two pipelines (before and from flatten):
        # the step's place among all of the model's steps is what counts.
        step = match.group(2)
        done = names.index(step) + 1 if step in names else int(match.group(1))
        after = f"; {names[done]} next" if done < len(names) else ""
        progress(0.1 * done / len(names), f"fitting {preset.name}: {step} done{after}")
        return True

    first = f"{names[0]} first"
    if preset.styles:  # the styled copies (e.g. slashed zeros) are made before any step
        styled = ", ".join(style.replace("_", " ") + "s" for style in preset.styles)
        first = f"{styled} first, then {names[0]}"
    progress(0.0, f"fitting {preset.name} on {n_train:,} training digits: {first}")
    model.set_params(verbose=True)
    with printed_lines(step_done):
        model.fit(data.x_train, data.y_train)
    model.set_params(verbose=False)
    fit_seconds = time.perf_counter() - start
    parts = []
    n = len(data.x_test)
    for i in range(0, n, batch):
        progress(
            0.1 + 0.85 * i / n, f"classifying test digits {i:,}-{min(i + batch, n):,} of {n:,}"
        )
        parts.append(model.search(data.x_test[i : i + batch], n_neighbors=K_MAX))
    evaluation = Evaluation(
        y_true=data.y_test,
        y_pred=np.concatenate([p.labels for p in parts]).astype(np.uint8),
        proba=np.concatenate([p.proba for p in parts]).astype(np.float32),
        neigh_ind=np.concatenate([p.ind for p in parts]).astype(np.int32),
        neigh_dist=np.concatenate([p.dist for p in parts]).astype(np.float32),
    )
    progress(0.95, f"{preset.name}: how near training digits come to each other")
    nearest = training_nearest(model, data.x_train)
    meta = recipe(preset, data).record() | {
        "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "fit_seconds": round(fit_seconds, 3),
        "build_seconds": round(time.perf_counter() - start, 3),
        "accuracy": evaluation.accuracy,
        "n_train": len(data.y_train),
        "n_test": n,
    }
    progress(1.0, f"{preset.name}: test accuracy {evaluation.accuracy:.2%}")
    return Artifact(preset, model, evaluation, meta, nearest)


def artifact_problem(preset: str = DEFAULT_PRESET, data: Mnist | None = None) -> str | None:
    """Why models/<preset>.npz cannot be used as it is (None when it looks fresh).

    Reads only the artifact's record, so it is cheap enough for every page view;
    damage inside the arrays is caught when :func:`load_artifact` reads them.
    """
    return recipe(get_preset(preset), data or load_mnist()).problem()


def load_artifact(
    preset: str = DEFAULT_PRESET,
    *,
    data: Mnist | None = None,
    progress: Progress | None = None,
    rebuild: bool = False,
) -> Artifact:
    """Load models/<preset>.npz, building it first when missing, stale or corrupt.

    A rebuild is announced with a :class:`StaleArtifactWarning`. Two processes
    starting together build once: the second waits on a lock file, then loads.
    """
    spec = get_preset(preset)
    data = data or load_mnist(progress=progress)

    def build() -> Artifact:
        artifact = build_artifact(spec, data, progress)
        save_artifact(artifact, data)
        return artifact

    return load_or_build(
        recipe(spec, data), lambda: read_artifact(spec, data), build, rebuild=rebuild
    )


def load_model(preset: str = DEFAULT_PRESET, **kwargs) -> KNNPipeline:
    """The fitted model of ``preset`` (see :func:`load_artifact` for the keywords)."""
    return load_artifact(preset, **kwargs).model


def artifact_path(preset: str) -> Path:
    """Where models/<preset>.npz lives."""
    return models_dir() / f"{preset}.npz"
