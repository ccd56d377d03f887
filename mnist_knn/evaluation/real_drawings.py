"""Real pen-drawn digits for validation: the UNIPEN dev writers beside the project.

The shared folder (``../shared`` next to the project, or ``$MNIST_KNN_SHARED``) holds
6,215 digits written with a stylus by seven institutions' writers, as strokes, and
the script that renders them exactly as the app's canvas draws pointer input. They
are for measuring and tuning only: never training data, never copied into the
project, and absent on most machines, where :func:`available` is False and the
benchmarks and pages that use them say so or leave them out.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from ..artifacts import PROJECT_ROOT
from ..preprocess import EmptyDrawingError, to_mnist

BACKGROUNDS = ("white", "black", "transparent")
BRUSHES = ("default", "random")


def shared_dir() -> Path:
    """``$MNIST_KNN_SHARED``, else the ``shared`` folder beside the project."""
    return Path(os.environ.get("MNIST_KNN_SHARED") or PROJECT_ROOT.parent / "shared")


def _paths() -> tuple[Path, Path]:
    base = shared_dir()
    return base / "data" / "unipen" / "unipen1a-dev.npz", base / "tools" / "unipen_render.py"


def available() -> bool:
    """Whether the dev writers' strokes and their renderer are there."""
    return all(path.is_file() for path in _paths())


@cache
def _renderer():
    # The renderer is the shared folder's own script, loaded from its file: the check
    # that measures the app renders with it, so this measures what that check sees.
    spec = importlib.util.spec_from_file_location("unipen_render", _paths()[1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def _strokes() -> dict:
    return _renderer().load(_paths()[0])


@dataclass(frozen=True)
class RealDrawings:
    """Rendered real digits: the canvases, and what the model receives of them."""

    canvases: list  # n RGBA PIL images, 280x280, as the canvas gives them
    images: np.ndarray  # (n, 28, 28) uint8: to_mnist of each canvas
    labels: np.ndarray  # (n,) uint8
    institutions: np.ndarray  # (n,) str: the writers' institution
    readable: np.ndarray  # (n,) bool: False where to_mnist found no ink

    def __len__(self) -> int:
        return len(self.labels)


def render(
    n: int = 1000,
    seed: int = 0,
    background: str = "white",
    brush: str = "default",
    institutions: tuple[str, ...] | None = None,
) -> RealDrawings:
    """``n`` dev-writer digits rendered as the canvas draws them, stratified by institution
    and label as the shared script samples them.

    Parameters
    ----------
    n, seed : int
        How many, and the seed of the sample, sizes, places and random brushes.
    background : {"white", "black", "transparent"}
    brush : {"default", "random"}
        The canvas's default 23 px brush, or a random 12-32 px one per digit.
    institutions : tuple of str, optional
        Only these writers' institutions (e.g. to keep some apart for a final check).

    Raises
    ------
    FileNotFoundError
        If the shared folder is not there (see :func:`available`).
    """
    if not available():
        raise FileNotFoundError(f"no UNIPEN dev writers under {shared_dir()}")
    if background not in BACKGROUNDS or brush not in BRUSHES:
        raise ValueError(f"background must be one of {BACKGROUNDS}, brush one of {BRUSHES}")
    tool, strokes = _renderer(), _strokes()
    names = strokes["inst_names"][strokes["inst"]].astype(str)
    kept = np.arange(len(names))
    if institutions is not None:
        kept = np.flatnonzero(np.isin(names, institutions))
    rng = np.random.default_rng(seed)
    subset = {"inst": strokes["inst"][kept], "labels": strokes["labels"][kept]}
    chosen = kept[tool.stratified(subset, n, rng)]
    rng.shuffle(chosen)
    canvases, images, readable = [], [], []
    for j in chosen:
        width = int(rng.integers(12, 33)) if brush == "random" else tool.DEFAULT_BRUSH
        canvas, _ = tool.render(tool.digit_strokes(strokes, j), rng, background, width)
        canvases.append(canvas)
        try:
            images.append(to_mnist(canvas))
            readable.append(True)
        except EmptyDrawingError:
            images.append(np.zeros((28, 28), np.uint8))
            readable.append(False)
    return RealDrawings(
        canvases,
        np.array(images, dtype=np.uint8).reshape(-1, 28, 28),
        strokes["labels"][chosen].astype(np.uint8),
        names[chosen],
        np.array(readable, bool),
    )
