"""Images: read a photo, make any image a 48x48 grayscale face, shape it for a model.

The one place that prepares a face. ``load_image`` reads a file (EXIF rotation, RGBA, 16-bit);
``to_gray_uint8`` turns any image into uint8 grayscale (and resizes it); ``crop_face`` cuts a
detected box into a FER-2013-like 48x48 face; ``to_model_input`` turns uint8 faces into the
float32 ``(N, 48, 48, 1)`` tensors the models take (pixels 0..255: the models scale them).
Knows nothing about FER-2013's files or about Keras.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .config import IMG_SIZE


class InputFileError(ValueError):
    """An input file (image, video or model) cannot be used; the message names it and says why."""


def load_image(path: str | os.PathLike, color: bool = False) -> np.ndarray:
    """Read an image file at full resolution: 2-D uint8 grayscale, or RGB ``(H, W, 3)`` with
    ``color=True`` (for drawing results on the original photo).

    EXIF rotation is applied; RGB, RGBA (composited on white), palette and 16-bit images are
    converted. Raises ``InputFileError`` naming the file for missing, empty, truncated,
    non-image or absurdly large files.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path}: no such file.")
    if path.is_dir():
        raise InputFileError(f"{path}: is a folder, not an image file.")
    if path.stat().st_size == 0:
        raise InputFileError(f"{path}: empty file (0 bytes).")
    try:
        with Image.open(path) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            if color and img.mode in ("RGB", "RGBA", "P", "CMYK", "YCbCr", "LA", "PA"):
                return np.asarray(_on_white(img).convert("RGB"))
            gray = to_gray_uint8(img, size=None)
            return np.stack([gray] * 3, axis=-1) if color else gray  # grayscale and 16-bit images
    except Image.DecompressionBombError as err:
        raise InputFileError(f"{path}: image too large to open safely ({err}).") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise InputFileError(f"{path}: not a readable image ({err}).") from None


def _on_white(img: Image.Image) -> Image.Image:
    """``img`` as RGBA composited on white (transparent pixels become white)."""
    rgba = img.convert("RGBA")
    return Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)


def to_gray_uint8(img: Image.Image, size: int | None = IMG_SIZE) -> np.ndarray:
    """Any PIL image (L, RGB, RGBA, P, 16-bit, float) as a 2-D uint8 grayscale array.

    Transparent pixels are composited on white; 16-bit and float images are rescaled
    to 0..255 from their own range. ``size`` resizes to ``size x size`` (None keeps it).
    """
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        img = _on_white(img)
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        gray = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8))
    else:
        gray = img.convert("L")
    if size is not None and gray.size != (size, size):
        gray = gray.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(gray, dtype=np.uint8)


def crop_face(gray: np.ndarray, box: tuple[int, int, int, int], margin: float) -> np.ndarray:
    """The face in ``box`` plus a ``margin`` (fraction of its size), as 48x48 uint8.

    Each detector frames faces differently: ``detection.CROP_MARGIN`` owns its margin."""
    x, y, w, h = box
    mx, my = int(w * margin), int(h * margin)
    x0, y0 = max(0, x - mx), max(0, y - my)
    x1, y1 = min(gray.shape[1], x + w + mx), min(gray.shape[0], y + h + my)
    return to_gray_uint8(Image.fromarray(gray[y0:y1, x0:x1]), IMG_SIZE)


def to_model_input(x: np.ndarray) -> np.ndarray:
    """uint8 faces ``(N, 48, 48)`` (or one ``(48, 48)`` face) -> float32 ``(N, 48, 48, 1)``, pixels 0..255.

    The one place that shapes faces for a model. No scaling here: every model of the course
    divides by ``config.PIXEL_MAX`` in its first layer (``models.rescaling``), and the ``tf.data``
    pipeline hands it the same float32 pixels.
    """
    x = np.asarray(x)
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 3:
        x = x[..., None]
    return x.astype(np.float32)


def place_on_canvas(
    face: np.ndarray,
    canvas_size: tuple[int, int] = (480, 640),
    face_size: int = 160,
    position: tuple[int, int] = (120, 240),
    background: int = 200,
) -> np.ndarray:
    """Paste an upscaled 48x48 face onto a larger plain canvas (a test photo with one face)."""
    canvas = np.full(canvas_size, background, np.uint8)
    big = np.asarray(Image.fromarray(face).resize((face_size, face_size), Image.Resampling.BICUBIC))
    y, x = position
    canvas[y : y + face_size, x : x + face_size] = big
    return canvas
