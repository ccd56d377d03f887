"""KNN against other classifiers: train them once, record accuracy, times and sizes, classify.

Logistic regression, a linear SVM, an RBF SVM on PCA features and a random forest
are trained on the MNIST training set and timed on the test set; the KNN presets
are read from their own artifacts (accuracy, fit time) and timed the same way.

Nothing is pickled. The two linear models are two arrays each (weights and
intercepts), stored in models/compare.npz with the results and a record of the
config, data checksum and library versions. The RBF SVM and the random forest
hold libsvm and tree structures whose private layout changes between
scikit-learn versions, so rebuilding them from hand-picked arrays would be
fragile; they are stored with skops (a zip of JSON and .npy, no pickle), loaded
with an explicit allow-list of types, and their SHA-256 is recorded in
compare.npz so a swapped or damaged file is refused.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC, LinearSVC
from sklearn.tree._tree import Tree

from ..artifacts import (
    ArtifactError,
    Progress,
    Recipe,
    atomic_write_bytes,
    load_or_build,
    models_dir,
    no_progress,
    read_npz,
)
from ..data import Mnist
from ..model import PRESETS, KNNPipeline
from ..neighbors import one_thread_if_small, training_rows
from ..trained import load_artifact
from . import real_drawings
from .cnn import DEFAULT_PATH as CNN_WEIGHTS
from .cnn import CNNClassifier

# Bump when the layout of compare.npz or the meaning of a config field changes.
COMPARE_FORMAT = 1
# Types a stored skops file may hold beyond those skops trusts by default
# (numpy arrays and scikit-learn's own estimators): the tree structure of a forest.
SKOPS_TRUSTED = ["sklearn.tree._tree.Tree"]


@dataclass(frozen=True)
class Contender:
    """A non-KNN model of the comparison: how to build it and how it is stored."""

    name: str
    title: str
    description: str
    # "linear" (arrays in compare.npz), "skops" (models/compare-<name>.skops) or "shipped"
    # (trained by its own command, weights in the project: the CNN)
    storage: str
    config: dict = field(default_factory=dict)


CONTENDERS = {
    c.name: c
    for c in (
        Contender(
            "logistic_regression",
            "Logistic regression",
            "One weight per pixel and digit; softmax of the ten scores (lbfgs, at most 100 "
            "iterations, C=1).",
            "linear",
            {"C": 1.0, "max_iter": 100, "tol": 1e-3},
        ),
        Contender(
            "linear_svm",
            "Linear SVM",
            "One-vs-rest linear support vector machines on the pixels (LinearSVC, C=0.1).",
            "linear",
            {"C": 0.1, "tol": 1e-3},
        ),
        Contender(
            "rbf_svm",
            "RBF SVM on PCA",
            "Support vector machine with a Gaussian (RBF) kernel on 50 principal components "
            "(C=5, gamma='scale'), one-vs-one.",
            "skops",
            {"pca": 50, "C": 5.0, "gamma": "scale", "train_size": None},
        ),
        Contender(
            "random_forest",
            "Random forest",
            "50 fully grown decision trees on the pixels, each on a bootstrap sample.",
            "skops",
            {"n_estimators": 50, "random_state": 0},
        ),
        Contender(
            "cnn",
            "Small CNN",
            "A LeNet-like convolutional network: two 5×5 convolutions (16 and 32 channels) "
            "with max-pooling, a 128-unit dense layer, softmax; 215,370 weights trained with "
            "PyTorch (`python -m mnist_knn train-cnn`), run here in numpy.",
            "shipped",
        ),
    )
}
# Real drawings each model reads for the "real drawings" column (when the dev writers are
# there, see real_drawings): the shared renderer's stratified sample, white canvas.
REAL_DRAWINGS = 1000
# Drawings each model classifies one at a time for its time per drawing.
SINGLE_DRAWINGS = 50


def knn_versus_cnn(rows: list[dict], preset: str = "default") -> str | None:
    """What the KNN ``preset`` and the CNN each offer, from the measured rows (Markdown).

    None when either row is missing.
    """
    by_name = {row["name"]: row for row in rows}
    knn, cnn = by_name.get(knn_name(preset)), by_name.get("cnn")
    if knn is None or cnn is None:
        return None

    def errors(row: dict) -> str:
        return f"{(1 - row['accuracy']) * row['n_test']:,.0f}"

    lines = [
        f"- **On MNIST's test digits** the CNN makes {errors(cnn)} mistakes "
        f"({cnn['accuracy']:.2%} right), the KNN ({preset}) {errors(knn)} "
        f"({knn['accuracy']:.2%})."
    ]
    if "real_accuracy" in cnn and "real_accuracy" in knn:
        lines.append(
            f"- **On real people's drawings** ({cnn['real_n']:,} pen-written digits) the CNN "
            f"reads {cnn['real_accuracy']:.1%}, the KNN {knn['real_accuracy']:.1%}: both miss "
            "styles MNIST barely has, European ones with a flag most of all (the KNN also "
            "trains on struck-through zeros, Ø and φ)."
        )
    if "drawing_ms" in cnn and "drawing_ms" in knn:
        lines.append(
            f"- **Speed and size**: one drawing takes the CNN {cnn['drawing_ms']:.1f} ms and "
            f"the KNN {knn['drawing_ms']:.1f} ms; the CNN keeps {cnn['size_bytes'] / 1e6:.1f} MB "
            f"of weights, the KNN {knn['size_bytes'] / 1e6:.0f} MB: its copy of the "
            "training set."
        )
    lines += [
        "- **What only the KNN offers**: it shows *why* (the training digits that voted), it "
        "can say *not sure* when its neighbours disagree or are far away, and a class's "
        "drawings join it without training (Class drawings, *Use them*).",
        f"- **What the CNN offers**: it learned which strokes matter, so it needs "
        f"{cnn['fit_seconds'] / 60:.0f} minutes of training but then no training set at all.",
    ]
    return "\n".join(lines)


def markdown_table(rows: list[dict]) -> str:
    """The comparison as a Markdown table: accuracy on MNIST and on real drawings, time per
    drawing, size (docs/benchmarks.md)."""
    lines = [
        "| model | MNIST test accuracy | real drawings (dev writers) | one drawing (ms) "
        "| 10k test set (s) | fit (s) | size (MB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        real = f"{r['real_accuracy']:.1%} of {r['real_n']:,}" if "real_accuracy" in r else "-"
        drawing = f"{r['drawing_ms']:.2f}" if "drawing_ms" in r else "-"
        lines.append(
            f"| {r['title']} | {r['accuracy']:.2%} | {real} | {drawing} "
            f"| {r['predict_seconds']:.2f} | {r['fit_seconds']:.1f} | {r['size_bytes'] / 1e6:.1f} |"
        )
    return "\n".join(lines) + "\n"


def knn_name(preset: str) -> str:
    return f"knn_{preset}"


def pixels(images) -> np.ndarray:
    """uint8 images (n, 28, 28), ink = 255 -> float32 rows (n, 784) in [0, 1]."""
    images = np.asarray(images)
    return images.reshape(len(images), -1).astype(np.float32) / np.float32(255)


# ------------------------------------------------------------------ models


class LinearModel:
    """A fitted linear classifier rebuilt from its two arrays: scores = X @ coef.T + intercept.

    ``softmax=True`` (logistic regression) also gives probabilities, exactly as
    scikit-learn's multinomial LogisticRegression computes them.
    """

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, softmax: bool):
        self.coef_ = np.asarray(coef)
        self.intercept_ = np.asarray(intercept)
        self.softmax = softmax

    def decision_function(self, X) -> np.ndarray:
        return np.asarray(X) @ self.coef_.T + self.intercept_

    def predict(self, X) -> np.ndarray:
        return self.decision_function(X).argmax(axis=1)

    def predict_proba(self, X) -> np.ndarray:
        if not self.softmax:
            raise AttributeError("a linear SVM gives scores, not probabilities")
        scores = self.decision_function(X)
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)


def make_estimator(name: str, random_state: int = 0) -> BaseEstimator:
    """The unfitted scikit-learn estimator of contender ``name`` (it takes :func:`pixels`)."""
    c = CONTENDERS[name].config
    if name == "logistic_regression":
        return LogisticRegression(C=c["C"], max_iter=c["max_iter"], tol=c["tol"])
    if name == "linear_svm":
        return LinearSVC(C=c["C"], dual=False, tol=c["tol"])
    if name == "rbf_svm":
        return Pipeline(
            [
                ("pca", PCA(n_components=c["pca"], svd_solver="covariance_eigh")),
                ("svc", SVC(C=c["C"], gamma=c["gamma"])),
            ]
        )
    if name == "random_forest":
        return RandomForestClassifier(
            n_estimators=c["n_estimators"], random_state=c["random_state"], n_jobs=-1
        )
    raise ValueError(f"unknown model {name!r}; choose one of {', '.join(CONTENDERS)}")


def to_storable(name: str, estimator):
    """What is kept of a fitted contender: a :class:`LinearModel`, or the estimator itself."""
    if CONTENDERS[name].storage == "linear":
        return LinearModel(estimator.coef_, estimator.intercept_, name == "logistic_regression")
    return estimator


def fitted_bytes(obj) -> int:
    """Bytes of the learned arrays of a fitted model (what it needs in memory to predict).

    Counts the public learned attributes (names ending in ``_``) of every
    estimator, the node and value arrays of every tree, and for a KNN the
    training features and labels it searches. An array reachable twice (one
    buffer under two names) counts once.
    """
    unique = {}
    for array in _learned_arrays(obj):
        unique[(array.__array_interface__["data"][0], array.nbytes)] = array.nbytes
    return sum(unique.values())


def _learned_arrays(obj):
    if isinstance(obj, np.ndarray):
        yield obj
    elif isinstance(obj, Tree):
        state = obj.__getstate__()
        yield from (state["nodes"], state["values"])
    elif isinstance(obj, list | tuple):
        for item in obj:
            yield from _learned_arrays(item)
    else:
        if isinstance(obj, Pipeline):
            for _, step in obj.steps:
                yield from _learned_arrays(step)
        if isinstance(obj, KNeighborsClassifier):
            # scikit-learn keeps the training labels it votes with only in its private ``_y``
            yield from (training_rows(obj), np.asarray(obj._y))
        if isinstance(obj, BaseEstimator | LinearModel):
            for key, value in vars(obj).items():
                if key.endswith("_") and not key.startswith("_") and key != "steps":
                    yield from _learned_arrays(value)


def predict_images(model, images) -> np.ndarray:
    """Labels (n,) of MNIST-style images (n, 28, 28) from any compared model."""
    if isinstance(model, KNNPipeline | CNNClassifier):  # they take the uint8 images as they are
        return model.predict(images)
    return model.predict(pixels(images))


def classify(model, digit: np.ndarray) -> tuple[int, float | None]:
    """One MNIST-style digit (28, 28) uint8 -> (label, probability of it, or None for SVMs)."""
    with one_thread_if_small(digit[None]):  # one drawing is too small to share out
        return _classify(model, digit)


def _classify(model, digit: np.ndarray) -> tuple[int, float | None]:
    if isinstance(model, KNNPipeline):
        found = model.search(digit[None])
        label = int(found.labels[0])
        return label, float(found.proba[0, label])
    if isinstance(model, CNNClassifier):
        proba = model.predict_proba(digit[None])[0]
        return int(np.argmax(proba)), float(proba.max())
    X = pixels(digit[None])
    if hasattr(model, "predict_proba") and getattr(model, "softmax", True):
        proba = model.predict_proba(X)[0]
        label = int(np.argmax(proba))
        return label, float(proba[label])
    return int(model.predict(X)[0]), None


def classify_all(models: dict, rows: list[dict], digit: np.ndarray) -> list[dict]:
    """Every row's model on one digit: model title, prediction and probability (None if the
    model gives none, both None if the model is not loaded)."""
    answers = []
    for row in rows:
        label, confidence = (None, None)
        if row["name"] in models:
            label, confidence = classify(models[row["name"]], digit)
        answers.append({"model": row["title"], "prediction": label, "confidence": confidence})
    return answers


# ------------------------------------------------------------------ the comparison


@dataclass
class Comparison:
    """The results table (one dict per model, KNN presets last) and the stored non-KNN models."""

    rows: list[dict]
    models: dict[str, object]
    meta: dict

    @property
    def key(self) -> tuple[str, bool]:
        """(build time, with models): what caches know it by, instead of its models."""
        return str(self.meta.get("built", "")), bool(self.models)


def compare_path(folder: Path | None = None) -> Path:
    return (folder or models_dir()) / "compare.npz"


def skops_path(name: str, folder: Path | None = None) -> Path:
    return (folder or models_dir()) / f"compare-{name}.skops"


def recipe(data: Mnist) -> Recipe:
    """What models/compare.npz must have been built from (each model's settings are recorded
    and checked one by one, so a changed model is retrained alone)."""
    import skops

    return Recipe.make(
        "compare.npz", "comparison", COMPARE_FORMAT, None, data.checksum, skops=skops.__version__
    )


def expected_configs() -> dict[str, dict]:
    """Every row's config: the contenders', then each KNN preset's.

    The CNN's is the checksum of its shipped weights: retrained weights are measured again.
    """
    configs = {name: c.config for name, c in CONTENDERS.items()}
    try:
        configs["cnn"] = {"sha256": hashlib.sha256(CNN_WEIGHTS.read_bytes()).hexdigest()}
    except OSError:
        configs["cnn"] = {"sha256": None}
    configs |= {knn_name(p): PRESETS[p].config() for p in PRESETS}
    return json.loads(json.dumps(configs))


def _read_meta(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    meta, arrays = read_npz(path)
    if not isinstance(meta, dict) or not isinstance(meta.get("models"), dict):
        raise ArtifactError(path.name, "unreadable (no model records)")
    return meta, arrays


def comparison_problem(data: Mnist) -> str | None:
    """Why models/compare.npz cannot be shown as it is (None when it is fresh and complete).

    Reads only the record, so it is cheap enough for every page view.
    """
    spec = recipe(data)
    if problem := spec.problem():
        return problem
    try:
        meta, _ = _read_meta(spec.path)
    except ArtifactError as exc:
        return exc.reason
    configs = {name: row.get("config") for name, row in meta["models"].items()}
    if configs != expected_configs():
        return "stale (the models or their settings changed)"
    if any(missing_measures(row["result"]) for row in meta["models"].values()):
        return "stale (measures added since it was built)"
    return None


def missing_measures(result: dict) -> list[str]:
    """The measures a row lacks: the time per drawing, and the accuracy on real drawings
    when the dev writers are there to measure it."""
    wanted = ["drawing_ms", *(["real_accuracy"] if real_drawings.available() else [])]
    return [key for key in wanted if key not in result]


def load_skops(path: Path, sha256: str):
    """A model from a .skops file, if its bytes match ``sha256``, with only allow-listed types.

    Raises
    ------
    ValueError
        If the file is missing, fails its checksum, or holds other types or damage.
    """
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ArtifactError(path.name, "missing") from None
    if hashlib.sha256(raw).hexdigest() != sha256:
        raise ValueError(f"{path.name} does not match the checksum recorded in compare.npz")
    try:
        return sio.loads(raw, trusted=SKOPS_TRUSTED)
    except UntrustedTypesFoundException as exc:
        raise ValueError(f"{path.name} holds types outside the allow-list ({exc})") from exc
    except Exception as exc:  # skops raises many kinds of errors on damaged files
        raise ArtifactError(path.name, f"unreadable ({exc})") from exc


def _load_model(name: str, record: dict, arrays: dict):
    if CONTENDERS[name].storage == "shipped":
        return CNNClassifier.load(CNN_WEIGHTS)
    if CONTENDERS[name].storage == "linear":
        try:
            return LinearModel(
                arrays[f"{name}/coef"], arrays[f"{name}/intercept"], name == "logistic_regression"
            )
        except KeyError:
            raise ValueError(f"compare.npz lacks the arrays of {name}") from None
    return load_skops(skops_path(name), record.get("sha256", ""))


def read_comparison(data: Mnist, models: bool = True) -> Comparison:
    """Load models/compare.npz and the models it names, refusing anything stale or damaged.

    With ``models=False`` only the results are read (fast: the random forest
    alone takes seconds to load); ``Comparison.models`` is then empty.

    Raises
    ------
    FileNotFoundError
        If compare.npz does not exist.
    ValueError
        If it or a model file is unreadable, stale, incomplete or fails its checksum.
    """
    if problem := comparison_problem(data):
        if problem == "not built yet":
            raise FileNotFoundError(compare_path())
        raise ArtifactError("compare.npz", f"{problem}")
    meta, arrays = _read_meta(compare_path())
    loaded = {}
    if models:
        loaded = {name: _load_model(name, meta["models"][name], arrays) for name in CONTENDERS}
    rows = [{"name": name} | record["result"] for name, record in meta["models"].items()]
    return Comparison(rows, loaded, meta)


def _time_predict(model, images) -> float:
    start = time.perf_counter()
    predict_images(model, images)
    return time.perf_counter() - start


def _measure_cnn(data: Mnist, progress: Callable[[str], None]) -> tuple[CNNClassifier, dict]:
    """The shipped CNN timed on the test set; its fit time is its training's (in its record)."""
    progress("loading the CNN's weights")
    model = CNNClassifier.load(CNN_WEIGHTS)
    progress(f"timing the CNN on {len(data.y_test):,} test digits")
    start = time.perf_counter()
    predicted = model.predict(data.x_test)
    predict_seconds = time.perf_counter() - start
    training = model.meta.get("training", {})
    return model, {
        "title": CONTENDERS["cnn"].title,
        "kind": "other",
        "description": CONTENDERS["cnn"].description,
        "accuracy": float(np.mean(predicted == data.y_test)),
        "fit_seconds": float(training.get("seconds", float("nan"))),
        "predict_seconds": round(predict_seconds, 6),
        "size_bytes": int(sum(a.nbytes for a in model.weights.values())),
        "n_train": int(training.get("train_digits", 0)),
        "n_test": len(data.y_test),
    }


