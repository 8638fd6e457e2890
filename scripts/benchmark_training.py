"""Speed is time-to-accuracy: minutes of training each setup needs to reach the plain Keras
baseline's best validation accuracy.

    python scripts/benchmark_training.py                        # what `make benchmark` runs (~90 min)
    python scripts/benchmark_training.py --max-minutes 20       # cap the course leg
    FER2013_DIR=... python scripts/benchmark_training.py --profile smoke --train-limit 700 \\
        --epochs 2 --baseline-minutes 1 --max-minutes 1        # a check of the script (minutes)

Both legs train the recipe's BN-VGG (``fer_utils.training.recipe(profile)``, ``build_vgg_bn``) in
one process, one after the other, on the same split: the course protocol
(``fer_utils.protocol.make_splits``: train on the training part of ``train/``, validate on its
stratified validation part).

1. baseline: the plain Keras default, ``Adam(1e-3)``, categorical cross-entropy, no augmentation,
   no schedule, no label smoothing, no weight averaging, trained until its validation accuracy has
   peaked: ``EarlyStopping(monitor="val_accuracy", patience=3, restore_best_weights=True)``, capped at
   ``--baseline-minutes`` of training. Its best validation accuracy is the target.
2. course: notebook 03's recipe (augmentation, warm-up + cosine schedule, label smoothing, an EMA
   of the weights with momentum ``cfg.ema``) for its whole schedule (``--epochs``), capped at
   ``--max-minutes``. At the end of every epoch a copy of the network gets the averaged weights,
   its batch-norm statistics are re-estimated (``training.reestimate_batchnorm``, 20 batches of
   256 clean training faces) and it is evaluated on validation: the model notebook 03 ends with.
   The copy leaves training undisturbed; **its time counts in the course leg's clock**.

Each leg's clock starts when ``fit`` starts and counts everything inside it (training, the
per-epoch validation, for the course leg also the copy's re-estimation and evaluation). Printed:
the minutes each leg needs to reach the baseline's best validation accuracy (the course leg: the
first epoch whose averaged + re-estimated validation accuracy reaches it, else "not reached"),
their ratio, both legs' best validation accuracy, each leg's PrivateTest accuracy at its best
validation epoch (reported, never used for a choice), then the inference speed of the shipped
model. Per-epoch times and accuracies go to ``outputs/benchmarks/training.json``. A ratio measured
in one process on one machine is what to compare; absolute minutes depend on how busy it is.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

BASELINE_PATIENCE = 3
BASELINE_MAX_EPOCHS = 200  # EarlyStopping or the clock ends the baseline long before
REESTIMATE_BATCHES, REESTIMATE_BATCH_SIZE = 20, 256


def minutes_to_reach(curve: list[tuple[float, float]], target: float) -> float | None:
    """Minutes of the first ``(minutes, accuracy)`` point of ``curve`` whose accuracy is at least
    ``target``; None if none is."""
    return next((minutes for minutes, acc in curve if acc >= target), None)


def time_to_baseline_best(baseline: list[tuple[float, float]], course: list[tuple[float, float]]) -> dict:
    """The target (the baseline's best accuracy), the minutes each curve needs to reach it and
    ``course_sooner_by`` (baseline minutes / course minutes; None when the course never reaches it)."""
    target = max(acc for _, acc in baseline)
    base_min, course_min = minutes_to_reach(baseline, target), minutes_to_reach(course, target)
    ratio = None if course_min is None else base_min / max(course_min, 1e-9)
    return {"target": target, "baseline_minutes": base_min, "course_minutes": course_min, "course_sooner_by": ratio}


def _clock(cap_minutes: float, averaged=None):
    """A Keras callback timing each epoch's end from the start of ``fit`` and stopping training
    after ``cap_minutes``. With ``averaged`` (validation data, clean training faces), it also
    evaluates the averaged weights with re-estimated batch-norm statistics on a copy of the model
    each epoch, inside the clock, and keeps the best such weights."""
    import keras

    from fer_utils import training

    class Clock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epochs: list[dict] = []
            self.capped = False
            self.best_weights = None

        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()
            if averaged is not None:
                self.copy = keras.models.clone_model(self.model)
                self.copy.compile(loss="categorical_crossentropy", metrics=["accuracy"])

        def on_epoch_end(self, epoch, logs=None):
            row = {"epoch": epoch + 1, "val_accuracy": round(float(logs["val_accuracy"]), 4)}
            if averaged is not None:  # runs after WeightAverage: the model holds the averaged weights
                val_ds, x_clean = averaged
                t0 = time.perf_counter()
                self.copy.set_weights(self.model.get_weights())
                training.reestimate_batchnorm(self.copy, x_clean, REESTIMATE_BATCHES, REESTIMATE_BATCH_SIZE, seed=epoch)
                acc = float(self.copy.evaluate(val_ds, verbose=0, return_dict=True)["accuracy"])
                if not self.epochs or acc > max(r["val_accuracy_reestimated"] for r in self.epochs):
                    self.best_weights = self.copy.get_weights()
                row["val_accuracy_reestimated"] = round(acc, 4)
                row["evaluation_seconds"] = round(time.perf_counter() - t0, 1)
            row["minutes"] = round((time.perf_counter() - self.start) / 60, 3)
            self.epochs.append(row)
            print(f"    {json.dumps(row)}", flush=True)
            if row["minutes"] >= cap_minutes:
                self.capped = self.model.stop_training = True

    return Clock()


def _inference_speed(fer) -> dict:
    """Images/second at batch 256 and batch-1 latency of the shipped model."""
    from fer_utils import config
    from fer_utils.images import to_model_input
    from fer_utils.prediction import FaceClassifier, load_model

    model = load_model(config.SHIPPED_MODEL)
    faces = fer.x_test[:4096]
    x = to_model_input(faces)
    model.predict(x[:512], batch_size=256, verbose=0)
    t0 = time.perf_counter()
    model.predict(x, batch_size=256, verbose=0)
    batch_ips = len(x) / (time.perf_counter() - t0)
    clf = FaceClassifier(model)
    clf(faces[:1])
    lat = []
    for i in range(300):
        t0 = time.perf_counter()
        clf(faces[i : i + 1])
        lat.append(time.perf_counter() - t0)
    latency_ms = 1000 * statistics.median(lat)
    print(
        f"\nInference, shipped model ({model.count_params():,} parameters): {batch_ips:.0f} images/s at "
        f"batch 256; batch-1 latency {latency_ms:.2f} ms per face (median of 300, tf.function)."
    )
    return {"images_per_second_batch256": round(batch_ips, 1), "latency_ms_batch1": round(latency_ms, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="laptop", help="whose recipe to time (default laptop)")
    ap.add_argument("--epochs", type=int, default=None, help="the course leg's schedule (default: the profile's)")
    ap.add_argument("--max-minutes", type=float, default=45.0, help="training minutes allowed to the course leg")
    ap.add_argument("--baseline-minutes", type=float, default=45.0, help="training minutes allowed to the baseline")
    ap.add_argument("--train-limit", type=int, default=None, help="train on this many faces (stratified)")
    ap.add_argument("--out", default="outputs/benchmarks/training.json")
    args = ap.parse_args()

    import keras
    import numpy as np
    import tensorflow as tf

    from fer_utils import config, data, evaluation, models, pipeline, protocol, runtime, training

    profile = config.get_profile(args.profile)
    model_kwargs, course_cfg = training.recipe(profile)
    if args.epochs:
        course_cfg.epochs = args.epochs
    course_cfg.patience = course_cfg.epochs  # the course leg runs its whole schedule
    baseline_cfg = training.TrainConfig(
        epochs=BASELINE_MAX_EPOCHS,
        batch_size=course_cfg.batch_size,
        learning_rate=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        schedule="constant",
        label_smoothing=0.0,
        augment=False,
        ema=0.0,
        patience=BASELINE_PATIENCE,
    )
    precision = runtime.setup_precision("auto")
    fer = data.load_fer2013()
    splits = protocol.make_splits(
        fer, validation="split", train_limit=args.train_limit or profile.train_limit, eval_limit=profile.eval_limit
    )
    val_ds = pipeline.make_dataset(splits.x_val, splits.y_val, batch_size=256)
    x_priv, y_priv = splits.tests["PrivateTest"]
    print(f"{len(splits.y_train):,} training faces, {len(splits.y_val):,} validation faces; {model_kwargs}")

    out = {
        "hardware": runtime.hardware_description(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "precision": precision,
        "profile": profile.name,
        "model": model_kwargs,
        "training_faces": len(splits.y_train),
        "validation_faces": len(splits.y_val),
        "legs": {},
        "partial": True,
    }
    legs = out["legs"]

    def save() -> None:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(out, indent=2) + "\n")

    for name, cfg, cap in (
        ("baseline", baseline_cfg, args.baseline_minutes),
        ("course", course_cfg, args.max_minutes),
    ):
        is_course = cfg is course_cfg
        print(f"\n{name}: {cfg.as_dict()}, up to {cap:g} min", flush=True)
        clock = _clock(cap, averaged=(val_ds, splits.x_train) if is_course else None)
        model, _, seconds = training.train_model(
            lambda: models.build_vgg_bn(**model_kwargs),
            splits.x_train,
            splits.y_train,
            splits.x_val,
            splits.y_val,
            cfg,
            verbose=0,
            extra_callbacks=[clock],
        )
        key = "val_accuracy_reestimated" if is_course else "val_accuracy"
        if is_course:  # the best epoch's averaged weights with re-estimated batch-norm statistics
            model = clock.copy
            model.set_weights(clock.best_weights)
        # the baseline's EarlyStopping restored its best epoch
        private = float((evaluation.predict_proba(model, x_priv).argmax(1) == y_priv).mean())
        legs[name] = {
            "config": cfg.as_dict(),
            "best_validation_accuracy": max(r[key] for r in clock.epochs),
            "epochs_run": len(clock.epochs),
            "stopped_by": "schedule end"
            if len(clock.epochs) == cfg.epochs
            else ("time cap" if clock.capped else "early stopping"),
            "train_minutes": round(seconds / 60, 2),
            "privatetest_accuracy_best_epoch": round(private, 4),
            "epochs": clock.epochs,
        }
        if is_course:
            legs[name]["evaluation_minutes"] = round(sum(r["evaluation_seconds"] for r in clock.epochs) / 60, 2)
        save()
        keras.backend.clear_session()

    curves = {
        name: [(r["minutes"], r[key]) for r in legs[name]["epochs"]]
        for name, key in (("baseline", "val_accuracy"), ("course", "val_accuracy_reestimated"))
    }
    result = time_to_baseline_best(curves["baseline"], curves["course"])
    out["time_to_baseline_best"] = result
    base, course = legs["baseline"], legs["course"]
    print(f"\nTime to the baseline's best validation accuracy ({result['target']:.4f}), {out['hardware']}:")
    print(f"  baseline: {result['baseline_minutes']:.1f} min ({base['stopped_by']} after {base['epochs_run']} epochs)")
    if result["course_minutes"] is None:
        print(f"  course:   not reached in {course['epochs_run']} epochs, {course['train_minutes']:.1f} min")
    else:
        ratio = result["course_sooner_by"]
        slower = "" if ratio >= 1 else f", i.e. {1 / ratio:.2f} x slower"
        print(f"  course:   {result['course_minutes']:.1f} min, course is {ratio:.2f} x sooner{slower}")
        print(
            f"            (its clock includes {course['evaluation_minutes']:.1f} min of per-epoch averaged-weight"
            " evaluation)"
        )
    for name, leg in legs.items():
        print(
            f"  {name}: best validation {leg['best_validation_accuracy']:.4f} in {leg['epochs_run']} epochs, "
            f"{leg['train_minutes']:.1f} min; PrivateTest {leg['privatetest_accuracy_best_epoch']:.4f} (for the record)"
        )

    out["inference_shipped_model"] = _inference_speed(fer)
    out["created"] = time.strftime("%Y-%m-%d %H:%M")
    out["partial"] = False
    save()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
