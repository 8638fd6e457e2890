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

DETECT_MAX_SIDE = 1024  # larger images are downscaled for detection only
VIDEO_DETECT_MAX_SIDE = 320  # video frames: detection on a smaller copy ...
VIDEO_SCALE_FACTOR = 1.2  # ... with a coarser scale pyramid (photos use 1.1), for speed


class PredictionInputError(ValueError):
    """An input file cannot be used; the message names it and says why."""


@dataclass
class FaceResult:
    box: tuple[int, int, int, int]  # x, y, width, height in the original image
    emotion: str
    confidence: float
    probabilities: dict[str, float]

    def as_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------- loading
def load_image(path: str | os.PathLike, color: bool = False) -> np.ndarray:
    """Read an image file at full resolution: 2-D uint8 grayscale, or RGB ``(H, W, 3)`` with
    ``color=True`` (for drawing results on the original photo).

    EXIF rotation is applied; RGB, RGBA (composited on white), palette and 16-bit images are
    converted. Raises ``PredictionInputError`` naming the file for missing, empty, truncated,
    non-image or absurdly large files.
    """
    path = Path(path)
    if not path.exists():
        raise PredictionInputError(f"{path}: no such file.")
    if path.is_dir():
        raise PredictionInputError(f"{path}: is a folder, not an image file.")
    if path.stat().st_size == 0:
        raise PredictionInputError(f"{path}: empty file (0 bytes).")
    try:
        with Image.open(path) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            gray = to_gray_uint8(img, size=None)
            if not color:
                return gray
            if img.mode in ("RGB", "RGBA", "P", "CMYK", "YCbCr", "LA", "PA"):
                rgba = img.convert("RGBA")
                white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
            return np.stack([gray] * 3, axis=-1)  # grayscale and 16-bit images
    except Image.DecompressionBombError as err:
        raise PredictionInputError(f"{path}: image too large to open safely ({err}).") from None
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
            "or pass --model PATH."
        )
    try:
        return keras.models.load_model(path, safe_mode=True, compile=False)
    except Exception as err:  # Keras raises many types for a bad file
        raise PredictionInputError(f"{path}: not a Keras model file ({type(err).__name__}: {err}).") from None


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
    raise PredictionInputError(
        f"No trained model in {config.MODELS_DIR} and no shipped model at {config.SHIPPED_MODEL}: "
        "run notebook 03 (or 04) first, or reinstall fer_utils (pip install -e .)."
    )


# --------------------------------------------------------------------------- faces
_CASCADE = None


def face_cascade():
    """OpenCV's frontal-face Haar cascade (loaded once)."""
    global _CASCADE
    if _CASCADE is None:
        import cv2

        path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"
        if not path.exists():
            raise RuntimeError(
                f"{path} is missing: install opencv-python-headless<5 (5.x wheels do not ship the Haar cascades)."
            )
        _CASCADE = cv2.CascadeClassifier(str(path))
    return _CASCADE


#: Face detectors: ``mtcnn`` (default for photos) and ``haar`` (fast; the default for video).
DETECTORS = ("mtcnn", "haar")
#: The margin (fraction of the box side) that turns each detector's box into a FER-2013-like crop.
#: Measured on 200 training faces pasted on canvases: MTCNN's square box is 1.04x the FER-2013
#: crop's side (median), so it needs none; Haar's box is tighter than FER-2013's framing.
CROP_MARGIN = {"mtcnn": 0.0, "haar": 0.1}
_MTCNN = None


def mtcnn_detector():
    """The MTCNN detector of the PyPI package ``mtcnn`` (its weights ship inside the wheel), loaded once."""
    global _MTCNN
    if _MTCNN is None:
        from mtcnn import MTCNN

        from .runtime import silenced_native_stderr

        with silenced_native_stderr():
            _MTCNN = MTCNN(device="CPU:0")
    return _MTCNN


