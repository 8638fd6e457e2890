"""``fer-emotion``: predict facial emotions in photos, videos and a camera feed.

Examples:
    fer-emotion predict photo.jpg                   # a table: file, face box, emotion, confidence
    fer-emotion predict photos/ --json              # every image in a folder, as JSON
    fer-emotion predict a.jpg b.png --out annotated/ --bars
    fer-emotion predict face48.png --no-detect      # the image is already a face crop
    fer-emotion predict group.jpg --detector haar   # the fast frontal-face detector instead of MTCNN
    fer-emotion video clip.mp4 --out clip_emotions.mp4
    fer-emotion video --camera 0 --out webcam.mp4 --max-frames 300

The default model is the one shipped with fer_utils (fer_utils/assets/fer_cnn.keras);
``--model`` picks another, e.g. outputs/models/fer_cnn_best.keras from notebook 04.
Exit status: 0 when every input was processed (an image without a face counts as processed),
1 when some input failed (each failure is reported on one line), 2 for a bad model or usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}


def expand_inputs(paths: list[str]) -> list[Path]:
    """Files as given, and the image files inside given folders (recursively, sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES))
        else:
            out.append(p)  # missing files are reported when they are read
    return out


def _error(msg: str) -> None:
    print(f"fer-emotion: error: {msg}", file=sys.stderr)


def _load_classifier(model_path: str | None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from .prediction import FaceClassifier, load_model
    from .runtime import silenced_native_stderr

    with silenced_native_stderr():  # TensorFlow's C++ start-up logging (CUDA probing) goes to /dev/null
        model = load_model(model_path)
        classifier = FaceClassifier(model)
        classifier(np.zeros((1, 48, 48), np.uint8))  # trace now, still silenced
    return classifier


def cmd_predict(args) -> int:
    from .images import InputFileError, load_image
    from .prediction import draw_results, predict_image

    files = expand_inputs(args.paths)
    if not files:
        _error("no image files found in " + ", ".join(args.paths))
        return 1
    if not any(p.exists() for p in files):  # fail fast: TensorFlow takes seconds to import
        for p in files:
            _error(f"{p}: no such file.")
        return 1
    try:
        classifier = _load_classifier(args.model)
    except InputFileError as err:
        _error(str(err))
        return 2
    out_dir = Path(args.out) if args.out else None
    records, failed = [], 0
    for path in files:
        record = {"file": str(path)}
        try:
            image = load_image(path, color=True)
            detect = False if args.no_detect else None
            results = predict_image(classifier, image, detect=detect, detector=args.detector, min_size=args.min_face)
            record.update(status="ok" if results else "no_face", faces=[r.as_dict() for r in results])
            if out_dir is not None:
                out_dir.mkdir(parents=True, exist_ok=True)
                from PIL import Image

                target = out_dir / f"{path.stem}_emotions.png"
                Image.fromarray(draw_results(image, results, bars=args.bars)).save(target)
                record["annotated"] = str(target)
        except InputFileError as err:
            failed += 1
            record.update(status="error", error=str(err), faces=[])
            _error(str(err))
        records.append(record)
    if args.json:
        print(json.dumps(records, indent=2))
    else:
        _print_table(records)
    return 1 if failed else 0


def _print_table(records: list[dict]) -> None:
    print(f"{'file':40s} {'face box (x, y, w, h)':24s} {'emotion':9s} confidence")
    for rec in records:
        name = rec["file"] if len(rec["file"]) <= 40 else "..." + rec["file"][-37:]
        if rec["status"] == "error":
            print(f"{name:40s} {'ERROR (reported on stderr)':24s}")
        elif rec["status"] == "no_face":
            print(f"{name:40s} {'no face found':24s}")
        for face in rec["faces"]:
            print(f"{name:40s} {str(tuple(face['box'])):24s} {face['emotion']:9s} {face['confidence']:.2f}")


def cmd_video(args) -> int:
    from .images import InputFileError
    from .video import open_video, process_video

    if (args.input is None) == (args.camera is None):
        _error("give either a video file INPUT or --camera INDEX (not both).")
        return 2
    if args.input is not None:  # fail fast, and without FFmpeg's own lines: TensorFlow takes seconds to import
        try:
            open_video(args.input).release()
        except InputFileError as err:
            _error(str(err))
            return 1
    try:
        classifier = _load_classifier(args.model)
    except InputFileError as err:
        _error(str(err))
        return 2
    source = args.camera if args.camera is not None else args.input
    try:
        stats = process_video(
            classifier,
            source,
            output=args.out,
            smooth=args.smooth,
            max_frames=args.max_frames,
            min_size=args.min_face,
            detect_every=args.detect_every,
        )
    except InputFileError as err:
        _error(str(err))
        return 1
    except KeyboardInterrupt:
        print("stopped.")
        return 0
    print(
        f"{stats.frames} frames ({stats.frames_with_faces} with a face) in {stats.seconds:.1f} s: "
        f"{stats.fps:.1f} frames/s" + (f"; annotated video: {stats.output}" if stats.output else "")
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="fer-emotion", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--model",
        default=None,
        metavar="FILE",
        help="a .keras model (default: the model shipped with fer_utils). "
        "Example: --model outputs/models/fer_cnn_best.keras",
    )
    common.add_argument(
        "--min-face",
        type=int,
        default=None,
        metavar="PX",
        help="smallest face to detect, in pixels of the original image (default: 20 with mtcnn, 40 with haar)",
    )

    p = sub.add_parser(
        "predict",
        parents=[common],
        help="emotions of the faces in image files",
        description="Find every face in each image and predict its emotion. "
        "Example: fer-emotion predict photos/ --json --out annotated/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders (searched recursively)")
    p.add_argument("--json", action="store_true", help="print JSON (one record per file) instead of a table")
    p.add_argument("--out", metavar="DIR", help="write annotated copies (<name>_emotions.png) to DIR")
    p.add_argument(
        "--bars", action="store_true", help="with --out: add each face's class probabilities beside the image"
    )
    p.add_argument(
        "--no-detect",
        action="store_true",
        help="treat each whole image as one face crop (48x48 crops are classified directly anyway)",
    )
    p.add_argument(
        "--detector",
        choices=["mtcnn", "haar"],
        default="mtcnn",
        help="face detector: mtcnn (default; finds tilted, partly covered and small faces) or haar "
        "(OpenCV's frontal cascade: faster, misses those; video always uses it)",
    )
    p.set_defaults(func=cmd_predict)

    v = sub.add_parser(
        "video",
        parents=[common],
        help="annotate a video file or a camera feed",
        description="Detect and classify faces frame by frame, smoothing each face's "
        "probabilities over a few frames. Example: "
        "fer-emotion video clip.mp4 --out clip_emotions.mp4",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    v.add_argument("input", nargs="?", metavar="INPUT", help="a video file (anything OpenCV reads, e.g. .mp4, .avi)")
    v.add_argument("--camera", type=int, metavar="INDEX", help="read camera INDEX instead (0 = the default webcam)")
    v.add_argument("--out", metavar="OUTPUT.mp4", help="write the annotated video here")
    v.add_argument("--smooth", type=int, default=5, metavar="N", help="average probabilities over N frames (default 5)")
    v.add_argument(
        "--detect-every",
        type=int,
        default=1,
        metavar="K",
        help="find faces on every K-th frame only, reusing the boxes in between (faster; default 1)",
    )
    v.add_argument(
        "--max-frames",
        type=int,
        default=None,
        metavar="N",
        help="stop after N frames (needed for a camera without Ctrl-C)",
    )
    v.set_defaults(func=cmd_video)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
