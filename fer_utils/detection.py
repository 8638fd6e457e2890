"""Face detection: where are the faces in a photo or a video frame?

MTCNN (the PyPI ``mtcnn`` package, a three-stage CNN) for photos, OpenCV's frontal-face Haar
cascade (shipped in the 4.x ``opencv-python-headless`` wheels) for video. Both return square-ish
boxes ``(x, y, w, h)`` in the original image's coordinates; ``CROP_MARGIN`` says how much to add
around each detector's box so that ``images.crop_face`` gives a FER-2013-like crop.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DETECT_MAX_SIDE = 1024  # larger images are downscaled for detection only

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
    image: np.ndarray,
    detector: str = "mtcnn",
    min_size: int | None = None,
    max_side: int = DETECT_MAX_SIDE,
    scale_factor: float = 1.1,
    min_neighbors: int = 5,
    min_confidence: float = 0.9,
) -> list[tuple[int, int, int, int]]:
    """Boxes ``(x, y, w, h)`` of the faces in a uint8 image (original coordinates), left to right.

    ``image`` is grayscale ``(H, W)`` or colour ``(H, W, 3)`` (RGB; a fourth channel is ignored).
    MTCNN, trained on colour photos, sees the colour when there is one (on the course's group photos
    it finds more faces on colour than on the gray copy: notebook 05); Haar always works on gray.

    ``detector="mtcnn"`` (the default for photos) is a three-stage CNN that also finds tilted, partly
    covered and small faces (docs/benchmarks.md, "Face detection": recall and time per photo against
    Haar); its boxes are made square, like FER-2013's crops, and kept when its confidence is at least
    ``min_confidence``.
    ``detector="haar"`` is OpenCV's frontal-face cascade: several times faster, used for video;
    ``scale_factor`` and ``min_neighbors`` are its settings.
    ``min_size`` is the smallest face side in pixels of the original image (default: 20 for MTCNN,
    40 for Haar). Images larger than ``max_side`` pixels are downscaled for detection only.
    """
    if detector not in DETECTORS:
        raise ValueError(f"unknown face detector {detector!r}: choose one of {', '.join(DETECTORS)}")
    import cv2

    min_size = min_size if min_size is not None else (20 if detector == "mtcnn" else 40)
    image = np.asarray(image, dtype=np.uint8)
    if image.ndim == 3:
        image = np.ascontiguousarray(image[..., :3])
        if detector == "haar":
            image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    h, w = image.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    small = cv2.resize(image, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else image
    if detector == "haar":
        found = face_cascade().detectMultiScale(
            cv2.equalizeHist(small),
            scaleFactor=scale_factor,
            minNeighbors=min_neighbors,
            minSize=(max(12, int(min_size * scale)),) * 2,
        )
        boxes = [tuple(int(round(v / scale)) for v in box) for box in (found if len(found) else [])]
    else:
        rgb = small if small.ndim == 3 else np.repeat(small[..., None], 3, axis=2)
        found = mtcnn_detector().detect_faces(rgb, min_face_size=max(12, int(min_size * scale)))
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
