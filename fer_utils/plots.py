"""Figures of the course (matplotlib and seaborn). Each function returns its figure and,
given ``save``, writes it as a PNG too."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt  # headless: matplotlib falls back to Agg by itself
import numpy as np

from .config import CLASS_NAMES


def _finish(fig, save: str | os.PathLike | None):
    if fig.get_layout_engine() is None:
        fig.tight_layout()
    if save is not None:
        Path(save).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(save, dpi=110, bbox_inches="tight")
    return fig


def class_distribution(counts, save=None, title: str = "Images per emotion"):
    """Grouped bars of a ``class_counts`` table (train / PublicTest / PrivateTest)."""
    table = counts.drop(index="total", errors="ignore")[
        [c for c in ("train", "PublicTest", "PrivateTest") if c in counts]
    ]
    fig, ax = plt.subplots(figsize=(9, 4))
    table.plot.bar(ax=ax, width=0.8)
    ax.set(title=title, xlabel="", ylabel="images")
    for container in ax.containers[:1]:
        ax.bar_label(container, fontsize=8)
    ax.tick_params(axis="x", rotation=0)
    return _finish(fig, save)


def sample_grid(
    x: np.ndarray, y: np.ndarray, per_class: int = 8, seed: int = 0, save=None, title: str = "Sample faces per emotion"
):
    """A grid with one row of random faces per emotion."""
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(len(CLASS_NAMES), per_class, figsize=(per_class * 1.1, len(CLASS_NAMES) * 1.2))
    for r, name in enumerate(CLASS_NAMES):
        idx = np.flatnonzero(y == r)
        pick = rng.choice(idx, min(per_class, len(idx)), replace=False) if len(idx) else []
        for c in range(per_class):
            ax = axes[r, c]
            ax.axis("off")
            if c < len(pick):
                ax.imshow(x[pick[c]], cmap="gray", vmin=0, vmax=255)
        axes[r, 0].set_title(name, loc="left", fontsize=9)
    fig.suptitle(title)
    return _finish(fig, save)


def pixel_histogram(x_by_class: dict[str, np.ndarray], save=None):
    """Pixel-intensity histograms per emotion."""
    fig, ax = plt.subplots(figsize=(8, 4))
    for name, xs in x_by_class.items():
        ax.hist(xs.ravel(), bins=64, range=(0, 255), histtype="step", density=True, label=name)
    ax.set(title="Pixel intensity per emotion", xlabel="intensity (0-255)", ylabel="density")
    ax.legend(ncol=4, fontsize=8)
    return _finish(fig, save)


def augmentation_examples(faces: np.ndarray, augment, n_aug: int = 5, save=None):
    """Each face (uint8 ``(k, 48, 48)``) followed by ``n_aug`` augmented versions."""
    from .config import PIXEL_MAX
    from .images import to_model_input

    x = to_model_input(faces)
    fig, axes = plt.subplots(len(x), n_aug + 1, figsize=((n_aug + 1) * 1.3, len(x) * 1.4))
    axes = np.atleast_2d(axes)
    for r in range(len(x)):
        axes[r, 0].imshow(x[r, ..., 0], cmap="gray", vmin=0, vmax=PIXEL_MAX)
        for c in range(1, n_aug + 1):
            aug = np.asarray(augment(x[r : r + 1], training=True))[0, ..., 0]
            axes[r, c].imshow(aug, cmap="gray", vmin=0, vmax=PIXEL_MAX)
        for ax in axes[r]:
            ax.axis("off")
    axes[0, 0].set_title("original", fontsize=9)
    for c in range(1, n_aug + 1):
        axes[0, c].set_title(f"augmented {c}", fontsize=9)
    return _finish(fig, save)


def training_curves(history: dict, save=None, title: str = "Learning curves"):
    """Loss and accuracy per epoch for training and validation."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    epochs = np.arange(1, len(history["loss"]) + 1)
    for ax, key in zip(axes, ("loss", "accuracy")):
        ax.plot(epochs, history[key], "o-", ms=3, label="training")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], "o-", ms=3, label="validation")
        ax.set(xlabel="epoch", ylabel=key, title=key)
        ax.grid(alpha=0.3)
        ax.legend()
    if "val_accuracy" in history:
        best = int(np.argmax(history["val_accuracy"]))
        axes[1].axvline(best + 1, color="grey", ls="--", lw=1)
        axes[1].annotate(
            f"best val {history['val_accuracy'][best]:.3f}",
            (best + 1, history["val_accuracy"][best]),
            textcoords="offset points",
            xytext=(-60, -25),
            fontsize=8,
        )
    fig.suptitle(title)
    return _finish(fig, save)


