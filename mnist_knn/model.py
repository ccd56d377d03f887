"""Build, fit, persist and load the KNN pipeline; the presets."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import platform
import time
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import scipy
import sklearn
from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from threadpoolctl import ThreadpoolController

from .data import PROJECT_ROOT, Mnist, atomic_write, load_mnist, read_npz
from .evaluation import Evaluation
from .features import Augment, Blur, Deskew, Flatten
from .neighbors import BlasKNeighborsClassifier, vote

try:  # POSIX advisory locks; elsewhere two simultaneous first starts just both build.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

# Bump when the artifact layout or the meaning of a config field changes.
FORMAT_VERSION = 1
# Neighbours kept per test digit and offered by the app's k control.
K_MAX = 15
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Preset:
    """A named model configuration (every field is recorded with the artifact)."""

    name: str
    description: str
    deskew: bool = False
    blur: float = 0.0
    pca: int | None = None
    shifts: int = 0  # training-set augmentation: 0, 4 or 8 one-pixel shifts
    angles: tuple[float, ...] = ()  # and rotations, in degrees
    k: int = 4
    weights: str = "distance"
    search: str = "blas"  # "blas" (ours) or "sklearn" (KNeighborsClassifier's own search)

    def config(self) -> dict:
        """The fields as plain JSON values (what the artifact records)."""
        return json.loads(json.dumps(asdict(self)))


PRESETS = {
    p.name: p
    for p in (
        Preset(
            "baseline",
            "Raw pixels, k=4, distance weights, scikit-learn's own search: the classic "
            "configuration, for comparison.",
            search="sklearn",
        ),
        # Chosen by 5-fold cross-validation on the training set only (python -m
        # mnist_knn select; docs/benchmarks.md has the table): the best plain
        # configuration, 98.64% CV accuracy ...
        Preset(
            "default",
            "Deskewed, lightly blurred digits, 60 principal components, k=4, distance "
            "weights: the best accuracy that answers in a few milliseconds.",
            deskew=True,
            blur=0.5,
            pca=60,
        ),
        # ... and the best augmentation of it that classifies the 10,000 test digits
        # in under 10 s here: 98.86% CV accuracy. (8 shifts and 4 rotations scored
        # 98.87%, a difference well inside the folds' spread of 0.08%, with 780,000
        # rows: 23 s for the test set.)
        Preset(
            "best",
            "The default's features, with every training digit also shifted one pixel "
            "up, down, left and right and rotated by ±8° (420,000 training rows), k=10.",
            deskew=True,
            blur=0.5,
            pca=60,
            shifts=4,
            angles=(-8.0, 8.0),
            k=10,
        ),
    )
}
DEFAULT_PRESET = "default"


class StaleArtifactWarning(UserWarning):
    """A models/ artifact was missing, stale or corrupt and is being rebuilt."""


@dataclass(frozen=True)
class Neighbours:
    """One search's outcome: the vote and the neighbours that cast it."""

    labels: np.ndarray  # (n,) predicted digit
    proba: np.ndarray  # (n, 10) vote shares
    dist: np.ndarray  # (n, K) distances to the nearest training digits, ascending
    ind: np.ndarray  # (n, K) their indices in the training set
    neigh_labels: np.ndarray  # (n, K) their labels


# Batches up to this size run on one thread (see _one_thread_if_small).
SMALL_BATCH = 64


@functools.cache
def _thread_pools() -> ThreadpoolController:
    # Inspecting the loaded libraries costs ~10 ms: once per process.
    return ThreadpoolController()


@contextlib.contextmanager
def _one_thread_if_small(X):
    """One BLAS / OpenMP thread for a few images, the library's choice for many.

    A single query is too small to share out: the pools' idle threads spin
    waiting for work, tripling the CPU time of a 1 ms query, and on a busy
    2-core machine turning it into 100+ ms.
    """
    if len(X) <= SMALL_BATCH:
        with _thread_pools().limit(limits=1):
            yield
    else:
        yield


