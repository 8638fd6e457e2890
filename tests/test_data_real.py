"""The data layer on the real FER-2013 (needs FER2013_DIR; CI sets it)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from fer_utils.config import CLASS_NAMES, PRIVATE_TEST, PUBLIC_TEST
from fer_utils.data import class_counts, load_fer2013
from fer_utils.protocol import make_splits

# From ../shared/fer2013/README.md (the Kaggle msambare/fer2013 layout).
TRAIN_COUNTS = {
    "angry": 3995,
    "disgust": 436,
    "fear": 4097,
    "happy": 7215,
    "neutral": 4965,
    "sad": 4830,
    "surprise": 3171,
}
TEST_COUNTS = {"angry": 958, "disgust": 111, "fear": 1024, "happy": 1774, "neutral": 1233, "sad": 1247, "surprise": 831}


def test_counts_per_class_and_split(real_data):
    table = class_counts(real_data)
    assert table["train"].drop("total").to_dict() == TRAIN_COUNTS
    assert table["test"].drop("total").to_dict() == TEST_COUNTS
    assert table.loc["total", "train"] == 28_709
    assert table.loc["total", "test"] == 7_178
    assert table.loc["total", PUBLIC_TEST] == 3_589
    assert table.loc["total", PRIVATE_TEST] == 3_589
    assert (table[PUBLIC_TEST] + table[PRIVATE_TEST]).equals(table["test"])


def test_shapes_and_dtypes(real_data):
    assert real_data.x_train.shape == (28_709, 48, 48) and real_data.x_train.dtype == np.uint8
    assert real_data.x_test.shape == (7_178, 48, 48) and real_data.x_test.dtype == np.uint8
    assert real_data.y_train.dtype == np.int64 and set(np.unique(real_data.y_train)) == set(range(7))
    assert set(np.unique(real_data.usage_test)) == {PUBLIC_TEST, PRIVATE_TEST}
    assert not real_data.synthetic and real_data.skipped == []
    assert real_data.x_train.min() == 0 and real_data.x_train.max() == 255


def test_duplicate_file_names_keyed_by_class(real_data):
    """Two file names occur in two classes with different pixels: both copies are kept."""
    for name, classes in (
        ("Training_52789098.jpg", {"neutral", "surprise"}),
        ("Training_8475486.jpg", {"angry", "surprise"}),
    ):
        idx = np.flatnonzero(real_data.names_train == name)
        assert {CLASS_NAMES[i] for i in real_data.y_train[idx]} == classes
        assert not np.array_equal(real_data.x_train[idx[0]], real_data.x_train[idx[1]])


def test_second_load_comes_from_cache(real_data_dir, real_data, tmp_path):
    again = load_fer2013(real_data_dir, verbose=False)
    assert again.from_cache
    np.testing.assert_array_equal(again.x_test, real_data.x_test)
    np.testing.assert_array_equal(again.usage_test, real_data.usage_test)


def test_cache_invalidated_when_dataset_changes(real_data_dir, tmp_path):
    """A copy of a few real faces: adding a file changes the key, so the cache is not reused."""
    root = tmp_path / "fer"
    for split in ("train", "test"):
        for name in CLASS_NAMES:
            files = sorted((real_data_dir / split / name).iterdir())[:3]
            (root / split / name).mkdir(parents=True)
            for f in files:
                shutil.copy(f, root / split / name / f.name)
    cache = tmp_path / "cache"
    first = load_fer2013(root, cache_dir=cache, verbose=False)
    assert not first.from_cache and len(first.y_train) == 21
    assert load_fer2013(root, cache_dir=cache, verbose=False).from_cache
    extra = sorted((real_data_dir / "train" / "happy").iterdir())[10]
    shutil.copy(extra, root / "train" / "happy" / extra.name)
    changed = load_fer2013(root, cache_dir=cache, verbose=False)
    assert not changed.from_cache and len(changed.y_train) == 22


def test_splits_follow_the_protocol(real_data):
    s = make_splits(real_data, validation="split", val_fraction=0.1, seed=42)
    assert len(s.y_train) + len(s.y_val) == 28_709
    assert len(s.y_val) == 2_871
    # stratified: class proportions of train and validation agree within half a point
    p_tr = np.bincount(s.y_train, minlength=7) / len(s.y_train)
    p_va = np.bincount(s.y_val, minlength=7) / len(s.y_val)
    assert np.abs(p_tr - p_va).max() < 0.005
    assert len(s.tests[PRIVATE_TEST][1]) == 3_589 and len(s.tests["test"][1]) == 7_178
    pub = make_splits(real_data, validation="public")
    # PublicTest without its 310 faces that have a twin in train/ (fer_utils.twins)
    assert len(pub.y_train) == 28_709 and len(pub.y_val) == 3_589 - 310 and pub.val_twins_resolved == 310


@pytest.mark.parametrize("limit", [700])
def test_stratified_limits(real_data, limit):
    s = make_splits(real_data, train_limit=limit, eval_limit=limit)
    assert len(s.y_train) == limit and len(s.tests[PRIVATE_TEST][1]) == limit
    assert set(np.unique(s.y_train)) == set(range(7))
