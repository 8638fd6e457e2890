"""Full-length ablations of the training recipe: every variant trained at once, one process each.

    KERAS_BACKEND=jax python scripts/ablate_recipe.py --out outputs/ablation --budget-minutes 7
    python scripts/ablate_recipe.py --out outputs/ablation --only base,no_aug --epochs 70   # CPU: slow

Made for one GPU (Keras on the JAX backend, float32); it also runs on CPU with TensorFlow, one
variant at a time being 1.5-2 hours there. Each variant changes one thing in the recipe that
trained the shipped model (``VARIANTS``; ``base`` is that recipe: BN-VGG width 24, AdamW 1e-3,
warm-up + cosine over 70 epochs, label smoothing 0.1, flip/rotation/zoom/translation, sqrt
class weights).

Protocol (the course's): train on all of train/, validate on PublicTest, keep the epoch with the
best PublicTest accuracy, and only then measure PrivateTest and the whole test folder. PrivateTest
chooses nothing.

Budget: the script first times a few training steps of every variant *while all of them run at
once*, and if the full schedules do not fit in ``--budget-minutes`` it scales every variant's
epochs by the same factor (printed and saved), so the variants stay comparable with each other.
Augmentation runs inside the model (Keras preprocessing layers, inactive at inference), so the
pipeline is the same on every backend; ``best.keras`` is the network without those layers.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import keras  # the backend comes from KERAS_BACKEND (jax on a GPU machine)
import numpy as np

from fer_utils.images import to_model_input  # numpy only: no backend imported yet

# name: (what changes, build_vgg_bn overrides, TrainConfig overrides, extras)
VARIANTS: dict[str, tuple[str, dict, dict, dict]] = {  # in order of priority (--budget drops from the end)
    "base": ("the shipped recipe (70 epochs)", {}, {}, {}),
    "ema": ("+ weight averaging (EMA 0.999), validated on the averaged weights", {}, {"ema": 0.999}, {}),
    "long100": ("100 epochs instead of 70", {}, {}, {"epochs_factor": 100 / 70}),
    "sgd": ("SGD, Nesterov momentum 0.9, lr 0.05", {}, {"optimizer": "sgd", "learning_rate": 0.05}, {}),
    "onecycle": ("one-cycle: 30% warm-up to 3e-3, then cosine", {}, {"learning_rate": 3e-3}, {"warmup_share": 0.3}),
    "plateau": ("ReduceLROnPlateau (x0.5 after 5 flat epochs) instead of cosine", {}, {"schedule": "plateau"}, {}),
    "erasing": ("+ random erasing (0.5: a quarter of the faces, 2-18% of the face)", {}, {"erasing": 0.5}, {}),
    "mixup": ("+ mixup (alpha 0.2)", {}, {}, {"mixup": 0.2}),
    "no_ls": ("no label smoothing", {}, {"label_smoothing": 0.0}, {}),
    "no_cw": ("no class weights", {}, {"class_weight": None}, {}),
    "se": ("+ squeeze-and-excitation after each stage (ratio 8)", {"se_ratio": 8}, {}, {}),
    "wide32": ("width 24 -> 32", {"width": 32}, {}, {}),
    "deep3": ("3 convolutions per stage instead of 2", {"convs_per_block": 3}, {}, {}),
    "histeq": ("histogram-equalized faces (train and test)", {}, {}, {"histeq": True}),
    "bn09": ("batch-norm momentum 0.99 -> 0.9", {"bn_momentum": 0.9}, {}, {}),
    "batch128": ("batch 128, lr 2e-3", {}, {"batch_size": 128, "learning_rate": 2e-3}, {}),
    "no_aug": ("no augmentation", {}, {"augment": False}, {}),
}
BASE_EPOCHS = 70


def recipe_for(name: str, epochs: int):
    """(model kwargs, TrainConfig, extras) of one variant, built from the course recipe."""
    from fer_utils import config
    from fer_utils.training import recipe

    model_kwargs, cfg = recipe(config.get_profile("laptop"))
    _, model_over, cfg_over, extras = VARIANTS[name]
    model_kwargs = {**model_kwargs, "width": 24, **model_over}
    cfg = replace(cfg, **{"epochs": epochs, "patience": 10_000, "class_weight": "sqrt", "ema": 0.0, **cfg_over})
    return model_kwargs, cfg, extras


def equalize(x: np.ndarray) -> np.ndarray:
    import cv2

    return np.stack([cv2.equalizeHist(face) for face in x])


class Batches(keras.utils.PyDataset):
    """Shuffled float32 batches with one-hot labels, class weights and optional mixup (NumPy)."""

    def __init__(self, x, y, batch_size, weights, mixup, seed):
        super().__init__()
        self.x, self.y, self.batch_size = x, y, batch_size
        self.weights = np.ones(7, "float32") if weights is None else np.array([weights[i] for i in range(7)], "float32")
        self.mixup, self.rng = mixup, np.random.default_rng(seed)
        self.order = self.rng.permutation(len(x))

    def __len__(self):
        return int(np.ceil(len(self.x) / self.batch_size))

    def on_epoch_end(self):
        self.order = self.rng.permutation(len(self.x))

    def __getitem__(self, i):
        idx = self.order[i * self.batch_size : (i + 1) * self.batch_size]
        xb = to_model_input(self.x[idx])
        yb = np.eye(7, dtype="float32")[self.y[idx]]
        wb = self.weights[self.y[idx]]
        if self.mixup:
            lam = self.rng.beta(self.mixup, self.mixup, size=(len(idx), 1)).astype("float32")
            perm = self.rng.permutation(len(idx))
            xb = lam[..., None, None] * xb + (1 - lam[..., None, None]) * xb[perm]
            yb = lam * yb + (1 - lam) * yb[perm]
            wb = lam[:, 0] * wb + (1 - lam[:, 0]) * wb[perm]
        return xb, yb, wb


def build_trainer(model_kwargs, cfg, extras, steps_per_epoch):
    """The network, and the model that trains it (augmentation layers in front), compiled."""
    from fer_utils.config import INPUT_SHAPE
    from fer_utils.models import build_vgg_bn
    from fer_utils.pipeline import augmentation_layers
    from fer_utils.training import learning_rate_for, make_optimizer

    net = build_vgg_bn(**model_kwargs)
    inputs = keras.Input(INPUT_SHAPE, name="face")
    x = inputs
    if cfg.augment:
        x = augmentation_layers(cfg.rotation, cfg.zoom, cfg.translation, flip=True, erasing=cfg.erasing, seed=cfg.seed)(
            x
        )
    trainer = keras.Model(inputs, net(x), name="trainer")
    if extras.get("warmup_share"):
        total = cfg.epochs * steps_per_epoch
        warm = int(total * extras["warmup_share"])
        lr = keras.optimizers.schedules.CosineDecay(
            cfg.learning_rate / 25, total - warm, alpha=0.01 / 25, warmup_target=cfg.learning_rate, warmup_steps=warm
        )
    else:
        lr = learning_rate_for(cfg, steps_per_epoch)
    trainer.compile(
        optimizer=make_optimizer(cfg.optimizer, lr, cfg.weight_decay, cfg.ema),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
        metrics=["accuracy"],
    )
    return net, trainer


def load_sets(data_dir: str | None, histeq: bool, limit: int | None):
    from fer_utils.data import load_fer2013

    data = load_fer2013(data_dir, verbose=False)
    if data.synthetic or (data.integrity and data.integrity.processed):
        raise SystemExit(f"{data.source} is not the genuine FER-2013: ablations on it are not ours.")
    sets = {"train": (data.x_train, data.y_train)}
    for usage in ("PublicTest", "PrivateTest"):
        sets[usage] = data.test_subset(usage)
    if limit:
        from fer_utils.protocol import stratified_subset

        sets = {k: (x[idx], y[idx]) for k, (x, y) in sets.items() for idx in [stratified_subset(y, limit)]}
    if histeq:
        sets = {k: (equalize(x), y) for k, (x, y) in sets.items()}
    return sets


def scores(y: np.ndarray, proba: np.ndarray) -> dict:
    """The few figures the table needs, taken from ``evaluation.metrics_from_proba``."""
    from fer_utils.evaluation import metrics_from_proba

    m = metrics_from_proba(y, proba)
    return {
        "n": m["n"],
        "accuracy": round(m["accuracy"], 4),
        "macro_f1": round(m["macro"]["f1"], 4),
        "per_class_recall": {c: round(v["recall"], 4) for c, v in m["per_class"].items()},
    }


def worker(args) -> None:
    """Train one variant (``--probe N``: only time N steps) and write its folder."""
    from fer_utils.training import class_weights

    name, out = args.variant, Path(args.out) / args.variant
    out.mkdir(parents=True, exist_ok=True)
    model_kwargs, cfg, extras = recipe_for(name, args.epochs)
    keras.utils.set_random_seed(cfg.seed)
    sets = load_sets(args.data, extras.get("histeq", False), args.limit)
    x_tr, y_tr = sets["train"]
    batches = Batches(x_tr, y_tr, cfg.batch_size, class_weights(y_tr, cfg.class_weight), extras.get("mixup"), cfg.seed)
    net, trainer = build_trainer(model_kwargs, cfg, extras, len(batches))

    if args.probe:
        xb, yb, wb = batches[0]
        trainer.train_on_batch(xb, yb, sample_weight=wb)  # compile
        (out / "probe_ready").touch()
        waited = time.time()
        while len(list(Path(args.out).glob("*/probe_ready"))) < args.n_workers:  # all variants at once
            if time.time() - waited > 120:  # a variant failed to start: time with those that did
                break
            time.sleep(0.2)
        start = time.perf_counter()
        for i in range(args.probe):
            xb, yb, wb = batches[1 + i % (len(batches) - 1)]
            trainer.train_on_batch(xb, yb, sample_weight=wb)
        step = (time.perf_counter() - start) / args.probe
        (out / "probe.json").write_text(json.dumps({"seconds_per_step": step, "steps_per_epoch": len(batches)}))
        return

    x_val = to_model_input(sets["PublicTest"][0])
    y_val = np.eye(7, dtype="float32")[sets["PublicTest"][1]]
    best = {"val_accuracy": -1.0, "epoch": 0, "weights": None}
    log: dict[str, list] = {"epoch_seconds": []}

    class Track(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            log["epoch_seconds"].append(time.perf_counter() - self.t)
            for k, v in (logs or {}).items():
                log.setdefault(k, []).append(float(v))
            if logs["val_accuracy"] > best["val_accuracy"]:
                best.update(val_accuracy=float(logs["val_accuracy"]), epoch=epoch + 1, weights=net.get_weights())
            (out / "history.json").write_text(json.dumps({"history": log, "best_epoch": best["epoch"]}))

    # with weight averaging, Track records (and validation measures) the averaged weights
    callbacks = ([keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if cfg.ema else []) + [Track()]
    if cfg.schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=5))
    start = time.perf_counter()
    trainer.fit(
        batches,
        epochs=cfg.epochs,
        validation_data=(x_val, y_val),
        validation_batch_size=512,
        callbacks=callbacks,
        verbose=0,
    )
    seconds = time.perf_counter() - start
    net.set_weights(best["weights"])
    net.save(out / "best.keras")
    y_all = np.concatenate([sets["PublicTest"][1], sets["PrivateTest"][1]])
    x_all = np.concatenate([sets["PublicTest"][0], sets["PrivateTest"][0]])

    def measure() -> dict:
        metrics = {}
        for usage in ("PublicTest", "PrivateTest"):
            x, y = sets[usage]
            metrics[usage] = scores(y, net.predict(to_model_input(x), batch_size=512, verbose=0))
        metrics["test"] = scores(y_all, net.predict(to_model_input(x_all), batch_size=512, verbose=0))
        return metrics

    from fer_utils.training import reestimate_batchnorm

    metrics = measure()
    reestimate_batchnorm(net, x_tr)  # the shipped model's last step, measured for every variant
    metrics_bn = measure()
    result = {
        "variant": name,
        "change": VARIANTS[name][0],
        "model_kwargs": model_kwargs,
        "train_config": cfg.as_dict(),
        "extras": extras,
        "params": net.count_params(),
        "backend": keras.backend.backend(),
        "epochs": cfg.epochs,
        "best_epoch": best["epoch"],
        "train_seconds": round(seconds, 1),
        "selected_on": "PublicTest",
        "metrics": metrics,
        "metrics_bn_reestimated": metrics_bn,
    }
    (out / "result.json").write_text(json.dumps(result, indent=2))
    print(
        f"{name}: PublicTest {metrics['PublicTest']['accuracy']:.4f}, PrivateTest "
        f"{metrics['PrivateTest']['accuracy']:.4f} / F1 {metrics['PrivateTest']['macro_f1']:.3f} "
        f"(epoch {best['epoch']}/{cfg.epochs}, {seconds:.0f} s); batch norm re-estimated: PublicTest "
        f"{metrics_bn['PublicTest']['accuracy']:.4f}, PrivateTest {metrics_bn['PrivateTest']['accuracy']:.4f}",
        flush=True,
    )


def launch(names, args, extra: list[str]) -> list[subprocess.Popen]:
    procs = []
    for name in names:
        cmd = [sys.executable, __file__, "--worker", "--variant", name, "--out", args.out, *extra]
        if args.data:
            cmd += ["--data", args.data]
        if args.limit:
            cmd += ["--limit", str(args.limit)]
        log = open(Path(args.out) / f"{name}.log", "w")
        procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT))
    return procs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", default=None, help="FER-2013 folder (default: $FER2013_DIR, then data/fer2013)")
    ap.add_argument("--only", default=None, help="comma-separated variant names (default: all)")
    ap.add_argument("--epochs", type=int, default=BASE_EPOCHS, help="epochs of the base schedule")
    ap.add_argument("--budget-minutes", type=float, default=None, help="scale all schedules to fit")
    ap.add_argument("--time-only", action="store_true", help="time 30 steps of each variant alone; no training")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N faces of each split (tests)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--variant", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--probe", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--n-workers", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args)

    start = time.time()
    names = args.only.split(",") if args.only else list(VARIANTS)
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown:
        raise SystemExit(f"unknown variant(s) {unknown}; choose from {sorted(VARIANTS)}")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    load_sets(args.data, False, None)  # decode once and fill the cache the workers read
    if args.time_only:
        for name in names:
            launch([name], args, ["--probe", "30", "--n-workers", "1", "--epochs", str(args.epochs)])[0].wait()
            pr = json.loads((Path(args.out) / name / "probe.json").read_text())
            per_epoch = pr["seconds_per_step"] * pr["steps_per_epoch"] / 60
            epochs = args.epochs * VARIANTS[name][3].get("epochs_factor", 1.0)
            print(
                f"{name:10s} {pr['seconds_per_step'] * 1000:6.0f} ms/step  {per_epoch:5.2f} min/epoch  "
                f"{per_epoch * epochs:6.1f} min for {epochs:.0f} epochs (training steps only)",
                flush=True,
            )
        return
    factor = 1.0
    if args.budget_minutes:
        probe = launch(names, args, ["--probe", "30", "--n-workers", str(len(names)), "--epochs", str(args.epochs)])
        failed = [name for name, p in zip(names, probe) if p.wait() != 0]
        if failed:
            raise SystemExit(f"variant(s) {failed} failed; see their logs in {args.out}")
        need = 0.0
        for name in names:
            pr = json.loads((Path(args.out) / name / "probe.json").read_text())
            epochs = args.epochs * VARIANTS[name][3].get("epochs_factor", 1.0)
            need = max(need, pr["seconds_per_step"] * pr["steps_per_epoch"] * epochs * 1.15)  # + validation
        left = args.budget_minutes * 60 - (time.time() - start) - 90  # compile, evaluation, saving
        factor = min(1.0, left / need)
        while factor < 0.75 and len(names) > 8:  # fewer variants at once, each one longer
            dropped = names.pop()
            factor = min(1.0, factor * (len(names) + 1) / len(names))
            print(f"dropping {dropped}: not enough time for it", flush=True)
        print(
            f"probe: the slowest variant needs {need / 60:.1f} min at full length, {left / 60:.1f} min "
            f"left: epochs x {factor:.2f}",
            flush=True,
        )
    runs = []
    for name in names:
        epochs = max(1, round(args.epochs * factor * VARIANTS[name][3].get("epochs_factor", 1.0)))
        runs += launch([name], args, ["--epochs", str(epochs)])
    for p in runs:
        p.wait()
    rows = []
    for name in names:
        f = Path(args.out) / name / "result.json"
        if f.exists():
            rows.append(json.loads(f.read_text()))
        else:
            print(f"{name}: FAILED, see {Path(args.out) / (name + '.log')}")
    summary = {
        "epochs_factor": factor,
        "base_epochs": round(args.epochs * factor),
        "wall_seconds": time.time() - start,
        "results": rows,
    }
    (Path(args.out) / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"\n{'variant':10s} {'epochs':>6s} {'best':>5s} {'PublicTest':>10s} {'PrivateTest':>11s} {'F1':>6s}")
    for r in rows:
        m = r["metrics"]
        print(
            f"{r['variant']:10s} {r['epochs']:6d} {r['best_epoch']:5d} {m['PublicTest']['accuracy']:10.4f} "
            f"{m['PrivateTest']['accuracy']:11.4f} {m['PrivateTest']['macro_f1']:6.3f}"
        )


if __name__ == "__main__":
    main()
