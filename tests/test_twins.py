"""FER-2013's twins (fer_utils.twins): planted copies are found, distinct faces are not, the search is
exact, the cache returns what the search found, and the protocol keeps twins out of validation."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from fer_utils import twins
from fer_utils.config import CLASS_NAMES, PRIVATE_NO_TWINS, PRIVATE_TEST, PUBLIC_TEST
from fer_utils.data import FERData
from fer_utils.evaluation import metrics_from_proba, twin_split_table
from fer_utils.protocol import make_splits
from fer_utils.synthetic import generate


def jpeg(face: np.ndarray, quality: int = 75) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(face).save(buf, format="JPEG", quality=quality)
    return np.array(Image.open(buf))


def shifted(face: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """The face moved by (dy, dx) pixels, the edge repeated (a crop one pixel off)."""
    return np.pad(face, 1, mode="edge")[1 - dy : 49 - dy, 1 - dx : 49 - dx]


@pytest.fixture(scope="module")
def faces() -> tuple[np.ndarray, np.ndarray]:
    return generate(20, seed=3)  # 140 synthetic faces, 20 per emotion


def brute_nearest(query, reference, exclude_self=False):
    d = np.array([[twins.distance(q, r) for r in reference] for q in query])
    if exclude_self:
        np.fill_diagonal(d, np.inf)
    return d.min(axis=1), d.argmin(axis=1)


def test_planted_copies_are_found(faces):
    x, _ = faces
    picks = [0, 17, 33, 58, 71, 96, 110, 139]
    copies = {
        "JPEG quality 75": [jpeg(x[i]) for i in picks],
        "1-pixel shift": [shifted(x[i], *s) for i, s in zip(picks, [(1, 0), (0, 1), (-1, 0), (0, -1)] * 2)],
        "diagonal shift + JPEG": [jpeg(shifted(x[i], 1, -1)) for i in picks],
    }
    for kind, planted in copies.items():
        rms, index = twins.nearest(np.stack(planted), x)
        assert list(index) == picks, kind
        assert rms.max() < twins.TWIN_RMS, f"{kind}: {rms.round(2)}"
        found = twins.pairs_within(np.stack(planted), x)
        assert sorted(map(tuple, found[:, :2].astype(int))) == list(enumerate(picks)), kind


def test_distinct_faces_of_one_shape_are_not_twins(faces):
    x, y = faces
    rms, _ = twins.nearest(x, x, exclude_self=True)  # 140 distinct drawn faces, 20 per emotion
    assert rms.min() > 3 * twins.TWIN_RMS
    # the same face with another face's mouth (another expression of one "person") is not a twin
    other_mouth = x[:20].copy()
    other_mouth[:, 30:44, 12:36] = x[20:40, 30:44, 12:36]
    assert min(twins.distance(a, b) for a, b in zip(other_mouth, x[:20])) > twins.TWIN_RMS
    assert len(twins.pairs_within(other_mouth, x[:20])) == 0


def test_nearest_is_exact_against_brute_force(faces):
    x, _ = faces
    rng = np.random.default_rng(0)
    query = np.concatenate([x[:12], [jpeg(x[40]), shifted(x[41], 1, 1)]])
    ref = x[rng.permutation(len(x))[:60]]
    rms, index = twins.nearest(query, ref)
    want_rms, want_index = brute_nearest(query, ref)
    near = want_rms < twins.PAIR_RMS_MAX  # exact below PAIR_RMS_MAX, an upper bound above it
    assert np.allclose(rms[near], want_rms[near], atol=1e-4) and (index[near] == want_index[near]).all()
    assert (rms >= want_rms - 1e-4).all()
    rms_self, index_self = twins.nearest(x[:30], x[:30], exclude_self=True)
    assert (index_self != np.arange(30)).all()
    assert (rms_self >= brute_nearest(x[:30], x[:30], exclude_self=True)[0] - 1e-4).all()


def fer_with_twins(faces) -> tuple[FERData, dict]:
    """Synthetic FER-2013 with planted twins: within train/, and of train/ faces in both test subsets."""
    x, y = faces
    more_x, more_y = generate(30, seed=4)
    x_train, y_train = np.concatenate([x, more_x]), np.concatenate([y, more_y])
    inside = np.arange(0, 60, 3)  # 20 train faces with a re-encoded copy in train/
    x_train = np.concatenate([x_train, [jpeg(f) for f in x_train[inside]]])
    y_train = np.concatenate([y_train, y_train[inside]])
    test_x, test_y = generate(10, seed=5)  # 70 test faces, none a twin
    to_test = np.arange(100, 160, 4)  # 15 train faces copied into the test folder
    x_test = np.concatenate([test_x, [shifted(f, 0, 1) for f in x_train[to_test]]])
    y_test = np.concatenate([test_y, y_train[to_test]])
    usage = np.array([PUBLIC_TEST if i % 2 else PRIVATE_TEST for i in range(len(y_test))])
    data = FERData(
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        usage_test=usage,
        names_train=np.array([f"Training_{i}" for i in range(len(y_train))]),
        names_test=np.array([f"{u}_{i}" for i, u in enumerate(usage)]),
        source="planted twins",
        fmt="folders",
        synthetic=True,
    )
    return data, {"inside": inside, "to_test": to_test}


def test_find_twins_and_its_cache(faces, tmp_path):
    data, planted = fer_with_twins(faces)
    first = twins.find_twins(data, cache_dir=tmp_path)
    assert not first.from_cache
    has_twin = first.test_mask()
    assert has_twin.sum() == len(planted["to_test"]) and has_twin[-len(planted["to_test"]) :].all()
    assert set(first.test_nearest[has_twin]) == set(planted["to_test"])
    n_private = int(has_twin[data.usage_test == PRIVATE_TEST].sum())
    assert first.test_mask(PRIVATE_TEST).sum() == n_private
    assert first.counts().loc["total", "PrivateTest twins"] == n_private
    pairs = set(map(tuple, first.train_twin_pairs()))
    n = len(faces[1]) + 210
    assert pairs == {(int(i), n + k) for k, i in enumerate(planted["inside"])}
    assert first.train_mask().sum() == 2 * len(planted["inside"])
    groups = first.train_groups()
    assert all(groups[i] == groups[j] for i, j in pairs) and len(np.unique(groups)) == len(groups) - len(pairs)

    second = twins.find_twins(data, cache_dir=tmp_path)
    assert second.from_cache and second.seconds < 1.0
    for field in ("train_rms", "train_nearest", "test_rms", "test_nearest", "train_pairs", "test_pairs"):
        assert np.array_equal(getattr(first, field), getattr(second, field)), field
    changed = replace(data, x_test=data.x_test[::-1].copy())
    assert not twins.find_twins(changed, cache_dir=tmp_path).from_cache  # the key follows the pixels


def test_make_splits_keeps_twins_out_of_validation(faces, tmp_path):
    data, planted = fer_with_twins(faces)
    report = twins.find_twins(data, cache_dir=tmp_path)
    from sklearn.model_selection import train_test_split

    _, plain_val = train_test_split(np.arange(len(data.y_train)), test_size=0.3, stratify=data.y_train, random_state=42)
    s = make_splits(data, val_fraction=0.3, seed=42, twins=report)
    # same size and class counts as a plain stratified split, but no validation face has a twin in training
    assert np.array_equal(np.bincount(s.y_val, minlength=7), np.bincount(data.y_train[plain_val], minlength=7))
    assert len(s.y_train) + len(s.y_val) == len(data.y_train)
    assert np.array_equal(data.x_train[s.val_index], s.x_val) and np.array_equal(data.x_train[s.train_index], s.x_train)
    rms, _ = twins.nearest(s.x_val, s.x_train)
    assert rms.min() >= twins.TWIN_RMS
    assert s.val_twins_resolved > 0  # the plain split put twins on both sides

    public = make_splits(data, validation="public", twins=report)
    assert len(public.y_val) == int((data.usage_test == PUBLIC_TEST).sum()) - public.val_twins_resolved
    assert twins.nearest(public.x_val, public.x_train)[0].min() >= twins.TWIN_RMS

    n_private_twins = int(report.test_mask(PRIVATE_TEST).sum())
    assert list(s.tests)[:2] == [PRIVATE_TEST, PRIVATE_NO_TWINS]
    assert s.twin_counts()[PRIVATE_TEST] == n_private_twins and s.twin_counts()[PRIVATE_NO_TWINS] == 0
    assert len(s.tests[PRIVATE_NO_TWINS][1]) == len(s.tests[PRIVATE_TEST][1]) - n_private_twins
    assert twins.nearest(s.tests[PRIVATE_NO_TWINS][0], data.x_train)[0].min() >= twins.TWIN_RMS
    small = make_splits(data, eval_limit=30, twins=report)  # masks follow the stratified subsets
    for name, (x, _) in small.tests.items():
        assert np.array_equal(small.train_twins[name], twins.nearest(x, data.x_train)[0] < twins.TWIN_RMS), name


def test_twin_split_table_reports_all_faces_without_twins_and_twins(faces):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 7, 300)
    proba = rng.dirichlet(np.ones(7), 300)
    proba[np.arange(0, 300, 2), y[::2]] += 2.0  # right on half of the faces
    has_twin = np.zeros(300, bool)
    has_twin[rng.choice(300, 40, replace=False)] = True
    metrics = {
        PRIVATE_TEST: metrics_from_proba(y, proba),
        PRIVATE_NO_TWINS: metrics_from_proba(y[~has_twin], proba[~has_twin]),
    }
    table = twin_split_table(metrics)
    twins_only = metrics_from_proba(y[has_twin], proba[has_twin])
    assert table["n"].tolist() == [300, 260, 40]
    assert table["accuracy"].tolist() == pytest.approx(
        [metrics[PRIVATE_TEST]["accuracy"], metrics[PRIVATE_NO_TWINS]["accuracy"], twins_only["accuracy"]], abs=1e-4
    )
    assert table["macro_f1"].iloc[2] == pytest.approx(twins_only["macro"]["f1"], abs=1e-4)
    with pytest.raises(ValueError, match="PrivateTest_no_twins"):
        twin_split_table({PRIVATE_TEST: metrics[PRIVATE_TEST]})


# --------------------------------------------------------------------------- FER-2013 itself
#: Measured on FER-2013 (msambare/fer2013 on Kaggle) with fer_utils.twins: faces with a train/ twin.
PRIVATE_TWINS = {"angry": 40, "disgust": 17, "fear": 60, "happy": 29, "neutral": 27, "sad": 24, "surprise": 123}


def test_the_shipped_twins_are_what_the_search_finds(real_data, tmp_path):
    """The shipped result (read on a fresh clone instead of a 100 s search) against a new search of the
    PrivateTest faces, the headline's; the search itself is tested on planted twins above."""
    report = twins.find_twins(real_data, cache_dir=tmp_path)  # empty cache: the shipped copy
    assert report.from_cache, f"no shipped twins for this copy of FER-2013 in {twins.SHIPPED_DIR}"
    private = np.flatnonzero(real_data.usage_test == PRIVATE_TEST)
    rms, nearest, pairs = twins._search(real_data.x_test[private], real_data.x_train, False, twins.PAIR_RMS_MAX)
    assert np.allclose(rms, report.test_rms[private], atol=1e-4)
    # where the nearest faces differ: ties (train/ holds the face twice), or faces beyond PAIR_RMS_MAX, whose
    # distance is the centre alignment's and whose candidates come from float32 products (machine-dependent order)
    close = rms < twins.PAIR_RMS_MAX
    for i in np.flatnonzero((nearest != report.test_nearest[private]) & close):
        shipped_nearest = real_data.x_train[report.test_nearest[private[i]]]
        assert twins.distance(real_data.x_test[private[i]], shipped_nearest) == pytest.approx(rms[i], abs=1e-4)
    pairs[:, 0] = private[pairs[:, 0].astype(np.int64)]
    shipped = report.test_pairs[np.isin(report.test_pairs[:, 0], private)]
    order = lambda p: p[np.lexsort((p[:, 1], p[:, 0]))]  # noqa: E731
    assert np.allclose(order(pairs), order(shipped), atol=1e-4)


