"""Re-estimate the batch-norm statistics of a run's best model (after weight averaging).

    python scripts/reestimate_bn.py --run outputs/recipe_ema     # writes best_bn.keras beside best.keras

Keras's weight averaging (``--ema`` in train_recipe.py) averages the trainable weights only; the
averaged network keeps the batch-norm statistics of the weights being trained. This recomputes
them on FER-2013 train/ faces (``fer_utils.training.reestimate_batchnorm``; no test face is used).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from fer_utils.data import load_fer2013
from fer_utils.prediction import load_model
from fer_utils.training import reestimate_batchnorm


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="a train_recipe.py output folder")
    ap.add_argument("--model-file", default="best.keras")
    ap.add_argument("--batches", type=int, default=60)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    run = Path(args.run)
    src = run / args.model_file
    if not src.exists():
        raise SystemExit(f"{src}: no such model file; train it first with scripts/train_recipe.py --out {run}")
    model = load_model(src)
    fer = load_fer2013(verbose=False)
    reestimate_batchnorm(model, fer.x_train, batches=args.batches, batch_size=args.batch_size, seed=args.seed)
    dst = src.with_name(src.stem + "_bn.keras")
    model.save(dst)
    dst.with_suffix(".json").write_text(  # make_model_card.py puts this in the card
        json.dumps(
            {
                "step": "batch-norm statistics re-estimated for the averaged weights",
                "source": src.name,
                "faces": f"{args.batches} x {args.batch_size} from FER-2013 train/, no augmentation, seed {args.seed}",
                "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
            },
            indent=2,
        )
    )
    print(f"{dst}: batch-norm statistics from {args.batches} x {args.batch_size} train/ faces")


if __name__ == "__main__":
    main()
