"""Per-class logit offsets chosen on validation ("logit adjustment") for a fairer macro-F1.

A classifier trained on FER-2013 under-predicts its rare classes (disgust is 1.5% of the
faces): the arg-max of its softmax favours the frequent ones. Adding a small offset to each
class's logit before the arg-max moves the decision boundaries without retraining. The
offsets are chosen on the **validation** set only (never on PrivateTest), by coordinate
ascent on macro-F1, with a floor on accuracy so that the rare classes do not buy their
recall with the frequent ones' accuracy. ``apply_offsets`` folds them into the bias of the
model's final softmax layer, so the saved model needs no extra layer or code.
"""

from __future__ import annotations

import numpy as np

from .config import NUM_CLASSES


def _scores(y: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    from sklearn.metrics import f1_score

    return (
        float(f1_score(y, pred, labels=list(range(NUM_CLASSES)), average="macro", zero_division=0)),
        float((pred == y).mean()),
    )


def fit_offsets(
    proba: np.ndarray, y: np.ndarray, max_accuracy_drop: float = 0.005, grid: np.ndarray | None = None, sweeps: int = 3
) -> np.ndarray:
    """Offsets ``(7,)`` added to the log-probabilities that maximise validation macro-F1 while
    validation accuracy stays within ``max_accuracy_drop`` of the uncalibrated model's."""
    logp = np.log(np.clip(np.asarray(proba, np.float64), 1e-12, 1.0))
    y = np.asarray(y)
    grid = np.round(np.arange(-1.5, 1.51, 0.1), 2) if grid is None else grid
    offsets = np.zeros(NUM_CLASSES)
    best_f1, base_acc = _scores(y, logp.argmax(1))
    floor = base_acc - max_accuracy_drop
    for _ in range(sweeps):
        changed = False
        for c in range(NUM_CLASSES):
            for value in grid:
                trial = offsets.copy()
                trial[c] = value
                f1, acc = _scores(y, (logp + trial).argmax(1))
                if acc >= floor and f1 > best_f1 + 1e-9:
                    best_f1, offsets, changed = f1, trial, True
        if not changed:
            break
    return offsets


def apply_offsets(model, offsets: np.ndarray) -> None:
    """Add ``offsets`` to the bias of the model's last layer (a Dense layer with softmax)."""
    last = model.layers[-1]
    kernel, bias = last.get_weights()
    last.set_weights([kernel, bias + np.asarray(offsets, dtype=bias.dtype)])
