"""Feature steps as scikit-learn transformers over batches of 28x28 images."""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import ndimage
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA

from .neighbors import one_blas_thread

SIDE = 28
PADDED = 32  # EdgeDirections measures edges on the image padded by 2 pixels


def as_images(X) -> np.ndarray:
    """Return ``X`` as float32 images (n, 28, 28) scaled to [0, 1].

    Accepts uint8 MNIST-style images (n, 28, 28) with ink = 255, one image
    (28, 28), or flattened rows (n, 784). Floats are taken as already in [0, 1].
    """
    X = np.asarray(X)
    if X.ndim == 2 and X.shape == (SIDE, SIDE):
        X = X[None]
    elif X.ndim == 2 and X.shape[1] == SIDE * SIDE:
        X = X.reshape(-1, SIDE, SIDE)
    if X.ndim != 3 or X.shape[1:] != (SIDE, SIDE):
        raise ValueError(f"expected images of shape (n, 28, 28) or (n, 784), got {X.shape}")
    if np.issubdtype(X.dtype, np.integer):
        return X.astype(np.float32) / np.float32(255)
    return X.astype(np.float32, copy=False)


def in_batches(step, X: np.ndarray, batch: int, out: np.ndarray) -> np.ndarray:
    """``out[i:i + batch] = step(X[i:i + batch])`` for each batch, the batches shared
    out over the cores (numpy lets go of the GIL in the array work), BLAS on one
    thread inside each; one batch runs on the calling thread. Returns ``out``."""
    starts = range(0, len(X), batch)

    def run(start: int) -> None:
        out[start : start + batch] = step(X[start : start + batch])

    workers = min(len(starts), os.cpu_count() or 1)
    if workers > 1:
        with one_blas_thread(), ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, starts))
    else:
        for start in starts:
            run(start)
    return out


class StatelessTransformer(TransformerMixin, BaseEstimator):
    """A transformer whose ``fit`` learns nothing (it only records the input width)."""

    def fit(self, X, y=None):
        """Learn nothing; record the input width.

        Parameters
        ----------
        X : array (n, 28, 28) or (n, 784)
            Images (ignored).
        y : ignored

        Returns
        -------
        self
        """
        self.n_features_in_ = SIDE * SIDE
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


class Deskew(StatelessTransformer):
    """Straighten slanted digits with image moments, and centre them by mass.

    The shear that makes the intensity covariance of row and column zero,
    ``col += alpha * (row - row_mean)`` with ``alpha = cov(row, col) / var(row)``,
    is the classic moments-based deskew that halves a raw-pixel KNN's error on
    MNIST. Bilinear resampling, vectorised over each batch.

    Parameters
    ----------
    batch_size : int
        Images resampled at once (bounds the memory of the coordinate grid).
    """

    def __init__(self, batch_size: int = 1024):
        self.batch_size = batch_size

    def transform(self, X):
        """Images ``X`` (n, 28, 28) or (n, 784), deskewed and centred: float32 (n, 28, 28)."""
        X = as_images(X)
        return in_batches(_deskew_batch, X, self.batch_size, np.empty_like(X))


def _deskew_batch(images: np.ndarray) -> np.ndarray:
    n = len(images)
    grid = np.arange(SIDE, dtype=np.float32)
    total = images.sum(axis=(1, 2))
    safe = np.where(total > 0, total, 1)
    row_mass, col_mass = images.sum(axis=2), images.sum(axis=1)
    mr = row_mass @ grid / safe
    mc = col_mass @ grid / safe
    dr = grid[None, :] - mr[:, None]
    dc = grid[None, :] - mc[:, None]
    var_r = (row_mass * dr**2).sum(axis=1) / safe
    cov_rc = np.einsum("nij,ni,nj->n", images, dr, dc) / safe
    alpha = np.where(var_r > 1e-6, cov_rc / np.where(var_r > 1e-6, var_r, 1), 0)
    alpha = np.where(total > 0, alpha, 0)
    centre, last = (SIDE - 1) / 2, SIDE - 1
    # Output pixel (r, c) samples the input at
    # (r + mr - centre, c + mc - centre + alpha * (r - centre)), bilinearly, and is 0
    # where that point lies outside the image (map_coordinates' order=1, "constant").
    # The row coordinate has one fraction per image and the column coordinate does
    # not depend on the source row, so this is two passes: blend whole rows, then
    # blend along each row (2.5x faster than map_coordinates on the same points).
    src_r = grid[None, :] + (mr - centre)[:, None]  # (n, 28): per output row
    top = np.floor(src_r)
    frac_r = (src_r - top)[:, :, None]
    top = top.astype(np.intp)
    row_start = (np.arange(n, dtype=np.intp) * SIDE)[:, None]
    by_rows = images.reshape(n * SIDE, SIDE)
    above = by_rows[(row_start + np.clip(top, 0, last)).ravel()].reshape(n, SIDE, SIDE)
    below = by_rows[(row_start + np.clip(top + 1, 0, last)).ravel()].reshape(n, SIDE, SIDE)
    rows = above + frac_r * (below - above)
    shift = (mc - centre)[:, None] + alpha[:, None] * (grid[None, :] - centre)  # (n, 28)
    src_c = grid[None, None, :] + shift[:, :, None]  # (n, 28, 28)
    left = np.floor(src_c)
    frac_c = src_c - left
    left = left.astype(np.intp)
    pixel_start = (np.arange(n * SIDE, dtype=np.intp) * SIDE).reshape(n, SIDE, 1)
    flat = rows.reshape(-1)
    at_left = flat[pixel_start + np.clip(left, 0, last)]
    at_right = flat[pixel_start + np.clip(left + 1, 0, last)]
    inside = ((src_r >= 0) & (src_r <= last))[:, :, None] & (src_c >= 0) & (src_c <= last)
    out = np.where(inside, at_left + frac_c * (at_right - at_left), 0).astype(np.float32)
    return np.where(total[:, None, None] > 0, out, images)


