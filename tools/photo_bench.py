"""How well photos of digits on paper are read: python -m tools.photo_bench FOLDER [--limit N].

FOLDER holds canvas drawings and their labels.json, as written by
``../shared/tools/unipen_render.py OUTDIR N SEED`` (real pen strokes drawn the way the
app's canvas draws them; the data stays in ../shared, never in this project). Each
drawing is read as drawn ("clean") and as a photo of it on paper made up here:

- ``uneven light``: warm or coloured paper, light falling off by 40-90 grey levels
  toward one corner, a soft shadow, sensor noise, JPEG;
- ``lined paper``: the same, on ruled (blue lines, a red margin) or squared paper.

Prints the share read right per condition, with the project's model (models/; the
default preset). The photos are seeded: every run makes the same ones.
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from mnist_knn.preprocess import ImageError, preprocess_steps
from mnist_knn.reading import Reference, read, search
from mnist_knn.trained import load_artifact

CONDITIONS = ("clean", "uneven light", "lined paper")


def _paper(shape, rng: np.random.Generator) -> np.ndarray:
    """An (H, W, 3) float sheet: a paper colour under light that falls off, with a shadow."""
    height, width = shape
    colour = rng.choice(
        [(245, 240, 225), (250, 244, 215), (235, 240, 250), (240, 225, 200), (225, 240, 225)]
    ) + rng.normal(0, 4, 3)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    corner = rng.integers(0, 4)
    gx, gy = (x, 1 - x)[corner % 2], (y, 1 - y)[corner // 2]
    falloff = rng.uniform(40, 90) * (gx + gy) / 2  # grey levels lost toward one corner
    light = 1 - falloff[..., None] / 255
    # A soft shadow (a hand or a phone) over one side.
    edge = rng.uniform(0.15, 0.45)
    side = (x if rng.random() < 0.5 else y) < edge
    shadow = ndimage.gaussian_filter(side.astype(float), 6) * rng.uniform(0.15, 0.35)
    return np.asarray(colour, float) * light * (1 - shadow[..., None])


def _rule(sheet: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Blue ruled lines (or a squared grid) and a red margin line drawn on ``sheet``."""
    height, width = sheet.shape[:2]
    lines = np.zeros((height, width))
    step = int(rng.integers(22, 34))
    offset = int(rng.integers(0, step))
    thick = int(rng.integers(1, 3))
    for row in range(offset, height, step):
        lines[row : row + thick] = 1
    if rng.random() < 0.4:  # squared paper
        for col in range(offset, width, step):
            lines[:, col : col + thick] = 1
    blue = np.array([90, 130, 200], float)
    strength = rng.uniform(0.35, 0.6)
    sheet = sheet * (1 - strength * lines[..., None]) + strength * lines[..., None] * blue * (
        sheet / 255
    )
    margin = int(rng.integers(20, 50))
    red = np.array([220, 80, 80], float)
    sheet[:, margin : margin + 2] = 0.5 * sheet[:, margin : margin + 2] + 0.5 * red
    return sheet


def photograph(drawing: Image.Image, lined: bool, rng: np.random.Generator) -> Image.Image:
    """A photo-like picture of a canvas drawing (dark ink on white) on paper."""
    ink = 1 - np.asarray(drawing.convert("L"), float) / 255  # 1 where the pen was
    sheet = _paper(ink.shape, rng)
    if lined:
        sheet = _rule(sheet, rng)
    pen = np.array([30, 30, 45], float) * rng.uniform(0.8, 1.3)
    photo = sheet * (1 - 0.9 * ink[..., None]) + 0.9 * ink[..., None] * pen * (sheet / 255)
    photo = ndimage.gaussian_filter(photo, (0.7, 0.7, 0))  # a camera's blur
    photo += rng.normal(0, 4, photo.shape)  # sensor noise
    buffer = io.BytesIO()
    Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)).save(
        buffer, format="JPEG", quality=int(rng.integers(60, 85))
    )
    return Image.open(io.BytesIO(buffer.getvalue()))


def variants(drawing: Image.Image, seed: int) -> dict[str, Image.Image]:
    rng = np.random.default_rng(seed)
    return {
        "clean": drawing,
        "uneven light": photograph(drawing, False, rng),
        "lined paper": photograph(drawing, True, rng),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--save", type=Path, help="write the first 12 photos here (PNG)")
    args = parser.parse_args()
    labels = json.loads((args.folder / "labels.json").read_text())
    names = sorted(labels)[: args.limit or None]
    artifact = load_artifact()
    reference = Reference.from_artifact(artifact)
    right = dict.fromkeys(CONDITIONS, 0)
    failed = dict.fromkeys(CONDITIONS, 0)
    for i, name in enumerate(names):
        drawing = Image.open(args.folder / name)
        for condition, picture in variants(drawing, seed=i).items():
            if args.save and i < 12 and condition != "clean":
                args.save.mkdir(parents=True, exist_ok=True)
                picture.save(args.save / f"{condition.split()[0]}-{name}")
            try:
                image = preprocess_steps(picture).result
            except ImageError:
                failed[condition] += 1
                continue
            reading = read(search(artifact.model, image), args.k, "distance", reference)
            right[condition] += reading.label == labels[name]
    print(f"{len(names)} drawings from {args.folder}, k={args.k}")
    for condition in CONDITIONS:
        note = f" ({failed[condition]} found empty)" if failed[condition] else ""
        print(f"  {condition:13s} {right[condition] / len(names):6.1%}{note}")


if __name__ == "__main__":
    main()