def test_fer2013_twins(real_data):
    report = twins.find_twins(real_data)
    counts = report.counts()
    assert counts["PrivateTest twins"].drop("total").to_dict() == PRIVATE_TWINS
    assert counts.loc["surprise", "PrivateTest faces"] == 416 and counts.loc["disgust", "PrivateTest faces"] == 55
    assert counts.loc["total", "PrivateTest twins"] == 320 and counts.loc["total", "PublicTest twins"] == 310
    assert counts.loc["total", "train twins"] == 2_479
    # byte copies (distance below 0.5) are most of them; every test face's nearest train/ face is found
    assert int((report.test_rms < 0.5).sum()) == 582 and (report.test_nearest >= 0).all()

    s = make_splits(real_data, seed=42, twins=report)
    assert s.val_twins_resolved == 234 and len(s.y_val) == 2_871
    in_val = np.zeros(len(real_data.y_train), bool)
    in_val[s.val_index] = True
    pairs = report.train_twin_pairs()
    assert not (in_val[pairs[:, 0]] != in_val[pairs[:, 1]]).any()  # no twin pair crosses the split
    assert len(s.tests[PRIVATE_NO_TWINS][1]) == 3_589 - 320
    assert set(CLASS_NAMES) == set(counts.index.drop("total"))
