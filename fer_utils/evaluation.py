"""Evaluate a classifier: metrics per split, confusion, mistakes and Grad-CAM.

Metrics come from scikit-learn; probabilities from the model, optionally averaged over
test-time augmentation (horizontal flip and shifted crops).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .config import CLASS_NAMES, NUM_CLASSES, PRIVATE_NO_TWINS, PRIVATE_TEST
from .images import to_model_input


# --------------------------------------------------------------------------- predictions
def tta_views(x: np.ndarray, shift: int = 2) -> list[np.ndarray]:
    """Test-time augmentation views of float faces ``(N, 48, 48, 1)``: the image, its mirror,
    and both shifted by ``shift`` pixels in four directions (crops of a reflect-padded image)."""
    views = []
    for img in (x, x[:, :, ::-1]):
        views.append(img)
        if shift:
            pad = np.pad(img, ((0, 0), (shift, shift), (shift, shift), (0, 0)), mode="reflect")
            n = img.shape[1]
            for dy, dx in ((0, 0), (0, 2 * shift), (2 * shift, 0), (2 * shift, 2 * shift)):
                views.append(pad[:, dy : dy + n, dx : dx + n])
    return views


def predict_proba(model, x: np.ndarray, batch_size: int = 256, tta: bool = False) -> np.ndarray:
    """Class probabilities ``(N, 7)`` for uint8 faces ``(N, 48, 48)`` (or float32 pixels 0..255)."""
    x = to_model_input(x)  # uint8 or float alike: no scaling any more, only dtype and channel axis
    views = tta_views(x) if tta else [x]
    # one predict call over all views (fewer tf.function retraces than one call per view)
    probs = model.predict(np.concatenate(views), batch_size=batch_size, verbose=0)
    return probs.reshape(len(views), len(x), -1).mean(axis=0).astype(np.float64)


# --------------------------------------------------------------------------- metrics
def metrics_from_proba(y_true: np.ndarray, proba: np.ndarray) -> dict:
    """Accuracy, loss, top-2 accuracy, per-class precision/recall/F1 with macro and weighted
    averages, and the confusion matrix (counts and row-normalized), as plain Python types."""
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        log_loss,
        precision_recall_fscore_support,
        top_k_accuracy_score,
    )

    y_true = np.asarray(y_true)
    proba = np.asarray(proba, np.float64)
    proba = proba / proba.sum(axis=1, keepdims=True)  # float32 softmax sums are 1 +- 1e-7
    labels = list(range(NUM_CLASSES))
    y_pred = proba.argmax(axis=1)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    with np.errstate(invalid="ignore", divide="ignore"):
        cm_norm = np.nan_to_num(cm / cm.sum(axis=1, keepdims=True))
    out = {
        "n": int(len(y_true)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "loss": float(log_loss(y_true, proba, labels=labels)),  # sklearn clips zeros itself
        "top2_accuracy": float(top_k_accuracy_score(y_true, proba, k=2, labels=labels)),
        "per_class": {
            name: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
            for i, name in enumerate(CLASS_NAMES)
        },
        "confusion_matrix": cm.tolist(),
        "confusion_matrix_normalized": cm_norm.round(4).tolist(),
    }
    for avg in ("macro", "weighted"):
        pa, ra, fa, _ = precision_recall_fscore_support(y_true, y_pred, labels=labels, average=avg, zero_division=0)
        out[avg] = {"precision": float(pa), "recall": float(ra), "f1": float(fa)}
    return out


def evaluate_model(
    model, sets: dict[str, tuple[np.ndarray, np.ndarray]], tta: bool = False, batch_size: int = 256
) -> tuple[dict, dict]:
    """Metrics for each named labelled set, e.g. ``{"validation": (x, y), "PrivateTest": ...}``.

    Returns ``(metrics, probabilities)`` keyed by set name.
    """
    # the sets overlap (the whole test folder holds PrivateTest, which holds PrivateTest without twins):
    # each distinct face is predicted once
    faces = np.concatenate([np.asarray(x).reshape(len(x), -1) for x, _ in sets.values()])
    unique, where = np.unique(faces, axis=0, return_inverse=True)
    shape = next(iter(sets.values()))[0].shape[1:]
    proba = predict_proba(model, unique.reshape(-1, *shape), batch_size=batch_size, tta=tta)[where.ravel()]
    metrics, probas, start = {}, {}, 0
    for name, (x, y) in sets.items():
        probas[name], start = proba[start : start + len(x)], start + len(x)
        metrics[name] = metrics_from_proba(y, probas[name])
    return metrics, probas


def summary_rows(metrics: dict) -> dict[str, dict]:
    """One row per set: n, accuracy, top-2 accuracy, loss, macro and weighted F1 (plain dicts)."""
    return {
        name: {
            "n": m["n"],
            "accuracy": m["accuracy"],
            "top2_accuracy": m["top2_accuracy"],
            "loss": m["loss"],
            "macro_f1": m["macro"]["f1"],
            "weighted_f1": m["weighted"]["f1"],
        }
        for name, m in metrics.items()
    }


def summary_table(metrics: dict, decimals: int | None = 4):
    """:func:`summary_rows` as a DataFrame, rounded to ``decimals`` digits (``None``: unrounded, for
    printing with a format of one's own without rounding twice)."""
    import pandas as pd

    table = pd.DataFrame(summary_rows(metrics)).T.astype({"n": int})
    return table if decimals is None else table.round(decimals)


def twin_split_table(metrics: dict):
    """PrivateTest on all faces (the literature's number), without the faces that have a twin in
    ``train/``, and on those twins alone: n, accuracy and macro-F1 side by side.

    ``metrics`` is :func:`evaluate_model`'s (or ``metrics.json``'s) dictionary with ``PrivateTest``
    and ``PrivateTest_no_twins`` (``config.PRIVATE_NO_TWINS``, a test set of ``protocol.Splits``). The
    twins' row comes from the difference of the two confusion matrices; it is empty without twins.
    """
    import pandas as pd

    missing = [k for k in (PRIVATE_TEST, PRIVATE_NO_TWINS) if k not in metrics]
    if missing:
        raise ValueError(f"twin_split_table needs metrics for {' and '.join(missing)}: evaluate splits.tests.")
    full, alone = metrics[PRIVATE_TEST], metrics[PRIVATE_NO_TWINS]
    twins_cm = np.asarray(full["confusion_matrix"]) - np.asarray(alone["confusion_matrix"])
    rows = {
        "all faces": (full["n"], full["accuracy"], full["macro"]["f1"]),
        "without train/ twins": (alone["n"], alone["accuracy"], alone["macro"]["f1"]),
    }
    n_twins = int(twins_cm.sum())
    if n_twins:
        from sklearn.metrics import f1_score

        t, p = np.nonzero(twins_cm)
        y_true, y_pred = np.repeat(t, twins_cm[t, p]), np.repeat(p, twins_cm[t, p])
        f1 = f1_score(y_true, y_pred, labels=list(range(NUM_CLASSES)), average="macro", zero_division=0)
        rows["train/ twins only"] = (n_twins, float(np.trace(twins_cm)) / n_twins, float(f1))
    else:
        rows["train/ twins only"] = (0, np.nan, np.nan)
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["n", "accuracy", "macro_f1"])
    table.index.name = PRIVATE_TEST
    return table.astype({"n": int}).round(4)


