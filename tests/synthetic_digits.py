"""Synthetic canvas drawings of all ten digits, varied like a class's handwriting.

Each digit is a polyline (fractions of the canvas); :func:`drawing` bends it with a
random slant, rotation, scale, shift, wobble and pen width and draws it with
``tests.conftest.stroke_image``. Used by the classroom tests and the demo set of
scripts/demo_classroom.py.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from mnist_knn import to_mnist
from tests.conftest import stroke_image

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


def drawing(digit: int, rng: np.random.Generator, wobble: float = 1.0) -> Image.Image:
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
            canvas = drawing(digit, rng, wobble=1.0 + 1.2 * r)
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
