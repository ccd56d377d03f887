"""Shared fixtures: a small real-MNIST subset and an isolated models/ for every test session.

Every test runs against MNIST_DIR = a 3,000/500-digit subset of the shipped
data and MNIST_KNN_MODELS_DIR = a fresh temp folder, so artifacts build in
about a second and the project's own models/ is never touched.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_knn import data as mnist_data

N_TRAIN, N_TEST = 3000, 500


@pytest.fixture(scope="session", autouse=True)
def small_mnist(tmp_path_factory):
    """Write the first 3,000 training and 500 test digits as IDX .gz; point MNIST_DIR there."""
    saved = {key: os.environ.get(key) for key in ("MNIST_DIR", "MNIST_KNN_MODELS_DIR")}
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
    os.environ["MNIST_KNN_MODELS_DIR"] = str(tmp_path_factory.mktemp("models"))
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


def stroke_image(
    points,
    size: int = 280,
    width: int = 18,
    ink=(0, 0, 0, 255),
    background=(255, 255, 255, 255),
    mode: str = "RGBA",
) -> Image.Image:
    """A canvas-like drawing: a polyline through ``points`` (fractions of ``size``), round brush."""
    img = Image.new(mode, (size, size), background)
    draw = ImageDraw.Draw(img)
    xy = [(x * size, y * size) for x, y in points]
    draw.line(xy, fill=ink, width=width, joint="curve")
    r = width / 2
    for x, y in (xy[0], xy[-1]):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=ink)
    return img


ONE = [(0.5, 0.2), (0.5, 0.8)]
ZERO = [(0.5 + 0.2 * np.sin(t), 0.5 - 0.3 * np.cos(t)) for t in np.linspace(0, 2 * np.pi, 40)]
SEVEN = [(0.3, 0.25), (0.7, 0.25), (0.45, 0.8)]


def age_versions(path) -> None:
    """Rewrite the .npz artifact at ``path`` as if built with another scikit-learn."""
    meta, arrays = mnist_data.read_npz(path)
    meta["versions"]["scikit-learn"] = "0.0"
    np.savez(path, meta=np.array(json.dumps(meta)), **arrays)
