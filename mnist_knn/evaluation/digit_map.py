"""A 2-D map of training digits (PCA and t-SNE of a stratified sample), built once into models/.

t-SNE comes from scikit-learn (sklearn.manifold.TSNE): nothing more to install,
and it runs offline. It has no ``transform`` for new points, so a drawing is
placed at the inverse-distance-weighted mean position of its nearest sampled
digits in the 50-component PCA space that t-SNE itself was run on.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.neighbors import KNeighborsClassifier

from ..artifacts import ArtifactError, Progress, Recipe, load_or_build, models_dir, no_progress
from ..data import Mnist
from ..printed import printed_lines

# Bump when the layout of embedding.npz changes.
EMBED_FORMAT = 1
METHODS = {"pca": "PCA", "tsne": "t-SNE"}
DEFAULTS = {"per_class": 500, "n_components": 50, "perplexity": 30.0, "max_iter": 1000, "seed": 0}
# Sampled digits whose map positions are averaged to place a drawing on the t-SNE map.
PLACE_NEIGHBOURS = 10


# t-SNE's own report of its gradient descent (``verbose=2``): every 50 iterations.
_TSNE_ITERATION = re.compile(r"\[t-SNE\] Iteration (\d+):")


def tsne_iterations(on_iteration):
    """Call ``on_iteration(i)`` each time a ``TSNE(verbose=2)`` run in this thread reports
    its iteration ``i`` (every 50); its other lines are not printed. scikit-learn's TSNE
    has no callback; it prints."""

    def claim(text: str) -> bool:
        if match := _TSNE_ITERATION.search(text):
            on_iteration(int(match.group(1)))
        return "[t-SNE]" in text

    return printed_lines(claim)


@dataclass(frozen=True)
class DigitMap:
    """A stratified sample of training digits and its 2-D embeddings."""

    index: np.ndarray  # (n,) indices into the training set
    labels: np.ndarray  # (n,) uint8
    features: np.ndarray  # (n, c) float32: the sample on its principal components
    pca_mean: np.ndarray  # (784,) float32
    pca_components: np.ndarray  # (c, 784) float32
    coords: dict[str, np.ndarray]  # method -> (n, 2) float32
    meta: dict

    @property
    def key(self) -> str:
        """The build time: what caches know it by, instead of its arrays."""
        return str(self.meta.get("built", ""))

    def pca_features(self, digits: np.ndarray) -> np.ndarray:
        """uint8 digits (n, 28, 28) -> their coordinates on the map's principal components."""
        X = np.asarray(digits).reshape(len(digits), -1).astype(np.float32) / 255
        return (X - self.pca_mean) @ self.pca_components.T


def map_path(folder: Path | None = None) -> Path:
    return (folder or models_dir()) / "embedding.npz"


def recipe(data: Mnist) -> Recipe:
    """What models/embedding.npz must have been built from: any sample size and t-SNE
    settings (``python -m mnist_knn embed --per-class N``), but this data and these libraries."""
    return Recipe.make("embedding.npz", "digit map", EMBED_FORMAT, None, data.checksum)


