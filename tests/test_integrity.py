"""The FER-2013 integrity check: genuine data passes silently, processed copies are named."""

from __future__ import annotations

import warnings

import cv2
import numpy as np
import pytest
from PIL import Image

from fer_utils import integrity
from fer_utils.config import CLASS_NAMES
from fer_utils.data import ProcessedDataWarning, load_fer2013
from fer_utils.protocol import stratified_subset


def test_pixel_statistics_values():
    x = np.zeros((4, 48, 48), np.uint8)
    x[:2] = 255
    x[3, :, ::2] = 255  # columns alternate 255/0: every horizontal step is 255
    x[3, :, 1::2] = 0
    s = integrity.pixel_statistics(x, np.array([0, 1, 1, 6]))
    assert s["n"] == 4
    assert s["mean"] == pytest.approx(255 * 2.5 / 4, abs=1e-3)
    assert s["share_255"] == pytest.approx(100 * 2.5 / 4, abs=1e-3)
    assert s["share_0"] == pytest.approx(100 * 1.5 / 4, abs=1e-3)
    assert s["sharpness"] == pytest.approx(255 / 4, abs=1e-3)  # only image 3 has steps
    assert s["class_counts"] == [1, 2, 0, 0, 0, 0, 1]


def test_tolerance_shrinks_with_more_images():
    assert integrity.tolerance("std", 300) > integrity.tolerance("std", 28709) > integrity.FLOOR["std"]


def test_compare_names_the_statistic_that_is_off():
    ref = integrity.FER2013_FINGERPRINT["train"]
    genuine = {
        "n": ref.n,
        "mean": ref.mean,
        "std": ref.std,
        "share_0": ref.share_0,
        "share_255": ref.share_255,
        "sharpness": ref.sharpness,
        "class_counts": list(ref.class_counts),
    }
    assert integrity.compare(genuine, "train") == []
    equalized = {**genuine, "std": 78.0, "share_255": 6.8}
    problems = integrity.compare(equalized, "train")
    assert any("std" in p for p in problems) and any("share_255" in p for p in problems)
    relabelled = {**genuine, "class_counts": [3995 + 436, 0, 4097, 7215, 4965, 4830, 3171]}
    assert any("class shares" in p and "disgust 0.0%" in p for p in integrity.compare(relabelled, "train"))
    assert integrity.compare({**equalized, "n": 50}, "train") == []  # too few images to judge


def test_synthetic_faces_are_not_judged():
    report = integrity.check({"train": {"n": 5000, "mean": 10.0}}, synthetic=True)
    assert not report.processed and not report.checked


# ----------------------------------------------------------------- on the real data
def test_genuine_copy_passes_silently(real_data_dir, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ProcessedDataWarning)
        data = load_fer2013(real_data_dir, verbose=False)
    assert data.integrity.checked and data.integrity.problems == []
    assert "PROCESSED" not in capsys.readouterr().out
    table = data.integrity.table()
    assert set(table["check"]) == {"ok"} and len(table) == 2 * len(integrity.STAT_NAMES)


def _write_copy(real, root, transform, n_train=420, n_test=210):
    """A stratified subset of the real data, each face passed through ``transform``, saved as JPEG."""
    for split, x, y, n, prefix in (
        ("train", real.x_train, real.y_train, n_train, "Training"),
        ("test", real.x_test, real.y_test, n_test, "PublicTest"),
    ):
        for i in stratified_subset(y, n, seed=1):
            folder = root / split / CLASS_NAMES[y[i]]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(transform(x[i])).save(folder / f"{prefix}_{i}.jpg", quality=95)
    return root


@pytest.mark.parametrize(
    "name, transform, statistic",
    [
        ("equalized", cv2.equalizeHist, "sharpness"),
        ("blurred", lambda f: cv2.GaussianBlur(f, (3, 3), 0), "sharpness"),
        ("darkened", lambda f: (f * 0.8).astype(np.uint8), "mean"),
    ],
)
def test_processed_copies_are_flagged(real_data, tmp_path, capsys, name, transform, statistic):
    root = _write_copy(real_data, tmp_path / name, transform)
    with pytest.warns(ProcessedDataWarning, match="processed|PROCESSED") as caught:
        data = load_fer2013(root, use_cache=False, verbose=False)
    assert data.integrity.processed
    text = str(caught[0].message)
    assert statistic in text and "not comparable" in text
    assert "PROCESSED" in capsys.readouterr().out  # printed too: notebooks and terminal


def test_a_reencoded_genuine_subset_is_not_flagged(real_data, tmp_path):
    """The control for the test above: the same subset, written the same way, untouched."""
    root = _write_copy(real_data, tmp_path / "genuine", lambda f: f)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ProcessedDataWarning)
        data = load_fer2013(root, use_cache=False, verbose=False)
    assert data.integrity.checked and data.integrity.problems == []
