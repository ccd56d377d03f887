"""Training-set augmentation toward drawn styles, made from MNIST's own digits.

MNIST (American writers, 1990s) barely has some styles that people draw:
slashed zeros (Ø), European ones with a long up-stroke ("flag") and often a
base bar, crossed sevens. These functions add such strokes to MNIST digits
(never to anything else) and re-normalise the result exactly as MNIST's digits
were made (fit into 20x20 keeping the aspect ratio, centre of mass at the
centre of 28x28), so they can join the KNN's training set. Also stroke-width
and small affine variants.

All functions take and return MNIST-style images (n, 28, 28) uint8, ink = 255,
and a ``numpy.random.Generator`` so the augmentation is reproducible.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from mnist_knn.styles import (  # noqa: F401
    SIDE,
    UP,
    draw_lines,
    enlarge,
    ink_extent,
    refit,
    slashed_zeros,
    stroke_px,
)


def european_ones(
    ones: np.ndarray,
    rng: np.random.Generator,
    base: float = 0.5,
    drop: tuple[float, float] = (0.2, 0.55),
    reach: tuple[float, float] = (0.25, 0.6),
) -> np.ndarray:
    """Ones with a flag (an up-stroke into the top, from the left) and, for a share ``base``
    of them, a base bar.

    The flag starts ``drop`` (a range, fractions of the height) down and
    ``reach`` to the left of the top of the stem; the bar is 40-80% of the
    height wide, centred on the stem's foot.
    """
    out = np.empty_like(ones)
    for i, one in enumerate(ones):
        big = enlarge(one)
        top, _, bottom, _ = ink_extent(big)
        h = bottom - top
        w = stroke_px(big)
        # Top and foot of the stem: the middle of the ink in its first and last rows.
        t_cols = np.flatnonzero(big[int(top)] > 0.5)
        b_cols = np.flatnonzero(big[int(bottom)] > 0.5)
        tx, bx = float(t_cols.mean()), float(b_cols.mean())
        ty, by = top + w / 2, bottom - w / 2
        fx = tx - h * rng.uniform(*reach)
        fy = ty + h * rng.uniform(*drop)
        lines = [[(fx, fy), (tx, ty)]]
        if rng.random() < base:
            half = h * rng.uniform(0.2, 0.4)
            lines.append([(bx - half, by), (bx + half, by)])
        out[i] = refit(draw_lines(big, lines, w))
    return out


def crossed_sevens(sevens: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sevens with a short horizontal bar across the middle of the stem."""
    out = np.empty_like(sevens)
    for i, s in enumerate(sevens):
        big = enlarge(s)
        top, left, bottom, right = ink_extent(big)
        y = top + (bottom - top) * rng.uniform(0.45, 0.6)
        cols = np.flatnonzero(big[int(y)] > 0.5)
        x = float(cols.mean()) if cols.size else (left + right) / 2
        half = (bottom - top) * rng.uniform(0.15, 0.3)
        out[i] = refit(draw_lines(big, [[(x - half, y), (x + half, y)]], stroke_px(big)))
    return out


def stroke_variants(images: np.ndarray, grow: float) -> np.ndarray:
    """Strokes grown (``grow`` > 0) or shrunk (< 0) by |grow| pixels on each side, at 4x."""
    out = np.empty_like(images)
    for i, img in enumerate(images):
        big = enlarge(img)
        ink = big > 0.5
        if grow > 0:
            d = ndimage.distance_transform_edt(~ink)
            big = np.maximum(big, np.clip(grow * UP + 1 - d, 0, 1))
        else:
            d = ndimage.distance_transform_edt(ink)
            big = np.minimum(big, np.clip(d + grow * UP, 0, 1))
        out[i] = refit(big) if big.max() > 0.1 else img
    return out


def affine(
    images: np.ndarray,
    rng: np.random.Generator,
    rot: float = 10.0,
    shear: float = 0.2,
    scale: float = 0.1,
) -> np.ndarray:
    """Random small rotation (±``rot``°), shear and anisotropic scaling, then re-fitted."""
    out = np.empty_like(images)
    for i, img in enumerate(images):
        big = enlarge(img)
        a = np.deg2rad(rng.uniform(-rot, rot))
        m = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        m = m @ np.array([[1, rng.uniform(-shear, shear)], [0, 1]])
        m = m @ np.diag(1 + rng.uniform(-scale, scale, 2))
        c = np.array(big.shape) / 2
        inv = np.linalg.inv(m)
        warped = ndimage.affine_transform(big, inv, offset=c - inv @ c, order=1)
        out[i] = refit(warped) if warped.max() > 0.1 else img
    return out


def elastic(
    images: np.ndarray, rng: np.random.Generator, alpha: float = 34.0, sigma: float = 4.0
) -> np.ndarray:
    """Simard et al. (2003) elastic distortion on the 28x28 images (α, σ in pixels)."""
    out = np.empty_like(images)
    rr, cc = np.meshgrid(np.arange(SIDE), np.arange(SIDE), indexing="ij")
    for i, img in enumerate(images):
        dr = ndimage.gaussian_filter(rng.uniform(-1, 1, (SIDE, SIDE)), sigma) * alpha
        dc = ndimage.gaussian_filter(rng.uniform(-1, 1, (SIDE, SIDE)), sigma) * alpha
        warped = ndimage.map_coordinates(img.astype(np.float32) / 255, [rr + dr, cc + dc], order=1)
        big = np.clip(ndimage.zoom(warped, UP, order=1), 0, 1)
        out[i] = refit(big) if big.max() > 0.1 else img
    return out
