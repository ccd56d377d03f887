"""A small LeNet-style CNN for MNIST, run with numpy alone (no torch at inference).

The weights come from ``python -m mnist_knn train-cnn`` (:mod:`.cnn_training`, PyTorch,
an optional extra: requirements-cnn.txt) as an .npz of float32 arrays named like
torch's ``state_dict`` plus a JSON ``meta`` record. This module re-implements exactly that
forward pass::

    x = uint8 (n, 28, 28) / 255                      -> (n, 1, 28, 28)
    conv1 5x5, pad 2, w channels   ReLU  maxpool 2   -> (n, w, 14, 14)
    conv2 5x5, pad 2, 2w channels  ReLU  maxpool 2   -> (n, 2w, 7, 7)
    flatten (channel-major, as torch)                -> (n, 98w)
    fc1 hidden  ReLU,  fc2 10,  softmax              -> (n, 10)

Dropout was used in training only (identity at inference). ``load_weights`` refuses any file
that is not exactly such a record, with a ValueError that says what is wrong.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..artifacts import PROJECT_ROOT, atomic_write
from ..neighbors import one_thread_if_small

FORMAT = "mnist-knn/cnn-weights"
FORMAT_VERSION = 1
ARCHITECTURE = "lenet-2conv5-pool2-fc2"
INPUT_SCALE = 1 / 255  # the network was trained on uint8 pixels / 255, ink = 1.0
KERNEL = 5
# Bounds on what a weights file may declare, and on the file itself: checked *before* any
# array is read, so a hostile or broken file cannot make us allocate much.
MAX_WIDTH = 64
MAX_HIDDEN = 1024
MAX_BYTES = 16 * 2**20
BATCH = 256  # images per forward chunk: bounds the im2col buffers (~40 MB at width 16)

# The trained weights ship with the project (small), so a fresh clone shows the CNN.
DEFAULT_PATH = PROJECT_ROOT / "data" / "cnn" / "cnn.npz"


def expected_shapes(width: int, hidden: int) -> dict[str, tuple[int, ...]]:
    """Array name -> exact shape for an architecture of conv1 ``width`` and fc1 ``hidden``."""
    return {
        "conv1.weight": (width, 1, KERNEL, KERNEL),
        "conv1.bias": (width,),
        "conv2.weight": (2 * width, width, KERNEL, KERNEL),
        "conv2.bias": (2 * width,),
        "fc1.weight": (hidden, 2 * width * 7 * 7),
        "fc1.bias": (hidden,),
        "fc2.weight": (10, hidden),
        "fc2.bias": (10,),
    }


# ---------------------------------------------------------------------------- forward pass


def conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Same-size 2-D cross-correlation (torch's Conv2d with padding = k // 2).

    Parameters
    ----------
    x : ndarray, float32 (n, c_in, h, w)
    weight : ndarray, float32 (c_out, c_in, k, k), k odd
    bias : ndarray, float32 (c_out,)

    Returns
    -------
    ndarray, float32 (n, c_out, h, w)
    """
    k = weight.shape[-1]
    p = k // 2
    padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    # im2col as a view: (n, c_in, h, w, k, k); tensordot copies it into one matrix and runs
    # a single BLAS product, much faster than k*k shifted adds for these sizes.
    windows = sliding_window_view(padded, (k, k), axis=(2, 3))
    out = np.tensordot(windows, weight, axes=((1, 4, 5), (1, 2, 3)))  # (n, h, w, c_out)
    out += bias
    return out.transpose(0, 3, 1, 2)