class Blur(StatelessTransformer):
    """Gaussian blur of each image (``sigma`` in pixels; 0 leaves images unchanged)."""

    def __init__(self, sigma: float = 0.0):
        self.sigma = sigma

    def transform(self, X):
        """Images ``X`` (n, 28, 28) or (n, 784), blurred: float32 (n, 28, 28)."""
        X = as_images(X)
        if self.sigma <= 0:
            return X
        return ndimage.gaussian_filter(X, sigma=(0, self.sigma, self.sigma), mode="constant")


class Flatten(StatelessTransformer):
    """Images (n, 28, 28) -> float32 rows (n, 784) in [0, 1]."""

    def transform(self, X):
        """Parameters: X, array (n, 28, 28) or (n, 784). Returns: ndarray (n, 784) float32."""
        return as_images(X).reshape(-1, SIDE * SIDE)


class EdgeDirections(StatelessTransformer):
    """Where the digit's outline runs in each of ``directions`` directions, on a coarse grid.

    The classic gradient-direction feature of handwriting recognition (Liu et al.,
    "Handwritten digit recognition: benchmarking of state-of-the-art techniques", 2003):
    each pixel's Sobel gradient is shared between the two nearest of ``directions``
    evenly spaced directions, each direction's map is smoothed by a Gaussian and sampled
    every ``cell`` pixels, and the result is square-rooted so faint and strong edges
    count more alike. Edges change less than ink with stroke width and a pixel's shift,
    so a plain KNN on these reads MNIST and drawn digits better than on the pixels
    (docs/real-drawings.md).

    Parameters
    ----------
    directions : int
        How many directions the gradient is shared between (8: every 45 degrees).
    cell : int
        Grid spacing in pixels; the 28x28 image padded to 32x32 gives (32 / cell)^2
        cells per direction.
    """

    # Images per batch: bounds the (batch, directions, 32 * 32) maps to ~17 MB each.
    BATCH = 512

    def __init__(self, directions: int = 8, cell: int = 4):
        self.directions = directions
        self.cell = cell

    def _sampler(self) -> np.ndarray:
        """(cells, 32): the Gaussian smoothing (sigma = cell / 2) sampled at each cell's centre."""
        if self.directions < 2 or self.cell < 1 or PADDED % self.cell:
            raise ValueError(
                f"directions must be >= 2 and cell divide {PADDED}; "
                f"got {self.directions} and {self.cell}"
            )
        centres = np.arange(self.cell // 2, PADDED, self.cell)
        offsets = np.arange(PADDED)[None, :] - centres[:, None]
        weights = np.exp(-0.5 * (offsets / (self.cell / 2)) ** 2)
        return (weights / weights.sum(1, keepdims=True)).astype(np.float32)

    def transform(self, X):
        """Images ``X`` (n, 28, 28) or (n, 784) -> float32 (n, directions * (32 / cell)^2)."""
        X = as_images(X)
        sample = self._sampler()  # checks the parameters
        out = np.empty((len(X), self.directions * len(sample) ** 2), np.float32)
        return in_batches(functools.partial(self._batch, sample=sample), X, self.BATCH, out)

    def _batch(self, images: np.ndarray, sample: np.ndarray) -> np.ndarray:
        """:meth:`transform` of one batch (b, 28, 28) float32 with the smoothing ``sample``
        (:meth:`_sampler`): the (b, directions, 32 * 32) maps it makes are what ``BATCH``
        bounds."""
        cells = len(sample)
        pixels = PADDED * PADDED
        padded = np.pad(images, ((0, 0), (3, 3), (3, 3)))
        across = padded[:, :, 2:] - padded[:, :, :-2]  # Sobel: difference one way,
        down = padded[:, 2:] - padded[:, :-2]
        gx = across[:, :-2] + 2 * across[:, 1:-1] + across[:, 2:]  # smoothing the other
        gy = down[:, :, :-2] + 2 * down[:, :, 1:-1] + down[:, :, 2:]  # (b, 32, 32)
        b = len(gx)
        strength = np.hypot(gx, gy).reshape(b, -1)
        turn = np.arctan2(gy, gx).reshape(b, -1) * np.float32(self.directions / (2 * np.pi))
        turn += np.where(turn < 0, np.float32(self.directions), np.float32(0))
        lower = np.floor(turn)
        share = turn - lower
        lower = lower.astype(np.intp)
        lower[lower >= self.directions] -= self.directions  # a tiny negative angle rounds up to 8
        upper = lower + 1
        upper[upper == self.directions] = 0
        # Each pixel's strength goes to its two nearest directions, by angle: written
        # straight into the flat maps (b, directions, 32 * 32) at each pixel's place.
        at = (np.arange(b, dtype=np.intp) * (self.directions * pixels))[:, None] + np.arange(pixels)
        maps = np.zeros((b, self.directions, PADDED, PADDED), np.float32)
        flat = maps.reshape(-1)
        flat[at + lower * pixels] = strength * (1 - share)
        flat[at + upper * pixels] = strength * share
        # Smooth and sample each map along its rows, then along its columns.
        rows_done = maps.reshape(-1, PADDED) @ sample.T  # (b * d * 32 rows, cells)
        rows_done = rows_done.reshape(b, self.directions, PADDED, cells).swapaxes(2, 3)
        both = rows_done.reshape(-1, PADDED) @ sample.T  # (b * d * cells, cells)
        out = both.reshape(b, self.directions, cells, cells).swapaxes(2, 3)
        return np.sqrt(np.maximum(out, 0)).reshape(b, -1)

    def picture(self, features, cell_px: int = 16) -> np.ndarray:
        """One feature row (as :meth:`transform` makes it) drawn as people read edges: in
        each grid cell a short stroke along each direction's edge (across its gradient),
        as dark as that edge is strong. Returns (cells * cell_px,) * 2 floats in [0, 1]."""
        cells = PADDED // self.cell
        maps = np.asarray(features, np.float32).reshape(self.directions, cells, cells) ** 2
        maps = maps / max(float(maps.max()), 1e-6)
        centre = (cell_px - 1) / 2
        yy, xx = np.mgrid[:cell_px, :cell_px] - centre
        stamps = []
        for d in range(self.directions):
            angle = 2 * np.pi * d / self.directions  # the gradient's; the edge runs across it
            along_x, along_y = -np.sin(angle), np.cos(angle)
            across = np.abs(xx * along_y - yy * along_x)
            along = np.abs(xx * along_x + yy * along_y)
            stamps.append(np.clip(1.2 - across, 0, 1) * (along <= 0.4 * cell_px))
        # (cells, cells, px, px): each cell's strokes, then the cells side by side.
        tiles = np.einsum("drc,dij->rcij", maps, np.array(stamps, np.float32))
        out = tiles.transpose(0, 2, 1, 3).reshape(cells * cell_px, cells * cell_px)
        return np.clip(out / max(float(out.max()), 1e-6), 0, 1)


class Projection(PCA):
    """scikit-learn's PCA, fitted and stored as PCA is, whose ``transform`` is the plain
    projection ``(X - mean_) @ components_.T`` for float32 rows: PCA's own per-call
    input checks cost 0.1 ms, a fortieth of a drawing's whole reading."""

    def transform(self, X):
        """Rows ``X`` (n, n_features_in_) -> their first ``n_components_`` coordinates."""
        X = np.asarray(X)
        if self.whiten or X.dtype != np.float32 or X.ndim != 2:
            return super().transform(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"expected rows of {self.n_features_in_} features, got {X.shape}")
        return (X - self.mean_) @ self.components_.T


class Augment(StatelessTransformer):
    """Training-set augmentation: extra copies of each digit, shifted and rotated.

    Not a feature step: ``transform`` passes images through unchanged (drawings
    and test digits are never augmented); :class:`~mnist_knn.model.KNNPipeline`
    calls :meth:`fit_resample` on the training set only.

    Parameters
    ----------
    shifts : int
        0 for none, 4 for one-pixel shifts up/down/left/right, 8 to add the diagonals.
    angles : tuple of float
        Rotations in degrees (about the image centre, bilinear).
    """

    def __init__(self, shifts: int = 0, angles: tuple = ()):
        self.shifts = shifts
        self.angles = angles

    def offsets(self) -> list[tuple[int, int]]:
        """The (row, column) shifts of the copies, as ``shifts`` asks."""
        if self.shifts not in (0, 4, 8):
            raise ValueError(f"shifts must be 0, 4 or 8, got {self.shifts}")
        four = [(-1, 0), (1, 0), (0, -1), (0, 1)]
        diagonals = [(-1, -1), (-1, 1), (1, -1), (1, 1)]
        return [*four, *diagonals] if self.shifts == 8 else four[: self.shifts]

    def transform(self, X):
        """Images pass through unchanged (as :func:`as_images`): only training sets grow."""
        return as_images(X)

    def fit_resample(self, X, y):
        """The training set with its shifted and rotated copies, originals first.

        Parameters
        ----------
        X : array (n, 28, 28)
            Training images.
        y : array (n,)
            Their labels.

        Returns
        -------
        images : ndarray (n * c, 28, 28) float32
            ``c`` = 1 + the number of shifts + the number of angles.
        labels : ndarray (n * c,)
        source : ndarray (n * c,) int
            ``source[i]`` is the index in ``X`` of the digit that row ``i`` was made from.
        """
        X = as_images(X)
        variants = [X]
        for dr, dc in self.offsets():
            variants.append(shift_images(X, dr, dc))
        for angle in self.angles:
            variants.append(turned(X, angle))
        copies = len(variants)
        source = np.tile(np.arange(len(X)), copies)
        return np.concatenate(variants), np.tile(np.asarray(y), copies), source


def shift_images(X: np.ndarray, dr: int, dc: int) -> np.ndarray:
    """Shift images by whole pixels (rows ``dr``, columns ``dc``), filling with background."""
    out = np.zeros_like(X)
    rows_src = slice(max(0, -dr), SIDE - max(0, dr))
    rows_dst = slice(max(0, dr), SIDE - max(0, -dr))
    cols_src = slice(max(0, -dc), SIDE - max(0, dc))
    cols_dst = slice(max(0, dc), SIDE - max(0, -dc))
    out[:, rows_dst, cols_dst] = X[:, rows_src, cols_src]
    return out


def turned(X: np.ndarray, degrees: float) -> np.ndarray:
    """Images turned ``degrees`` about their centre (bilinear), as :class:`Augment` turns them."""
    return ndimage.rotate(X, degrees, axes=(2, 1), reshape=False, order=1, mode="constant")


def resized(X: np.ndarray, scale: float) -> np.ndarray:
    """Images grown (``scale`` > 1) or shrunk about their centre (bilinear)."""
    centre = (SIDE - 1) / 2
    shift = centre - centre / scale
    return ndimage.affine_transform(
        np.asarray(X, np.float32),
        np.array([1, 1 / scale, 1 / scale]),
        offset=(0, shift, shift),
        order=1,
    )


def thicker(X: np.ndarray) -> np.ndarray:
    """Strokes about a pixel thicker: each pixel the brightest of its 2x2 block."""
    return ndimage.grey_dilation(X, size=(1, 2, 2))


def thinner(X: np.ndarray) -> np.ndarray:
    """Strokes thinner: the ink's edges (where a 3x3 neighbourhood spans dark to light)
    lose 0.35 of that span."""
    span = ndimage.maximum_filter(X, size=(1, 3, 3)) - ndimage.minimum_filter(X, size=(1, 3, 3))
    return np.clip(X - np.float32(0.35) * span, 0, None)


# The small deformations a training digit's variants are made by (Preset.variants): each
# takes float images (n, 28, 28) as the steps before "flatten" give them.
VARIANTS = {
    "turn-12": functools.partial(turned, degrees=-12.0),
    "turn-6": functools.partial(turned, degrees=-6.0),
    "turn+6": functools.partial(turned, degrees=6.0),
    "turn+12": functools.partial(turned, degrees=12.0),
    "smaller": functools.partial(resized, scale=0.9),
    "larger": functools.partial(resized, scale=1.1),
    "up": functools.partial(shift_images, dr=-1, dc=0),
    "down": functools.partial(shift_images, dr=1, dc=0),
    "left": functools.partial(shift_images, dr=0, dc=-1),
    "right": functools.partial(shift_images, dr=0, dc=1),
    "thicker": thicker,
    "thinner": thinner,
}
