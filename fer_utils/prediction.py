"""Predict emotions on new images: find faces, crop, classify, draw.

Faces are found with OpenCV's frontal-face Haar cascade (shipped in the 4.x
``opencv-python-headless`` wheels), cropped with a margin, converted to 48x48 grayscale
in [0, 1] and classified in one batch.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from . import config
from .config import CLASS_NAMES, IMG_SIZE
from .data import to_gray_uint8

DETECT_MAX_SIDE = 1024   # larger images are downscaled for detection only


class PredictionInputError(ValueError):
    """An input file cannot be used; the message names it and says why."""


@dataclass
class FaceResult:
    box: tuple[int, int, int, int]          # x, y, width, height in the original image
    emotion: str
    confidence: float
    probabilities: dict[str, float]

    def as_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------- loading
def load_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as a 2-D uint8 grayscale array at full resolution.

    EXIF rotation is applied; RGB, RGBA, palette and 16-bit images are converted.
    Raises ``PredictionInputError`` naming the file for missing, empty or unreadable files.
    """
    path = Path(path)
    if not path.exists():
        raise PredictionInputError(f"{path}: no such file.")
    if path.is_file() and path.stat().st_size == 0:
        raise PredictionInputError(f"{path}: empty file.")
    try:
        with Image.open(path) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            return to_gray_uint8(img, size=None)
    except (OSError, SyntaxError, ValueError) as err:
        raise PredictionInputError(f"{path}: not a readable image ({err}).") from None


def load_model(path: str | os.PathLike | None = None):
    """Load a Keras model (default: the model shipped with ``fer_utils``) in safe mode."""
    import keras
    path = Path(path) if path else config.SHIPPED_MODEL
    if not path.exists():
        raise PredictionInputError(
            f"{path}: model file not found. Train one with notebook 03 (it saves "
            f"{config.OUTPUT_DIR / 'models' / 'fer_cnn.keras'}) or scripts/train_recipe.py, "
            "or pass --model PATH.")
    try:
        return keras.models.load_model(path, safe_mode=True, compile=False)
    except Exception as err:  # Keras raises many types for a bad file
        raise PredictionInputError(f"{path}: not a Keras model file ({type(err).__name__}: {err}).") from None


# --------------------------------------------------------------------------- faces
_CASCADE = None


def face_cascade():
    """OpenCV's frontal-face Haar cascade (loaded once)."""
    global _CASCADE
    if _CASCADE is None:
        import cv2
        path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"
        if not path.exists():
            raise RuntimeError(f"{path} is missing: install opencv-python-headless<5 (5.x wheels do not "
                               "ship the Haar cascades).")
        _CASCADE = cv2.CascadeClassifier(str(path))
    return _CASCADE