def max_pool2(x: np.ndarray) -> np.ndarray:
    """2x2 max-pool, stride 2: (n, c, h, w) -> (n, c, h // 2, w // 2), h and w even."""
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0, out=x)


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of logits (n, k), shifted by the row max so exp cannot overflow."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def logits(weights: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Raw scores of the network.

    Parameters
    ----------
    weights : dict of str to ndarray
        The arrays of :func:`expected_shapes`, float32.
    x : ndarray, float32 (n, 1, 28, 28)
        Pixels already scaled to [0, 1] (ink = 1).

    Returns
    -------
    ndarray, float32 (n, 10)
    """
    x = max_pool2(relu(conv2d(x, weights["conv1.weight"], weights["conv1.bias"])))
    x = max_pool2(relu(conv2d(x, weights["conv2.weight"], weights["conv2.bias"])))
    x = x.reshape(len(x), -1)  # (n, c, 7, 7) -> (n, c*49): the order torch's flatten uses
    x = relu(x @ weights["fc1.weight"].T + weights["fc1.bias"])
    return x @ weights["fc2.weight"].T + weights["fc2.bias"]


# ---------------------------------------------------------------------------- file format


def _damaged(name: str, problem: str) -> ValueError:
    return ValueError(f"{name} is damaged: {problem}")


def check_meta(meta: object, name: str = "weights") -> tuple[int, int]:
    """Validate a meta record; return the architecture's ``(width, hidden)``.

    Raises
    ------
    ValueError
        If it is not this format, version or architecture, or declares sizes out of bounds.
    """
    if not isinstance(meta, dict):
        raise _damaged(name, "meta is not a JSON object")
    if meta.get("format") != FORMAT:
        raise ValueError(
            f"{name} is not a CNN weights file: meta format is {meta.get('format')!r}, "
            f"expected {FORMAT!r}"
        )
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{name} has weights format version {meta.get('format_version')!r}; this code reads "
            f"version {FORMAT_VERSION}: retrain with `python -m mnist_knn train-cnn`"
        )
    arch = meta.get("architecture")
    if not isinstance(arch, dict) or arch.get("name") != ARCHITECTURE:
        got = arch.get("name") if isinstance(arch, dict) else arch
        raise ValueError(f"{name} holds architecture {got!r}; this code runs only {ARCHITECTURE!r}")
    sizes = []
    for key, top in (("width", MAX_WIDTH), ("hidden", MAX_HIDDEN)):
        value = arch.get(key)
        # bool is an int subclass; "true" channels is not a size.
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
            raise _damaged(name, f"architecture {key} is {value!r}, expected an int in 1..{top}")
        sizes.append(value)
    return sizes[0], sizes[1]


def check_weights(weights: dict[str, np.ndarray], meta: object, name: str = "weights") -> None:
    """Validate arrays against the meta's architecture: names, exact shapes, float32, finite.

    Raises
    ------
    ValueError
        Naming the first array that is missing, unexpected, mis-shaped, mistyped or not finite.
    """
    shapes = expected_shapes(*check_meta(meta, name))
    missing = sorted(set(shapes) - set(weights))
    extra = sorted(set(weights) - set(shapes))
    if missing:
        raise _damaged(name, f"array(s) {', '.join(missing)} missing")
    if extra:
        raise _damaged(name, f"unexpected array(s) {', '.join(extra)}")
    for key, shape in shapes.items():
        a = weights[key]
        if a.shape != shape:
            raise _damaged(name, f"{key} has shape {a.shape} but {shape} was expected")
        if a.dtype != np.float32:
            raise _damaged(name, f"{key} has dtype {a.dtype} but float32 was expected")
        if not np.isfinite(a).all():
            raise _damaged(name, f"{key} holds NaN or infinite values")


def load_weights(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict]:
    """Read and validate a weights file written by :func:`save_weights`.

    Parameters
    ----------
    path : str or PathLike

    Returns
    -------
    weights : dict of str to ndarray (float32)
    meta : dict
        Format, architecture, training settings and test accuracy.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is too big, not a readable .npz, or not exactly the expected arrays.
    """
    path = Path(path)
    name = path.name
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise _damaged(name, f"{size:,} bytes, more than the {MAX_BYTES:,} a weights file may be")
    try:
        # Uncompressed sizes too: a small zip can inflate to gigabytes (a "zip bomb").
        with zipfile.ZipFile(path) as zf:
            inflated = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise _damaged(name, f"not a readable .npz ({exc})") from exc
    if inflated > MAX_BYTES:
        raise _damaged(name, f"its arrays inflate to {inflated:,} bytes (> {MAX_BYTES:,})")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        # ValueError includes "Object arrays cannot be loaded when allow_pickle=False".
        raise _damaged(name, f"an array cannot be read ({exc})") from exc
    raw = arrays.pop("meta", None)
    if raw is None:
        raise _damaged(name, "array meta missing (it is not a CNN weights file)")
    if raw.dtype.kind != "U" or raw.ndim != 0:
        raise _damaged(name, f"meta is {raw.dtype} {raw.shape}, expected a JSON string")
    try:
        meta = json.loads(str(raw))
    except (json.JSONDecodeError, RecursionError) as exc:  # RecursionError: absurd nesting
        raise _damaged(name, f"meta is not valid JSON ({exc})") from exc
    check_weights(arrays, meta, name)
    return arrays, meta


def save_weights(path: str | os.PathLike, weights: dict[str, np.ndarray], meta: dict) -> None:
    """Validate, then write atomically (temp file in the same folder + ``os.replace``).

    A reader never sees half a file, and a crash leaves the previous weights in place.
    """
    path = Path(path)
    check_weights(weights, meta, path.name)
    arrays = dict(weights, meta=np.array(json.dumps(meta)))
    atomic_write(path, lambda fh: np.savez_compressed(fh, **arrays))


# ---------------------------------------------------------------------------- classifier


class CNNClassifier:
    """The trained CNN with a scikit-learn-like interface (already fitted; numpy only).

    Parameters
    ----------
    weights : dict of str to ndarray
        float32 arrays named as in :func:`expected_shapes`.
    meta : dict
        The record saved with them (format, architecture, training, test accuracy).

    Attributes
    ----------
    classes_ : ndarray, int (10,)
        The digits 0-9; column ``j`` of :meth:`predict_proba` is digit ``classes_[j]``.
    meta : dict
    """

    classes_ = np.arange(10)

    def __init__(self, weights: dict[str, np.ndarray], meta: dict):
        weights = {key: np.asarray(value) for key, value in weights.items()}
        check_weights(weights, meta)
        self.weights = weights
        self.meta = meta

    @classmethod
    def load(cls, path: str | os.PathLike = DEFAULT_PATH) -> CNNClassifier:
        """Read a weights file (see :func:`load_weights` for what is checked and raised)."""
        return cls(*load_weights(path))

    def predict_proba(self, X) -> np.ndarray:
        """Probability of each digit.

        Parameters
        ----------
        X : array-like, uint8 (n, 28, 28)
            MNIST-style images, ink = 255 on 0 background: the IDX files and
            ``mnist_knn.preprocess.to_mnist`` output as they are. Any integer dtype with
            values in 0..255 is accepted; floats are refused, since [0, 1]-scaled pixels
            would silently read as a near-blank image.

        Returns
        -------
        ndarray, float32 (n, 10)
            Rows sum to 1.
        """
        X = np.asarray(X)
        if X.ndim != 3 or X.shape[1:] != (28, 28):
            raise ValueError(f"expected images of shape (n, 28, 28), got {X.shape}")
        if X.dtype.kind not in "ui":
            raise ValueError(
                f"expected uint8 pixels 0..255 (ink = 255), got dtype {X.dtype}; "
                "do not pass [0, 1]-scaled floats"
            )
        if X.size and (X.min() < 0 or X.max() > 255):
            raise ValueError("pixel values must lie in 0..255")
        out = np.empty((len(X), 10), dtype=np.float32)
        with one_thread_if_small(X):  # one drawing: thread pools cost more than they save
            for i in range(0, len(X), BATCH):
                x = X[i : i + BATCH, None].astype(np.float32) * np.float32(INPUT_SCALE)
                out[i : i + BATCH] = softmax(logits(self.weights, x))
        return out

    def predict(self, X) -> np.ndarray:
        """Most probable digit per image.

        Parameters
        ----------
        X : array-like, uint8 (n, 28, 28)
            As for :meth:`predict_proba`.

        Returns
        -------
        ndarray, int (n,)
        """
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
