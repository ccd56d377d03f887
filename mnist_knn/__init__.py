"""mnist-knn: draw a digit, see a k-nearest-neighbours model trained on MNIST classify it."""

from .artifacts import StaleArtifactWarning
from .data import Mnist, MnistNotFoundError, load_mnist, read_idx, write_idx
from .model import DEFAULT_PRESET, PRESETS, KNNPipeline
from .preprocess import EmptyDrawingError, ImageError, preprocess_steps, to_mnist
from .trained import load_artifact, load_model

__all__ = [
    "DEFAULT_PRESET",
    "PRESETS",
    "EmptyDrawingError",
    "ImageError",
    "KNNPipeline",
    "Mnist",
    "MnistNotFoundError",
    "StaleArtifactWarning",
    "load_artifact",
    "load_mnist",
    "load_model",
    "preprocess_steps",
    "read_idx",
    "to_mnist",
    "write_idx",
]