def _add_measures(records: dict, models: dict, data: Mnist, progress) -> None:
    """Fill in what a row lacks (:func:`missing_measures`): each model's median time to read
    one drawing, and its accuracy on the dev writers' real drawings."""
    lacking = {name: missing_measures(r["result"]) for name, r in records.items()}
    lacking = {name: keys for name, keys in lacking.items() if keys}
    if not lacking:
        return
    real = None
    if any("real_accuracy" in keys for keys in lacking.values()):
        progress(f"rendering {REAL_DRAWINGS:,} real drawings of the dev writers")
        real = real_drawings.render(REAL_DRAWINGS, seed=0)
    singles = data.x_test[:SINGLE_DRAWINGS]
    for name, keys in lacking.items():
        model = models.get(name)
        if model is None:  # a KNN preset
            model = load_artifact(name.removeprefix("knn_"), data=data).model
        progress(f"{records[name]['result']['title']}: one drawing at a time, real drawings")
        result = records[name]["result"]
        if "drawing_ms" in keys:
            times = []
            for digit in singles:
                start = time.perf_counter()
                classify(model, digit)
                times.append(time.perf_counter() - start)
            result["drawing_ms"] = round(float(np.median(times)) * 1e3, 3)
        if "real_accuracy" in keys:
            predicted = predict_images(model, real.images)
            result["real_accuracy"] = float(np.mean(predicted == real.labels))
            result["real_n"] = len(real)


