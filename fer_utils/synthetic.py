"""Synthetic demo faces: procedurally drawn 48x48 grayscale faces for the seven emotions.

They let every notebook and test run on a machine without FER-2013. Each emotion is a
distribution over facial parameters (brow angle and height, eye opening, mouth curvature,
opening and width, a nose wrinkle) that overlap between classes, drawn with a random pose,
scale, lighting, blur and noise. A small CNN learns them well above chance in a minute,
but not perfectly. Results on them say nothing about FER-2013.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import config
from .config import CLASS_NAMES, IMG_SIZE, PRIVATE_TEST, PUBLIC_TEST

SYNTHETIC_BANNER = "\n".join(
    [
        "#" * 78,
        "#  FER-2013 NOT FOUND: USING SYNTHETIC DEMO FACES.".ljust(77) + "#",
        "#  Every number, curve and picture below comes from drawn cartoon faces,".ljust(77) + "#",
        "#  NOT from FER-2013. They show that the code runs, not how well it works.".ljust(77) + "#",
        f"#  Get the real data: {config.KAGGLE_URL}".ljust(77) + "#",
        "#  and put it in data/fer2013/ or set FER2013_DIR (see README.md).".ljust(77) + "#",
        "#" * 78,
    ]
)

# Mean facial parameters per emotion:
# brow_angle (+ = inner ends down, frowning), brow_height, eye_open, mouth_curve (+ = smile),
# mouth_open, mouth_width, wrinkle (nose/upper-lip lines), asym (one mouth corner raised).
_PARAMS = {
    "angry": dict(
        brow_angle=0.45,
        brow_height=-0.5,
        eye_open=0.65,
        mouth_curve=-0.15,
        mouth_open=0.05,
        mouth_width=0.9,
        wrinkle=0.2,
        asym=0.0,
    ),
    "disgust": dict(
        brow_angle=0.25,
        brow_height=-0.3,
        eye_open=0.55,
        mouth_curve=-0.3,
        mouth_open=0.15,
        mouth_width=0.85,
        wrinkle=1.0,
        asym=0.6,
    ),
    "fear": dict(
        brow_angle=-0.35,
        brow_height=0.6,
        eye_open=1.3,
        mouth_curve=-0.15,
        mouth_open=0.35,
        mouth_width=1.15,
        wrinkle=0.0,
        asym=0.0,
    ),
    "happy": dict(
        brow_angle=0.0,
        brow_height=0.1,
        eye_open=0.8,
        mouth_curve=0.6,
        mouth_open=0.25,
        mouth_width=1.2,
        wrinkle=0.0,
        asym=0.0,
    ),
    "neutral": dict(
        brow_angle=0.0,
        brow_height=0.0,
        eye_open=1.0,
        mouth_curve=0.0,
        mouth_open=0.0,
        mouth_width=1.0,
        wrinkle=0.0,
        asym=0.0,
    ),
    "sad": dict(
        brow_angle=-0.45,
        brow_height=0.1,
        eye_open=0.75,
        mouth_curve=-0.5,
        mouth_open=0.0,
        mouth_width=0.95,
        wrinkle=0.0,
        asym=0.0,
    ),
    "surprise": dict(
        brow_angle=-0.05,
        brow_height=1.0,
        eye_open=1.5,
        mouth_curve=0.0,
        mouth_open=0.9,
        mouth_width=0.7,
        wrinkle=0.0,
        asym=0.0,
    ),
}
# Per-face spread of each parameter: large enough that neighbouring classes overlap.
_SPREAD = dict(
    brow_angle=0.15,
    brow_height=0.3,
    eye_open=0.18,
    mouth_curve=0.18,
    mouth_open=0.12,
    mouth_width=0.1,
    wrinkle=0.3,
    asym=0.25,
)

_CANVAS = 96  # draw at twice the size, then downsample (anti-aliasing)


def draw_face(emotion: int | str, rng: np.random.Generator) -> np.ndarray:
    """One synthetic face of ``emotion`` (index or name) as a 48x48 uint8 array."""
    import cv2

    name = emotion if isinstance(emotion, str) else CLASS_NAMES[emotion]
    p = {k: v + rng.normal(0, _SPREAD[k]) for k, v in _PARAMS[name].items()}
    c, s = _CANVAS, _CANVAS / 96.0

    bg = rng.uniform(30, 225)
    img = np.full((c, c), bg, np.float32)
    img += np.linspace(-1, 1, c)[None, :] * rng.uniform(-30, 30)  # background gradient
    skin = rng.uniform(110, 215)
    cx, cy = c / 2, c / 2 + 2 * s
    cv2.ellipse(
        img,
        (int(cx), int(cy)),
        (int(34 * s * rng.uniform(0.92, 1.08)), int(42 * s)),
        0,
        0,
        360,
        float(skin),
        -1,
        cv2.LINE_AA,
    )
    if rng.random() < 0.7:  # hair
        hair = float(rng.uniform(10, 90))
        cv2.ellipse(img, (int(cx), int(cy - 26 * s)), (int(35 * s), int(20 * s)), 0, 180, 360, hair, -1, cv2.LINE_AA)
    dark = float(max(skin - rng.uniform(85, 120), 0))

    # eyes
    eye_y, eye_dx = cy - 9 * s, 13 * s
    eye_h = max(1.0, 5.0 * s * p["eye_open"])
    for side in (-1, 1):
        ex = cx + side * eye_dx
        cv2.ellipse(img, (int(ex), int(eye_y)), (int(7 * s), int(eye_h)), 0, 0, 360, 245.0, -1, cv2.LINE_AA)
        cv2.circle(img, (int(ex), int(eye_y)), int(max(1, min(eye_h, 3 * s))), dark, -1, cv2.LINE_AA)

    # brows: inner end lower when brow_angle > 0 (frown), higher when < 0 (worry)
    by = eye_y - (10 + 5 * p["brow_height"]) * s
    for side in (-1, 1):
        inner = (cx + side * 5 * s, by + 8 * s * p["brow_angle"])
        outer = (cx + side * 21 * s, by - 8 * s * p["brow_angle"] * 0.3)
        cv2.line(img, tuple(int(v) for v in inner), tuple(int(v) for v in outer), dark, max(3, int(4 * s)), cv2.LINE_AA)

    # nose and wrinkle
    cv2.line(img, (int(cx), int(cy - 2 * s)), (int(cx - 2 * s), int(cy + 8 * s)), float(skin - 35), 2, cv2.LINE_AA)
    if p["wrinkle"] > 0.5:
        for side in (-1, 1):
            cv2.line(
                img,
                (int(cx + side * 4 * s), int(cy + 4 * s)),
                (int(cx + side * 9 * s), int(cy + 12 * s)),
                float(skin - 45),
                2,
                cv2.LINE_AA,
            )

    # mouth: a parabola through the corners, optionally open (filled between two curves)
    my, half_w = cy + 20 * s, 13 * s * p["mouth_width"]
    xs = np.linspace(-half_w, half_w, 25)
    # image y grows downwards: a smile puts the middle below the corners
    bend = p["mouth_curve"] * 9 * s * (1 - (xs / half_w) ** 2) - p["mouth_curve"] * 4 * s
    tilt = p["asym"] * 3 * s * (xs / half_w)
    upper = np.stack([cx + xs, my + bend - tilt], axis=1)
    opening = max(0.0, p["mouth_open"]) * 11 * s * (1 - (xs / half_w) ** 2)
    lower = np.stack([cx + xs, my + bend - tilt + opening], axis=1)
    if p["mouth_open"] > 0.12:
        poly = np.concatenate([upper, lower[::-1]]).astype(np.int32)
        cv2.fillPoly(img, [poly], float(max(dark - 20, 0)), cv2.LINE_AA)
    cv2.polylines(img, [upper.astype(np.int32)], False, float(max(dark - 10, 0)), max(3, int(3 * s)), cv2.LINE_AA)

    # pose, scale and lighting
    angle, scale = rng.uniform(-10, 10), rng.uniform(0.9, 1.08)
    m = cv2.getRotationMatrix2D((c / 2, c / 2), angle, scale)
    m[:, 2] += rng.uniform(-4, 4, size=2) * s
    img = cv2.warpAffine(img, m, (c, c), borderMode=cv2.BORDER_REFLECT)
    light = np.linspace(1 - rng.uniform(0, 0.3), 1 + rng.uniform(0, 0.15), c)
    img *= light[None, :] if rng.random() < 0.5 else light[::-1, None]
    sigma = rng.uniform(0.3, 1.4)
    img = cv2.GaussianBlur(img, (0, 0), sigma)
    img = cv2.resize(img, (IMG_SIZE, IMG_SIZE), interpolation=cv2.INTER_AREA)
    img += rng.normal(0, rng.uniform(2, 9), img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def generate(n_per_class: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n_per_class`` faces of every emotion: uint8 ``(7n, 48, 48)`` and labels, class-balanced."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(CLASS_NAMES)), n_per_class)
    x = np.stack([draw_face(int(label), rng) for label in y]) if len(y) else np.zeros((0, IMG_SIZE, IMG_SIZE), np.uint8)
    return x, y.astype(np.int64)


def write_synthetic_dataset(
    root: str | Path, n_train_per_class: int = 300, n_test_per_class: int = 60, seed: int = 0
) -> Path:
    """Write synthetic faces in the Kaggle FER-2013 layout and mark the folder as synthetic.

    The test half is split evenly into ``PublicTest_*`` and ``PrivateTest_*`` files.
    """
    from PIL import Image

    root = Path(root)
    x_tr, y_tr = generate(n_train_per_class, seed)
    x_te, y_te = generate(n_test_per_class, seed + 1)
    for split, xs, ys in (("train", x_tr, y_tr), ("test", x_te, y_te)):
        for name in CLASS_NAMES:
            (root / split / name).mkdir(parents=True, exist_ok=True)
        for i, (face, label) in enumerate(zip(xs, ys)):
            if split == "train":
                fname = f"Training_{i:06d}.jpg"
            else:
                fname = f"{PUBLIC_TEST if i % 2 == 0 else PRIVATE_TEST}_{i:06d}.jpg"
            Image.fromarray(face).save(root / split / CLASS_NAMES[label] / fname, quality=95)
    (root / "README.md").write_text(
        "# Synthetic demo faces (NOT FER-2013)\n\nGenerated by `fer_utils.synthetic` so the course runs "
        f"without the real data. Seed {seed}, {n_train_per_class} train and {n_test_per_class} test faces "
        "per class.\n"
    )
    (root / ".synthetic").write_text(f"seed={seed}\n")
    return root


def ensure_synthetic_dataset(root: str | Path | None = None, **kwargs) -> Path:
    """The synthetic dataset folder, generated on first use (default ``data/synthetic_fer``)."""
    root = Path(root or config.SYNTHETIC_DIR)
    if not (root / ".synthetic").exists():
        write_synthetic_dataset(root, **kwargs)
    return root
