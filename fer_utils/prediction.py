"""Predict emotions: load a model, classify 48x48 faces, find and classify the faces of a photo, draw.

``predict_image`` is the whole path for one photo: ``detection.detect_faces`` finds the faces
(MTCNN on the colour image when there is one), ``images.crop_face`` makes each a 48x48 uint8 gray
face, ``classify_faces`` makes them one float32 batch with ``images.to_model_input`` (the model
scales the pixels itself) and runs the model once.
``load_model`` is the one function that loads a model for the CLI and notebooks 05/06 (``course_model``).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from . import config
from .config import CLASS_NAMES, IMG_SIZE
from .detection import CROP_MARGIN, detect_faces
from .images import InputFileError, crop_face, load_image, to_gray_uint8, to_model_input


@dataclass
class FaceResult:
    box: tuple[int, int, int, int]  # x, y, width, height in the original image
    emotion: str
    confidence: float
    probabilities: dict[str, float]

    @classmethod
    def from_probabilities(cls, box, p: np.ndarray) -> FaceResult:
        """The result for one face from its seven probabilities in ``CLASS_NAMES`` order."""
        return cls(
            box=tuple(int(v) for v in box),
            emotion=CLASS_NAMES[int(np.argmax(p))],
            confidence=float(np.max(p)),
            probabilities={n: float(v) for n, v in zip(CLASS_NAMES, p)},
        )

    def as_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------- models
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")  # what Keras 3's load_model reads
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def check_model_file(path: str | os.PathLike) -> Path:
    """Raise ``InputFileError`` (one line: the file, what is wrong, what to do) when ``path`` cannot
    be a Keras model file: missing, a folder, another format, empty, or a ``.keras`` / ``.h5`` file
    whose bytes are not a zip / HDF5 archive (corrupt or incomplete). Imports no TensorFlow."""
    import zipfile

    path = Path(path)
    again = "copy or download it again, or train a new one (notebook 03 or scripts/train_recipe.py)"
    if not path.exists():
        raise InputFileError(
            f"{path}: model file not found. Train one with notebook 03 (it saves "
            f"{config.OUTPUT_DIR / 'models' / 'fer_cnn.keras'}) or scripts/train_recipe.py, "
            "or pass --model PATH."
        )
    if path.is_dir():
        inside = sorted(path.glob("*.keras"))
        if (path / "saved_model.pb").exists():
            what = "a TensorFlow SavedModel folder, which Keras 3 cannot load; re-save it with model.save('name.keras')"
        elif inside:
            what = f"a folder, not a model file; pass the model file inside it, e.g. --model {inside[0]}"
        else:
            what = "a folder, not a model file; pass a .keras file, e.g. --model outputs/models/fer_cnn_best.keras"
        raise InputFileError(f"{path}: is {what}.")
    if path.suffix.lower() not in MODEL_SUFFIXES:
        raise InputFileError(
            f"{path}: not a Keras model file (Keras 3 loads .keras and .h5 files); "
            "pass a model saved with model.save('name.keras')."
        )
    if path.stat().st_size == 0:
        raise InputFileError(f"{path}: not a Keras model file (empty, 0 bytes); {again}.")
    if path.suffix.lower() == ".keras" and not zipfile.is_zipfile(path):
        raise InputFileError(f"{path}: not a Keras model file (corrupt or incomplete: not a zip archive); {again}.")
    if path.suffix.lower() != ".keras":
        with open(path, "rb") as f:
            if f.read(len(_HDF5_SIGNATURE)) != _HDF5_SIGNATURE:
                raise InputFileError(f"{path}: not a Keras model file (corrupt or incomplete: not HDF5); {again}.")
    return path


def load_model(path: str | os.PathLike | None = None):
    """Load a Keras model (default: the model shipped with ``fer_utils``) in safe mode.

    A model saved before the models scaled their own input (it expects pixels in [0, 1]) gets a
    rescaling layer in front (``models.add_input_scaling``), so every loaded model takes 0..255.
    A file that is not a model raises ``InputFileError`` with one line (``check_model_file``),
    before TensorFlow is imported when the bytes alone tell.
    """
    path = check_model_file(path if path else config.SHIPPED_MODEL)
    import keras

    from .models import add_input_scaling

    try:
        model = keras.models.load_model(path, safe_mode=True, compile=False)
    except Exception as err:  # Keras raises many types, with messages of several lines
        reason = (str(err).strip().splitlines() or [""])[0]
        reason = reason if len(reason) <= 120 else reason[:117] + "..."
        raise InputFileError(
            f"{path}: not a Keras model file this Keras {keras.__version__} can load "
            f"({type(err).__name__}: {reason}); re-save it with model.save('name.keras') or train a new one."
        ) from None
    return add_input_scaling(model)


def course_model(profile_name: str, x_train: np.ndarray, y_train: np.ndarray):
    """The model notebooks 05 and 06 use: ``training.find_trained_model()`` (04's best, else 03's,
    else the shipped one), loaded with :func:`load_model`. Only in the ``smoke`` profile, when
    none exists, a quick stand-in is trained on ``x_train`` (its accuracy means nothing).

    Returns ``(where it came from, model)``.
    """
    from .training import find_trained_model, quick_standin_model

    path = find_trained_model()
    if path is not None:
        return str(path), load_model(path)
    if profile_name == "smoke":
        print("No trained model found: training a quick stand-in (smoke profile only).")
        return "quick stand-in", quick_standin_model(x_train, y_train)
    raise InputFileError(
        f"No trained model in {config.MODELS_DIR} and no shipped model at {config.SHIPPED_MODEL}: "
        "run notebook 03 (or 04) first, or reinstall fer_utils (pip install -e .)."
    )


# --------------------------------------------------------------------------- classifying
class FaceClassifier:
    """A Keras model wrapped for fast small-batch inference.

    ``model(x)`` in eager mode re-dispatches every layer on each call, and ``model.predict``
    builds a dataset per call; for one or a few faces per video frame both dominate the cost.
    A ``tf.function`` with a fixed input signature is traced once and reused for any batch size.
    """

    def __init__(self, model):
        import tensorflow as tf

        self.model = model
        self._fn = tf.function(
            lambda x: model(x, training=False),
            reduce_retracing=True,
            input_signature=[tf.TensorSpec([None, IMG_SIZE, IMG_SIZE, 1], tf.float32)],
        )

    def __call__(self, faces: np.ndarray) -> np.ndarray:
        """Probabilities ``(k, 7)`` for uint8 faces ``(k, 48, 48)``."""
        if len(faces) == 0:
            return np.zeros((0, len(CLASS_NAMES)))
        return np.asarray(self._fn(to_model_input(faces)), dtype=np.float64)


def classify_faces(model, faces: np.ndarray) -> np.ndarray:
    """Probabilities ``(k, 7)`` for uint8 faces ``(k, 48, 48)`` in one batch.

    ``model`` is a Keras model or a ``FaceClassifier`` (faster when called many times).
    """
    if len(faces) == 0:
        return np.zeros((0, len(CLASS_NAMES)))
    if isinstance(model, FaceClassifier):
        return model(faces)
    return np.asarray(model(to_model_input(faces), training=False), dtype=np.float64)


def predict_image(
    model,
    image: np.ndarray | str | os.PathLike,
    detect: bool | None = None,
    detector: str = "mtcnn",
    **detect_kwargs,
) -> list[FaceResult]:
    """Find and classify every face in an image (array or file path; grayscale or colour).

    ``detect=None`` classifies images that are already small face crops (at most 64 px a
    side, e.g. 48x48 FER faces) directly and runs face detection on anything larger;
    ``False`` always treats the whole image as one face. An empty list means no face found.
    MTCNN detects on the colour image when there is one (it finds more faces on colour); the
    model always gets the 48x48 grayscale crop. ``detector`` and ``detect_kwargs`` go to
    :func:`detect_faces`.
    """
    pixels = load_image(image, color=True) if isinstance(image, (str, os.PathLike)) else np.asarray(image)
    gray = pixels
    if pixels.ndim == 3:
        gray = to_gray_uint8(Image.fromarray(pixels.astype(np.uint8)), size=None)  # RGBA: on white
        pixels = pixels[..., :3].astype(np.uint8)
    if detect is None:
        detect = max(gray.shape) > 64
    if detect:
        boxes = detect_faces(pixels if detector == "mtcnn" else gray, detector, **detect_kwargs)  # Haar: gray
        margin = CROP_MARGIN[detector]
        faces = (
            np.stack([crop_face(gray, b, margin) for b in boxes])
            if boxes
            else np.zeros((0, IMG_SIZE, IMG_SIZE), np.uint8)
        )
    else:
        boxes = [(0, 0, gray.shape[1], gray.shape[0])]
        faces = to_gray_uint8(Image.fromarray(gray), IMG_SIZE)[None]
    probs = classify_faces(model, faces)
    return [FaceResult.from_probabilities(b, p) for b, p in zip(boxes, probs)]


def draw_results(image: np.ndarray, results: list[FaceResult], bars: bool = False) -> np.ndarray:
    """An RGB copy of ``image`` with a box and ``emotion confidence`` label per face.

    Labels are white text on a filled box so they read on any background. ``bars=True`` adds
    a panel on the right with every class's probability for each face (top to bottom).
    """
    import cv2

    img = np.asarray(image)
    rgb = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB) if img.ndim == 2 else img[..., :3].copy()  # never draw on the input
    thick = max(1, int(round(max(rgb.shape[:2]) / 400)))
    for r in results:
        x, y, w, h = r.box
        cv2.rectangle(rgb, (x, y), (x + w, y + h), (255, 140, 0), thick + 1)
        text = f"{r.emotion} {r.confidence:.0%}"
        scale = max(0.4, w / 220)
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        ty = y - 4 if y - th - base - 4 > 0 else y + h + th + 4
        cv2.rectangle(rgb, (x, ty - th - base), (x + tw + 4, ty + base // 2), (255, 140, 0), -1)
        cv2.putText(rgb, text, (x + 2, ty - 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick, cv2.LINE_AA)
    if bars:
        rgb = np.concatenate([rgb, probability_panel(results, rgb.shape[0])], axis=1)
    return rgb


def probability_panel(results: list[FaceResult], height: int, width: int = 260) -> np.ndarray:
    """A white RGB panel with one block of seven probability bars per face (at most as many
    faces as fit in ``height``); the predicted class's bar is orange, the others grey."""
    import cv2

    panel = np.full((height, width, 3), 255, np.uint8)
    row, label_w = 16, 70
    block = row * (len(CLASS_NAMES) + 1) + 6
    if not results:
        cv2.putText(panel, "no face found", (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    for k, r in enumerate(results[: max(1, height // block)]):
        top = 6 + k * block
        cv2.putText(panel, f"face {k + 1}", (6, top + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        for i, name in enumerate(CLASS_NAMES):
            y = top + row * (i + 1)
            p = r.probabilities[name]
            cv2.putText(panel, name, (6, y + 11), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (40, 40, 40), 1, cv2.LINE_AA)
            colour = (255, 140, 0) if name == r.emotion else (170, 170, 170)
            x1 = label_w + int(p * (width - label_w - 44))
            cv2.rectangle(panel, (label_w, y + 2), (max(label_w + 1, x1), y + row - 3), colour, -1)
            cv2.putText(
                panel, f"{p:.0%}", (x1 + 3, y + 11), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (40, 40, 40), 1, cv2.LINE_AA
            )
    return panel