class KNNPipeline(Pipeline):
    """A Pipeline ending in KNeighborsClassifier that also exposes ``kneighbors``.

    ``predict``, ``predict_proba`` and ``kneighbors`` take MNIST-style images
    (n, 28, 28) uint8 with ink = 255, as the IDX files hold them.
    """

    def fit(self, X, y=None):
        names = [name for name, _ in self.steps]
        if "augment" not in names:
            super().fit(X, y)
            self.train_labels_ = np.asarray(y, dtype=np.uint8)
            self.source_index_ = np.arange(len(self.train_labels_))
            return self
        # The augmented copies are made from the training images after the steps
        # before "augment"; everything after it is fitted on the enlarged set.
        at = names.index("augment")
        images = self[:at].fit_transform(X, y) if at else X
        images, labels, self.source_index_ = self.steps[at][1].fit_resample(images, y)
        Pipeline(self.steps[at + 1 :]).fit(images, labels)
        self.train_labels_ = np.asarray(labels, dtype=np.uint8)
        return self

    def features(self, X):
        """``X`` through every step but the KNN (what the neighbours are searched on).

        Applies the steps directly rather than through Pipeline's machinery, whose
        per-call checks cost more than the features of one drawing; each step
        still validates its input and refuses to run unfitted.
        """
        for _, step in self.steps[:-1]:
            if step is not None and step != "passthrough":  # Pipeline's "skip this step"
                X = step.transform(X)
        return X

    def predict(self, X, **params):
        if params:
            return super().predict(X, **params)
        with _one_thread_if_small(X):
            return self.steps[-1][1].predict(self.features(X))

    def predict_proba(self, X, **params):
        if params:
            return super().predict_proba(X, **params)
        with _one_thread_if_small(X):
            return self.steps[-1][1].predict_proba(self.features(X))

    def kneighbors(self, X, n_neighbors=None, return_distance=True):
        """Distances and indices of the nearest neighbours of ``X`` in the training set.

        With augmentation, an index names the original training digit that the
        matching (shifted or rotated) copy was made from.
        """
        with _one_thread_if_small(X):
            features = self.features(X)
            dist, ind = self.steps[-1][1].kneighbors(features, n_neighbors=n_neighbors)
        ind = self.source_index_[ind]
        return (dist, ind) if return_distance else ind

    def search(self, X, n_neighbors: int = K_MAX, k=None, weights=None) -> Neighbours:
        """One neighbour search, then the vote of the first ``k`` (default: the model's).

        Cheaper than calling ``predict_proba`` and ``kneighbors`` separately,
        and lets the caller vote with another k or weighting without searching again.
        """
        knn = self.steps[-1][1]
        k = k or knn.n_neighbors
        with _one_thread_if_small(X):
            features = self.features(X)
            dist, rows = knn.kneighbors(features, n_neighbors=max(n_neighbors, k))
        neigh_labels = self.train_labels_[rows]
        proba = vote(dist, neigh_labels, k, weights or knn.weights)
        ind = self.source_index_[rows]
        return Neighbours(proba.argmax(axis=1), proba, dist, ind, neigh_labels)


def make_pipeline(preset: Preset) -> KNNPipeline:
    """An unfitted pipeline for ``preset``."""
    steps = []
    if preset.deskew:
        steps.append(("deskew", Deskew()))
    if preset.blur:
        steps.append(("blur", Blur(preset.blur)))
    if preset.shifts or preset.angles:
        steps.append(("augment", Augment(preset.shifts, tuple(preset.angles))))
    steps.append(("flatten", Flatten()))
    if preset.pca:
        # The covariance eigendecomposition is exact and fast for 784 features.
        steps.append(("pca", PCA(n_components=preset.pca, svd_solver="covariance_eigh")))
    if preset.search not in ("blas", "sklearn"):
        raise ValueError(f"search must be 'blas' or 'sklearn', got {preset.search!r}")
    knn_class = BlasKNeighborsClassifier if preset.search == "blas" else KNeighborsClassifier
    knn = knn_class(n_neighbors=preset.k, weights=preset.weights, algorithm="brute")
    steps.append(("knn", knn))
    return KNNPipeline(steps)


# ------------------------------------------------------------------ artifacts


@dataclass(frozen=True)
class Artifact:
    """What models/<preset>.npz holds: the fitted model, its test evaluation, its record."""

    preset: Preset
    model: KNNPipeline
    evaluation: Evaluation
    meta: dict


def models_dir() -> Path:
    """The artifacts folder: $MNIST_KNN_MODELS_DIR or the project's models/."""
    return Path(os.environ.get("MNIST_KNN_MODELS_DIR") or PROJECT_ROOT / "models")


def artifact_path(preset: str, folder: Path | None = None) -> Path:
    return (folder or models_dir()) / f"{preset}.npz"


def library_versions() -> dict:
    return {
        "format": FORMAT_VERSION,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
    }


def _expected_meta(preset: Preset, data: Mnist) -> dict:
    return {
        "config": preset.config(),
        "data_checksum": data.checksum,
        "versions": library_versions(),
    }


def _stale_reason(meta, preset: Preset, data: Mnist) -> str | None:
    for key, want in _expected_meta(preset, data).items():
        if not isinstance(meta, dict) or meta.get(key) != want:
            return f"stale ({key} changed)"
    return None


def _fitted_state(model: KNNPipeline) -> dict[str, np.ndarray]:
    """The learned arrays of every step (attributes ending in ``_``) and the KNN's data."""
    arrays = {}
    for name, step in model.steps[:-1]:
        for attr, value in vars(step).items():
            if attr.endswith("_") and not attr.startswith("_"):
                arrays[f"step/{name}/{attr}"] = np.asarray(value)
    knn = model.steps[-1][1]
    arrays["knn/X"] = knn._fit_X
    arrays["knn/y"] = model.train_labels_
    arrays["knn/source"] = model.source_index_
    return arrays


