"""Choose the presets' hyperparameters by cross-validation on the training set only."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from itertools import product

import numpy as np
from sklearn.decomposition import PCA
from sklearn.model_selection import StratifiedKFold

from ..artifacts import Progress, atomic_write_bytes, library_versions, models_dir
from ..data import Mnist
from ..features import Blur, Deskew, EdgeDirections
from ..model import K_MAX, Preset, make_pipeline
from ..neighbors import BlasKNeighborsClassifier, vote

BLURS = (0.0, 0.5, 0.75, 1.0, 1.25)
PCAS = (20, 30, 40, 50, 60, 80, 100)
AUGMENTS = ((4, ()), (8, ()), (0, (-8.0, 8.0)), (4, (-8.0, 8.0)), (8, (-10.0, -5.0, 5.0, 10.0)))
WEIGHTS = ("uniform", "distance")


def _vote_all(dist, neigh_labels, y_true) -> dict[tuple[int, str], float]:
    """Accuracy for every k in 1..K_MAX and both weightings, from one neighbour search."""
    return {
        (k, w): float(np.mean(vote(dist, neigh_labels, k, w).argmax(axis=1) == y_true))
        for k, w in product(range(1, K_MAX + 1), WEIGHTS)
    }


def _rows(scores: dict, **config) -> list[dict]:
    """Mean and std over folds for each (k, weights) of one feature configuration."""
    return [
        {**config, "k": k, "weights": w, "accuracy": float(np.mean(v)), "std": float(np.std(v))}
        for (k, w), v in scores.items()
    ]


def grid_search(
    data: Mnist,
    folds: int = 5,
    progress: Progress | None = None,
    blurs: tuple = BLURS,
    pcas: tuple = PCAS,
    edges: tuple = (False, True),
) -> list[dict]:
    """Cross-validated accuracy of deskew x blur x pixels or edges x PCA size x k x weights.

    Deskew, blur and the edge directions act on each image alone, so they are
    applied to the whole training set once; PCA is fitted on each fold's training
    part only, once per configuration at the largest size (the leading components of
    an exact PCA are the smaller PCAs); one search per size then votes every k and
    weighting. Edges are tried on deskewed digits only (deskewing is what matters most).
    """
    progress = progress or (lambda f, m: None)
    splits = list(
        StratifiedKFold(folds, shuffle=True, random_state=0).split(data.y_train, data.y_train)
    )
    configs = [(False, 0.0, False)] * (False in edges) + [
        (True, b, e) for e in edges for b in blurs
    ]
    deskewed = Deskew().transform(data.x_train)
    raw = data.x_train.astype(np.float32) / 255
    rows, done, total = [], 0, len(configs) * folds
    for deskew, blur, edge in configs:
        images = Blur(blur).transform(deskewed if deskew else raw).reshape(len(raw), -1)
        if edge:
            images = EdgeDirections().transform(images)
        scores = {n: {} for n in pcas}
        for train, valid in splits:
            progress(
                done / total,
                f"deskew={deskew} blur={blur} edges={edge}: fold {done % folds + 1}/{folds}",
            )
            pca = PCA(max(pcas), svd_solver="covariance_eigh").fit(images[train])
            f_train, f_valid = pca.transform(images[train]), pca.transform(images[valid])
            for n in pcas:
                knn = BlasKNeighborsClassifier().fit(f_train[:, :n], data.y_train[train])
                dist, ind = knn.kneighbors(f_valid[:, :n], n_neighbors=K_MAX)
                fold = _vote_all(dist, data.y_train[train][ind], data.y_train[valid])
                for key, acc in fold.items():
                    scores[n].setdefault(key, []).append(acc)
            done += 1
        for n in pcas:
            rows += _rows(
                scores[n], deskew=deskew, blur=blur, edges=edge, pca=n, shifts=0, angles=[]
            )
    progress(1.0, "grid done")
    return rows


def augment_search(
    data: Mnist,
    base: Preset,
    folds: int = 5,
    progress: Progress | None = None,
    augments: tuple = AUGMENTS,
) -> list[dict]:
    """Cross-validated accuracy of ``base`` with each augmentation of :data:`AUGMENTS`.

    Each fold fits the real pipeline (augmenting only the fold's training part).
    """
    progress = progress or (lambda f, m: None)
    splits = list(
        StratifiedKFold(folds, shuffle=True, random_state=0).split(data.y_train, data.y_train)
    )
    rows, done, total = [], 0, len(augments) * folds
    for shifts, angles in augments:
        # The copies are searched, instead of measured as variants of the candidates.
        preset = replace(base, shifts=shifts, angles=angles, variants=())
        scores: dict = {}
        for train, valid in splits:
            progress(done / total, f"shifts={shifts} angles={angles}: fold {done % folds + 1}")
            model = make_pipeline(preset).fit(data.x_train[train], data.y_train[train])
            found = model.search(data.x_train[valid], n_neighbors=K_MAX)
            for key, acc in _vote_all(found.dist, found.neigh_labels, data.y_train[valid]).items():
                scores.setdefault(key, []).append(acc)
            done += 1
        rows += _rows(
            scores,
            deskew=base.deskew,
            blur=base.blur,
            edges=base.edges,
            pca=base.pca,
            shifts=shifts,
            angles=list(angles),
        )
    progress(1.0, "augmentation done")
    return rows


def best_row(rows: list[dict]) -> dict:
    """The highest mean accuracy; ties go to the simpler (fewer components, smaller k)."""
    return max(rows, key=lambda r: (round(r["accuracy"], 5), -(r["pca"] or 0), -r["k"]))


def run_selection(data: Mnist, folds: int = 5, progress: Progress | None = None) -> dict:
    """Grid search, then augmentation around its winner; written to models/selection.json."""
    start = time.perf_counter()
    grid = grid_search(data, folds, progress)
    top = best_row(grid)
    base = Preset(
        "candidate",
        "",
        deskew=top["deskew"],
        blur=top["blur"],
        edges=top["edges"],
        pca=top["pca"],
        k=top["k"],
        weights=top["weights"],
    )
    augmented = augment_search(data, base, folds, progress)
    result = {
        "folds": folds,
        "data_checksum": data.checksum,
        "versions": library_versions(),
        "seconds": round(time.perf_counter() - start, 1),
        "best_plain": top,
        "best_augmented": best_row(augmented),
        "grid": grid,
        "augmented": augmented,
    }
    atomic_write_bytes(models_dir() / "selection.json", json.dumps(result, indent=1).encode())
    return result
