"""Evaluate a trained model on every split and ship it with a model card.

    python scripts/make_model_card.py --run outputs/recipe_laptop            # writes fer_utils/assets/
    python scripts/make_model_card.py --run outputs/recipe_laptop --dry-run  # print the card only

``--run`` is a folder written by ``scripts/train_recipe.py`` (``final.keras``, ``run.json``,
``history.json``). The model is re-saved without its optimizer state (smaller file) and
checked to load with ``keras.models.load_model(..., safe_mode=True)``. The card holds class
names, the input contract, the recipe, timings and accuracy, macro-F1 and per-class recall on
validation, PublicTest, PrivateTest and the whole test folder, with and without TTA, and on
PrivateTest also without the faces that have a twin in train/ (``fer_utils.twins``) and on those
twins alone, with the twin count. Only replace the shipped model with one that measures better on
validation or PublicTest.

    python scripts/make_model_card.py --update   # re-evaluate the shipped model, add what its card lacks

``--update`` re-measures the shipped model on PrivateTest, checks that the card's PrivateTest
figures are reproduced, and adds the figures without train twins to the card; every other field
of the card and the model file stay as they are.

``--calibrate`` adds per-class logit offsets chosen on the validation set to the final layer
(``fer_utils.calibration``: best validation macro-F1 at no more than 0.5 points of validation
accuracy); the card keeps the uncalibrated metrics beside the shipped ones.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from fer_utils import config
from fer_utils.calibration import apply_offsets, fit_offsets
from fer_utils.data import load_fer2013
from fer_utils.evaluation import metrics_from_proba, predict_proba
from fer_utils.prediction import load_model
from fer_utils.protocol import make_splits
from fer_utils.twins import TWIN_RMS

PRIVATE_TWINS = f"{config.PRIVATE_TEST}_twins"  # the PrivateTest faces that have a twin in train/


def summarize(m: dict) -> dict:
    return {
        "n": m["n"],
        "accuracy": round(m["accuracy"], 4),
        "macro_f1": round(m["macro"]["f1"], 4),
        "top2_accuracy": round(m["top2_accuracy"], 4),
        "per_class_recall": {k: round(v["recall"], 4) for k, v in m["per_class"].items()},
    }


def evaluate(model, sets: dict, tta: bool, twin_mask: np.ndarray | None = None) -> dict:
    """Card metrics on every split; "test" is the whole test folder (PublicTest + PrivateTest).

    With ``twin_mask`` (which PrivateTest faces have a twin in train/), PrivateTest is also
    measured without those faces (``PrivateTest_no_twins``) and on them alone (``PrivateTest_twins``).
    """
    start = time.time()
    probas = {name: predict_proba(model, x, tta=tta) for name, (x, _) in sets.items()}
    res = {name: summarize(metrics_from_proba(y, probas[name])) for name, (_, y) in sets.items()}
    if "PublicTest" in sets:
        y_test = np.concatenate([sets["PublicTest"][1], sets["PrivateTest"][1]])
        p_test = np.concatenate([probas["PublicTest"], probas["PrivateTest"]])
        res["test"] = summarize(metrics_from_proba(y_test, p_test))
    if twin_mask is not None:
        y, p = sets["PrivateTest"][1], probas["PrivateTest"]
        res[config.PRIVATE_NO_TWINS] = summarize(metrics_from_proba(y[~twin_mask], p[~twin_mask]))
        res[PRIVATE_TWINS] = summarize(metrics_from_proba(y[twin_mask], p[twin_mask]))
    print(
        f"{'TTA' if tta else 'plain'}: "
        + ", ".join(f"{k} {v['accuracy']:.4f} / F1 {v['macro_f1']:.3f}" for k, v in res.items())
        + f"  ({time.time() - start:.0f} s)"
    )
    return res


def twin_fields(metrics: dict, splits) -> tuple[dict, dict]:
    """The card's ``twins`` entry and its headline additions, from :func:`evaluate`'s results."""
    counts = splits.twin_counts()
    twins = {
        "rule": "a test face has a twin in train/ when a train/ face lies within "
        f"{TWIN_RMS:g} grey levels of it (fer_utils.twins.TWIN_RMS): RMS difference of the two faces "
        "blurred (sigma 1 px), at the best alignment within 1 px (fer_utils.twins.distance); the same face image",
        "PrivateTest_faces": len(splits.tests[config.PRIVATE_TEST][1]),
        "PrivateTest_with_train_twin": counts[config.PRIVATE_TEST],
        "PublicTest_with_train_twin": counts[config.PUBLIC_TEST],
        "metrics": f"metrics/<mode>/{config.PRIVATE_NO_TWINS} (the other faces) and metrics/<mode>/{PRIVATE_TWINS}",
    }
    plain = metrics["plain"]
    headline = {
        f"{config.PRIVATE_NO_TWINS}_accuracy": plain[config.PRIVATE_NO_TWINS]["accuracy"],
        f"{config.PRIVATE_NO_TWINS}_macro_f1": plain[config.PRIVATE_NO_TWINS]["macro_f1"],
        f"{PRIVATE_TWINS}_accuracy": plain[PRIVATE_TWINS]["accuracy"],
    }
    return twins, headline


def update_shipped_card(dry_run: bool) -> None:
    """Re-measure the shipped model on PrivateTest and add the figures without train twins to its card."""
    card = json.loads(config.SHIPPED_MODEL_CARD.read_text())
    model = load_model(config.SHIPPED_MODEL)
    splits = make_splits(load_fer2013())
    sets = {"PrivateTest": splits.tests["PrivateTest"]}
    mask = splits.train_twins["PrivateTest"]
    for mode in ("plain", "tta"):
        new = evaluate(model, sets, tta=mode == "tta", twin_mask=mask)
        old = card["metrics"][mode]["PrivateTest"]
        for key in ("accuracy", "macro_f1"):
            if abs(new["PrivateTest"][key] - old[key]) > 0.002:
                sys.exit(
                    f"{config.SHIPPED_MODEL_CARD}: PrivateTest {key} ({mode}) measures {new['PrivateTest'][key]:.4f}, "
                    f"the card says {old[key]:.4f}; re-run the card's card_command instead of --update."
                )
        card["metrics"][mode].update({k: new[k] for k in (config.PRIVATE_NO_TWINS, PRIVATE_TWINS)})
    twins, headline = twin_fields(card["metrics"], splits)
    twins["added"] = f"{time.strftime('%Y-%m-%d')} by `python scripts/make_model_card.py --update`"
    card["twins"] = twins
    card["headline"].update(headline)
    print(json.dumps({"headline": card["headline"], "twins": twins}, indent=2))
    if not dry_run:
        config.SHIPPED_MODEL_CARD.write_text(json.dumps(card, indent=2) + "\n")
        print(f"updated {config.SHIPPED_MODEL_CARD}")


def _sidecar(model_file: Path) -> dict | None:
    """What a post-processing script did to the model (``best_bn.json`` beside ``best_bn.keras``)."""
    side = model_file.with_suffix(".json")
    return json.loads(side.read_text()) if side.exists() else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", help="folder written by scripts/train_recipe.py")
    ap.add_argument("--update", action="store_true", help="add missing figures to the shipped model's card")
    ap.add_argument("--model-file", default="final.keras")
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--calibrate", action="store_true", help="fit per-class logit offsets on validation")
    ap.add_argument("--note", default="", help="free text for the card, e.g. how busy the machine was")
    args = ap.parse_args()
    if args.update:
        update_shipped_card(args.dry_run)
        return
    if not args.run:
        ap.error("--run is required (or --update for the shipped model's card)")

    import keras

    run_dir = Path(args.run)
    run = json.loads((run_dir / "run.json").read_text())
    history = json.loads((run_dir / "history.json").read_text())["history"]
    model = load_model(run_dir / args.model_file)

    data = load_fer2013()
    splits = make_splits(data, validation=run.get("validation", "split"), seed=run["train_config"]["seed"])
    sets = {
        "validation": (splits.x_val, splits.y_val),
        "PublicTest": splits.tests["PublicTest"],
        "PrivateTest": splits.tests["PrivateTest"],
    }
    twin_mask = splits.train_twins["PrivateTest"]
    metrics = {}
    if args.calibrate:
        metrics["uncalibrated"] = evaluate(model, sets, tta=False, twin_mask=twin_mask)
        offsets = fit_offsets(predict_proba(model, sets["validation"][0]), sets["validation"][1])
        apply_offsets(model, offsets)
        print("logit offsets chosen on validation:", dict(zip(config.CLASS_NAMES, offsets.round(2).tolist())))
    for tta in (False, True):
        metrics["tta" if tta else "plain"] = evaluate(model, sets, tta=tta, twin_mask=twin_mask)
    twins, twin_headline = twin_fields(metrics, splits)

    best_epoch = int(np.argmax(history["val_accuracy"])) + 1
    card = {
        "name": "fer_cnn",
        "description": "BN-VGG trained from scratch on the original pixels of FER-2013 train/ by the "
        "course recipe (fer_utils.training.recipe); no pretrained weights, no other data.",
        "file": "fer_cnn.keras",
        "class_names": list(config.CLASS_NAMES),
        "input": {
            "shape": [None, config.IMG_SIZE, config.IMG_SIZE, 1],
            "dtype": "float32",
            "scale": "grayscale pixels 0..255; the model divides by 255 in its first layer (rescale)",
            "face_crop": "48x48, as FER-2013",
        },
        "output": "softmax probabilities over class_names, in that order",
        "parameters": model.count_params(),
        "profile": run["profile"]["name"],
        "model_kwargs": run["model"],
        "train_config": run["train_config"],
        "precision": run["precision"],
        "validation_protocol": run["validation"]
        + (
            " (stratified 10% of train/, seed 42, twin groups on one side)"
            if run["validation"] == "split"
            else " (PublicTest without its faces that have a twin in train/)"
        ),
        "epochs_run": run["epochs_run"],
        "best_epoch_by_validation": best_epoch,
        "hardware": run["hardware"],
        "training_wall_seconds": round(run["wall_seconds"], 1),
        "tta": "mean of 10 views: the face and its mirror, each also shifted by 2 px in 4 directions",
        "metrics": metrics,
        "headline": {
            "PrivateTest_accuracy": metrics["plain"]["PrivateTest"]["accuracy"],
            "PrivateTest_accuracy_tta": metrics["tta"]["PrivateTest"]["accuracy"],
            "PrivateTest_macro_f1": metrics["plain"]["PrivateTest"]["macro_f1"],
            **twin_headline,
        },
        "twins": twins,
        "command": run.get(
            "command", f"python scripts/train_recipe.py --profile {run['profile']['name']} --out {run_dir}"
        ),
        "postprocessing": _sidecar(run_dir / args.model_file),
        "card_command": "python scripts/make_model_card.py " + " ".join(sys.argv[1:]),
        "calibration": (
            {
                "logit_offsets": dict(zip(config.CLASS_NAMES, offsets.round(3).tolist())),
                "chosen_on": "validation",
                "rule": "best macro-F1 with at most 0.5 points less accuracy (fer_utils.calibration)",
            }
            if args.calibrate
            else None
        ),
        "data_integrity": data.integrity.as_dict(),
        "versions": {"keras": keras.__version__},
        "created": time.strftime("%Y-%m-%d"),
    }
    if args.note:
        card["notes"] = args.note
    print(json.dumps(card["headline"], indent=2))
    if args.dry_run:
        return
    config.ASSETS_DIR.mkdir(parents=True, exist_ok=True)
    model.save(config.SHIPPED_MODEL)  # loaded with compile=False: no optimizer state is written
    load_model(config.SHIPPED_MODEL)  # the saved file loads
    size_mb = config.SHIPPED_MODEL.stat().st_size / 1e6
    assert size_mb < 25, f"{config.SHIPPED_MODEL} is {size_mb:.1f} MB (limit 25 MB)"
    card["file_megabytes"] = round(size_mb, 2)
    config.SHIPPED_MODEL_CARD.write_text(json.dumps(card, indent=2) + "\n")
    print(f"wrote {config.SHIPPED_MODEL} ({size_mb:.1f} MB) and {config.SHIPPED_MODEL_CARD}")


if __name__ == "__main__":
    main()
