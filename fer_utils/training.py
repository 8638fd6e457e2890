"""Training: seeds, precision, compilation, callbacks and a resumable ``fit``.

The training recipe of the course lives in ``TrainConfig``; ``train_model`` runs it with
Keras callbacks (EarlyStopping restoring the best weights, ModelCheckpoint on the best
validation accuracy, BackupAndRestore so an interrupted run resumes, CSVLogger) and an
optional ``tf.distribute`` strategy (``MirroredStrategy`` for several GPUs).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import keras
import numpy as np

from .config import CLASS_NAMES, NUM_CLASSES
from .models import build_simple_cnn, build_vgg_bn
from .runtime import set_seed


@dataclass
class TrainConfig:
    """Everything that defines a training run (saved beside the model)."""

    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 1e-3
    optimizer: str = "adamw"  # "adamw", "adam" or "sgd" (momentum 0.9, Nesterov)
    weight_decay: float = 1e-4
    schedule: str = "cosine"  # "cosine" (with warm-up), "plateau" or "constant"
    warmup_epochs: int = 1
    label_smoothing: float = 0.1
    augment: bool = True
    rotation: float = 0.04  # fraction of a full turn (0.04 = +-14 degrees)
    zoom: float = 0.1
    translation: float = 0.1
    erasing: float = 0.0  # random erasing: up to this share of the faces get a grey patch (0 = off)
    ema: float = 0.0  # momentum of an exponential moving average of the weights (0 = off; e.g. 0.999)
    class_weight: str | None = None  # None, "balanced" or "sqrt"
    patience: int = 8
    seed: int = 42
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def class_weights(y: np.ndarray, mode: str | None) -> dict[int, float] | None:
    """Per-class loss weights: ``balanced`` (scikit-learn's ``n / (k * count)``), ``sqrt`` (its
    square root, a milder push towards rare classes) or None. Classes absent from ``y`` get 1."""
    if mode is None:
        return None
    if mode not in ("balanced", "sqrt"):
        raise ValueError(f"class_weight must be None, 'balanced' or 'sqrt', got {mode!r}")
    from sklearn.utils.class_weight import compute_class_weight

    present = np.unique(y)
    w = dict(zip(present.tolist(), compute_class_weight("balanced", classes=present, y=y)))
    return {i: float(np.sqrt(w[i]) if mode == "sqrt" else w[i]) if i in w else 1.0 for i in range(NUM_CLASSES)}


def make_optimizer(name: str, learning_rate, weight_decay: float = 1e-4, ema: float = 0.0):
    """``adamw`` (decoupled weight decay), ``adam`` or ``sgd`` (momentum 0.9, Nesterov).

    ``ema > 0`` makes the optimizer keep an exponential moving average of the weights with that
    momentum (Keras's ``use_ema``, used by ``scripts/ablate_recipe.py``); ``train_model`` averages
    with the cheaper ``WeightAverage`` callback instead.
    """
    averaging = {"use_ema": True, "ema_momentum": ema} if ema else {}
    if name == "adamw":
        return keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay, **averaging)
    if name == "adam":
        return keras.optimizers.Adam(learning_rate, **averaging)
    if name == "sgd":
        return keras.optimizers.SGD(
            learning_rate, momentum=0.9, nesterov=True, weight_decay=weight_decay or None, **averaging
        )
    raise ValueError(f"optimizer must be 'adamw', 'adam' or 'sgd', got {name!r}")


def compile_model(
    model,
    learning_rate=1e-3,
    optimizer: str = "adam",
    weight_decay: float = 1e-4,
    label_smoothing: float = 0.0,
    ema: float = 0.0,
):
    """Compile for one-hot labels: categorical cross-entropy, accuracy and top-2 accuracy."""

    model.compile(
        optimizer=make_optimizer(optimizer, learning_rate, weight_decay, ema),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=["accuracy", keras.metrics.TopKCategoricalAccuracy(k=2, name="top2_accuracy")],
    )
    return model


def learning_rate_for(cfg: TrainConfig, steps_per_epoch: int):
    """The learning rate (or schedule) that ``cfg.schedule`` asks for."""

    if cfg.schedule != "cosine":
        return cfg.learning_rate
    total = cfg.epochs * steps_per_epoch
    warmup = min(cfg.warmup_epochs * steps_per_epoch, total // 10)  # short runs: at most a tenth of the run
    decay = max(total - warmup, 1)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=cfg.learning_rate / 10 if warmup else cfg.learning_rate,
        decay_steps=decay,
        alpha=0.01,
        warmup_target=cfg.learning_rate if warmup else None,
        warmup_steps=warmup,
    )


class EpochTimer(keras.callbacks.Callback):
    """A Keras callback recording each epoch's wall time and training images/second in the logs."""

    def __init__(self, n_images: int):
        super().__init__()
        self.n_images = n_images
        self.times: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self._start
        self.times.append(elapsed)
        if logs is not None:
            logs["epoch_seconds"] = elapsed
            logs["images_per_second"] = self.n_images / elapsed


class WeightAverage(keras.callbacks.Callback):
    """Bias-corrected exponential moving average of the trainable weights, from epoch ``start`` on,
    updated every ``every`` updates with momentum ``momentum ** every`` (the horizon of ``momentum``
    per update). At each epoch's end the average is put into the model for validation and for the
    callbacks after this one (EarlyStopping, ModelCheckpoint), and the weights being trained are put
    back before the next epoch, as Keras's ``SwapEMAWeights`` does. Notebook 03 builds the same
    callback step by step; Keras's ``use_ema`` does this inside every update, about 2.3 times slower
    per update on a 2-core CPU. With ``state_file`` (``train_model`` puts it in the
    ``BackupAndRestore`` folder) the average is saved at every epoch's end and read back when a run
    resumes, so a resumed run averages as an uninterrupted one; without it, a resumed run starts
    the average again from zero."""

    def __init__(
        self, momentum: float = 0.999, every: int = 10, start: int = 1, state_file: str | os.PathLike | None = None
    ):
        super().__init__()
        self.decay, self.every, self.start = momentum**every, every, start
        self.state_file = Path(state_file) if state_file is not None else None
        self.average: list[np.ndarray] | None = None
        self.steps = 0
        self.trained: list[np.ndarray] | None = None
        self.last_trained: list[np.ndarray] | None = None

    def on_train_begin(self, logs=None):
        if self.state_file is not None and self.state_file.exists():  # a resumed run: the average so far
            with np.load(self.state_file) as npz:
                self.steps = int(npz["steps"])
                self.average = [npz[f"w{i}"] for i in range(len(npz.files) - 1)]

    def _save_state(self) -> None:
        if self.state_file is None or self.average is None:
            return
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp.npz")
        np.savez(tmp, steps=self.steps, **{f"w{i}": a for i, a in enumerate(self.average)})
        os.replace(tmp, self.state_file)

    def on_epoch_begin(self, epoch, logs=None):
        self.use_trained()
        if self.average is None and epoch >= self.start:
            self.average = [np.zeros(v.shape, "float32") for v in self.model.trainable_variables]

    def on_train_batch_end(self, batch, logs=None):
        if self.average is not None and batch % self.every == self.every - 1:
            self.steps += 1
            for a, v in zip(self.average, self.model.trainable_variables):
                a *= self.decay
                a += (1 - self.decay) * v.numpy()

    def use_average(self) -> None:
        """Put the (bias-corrected) average into the model, keeping the weights being trained."""
        if self.trained is None and self.steps > 0:
            self.trained = [v.numpy() for v in self.model.trainable_variables]
            correction = 1 - self.decay**self.steps
            for v, a in zip(self.model.trainable_variables, self.average):
                v.assign(a / correction)

    def use_trained(self) -> None:
        """Put the weights being trained back into the model."""
        if self.trained is not None:
            for v, t in zip(self.model.trainable_variables, self.trained):
                v.assign(t)
            self.trained = None

    def on_test_begin(self, logs=None):
        self.use_average()

    def on_test_end(self, logs=None):
        self.use_trained()

    def on_epoch_end(self, epoch, logs=None):
        self._save_state()
        self.use_average()

    def on_train_end(self, logs=None):
        self.use_trained()
        self.last_trained = self.model.get_weights()
        self.use_average()


def training_dataset(cfg: TrainConfig, x: np.ndarray, y: np.ndarray, seed: int | None = None, repeat: bool = False):
    """The shuffled training pipeline a recipe asks for: faces augmented (flip, rotation, zoom,
    translation) only when ``cfg.augment`` is on. ``train_model`` and notebook 04's
    experiments and tuner all train on it, so they cannot disagree about augmentation. Notebook 03
    writes the same pipeline out (``to_batches``) and asserts that both give the same batches."""
    from .pipeline import augmentation_layers, make_dataset

    seed = cfg.seed if seed is None else seed
    augment = None
    if cfg.augment:
        augment = augmentation_layers(
            cfg.rotation, cfg.zoom, cfg.translation, flip=True, erasing=cfg.erasing, seed=seed
        )
    ds = make_dataset(x, y, batch_size=cfg.batch_size, shuffle=True, augment=augment, seed=seed)
    return ds.repeat() if repeat else ds


def history_from_csv(path: str | os.PathLike) -> dict[str, list[float]]:
    """The history a ``CSVLogger`` file holds, shaped like ``fit().history``: one list per logged
    quantity, position ``e`` for epoch ``e``, across any number of ``BackupAndRestore`` resumes.

    The file is read as a log: a row for epoch ``e`` replaces whatever was logged for ``e`` and
    later epochs before it (an attempt that died before its backup, or an earlier run restarted
    from scratch). An epoch missing from the log is NaN.
    """
    import csv

    rows: dict[int, dict[str, str]] = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            epoch = int(row.pop("epoch"))
            rows = {e: r for e, r in rows.items() if e < epoch}
            rows[epoch] = row
    n = max(rows, default=-1) + 1
    keys = list(dict.fromkeys(k for r in rows.values() for k in r))
    return {k: [float(rows[e].get(k) or "nan") if e in rows else float("nan") for e in range(n)] for k in keys}


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """``EarlyStopping`` that keeps its state when ``BackupAndRestore`` resumes ``fit``.

    Keras resets EarlyStopping at the start of every ``fit``, so a resumed run forgets its best
    epoch and how long it has waited. When the first epoch of a ``fit`` is ``k > 0``, this one
    replays epochs ``0 .. k-1`` from ``log`` (the run's ``CSVLogger`` file) to recover the best
    value, the best epoch and the wait count, and takes the best weights from ``best_model`` (the
    file of a ``ModelCheckpoint`` with ``save_best_only`` on the same monitor). ``checkpoint``, that
    ``ModelCheckpoint``, gets the best value too, so the first epoch after a resume cannot
    overwrite a better saved model. Other arguments are EarlyStopping's.
    """

    def __init__(self, log: str | os.PathLike, best_model=None, checkpoint=None, **kwargs):
        super().__init__(**kwargs)
        self.log, self.best_model, self.checkpoint = Path(log), best_model, checkpoint
        self.resumed_at = None  # the first epoch of the last fit, once it is known

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.resumed_at = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.resumed_at is None:
            self._replay(epoch)

    def on_train_end(self, logs=None):
        if self.resumed_at is None:  # fit resumed after its last epoch: every logged epoch is past
            self._replay(None)
        super().on_train_end(logs)

    def _replay(self, first_epoch: int | None) -> None:
        """Feed the logged epochs before ``first_epoch`` (None: all of them) through EarlyStopping."""
        past = history_from_csv(self.log) if first_epoch != 0 and self.log.exists() else {}
        values = past.get(self.monitor, [])[:first_epoch]
        self.resumed_at = len(values) if first_epoch is None else first_epoch
        for epoch, value in enumerate(values):
            if not np.isnan(value):
                super().on_epoch_end(epoch, {self.monitor: value})
        if values and self.restore_best_weights and self.best is not None:
            if self.best_model is not None and Path(self.best_model).exists():
                self.best_weights = keras.models.load_model(self.best_model, compile=False).get_weights()
            else:
                print(f"{self.best_model}: missing, so the weights of epoch {self.best_epoch + 1} cannot be restored.")
        cp = self.checkpoint
        if cp is not None and past:
            if cp.monitor_op is None:
                cp._set_monitor_op()
            for value in past.get(cp.monitor, [])[:first_epoch]:
                if not np.isnan(value) and cp._is_improvement(value, cp.best):
                    cp.best = value


def train_model(
    build_fn: Callable,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    cfg: TrainConfig,
    out_dir: str | os.PathLike | None = None,
    strategy=None,
    verbose: int | str = "auto",
    extra_callbacks: list | None = None,
):
    """Build (inside ``strategy.scope()``), compile and fit a model on uint8 faces.

    Args:
        build_fn: returns an uncompiled Keras model, e.g. ``lambda: build_vgg_bn(32)``.
        cfg: the recipe. ``cfg.epochs`` is the maximum; EarlyStopping on validation
            accuracy restores the best weights.
        out_dir: if given, writes ``best.keras`` (best validation accuracy), ``history.csv``,
            ``history.json``, ``train_config.json`` and a ``backup/`` folder that lets an
            interrupted run resume where it stopped (with its history and EarlyStopping's
            state: ``ResumableEarlyStopping``).
        strategy: a ``tf.distribute.Strategy`` (default: TensorFlow's default strategy).
        extra_callbacks: more Keras callbacks, run after the recipe's own.

    Returns:
        ``(model, history_dict, seconds)``: with ``out_dir`` the history of every epoch, read from
        ``history.csv`` (``history_from_csv``), also across a resume; ``seconds`` is this call's.
    """
    import tensorflow as tf

    from .pipeline import make_dataset

    set_seed(cfg.seed)
    strategy = strategy or tf.distribute.get_strategy()
    train_ds = training_dataset(cfg, x_train, y_train)
    val_ds = make_dataset(x_val, y_val, batch_size=256)
    steps = int(np.ceil(len(x_train) / cfg.batch_size))

    with strategy.scope():
        model = build_fn()
        compile_model(
            model, learning_rate_for(cfg, steps), cfg.optimizer, cfg.weight_decay, cfg.label_smoothing
        )  # weight averaging (cfg.ema) is the WeightAverage callback below, not the optimizer's use_ema

    timer = EpochTimer(len(x_train))
    out = None
    if out_dir is not None:
        out = prepare_run_dir(out_dir, {**cfg.as_dict(), "model": model_signature(model)})
    stopping = dict(monitor="val_accuracy", mode="max", patience=cfg.patience, restore_best_weights=True)
    stopping["verbose"] = 1 if verbose else 0
    callbacks = [timer]
    if out:
        # The log is written before the backup: an epoch the backup counts as done is always in
        # the log, and what an attempt logged after its last backup is replaced when it reruns.
        # The resume backup saves the weights being trained, so it runs before any swap below.
        checkpoint = keras.callbacks.ModelCheckpoint(
            out / "best.keras", monitor="val_accuracy", mode="max", save_best_only=True
        )
        callbacks += [
            keras.callbacks.CSVLogger(str(out / "history.csv"), append=True),
            keras.callbacks.BackupAndRestore(str(out / "backup")),
        ]
        # EarlyStopping and ModelCheckpoint pick up the best epoch and the wait from the log on a resume
        early_stopping = ResumableEarlyStopping(out / "history.csv", out / "best.keras", checkpoint, **stopping)
    else:
        early_stopping = keras.callbacks.EarlyStopping(**stopping)
    if cfg.ema:
        # Weight averaging from the end of the warm-up: the average is swapped into the model for
        # validation and for every callback after this one (EarlyStopping and ModelCheckpoint keep
        # what was validated), and swapped back before the next epoch trains.
        state = out / "backup" / "weight_average.npz" if out else None  # removed with the backup at the end
        callbacks.append(WeightAverage(cfg.ema, every=min(10, steps), start=cfg.warmup_epochs, state_file=state))
    callbacks.append(early_stopping)
    if cfg.schedule == "plateau":
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=max(2, cfg.patience // 3))
        )
    if out:
        callbacks.append(checkpoint)
    callbacks += list(extra_callbacks or [])
    start = time.perf_counter()
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=cfg.epochs,
        callbacks=callbacks,
        class_weight=class_weights(y_train, cfg.class_weight),
        verbose=verbose,
        shuffle=False,
    )  # tf.data already shuffles every epoch
    seconds = time.perf_counter() - start
    if out:  # every epoch of the run, also those before a resume (fit's history holds only this call's)
        hist = history_from_csv(out / "history.csv")
        save_history(hist, out / "history.json", seconds=seconds, resumed_at_epoch=early_stopping.resumed_at)
    else:
        hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    return model, hist, seconds


