"""Training speed of the recipe's BN-VGG under float32 and mixed_bfloat16, in one process.

    python scripts/benchmark_precision.py [--width 24] [--updates 60]

``fer_utils.runtime.setup_precision("auto")`` picks mixed_bfloat16 on CPUs with bfloat16
instructions (AVX512-BF16 or AMX) and float32 otherwise. This script measures whether that choice
pays off on the machine at hand: milliseconds per weight update (batch 64, augmentation on, the
recipe's optimizer) for each policy, alternating the policies so that load on a shared machine
hits both, and the ratio. Random pixels: speed does not depend on the data.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from fer_utils import config, models, pipeline, runtime, training  # noqa: E402


def ms_per_update(policy: str, width: int, updates: int, x: np.ndarray, y: np.ndarray) -> float:
    keras.mixed_precision.set_global_policy(policy)
    keras.backend.clear_session()
    model = training.compile_model(models.build_vgg_bn(width), 1e-3, "adamw", 1e-4, 0.1)
    ds = pipeline.make_dataset(x, y, batch_size=64, shuffle=True, augment=pipeline.augmentation_layers()).repeat()
    model.fit(ds, steps_per_epoch=10, epochs=1, verbose=0, shuffle=False)  # tracing and warm-up, not timed
    start = time.perf_counter()
    model.fit(ds, steps_per_epoch=updates, epochs=1, verbose=0, shuffle=False)
    return (time.perf_counter() - start) / updates * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--width", type=int, default=24)
    ap.add_argument("--updates", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=2, help="alternations of the two policies")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (64 * 50, 48, 48), dtype=np.uint8)
    y = rng.integers(0, 7, len(x))
    times: dict[str, list[float]] = {"float32": [], "mixed_bfloat16": []}
    for _ in range(args.rounds):
        for policy in times:
            times[policy].append(ms_per_update(policy, args.width, args.updates, x, y))
    best = {p: min(t) for p, t in times.items()}
    print(runtime.hardware_description(), "| bf16 instructions:", runtime.cpu_has_bf16())
    for p, t in best.items():
        print(f"{p:15s} {t:6.0f} ms per update (best of {args.rounds}; all: {', '.join(f'{v:.0f}' for v in times[p])})")
    ratio = best["float32"] / best["mixed_bfloat16"]
    print(f"mixed_bfloat16 is {ratio:.2f}x as fast as float32 (>1: faster)")
    out = config.OUTPUT_DIR / "benchmarks" / "precision.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"hardware": runtime.hardware_description(), "ms_per_update": times, "ratio": ratio}))
    print("wrote", out)


if __name__ == "__main__":
    main()
