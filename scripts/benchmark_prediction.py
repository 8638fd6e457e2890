"""Prediction speed on one CPU core: latency per face and end-to-end video frames per second.

    python scripts/benchmark_prediction.py                   # shipped model, 200-frame 640x480 video
    python scripts/benchmark_prediction.py --model outputs/models/fer_cnn_best.keras --frames 300

The video is made here: the public-domain NASA astronaut portrait (skimage.data.astronaut,
one face), scaled to 480x480 on a 640x480 frame and moved a few pixels each frame. The process
is pinned to one core (TensorFlow and OpenCV use one thread). Goal: at least 30 frames/s
with detection, classification and smoothing included (writing the annotated video is
reported separately). Figures are printed and written to outputs/benchmarks/prediction.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def one_core() -> str:
    import cv2

    cv2.setNumThreads(1)
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        pinned = "pinned to one core"
    except (AttributeError, OSError):
        pinned = "not pinned (no sched_setaffinity); TF and OpenCV limited to one thread"
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    return pinned


def make_video(path: Path, frames: int) -> None:
    import cv2
    import numpy as np
    from skimage import data as skdata

    face = cv2.resize(skdata.astronaut(), (480, 480), interpolation=cv2.INTER_AREA)[..., ::-1]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (640, 480))
    for i in range(frames):
        frame = np.full((480, 640, 3), 235, np.uint8)
        dx = 80 + int(20 * np.sin(i / 15))
        frame[:, dx : dx + 480] = face
        writer.write(frame)
    writer.release()


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="a .keras file (default: the shipped model)")
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--out", default="outputs/benchmarks/prediction.json")
    args = ap.parse_args()

    pinned = one_core()
    import numpy as np

    from fer_utils.detection import CROP_MARGIN, detect_faces
    from fer_utils.images import crop_face, to_model_input
    from fer_utils.prediction import FaceClassifier, load_model
    from fer_utils.runtime import hardware_description
    from fer_utils.video import VIDEO_DETECT_MAX_SIDE, VIDEO_SCALE_FACTOR, process_video

    model = load_model(args.model)
    clf = FaceClassifier(model)
    rng = np.random.default_rng(0)
    face = rng.integers(0, 256, (1, 48, 48), dtype=np.uint8)
    clf(face)  # trace once
    latency_fn = median_ms(lambda: clf(face), 300)
    latency_call = median_ms(lambda: model(to_model_input(face), training=False), 100)
    latency_predict = median_ms(lambda: model.predict(to_model_input(face), verbose=0), 30)

    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "one_face_640x480.mp4"
        make_video(video, args.frames)
        import cv2

        cap = cv2.VideoCapture(str(video))
        ok, frame = cap.read()
        cap.release()
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        boxes = detect_faces(gray, "haar")
        detect_ms = median_ms(
            lambda: detect_faces(gray, "haar", max_side=VIDEO_DETECT_MAX_SIDE, scale_factor=VIDEO_SCALE_FACTOR), 50
        )  # process_video's settings
        detect_photo_ms = median_ms(lambda: detect_faces(gray, "haar"), 20)  # Haar at photo settings
        detect_faces(gray)  # load MTCNN outside the timing
        detect_mtcnn_ms = median_ms(lambda: detect_faces(gray), 20)  # the photo default, MTCNN
        crop_ms = median_ms(lambda: crop_face(gray, boxes[0], CROP_MARGIN["haar"]), 200) if boxes else float("nan")
        process_video(clf, video, max_frames=10)  # warm-up
        stats = process_video(clf, video)
        stats_out = process_video(clf, video, output=Path(tmp) / "annotated.mp4")
        stats_k2 = process_video(clf, video, detect_every=2)

    result = {
        "hardware": hardware_description(),
        "threads": pinned,
        "model": str(args.model or "shipped"),
        "classify_latency_ms_per_face": {
            "FaceClassifier (tf.function)": round(latency_fn, 3),
            "model(x) eager": round(latency_call, 3),
            "model.predict(x)": round(latency_predict, 3),
        },
        "detect_ms_per_640x480_frame": {
            f"video settings ({VIDEO_DETECT_MAX_SIDE} px, scale {VIDEO_SCALE_FACTOR})": round(detect_ms, 2),
            "Haar, photo settings (full size, scale 1.1)": round(detect_photo_ms, 2),
            "MTCNN (the photo default)": round(detect_mtcnn_ms, 2),
        },
        "crop_ms_per_face": round(crop_ms, 3),
        "faces_found_in_first_frame": len(boxes),
        "video_frames": stats.frames,
        "frames_with_a_face": stats.frames_with_faces,
        "end_to_end_fps": round(stats.fps, 1),
        "end_to_end_fps_writing_mp4": round(stats_out.fps, 1),
        "end_to_end_fps_detect_every_2nd_frame": round(stats_k2.fps, 1),
        "goal_fps": 30,
    }
    print(json.dumps(result, indent=2))
    print(
        f"\nEnd to end on one core: {stats.fps:.1f} frames/s ({stats.frames_with_faces}/{stats.frames} frames with "
        f"a face), {stats_out.fps:.1f} frames/s when also writing the annotated MP4, {stats_k2.fps:.1f} frames/s "
        f"detecting on every 2nd frame. Goal >= 30 (every frame): "
        f"{'met' if stats.fps >= 30 else 'NOT met'}."
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
