"""Video: detect, classify, smooth and annotate every frame of a file or a camera.

Faces are found with the Haar cascade on a smaller copy of each frame (fast), classified by a
``prediction.FaceClassifier``, and their probabilities averaged over the last frames per face
(``ProbabilitySmoother``) so the labels do not flicker.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import CLASS_NAMES, IMG_SIZE
from .detection import CROP_MARGIN, detect_faces
from .images import InputFileError, crop_face
from .prediction import FaceClassifier, FaceResult, draw_results

VIDEO_DETECT_MAX_SIDE = 320  # video frames: detection on a smaller copy ...
VIDEO_SCALE_FACTOR = 1.2  # ... with a coarser scale pyramid (photos use 1.1), for speed


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
            smoothed.append(FaceResult.from_probabilities(r.box, p))
        for k, t in enumerate(self.tracks):
            if k not in used:
                t["missing"] += 1
        self.tracks = [t for t in self.tracks if t["missing"] <= self.max_missing]
        return smoothed


def quiet_opencv() -> None:
    """Keep OpenCV's warnings and FFmpeg's messages (e.g. ``moov atom not found`` for a broken
    file) off the terminal: failures are reported as one line by the caller. Only sets the
    environment variables the user has not set; they count from the first video opened."""
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET


def open_video(source: str | int | os.PathLike):
    """An opened ``cv2.VideoCapture`` of a video file or a camera index, quietly
    (``quiet_opencv``); ``InputFileError`` with one line when it cannot be opened."""
    import cv2

    if isinstance(source, (str, os.PathLike)) and not Path(source).is_file():
        raise InputFileError(
            f"{source}: " + ("is a folder, not a video file." if Path(source).is_dir() else "no such video file.")
        )
    quiet_opencv()
    cap = cv2.VideoCapture(source if isinstance(source, int) else str(source))
    if not cap.isOpened():
        cap.release()
        what = f"camera {source}" if isinstance(source, int) else f"{source}"
        raise InputFileError(f"{what}: cannot be opened as a video (unsupported format, or no camera).")
    return cap


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
    cap = open_video(source)
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
            crops = [crop_face(gray, b, CROP_MARGIN["haar"]) for b in boxes]
            faces = np.stack(crops) if crops else np.zeros((0, IMG_SIZE, IMG_SIZE), np.uint8)
            probs = classifier(faces)
            results = smoother.update([FaceResult.from_probabilities(b, p) for b, p in zip(boxes, probs)])
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
                        raise InputFileError(f"{output}: cannot write a video there.")
                writer.write(np.ascontiguousarray(rgb[..., ::-1]))
    finally:
        cap.release()
        if writer is not None:
            writer.release()
    if frames == 0:
        raise InputFileError(f"{source}: no frames could be read (empty or corrupt video).")
    return VideoStats(frames, with_faces, time.perf_counter() - start, str(output) if output else None)