def _train_contender(
    name: str, data: Mnist, progress: Callable[[str], None]
) -> tuple[object, dict]:
    if CONTENDERS[name].storage == "shipped":
        return _measure_cnn(data, progress)
    config = CONTENDERS[name].config
    X, y = pixels(data.x_train), data.y_train
    if config.get("train_size") and config["train_size"] < len(y):
        # A stratified subsample, for estimators too slow on the whole training set.
        from sklearn.model_selection import train_test_split

        X, _, y, _ = train_test_split(
            X, y, train_size=config["train_size"], stratify=y, random_state=0
        )
    progress(f"fitting {CONTENDERS[name].title} on {len(y):,} training digits")
    estimator = make_estimator(name)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # recorded below instead
        estimator.fit(X, y)
    fit_seconds = time.perf_counter() - start
    model = to_storable(name, estimator)
    progress(f"timing {CONTENDERS[name].title} on {len(data.y_test):,} test digits")
    start = time.perf_counter()
    predicted = predict_images(model, data.x_test)
    predict_seconds = time.perf_counter() - start
    n_iter = np.max(getattr(estimator, "n_iter_", 0))
    result = {
        "title": CONTENDERS[name].title,
        "kind": "other",
        "description": CONTENDERS[name].description,
        "accuracy": float(np.mean(predicted == data.y_test)),
        "fit_seconds": round(fit_seconds, 6),
        "predict_seconds": round(predict_seconds, 6),
        "size_bytes": int(fitted_bytes(estimator)),
        "n_train": len(y),
        "n_test": len(data.y_test),
    }
    if name == "logistic_regression" and n_iter >= config["max_iter"]:
        result["description"] += " Stopped at the iteration limit, not fully converged."
    return model, result


