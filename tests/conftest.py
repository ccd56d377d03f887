"""Shared fixtures: a small real-MNIST subset and an isolated models/ for every test session.

Real drawings (../shared) are hidden from the tests: they must pass without them.

Every test runs against MNIST_DIR = a 3,000/500-digit subset of the shipped
data and MNIST_KNN_MODELS_DIR = a fresh temp folder, so artifacts build in
about a second and the project's own models/ is never touched.
"""

from __future__ import annotations

import os

import pytest

from mnist_knn import data as mnist_data

N_TRAIN, N_TEST = 3000, 500


@pytest.fixture(scope="session", autouse=True)
def small_mnist(tmp_path_factory):
    """Write the first 3,000 training and 500 test digits as IDX .gz; point MNIST_DIR there."""
    keys = ("MNIST_DIR", "MNIST_KNN_MODELS_DIR", "MNIST_KNN_BACKGROUND", "MNIST_KNN_SHARED")
    saved = {key: os.environ.get(key) for key in keys}
    os.environ.pop("MNIST_DIR", None)
    full = mnist_data.load_mnist(download=False)
    folder = tmp_path_factory.mktemp("mnist-small")
    for key, (stem, _, _) in mnist_data.MNIST_FILES.items():
        split, kind = key.split("_")
        array = getattr(full, f"{'x' if kind == 'images' else 'y'}_{split}")
        mnist_data.write_idx(
            folder / f"{stem}.gz", array[: N_TRAIN if split == "train" else N_TEST]
        )
    os.environ["MNIST_DIR"] = str(folder)
    # No builds at server start in tests: each test builds what it needs, when it needs it.
    os.environ["MNIST_KNN_BACKGROUND"] = "0"
    os.environ["MNIST_KNN_MODELS_DIR"] = str(tmp_path_factory.mktemp("models"))
    # The tests never need the real drawings beside the project (../shared): the one test
    # of them points here at the real folder itself.
    os.environ["MNIST_KNN_SHARED"] = str(tmp_path_factory.mktemp("no-shared"))
    yield folder
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    """A fresh, empty models folder for one test."""
    monkeypatch.setenv("MNIST_KNN_MODELS_DIR", str(tmp_path / "models"))
    return tmp_path / "models"
