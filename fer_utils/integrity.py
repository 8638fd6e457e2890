"""Is this FER-2013 as distributed? Whole-set pixel statistics against the published fingerprint.

A copy of FER-2013 that was processed before it reached you (histogram-equalized, blurred,
rescaled, inverted, re-labelled) still loads and trains, but every number measured on it
describes another dataset. ``load_fer2013`` therefore measures a few whole-set statistics
while it decodes and compares them with those of the untouched data; a copy that is clearly
off loads with a loud warning that names the statistic.

The statistics are cheap and hard to fake by accident:

* ``mean`` and ``std`` of all grey levels (equalization raises the std, a contrast change
  or an inversion moves the mean);
* ``share_0`` / ``share_255``: the percentage of pixels at black and at white;
* ``sharpness``: the mean absolute difference between horizontally neighbouring pixels
  (blurring, resizing down and up, or heavy JPEG re-compression lower it; equalization raises it);
* the class shares (a re-labelled or merged copy changes them).

A statistic is "off" when it lies further from the fingerprint than 4 standard errors of a
random subset of the same size (plus a small floor for JPEG re-encoding), so a stratified
subset of the genuine data passes and the full set is checked tightly.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .config import CLASS_NAMES

STAT_NAMES: tuple[str, ...] = ("mean", "std", "share_0", "share_255", "sharpness")
#: How the statistics read in a table, with their units.
STAT_LABELS: dict[str, str] = {
    "mean": "mean grey level",
    "std": "std of grey levels",
    "share_0": "% pixels at 0 (black)",
    "share_255": "% pixels at 255 (white)",
    "sharpness": "sharpness (mean |step| to the right neighbour)",
}


@dataclass(frozen=True)
class SplitFingerprint:
    """Whole-set statistics of one split of untouched FER-2013 (``share_*`` in percent)."""

    n: int
    mean: float
    std: float
    share_0: float
    share_255: float
    sharpness: float
    class_counts: tuple[int, ...]


#: Measured on the original pixels (``../shared/fer2013``, Kaggle layout) with
#: ``python scripts/check_fer2013.py``; they agree with the dataset's README
#: (train mean 129.5, std 65.0, 0.8% of pixels at 255; test mean 129.0, std 65.2).
FER2013_FINGERPRINT: dict[str, SplitFingerprint] = {
    "train": SplitFingerprint(28709, 129.47, 65.04, 0.642, 0.813, 13.96, (3995, 436, 4097, 7215, 4965, 4830, 3171)),
    "test": SplitFingerprint(7178, 129.03, 65.20, 0.648, 0.789, 14.03, (958, 111, 1024, 1774, 1233, 1247, 831)),
}

#: Spread of each statistic over single images of the genuine train set (standard deviation),
#: so that the standard error for ``n`` images is ``spread / sqrt(n)``; measured by
#: ``per_image_spread`` on the genuine train set.
PER_IMAGE_SPREAD: dict[str, float] = {"mean": 33.5, "std": 13.65, "share_0": 3.19, "share_255": 2.8, "sharpness": 4.0}
#: Differences this small never count (JPEG re-encoding of genuine faces moves them this much).
FLOOR: dict[str, float] = {"mean": 1.0, "std": 1.0, "share_0": 0.15, "share_255": 0.15, "sharpness": 0.5}
#: A class's share of the images may differ from its published share by 4 binomial standard
#: errors, and never by less than this (half a percentage point).
CLASS_SHARE_FLOOR = 0.005
#: Fewer images than this and the check says it cannot judge.
MIN_IMAGES = 200


def pixel_statistics(x: np.ndarray, y: np.ndarray | None = None) -> dict:
    """Whole-set statistics of uint8 faces ``(N, H, W)``: n, mean, std, share_0, share_255
    (percent), sharpness and, with labels, the class counts. Works in chunks (low memory)."""
    x = np.asarray(x)
    n = len(x)
    total = s1 = s2 = zeros = whites = grad = 0.0
    for start in range(0, n, 4096):
        chunk = x[start : start + 4096].astype(np.float64)
        total += chunk.size
        s1 += chunk.sum()
        s2 += np.square(chunk).sum()
        zeros += np.count_nonzero(chunk == 0)
        whites += np.count_nonzero(chunk == 255)
        grad += np.abs(np.diff(chunk, axis=-1)).sum() if chunk.ndim == 3 else 0.0
    if n == 0:
        stats = dict.fromkeys(STAT_NAMES, float("nan"))
    else:
        mean = s1 / total
        n_diffs = n * x.shape[1] * (x.shape[2] - 1)
        stats = {
            "mean": mean,
            "std": math.sqrt(max(s2 / total - mean**2, 0.0)),
            "share_0": 100 * zeros / total,
            "share_255": 100 * whites / total,
            "sharpness": grad / n_diffs,
        }
    stats = {"n": n, **{k: round(float(v), 3) for k, v in stats.items()}}
    if y is not None:
        stats["class_counts"] = [int(c) for c in np.bincount(np.asarray(y), minlength=len(CLASS_NAMES))]
    return stats


def per_image_spread(x: np.ndarray) -> dict[str, float]:
    """Standard deviation over single images of each statistic (how ``PER_IMAGE_SPREAD`` was made)."""
    xf = np.asarray(x, dtype=np.float64)
    per = {
        "mean": xf.mean(axis=(1, 2)),
        "std": xf.std(axis=(1, 2)),
        "share_0": 100 * (xf == 0).mean(axis=(1, 2)),
        "share_255": 100 * (xf == 255).mean(axis=(1, 2)),
        "sharpness": np.abs(np.diff(xf, axis=2)).mean(axis=(1, 2)),
    }
    return {k: round(float(v.std()), 2) for k, v in per.items()}


def tolerance(stat: str, n: int) -> float:
    """How far ``stat`` of ``n`` genuine images may lie from the fingerprint."""
    return 4 * PER_IMAGE_SPREAD[stat] / math.sqrt(max(n, 1)) + FLOOR[stat]


def compare(stats: dict, split: str) -> list[str]:
    """The statistics of ``stats`` (from ``pixel_statistics``) that are off for ``split``,
    each as a sentence naming the statistic, the measured and the published value."""
    ref = FER2013_FINGERPRINT[split]
    n = stats["n"]
    if n < MIN_IMAGES:
        return []
    problems = []
    for stat in STAT_NAMES:
        got, want, tol = stats[stat], getattr(ref, stat), tolerance(stat, n)
        if not abs(got - want) <= tol:  # also catches NaN
            problems.append(f"{split} {stat} is {got:.2f}, FER-2013 has {want:.2f} (allowed +-{tol:.2f})")
    counts = stats.get("class_counts")
    if counts is not None:
        share = np.asarray(counts) / max(sum(counts), 1)
        ref_share = np.asarray(ref.class_counts) / ref.n
        allowed = np.maximum(4 * np.sqrt(ref_share * (1 - ref_share) / n), CLASS_SHARE_FLOOR)
        off = [
            f"{CLASS_NAMES[i]} {100 * share[i]:.1f}% (FER-2013 {100 * ref_share[i]:.1f}%)"
            for i in np.flatnonzero(np.abs(share - ref_share) > allowed)
        ]
        if off:
            problems.append(f"{split} class shares differ: " + ", ".join(off))
    return problems


@dataclass
class IntegrityReport:
    """The outcome of the check: statistics per split and the problems found (empty = genuine)."""

    stats: dict  # split -> pixel_statistics(...)
    problems: list[str]
    checked: bool  # False for the synthetic faces or too few images

    @property
    def processed(self) -> bool:
        return bool(self.problems)

    def warning_text(self) -> str:
        lines = "\n".join(f"  - {p}" for p in self.problems)
        return (
            "This copy of FER-2013 looks PROCESSED (not the dataset as distributed):\n" + lines + "\n"
            "Numbers measured on it are not comparable with FER-2013 results (ours, the model "
            "card's or the literature's). Get the original from the Kaggle page in the README."
        )

    def table(self):
        """Measured pixel statistics beside the published fingerprint, one row per split and statistic
        (the class shares are checked too; a problem with them shows in ``problems``)."""
        import pandas as pd

        rows = []
        for split, s in self.stats.items():
            ref = FER2013_FINGERPRINT.get(split)
            for stat in STAT_NAMES:
                published = getattr(ref, stat) if ref else float("nan")
                allowed = tolerance(stat, s["n"])
                verdict = ("ok" if abs(s[stat] - published) <= allowed else "OFF") if self.checked else "-"
                rows.append((split, s["n"], STAT_LABELS[stat], s[stat], published, round(allowed, 3), verdict))
        columns = ["split", "images", "statistic", "this copy", "FER-2013", "allowed +-", "check"]
        return pd.DataFrame(rows, columns=columns)

    def as_dict(self) -> dict:
        return asdict(self)


def check(stats: dict, synthetic: bool = False) -> IntegrityReport:
    """Compare the per-split statistics of a loaded copy with the FER-2013 fingerprint."""
    if synthetic:
        return IntegrityReport(stats, [], checked=False)
    problems = [p for split, s in stats.items() if split in FER2013_FINGERPRINT for p in compare(s, split)]
    checked = any(s["n"] >= MIN_IMAGES for s in stats.values())
    return IntegrityReport(stats, problems, checked)