def per_class_table(m: dict):
    """Precision, recall, F1 and support per class, plus macro and weighted averages."""
    import pandas as pd

    df = pd.DataFrame(m["per_class"]).T
    for avg in ("macro", "weighted"):
        df.loc[f"{avg} avg"] = [m[avg]["precision"], m[avg]["recall"], m[avg]["f1"], m["n"]]
    df["support"] = df["support"].astype(int)
    return df.round(3)


def confused_pairs(cm, top: int = 10):
    """The most frequent (true, predicted) mistakes: count, share of the true class's images."""
    import pandas as pd

    cm = np.asarray(cm)
    rows = []
    for t in range(NUM_CLASSES):
        for p in range(NUM_CLASSES):
            if t != p and cm[t, p]:
                rows.append((CLASS_NAMES[t], CLASS_NAMES[p], int(cm[t, p]), cm[t, p] / max(cm[t].sum(), 1)))
    df = pd.DataFrame(rows, columns=["true", "predicted", "count", "share_of_true"])
    return df.sort_values("count", ascending=False).head(top).reset_index(drop=True).round(3)


def select_mistakes(y_true: np.ndarray, proba: np.ndarray, kind: str = "confident_wrong", n: int = 12) -> np.ndarray:
    """Indices of the ``n`` most confident wrong predictions (``confident_wrong``) or the
    least confident right ones (``unsure_right``)."""
    pred, conf = proba.argmax(1), proba.max(1)
    if kind == "confident_wrong":
        idx = np.flatnonzero(pred != y_true)
        return idx[np.argsort(-conf[idx])][:n]
    if kind == "unsure_right":
        idx = np.flatnonzero(pred == y_true)
        return idx[np.argsort(conf[idx])][:n]
    raise ValueError("kind must be 'confident_wrong' or 'unsure_right'")


