"""The data layer on generated inputs: the CSV path and every kind of bad input."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import write_face
from PIL import Image

from fer_utils.config import CLASS_NAMES, CSV_LABEL_TO_NAME, PRIVATE_TEST, PUBLIC_TEST
from fer_utils.data import BadImageWarning, DatasetFormatError, DatasetNotFoundError, find_dataset, load_fer2013


def load(root, tmp_path, **kw):
    return load_fer2013(root, cache_dir=tmp_path / "cache", verbose=False, **kw)


def test_folder_layout(tiny_dataset, tmp_path):
    d = load(tiny_dataset, tmp_path)
    assert d.fmt == "folders" and len(d.y_train) == 21 and len(d.y_test) == 14
    assert (d.usage_test == PUBLIC_TEST).sum() == 7 and (d.usage_test == PRIVATE_TEST).sum() == 7
    assert np.bincount(d.y_train).tolist() == [3] * 7


def write_csv(path, rows):
    path.write_text("emotion,pixels,Usage\n" + "".join(f"{e},{p},{u}\n" for e, p, u in rows))
    return path


def pixels(value, n=48 * 48):
    return " ".join([str(value)] * n)


def test_csv_format(tmp_path):
    rows = [
        (label, pixels(label * 30), use)
        for label in range(7)
        for use in ("Training", "Training", "PublicTest", "PrivateTest")
    ]
    csv_path = write_csv(tmp_path / "fer2013.csv", rows)
    d = load(tmp_path, tmp_path)  # a folder holding fer2013.csv
    assert d.fmt == "csv" and len(d.y_train) == 14 and len(d.y_test) == 14
    assert (d.usage_test == PRIVATE_TEST).sum() == 7
    # CSV label 4 is "sad", 6 is "neutral": mapped to the folder (alphabetical) order
    sad = d.y_train[d.x_train[:, 0, 0] == 120]
    assert {CLASS_NAMES[i] for i in sad} == {CSV_LABEL_TO_NAME[4]} == {"sad"}
    assert load(csv_path, tmp_path).from_cache


@pytest.mark.parametrize(
    "bad, message",
    [
        ((3, "1 2 3", "Training"), "has 3 values, expected 2304"),
        ((3, pixels(1)[:-1] + "x", "Training"), "not space-separated integers"),
        ((3, pixels(300), "Training"), "0..255"),
        ((9, pixels(1), "Training"), "emotion must be an integer 0-6"),
        ((3, pixels(1), "Validation"), "Usage must be"),
    ],
)
def test_csv_bad_row_names_the_line(tmp_path, bad, message):
    csv_path = write_csv(tmp_path / "fer2013.csv", [(0, pixels(1), "Training"), bad])
    with pytest.raises(DatasetFormatError, match=message) as err:
        load(csv_path, tmp_path)
    assert "line 3" in str(err.value) and str(csv_path) in str(err.value)


def test_bad_files_are_skipped_with_a_warning_each(tiny_dataset, tmp_path):
    happy = tiny_dataset / "train" / "happy"
    (happy / "empty.jpg").write_bytes(b"")
    (happy / "notes.txt").write_text("not an image")
    good = (happy / "Training_30.jpg").read_bytes()
    (happy / "truncated.jpg").write_bytes(good[: len(good) // 2])
    (happy / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"garbage" * 50)
    with pytest.warns(BadImageWarning) as record:
        d = load(tiny_dataset, tmp_path)
    messages = [str(w.message) for w in record]
    for name in ("empty.jpg", "notes.txt", "truncated.jpg", "corrupt.jpg"):
        assert sum(name in m for m in messages) == 1, name
    assert any("Skipped 4 unreadable file(s)" in m for m in messages)
    assert len(d.skipped) == 4 and len(d.y_train) == 21  # the good faces all loaded
    # the skipped list survives the cache
    assert len(load(tiny_dataset, tmp_path).skipped) == 4


@pytest.mark.parametrize("mode, size", [("RGB", 48), ("RGBA", 48), ("L", 96), ("RGB", 30), ("I;16", 48)])
def test_other_modes_and_sizes_are_converted(tiny_dataset, tmp_path, mode, size):
    path = tiny_dataset / "train" / "sad" / "odd.png"
    if mode == "I;16":
        arr = np.arange(48 * 48, dtype=np.uint16).reshape(48, 48) * 28
        img16 = Image.fromarray(arr)  # uint16 -> mode I;16
        assert img16.mode == "I;16"
        img16.save(path)
    else:
        write_face(path, mode=mode, size=size)
    d = load(tiny_dataset, tmp_path)
    assert len(d.y_train) == 22 and d.x_train.shape[1:] == (48, 48) and d.x_train.dtype == np.uint8
    face = d.x_train[d.names_train == "odd.png"][0]
    assert face.std() > 10  # real content, not a blank or clipped image
    if mode == "I;16":
        assert face.max() > 200  # rescaled from 16 bits, not clipped to white


def test_unknown_class_folder_is_named(tiny_dataset, tmp_path):
    (tiny_dataset / "train" / "contempt").mkdir()
    with pytest.raises(DatasetFormatError, match="contempt"):
        load(tiny_dataset, tmp_path)


def test_hidden_entries_are_ignored(tiny_dataset, tmp_path):
    (tiny_dataset / "train" / ".ipynb_checkpoints").mkdir()
    (tiny_dataset / "train" / "happy" / ".DS_Store").write_bytes(b"\0\0")
    assert len(load(tiny_dataset, tmp_path).y_train) == 21


def test_not_found_lists_places(tmp_path, monkeypatch):
    monkeypatch.setenv("FER2013_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DatasetNotFoundError) as err:
        find_dataset(tmp_path / "also-nowhere")
    text = str(err.value)
    assert "nowhere" in text and "also-nowhere" in text and "kaggle.com" in text and "FER2013_DIR" in text


def test_synthetic_fallback_is_loud(tmp_path, monkeypatch, capsys):
    from fer_utils import config

    monkeypatch.setenv("FER2013_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setattr(config, "DEFAULT_FER_DIR", tmp_path / "nowhere2")
    monkeypatch.setattr(config, "DATA_DIR", tmp_path / "data")
    monkeypatch.setattr(config, "SYNTHETIC_DIR", tmp_path / "synthetic")
    with pytest.raises(DatasetNotFoundError):
        load_fer2013(cache_dir=tmp_path / "cache")
    d = load_fer2013(allow_synthetic=True, cache_dir=tmp_path / "cache")
    out = capsys.readouterr().out
    assert d.synthetic and "SYNTHETIC" in out and "NOT from FER-2013" in out
    assert np.bincount(d.y_train).tolist() == [300] * 7


def test_file_format_stats_counts_the_files_of_a_split(tiny_dataset):
    from fer_utils.data import file_format_stats

    table = file_format_stats(tiny_dataset / "train")
    assert table["files"].sum() == 21  # 3 faces x 7 classes
    assert table.iloc[0][["format", "mode", "size"]].tolist() == ["JPEG", "L", "48x48"]
