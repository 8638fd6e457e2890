"""The pieces of the training recipe, checked against values worked out by hand or by scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

from fer_utils import config, training


def test_class_weights_match_scikit_learn():
    y = np.repeat(np.arange(7), [50, 5, 40, 100, 60, 55, 30])
    balanced = training.class_weights(y, "balanced")
    expected = compute_class_weight("balanced", classes=np.arange(7), y=y)
    np.testing.assert_allclose([balanced[i] for i in range(7)], expected)
    assert balanced[1] == pytest.approx(len(y) / (7 * 5))  # the rare class gets the most weight
    sqrt = training.class_weights(y, "sqrt")
    np.testing.assert_allclose([sqrt[i] for i in range(7)], np.sqrt(expected))
    assert training.class_weights(y, None) is None
    with pytest.raises(ValueError, match="balanced"):
        training.class_weights(y, "inverse")


def test_class_weights_with_a_missing_class():
    w = training.class_weights(np.array([0, 0, 2, 2]), "balanced")
    assert w[1] == 1.0 and w[0] == pytest.approx(4 / (2 * 2))


def test_cosine_schedule_warms_up_then_decays_to_one_percent():
    cfg = training.TrainConfig(epochs=10, learning_rate=1e-3, schedule="cosine", warmup_epochs=1)
    lr = training.learning_rate_for(cfg, steps_per_epoch=100)
    at = {step: float(lr(step)) for step in (0, 50, 100, 550, 1000)}
    assert at[0] == pytest.approx(1e-4)  # warm-up starts at a tenth
    assert at[50] == pytest.approx(5.5e-4, rel=1e-3)  # linear warm-up, half way
    assert at[100] == pytest.approx(1e-3)  # peak after one epoch
    assert at[550] == pytest.approx(1e-3 * (0.01 + 0.99 * 0.5), rel=1e-3)  # half way down the cosine
    assert at[1000] == pytest.approx(1e-5, rel=1e-3)  # alpha = 0.01 of the peak at the end
    constant = training.TrainConfig(schedule="plateau", learning_rate=3e-4)
    assert training.learning_rate_for(constant, 100) == 3e-4


def test_make_optimizer():
    import keras

    adamw = training.make_optimizer("adamw", 1e-3, weight_decay=5e-4)
    assert isinstance(adamw, keras.optimizers.AdamW) and adamw.weight_decay == pytest.approx(5e-4)
    sgd = training.make_optimizer("sgd", 0.05)
    assert isinstance(sgd, keras.optimizers.SGD) and sgd.nesterov and sgd.momentum == pytest.approx(0.9)
    assert type(training.make_optimizer("adam", 1e-3)) is keras.optimizers.Adam
    with pytest.raises(ValueError, match="adamw"):
        training.make_optimizer("rmsprop", 1e-3)


def test_recipe_follows_the_profile():
    for name in ("smoke", "laptop", "full"):
        profile = config.get_profile(name)
        model_kwargs, cfg = training.recipe(profile)
        assert model_kwargs["width"] == profile.model_width
        assert (cfg.epochs, cfg.batch_size, cfg.patience) == (profile.epochs, profile.batch_size, profile.patience)
        assert cfg.optimizer == "adamw" and cfg.schedule == "cosine" and cfg.label_smoothing == 0.1 and cfg.augment


def test_tunable_cnn_builds_a_compiled_model_from_the_search_space():
    kt = pytest.importorskip("keras_tuner")
    hp = kt.HyperParameters()
    model = training.build_tunable_cnn(hp)
    assert model.output_shape == (None, 7) and model.optimizer is not None
    assert {"width", "blocks", "kernel_size", "dropout", "learning_rate"} <= set(hp.values)
    assert hp.values["blocks"] == 3  # defaults are the smallest choices
    hp.values["blocks"] = 4
    assert training.build_tunable_cnn(hp).count_params() > model.count_params()