# --------------------------------------------------------------------------- Grad-CAM
def last_conv_layer(model) -> str:
    """Name of the model's last 2-D convolution layer."""
    import keras

    for layer in reversed(model.layers):
        if isinstance(layer, keras.layers.Conv2D):
            return layer.name
    raise ValueError(f"Model {model.name} has no Conv2D layer for Grad-CAM.")


def gradcam_layer(model) -> str:
    """Name of the layer whose output Grad-CAM weighs: the last feature map after its activation.

    That is the last layer after the model's last ``Conv2D`` with a 4-D output at that
    convolution's resolution (in the course models ``blockN_convM_relu``, or the
    squeeze-excitation product ``blockN_se_scale``; the convolution itself when its activation
    is fused into it). Dropout and layers at another resolution (pooling, global averages) are passed over.
    """
    import keras

    conv = model.get_layer(last_conv_layer(model))
    size = tuple(conv.output.shape[1:3])
    name = conv.name
    for layer in model.layers[model.layers.index(conv) + 1 :]:
        shape = tuple(layer.output.shape)
        if len(shape) == 4 and shape[1:3] == size and not isinstance(layer, keras.layers.Dropout):
            name = layer.name
    return name


def _gradcam_model(model, layer_name: str):
    """A Keras model from ``model``'s input to (the layer ``layer_name``'s output, the input of the
    last layer), built on a fresh graph so it also works for models sharing their layers with an
    older model (``models.add_input_scaling``)."""
    import keras

    head, taps = model.layers[-1], {}

    def call(layer, *args, **kwargs):
        out = layer(*args, **kwargs)
        if layer.name == layer_name:
            taps["features"] = out
        if layer is head:
            taps["head_input"] = args[0]
        return out

    if isinstance(model, keras.Sequential):  # clone_model takes no call_function for these
        inputs = x = keras.Input(model.input_shape[1:])
        for layer in model.layers:
            x = call(layer, x)
    else:
        inputs = keras.models.clone_model(model, clone_function=lambda layer: layer, call_function=call).inputs
    return keras.Model(inputs, [taps["features"], taps["head_input"]])


def _class_scores(head, head_input):
    """The class scores before the softmax, in float32: the last layer's ``x @ kernel + bias`` when
    it is a softmax ``Dense``, its input when it is a softmax activation, else its output."""
    import keras
    import tensorflow as tf

    activation = getattr(head, "activation", None)
    is_softmax = getattr(activation, "__name__", "") == "softmax"
    if isinstance(head, keras.layers.Dense) and is_softmax:
        scores = tf.matmul(tf.cast(head_input, tf.float32), tf.cast(head.kernel, tf.float32))
        return scores + tf.cast(head.bias, tf.float32) if head.use_bias else scores
    if isinstance(head, keras.layers.Softmax) or (isinstance(head, keras.layers.Activation) and is_softmax):
        return tf.cast(head_input, tf.float32)
    return tf.cast(head(head_input), tf.float32)


def grad_cam(model, face: np.ndarray, class_index: int | None = None, layer_name: str | None = None) -> np.ndarray:
    """Grad-CAM heatmap (values in [0, 1], the face's spatial size) for one face.

    ``face``: uint8 ``(48, 48)`` or float32 ``(48, 48, 1)`` (pixels 0..255). ``class_index`` defaults to the
    predicted class. As in Selvaraju et al. (2017) and the Keras Grad-CAM example: the gradient of
    the class score before the softmax with respect to the last feature map after its activation
    (``gradcam_layer``: 6x6 in the course's VGG), averaged over the map, weighs its channels; the
    positive part of the weighted sum is upsampled (bilinear) to the input size. Computed in float32.
    """
    import tensorflow as tf

    x = to_model_input(face) if np.asarray(face).dtype == np.uint8 else np.asarray(face, np.float32)[None]
    if x.ndim == 3:
        x = x[..., None]
    grad_model = _gradcam_model(model, layer_name or gradcam_layer(model))
    with tf.GradientTape() as tape:
        features, head_input = grad_model(tf.convert_to_tensor(x), training=False)
        scores = _class_scores(model.layers[-1], head_input)
        if class_index is None:
            class_index = int(tf.argmax(scores[0]))
        score = scores[:, class_index]
    grads = tf.cast(tape.gradient(score, features), tf.float32)
    weights = tf.reduce_mean(grads, axis=(1, 2))  # one weight per channel
    cam = tf.nn.relu(tf.reduce_sum(tf.cast(features, tf.float32) * weights[:, None, None, :], axis=-1))[0]
    cam = tf.image.resize(cam[..., None], x.shape[1:3], method="bilinear")[..., 0].numpy()
    top = cam.max()
    return cam / top if top > 0 else cam


