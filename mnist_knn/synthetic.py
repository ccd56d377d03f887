"""Synthetic canvas drawings, for tests, benchmarks and stand-ins; no real drawing is in here.

- :func:`redraw`: MNIST digits re-drawn as canvas strokes (thinning, stroke width, a
  round-brush renderer), described below.
- :func:`sample_drawing`: an MNIST digit placed on a canvas at another size and place
  (the teaching pages' stand-in when nothing is drawn).
- :func:`stroke_image` and :func:`hand_drawing`: polylines drawn with a round brush, and
  all ten digits in a random hand (:data:`STROKES`), as a class might draw them;
  :func:`save_class` fills a drawings store with them.


The Draw page's quality bar is measured on digits that look like canvas
drawings, not on MNIST's own scans: each digit is thinned to its skeleton,
then re-drawn along that skeleton with a round brush of random width, at a
random size, position and slant, on a white, black or transparent 280x280
canvas. The same functions measure MNIST's typical stroke width, from which
the canvas brush's default is derived.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops, ImageDraw
from scipy import ndimage

from .preprocess import CANVAS, ink_box, stroke_widths, thin, to_mnist

BACKGROUNDS = ("white", "black", "transparent")
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


# ------------------------------------------------------------------ stand-ins


def sample_drawing(digit: np.ndarray, seed: int, size: int = 280) -> np.ndarray:
    """An MNIST digit redrawn on a ``size`` x ``size`` transparent canvas, as a hand would.

    Its ink is scaled to a height between 35 % and 70 % of the canvas and placed
    off-centre (both chosen from ``seed``), so cropping, fitting and centring have
    work to do. Returns RGBA uint8 (size, size, 4): black ink, alpha = ink strength,
    the layout of a drawable canvas's image data.
    """
    ink = np.asarray(digit, dtype=np.float32) / 255
    top, left, bottom, right = ink_box(ink)
    ink = ink[top:bottom, left:right]
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.35, 0.7) * size / max(ink.shape)
    h, w = (max(1, round(n * scale)) for n in ink.shape)
    big = Image.fromarray(ink, mode="F").resize((w, h), Image.Resampling.BILINEAR)
    y, x = int(rng.integers(0, size - h + 1)), int(rng.integers(0, size - w + 1))
    alpha = np.zeros((size, size), dtype=np.float32)
    alpha[y : y + h, x : x + w] = np.clip(np.asarray(big), 0, 1)
    out = np.zeros((size, size, 4), dtype=np.uint8)
    out[..., 3] = np.rint(alpha * 255).astype(np.uint8)
    return out


# ------------------------------------------------------------------ polylines and a class


# Simple polylines (fractions of the canvas) for quick checks.
ONE = [(0.5, 0.2), (0.5, 0.8)]
ZERO = [(0.5 + 0.2 * np.sin(t), 0.5 - 0.3 * np.cos(t)) for t in np.linspace(0, 2 * np.pi, 40)]
SEVEN = [(0.3, 0.25), (0.7, 0.25), (0.45, 0.8)]


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


_t = np.linspace(0, 2 * np.pi, 48)
STROKES = {
    0: list(zip(0.5 + 0.19 * np.sin(_t), 0.5 - 0.3 * np.cos(_t), strict=True)),
    1: [(0.42, 0.3), (0.55, 0.2), (0.55, 0.8)],
    2: [(0.3, 0.32), (0.42, 0.2), (0.62, 0.22), (0.66, 0.38), (0.3, 0.8), (0.72, 0.8)],
    3: [(0.3, 0.24), (0.58, 0.2), (0.66, 0.34), (0.45, 0.49), (0.67, 0.6), (0.6, 0.78),
        (0.3, 0.8)],
    4: [(0.58, 0.8), (0.58, 0.2), (0.3, 0.6), (0.72, 0.6)],
    5: [(0.68, 0.2), (0.36, 0.2), (0.33, 0.46), (0.58, 0.43), (0.68, 0.6), (0.56, 0.8),
        (0.3, 0.77)],
    6: [(0.64, 0.2), (0.42, 0.38), (0.33, 0.64), (0.45, 0.8), (0.63, 0.73), (0.61, 0.56),
        (0.42, 0.55), (0.34, 0.63)],
    7: [(0.3, 0.24), (0.7, 0.24), (0.45, 0.8)],
    8: list(zip(0.5 + 0.16 * np.sin(2 * _t), 0.5 - 0.3 * np.cos(_t), strict=True)),
    9: [(0.65, 0.33), (0.52, 0.2), (0.36, 0.28), (0.4, 0.45), (0.6, 0.42), (0.66, 0.3),
        (0.62, 0.8)],
}  # fmt: skip


# Digits drawn in one stroke that starts in a corner region of the canvas, where a canvas
# toolbar or a too-narrow column used to swallow strokes: (corner, digit, polyline).
CORNER_DIGITS = [
    ("top-left", 7, [(0.05, 0.06), (0.95, 0.06), (0.40, 0.95)]),
    ("top-right", 7, [(0.95, 0.06), (0.05, 0.06), (0.95, 0.07), (0.40, 0.95)]),
    ("bottom-right", 2, [(0.94, 0.94), (0.08, 0.94), (0.62, 0.5), (0.72, 0.24), (0.5, 0.06),
                         (0.25, 0.14), (0.15, 0.3)]),
    ("bottom-left", 1, [(0.06, 0.94), (0.06, 0.06)]),
]  # fmt: skip


def strokes_image(strokes, size: int = 280, width: int = 18) -> Image.Image:
    """Several :func:`stroke_image` polylines on one white canvas."""
    image = Image.new("RGBA", (size, size), (255, 255, 255, 255))
    for points in strokes:
        image = ImageChops.darker(image, stroke_image(points, size, width))
    return image


def hand_drawing(digit: int, rng: np.random.Generator, wobble: float = 1.0) -> Image.Image:
    """A 280x280 RGBA canvas-like drawing of ``digit`` in a random hand."""
    pts = np.array(STROKES[digit], dtype=float) - 0.5
    angle = np.radians(rng.normal(0, 8) * wobble)
    slant = rng.normal(0.12, 0.15) * wobble
    scale = rng.uniform(0.75, 1.15)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    shear = np.array([[1, -slant], [0, 1]])
    pts = pts @ (rot @ shear).T * scale
    pts += rng.normal(0, 0.012 * wobble, pts.shape) + rng.uniform(-0.08, 0.08, 2)
    pts = np.clip(pts + 0.5, 0.05, 0.95)
    return stroke_image([tuple(p) for p in pts], width=int(rng.integers(12, 28)))


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def save_class(store, artifact, rooms: dict[str, int], seed: int = 0) -> None:
    """Save ``rooms[name]`` synthetic drawings per room, read by ``artifact``'s model.

    Each room has its own few "pupils" (session ids) and its own hand: the second
    room's drawings wobble more, so the model misreads more of them.
    """
    rng = np.random.default_rng(seed)
    for r, (room, count) in enumerate(rooms.items()):
        pupils = [f"{room}-pupil-{p}" for p in range(max(1, count // 6))]
        for i in range(count):
            digit = int(rng.integers(10)) if i >= 10 else i
            canvas = hand_drawing(digit, rng, wobble=1.0 + 1.2 * r)
            image = to_mnist(canvas)
            result = artifact.model.search(image[None])
            store.save(
                image,
                true_label=digit,
                predicted=int(result.labels[0]),
                proba=result.proba[0],
                preset=artifact.preset.name,
                k=artifact.preset.k,
                room=room,
                session_id=pupils[i % len(pupils)],
                canvas_png=png_bytes(canvas),
            )
