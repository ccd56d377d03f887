"""Turn any drawing or image into an MNIST-style 28x28 digit, one inspectable step at a time."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

# MNIST's recipe (LeCun et al.): fit the digit into a 20x20 box keeping its
# aspect ratio, anti-aliased, then place its centre of mass at the centre of 28x28.
BOX = 20
SIZE = 28
# Ink below this fraction of full strength is treated as background noise (JPEG
# artefacts, paper texture) when finding the bounding box.
INK_THRESHOLD = 0.1
# Strokes are measured and adjusted on the digit fitted into a box FINE = 4 x 20
# px, where a 2-3 px MNIST stroke is 8-12 px wide: wide enough to thin reliably.
FINE = 4 * BOX
# The stroke width (in pixels of the 20 px box) a drawing is brought into. A
# canvas brush is uniform, but the digit's size sets how thick it ends up once
# scaled: a 10 px brush on a 250 px digit is a hairline at 20 px, a 36 px brush
# on a 110 px digit a blob. Widths outside this band are grown or shrunk to it.
# The band is MNIST's interquartile stroke width (mnist_knn.drawn.stroke_width
# over 5,000 training digits). Chosen on re-drawn *training* digits held out from
# the model (scripts/draw_bench.py; 4,000 digits): no adjustment 96.3%, 1.6-4.0 px
# 96.6%, 2.0-3.0 px 97.0%, this band 97.1%, 2.0-2.6 px 97.2%, a fixed 2.3 px 97.1%.
STROKE_BAND = (1.94, 2.72)
# A digit needs a few hundred pixels a side. Pictures are decoded at most MAX_PIXELS
# large: a larger JPEG is decoded at a reduced scale (its DCT allows 1/2, 1/4, 1/8) when
# that brings it under MAX_PIXELS; anything else larger is refused from its header,
# before any pixel is decoded. What is kept is then at most MAX_SIDE a side.
MAX_PIXELS = 4_000_000
MAX_JPEG_PIXELS = 64 * MAX_PIXELS  # 1/8 scale brings these under MAX_PIXELS
MAX_SIDE = 1024

# The Draw page's canvas: its side in px, and its brush.
CANVAS = 280
# The canvas brush's default, derived rather than guessed: MNIST's median stroke
# is 2.30 px wide in its 20 px box (``stroke_width`` over 5,000 training digits;
# 10-90%: 1.7-3.3 px; `python tools/draw_bench.py stroke`). A digit drawn on
# the 280 px canvas is typically ~200 px tall (a margin of ~40 px around it),
# and to_mnist scales it to 20 px, by 1/10: a 2.30 * 10 = 23 px brush gives
# MNIST's stroke. (to_mnist also brings any stroke into MNIST's range, so other
# widths still work; the default simply needs no correcting.)
MNIST_STROKE = 2.30
DRAWN_HEIGHT = 200
DEFAULT_BRUSH = round(MNIST_STROKE * DRAWN_HEIGHT / 20)


class ImageError(ValueError):
    """The input cannot be turned into a digit; the message says why, for people."""


class EmptyDrawingError(ImageError):
    """The image holds no ink: nothing has been drawn yet."""


@dataclass(frozen=True)
class Steps:
    """Every intermediate image of :func:`preprocess_steps`, floats in [0, 1] unless noted."""

    ink: np.ndarray  # full-size ink strength, 1 = ink, 0 = background
    box: tuple[int, int, int, int]  # (top, left, bottom, right) of the ink, exclusive ends
    cropped: np.ndarray  # the ink cut to its bounding box
    fitted: np.ndarray  # longer side scaled to 20 px, aspect kept
    centred: np.ndarray  # 28x28, centre of mass at the centre
    result: np.ndarray  # the same as uint8, ink = 255 (what the model receives)
    fine: np.ndarray | None = None  # the crop fitted into FINE px, before any stroke change
    stroke: float | None = None  # measured stroke width, in pixels of the 20 px box
    adjusted: np.ndarray | None = None  # ``fine`` with its strokes brought into STROKE_BAND


def load_image(source, name: str | None = None) -> Image.Image:
    """Open an image file (path, bytes or file object) safely for :func:`to_mnist`.

    Refuses images over :data:`MAX_PIXELS` before decoding them (a JPEG is decoded at
    a reduced scale instead, when that brings it under), takes the first frame of an
    animation, applies any EXIF rotation, scales it down to at most :data:`MAX_SIDE`
    pixels a side and returns it as 8-bit ``L``, ``RGB`` or ``RGBA`` (16-bit, 32-bit
    integer and float, CMYK, LAB, YCbCr… converted), ready to show, store or classify.

    Raises
    ------
    ImageError
        If the file is missing, empty, truncated, too large or not an image;
        the message names it.
    """
    name = name or str(getattr(source, "name", source))
    if isinstance(source, bytes | bytearray):
        if not source:
            raise ImageError(f"{name}: the file is empty")
        source = io.BytesIO(source)
    try:
        with Image.open(source) as img:
            pixels = img.width * img.height
            if img.format == "JPEG" and MAX_PIXELS < pixels <= MAX_JPEG_PIXELS:
                # draft() picks the largest reduction (1/2, 1/4, 1/8) still at least
                # as large as asked: ask for the size at the reduction that suffices.
                factor = 2
                while pixels > MAX_PIXELS * factor * factor:
                    factor *= 2
                img.draft(img.mode, (-(-img.width // factor), -(-img.height // factor)))
                pixels = img.width * img.height  # draft() changed the decoded size
            if pixels > MAX_PIXELS:
                raise ImageError(
                    f"{name}: {img.width}x{img.height} pixels is too large "
                    f"(at most {MAX_PIXELS / 1_000_000:g} megapixels); scale it down first"
                )
            img.seek(0)
            img.load()
            image = ImageOps.exif_transpose(img)
            image = eight_bit(image)
            if max(image.size) > MAX_SIDE:
                image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            return image
    except ImageError:
        raise
    except FileNotFoundError:
        raise ImageError(f"{name}: no such file") from None
    except UnidentifiedImageError:
        raise ImageError(
            f"{name}: not a readable image; upload a PNG, JPEG, GIF, BMP or WebP picture"
        ) from None
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{name}: too large to decode safely ({exc})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(f"{name}: the image is truncated or corrupt ({exc})") from None


def eight_bit(img: Image.Image) -> Image.Image:
    """``img`` as 8-bit ``L``, ``RGB`` or ``RGBA``: what can be shown, saved as PNG and read.

    16-bit and 32-bit integer and float greys are scaled into 0-255 by their range
    (0-255 kept, up to 65535 divided by 257, else by their maximum; floats up to 1.0
    multiplied by 255); colour spaces (CMYK, LAB, YCbCr, HSV) become RGB; palettes RGB,
    or RGBA when they have transparency.
    """
    if img.mode in ("L", "RGB", "RGBA"):
        return img
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        grey = np.asarray(img, dtype=np.float64)
        grey = np.nan_to_num(grey, nan=0.0, posinf=0.0, neginf=0.0)
        low, high = float(grey.min(initial=0)), float(grey.max(initial=0))
        if img.mode == "F" and low >= 0 and high <= 1.0:
            grey = grey * 255
        elif low < 0 or high > 65535:
            grey = (grey - min(low, 0)) * (255 / max(high - min(low, 0), 1e-12))
        elif high > 255:
            grey = grey / 257
        return Image.fromarray(np.clip(np.rint(grey), 0, 255).astype(np.uint8), "L")
    if img.mode == "P":
        return img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("1",):
        return img.convert("L")
    return img.convert("RGBA" if img.mode in ("LA", "La", "PA", "RGBa") else "RGB")


def _as_array(image) -> np.ndarray:
    """Return ``image`` (PIL image or array-like) as a float array (H, W) or (H, W, C)."""
    if isinstance(image, Image.Image):
        image = _pil_to_array(image)
    try:
        arr = np.asarray(image)
    except Exception as exc:  # ragged lists and other non-arrays
        raise ImageError(f"not an image: {exc}") from None
    if arr.dtype == bool:
        arr = arr.astype(np.uint8)
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ImageError(f"an image must hold numbers, got dtype {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] not in (1, 2, 3, 4):
        raise ImageError(f"an image has 1 to 4 channels, got shape {arr.shape}")
    if arr.ndim not in (2, 3) or min(arr.shape[:2], default=0) < 1:
        raise ImageError(f"expected an image of shape (H, W) or (H, W, C), got {arr.shape}")
    # Up to 16-bit integers are exact in float32, which halves the work on a
    # 280x280 canvas; wider integers and floats keep float64's range.
    small = np.issubdtype(arr.dtype, np.integer) and arr.dtype.itemsize <= 2
    arr = arr.astype(np.float32 if small else np.float64)
    if not np.isfinite(arr).all():
        raise ImageError("the image contains NaN or infinite values")
    return arr


def _pil_to_array(img: Image.Image) -> np.ndarray:
    """PIL image -> array keeping any alpha channel; palettes and odd modes converted."""
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        return np.asarray(img, dtype=np.float64)
    elif img.mode not in ("L", "LA", "RGB", "RGBA"):
        img = img.convert("RGBA" if "A" in img.mode else "RGB")
    return np.asarray(img)


def extract_ink(image) -> np.ndarray:
    """Ink strength in [0, 1] for any drawing: dark-on-light, light-on-dark, or on transparent.

    When the image has an alpha channel that varies, the alpha *is* the ink
    (strokes on a transparent canvas). Otherwise the background level is the
    median of the border pixels and ink is the distance from it, scaled so the
    strongest stroke is 1; this handles either polarity and any value range.
    """
    arr = _as_array(image)
    if arr.ndim == 3:
        channels = arr.shape[2]
        if channels in (2, 4):
            alpha = arr[..., -1]
            if alpha.max() > alpha.min():
                return (alpha - alpha.min()) / (alpha.max() - alpha.min())
            arr = arr[..., :-1]
        # Luminance (ITU-R 601, as PIL's "L" conversion) of whatever colours remain.
        luminance = np.array([0.299, 0.587, 0.114], dtype=arr.dtype)
        arr = arr[..., 0] if arr.shape[2] == 1 else arr @ luminance
    border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]])
    background = float(np.median(border))
    if not flat_background(arr, background):
        return photo_ink(arr)
    ink = np.abs(arr - background)
    peak = ink.max()
    if peak == 0:
        return np.zeros(arr.shape)
    return ink / peak


# A drawing on a flat background (the canvas, a clean export or scan) has most of its
# pixels exactly at the background's level; a photo of paper has almost none there.
FLAT_SHARE = 0.5
# Photos are read at up to this many pixels on the longer side (the digit ends up 20 px).
PHOTO_SIDE = 400
# The paper's level is estimated over windows this share of the shorter side (wider
# than a pen stroke), and ink is what is darker than its paper by at least this share
# of the darkest stroke (ruled lines, shadows' edges and JPEG noise are weaker).
PAPER_WINDOW = 0.15
INK_FLOOR = 0.4
# Ruled or squared paper: straight lines longer than this share of the sheet.
RULE_LENGTH = 0.25
RULE_THICK = 7


def rules(ink: np.ndarray, thick: int = RULE_THICK) -> np.ndarray:
    """The ruled lines in ``ink``: horizontal or vertical runs longer than ``RULE_LENGTH`` of
    the sheet and thinner than ``thick`` px (a pen stroke along a line is thicker: it stays)."""
    found = np.zeros_like(ink)
    height, width = ink.shape
    for long, wide in (
        ((1, round(RULE_LENGTH * width)), (thick, round(RULE_LENGTH * width))),
        ((round(RULE_LENGTH * height), 1), (round(RULE_LENGTH * height), thick)),
    ):
        lines = ndimage.grey_opening(ink, size=long) - ndimage.grey_opening(ink, size=wide)
        found = np.maximum(found, lines)
    return found


def flat_background(gray: np.ndarray, background: float) -> bool:
    """Whether most pixels of ``gray`` are at the ``background`` level (not a photo)."""
    tolerance = 1e-3 * max(float(gray.max() - gray.min()), 1e-12)
    return float(np.mean(np.abs(gray - background) <= tolerance)) >= FLAT_SHARE


def photo_ink(gray: np.ndarray) -> np.ndarray:
    """Ink in [0, 1] of a photo of a digit on paper: uneven light, shadows, coloured,
    lined or squared paper, noise and JPEG.

    The paper's own brightness is estimated everywhere with a grey closing (a window
    wider than a stroke: the strokes vanish, the light and the shadows stay) and each
    pixel's ink is how much darker it is than its paper, relatively (so a shadow
    darkens ink and paper alike and cancels out). Long straight lines (rules, a
    margin) are taken out, then what is weaker than ``INK_FLOOR`` of the darkest
    stroke, and specks far smaller than the digit's largest piece.
    Light ink on dark paper (chalk on a board) is turned round first.
    """
    gray = np.asarray(gray, dtype=np.float64)
    if max(gray.shape) > PHOTO_SIDE:  # averaged down: thin rules stay thin lines
        scale = PHOTO_SIDE / max(gray.shape)
        size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
        image = Image.fromarray(gray.astype(np.float32), mode="F")
        gray = np.asarray(image.resize(size, Image.Resampling.BOX), dtype=np.float64)
    low, middle, high = np.percentile(gray, [0.5, 50, 99.5])
    if high - middle > middle - low:  # the ink is the bright side: light on dark
        gray = gray.max() - gray
    gray = gray - gray.min() + 1.0  # positive, for the ratio below
    window = max(15, round(PAPER_WINDOW * min(gray.shape))) | 1
    paper = ndimage.gaussian_filter(ndimage.grey_closing(gray, size=(window, window)), 2)
    ink = np.clip((paper - gray) / paper, 0, None)
    ink = ndimage.median_filter(ink, size=3)  # sensor noise and JPEG ringing
    ink = ink - rules(ink)
    peak = ink.max()
    if peak <= 0:
        return np.zeros(ink.shape)
    ink = np.clip((ink / peak - INK_FLOOR) / (1 - INK_FLOOR), 0, 1)
    pieces, count = ndimage.label(ink > 0)
    if count > 1:
        sizes = ndimage.sum_labels(ink, pieces, index=np.arange(1, count + 1))
        keep = np.concatenate([[False], sizes >= 0.05 * sizes.max()])
        ink = np.where(keep[pieces], ink, 0.0)
    return ink / max(ink.max(), 1e-12)


def ink_box(ink: np.ndarray, threshold: float = INK_THRESHOLD) -> tuple[int, int, int, int]:
    """Bounding box (top, left, bottom, right) of ``ink > threshold``.

    Raises
    ------
    EmptyDrawingError
        If no pixel is above the threshold.
    """
    rows = np.flatnonzero((ink > threshold).any(axis=1))
    cols = np.flatnonzero((ink > threshold).any(axis=0))
    if rows.size == 0:
        raise EmptyDrawingError("the drawing is empty: draw a digit")
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def fit_box(cropped: np.ndarray, box: int = BOX) -> np.ndarray:
    """Scale ``cropped`` so its longer side is ``box`` pixels, keeping the aspect ratio.

    Uses PIL's Lanczos filter on a float image, which anti-aliases when shrinking.
    """
    h, w = cropped.shape
    scale = box / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    fitted = Image.fromarray(cropped.astype(np.float32), mode="F").resize(
        size, Image.Resampling.LANCZOS
    )
    return np.clip(np.asarray(fitted, dtype=np.float64), 0.0, 1.0)


def centre_by_mass(fitted: np.ndarray, size: int = SIZE) -> np.ndarray:
    """Paste ``fitted`` into a ``size`` x ``size`` field with its centre of mass at the centre.

    The shift is rounded to whole pixels (as MNIST's own) and clamped so no ink
    leaves the field.
    """
    h, w = fitted.shape
    if fitted.sum() > 0:
        cy, cx = ndimage.center_of_mass(fitted)
    else:
        cy, cx = (h - 1) / 2, (w - 1) / 2
    centre = (size - 1) / 2
    top = int(np.clip(round(centre - cy), 0, size - h))
    left = int(np.clip(round(centre - cx), 0, size - w))
    out = np.zeros((size, size))
    out[top : top + h, left : left + w] = fitted
    return out


# Neighbour k of a pixel is bit k of its 8-neighbourhood code, clockwise from north
# (Zhang & Suen's P2, P3, ..., P9).
_OFFSETS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


def _thinning_table(second: bool) -> np.ndarray:
    """Which 8-neighbourhood codes let a pixel be removed in Zhang-Suen's (first|second) pass."""
    table = np.zeros(256, dtype=bool)
    for code in range(256):
        p = [(code >> k) & 1 for k in range(8)]
        p2, _, p4, _, p6, _, p8, _ = p
        neighbours = sum(p)
        transitions = sum(p[k] == 0 and p[(k + 1) % 8] == 1 for k in range(8))
        if second:
            keeps_shape = not (p2 and p4 and p8) and not (p2 and p6 and p8)
        else:
            keeps_shape = not (p2 and p4 and p6) and not (p4 and p6 and p8)
        table[code] = 2 <= neighbours <= 6 and transitions == 1 and keeps_shape
    return table


_TABLES = (_thinning_table(False), _thinning_table(True))


def thin(binary: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning: one-pixel-wide skeletons of a batch of binary images.

    Parameters
    ----------
    binary : array (n, H, W) or (H, W) of bool
        Ink is True.

    Returns
    -------
    ndarray of bool, same shape
        Every stroke reduced to an 8-connected line through its middle.
    """
    binary = np.asarray(binary, dtype=bool)
    single = binary.ndim == 2
    batch = binary[None] if single else binary
    out = np.zeros(batch.shape, dtype=bool)
    rows = np.flatnonzero(batch.any(axis=(0, 2)))
    cols = np.flatnonzero(batch.any(axis=(0, 1)))
    if len(rows):  # thinning only removes ink: work on the box around it
        box = (slice(None), slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        out[box] = _thin_box(batch[box])
    return out[0] if single else out


def _thin_box(batch: np.ndarray) -> np.ndarray:
    """:func:`thin` of a batch (n, H, W) of bool."""
    img = np.pad(batch, ((0, 0), (1, 1), (1, 1))).astype(np.uint8)
    h, w = img.shape[1] - 2, img.shape[2] - 2
    centre = img[:, 1:-1, 1:-1]  # a view: removals write through to img
    changed = True
    while changed:
        changed = False
        for table in _TABLES:
            code = np.zeros(centre.shape, dtype=np.uint8)
            for bit, (dr, dc) in enumerate(_OFFSETS):
                code |= img[:, 1 + dr : 1 + dr + h, 1 + dc : 1 + dc + w] << bit
            remove = table[code] & (centre == 1)
            if remove.any():
                centre[remove] = 0
                changed = True
    return centre.astype(bool)


def skeleton_length(skeleton: np.ndarray) -> np.ndarray:
    """Length in pixels of 8-connected skeletons (n, H, W): 1 per straight step, √2 per diagonal.

    A diagonal step is counted only where no straight path joins the two pixels,
    so an L-shaped corner is not counted twice.
    """
    s = np.asarray(skeleton, dtype=bool)
    if s.ndim == 2:
        s = s[None]
    straight = (s[:, 1:, :] & s[:, :-1, :]).sum(axis=(1, 2)) + (s[:, :, 1:] & s[:, :, :-1]).sum(
        axis=(1, 2)
    )
    down_right = s[:, 1:, 1:] & s[:, :-1, :-1] & ~s[:, 1:, :-1] & ~s[:, :-1, 1:]
    down_left = s[:, 1:, :-1] & s[:, :-1, 1:] & ~s[:, 1:, 1:] & ~s[:, :-1, :-1]
    diagonal = down_right.sum(axis=(1, 2)) + down_left.sum(axis=(1, 2))
    return straight + np.sqrt(2) * diagonal


def skeleton_ends(skeleton: np.ndarray) -> np.ndarray:
    """Number of end points (pixels with exactly one 8-neighbour) of skeletons (n, H, W)."""
    s = np.asarray(skeleton, dtype=bool)
    if s.ndim == 2:
        s = s[None]
    padded = np.pad(s, ((0, 0), (1, 1), (1, 1))).astype(np.uint8)
    h, w = s.shape[1:]
    neighbours = sum(padded[:, 1 + dr : 1 + dr + h, 1 + dc : 1 + dc + w] for dr, dc in _OFFSETS)
    return (s & (neighbours == 1)).sum(axis=(1, 2))


def stroke_widths(fine: np.ndarray, scale: float = FINE / BOX) -> tuple[np.ndarray, np.ndarray]:
    """Mean stroke width of digits (n, H, W) in [0, 1], and their skeletons.

    A stroke of width w whose skeleton is L long holds about w * L of ink, plus
    w * w / 2 at each of its e end points, where the skeleton stops half a width
    short of the stroke's end: w solves (e / 2) w² + L w = ink mass. Widths
    are returned in pixels of the 20 px box (``fine`` is ``scale`` times larger);
    0 where there is no skeleton.
    """
    fine = np.asarray(fine, dtype=np.float64)
    if fine.ndim == 2:
        fine = fine[None]
    peak = fine.max(axis=(1, 2), keepdims=True)
    # Half the peak, not 0.5: a hairline shrunk to less than a pixel is faint.
    skeletons = thin((fine > 0.5 * peak) & (peak > 0))
    length = skeleton_length(skeletons)
    half_ends = skeleton_ends(skeletons) / 2
    mass = fine.sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        quadratic = (np.sqrt(length**2 + 4 * half_ends * mass) - length) / (2 * half_ends)
        width = np.where(half_ends > 0, quadratic, mass / length)
    width = np.where(length >= 1, width, 0.0)
    return width / scale, skeletons


def measure_stroke(fine: np.ndarray, scale: float = FINE / BOX) -> tuple[float, np.ndarray]:
    """Mean stroke width of one digit (see :func:`stroke_widths`), and its skeleton."""
    width, skeleton = stroke_widths(fine, scale)
    return float(width[0]), skeleton[0]


def adjust_stroke(
    fine: np.ndarray,
    width: float,
    skeleton: np.ndarray,
    band: tuple[float, float] = STROKE_BAND,
    scale: float = FINE / BOX,
) -> np.ndarray:
    """Grow or shrink the strokes of ``fine`` so their width falls into ``band``.

    Growing adds an anti-aliased rim of the missing half-width around the ink;
    shrinking peels it off, but never the skeleton itself, so a thin part of a
    mostly thick drawing is kept as a hairline rather than cut.
    """
    low, high = band
    if width <= 0 or low <= width <= high:
        return fine
    ink = fine > 0.5 * fine.max()
    # Distances are between pixel centres: the first pixel outside the ink is at
    # 1, so a rim of r covers distances 1..r (and the last one partly).
    if width < low:
        rim = (low - width) / 2 * scale
        outside = ndimage.distance_transform_edt(~ink)
        return np.maximum(fine, np.clip(rim + 1.0 - outside, 0.0, 1.0))
    peel = (width - high) / 2 * scale
    inside = ndimage.distance_transform_edt(ink)
    shrunk = np.minimum(fine, np.clip(inside - peel, 0.0, 1.0))
    return np.maximum(shrunk, skeleton * fine)


def even_strokes(
    cropped: np.ndarray, stroke_band: tuple[float, float] = STROKE_BAND
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """Bring a cropped digit's stroke width into ``stroke_band`` and fit it into 20 px.

    Returns (fitted, fine, width, adjusted): the digit fitted into 20 px, the crop
    fitted into :data:`FINE` px where strokes are measured, the measured width
    (pixels of the 20 px box) and ``fine`` with its strokes grown or shrunk.
    """
    fine = fit_box(cropped, FINE)
    width, skeleton = measure_stroke(fine)
    adjusted = adjust_stroke(fine, width, skeleton, stroke_band)
    # Growing strokes widens the ink's box: fit the new box, as MNIST fits the pen's.
    top, left, bottom, right = ink_box(adjusted)
    return fit_box(adjusted[top:bottom, left:right]), fine, width, adjusted


# The steps a caller can switch off (the ink extraction always runs).
SKIPPABLE = ("crop", "stroke", "fit", "centre")


def preprocess_steps(
    image, stroke_band: tuple[float, float] | None = STROKE_BAND, skip=()
) -> Steps:
    """Run the whole preprocessing and return every intermediate image.

    Ink extraction, crop to the ink's bounding box, fit into 80 px to measure
    the strokes and bring their width into ``stroke_band`` (None skips this),
    fit the longer side to 20 px, paste into 28x28 with the centre of mass at
    the centre.

    Parameters
    ----------
    image : PIL.Image.Image or array-like
        A drawing of any size: RGBA, RGB, L (or LA, P, I;16…), dark-on-light,
        light-on-dark, or ink on transparent.
    stroke_band : (float, float) or None
        The stroke widths (px at the 20 px scale) strokes are brought into.
    skip : collection of {"crop", "stroke", "fit", "centre"}
        Steps to switch off, to show what each one does (the How it works page).
        ``crop``: keep the whole canvas instead of the ink's bounding box.
        ``stroke``: keep the strokes as drawn instead of evening their width (also
        skipped with ``crop`` or ``fit``: strokes are measured on the cropped digit
        at the fitted scale). ``fit``: shrink by the factor that takes the canvas
        to 28×28 instead of fitting the longer side to 20 px. ``centre``: paste the
        digit where it was on the canvas instead of centring its mass.

    Returns
    -------
    Steps
        Every intermediate image; ``result`` is the (28, 28) uint8 image, ink = 255.

    Raises
    ------
    ImageError
        If ``image`` is not an image (wrong shape, dtype, NaN…).
    EmptyDrawingError
        If the image has no ink.
    """
    skip = set(skip)
    if unknown := skip - set(SKIPPABLE):
        raise ValueError(f"cannot skip {sorted(unknown)}; choose from {SKIPPABLE}")
    ink = extract_ink(image)
    height, width = ink.shape
    box = ink_box(ink)
    top, left, bottom, right = region = (0, 0, height, width) if "crop" in skip else box
    cropped = ink[top:bottom, left:right]
    fine = stroke = adjusted = None
    if "fit" in skip:
        # Whatever scale takes the whole canvas to 28x28, applied to the region.
        fitted = fit_box(cropped, max(1, round(max(cropped.shape) * SIZE / max(height, width))))
    elif stroke_band is None or skip & {"stroke", "crop"}:  # measured on the cropped digit
        fitted = fit_box(cropped)
    else:
        fitted, fine, stroke, adjusted = even_strokes(cropped, stroke_band)
    if "centre" in skip:
        centred = paste_where_drawn(fitted, region, (height, width))
    else:
        centred = centre_by_mass(fitted)
    peak = centred.max()
    if peak <= 0:  # only possible for sub-threshold specks lost by resampling
        raise EmptyDrawingError("the drawing is empty: draw a digit")
    result = np.rint(centred / peak * 255).astype(np.uint8)
    return Steps(ink, box, cropped, fitted, centred, result, fine, stroke, adjusted)


def paste_where_drawn(fitted: np.ndarray, region, canvas_shape) -> np.ndarray:
    """Paste ``fitted`` into 28x28 with its centre where ``region``'s centre was on the canvas.

    ``region`` is (top, left, bottom, right) on a canvas of ``canvas_shape`` (height, width).
    """
    top, left, bottom, right = region
    h, w = fitted.shape
    cy = (top + bottom) / 2 / canvas_shape[0] * SIZE
    cx = (left + right) / 2 / canvas_shape[1] * SIZE
    y = int(np.clip(round(cy - h / 2), 0, SIZE - h))
    x = int(np.clip(round(cx - w / 2), 0, SIZE - w))
    out = np.zeros((SIZE, SIZE))
    out[y : y + h, x : x + w] = fitted
    return out


def to_mnist(image) -> np.ndarray:
    """Turn a drawing into an MNIST-style (28, 28) uint8 image, ink = 255.

    Ink extraction, crop to the ink's bounding box, stroke width brought into
    MNIST's typical range, fit the longer side to 20 px with anti-aliasing,
    paste into 28x28 with the centre of mass at the centre (see
    :func:`preprocess_steps` for each intermediate image).

    Raises
    ------
    ImageError
        If ``image`` is not an image; :class:`EmptyDrawingError` (a subclass)
        if it holds no ink.
    """
    return preprocess_steps(image).result
