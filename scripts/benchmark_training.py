"""Speed is time-to-accuracy: minutes of training to reach 55%, 60% and 63% validation accuracy.

    python scripts/benchmark_training.py                      # what `make benchmark` runs
    python scripts/benchmark_training.py --max-minutes 20     # cap each leg

Two legs train the same network (the recipe BN-VGG of the ``laptop`` profile) on the same
cached arrays, in one process, one after the other, on the course protocol (train on 90% of
train/, validate on the stratified 10%):

- course: ``fer_utils.training.recipe(laptop)``, i.e. what notebook 03 trains by default;
- baseline: the plain Keras default, ``Adam(1e-3)``, categorical cross-entropy, no
  augmentation, no schedule, no label smoothing.

The baseline stops when it reaches the last threshold; both stop when their epochs are done or
after ``--max-minutes`` of training. The course leg runs its whole schedule, so its final model
and PrivateTest accuracy are what notebook 03 gets in the laptop profile. The clock counts
everything inside ``fit`` (training and the per-epoch validation).

Printed: minutes to each threshold for both legs and their ratio, each leg's PrivateTest
accuracy (reported, never used for a choice), then inference speed of the shipped model
(images/second at batch 256, batch-1 latency per face). Results go to
``outputs/benchmarks/training.json``. A ratio measured in one process on one machine is what
to compare; absolute minutes depend on how busy the machine is.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

THRESHOLDS = (0.55, 0.60, 0.63)


def time_to_accuracy_callback(thresholds, max_minutes: float, stop_at_last: bool):
    """A Keras callback noting the wall minutes at which ``val_accuracy`` first reaches each
    threshold; it stops training after ``max_minutes`` and, if ``stop_at_last``, at the last one."""
    import keras

    class TimeToAccuracy(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.reached: dict[float, float | None] = dict.fromkeys(thresholds)
            self.curve: list[tuple[float, float]] = []

        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            minutes = (time.perf_counter() - self.start) / 60
            acc = float(logs["val_accuracy"])
            self.curve.append((round(minutes, 2), round(acc, 4)))
            for t in thresholds:
                if self.reached[t] is None and acc >= t:
                    self.reached[t] = round(minutes, 2)
            print(f"    epoch {epoch + 1}: {minutes:6.1f} min, validation accuracy {acc:.4f}", flush=True)
            if (stop_at_last and self.reached[thresholds[-1]] is not None) or minutes >= max_minutes:
                self.model.stop_training = True

    return TimeToAccuracy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-minutes", type=float, default=45.0, help="training minutes allowed per leg")
    ap.add_argument("--profile", default="laptop", help="whose recipe to time (smoke: a quick check of the script)")
    ap.add_argument("--baseline-minutes", type=float, default=None, help="a smaller cap for the baseline leg")
    ap.add_argument("--out", default="outputs/benchmarks/training.json")
    args = ap.parse_args()

    import keras
    import numpy as np
    import tensorflow as tf

    from fer_utils import config, data, evaluation, models, protocol, runtime, training
    from fer_utils.images import to_model_input
    from fer_utils.prediction import FaceClassifier, load_model

    profile = config.get_profile(args.profile)
    model_kwargs, course_cfg = training.recipe(profile)
    baseline_cfg = training.TrainConfig(
        epochs=course_cfg.epochs,
        batch_size=course_cfg.batch_size,
        learning_rate=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        schedule="constant",
        label_smoothing=0.0,
        augment=False,
        patience=course_cfg.epochs,
    )
    course_cfg.patience = course_cfg.epochs  # the clock, not EarlyStopping, ends a leg
    runtime.setup_precision("auto")
    fer = data.load_fer2013()
    splits = protocol.make_splits(
        fer, validation="split", train_limit=profile.train_limit, eval_limit=profile.eval_limit
    )
    legs = {}
    for name, cfg in (
        (f"course recipe ({profile.name} profile)", course_cfg),
        ("baseline (Adam 1e-3, no augmentation)", baseline_cfg),
    ):
        cap = args.baseline_minutes if cfg is baseline_cfg and args.baseline_minutes else args.max_minutes
        print(f"\n{name}: up to {cfg.epochs} epochs or {cap:g} min", flush=True)
        # the course leg runs its whole schedule: its final model is what notebook 03 produces
        clock = time_to_accuracy_callback(THRESHOLDS, cap, stop_at_last=cfg is baseline_cfg)
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
        x_priv, y_priv = splits.tests["PrivateTest"]
        private = float((evaluation.predict_proba(model, x_priv).argmax(1) == y_priv).mean())
        legs[name] = {
            "minutes_to": {f"{t:.2f}": m for t, m in clock.reached.items()},
            "best_validation_accuracy": max(a for _, a in clock.curve),
            "epochs_run": len(clock.curve),
            "train_minutes": round(seconds / 60, 2),
            "privatetest_accuracy_restored_best": round(private, 4),
            "curve": clock.curve,
        }
        print(f"  {name}: {json.dumps({k: v for k, v in legs[name].items() if k != 'curve'})}", flush=True)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"legs": legs, "partial": True}, indent=2) + "\n")
        keras.backend.clear_session()

    (_, course), (_, base) = legs.items()
    print(f"\nTime to validation accuracy, {runtime.hardware_description()}, {model_kwargs}:")
    print(f"  {'threshold':>9}  {'baseline':>10}  {'course':>10}  course is ... x sooner")
    ratios = {}
    for t in THRESHOLDS:
        b, c = base["minutes_to"][f"{t:.2f}"], course["minutes_to"][f"{t:.2f}"]
        if c is None:
            ratio = "course did not reach it"
        elif b is None:
            ratio = f"> {base['train_minutes'] / c:.1f} (baseline never reached it in {base['train_minutes']:.0f} min)"
        else:
            ratio = f"{b / c:.2f}"
        ratios[f"{t:.2f}"] = ratio
        fmt = lambda m: "-" if m is None else f"{m:.1f} min"  # noqa: E731
        print(f"  {t:9.2f}  {fmt(b):>10}  {fmt(c):>10}  {ratio}")
    for name, leg in legs.items():
        print(
            f"  {name}: best validation {leg['best_validation_accuracy']:.4f} in {leg['epochs_run']} epochs, "
            f"{leg['train_minutes']:.1f} min; PrivateTest {leg['privatetest_accuracy_restored_best']:.4f}"
        )

    # inference with the shipped model
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

    out = {
        "hardware": runtime.hardware_description(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "model": model_kwargs,
        "thresholds": THRESHOLDS,
        "legs": legs,
        "course_sooner_by": ratios,
        "inference_images_per_second_batch256": round(batch_ips, 1),
        "inference_latency_ms_batch1": round(latency_ms, 3),
        "numpy": np.__version__,
        "created": time.strftime("%Y-%m-%d %H:%M"),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
