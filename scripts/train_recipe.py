"""Train the course recipe of a profile on FER-2013 and save model, history and timings.

    python scripts/train_recipe.py --profile laptop --out outputs/recipe_laptop

Validation is a stratified 10% of train/ (or PublicTest with --validation public).
Resumable: run the same command again after an interruption.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

from fer_utils import config
from fer_utils.data import load_fer2013
from fer_utils.models import build_vgg_bn
from fer_utils.protocol import make_splits
from fer_utils.runtime import hardware_description, setup_precision
from fer_utils.training import recipe, train_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default=None, help="smoke, laptop or full (default: $FER_PROFILE or laptop)")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--validation", default="split", choices=["split", "public"])
    ap.add_argument("--epochs", type=int, default=None, help="override the profile's epochs")
    ap.add_argument("--patience", type=int, default=None, help="override the profile's EarlyStopping patience")
    ap.add_argument("--width", type=int, default=None, help="override the profile's model width")
    ap.add_argument("--class-weight", default=None, choices=["balanced", "sqrt"])
    ap.add_argument("--erasing", type=float, default=0.0, help="random erasing (0.5: about a quarter of the faces)")
    ap.add_argument("--ema", type=float, default=None, help="averaging momentum (default: the recipe's, 0 = off)")
    ap.add_argument("--seed", type=int, default=None, help="override the recipe's seed")
    ap.add_argument("--precision", default="auto")
    ap.add_argument(
        "--linked-augmentation",
        action="store_true",
        help="give every augmentation layer the one run seed, as the course did before the fix "
        "(rotation, zoom, shift and flip then move together); for the before/after row only",
    )
    args = ap.parse_args()

    profile = config.get_profile(args.profile)
    model_kwargs, cfg = recipe(profile)
    if args.epochs:
        cfg.epochs = args.epochs
    if args.patience:
        cfg.patience = args.patience
    if args.width:
        model_kwargs["width"] = args.width
    cfg.class_weight = args.class_weight
    cfg.erasing = args.erasing
    if args.ema is not None:
        cfg.ema = args.ema
    if args.seed is not None:
        cfg.seed = args.seed
    if args.linked_augmentation:
        from fer_utils import pipeline

        pipeline.layer_seeds = lambda seed, n: [seed] * n  # the pre-fix construction: one stream for all
    policy = setup_precision(args.precision)
    data = load_fer2013(allow_synthetic=True)
    splits = make_splits(
        data, validation=args.validation, train_limit=profile.train_limit, eval_limit=profile.eval_limit
    )
    print(splits.sizes())
    out = Path(args.out)
    start = time.time()
    model, hist, seconds = train_model(
        lambda: build_vgg_bn(**model_kwargs),
        splits.x_train,
        splits.y_train,
        splits.x_val,
        splits.y_val,
        cfg,
        out_dir=out,
        verbose=2,
    )
    model.save(out / "final.keras")
    (out / "run.json").write_text(
        json.dumps(
            {
                "profile": profile.as_dict(),
                "model": model_kwargs,
                "train_config": cfg.as_dict(),
                "precision": policy,
                "validation": args.validation,
                "augmentation_draws": "linked (pre-fix)" if args.linked_augmentation else "independent",
                "hardware": hardware_description(),
                "train_seconds_this_session": seconds,
                "wall_seconds": time.time() - start,
                "epochs_run": len(hist.get("loss", [])),
                "synthetic": data.synthetic,
                "params": model.count_params(),
                "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
            },
            indent=2,
        )
    )
    print(f"done in {seconds / 60:.1f} min; saved to {out}")
    if cfg.ema:
        print(f"averaged weights: next, python scripts/reestimate_bn.py --run {out}")


if __name__ == "__main__":
    main()