def detect_faces(gray: np.ndarray, min_size: int = 40, scale_factor: float = 1.1,
                 min_neighbors: int = 5) -> list[tuple[int, int, int, int]]:
    """Boxes ``(x, y, w, h)`` of frontal faces in a uint8 grayscale image (original coordinates).

    Images larger than ``DETECT_MAX_SIDE`` are downscaled for detection only.
    """
    import cv2
    h, w = gray.shape
    scale = min(1.0, DETECT_MAX_SIDE / max(h, w))
    small = cv2.resize(gray, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else gray
    small = cv2.equalizeHist(small)
    found = face_cascade().detectMultiScale(small, scaleFactor=scale_factor, minNeighbors=min_neighbors,
                                            minSize=(max(12, int(min_size * scale)),) * 2)
    boxes = [tuple(int(round(v / scale)) for v in box) for box in (found if len(found) else [])]
    return sorted(boxes, key=lambda b: (b[0], b[1]))


def crop_face(gray: np.ndarray, box: tuple[int, int, int, int], margin: float = 0.1) -> np.ndarray:
    """The face in ``box`` plus a ``margin`` (fraction of its size), as 48x48 uint8."""
    x, y, w, h = box
    mx, my = int(w * margin), int(h * margin)
    x0, y0 = max(0, x - mx), max(0, y - my)
    x1, y1 = min(gray.shape[1], x + w + mx), min(gray.shape[0], y + h + my)
    return to_gray_uint8(Image.fromarray(gray[y0:y1, x0:x1]), IMG_SIZE)


def classify_faces(model, faces: np.ndarray) -> np.ndarray:
    """Probabilities ``(k, 7)`` for uint8 faces ``(k, 48, 48)`` in one batch."""
    if len(faces) == 0:
        return np.zeros((0, len(CLASS_NAMES)))
    x = faces.astype(np.float32)[..., None] / 255.0
    return np.asarray(model(x, training=False), dtype=np.float64)


def predict_image(model, image: np.ndarray | str | os.PathLike, detect: bool | None = None,
                  **detect_kwargs) -> list[FaceResult]:
    """Find and classify every face in an image (array or file path).

    ``detect=None`` classifies images that are already small face crops (at most 64 px a
    side, e.g. 48x48 FER faces) directly and runs face detection on anything larger;
    ``False`` always treats the whole image as one face. An empty list means no face found.
    """
    gray = load_image(image) if isinstance(image, (str, os.PathLike)) else np.asarray(image)
    if gray.ndim == 3:
        gray = to_gray_uint8(Image.fromarray(gray.astype(np.uint8)), size=None)
    if detect is None:
        detect = max(gray.shape) > 64
    if detect:
        boxes = detect_faces(gray, **detect_kwargs)
        faces = np.stack([crop_face(gray, b) for b in boxes]) if boxes else np.zeros((0, IMG_SIZE, IMG_SIZE), np.uint8)
    else:
        boxes = [(0, 0, gray.shape[1], gray.shape[0])]
        faces = to_gray_uint8(Image.fromarray(gray), IMG_SIZE)[None]
    probs = classify_faces(model, faces)
    return [FaceResult(box=tuple(int(v) for v in b), emotion=CLASS_NAMES[int(p.argmax())],
                       confidence=float(p.max()),
                       probabilities={n: float(v) for n, v in zip(CLASS_NAMES, p)})
            for b, p in zip(boxes, probs)]


def draw_results(image: np.ndarray, results: list[FaceResult]) -> np.ndarray:
    """An RGB copy of ``image`` with a box and ``emotion confidence`` label per face.

    Labels are white text on a filled box so they read on any background.
    """
    import cv2
    img = np.asarray(image)
    rgb = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB) if img.ndim == 2 else img[..., :3].copy()
    thick = max(1, int(round(max(rgb.shape[:2]) / 400)))
    for r in results:
        x, y, w, h = r.box
        cv2.rectangle(rgb, (x, y), (x + w, y + h), (255, 140, 0), thick + 1)
        text = f"{r.emotion} {r.confidence:.0%}"
        scale = max(0.4, w / 220)
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        ty = y - 4 if y - th - base - 4 > 0 else y + h + th + 4
        cv2.rectangle(rgb, (x, ty - th - base), (x + tw + 4, ty + base // 2), (255, 140, 0), -1)
        cv2.putText(rgb, text, (x + 2, ty - 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick,
                    cv2.LINE_AA)
    return rgb


def place_on_canvas(face: np.ndarray, canvas_size: tuple[int, int] = (480, 640), face_size: int = 160,
                    position: tuple[int, int] = (120, 240), background: int = 200) -> np.ndarray:
    """Paste an upscaled 48x48 face onto a larger plain canvas (a test photo with one face)."""
    canvas = np.full(canvas_size, background, np.uint8)
    big = np.asarray(Image.fromarray(face).resize((face_size, face_size), Image.Resampling.BICUBIC))
    y, x = position
    canvas[y:y + face_size, x:x + face_size] = big
    return canvas
