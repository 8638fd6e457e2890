"""train_model under tf.distribute strategies (on CPU: the default and a one-device MirroredStrategy)."""

from __future__ import annotations

import numpy as np
import pytest

from fer_utils import models, training
from fer_utils.synthetic import generate


@pytest.fixture(scope="module")
def faces():
    x, y = generate(n_per_class=12, seed=3)
    return x, y


@pytest.mark.parametrize("kind", ["default", "mirrored"])
def test_train_model_builds_and_trains_inside_the_strategy(faces, kind, tmp_path):
    import tensorflow as tf

    strategy = tf.distribute.get_strategy() if kind == "default" else tf.distribute.MirroredStrategy(["/cpu:0"])
    x, y = faces
    cfg = training.TrainConfig(epochs=2, batch_size=16, patience=2, augment=True)
    model, hist, seconds = training.train_model(
        lambda: models.build_vgg_bn(width=8, blocks=2, dense_units=16),
        x,
        y,
        x[:28],
        y[:28],
        cfg,
        out_dir=tmp_path / kind,
        strategy=strategy,
        verbose=0,
    )
    assert len(hist["loss"]) == 2 and np.all(np.isfinite(hist["loss"]))
    assert seconds >= sum(hist["epoch_seconds"]) > 0  # fit's wall time includes every epoch
    var = model.trainable_variables[0]
    assert strategy.extended.variable_created_in_scope(getattr(var, "value", var))
    if kind == "mirrored":
        assert "Mirrored" in type(getattr(var, "value", var)).__name__
    assert (tmp_path / kind / "best.keras").is_file()
    assert model.predict(x[:4, ..., None].astype(np.float32), verbose=0).shape == (4, 7)


def test_a_different_run_in_the_same_folder_does_not_resume_the_old_backup(tmp_path, capsys):
    from fer_utils.training import prepare_run_dir

    (tmp_path / "backup").mkdir()
    (tmp_path / "history.csv").write_text("epoch\n0\n")
    prepare_run_dir(tmp_path, {"epochs": 6, "model": "abc"})  # first run here: settings unknown
    assert not (tmp_path / "backup").exists() and "starting afresh" in capsys.readouterr().out
    (tmp_path / "backup").mkdir()  # same settings: resume
    prepare_run_dir(tmp_path, {"epochs": 6, "model": "abc"})
    assert (tmp_path / "backup").exists()
    prepare_run_dir(tmp_path, {"epochs": 6, "model": "xyz"})  # other architecture: start afresh
    assert not (tmp_path / "backup").exists()
