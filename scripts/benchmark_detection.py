"""Face detection on hard photos: recall, false detections and time per photo, MTCNN against Haar.

Two sets of photos, every face with its true box:

* ``astronaut``: the public-domain NASA portrait from scikit-image, made hard: tilted by 15-45
  degrees, a hand-sized patch over the mouth, a dark band over the eyes, darkened, shrunk to small
  faces, and several copies in one picture (2x2 and 3x3 grids).
* ``fer2013``: PrivateTest faces (real expressions: hands over mouths, tilted heads, profiles,
  glasses) pasted at 64-200 px onto grey canvases, 1-6 faces each. Needs FER-2013 (``FER2013_DIR``);
  skipped without it. FER-2013's crops are tight (little forehead or chin), which makes them
  harder than the faces of ordinary photos.

A face counts as found when the centre of a detected box lies inside its true box and the sides
differ by at most 2x; a detection that matches no face is a false detection. Both detectors run
in this process on the same photos with the settings ``fer-emotion predict`` uses (``min_size``
20 px for MTCNN, 40 for Haar), plus Haar with 20 px for a like-for-like row.

    python scripts/benchmark_detection.py [--fer-canvases 60] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from skimage import data as skdata  # noqa: E402

from fer_utils import config, detection  # noqa: E402
from fer_utils.data import DatasetNotFoundError, load_fer2013  # noqa: E402
from fer_utils.runtime import hardware_description  # noqa: E402

ASTRONAUT_FACE = (176, 64, 94, 100)  # (x, y, w, h) in the 512x512 portrait, forehead to chin


def _gray(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).convert("L"))


def astronaut_set() -> list[tuple[str, np.ndarray, list[tuple]]]:
    """(name, grayscale photo, true boxes) for the hard astronaut variants."""
    base = _gray(skdata.astronaut())
    x, y, w, h = ASTRONAUT_FACE
    cx, cy = x + w / 2, y + h / 2
    photos = [("frontal", base, [ASTRONAUT_FACE])]
    for angle in (15, 30, 45, -30):
        rotated = np.asarray(Image.fromarray(base).rotate(angle, center=(cx, cy), fillcolor=128))
        photos.append((f"tilted {angle} deg", rotated, [ASTRONAUT_FACE]))
    hand = Image.fromarray(base)
    ImageDraw.Draw(hand).ellipse((cx - 42, cy + 12, cx + 46, cy + 62), fill=175)  # a palm over the mouth
    photos.append(("hand over mouth", np.asarray(hand), [ASTRONAUT_FACE]))
    shades = Image.fromarray(base)
    ImageDraw.Draw(shades).rectangle((x + 4, cy - 22, x + w - 4, cy - 2), fill=20)  # dark glasses
    photos.append(("band over eyes", np.asarray(shades), [ASTRONAUT_FACE]))
    dark = (255 * (base / 255.0) ** 2.2 * 0.45).astype(np.uint8)
    photos.append(("dark", dark, [ASTRONAUT_FACE]))
    for side in (240, 160, 112):  # the whole portrait shrunk, on a 640x480 canvas
        s = side / 512
        canvas = np.full((480, 640), 128, np.uint8)
        small = np.asarray(Image.fromarray(base).resize((side, side), Image.Resampling.LANCZOS))
        canvas[200 : 200 + side, 300 : 300 + side] = small
        box = (300 + round(x * s), 200 + round(y * s), round(w * s), round(h * s))
        photos.append((f"small face ({box[2]} px)", canvas, [box]))
    for n in (2, 3):  # n x n copies, alternately mirrored
        tile = 768 // n
        s = tile / 512
        canvas = np.zeros((768, 768), np.uint8)
        boxes = []
        for i in range(n):
            for j in range(n):
                img = base if (i + j) % 2 == 0 else base[:, ::-1]
                canvas[i * tile : (i + 1) * tile, j * tile : (j + 1) * tile] = np.asarray(
                    Image.fromarray(np.ascontiguousarray(img)).resize((tile, tile), Image.Resampling.LANCZOS)
                )
                fx = x if (i + j) % 2 == 0 else 512 - x - w
                boxes.append((j * tile + round(fx * s), i * tile + round(y * s), round(w * s), round(h * s)))
        photos.append((f"{n * n} faces", canvas, boxes))
    return photos


def fer_set(n_canvases: int, seed: int) -> list[tuple[str, np.ndarray, list[tuple]]]:
    """(name, canvas, true boxes): PrivateTest faces pasted without overlap onto 640x480 canvases."""
    fer = load_fer2013(verbose=False)
    faces, _ = fer.test_subset("PrivateTest")
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n_canvases):
        canvas = rng.normal(128, 20, (480, 640)).clip(0, 255).astype(np.uint8)
        boxes = []
        for _ in range(int(rng.integers(1, 7))):
            side = int(rng.integers(64, 201))
            for _attempt in range(30):
                x0, y0 = int(rng.integers(0, 640 - side)), int(rng.integers(0, 480 - side))
                if all(
                    x0 + side <= bx or bx + bw <= x0 or y0 + side <= by or by + bh <= y0 for bx, by, bw, bh in boxes
                ):
                    face = faces[int(rng.integers(len(faces)))]
                    canvas[y0 : y0 + side, x0 : x0 + side] = np.asarray(
                        Image.fromarray(face).resize((side, side), Image.Resampling.BICUBIC)
                    )
                    boxes.append((x0, y0, side, side))
                    break
        out.append((f"canvas {k}", canvas, boxes))
    return out


def match(found: list[tuple], truth: list[tuple]) -> tuple[int, int]:
    """(true faces found, false detections): one detection per face, centre inside, sides within 2x."""
    used, hits = set(), 0
    for tx, ty, tw, th in truth:
        for i, (x, y, w, h) in enumerate(found):
            cx, cy = x + w / 2, y + h / 2
            if i not in used and tx <= cx <= tx + tw and ty <= cy <= ty + th and 0.5 <= w / tw <= 2.0:
                used.add(i)
                hits += 1
                break
    return hits, len(found) - len(used)


DETECTORS = {  # name -> keyword arguments of detection.detect_faces
    "mtcnn (photo default, 20 px)": dict(detector="mtcnn"),
    "haar (40 px, as --detector haar)": dict(detector="haar"),
    "haar (20 px)": dict(detector="haar", min_size=20),
}


def run(photos, label: str) -> dict:
    n_faces = sum(len(b) for _, _, b in photos)
    print(f"\n{label}: {len(photos)} photos, {n_faces} faces")
    print(f"{'detector':34s} {'found':>12s} {'recall':>7s} {'false':>6s} {'ms/photo (median)':>18s}")
    per_photo, summary = {}, {}
    for name, kwargs in DETECTORS.items():
        detection.detect_faces(photos[0][1], **kwargs)  # load and warm up outside the timing
        hits = false = 0
        times, rows = [], []
        for _title, img, truth in photos:
            t = time.perf_counter()
            found = detection.detect_faces(img, **kwargs)
            times.append(time.perf_counter() - t)
            h, f = match(found, truth)
            hits, false = hits + h, false + f
            rows.append(f"{h}/{len(truth)}")
        per_photo[name] = rows
        ms = 1000 * statistics.median(times)
        print(f"{name:34s} {f'{hits}/{n_faces}':>12s} {hits / n_faces:7.2f} {false:6d} {ms:18.0f}")
        summary[name] = {
            "found": hits,
            "faces": n_faces,
            "recall": round(hits / n_faces, 3),
            "false": false,
            "median_ms_per_photo": round(ms, 1),
        }
    if len(photos) <= 20:
        print("\nper photo (faces found / faces):")
        names = list(DETECTORS)
        print(f"{'photo':24s}" + "".join(f"{n.split(' ')[0] + (' 20' if '20' in n else ''):>10s}" for n in names))
        for i, (title, _, _) in enumerate(photos):
            print(f"{title:24s}" + "".join(f"{per_photo[n][i]:>10s}" for n in names))
    return {"photos": len(photos), "detectors": summary}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fer-canvases", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    result = {"hardware": hardware_description(), "seed": args.seed}
    result["astronaut"] = run(astronaut_set(), "astronaut, made hard (public-domain NASA portrait, scikit-image)")
    try:
        result["fer2013"] = run(
            fer_set(args.fer_canvases, args.seed), f"FER-2013 PrivateTest faces on {args.fer_canvases} canvases"
        )
    except DatasetNotFoundError as err:
        print(f"\nFER-2013 set skipped: {err}")
    out = config.OUTPUT_DIR / "benchmarks" / "detection.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