def _restore(preset: Preset, arrays) -> KNNPipeline:
    """Rebuild a fitted pipeline from :func:`_fitted_state`'s arrays, without refitting."""
    model = make_pipeline(preset)
    for name, step in model.steps[:-1]:
        prefix = f"step/{name}/"
        for key in arrays:
            if key.startswith(prefix):
                value = arrays[key]
                setattr(step, key[len(prefix) :], value.item() if value.ndim == 0 else value)
    # KNN "fitting" with brute force only stores the training features.
    model.steps[-1][1].fit(arrays["knn/X"], arrays["knn/y"])
    model.train_labels_ = arrays["knn/y"]
    model.source_index_ = arrays["knn/source"]
    return model


def save_artifact(path: Path, artifact: Artifact) -> None:
    """Write ``artifact`` as one .npz, through a temp file and an atomic rename."""
    arrays = _fitted_state(artifact.model)
    for field in ("y_true", "y_pred", "proba", "neigh_ind", "neigh_dist"):
        arrays[f"eval/{field}"] = getattr(artifact.evaluation, field)
    arrays["meta"] = np.array(json.dumps(artifact.meta))
    atomic_write(path, lambda fh: np.savez(fh, **arrays))


def read_artifact(path: Path, preset: Preset, data: Mnist) -> Artifact:
    """Load an artifact, refusing anything that does not match ``preset`` and ``data``.

    Raises
    ------
    FileNotFoundError
        If there is no file.
    ValueError
        If it is corrupt, truncated, of another format, config, data or library version.
    """
    meta, arrays = read_npz(path)
    if reason := _stale_reason(meta, preset, data):
        raise ValueError(f"{path.name} is {reason}")
    try:
        model = _restore(preset, arrays)
        evaluation = Evaluation(
            **{
                f: arrays[f"eval/{f}"]
                for f in ("y_true", "y_pred", "proba", "neigh_ind", "neigh_dist")
            }
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise ValueError(f"{path.name} is incomplete ({exc})") from exc
    if len(evaluation.y_true) != len(data.y_test) or model.source_index_.max() + 1 != len(
        data.y_train
    ):
        raise ValueError(f"{path.name} is stale (its sizes do not match the data)")
    return Artifact(preset, model, evaluation, meta)


def build_artifact(
    preset: Preset, data: Mnist, progress: Progress | None = None, batch: int = 500
) -> Artifact:
    """Fit ``preset`` on the training set and classify the whole test set.

    ``progress(fraction, message)`` is called as the work advances.
    """
    progress = progress or (lambda fraction, message: None)
    start = time.perf_counter()
    progress(0.0, f"fitting {preset.name} on {len(data.x_train):,} training digits")
    model = make_pipeline(preset).fit(data.x_train, data.y_train)
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
    meta = _expected_meta(preset, data) | {
        "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "fit_seconds": round(fit_seconds, 3),
        "build_seconds": round(time.perf_counter() - start, 3),
        "accuracy": evaluation.accuracy,
        "n_train": len(data.y_train),
        "n_test": n,
    }
    progress(1.0, f"{preset.name}: test accuracy {evaluation.accuracy:.2%}")
    return Artifact(preset, model, evaluation, meta)


@contextlib.contextmanager
def _build_lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as fh:
        if fcntl:
            fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def artifact_problem(preset: str = DEFAULT_PRESET, data: Mnist | None = None) -> str | None:
    """Why models/<preset>.npz cannot be used as it is (None when it looks fresh).

    Reads only the artifact's record, so it is cheap enough for every page view;
    damage inside the arrays is caught when :func:`load_artifact` reads them.
    """
    data = data or load_mnist()
    path = artifact_path(preset)
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
    except FileNotFoundError:
        return "not built yet"
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        return f"unreadable ({exc})"
    return _stale_reason(meta, get_preset(preset), data)


def get_preset(name: str) -> Preset:
    """The preset called ``name``; a ValueError lists the valid names otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None


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
    path = artifact_path(preset)
    with _build_lock(path):
        if not rebuild:
            try:
                return read_artifact(path, spec, data)
            except FileNotFoundError:
                reason = "not built yet"
            except ValueError as exc:
                reason = str(exc)
            warnings.warn(
                f"models/{path.name} {reason}: rebuilding it", StaleArtifactWarning, stacklevel=2
            )
        artifact = build_artifact(spec, data, progress)
        save_artifact(path, artifact)
        return artifact


def load_model(preset: str = DEFAULT_PRESET, **kwargs) -> KNNPipeline:
    """The fitted model of ``preset`` (see :func:`load_artifact` for the keywords)."""
    return load_artifact(preset, **kwargs).model
