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
# Larger uploads are refused from their header, before any pixel is decoded.
MAX_PIXELS = 40_000_000


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


def load_image(source, name: str | None = None) -> Image.Image:
    """Open an image file (path, bytes or file object) safely for :func:`to_mnist`.

    Refuses images over :data:`MAX_PIXELS` before decoding them, takes the
    first frame of an animation and applies any EXIF rotation.

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
            if img.width * img.height > MAX_PIXELS:
                raise ImageError(
                    f"{name}: {img.width}x{img.height} pixels is too large "
                    f"(at most {MAX_PIXELS // 1_000_000} megapixels); scale it down first"
                )
            img.seek(0)
            img.load()
            return ImageOps.exif_transpose(img)
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
    arr = arr.astype(np.float64)
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
        arr = arr[..., 0] if arr.shape[2] == 1 else arr @ np.array([0.299, 0.587, 0.114])
    border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]])
    background = float(np.median(border))
    ink = np.abs(arr - background)
    peak = ink.max()
    if peak == 0:
        return np.zeros(arr.shape)
    return ink / peak


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


def preprocess_steps(image) -> Steps:
    """Run the whole preprocessing and return every intermediate image.

    Parameters
    ----------
    image : PIL.Image.Image or array-like
        A drawing of any size: RGBA, RGB, L (or LA, P, I;16…), dark-on-light,
        light-on-dark, or ink on transparent.

    Raises
    ------
    ImageError
        If ``image`` is not an image (wrong shape, dtype, NaN…).
    EmptyDrawingError
        If the image has no ink.
    """
    ink = extract_ink(image)
    box = ink_box(ink)
    top, left, bottom, right = box
    cropped = ink[top:bottom, left:right]
    fitted = fit_box(cropped)
    centred = centre_by_mass(fitted)
    peak = centred.max()
    if peak <= 0:  # only possible for sub-threshold specks lost by resampling
        raise EmptyDrawingError("the drawing is empty: draw a digit")
    result = np.rint(centred / peak * 255).astype(np.uint8)
    return Steps(ink, box, cropped, fitted, centred, result)


def to_mnist(image) -> np.ndarray:
    """Turn a drawing into an MNIST-style (28, 28) uint8 image, ink = 255.

    Ink extraction, crop to the ink's bounding box, fit the longer side to
    20 px with anti-aliasing, paste into 28x28 with the centre of mass at the
    centre (see :func:`preprocess_steps` for each intermediate image).

    Raises
    ------
    ImageError
        If ``image`` is not an image; :class:`EmptyDrawingError` (a subclass)
        if it holds no ink.
    """
    return preprocess_steps(image).result