def stratified_sample(labels: np.ndarray, per_class: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of up to ``per_class`` random digits of each label."""
    rng = np.random.default_rng(seed)
    picks = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        picks.append(rng.choice(members, size=min(per_class, len(members)), replace=False))
    return np.sort(np.concatenate(picks))


def build_map(data: Mnist, progress: Progress | None = None, **config) -> DigitMap:
    """Sample the training set, project it with PCA, embed it with t-SNE.

    Keywords override :data:`DEFAULTS` (``per_class``, ``n_components``,
    ``perplexity``, ``max_iter``, ``seed``).
    """
    progress = progress or no_progress
    config = DEFAULTS | config
    if unknown := set(config) - set(DEFAULTS):
        raise ValueError(f"unknown settings {sorted(unknown)}")
    index = stratified_sample(data.y_train, config["per_class"], config["seed"])
    labels = data.y_train[index]
    n = len(index)
    progress(0.02, f"PCA of {n:,} training digits")
    start = time.perf_counter()
    X = data.x_train[index].reshape(n, -1).astype(np.float32) / 255
    pca = PCA(n_components=min(config["n_components"], n), svd_solver="covariance_eigh").fit(X)
    features = pca.transform(X).astype(np.float32)
    pca_seconds = time.perf_counter() - start
    iterations = config["max_iter"]
    progress(0.1, f"t-SNE of {n:,} digits: how close each digit is to its neighbours")

    def iteration(i: int) -> None:
        # The first 250 iterations pull clusters apart ("early exaggeration"), the rest settle.
        phase = "pulling the clusters apart" if i <= 250 else "settling the map"
        progress(0.12 + 0.86 * i / iterations, f"t-SNE iteration {i:,} of {iterations:,}: {phase}")

    start, cpu = time.perf_counter(), time.process_time()
    with tsne_iterations(iteration):
        tsne = TSNE(
            n_components=2,
            perplexity=min(config["perplexity"], (n - 1) / 3),
            init="pca",
            learning_rate="auto",
            max_iter=iterations,
            random_state=config["seed"],
            verbose=2,  # its report of every 50 iterations is the progress (tsne_iterations)
        ).fit_transform(features)
    tsne_seconds = time.perf_counter() - start
    tsne_cpu = time.process_time() - cpu  # all threads: the honest cost on a shared machine
    meta = recipe(data).record() | {
        "config": config,
        "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "n": n,
        "pca_seconds": round(pca_seconds, 3),
        "tsne_seconds": round(tsne_seconds, 3),
        "tsne_cpu_seconds": round(tsne_cpu, 3),
        "explained_variance_2d": float(pca.explained_variance_ratio_[:2].sum()),
    }
    progress(1.0, f"mapped {n:,} digits: PCA {pca_seconds:.1f} s, t-SNE {tsne_seconds:.0f} s")
    return DigitMap(
        index=index.astype(np.int32),
        labels=labels.astype(np.uint8),
        features=features,
        pca_mean=pca.mean_.astype(np.float32),
        pca_components=pca.components_.astype(np.float32),
        coords={"pca": features[:, :2].copy(), "tsne": tsne.astype(np.float32)},
        meta=meta,
    )


def save_map(digit_map: DigitMap, data: Mnist) -> None:
    """Write ``digit_map`` as models/embedding.npz (no pickle), atomically."""
    arrays = {
        "index": digit_map.index,
        "labels": digit_map.labels,
        "features": digit_map.features,
        "pca_mean": digit_map.pca_mean,
        "pca_components": digit_map.pca_components,
        **{f"coords/{m}": c for m, c in digit_map.coords.items()},
    }
    spec = recipe(data)
    spec.save(arrays, digit_map.meta)


def map_problem(data: Mnist) -> str | None:
    """Why models/embedding.npz cannot be used (None when fresh); reads only its record.

    The sample size and t-SNE settings are whatever the map was built with
    (``python -m mnist_knn embed --per-class N``); only another data set, format
    or library version makes it stale.
    """
    return recipe(data).problem()


def read_map(data: Mnist) -> DigitMap:
    """Load models/embedding.npz.

    Raises
    ------
    FileNotFoundError
        If it does not exist.
    ValueError
        If it is unreadable, incomplete or stale.
    """
    spec = recipe(data)
    meta, arrays = spec.read()
    try:
        digit_map = DigitMap(
            index=arrays["index"],
            labels=arrays["labels"],
            features=arrays["features"],
            pca_mean=arrays["pca_mean"],
            pca_components=arrays["pca_components"],
            coords={m: arrays[f"coords/{m}"] for m in METHODS},
            meta=meta,
        )
    except KeyError as exc:
        raise ArtifactError(spec.filename, f"incomplete (no {exc})") from exc
    n = len(digit_map.index)
    shapes_ok = (
        len(digit_map.labels) == len(digit_map.features) == n
        and all(c.shape == (n, 2) for c in digit_map.coords.values())
        and digit_map.pca_components.shape[1] == digit_map.pca_mean.shape[0] == 784
        and (n == 0 or int(digit_map.index.max()) < len(data.y_train))
    )
    if not shapes_ok or not np.array_equal(digit_map.labels, data.y_train[digit_map.index]):
        raise ArtifactError(spec.filename, "stale (its arrays do not match the data)")
    return digit_map


def load_map(
    data: Mnist, progress: Progress | None = None, rebuild: bool = False, **config
) -> DigitMap:
    """The map from models/, built first when missing, stale, or built with other ``config``."""

    def read() -> DigitMap:
        digit_map = read_map(data)
        if any(digit_map.meta["config"].get(k) != v for k, v in config.items()):
            raise ValueError("embedding.npz was built with other settings")
        return digit_map

    def build() -> DigitMap:
        digit_map = build_map(data, progress, **config)
        save_map(digit_map, data)
        return digit_map

    return load_or_build(recipe(data), read, build, rebuild=rebuild, warn=False)


@dataclass(frozen=True)
class Placement:
    """Where a drawing lands on each map, and the sampled digits that put it there."""

    coords: dict[str, np.ndarray]  # method -> (2,)
    neighbours: np.ndarray  # (PLACE_NEIGHBOURS,) rows of the sample, nearest first
    distances: np.ndarray  # their distances in PCA space


def place(digit_map: DigitMap, digit: np.ndarray, k: int = PLACE_NEIGHBOURS) -> Placement:
    """Put an MNIST-style digit (28, 28) uint8 on the maps.

    PCA: its own projection. t-SNE (which cannot transform new points): the mean
    of the t-SNE positions of its ``k`` nearest sampled digits in PCA space,
    weighted by 1 / distance.
    """
    f = digit_map.pca_features(np.asarray(digit)[None])[0]
    dist = np.linalg.norm(digit_map.features - f, axis=1)
    k = min(k, len(dist))
    nearest = np.argsort(dist, kind="stable")[:k]
    w = 1 / np.maximum(dist[nearest], 1e-9)
    tsne = (digit_map.coords["tsne"][nearest] * w[:, None]).sum(axis=0) / w.sum()
    return Placement({"pca": f[:2], "tsne": tsne}, nearest, dist[nearest])


@dataclass(frozen=True)
class DecisionGrid:
    """A KNN's prediction at every point of a grid over a 2-D map."""

    x: np.ndarray  # (nx,)
    y: np.ndarray  # (ny,)
    labels: np.ndarray  # (ny, nx)
    k: int


def decision_grid(
    coords: np.ndarray, labels: np.ndarray, k: int, resolution: int = 160, margin: float = 0.04
) -> DecisionGrid:
    """Classify every point of a ``resolution``-square grid by KNN on the 2-D positions.

    This is KNN on the *map*, not on the pixels: it shows what "nearest" means in
    two dimensions, and where the 2-D picture would misclassify.
    """
    coords = np.asarray(coords, dtype=np.float64)
    low, high = coords.min(axis=0), coords.max(axis=0)
    pad = (high - low) * margin
    x = np.linspace(low[0] - pad[0], high[0] + pad[0], resolution)
    y = np.linspace(low[1] - pad[1], high[1] + pad[1], resolution)
    gx, gy = np.meshgrid(x, y)
    knn = KNeighborsClassifier(n_neighbors=min(k, len(coords))).fit(coords, labels)
    grid = knn.predict(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gy.shape)
    return DecisionGrid(x, y, grid.astype(np.uint8), k)


def map_accuracy(digit_map: DigitMap, method: str, k: int) -> float:
    """Leave-one-out accuracy of KNN on the 2-D positions of the sample (how well the map
    keeps the digits apart)."""
    coords = digit_map.coords[method].astype(np.float64)
    knn = KNeighborsClassifier(n_neighbors=k).fit(coords, digit_map.labels)
    neighbours = knn.kneighbors(None, n_neighbors=k, return_distance=False)  # excludes itself
    votes = np.zeros((len(coords), 10))
    np.add.at(votes, (np.arange(len(coords))[:, None], digit_map.labels[neighbours]), 1)
    return float(np.mean(votes.argmax(axis=1) == digit_map.labels))


def classify_on_map(digit_map: DigitMap, method: str, k: int, point) -> int:
    """The digit a KNN on the 2-D positions of ``method``'s map predicts at ``point``."""
    coords = digit_map.coords[method].astype(np.float64)
    knn = KNeighborsClassifier(n_neighbors=min(k, len(coords))).fit(coords, digit_map.labels)
    return int(knn.predict(np.asarray(point, dtype=np.float64).reshape(1, 2))[0])
