"""MNIST digits re-drawn as canvas strokes: thinning, stroke width, and a round-brush renderer.

The Draw page's quality bar is measured on digits that look like canvas
drawings, not on MNIST's own scans: each digit is thinned to its skeleton,
then re-drawn along that skeleton with a round brush of random width, at a
random size, position and slant, on a white, black or transparent 280x280
canvas. The same functions measure MNIST's typical stroke width, from which
the canvas brush's default is derived.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from .preprocess import stroke_widths, thin

BACKGROUNDS = ("white", "black", "transparent")
CANVAS = 280
# The canvas brush's default, derived rather than guessed: MNIST's median stroke
# is 2.30 px wide in its 20 px box (``stroke_width`` over 5,000 training digits;
# 10-90%: 1.7-3.3 px; `python scripts/draw_bench.py stroke`). A digit drawn on
# the 280 px canvas is typically ~200 px tall (a margin of ~40 px around it),
# and to_mnist scales it to 20 px, by 1/10: a 2.30 * 10 = 23 px brush gives
# MNIST's stroke. (to_mnist also brings any stroke into MNIST's range, so other
# widths still work; the default simply needs no correcting.)
MNIST_STROKE = 2.30
DRAWN_HEIGHT = 200
DEFAULT_BRUSH = round(MNIST_STROKE * DRAWN_HEIGHT / 20)
# Thinning runs on digits enlarged 4x, where a 2-3 px MNIST stroke is 8-12 px
# wide, so the skeleton follows the stroke's middle rather than its pixels.
UPSCALE = 4


def mnist_skeletons(images: np.ndarray, upscale: int = UPSCALE) -> np.ndarray:
    """Skeletons of MNIST-style digits (n, 28, 28) uint8, at ``upscale`` times their size."""
    x = np.asarray(images, dtype=np.float32) / 255
    if x.ndim == 2:
        x = x[None]
    big = ndimage.zoom(x, (1, upscale, upscale), order=1)
    # Smoothing before the threshold keeps the pixel staircase of the 28x28
    # original out of the skeleton, as a pen's path is smooth.
    big = ndimage.gaussian_filter(big, sigma=(0, upscale / 4, upscale / 4))
    return thin(big > 0.5)


def stroke_width(images: np.ndarray, upscale: int = UPSCALE) -> np.ndarray:
    """Mean stroke width in pixels of MNIST-style digits (n, 28, 28) uint8.

    Measured exactly as to_mnist measures a drawing (``preprocess.stroke_widths``),
    on the digits enlarged ``upscale`` times, as to_mnist's 80 px box is 4 x 20 px.
    """
    x = np.asarray(images, dtype=np.float64) / 255
    if x.ndim == 2:
        x = x[None]
    return stroke_widths(ndimage.zoom(x, (1, upscale, upscale), order=1), upscale)[0]


@dataclass(frozen=True)
class Style:
    """How one digit is re-drawn on the canvas (all lengths in canvas pixels)."""

    height: float  # the skeleton's height on the canvas
    width_scale: float  # horizontal stretch relative to the height's scale
    slant: float  # x shift per pixel of y, relative to the digit's middle row
    brush: float  # round brush diameter
    top: float  # top-left corner of the ink's box, brush included
    left: float
    background: str  # one of BACKGROUNDS


def random_style(
    rng: np.random.Generator,
    skeleton_shape: tuple[float, float],
    height: tuple[float, float] = (110, 250),
    brush: tuple[float, float] = (10, 36),
    slant: tuple[float, float] = (-0.35, 0.35),
    width_scale: tuple[float, float] = (0.8, 1.2),
    backgrounds=BACKGROUNDS,
    canvas: int = CANVAS,
) -> Style:
    """A random size, stretch, slant, brush and position that keep the whole digit on the canvas.

    ``skeleton_shape`` is the (height, width) of the skeleton's bounding box.
    """
    sk_h, sk_w = (max(float(v), 1.0) for v in skeleton_shape)
    b = float(rng.uniform(*brush))
    h = float(rng.uniform(*height))
    ws = float(rng.uniform(*width_scale))
    sl = float(rng.uniform(*slant))
    # Shrink until the slanted, brushed digit fits with a 4 px margin.
    while True:
        w = sk_w * h / sk_h * ws + abs(sl) * h
        if max(h, w) + b + 8 <= canvas:
            break
        h *= 0.95
    top = float(rng.uniform(4, canvas - 4 - (h + b)))
    left = float(rng.uniform(4, canvas - 4 - (w + b)))
    return Style(h, ws, sl, b, top, left, str(rng.choice(backgrounds)))


def _edges(skeleton: np.ndarray) -> np.ndarray:
    """Pairs of 8-neighbouring skeleton pixels, as (m, 2, 2) arrays of (row, col)."""
    pairs = []
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        a = skeleton[: skeleton.shape[0] - dr, max(0, -dc) : skeleton.shape[1] - max(0, dc)]
        b = skeleton[dr:, max(0, dc) : skeleton.shape[1] + min(0, dc) or None]
        r, c = np.nonzero(a & b)
        c = c + max(0, -dc)
        pairs.append(np.stack([np.stack([r, c], 1), np.stack([r + dr, c + dc], 1)], 1))
    return np.concatenate(pairs) if pairs else np.empty((0, 2, 2))


def render(skeleton: np.ndarray, style: Style, canvas: int = CANVAS, supersample: int = 2):
    """Re-draw a skeleton with a round brush as a canvas-like RGBA image (canvas, canvas, 4) uint8.

    Lines join neighbouring skeleton pixels and a disc sits on every pixel,
    drawn at ``supersample`` times the size and averaged down, so stroke edges
    are anti-aliased as a browser canvas draws them.
    """
    rows, cols = np.nonzero(skeleton)
    if rows.size == 0:
        raise ValueError("the skeleton is empty")
    r0, c0 = rows.min(), cols.min()
    sk_h = max(rows.max() - r0, 1)
    scale = style.height / sk_h
    mid = sk_h / 2

    def place(r, c):
        y = (r - r0) * scale
        x = (c - c0) * scale * style.width_scale + style.slant * (mid * scale - y)
        return x, y

    xs, ys = place(rows, cols)
    # Slanting can move ink left of the box's origin: shift it back to style.left.
    off_x = style.left + style.brush / 2 - xs.min()
    off_y = style.top + style.brush / 2
    s = supersample
    mask = Image.new("L", (canvas * s, canvas * s), 0)
    draw = ImageDraw.Draw(mask)
    brush = style.brush * s
    for (ra, ca), (rb, cb) in _edges(skeleton):
        (xa, ya), (xb, yb) = place(ra, ca), place(rb, cb)
        draw.line(
            [((xa + off_x) * s, (ya + off_y) * s), ((xb + off_x) * s, (yb + off_y) * s)],
            fill=255,
            width=max(1, round(brush)),
        )
    radius = brush / 2
    for x, y in zip(xs, ys, strict=True):
        cx, cy = (x + off_x) * s, (y + off_y) * s
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=255)
    ink = np.asarray(mask.reduce(s), dtype=np.float64) / 255
    return compose(ink, style.background)


def compose(ink: np.ndarray, background: str) -> np.ndarray:
    """Ink coverage (H, W) in [0, 1] as RGBA uint8: black on white, white on black, or on clear."""
    ink = np.clip(ink, 0, 1)
    out = np.empty((*ink.shape, 4), dtype=np.uint8)
    if background == "white":
        out[..., :3] = np.rint(255 * (1 - ink))[..., None]
        out[..., 3] = 255
    elif background == "black":
        out[..., :3] = np.rint(255 * ink)[..., None]
        out[..., 3] = 255
    elif background == "transparent":
        # A canvas with no background colour: black strokes whose alpha is their coverage.
        out[..., :3] = 0
        out[..., 3] = np.rint(255 * ink)
    else:
        raise ValueError(f"background must be one of {BACKGROUNDS}, got {background!r}")
    return out


def redraw(
    images: np.ndarray, seed: int = 0, **style_ranges
) -> tuple[list[np.ndarray], list[Style]]:
    """Re-draw MNIST-style digits (n, 28, 28) as random canvas drawings (RGBA 280x280 each).

    Deterministic for a given ``seed``; ``style_ranges`` go to :func:`random_style`.
    """
    rng = np.random.default_rng(seed)
    drawings, styles = [], []
    for skeleton in mnist_skeletons(images):
        rows, cols = np.nonzero(skeleton)
        if rows.size == 0:  # a digit too faint to have a skeleton: keep one pixel
            skeleton = skeleton.copy()
            skeleton[skeleton.shape[0] // 2, skeleton.shape[1] // 2] = True
            rows, cols = np.nonzero(skeleton)
        shape = (rows.max() - rows.min(), cols.max() - cols.min())
        style = random_style(rng, shape, **style_ranges)
        drawings.append(render(skeleton, style))
        styles.append(style)
    return drawings, styles