def _measure_knn(preset: str, data: Mnist, progress: Callable[[str], None]) -> dict:
    progress(f"loading the KNN preset {preset}")
    artifact = load_artifact(preset, data=data)
    progress(f"timing KNN {preset} on {len(data.y_test):,} test digits")
    predict_seconds = _time_predict(artifact.model, data.x_test)
    return {
        "title": f"KNN ({preset})",
        "kind": "knn",
        "description": PRESETS[preset].description,
        "accuracy": float(artifact.meta["accuracy"]),
        "fit_seconds": float(artifact.meta["fit_seconds"]),
        "predict_seconds": round(predict_seconds, 6),
        "size_bytes": int(fitted_bytes(artifact.model)),
        "n_train": int(artifact.meta["n_train"]),
        "n_test": int(artifact.meta["n_test"]),
    }


def _skops_bytes(model) -> bytes:
    import skops.io as sio

    return sio.dumps(model, compression=zipfile.ZIP_DEFLATED)


def build_comparison(
    data: Mnist,
    progress: Progress | None = None,
    rebuild: bool | list[str] = False,
) -> Comparison:
    """Train and time whatever models/compare.npz lacks, then write it.

    A model whose record is fresh (same data, library versions and config) and
    whose stored file loads is kept; the others are (re)built. ``rebuild=True``
    rebuilds everything; a list of names rebuilds those. ``progress(fraction,
    message)`` is called as the work advances. KNN presets whose artifact is
    missing are built first (see :func:`~mnist_knn.model.load_artifact`).
    """
    report = progress or no_progress
    configs = expected_configs()
    spec = recipe(data)
    force = set(configs) if rebuild is True else set(rebuild or ())
    if unknown := force - set(configs):
        raise ValueError(f"unknown model {sorted(unknown)}; choose from {', '.join(configs)}")
    previous, old_arrays = {}, {}
    try:
        meta, old_arrays = _read_meta(compare_path())
        if spec.stale_reason(meta) is None:
            previous = meta["models"]
    except (FileNotFoundError, ValueError):
        pass
    records, models, arrays = {}, {}, {}
    todo = [n for n in configs if n in force or previous.get(n, {}).get("config") != configs[n]]
    for name in [n for n in configs if n not in todo]:
        try:
            if name in CONTENDERS:
                models[name] = _load_model(name, previous[name], old_arrays)
            records[name] = previous[name]
        except ValueError:
            todo.append(name)
    start = time.perf_counter()
    for i, name in enumerate(sorted(todo, key=list(configs).index)):

        def step(message, i=i):
            report(i / len(todo), message)

        if name in CONTENDERS:
            models[name], result = _train_contender(name, data, step)
            records[name] = {"config": configs[name], "result": result}
            if CONTENDERS[name].storage == "skops":
                raw = _skops_bytes(models[name])
                atomic_write_bytes(skops_path(name), raw)
                records[name]["sha256"] = hashlib.sha256(raw).hexdigest()
        else:
            preset = name.removeprefix("knn_")
            records[name] = {"config": configs[name], "result": _measure_knn(preset, data, step)}
    _add_measures(records, models, data, lambda message: report(0.95, message))
    for name in CONTENDERS:
        if CONTENDERS[name].storage == "linear":
            arrays[f"{name}/coef"] = models[name].coef_
            arrays[f"{name}/intercept"] = models[name].intercept_
    meta = spec.save(
        arrays,
        built=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        build_seconds=round(time.perf_counter() - start, 3),
        models={name: records[name] for name in configs},
    )
    report(1.0, f"compared {len(configs)} models ({len(todo)} trained or timed now)")
    rows = [{"name": name} | record["result"] for name, record in meta["models"].items()]
    return Comparison(rows, models, meta)


def load_comparison(
    data: Mnist, progress: Progress | None = None, rebuild: bool | list[str] = False
) -> Comparison:
    """The comparison from models/, (re)building what is missing or stale first."""
    return load_or_build(
        recipe(data),
        lambda: read_comparison(data),
        lambda: build_comparison(data, progress, rebuild),
        rebuild=bool(rebuild),
        warn=False,
    )