def detect_faces(
    gray: np.ndarray,
    detector: str = "mtcnn",
    min_size: int | None = None,
    max_side: int = DETECT_MAX_SIDE,
    scale_factor: float = 1.1,
    min_neighbors: int = 5,
    min_confidence: float = 0.9,
) -> list[tuple[int, int, int, int]]:
    """Boxes ``(x, y, w, h)`` of the faces in a uint8 grayscale image (original coordinates), left to right.

    ``detector="mtcnn"`` (the default for photos) is a three-stage CNN that also finds tilted, partly
    covered and small faces (README: recall and time per photo against Haar); its boxes are made
    square, like FER-2013's crops, and kept when its confidence is at least ``min_confidence``.
    ``detector="haar"`` is OpenCV's frontal-face cascade: several times faster, used for video;
    ``scale_factor`` and ``min_neighbors`` are its settings.
    ``min_size`` is the smallest face side in pixels of the original image (default: 20 for MTCNN,
    40 for Haar). Images larger than ``max_side`` pixels are downscaled for detection only.
    """
    if detector not in DETECTORS:
        raise ValueError(f"unknown face detector {detector!r}: choose one of {', '.join(DETECTORS)}")
    import cv2

    min_size = min_size if min_size is not None else (20 if detector == "mtcnn" else 40)
    h, w = gray.shape
    scale = min(1.0, max_side / max(h, w))
    small = cv2.resize(gray, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else gray
    if detector == "haar":
        found = face_cascade().detectMultiScale(
            cv2.equalizeHist(small),
            scaleFactor=scale_factor,
            minNeighbors=min_neighbors,
            minSize=(max(12, int(min_size * scale)),) * 2,
        )
        boxes = [tuple(int(round(v / scale)) for v in box) for box in (found if len(found) else [])]
    else:
        found = mtcnn_detector().detect_faces(
            np.repeat(small[..., None], 3, axis=2), min_face_size=max(12, int(min_size * scale))
        )
        boxes = []
        for face in found:
            if face["confidence"] < min_confidence:
                continue
            x, y, bw, bh = (v / scale for v in face["box"])
            side = max(bw, bh)  # square around the centre, as FER-2013's crops are
            x0, y0 = max(0.0, x + bw / 2 - side / 2), max(0.0, y + bh / 2 - side / 2)
            side = min(side, w - x0, h - y0)
            if side >= min_size:
                boxes.append((int(round(x0)), int(round(y0)), int(round(side)), int(round(side))))
    return sorted(boxes, key=lambda b: (b[0], b[1]))


def crop_face(gray: np.ndarray, box: tuple[int, int, int, int], margin: float = 0.1) -> np.ndarray:
    """The face in ``box`` plus a ``margin`` (fraction of its size), as 48x48 uint8."""
    x, y, w, h = box
    mx, my = int(w * margin), int(h * margin)
    x0, y0 = max(0, x - mx), max(0, y - my)
    x1, y1 = min(gray.shape[1], x + w + mx), min(gray.shape[0], y + h + my)
    return to_gray_uint8(Image.fromarray(gray[y0:y1, x0:x1]), IMG_SIZE)


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
        x = np.asarray(faces, np.float32)[..., None] / 255.0
        return np.asarray(self._fn(x), dtype=np.float64)


def classify_faces(model, faces: np.ndarray) -> np.ndarray:
    """Probabilities ``(k, 7)`` for uint8 faces ``(k, 48, 48)`` in one batch.

    ``model`` is a Keras model or a ``FaceClassifier`` (faster when called many times).
    """
    if len(faces) == 0:
        return np.zeros((0, len(CLASS_NAMES)))
    if isinstance(model, FaceClassifier):
        return model(faces)
    x = faces.astype(np.float32)[..., None] / 255.0
    return np.asarray(model(x, training=False), dtype=np.float64)


def predict_image(
    model,
    image: np.ndarray | str | os.PathLike,
    detect: bool | None = None,
    detector: str = "mtcnn",
    **detect_kwargs,
) -> list[FaceResult]:
    """Find and classify every face in an image (array or file path).

    ``detect=None`` classifies images that are already small face crops (at most 64 px a
    side, e.g. 48x48 FER faces) directly and runs face detection on anything larger;
    ``False`` always treats the whole image as one face. An empty list means no face found.
    ``detector`` and ``detect_kwargs`` go to :func:`detect_faces`.
    """
    gray = load_image(image) if isinstance(image, (str, os.PathLike)) else np.asarray(image)
    if gray.ndim == 3:
        gray = to_gray_uint8(Image.fromarray(gray.astype(np.uint8)), size=None)
    if detect is None:
        detect = max(gray.shape) > 64
    if detect:
        boxes = detect_faces(gray, detector, **detect_kwargs)
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
    return [
        FaceResult(
            box=tuple(int(v) for v in b),
            emotion=CLASS_NAMES[int(p.argmax())],
            confidence=float(p.max()),
            probabilities={n: float(v) for n, v in zip(CLASS_NAMES, p)},
        )
        for b, p in zip(boxes, probs)
    ]


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


# --------------------------------------------------------------------------- video
def _iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    return inter / float(aw * ah + bw * bh - inter) if inter else 0.0


class ProbabilitySmoother:
    """Average each face's probabilities over its last ``window`` frames so labels do not flicker.

    Faces are followed from frame to frame by box overlap (IoU >= ``min_iou``); a face unseen
    for ``max_missing`` frames is forgotten.
    """

    def __init__(self, window: int = 5, min_iou: float = 0.3, max_missing: int = 5):
        from collections import deque

        self.window, self.min_iou, self.max_missing = window, min_iou, max_missing
        self._deque = deque
        self.tracks: list[dict] = []  # {"box", "history": deque of prob vectors, "missing"}

    def update(self, results: list[FaceResult]) -> list[FaceResult]:
        """Smoothed copies of this frame's results (same boxes, averaged probabilities)."""
        used, smoothed = set(), []
        for r in results:
            best, best_iou = None, self.min_iou
            for k, t in enumerate(self.tracks):
                iou = _iou(r.box, t["box"])
                if k not in used and iou >= best_iou:
                    best, best_iou = k, iou
            if best is None:
                self.tracks.append({"box": r.box, "history": self._deque(maxlen=self.window), "missing": 0})
                best = len(self.tracks) - 1
            used.add(best)
            track = self.tracks[best]
            track.update(box=r.box, missing=0)
            track["history"].append(np.array([r.probabilities[n] for n in CLASS_NAMES]))
            p = np.mean(track["history"], axis=0)
            smoothed.append(
                FaceResult(
                    r.box, CLASS_NAMES[int(p.argmax())], float(p.max()), {n: float(v) for n, v in zip(CLASS_NAMES, p)}
                )
            )
        for k, t in enumerate(self.tracks):
            if k not in used:
                t["missing"] += 1
        self.tracks = [t for t in self.tracks if t["missing"] <= self.max_missing]
        return smoothed


@dataclass
class VideoStats:
    frames: int
    frames_with_faces: int
    seconds: float
    output: str | None

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0


def process_video(
    model,
    source: str | int,
    output: str | os.PathLike | None = None,
    smooth: int = 5,
    max_frames: int | None = None,
    detect_max_side: int = VIDEO_DETECT_MAX_SIDE,
    min_size: int | None = None,
    scale_factor: float = VIDEO_SCALE_FACTOR,
    detect_every: int = 1,
    on_frame=None,
) -> VideoStats:
    """Detect, classify and annotate every frame of a video file or camera (an int index).

    Probabilities are smoothed per face over ``smooth`` frames. With ``output`` the annotated
    frames are written as an MP4 (same size and frame rate as the input). ``on_frame(i,
    results)`` is called for each frame. Returns frame counts, seconds and frames per second.

    Speed: face detection dominates. Video frames are searched on a copy whose longer side is
    ``detect_max_side`` pixels with a coarser ``scale_factor`` than for photos; with
    ``detect_every=k`` the detector runs on every k-th frame and the boxes are reused in
    between (faces move little in 1/15 s), while classification runs on every frame.
    """
    import time

    import cv2

    classifier = model if isinstance(model, FaceClassifier) else FaceClassifier(model)
    if isinstance(source, (str, os.PathLike)) and not Path(source).exists():
        raise PredictionInputError(f"{source}: no such video file.")
    cap = cv2.VideoCapture(source if isinstance(source, int) else str(source))
    if not cap.isOpened():
        what = f"camera {source}" if isinstance(source, int) else f"{source}"
        raise PredictionInputError(f"{what}: cannot be opened as a video (unsupported format, or no camera).")
    fps_in = cap.get(cv2.CAP_PROP_FPS) or 25.0
    writer, smoother = None, ProbabilitySmoother(window=max(1, smooth))
    boxes: list[tuple[int, int, int, int]] = []
    every = max(1, detect_every)
    frames = with_faces = 0
    start = time.perf_counter()
    try:
        while max_frames is None or frames < max_frames:
            ok, frame = cap.read()
            if not ok:
                break
            gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
            if frames % every == 0:
                boxes = detect_faces(
                    gray, "haar", min_size=min_size, max_side=detect_max_side, scale_factor=scale_factor
                )
            faces = (
                np.stack([crop_face(gray, b) for b in boxes]) if boxes else np.zeros((0, IMG_SIZE, IMG_SIZE), np.uint8)
            )
            probs = classifier(faces)
            results = smoother.update(
                [
                    FaceResult(
                        b, CLASS_NAMES[int(p.argmax())], float(p.max()), {n: float(v) for n, v in zip(CLASS_NAMES, p)}
                    )
                    for b, p in zip(boxes, probs)
                ]
            )
            frames += 1
            with_faces += bool(results)
            if on_frame is not None:
                on_frame(frames - 1, results)
            if output is not None:
                rgb = draw_results(frame[..., ::-1], results)
                if writer is None:
                    Path(output).parent.mkdir(parents=True, exist_ok=True)
                    writer = cv2.VideoWriter(
                        str(output), cv2.VideoWriter_fourcc(*"mp4v"), fps_in, (rgb.shape[1], rgb.shape[0])
                    )
                    if not writer.isOpened():
                        raise PredictionInputError(f"{output}: cannot write a video there.")
                writer.write(np.ascontiguousarray(rgb[..., ::-1]))
    finally:
        cap.release()
        if writer is not None:
            writer.release()
    if frames == 0:
        raise PredictionInputError(f"{source}: no frames could be read (empty or corrupt video).")
    return VideoStats(frames, with_faces, time.perf_counter() - start, str(output) if output else None)