def reestimate_batchnorm(
    model: keras.Model, x: np.ndarray, batches: int = 60, batch_size: int = 256, seed: int = 0
) -> keras.Model:
    """Recompute every BatchNormalization layer's moving mean and variance for the model's
    current weights, in place, from ``batches`` batches of uint8 faces ``x`` (no augmentation;
    fewer batches when ``x`` holds fewer faces, so that no face is used twice).

    Needed after weight averaging (``TrainConfig.ema``): Keras averages the trainable weights
    only, so the averaged network still carries the statistics of the weights being trained.
    Each statistic becomes the plain mean over the batches (momentum ``k / (k + 1)`` at batch
    ``k``, like PyTorch's ``update_bn``). Dropout is active during these forward passes, as in
    training; no weight changes.
    """
    from .images import to_model_input

    bns = [layer for layer in _all_layers(model) if isinstance(layer, keras.layers.BatchNormalization)]
    if not bns:
        return model
    momenta = [bn.momentum for bn in bns]
    batches = min(batches, -(-len(x) // batch_size))  # at most one pass: a repeated face adds nothing
    order = np.random.default_rng(seed).permutation(len(x))
    order = np.resize(order, batches * batch_size)  # the last batch wraps around to fill it
    try:
        for k in range(batches):
            for bn in bns:
                bn.momentum = k / (k + 1)
            model(to_model_input(x[order[k * batch_size : (k + 1) * batch_size]]), training=True)
    finally:
        for bn, m in zip(bns, momenta):
            bn.momentum = m
    return model


def _all_layers(layer) -> list:
    """The layer and every layer nested in it."""
    found = [layer]
    for sub in getattr(layer, "layers", []):
        found += _all_layers(sub)
    return found


def model_signature(model) -> str:
    """A short hash of the model's architecture (layer types, sizes, names)."""
    import hashlib

    return hashlib.sha1(json.dumps(model.get_config(), sort_keys=True, default=str).encode()).hexdigest()[:12]


def prepare_run_dir(out: str | os.PathLike, settings: dict) -> Path:
    """Keep ``out/backup`` (resume) only if it belongs to the same recipe and architecture;
    otherwise an interrupted *different* run would be resumed. Writes ``train_config.json``."""
    import shutil

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config_file = out / "train_config.json"
    previous = json.loads(config_file.read_text()) if config_file.exists() else None
    if previous != settings and ((out / "backup").exists() or (out / "history.csv").exists()):
        print(f"{out}: an earlier run with other settings left files here; starting afresh.")
        shutil.rmtree(out / "backup", ignore_errors=True)
        (out / "history.csv").unlink(missing_ok=True)
    config_file.write_text(json.dumps(settings, indent=2, default=str))
    return out


def save_history(history: dict, path: str | os.PathLike, **extra) -> Path:
    """Write a Keras history dict (plus any extra fields) as JSON."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"history": history, **extra}, indent=2))
    return path


def load_history(path: str | os.PathLike) -> dict:
    """Read a history written by ``save_history``; returns the whole JSON object."""
    return json.loads(Path(path).read_text())


def recipe(profile) -> tuple[dict, TrainConfig]:
    """The course's training recipe for a run profile: ``(build_vgg_bn kwargs, TrainConfig)``.

    A BN-VGG (width from the profile), AdamW with a warm-up + cosine schedule, label
    smoothing 0.1, flip/rotation/zoom/translation augmentation and an average of the weights
    (EMA 0.999) whose batch-norm statistics are re-estimated after training. Notebook 03 trains it.
    """
    model_kwargs = dict(
        width=profile.model_width, blocks=4, convs_per_block=2, dropout=0.4, block_dropout=0.1, dense_units=256
    )
    cfg = TrainConfig(
        epochs=profile.epochs,
        batch_size=profile.batch_size,
        learning_rate=1e-3,
        optimizer="adamw",
        weight_decay=1e-4,
        schedule="cosine",
        warmup_epochs=1,
        label_smoothing=0.1,
        augment=True,
        ema=0.999,
        patience=profile.patience,
    )
    return model_kwargs, cfg


def search_base(profile) -> tuple[dict, TrainConfig]:
    """The starting point of notebook 04's short experiments: the recipe's network at width 16 (the
    profile's width when narrower, as in ``smoke``), with no augmentation, no weight averaging and a
    learning rate of 3e-3.

    Measured on FER-2013 (2 CPU cores, 1,000 updates): the recipe itself (width 16) reached 0.378
    validation accuracy, without augmentation 0.480, and also with lr 3e-3 0.545. Regularisers such
    as augmentation pay off late in long runs, so a short search starts without them; the chosen
    configuration is retrained with augmentation on. At 400 updates (float32, seed 42) the search base
    reached 0.422, with lr 1e-3 0.373 and with augmentation 0.304, against a learning floor of 0.351.
    """
    model_kwargs, cfg = recipe(profile)
    model_kwargs = {**model_kwargs, "width": min(16, model_kwargs["width"])}
    return model_kwargs, replace(cfg, augment=False, learning_rate=3e-3, ema=0.0)


def find_trained_model(candidates=None):
    """The first model file that exists: notebook 04's best, notebook 03's, the shipped one.

    Returns the path, or None when none exists.
    """
    from . import config

    for path in candidates or (config.BEST_MODEL, config.BASELINE_MODEL, config.SHIPPED_MODEL):
        if Path(path).exists():
            return Path(path)
    return None


def quick_standin_model(x_train: np.ndarray, y_train: np.ndarray, epochs: int = 2, seed: int = 42):
    """A small model trained for a few epochs: the stand-in a ``smoke`` run uses when an
    earlier notebook's model is missing. Its accuracy means nothing."""
    from .pipeline import make_dataset

    set_seed(seed)
    model = compile_model(build_vgg_bn(width=8, blocks=3, dense_units=32), 3e-3)
    model.fit(
        make_dataset(x_train, y_train, batch_size=64, shuffle=True, seed=seed), epochs=epochs, verbose=0, shuffle=False
    )
    return model


@dataclass
class Experiment:
    """One configuration of notebook 04: an architecture, its keyword arguments and the
    ``TrainConfig`` fields that differ from the base recipe."""

    name: str
    change: str = ""
    architecture: str = "vgg_bn"  # "vgg_bn" or "simple_cnn" (fer_utils.models)
    model_kwargs: dict = field(default_factory=dict)
    train_overrides: dict = field(default_factory=dict)

    def build(self, **extra) -> keras.Model:
        builders = {"vgg_bn": build_vgg_bn, "simple_cnn": build_simple_cnn}
        return builders[self.architecture](**{**self.model_kwargs, **extra})

    def config(self, base: TrainConfig, **extra) -> TrainConfig:
        return replace(base, **{**self.train_overrides, **extra})


__all__ = [
    "Experiment",
    "EpochTimer",
    "WeightAverage",
    "ResumableEarlyStopping",
    "history_from_csv",
    "model_signature",
    "prepare_run_dir",
    "find_trained_model",
    "quick_standin_model",
    "recipe",
    "search_base",
    "CLASS_NAMES",
    "TrainConfig",
    "class_weights",
    "compile_model",
    "learning_rate_for",
    "load_history",
    "save_history",
    "train_model",
    "training_dataset",
]
