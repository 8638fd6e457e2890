"""Three views of one weight-averaged training run, mid-run, on the validation set (PublicTest).

    python scripts/diagnose_ema_backup.py --run outputs/recipe_ema

Reads the resume backup that ``train_model`` writes after every epoch (``backup/latest.weights.h5``:
the weights being trained and, in the optimizer, their moving average) and prints PublicTest
accuracy for (1) the weights being trained, (2) the averaged weights with the batch-norm
statistics of (1), which is what the run validates and checkpoints, and (3) the averaged weights
with batch-norm statistics re-estimated on train/ faces (``training.reestimate_batchnorm``).
The backup exists only while the run is going: Keras deletes it when training ends.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="a train_recipe.py output folder, while it trains")
    args = ap.parse_args()
    run = Path(args.run)
    backup = run / "backup" / "latest.weights.h5"
    if not backup.exists():
        raise SystemExit(f"{backup}: no backup (the run has finished, or was not started with --out {run})")

    from fer_utils.config import get_profile
    from fer_utils.data import load_fer2013
    from fer_utils.evaluation import predict_proba
    from fer_utils.models import build_vgg_bn
    from fer_utils.training import TrainConfig, compile_model, learning_rate_for, recipe, reestimate_batchnorm

    settings = json.loads((run / "train_config.json").read_text())
    cfg = TrainConfig(**{k: v for k, v in settings.items() if k in TrainConfig.__dataclass_fields__})
    if not cfg.ema:
        raise SystemExit(f"{run} was trained without weight averaging (--ema)")
    run_json = run / "run.json"
    # run.json is written when the run ends; until then the model is train_recipe.py's default
    model_kwargs = json.loads(run_json.read_text())["model"] if run_json.exists() else recipe(get_profile("laptop"))[0]
    fer = load_fer2013(verbose=False)
    steps = int(np.ceil(len(fer.x_train) / cfg.batch_size))
    model = build_vgg_bn(**model_kwargs)
    compile_model(model, learning_rate_for(cfg, steps), cfg.optimizer, cfg.weight_decay, cfg.label_smoothing, cfg.ema)
    model.optimizer.build(model.trainable_variables)
    model.load_weights(backup)
    x, y = fer.test_subset("PublicTest")

    def accuracy() -> float:
        return float((predict_proba(model, x).argmax(1) == y).mean())

    epoch = int(model.optimizer.iterations.numpy()) / steps
    print(f"{run}: after {epoch:.0f} epochs, PublicTest accuracy:")
    print(f"  weights being trained:                         {accuracy():.4f}")
    for var, average in zip(model.trainable_variables, model.optimizer._model_variables_moving_average):
        var.assign(average)
    print(f"  averaged weights, their batch-norm statistics: {accuracy():.4f}  (what the run validates)")
    reestimate_batchnorm(model, fer.x_train)
    print(f"  averaged weights, batch norm re-estimated:     {accuracy():.4f}")


if __name__ == "__main__":
    main()
