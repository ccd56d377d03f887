"""Training-set augmentation toward drawn styles, made from MNIST's own digits.

MNIST (American writers, 1990s) barely has some styles people draw: struck-through zeros
most of all, slashed (Ø) or barred upright (φ), which real drawings showed read as 4, 8
or 9 (docs/real-drawings.md). A style
adds its strokes to MNIST digits of its label (never to anything else) and re-normalises
the result as MNIST's digits were made (fit into 20x20 keeping the aspect ratio, centre of
mass at the centre of 28x28), so the copies can join the KNN's training set.

Functions take and return MNIST-style images (n, 28, 28) uint8, ink = 255, and a
``numpy.random.Generator``, so the augmentation is reproducible.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from .preprocess import centre_by_mass, fit_box

UP = 4  # strokes are drawn on the digit enlarged UP times, then it is re-fitted
SIDE = 28


def enlarge(img: np.ndarray) -> np.ndarray:
    """One 28x28 uint8 digit -> float (112, 112) in [0, 1], smooth (bilinear)."""
    return np.clip(ndimage.zoom(img.astype(np.float32) / 255, UP, order=1), 0, 1)


def refit(big: np.ndarray) -> np.ndarray:
    """A big float digit -> 28x28 uint8 the MNIST way (20 px box, centre of mass)."""
    rows = np.flatnonzero((big > 0.1).any(axis=1))
    cols = np.flatnonzero((big > 0.1).any(axis=0))
    crop = big[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    out = centre_by_mass(fit_box(crop))
    return np.rint(out / max(out.max(), 1e-6) * 255).astype(np.uint8)


def ink_extent(big: np.ndarray) -> tuple[float, float, float, float]:
    rows = np.flatnonzero((big > 0.5).any(axis=1))
    cols = np.flatnonzero((big > 0.5).any(axis=0))
    return float(rows[0]), float(cols[0]), float(rows[-1]), float(cols[-1])


def stroke_px(big: np.ndarray) -> float:
    """Typical stroke width of a big digit: ink area / skeleton-ish length (about 2 r)."""
    ink = big > 0.5
    inside = ndimage.distance_transform_edt(ink)
    return float(np.clip(2 * np.percentile(inside[ink], 90), 4, 16)) if ink.any() else 9.0


def draw_lines(big: np.ndarray, lines: list[list[tuple[float, float]]], width: float) -> np.ndarray:
    """Add polylines ((x, y) in big-image pixels) of ``width`` to ``big``, anti-aliased 2x."""
    h, w = big.shape
    canvas = Image.new("L", (2 * w, 2 * h), 0)
    draw = ImageDraw.Draw(canvas)
    for pts in lines:
        p2 = [(2 * x, 2 * y) for x, y in pts]
        draw.line(p2, fill=255, width=max(1, round(2 * width)), joint="curve")
        r = width
        for x, y in (p2[0], p2[-1]):
            draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
    stroke = np.asarray(canvas.resize((w, h), Image.Resampling.BOX), dtype=np.float32) / 255
    return np.maximum(big, stroke)


def slashed_zeros(
    zeros: np.ndarray,
    rng: np.random.Generator,
    angle: tuple[float, float] = (40, 75),
    length: tuple[float, float] = (0.85, 1.25),
) -> np.ndarray:
    """Zeros with a diagonal slash through them (Ø), from bottom-left to top-right.

    The slash runs through the zero's centre at ``angle`` (a range, degrees
    from horizontal) and is ``length`` (a range) times the length that would
    just span the zero's height (random per digit).
    """
    out = np.empty_like(zeros)
    for i, z in enumerate(zeros):
        big = enlarge(z)
        top, left, bottom, right = ink_extent(big)
        cy, cx = (top + bottom) / 2, (left + right) / 2
        h = bottom - top
        a = np.deg2rad(rng.uniform(*angle))
        half = h / 2 / np.sin(a) * rng.uniform(*length)
        dx, dy = np.cos(a) * half, np.sin(a) * half
        out[i] = refit(draw_lines(big, [[(cx - dx, cy + dy), (cx + dx, cy - dy)]], stroke_px(big)))
    return out


def barred_zeros(
    zeros: np.ndarray,
    rng: np.random.Generator,
    angle: tuple[float, float] = (78, 100),
    length: tuple[float, float] = (1.3, 1.8),
) -> np.ndarray:
    """Zeros with an upright bar through them that reaches out above and below (φ): the
    stroke of :func:`slashed_zeros`, steeper and longer (``angle`` and ``length`` as there)."""
    return slashed_zeros(zeros, rng, angle, length)


def struck_zeros(zeros: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each zero slashed (Ø, :func:`slashed_zeros`) or barred (φ, :func:`barred_zeros`),
    one or the other at random: both styles for the rows of one copy."""
    barred = rng.random(len(zeros)) < 0.5
    out = np.empty_like(zeros)
    out[~barred] = slashed_zeros(zeros[~barred], rng)
    out[barred] = barred_zeros(zeros[barred], rng)
    return out


# name -> (the digit it is made from, how); a preset names the styles it trains with.
STYLES = {
    "slashed_zero": (0, slashed_zeros),
    "barred_zero": (0, barred_zeros),
    "struck_zero": (0, struck_zeros),
}


def style_copies(
    images: np.ndarray, labels: np.ndarray, styles, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One styled copy of each digit of each style's label.

    Returns
    -------
    images : ndarray (m, 28, 28) uint8
    labels : ndarray (m,)
    source : ndarray (m,) int
        The index in ``images`` of the digit each copy was made from.
    """
    rng = np.random.default_rng(seed)
    out, out_labels, source = [], [], []
    for name in styles:
        if name not in STYLES:
            raise ValueError(f"unknown style {name!r}; choose from {', '.join(STYLES)}")
        digit, make = STYLES[name]
        rows = np.flatnonzero(np.asarray(labels) == digit)
        out.append(make(np.asarray(images)[rows], rng))
        out_labels.append(np.asarray(labels)[rows])
        source.append(rows)
    if not out:
        empty = np.zeros((0, 28, 28), np.uint8)
        return empty, np.zeros(0, np.asarray(labels).dtype), np.zeros(0, int)
    return np.concatenate(out), np.concatenate(out_labels), np.concatenate(source)
