"""Run profiles, preprocessing and the tf.data pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from fer_utils import config
from fer_utils.images import to_gray_uint8, to_model_input
from fer_utils.pipeline import augmentation_layers, make_dataset
from fer_utils.protocol import stratified_subset


def test_profile_switch(monkeypatch):
    monkeypatch.delenv("FER_PROFILE", raising=False)
    assert config.get_profile().name == "laptop"
    monkeypatch.setenv("FER_PROFILE", "SMOKE")
    assert config.get_profile().name == "smoke"
    order = [config.get_profile(n) for n in ("smoke", "quick", "laptop", "full")]
    assert [p.epochs for p in order] == sorted(p.epochs for p in order)  # each profile does more work
    assert config.get_profile("smoke").train_limit and config.get_profile("quick").train_limit is None
    monkeypatch.setenv("FER_PROFILE", "huge")
    with pytest.raises(ValueError, match="smoke, quick, laptop, full"):
        config.get_profile()


def test_constants_are_consistent():
    assert config.CLASS_NAMES == tuple(sorted(config.CLASS_NAMES))
    assert set(config.CSV_LABEL_TO_NAME.values()) == set(config.CLASS_NAMES)
    assert config.CSV_LABEL_TO_NAME[4] == "sad" and config.CSV_LABEL_TO_NAME[6] == "neutral"
    assert config.INPUT_SHAPE == (48, 48, 1)


def test_to_model_input_shapes_without_scaling_and_the_model_scales():
    from fer_utils.models import rescaling

    x = np.array([[[0, 255]]], dtype=np.uint8).repeat(48, 1).repeat(24, 2)
    out = to_model_input(x)
    assert out.shape == (1, 48, 48, 1) and out.dtype == np.float32
    assert out.min() == 0.0 and out.max() == 255.0  # pixels as on disk
    assert to_model_input(x[0]).shape == (1, 48, 48, 1)
    scaled = np.asarray(rescaling()(out))
    assert scaled.min() == 0.0 and scaled.max() == 1.0


def test_to_gray_handles_transparency():
    from PIL import Image

    rgba = Image.new("RGBA", (10, 10), (0, 0, 0, 0))  # fully transparent black
    assert to_gray_uint8(rgba, size=None).min() == 255  # composited on white


def test_stratified_subset_keeps_proportions():
    y = np.repeat(np.arange(7), [400, 40, 400, 700, 500, 480, 310])
    idx = stratified_subset(y, 500, seed=0)
    assert len(idx) == 500 and len(np.unique(idx)) == 500
    assert np.abs(np.bincount(y[idx]) / 500 - np.bincount(y) / len(y)).max() < 0.01


def test_dataset_batches_and_augmentation():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (70, 48, 48), dtype=np.uint8)
    y = rng.integers(0, 7, 70)
    ds = make_dataset(x, y, batch_size=32, shuffle=True, augment=augmentation_layers(seed=1))
    images, labels = next(iter(ds))
    assert images.shape == (32, 48, 48, 1) and labels.shape == (32, 7)
    assert float(images.numpy().min()) >= 0.0 and float(images.numpy().max()) <= 255.0
    assert np.allclose(labels.numpy().sum(axis=1), 1.0)
    plain = next(iter(make_dataset(x, y, batch_size=70)))[0].numpy()
    np.testing.assert_allclose(plain, to_model_input(x))  # no shuffle, no augmentation: exact
    assert sum(1 for _ in ds) == 3
    unlabelled = next(iter(make_dataset(x, batch_size=8)))
    assert unlabelled.shape == (8, 48, 48, 1)


def _augmentation_draws(seed: int, batches: int = 10, batch: int = 256) -> dict[str, np.ndarray]:
    """Each augmentation layer's random parameters for ``batches * batch`` faces."""
    aug = augmentation_layers(seed=seed)
    x = np.zeros((batch, 48, 48, 1), np.float32)
    draws: dict[str, list] = {}
    for _ in range(batches):
        for layer in aug.layers:
            t = layer.get_random_transformation(x, training=True)
            if layer.name.startswith("random_flip"):
                draws.setdefault("flip", []).append(np.ravel(t["flips"]))
            elif layer.name.startswith("random_rotation"):
                draws.setdefault("angle", []).append(np.ravel(t["angle"]))
            elif layer.name.startswith("random_zoom"):
                draws.setdefault("zoom", []).append(np.ravel(t["height_zoom"]))
            elif layer.name.startswith("random_translation"):
                draws.setdefault("shift_y", []).append(np.asarray(t["translations"])[:, 0])
                draws.setdefault("shift_x", []).append(np.asarray(t["translations"])[:, 1])
    return {k: np.concatenate(v).astype(np.float64) for k, v in draws.items()}


def test_augmentation_layers_draw_independently():
    # One seed for the run, but each layer draws its own stream: rotation, zoom, shift and flip vary
    # independently (with one shared seed they moved together: |r| = 1.0 between angle and zoom).
    draws = _augmentation_draws(seed=42)
    assert set(draws) == {"flip", "angle", "zoom", "shift_y", "shift_x"}
    assert all(len(v) >= 2000 for v in draws.values())
    layer_of = {"flip": "flip", "angle": "rotation", "zoom": "zoom", "shift_y": "shift", "shift_x": "shift"}
    names = list(draws)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if layer_of[a] != layer_of[b]:
                r = np.corrcoef(draws[a], draws[b])[0, 1]
                assert abs(r) < 0.1, f"{a} and {b} correlate: r = {r:.3f}"
    flipped = draws["flip"] > 0.5
    for side in (flipped, ~flipped):
        assert (draws["angle"][side] > 0).any() and (draws["angle"][side] < 0).any()


def test_augmentation_draws_are_reproducible():
    a, b = _augmentation_draws(seed=7, batches=1), _augmentation_draws(seed=7, batches=1)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["angle"], _augmentation_draws(seed=8, batches=1)["angle"])
