"""Training and inference speed: the course's setup against the plain Keras default, in one process.

    python scripts/benchmark_training.py               # what `make benchmark` runs (about 10 min on 2 cores)
    python scripts/benchmark_training.py --steps 60 --skip-slow

Every configuration trains the same network (the recipe BN-VGG, width 24, 0.7M parameters) for
the same number of batches of 64 after a warm-up, and reports training images/second and
the ratio to the baseline measured minutes earlier in this process:

- baseline: ``keras.utils.image_dataset_from_directory`` decoding the JPEGs every epoch,
  float32, ``compile(optimizer="adam", loss="categorical_crossentropy")``;
- course: the decoded faces cached as uint8 arrays (``fer_utils.data``), an in-memory
  ``tf.data`` pipeline with the augmentation layers, AdamW + label smoothing, the precision
  policy ``setup_precision("auto")`` picks (float32 on CPUs without bf16 instructions);
- variants: course without augmentation, batch 256, ``mixed_bfloat16``, ``jit_compile=True`` (XLA).

Then inference of the shipped model: images/second at batch 256 and batch-1 latency per face.
Results are printed and written to outputs/benchmarks/training.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def timed_fit(model, dataset, steps: int, warmup: int, batch_size: int = 64) -> float:
    """Images/second over ``steps`` batches, after ``warmup`` batches (tracing, caches)."""
    model.fit(dataset.take(warmup), epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(dataset.take(steps), epochs=1, verbose=0)
    return steps * batch_size / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=120, help="timed batches of 64 per configuration")
    ap.add_argument("--slow-steps", type=int, default=15, help="timed batches for bf16 and XLA (slow on CPU)")
    ap.add_argument("--warmup", type=int, default=8)
    ap.add_argument("--skip-slow", action="store_true", help="skip the bf16 and XLA variants")
    ap.add_argument("--out", default="outputs/benchmarks/training.json")
    args = ap.parse_args()

    import keras
    import numpy as np
    import tensorflow as tf

    from fer_utils import config, data, models, training
    from fer_utils.prediction import FaceClassifier, load_model

    fmt, fer_dir = data.find_dataset()
    if fmt != "folders":
        raise SystemExit(f"The baseline reads JPEG folders; {fer_dir} is in the {fmt!r} format.")
    fer = data.load_fer2013()
    width = config.PROFILES["laptop"].model_width
    results: dict[str, float] = {}

    def build(policy: str):
        keras.mixed_precision.set_global_policy(policy)
        training.set_seed(0)
        return models.build_vgg_bn(width=width)

    # 1. the plain Keras default
    base_ds = keras.utils.image_dataset_from_directory(
        fer_dir / "train", color_mode="grayscale", image_size=(48, 48), batch_size=64,
        label_mode="categorical", class_names=list(config.CLASS_NAMES), shuffle=True, seed=0, verbose=False)
    base_ds = base_ds.map(lambda x, y: (x / 255.0, y), num_parallel_calls=tf.data.AUTOTUNE).repeat()
    m = build("float32")
    m.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    results["baseline: image_dataset_from_directory, float32, default compile"] = timed_fit(m, base_ds, args.steps, args.warmup)

    # 2. the course's setup
    policy = training.setup_precision("auto")
    _, cfg = training.recipe(config.PROFILES["laptop"])

    def course_ds(augment: bool, batch_size: int = 64):
        aug = data.augmentation_layers(cfg.rotation, cfg.zoom, cfg.translation, seed=0) if augment else None
        return data.make_dataset(fer.x_train, fer.y_train, batch_size=batch_size, shuffle=True, augment=aug,
                                 cache=False).repeat()

    def course_model(policy_name: str, jit: bool = False):
        model = build(policy_name)
        training.compile_model(model, cfg.learning_rate, cfg.optimizer, cfg.weight_decay, cfg.label_smoothing)
        if jit:
            model.jit_compile = True
        return model

    results[f"course: cached arrays + tf.data + augmentation, {policy}"] = timed_fit(
        course_model(policy), course_ds(True), args.steps, args.warmup)
    results[f"course without augmentation, {policy}"] = timed_fit(
        course_model(policy), course_ds(False), args.steps, args.warmup)
    # a larger batch: same images/s budget, a quarter of the steps (not what the recipes use; the
    # learning rate and the accuracy would need re-tuning, so this is information, not a setting)
    results[f"course, batch 256 instead of 64, {policy}"] = timed_fit(
        course_model(policy), course_ds(True, 256), max(4, args.steps // 4), 3, batch_size=256)
    if not args.skip_slow:
        results["course, mixed_bfloat16"] = timed_fit(course_model("mixed_bfloat16"), course_ds(True),
                                                      args.slow_steps, 3)
        results["course, float32 + XLA (jit_compile)"] = timed_fit(course_model("float32", jit=True),
                                                                   course_ds(True), args.slow_steps, 3)
    keras.mixed_precision.set_global_policy("float32")

    base = next(iter(results.values()))
    print(f"\nTraining throughput, {training.hardware_description()}, batch 64 unless named, {args.steps} timed batches of 64:")
    for name, ips in results.items():
        print(f"  {ips:8.1f} images/s  {ips / base:5.2f}x  {name}")

    # 3. inference with the shipped model
    model = load_model(config.SHIPPED_MODEL if config.SHIPPED_MODEL.exists() else None)
    faces = fer.x_test[:4096]
    x = faces[..., None].astype("float32") / 255.0
    model.predict(x[:512], batch_size=256, verbose=0)
    t = time.perf_counter()
    model.predict(x, batch_size=256, verbose=0)
    batch_ips = len(x) / (time.perf_counter() - t)
    clf = FaceClassifier(model)
    clf(faces[:1])
    lat = []
    for i in range(300):
        t = time.perf_counter()
        clf(faces[i:i + 1])
        lat.append(time.perf_counter() - t)
    latency_ms = 1000 * statistics.median(lat)
    print(f"\nInference, shipped model ({model.count_params():,} parameters): {batch_ips:.0f} images/s at batch 256; "
          f"batch-1 latency {latency_ms:.2f} ms per face (median of 300, tf.function).")

    out = {"hardware": training.hardware_description(), "tensorflow": tf.__version__, "keras": keras.__version__,
           "model": f"build_vgg_bn(width={width})", "batch_size": 64, "timed_steps": args.steps,
           "training_images_per_second": {k: round(v, 1) for k, v in results.items()},
           "ratio_to_baseline": {k: round(v / base, 3) for k, v in results.items()},
           "inference_images_per_second_batch256": round(batch_ips, 1),
           "inference_latency_ms_batch1": round(latency_ms, 3),
           "created": time.strftime("%Y-%m-%d %H:%M")}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
