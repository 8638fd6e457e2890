"""Metrics against hand-computed values, TTA views, mistakes, Grad-CAM and headless plots."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fer_utils import evaluation, plots  # noqa: E402
from fer_utils.config import CLASS_NAMES  # noqa: E402
from fer_utils.models import rescaling  # noqa: E402

# Six faces of three classes. Each row puts 0.6 on the prediction, 0.3 on a second class and
# 0.02 on each of the other five.
Y_TRUE = np.array([0, 0, 0, 1, 1, 2])
PRED_SECOND = [(0, 1), (0, 2), (1, 0), (1, 0), (2, 3), (2, 0)]


def _proba():
    p = np.full((6, 7), 0.02)
    for i, (pred, second) in enumerate(PRED_SECOND):
        p[i, pred], p[i, second] = 0.6, 0.3
    return p


def test_metrics_match_hand_computed_values():
    m = evaluation.metrics_from_proba(Y_TRUE, _proba())
    assert m["n"] == 6
    assert m["accuracy"] == pytest.approx(4 / 6)
    # class 0: TP 2, FP 0, FN 1; class 1: TP 1, FP 1, FN 1; class 2: TP 1, FP 1, FN 0
    expected = {"angry": (1.0, 2 / 3, 0.8, 3), "disgust": (0.5, 0.5, 0.5, 2), "fear": (0.5, 1.0, 2 / 3, 1)}
    for name, (p, r, f, s) in expected.items():
        got = m["per_class"][name]
        assert (got["precision"], got["recall"], got["f1"], got["support"]) == pytest.approx((p, r, f, s))
    # absent classes score 0 and still count in the macro average over all seven classes
    assert m["per_class"]["happy"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert m["macro"]["f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 7)
    assert m["weighted"]["f1"] == pytest.approx((0.8 * 3 + 0.5 * 2 + 2 / 3 * 1) / 6)
    assert m["weighted"]["recall"] == pytest.approx(4 / 6)  # weighted recall = accuracy
    # top-2: only face 4 (true 1, predicted 2, second 3) misses
    assert m["top2_accuracy"] == pytest.approx(5 / 6)
    # loss: mean negative log probability of the true class
    p_true = [0.6, 0.6, 0.3, 0.6, 0.02, 0.6]
    assert m["loss"] == pytest.approx(-np.mean(np.log(p_true)), rel=1e-6)
    cm = np.array(m["confusion_matrix"])
    assert cm[:3, :3].tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]] and cm.sum() == 6
    norm = np.array(m["confusion_matrix_normalized"])
    assert norm[0, :2] == pytest.approx([2 / 3, 1 / 3], abs=1e-4) and norm[3].sum() == 0


def test_probabilities_that_do_not_sum_exactly_to_one_are_accepted():
    p = _proba().astype(np.float32) * np.float32(1.0000001)
    assert evaluation.metrics_from_proba(Y_TRUE, p)["accuracy"] == pytest.approx(4 / 6)


def test_confused_pairs_and_mistake_selection():
    cm = np.zeros((7, 7), int)
    cm[2, 5], cm[5, 4], cm[0, 5] = 9, 4, 1
    pairs = evaluation.confused_pairs(cm, top=2)
    assert list(pairs["true"]) == ["fear", "sad"] and list(pairs["predicted"]) == ["sad", "neutral"]
    assert pairs["share_of_true"].iloc[0] == 1.0
    y = np.array([0, 1, 2, 3])
    p = np.array(
        [
            [0.9, 0.1, 0, 0, 0, 0, 0],
            [0.8, 0.2, 0, 0, 0, 0, 0],
            [0, 0, 0.4, 0.35, 0.25, 0, 0],
            [0, 0.55, 0, 0.45, 0, 0, 0],
        ]
    )
    assert evaluation.select_mistakes(y, p, "confident_wrong", n=5).tolist() == [1, 3]
    assert evaluation.select_mistakes(y, p, "unsure_right", n=1).tolist() == [2]
    with pytest.raises(ValueError):
        evaluation.select_mistakes(y, p, "other")


def test_tta_views_are_the_face_its_mirror_and_shifted_crops():
    x = np.random.default_rng(0).random((3, 48, 48, 1)).astype(np.float32)
    views = evaluation.tta_views(x)
    assert len(views) == 10 and all(v.shape == x.shape for v in views)
    np.testing.assert_array_equal(views[0], x)
    np.testing.assert_array_equal(views[5], x[:, :, ::-1])
    # the first crop is shifted by 2 px down and right: its centre matches the input moved by 2
    np.testing.assert_array_equal(views[1][:, 2:, 2:], x[:, :-2, :-2])


def test_predict_proba_with_tta_averages_views():
    import keras

    inp = keras.Input((48, 48, 1))
    out = keras.layers.Dense(7, activation="softmax")(keras.layers.Flatten()(inp))
    model = keras.Model(inp, out)
    faces = np.random.default_rng(1).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    plain = evaluation.predict_proba(model, faces)
    tta = evaluation.predict_proba(model, faces, tta=True)
    views = evaluation.tta_views(faces[..., None].astype(np.float32))  # pixels 0..255, as models take them
    manual = np.mean([model.predict(v, verbose=0) for v in views], axis=0)
    assert plain.shape == tta.shape == (5, 7)
    np.testing.assert_allclose(tta, manual, atol=1e-5)
    np.testing.assert_allclose(tta.sum(1), 1, atol=1e-5)


def test_evaluate_model_scores_each_named_set_from_the_models_own_predictions():
    import keras

    # a "model" that answers the class written in the top-left pixel (0..6 -> grey level 10 * class)
    inp = keras.Input((48, 48, 1))
    level = keras.layers.Lambda(lambda t: t[:, 0, 0, :] / 10.0)(inp)  # models take pixels 0..255
    logits = keras.layers.Lambda(lambda v: -((v - keras.ops.arange(7, dtype="float32")) ** 2) * 50.0)(level)
    model = keras.Model(inp, keras.layers.Softmax()(logits))
    y = np.array([0, 1, 2, 3, 4, 5, 6, 3])
    x = np.zeros((8, 48, 48), dtype=np.uint8)
    x[:, 0, 0] = 10 * y
    x_wrong = x.copy()
    x_wrong[:4, 0, 0] = 10 * ((y[:4] + 1) % 7)  # half of these faces "look like" the next class
    metrics, probas = evaluation.evaluate_model(model, {"clean": (x, y), "half wrong": (x_wrong, y)})
    assert set(metrics) == set(probas) == {"clean", "half wrong"}
    assert metrics["clean"]["accuracy"] == 1.0 and metrics["half wrong"]["accuracy"] == 0.5
    np.testing.assert_array_equal(probas["half wrong"].argmax(1)[:4], (y[:4] + 1) % 7)
    assert metrics["half wrong"]["confusion_matrix"][0][1] == 1  # angry face predicted disgust


def test_evaluate_model_predicts_each_distinct_face_once_and_scores_like_separate_calls():
    """The test sets overlap (the test folder holds PrivateTest, which holds PrivateTest without
    twins): each distinct face is predicted once, and every set gets the probabilities a call of
    its own would give."""
    import keras

    inp = keras.Input((48, 48, 1))
    model = keras.Model(inp, keras.layers.Dense(7, activation="softmax")(keras.layers.Flatten()(inp)))
    rng = np.random.default_rng(3)
    public, private = (rng.integers(0, 256, (n, 48, 48), dtype=np.uint8) for n in (6, 5))
    y_pub, y_priv = rng.integers(0, 7, 6), rng.integers(0, 7, 5)
    sets = {
        "PrivateTest": (private, y_priv),
        "no_twins": (private[[0, 2, 4]], y_priv[[0, 2, 4]]),
        "test": (np.concatenate([public, private]), np.concatenate([y_pub, y_priv])),
    }
    seen = []
    predict = model.predict
    model.predict = lambda x, **kw: seen.append(len(x)) or predict(x, **kw)
    for tta in (False, True):
        seen.clear()
        metrics, probas = evaluation.evaluate_model(model, sets, tta=tta)
        assert sum(seen) == 11 * (10 if tta else 1)  # 11 distinct faces, each once (x 10 views with TTA)
        for name, (x, y) in sets.items():
            alone = evaluation.predict_proba(model, x, tta=tta)
            np.testing.assert_allclose(probas[name], alone, atol=1e-6)
            assert metrics[name]["n"] == len(y)


# --------------------------------------------------------------------------- Grad-CAM
def _bar_images(n: int, rng, position: tuple[int, int] | None = None):
    """Noise images with one bright bar: horizontal (class 0) or vertical (class 1), at a random
    (or given) place. Only the bar tells the classes apart."""
    x = rng.integers(0, 90, (n, 48, 48)).astype(np.uint8)
    y = rng.integers(0, 2, n)
    for i in range(n):
        r, c = position or (int(rng.integers(6, 38)), int(rng.integers(6, 38)))
        if y[i] == 0:
            x[i, r - 1 : r + 2, c - 6 : c + 6] = 255
        else:
            x[i, r - 6 : r + 6, c - 1 : c + 2] = 255
    return x, y


@pytest.fixture(scope="module")
def bar_model():
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x, y = _bar_images(1500, rng)
    inp = keras.Input((48, 48, 1))
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(rescaling()(inp))  # as every course model
    h = keras.layers.MaxPooling2D()(h)
    h = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="last_conv")(h)
    out = keras.layers.Dense(7, activation="softmax")(keras.layers.GlobalMaxPooling2D()(h))
    model = keras.Model(inp, out)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[..., None].astype(np.float32), y, epochs=6, batch_size=32, verbose=0)
    xt, yt = _bar_images(200, np.random.default_rng(1))
    acc = model.evaluate(xt[..., None].astype(np.float32), yt, verbose=0)[1]
    assert acc > 0.9, f"the bar model did not learn its task (accuracy {acc:.2f})"
    return model


def test_grad_cam_has_the_input_size_and_its_peak_follows_the_bar(bar_model):
    assert evaluation.last_conv_layer(bar_model) == "last_conv"
    peaks = []
    for pos in ((12, 12), (36, 36), (12, 36)):
        x, y = _bar_images(1, np.random.default_rng(2), position=pos)
        cam = evaluation.grad_cam(bar_model, x[0], class_index=int(y[0]))
        assert cam.shape == (48, 48) and cam.min() >= 0 and cam.max() == pytest.approx(1.0)
        peak = np.unravel_index(np.argmax(cam), cam.shape)
        peaks.append(peak)
        assert math.dist(peak, pos) < 10, f"Grad-CAM peak {peak} is far from the bar at {pos}"
    assert len(set(peaks)) == 3


def _patch_faces(n: int, rng, size: int = 10):
    """Noise faces with a bright striped patch near the top-left or the bottom-right corner (at
    random) and a solid bright square of the same size at the other one. The stripes decide the
    class (horizontal 0, vertical 1); the square is a distractor. Returns faces, labels and the
    top-left corner of each striped patch."""
    x = rng.integers(0, 120, (n, 48, 48)).astype(np.uint8)
    y = rng.integers(0, 2, n)
    corners = np.zeros((n, 2), int)
    for i in range(n):
        top_left, bottom_right = rng.integers(3, 10, 2), rng.integers(29, 36, 2)
        (r, c), (dr, dc) = (top_left, bottom_right) if rng.random() < 0.5 else (bottom_right, top_left)
        stripes = np.zeros((size, size), np.uint8)
        if y[i] == 0:
            stripes[::3] = 255
        else:
            stripes[:, ::3] = 255
        x[i, r : r + size, c : c + size] = np.maximum(x[i, r : r + size, c : c + size], stripes)
        x[i, dr : dr + size, dc : dc + size] = 255
        corners[i] = r, c
    return x, y, corners


@pytest.fixture(scope="module")
def patch_model():
    """A small BN-VGG of the course (conv-BN-ReLU blocks, global average pooling, softmax) trained
    for a few epochs on ``_patch_faces``."""
    import keras

    from fer_utils.models import build_vgg_bn

    keras.utils.set_random_seed(0)
    x, y, _ = _patch_faces(300, np.random.default_rng(0))
    model = build_vgg_bn(width=8, blocks=3, convs_per_block=1, dropout=0, block_dropout=0, dense_units=0)
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[..., None].astype(np.float32), y, epochs=3, batch_size=32, verbose=0)
    return model


def _keras_example_grad_cam(model, face, class_index, layer_name):
    """Grad-CAM as the Keras example writes it: the gradient of the class logit with respect to a
    post-activation feature map (here the logits are the softmax layer's ``x @ kernel + bias``)."""
    import keras
    import tensorflow as tf

    head = model.layers[-1]
    grad_model = keras.Model(model.input, [model.get_layer(layer_name).output, head.input])
    with tf.GradientTape() as tape:
        features, h = grad_model(face[None, ..., None].astype(np.float32))
        score = (tf.matmul(h, head.kernel) + head.bias)[:, class_index]
    weights = tf.reduce_mean(tape.gradient(score, features), axis=(1, 2))
    cam = tf.nn.relu(tf.reduce_sum(features * weights[:, None, None, :], axis=-1))[0]
    cam = tf.image.resize(cam[..., None], face.shape, method="bilinear")[..., 0].numpy()
    return cam / cam.max()


def test_grad_cam_follows_the_published_recipe_and_finds_the_patch(patch_model, tmp_path):
    """The map of the trained model peaks on the striped patch that decides the class (not on the
    distractor), is the Keras example's computation on the last post-activation feature map and
    the score before the softmax, and so does not change when the model grows more confident."""
    model = patch_model
    x, y, corners = _patch_faces(40, np.random.default_rng(1))
    proba = evaluation.predict_proba(model, x)
    assert np.mean(proba.argmax(1) == y) >= 0.9, "the patch model did not learn its task"
    assert evaluation.gradcam_layer(model) == "block3_conv1_relu"  # after BN and ReLU, 12x12
    maps = [evaluation.grad_cam(model, face, class_index=int(c)) for face, c in zip(x, y)]
    peaks = np.array([np.unravel_index(np.argmax(m), m.shape) for m in maps])
    inside = np.all((peaks >= corners - 2) & (peaks < corners + 12), axis=1)  # the 10x10 patch, 2 px margin
    assert inside.mean() >= 0.8, f"Grad-CAM peaks on the patch for only {inside.mean():.0%} of the faces"
    for i in range(3):
        expected = _keras_example_grad_cam(model, x[i], int(y[i]), "block3_conv1_relu")
        np.testing.assert_allclose(maps[i], expected, atol=1e-5)
    head = model.layers[-1]
    kernel, bias = head.kernel.numpy(), head.bias.numpy()
    try:  # 20x larger scores: the softmax saturates, the map of the score before it stays the same
        head.kernel.assign(kernel * 20)
        head.bias.assign(bias * 20)
        for i in range(3):
            np.testing.assert_allclose(evaluation.grad_cam(model, x[i], int(y[i])), maps[i], atol=1e-5)
    finally:
        head.kernel.assign(kernel)
        head.bias.assign(bias)
    show = np.r_[np.flatnonzero(y == 0)[:3], np.flatnonzero(y == 1)[:3]]
    captions = [f"{'horizontal' if y[i] == 0 else 'vertical'}, p = {proba[i, y[i]]:.2f}" for i in show]
    fig = plots.gradcam_grid(
        x[show], [maps[i] for i in show], captions, save=tmp_path / "gradcam_test.png",
        title=f"Grad-CAM test: peak on the striped patch for {inside.mean():.0%} of {len(x)} faces",
    )  # fmt: skip
    matplotlib.pyplot.close(fig)


def test_grad_cam_works_for_old_models_given_input_scaling():
    """A model saved before the models scaled their input is wrapped by ``add_input_scaling`` (layers
    shared with the old model); its map is the old model's map of the scaled face."""
    import keras

    from fer_utils.config import INPUT_SHAPE
    from fer_utils.models import add_input_scaling

    keras.utils.set_random_seed(0)
    face = np.random.default_rng(0).integers(0, 256, (48, 48)).astype(np.uint8)
    inputs = keras.Input(INPUT_SHAPE)
    h = keras.layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
    h = keras.layers.Activation("relu", name="conv_relu")(keras.layers.BatchNormalization(name="conv_bn")(h))
    h = keras.layers.GlobalAveragePooling2D()(h)
    functional = keras.Model(inputs, keras.layers.Dense(7, activation="softmax", name="emotion")(h))
    sequential = keras.Sequential([keras.Input(INPUT_SHAPE), *functional.layers[1:]])
    for old in (functional, sequential):
        new = add_input_scaling(old)
        assert evaluation.gradcam_layer(new) == "conv_relu"
        cam = evaluation.grad_cam(new, face, class_index=2)
        np.testing.assert_allclose(cam, evaluation.grad_cam(old, face[..., None] / 255.0, class_index=2), atol=1e-5)


# --------------------------------------------------------------------------- plots
def test_every_plot_runs_headless_returns_its_figure_and_saves(tmp_path):
    import pandas as pd
    from matplotlib.figure import Figure

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (70, 48, 48), dtype=np.uint8)
    y = np.repeat(np.arange(7), 10)
    proba = rng.dirichlet(np.ones(7), 70)
    m = evaluation.metrics_from_proba(y, proba)
    counts = pd.DataFrame(
        {"train": np.bincount(y), "PublicTest": np.bincount(y), "PrivateTest": np.bincount(y)}, index=CLASS_NAMES
    )
    hist = {"loss": [2, 1.5], "val_loss": [1.9, 1.7], "accuracy": [0.3, 0.4], "val_accuracy": [0.3, 0.35]}
    calls = {
        "distribution": lambda s: plots.class_distribution(counts, save=s),
        "grid": lambda s: plots.sample_grid(x, y, per_class=3, save=s),
        "histogram": lambda s: plots.pixel_histogram({"angry": x[:10], "happy": x[30:40]}, save=s),
        "augmentation": lambda s: plots.augmentation_examples(x[:2], lambda b, training=True: b, n_aug=2, save=s),
        "curves": lambda s: plots.training_curves(hist, save=s),
        "confusion": lambda s: plots.confusion_heatmap(m["confusion_matrix"], normalize=True, save=s),
        "per_class": lambda s: plots.per_class_bars(m, save=s),
        "gallery": lambda s: plots.face_gallery(x, y, proba, np.arange(4), save=s),
        "gradcam": lambda s: plots.gradcam_grid(x[:2], [np.ones((48, 48))] * 2, ["a", "b"], save=s),
        "comparison": lambda s: plots.comparison_bars(
            pd.DataFrame({"experiment": ["a", "b"], "val_accuracy": [0.4, 0.5], "learned": [False, True]}),
            save=s,
            baseline=0.25,
            floor=0.35,
            selected="b",
        ),
    }
    for name, call in calls.items():
        target = tmp_path / f"{name}.png"
        fig = call(target)
        assert isinstance(fig, Figure), name
        assert target.stat().st_size > 1000, name
    df = pd.DataFrame({"experiment": ["a", "b"], "val_accuracy": [0.4, 0.5], "learned": [False, True]})
    bars = plots.comparison_bars(df, selected="b").axes[0].patches
    assert [b.get_hatch() for b in bars] == ["//", None]  # the failed run is hatched, the other is not
    fig = plots.probability_bars(proba[0])
    bars = fig.axes[0].patches
    assert [b.get_width() for b in bars] == pytest.approx(list(proba[0]))
    assert sum(b.get_facecolor() == bars[int(np.argmax(proba[0]))].get_facecolor() for b in bars) == 1