def confusion_heatmap(cm, normalize: bool = False, save=None, title: str | None = None):
    """Confusion matrix heatmap (counts, or rows normalized to sum to 1), with a colour bar."""
    import seaborn as sns

    cm = np.asarray(cm, dtype=float)
    if normalize:
        with np.errstate(invalid="ignore", divide="ignore"):
            cm = np.nan_to_num(cm / cm.sum(axis=1, keepdims=True))
    fig, ax = plt.subplots(figsize=(7, 6))
    sns.heatmap(
        cm,
        annot=True,
        fmt=".2f" if normalize else ".0f",
        cmap="Blues",
        square=True,
        xticklabels=CLASS_NAMES,
        yticklabels=CLASS_NAMES,
        ax=ax,
        cbar_kws={"label": "share of true class" if normalize else "images"},
    )
    ax.set(
        xlabel="predicted",
        ylabel="true",
        title=title or ("Confusion matrix (row-normalized)" if normalize else "Confusion matrix (counts)"),
    )
    return _finish(fig, save)


def per_class_bars(metrics: dict, save=None, title: str = "Per-class precision, recall and F1"):
    """Grouped bars of precision, recall and F1 for each emotion."""
    import pandas as pd

    df = pd.DataFrame(metrics["per_class"]).T[["precision", "recall", "f1"]]
    fig, ax = plt.subplots(figsize=(9, 4))
    df.plot.bar(ax=ax, width=0.8)
    ax.set(title=title, ylim=(0, 1), ylabel="score")
    ax.tick_params(axis="x", rotation=0)
    ax.grid(axis="y", alpha=0.3)
    return _finish(fig, save)


def face_gallery(
    x: np.ndarray, y_true: np.ndarray, proba: np.ndarray, idx, save=None, cols: int = 6, title: str = "Faces"
):
    """Faces with true label, predicted label and its probability."""
    idx = list(idx)
    rows = max(1, int(np.ceil(len(idx) / cols)))
    # constrained layout leaves room for each row's two-line titles (they overlapped the row above)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.8, rows * 2.4), layout="constrained")
    axes = np.atleast_1d(axes).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, i in zip(axes, idx):
        p = int(proba[i].argmax())
        ax.imshow(x[i], cmap="gray", vmin=0, vmax=255)
        colour = "green" if p == y_true[i] else "red"
        ax.set_title(
            f"true {CLASS_NAMES[y_true[i]]}\npred {CLASS_NAMES[p]} {proba[i, p]:.2f}", fontsize=8, color=colour
        )
    fig.suptitle(title)
    return _finish(fig, save)


def probability_bars(proba: np.ndarray, ax=None, title: str | None = None):
    """Horizontal bars of one face's seven class probabilities."""
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(4, 3))
    colours = ["tab:orange" if i == int(np.argmax(proba)) else "tab:blue" for i in range(len(CLASS_NAMES))]
    ax.barh(CLASS_NAMES, proba, color=colours)
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    if title:
        ax.set_title(title, fontsize=9)
    return ax.figure


def gradcam_grid(
    faces: np.ndarray,
    heatmaps: list[np.ndarray],
    captions: list[str],
    save=None,
    title: str = "Grad-CAM: where the model looked",
):
    """Each face beside the same face with its Grad-CAM heatmap overlaid."""
    n = len(faces)
    fig, axes = plt.subplots(2, n, figsize=(n * 1.8, 4.2))
    axes = np.asarray(axes).reshape(2, n)
    for i in range(n):
        axes[0, i].imshow(faces[i], cmap="gray", vmin=0, vmax=255)
        axes[0, i].set_title(captions[i], fontsize=8)
        axes[1, i].imshow(faces[i], cmap="gray", vmin=0, vmax=255)
        im = axes[1, i].imshow(heatmaps[i], cmap="jet", alpha=0.45, vmin=0, vmax=1)
        for ax in axes[:, i]:
            ax.axis("off")
    fig.colorbar(im, ax=axes[1, :].tolist(), fraction=0.02, label="importance")
    fig.suptitle(title)
    if save is not None:
        Path(save).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(save, dpi=110, bbox_inches="tight")
    return fig