# --------------------------------------------------------------------------- saving
_NUMBER = {"type": "number"}
_SPLIT_METRICS = {
    "type": "object",
    "required": ["n", "accuracy", "loss", "top2_accuracy", "per_class", "confusion_matrix", "macro", "weighted"],
    "properties": {
        "n": {"type": "integer", "minimum": 0},
        "accuracy": _NUMBER,
        "loss": _NUMBER,
        "top2_accuracy": _NUMBER,
        "per_class": {"type": "object", "required": list(CLASS_NAMES)},
        "confusion_matrix": {
            "type": "array",
            "minItems": NUM_CLASSES,
            "maxItems": NUM_CLASSES,
            "items": {"type": "array", "minItems": NUM_CLASSES, "maxItems": NUM_CLASSES},
        },
        "macro": {"type": "object", "required": ["precision", "recall", "f1"]},
        "weighted": {"type": "object", "required": ["precision", "recall", "f1"]},
    },
}
#: The one definition of ``metrics.json``: notebook 06 writes it with ``save_metrics(..., validate=True)``, the
#: instructor report reads it with :func:`load_metrics`, the tests build payloads against it.
METRICS_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["headline", "metrics", "model", "data", "profile", "hardware", "created"],
    "properties": {
        "headline": {
            "type": "object",
            "required": ["PrivateTest_accuracy", "PrivateTest_macro_f1"],
            "additionalProperties": _NUMBER,
        },
        "metrics": {"type": "object", "required": ["PrivateTest"], "additionalProperties": _SPLIT_METRICS},
        "metrics_tta": {"type": "object", "additionalProperties": _SPLIT_METRICS},
        "model": {
            "type": "object",
            "required": ["path", "name", "params"],
            "properties": {"params": {"type": "integer"}, "summary": {"type": "string"}},
        },
        "training": {"type": "object"},
        "data": {
            "type": "object",
            "required": ["source", "synthetic"],
            "properties": {"synthetic": {"type": "boolean"}, "split_sizes": {"type": "object"}},
        },
        "confused_pairs": {"type": "array", "items": {"type": "object"}},
        "profile": {"type": "object", "required": ["name"]},
        "hardware": {"type": "string"},
        "wall_times_seconds": {"type": "object", "additionalProperties": {"type": ["number", "null"]}},
        "versions": {"type": "object"},
        "created": {"type": "string"},
    },
}


class MetricsFileError(ValueError):
    """``metrics.json`` is missing a field or has one of the wrong type; the message says which."""


def validate_metrics(payload: dict, where: str = "metrics") -> None:
    """Check ``payload`` against :data:`METRICS_SCHEMA`; raise :class:`MetricsFileError` naming the
    first bad field (e.g. ``metrics.json: metrics/PrivateTest: 'accuracy' is a required property``)."""
    import jsonschema

    errors = sorted(jsonschema.Draft202012Validator(METRICS_SCHEMA).iter_errors(payload), key=lambda e: list(e.path))
    if errors:
        err = errors[0]
        at = "/".join(str(p) for p in err.absolute_path) or "top level"
        raise MetricsFileError(f"{where}: {at}: {err.message}")


def load_metrics(path: str | os.PathLike) -> dict:
    """Read and validate a ``metrics.json``; errors name the file and say to re-run notebook 06."""
    path = Path(path)
    try:
        payload = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise MetricsFileError(f"{path} is not valid JSON ({err}); re-run notebook 06 to rewrite it.") from None
    try:
        validate_metrics(payload, str(path))
    except MetricsFileError as err:
        raise MetricsFileError(f"{err}; re-run notebook 06 to rewrite it.") from None
    return payload


def save_metrics(payload: dict, path: str | os.PathLike, validate: bool = False) -> Path:
    """Write a metrics dictionary as indented JSON (NumPy types converted).

    ``validate=True`` (notebook 06's ``metrics.json``) first checks it against :data:`METRICS_SCHEMA`
    and writes nothing when it does not match; other metrics files (03's) have no schema.
    """

    def default(o):
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        raise TypeError(f"not JSON serializable: {type(o)}")

    text = json.dumps(payload, indent=2, default=default)
    if validate:
        validate_metrics(json.loads(text), str(path))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