def comparison_bars(
    df,
    metric: str = "val_accuracy",
    label: str = "experiment",
    save=None,
    title: str = "Experiments (validation accuracy)",
    baseline: float | None = None,
    floor: float | None = None,
    selected: str | None = None,
):
    """Horizontal bars of one metric per row. Rows whose ``learned`` column is False are drawn
    grey and hatched ("failed"); ``baseline`` (majority class) and ``floor`` (the guard) are drawn
    as vertical lines; ``selected`` (a label) is highlighted."""
    df = df.sort_values(metric)
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(df) + 1.4))
    learned = df["learned"] if "learned" in df else [True] * len(df)
    for i, (name, v, ok) in enumerate(zip(df[label].astype(str), df[metric], learned)):
        colour = "tab:orange" if name == selected else ("tab:blue" if ok else "lightgrey")
        ax.barh(i, v, color=colour, hatch=None if ok else "//", edgecolor="grey" if not ok else None)
        ax.text(v, i, f" {v:.3f}" + ("" if ok else " failed"), va="center", fontsize=8)
    ax.set_yticks(range(len(df)), df[label].astype(str))
    if baseline is not None:
        ax.axvline(baseline, color="black", ls=":", lw=1, label=f"majority class {baseline:.3f}")
    if floor is not None:
        ax.axvline(floor, color="tab:red", ls="--", lw=1, label=f"learned above {floor:.3f}")
    if baseline is not None or floor is not None:
        ax.legend(loc="lower right", fontsize=8)
    ax.set(xlabel=metric, title=title)
    ax.set_xlim(0, min(1.0, df[metric].max() * 1.18 + 0.02))
    return _finish(fig, save)


def twin_distances(
    distances: dict[str, np.ndarray], threshold: float, exact_below: float | None = None, save=None, top: float = 60.0
):
    """Histograms (log-scale counts) of each face's distance to its nearest ``train/`` face, one per
    set, with the twin threshold as a vertical line (``fer_utils.twins``); beyond ``exact_below``
    (shaded) the distances are upper bounds."""
    fig, ax = plt.subplots(figsize=(9, 4))
    if exact_below is not None:
        ax.axvspan(exact_below, top + 0.5, color="grey", alpha=0.12, label=f"beyond {exact_below:g}: upper bounds")
    bins = np.arange(0, top + 0.5, 0.5)
    for name, d in distances.items():
        ax.hist(np.clip(np.asarray(d, float), 0, top), bins=bins, histtype="step", lw=1.5, label=f"{name} ({len(d):,})")
    ax.axvline(threshold, color="tab:red", ls="--", lw=1.2, label=f"twin threshold {threshold:g}")
    ax.set_yscale("log")
    ax.set(
        xlabel=f"distance to the nearest train/ face (grey levels; {top:g} = {top:g} or more)",
        ylabel="faces (log scale)",
        title="How far each face is from its nearest train/ face",
    )
    ax.legend(fontsize=8)
    return _finish(fig, save)


def face_pairs(pairs: list[tuple[np.ndarray, np.ndarray, str]], save=None, title: str = "Pairs"):
    """Pairs of faces side by side, one pair per column, each with its caption above."""
    fig, axes = plt.subplots(2, max(1, len(pairs)), figsize=(2.1 * max(1, len(pairs)), 4.6), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for c, (a, b, caption) in enumerate(pairs):
        axes[0, c].imshow(a, cmap="gray", vmin=0, vmax=255)
        axes[1, c].imshow(b, cmap="gray", vmin=0, vmax=255)
        axes[0, c].set_title(caption, fontsize=8)
    fig.suptitle(title)
    return _finish(fig, save)
