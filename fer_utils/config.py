"""One place for the course's constants: class names, image size, pixel range, paths and run profiles.

Nothing else in the project repeats these values; import them from here.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

#: Emotion names in the order of the Kaggle class folders (alphabetical); model outputs use it.
CLASS_NAMES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
NUM_CLASSES: int = len(CLASS_NAMES)

#: Integer labels of the original challenge file ``fer2013.csv`` mapped to emotion names.
CSV_LABEL_TO_NAME: dict[int, str] = {
    0: "angry",
    1: "disgust",
    2: "fear",
    3: "happy",
    4: "sad",
    5: "surprise",
    6: "neutral",
}

#: Side of the square grayscale faces the models see.
IMG_SIZE: int = 48
INPUT_SHAPE: tuple[int, int, int] = (IMG_SIZE, IMG_SIZE, 1)
#: Faces are uint8 grayscale, 0..PIXEL_MAX. Every model of the course takes them as they are
#: (float32) and divides by PIXEL_MAX in its own first layer (``models.rescaling``).
PIXEL_MAX: float = 255.0

#: Names of the test subsets, read from the file names (Kaggle layout) or the CSV ``Usage`` column.
PUBLIC_TEST, PRIVATE_TEST = "PublicTest", "PrivateTest"
#: PrivateTest without the faces that have a twin (the same photo) in ``train/`` (``fer_utils.twins``).
PRIVATE_NO_TWINS = "PrivateTest_no_twins"

KAGGLE_URL = "https://www.kaggle.com/datasets/msambare/fer2013"


def _project_root() -> Path:
    """The repository root for an editable install, else the working directory."""
    if "FER_PROJECT_ROOT" in os.environ:
        return Path(os.environ["FER_PROJECT_ROOT"]).resolve()
    here = Path(__file__).resolve().parent.parent
    return here if (here / "pyproject.toml").exists() else Path.cwd()


PROJECT_ROOT: Path = _project_root()
DATA_DIR: Path = PROJECT_ROOT / "data"
#: Where ``load_fer2013`` looks when ``FER2013_DIR`` is not set.
DEFAULT_FER_DIR: Path = DATA_DIR / "fer2013"
#: Decoded-array caches (one ``.npz`` per dataset version).
CACHE_DIR: Path = DATA_DIR / "cache"
#: Where the synthetic demo faces are written when FER-2013 is missing.
SYNTHETIC_DIR: Path = DATA_DIR / "synthetic_fer"
#: Everything a course run produces: models, histories, figures, executed notebooks, metrics.
OUTPUT_DIR: Path = Path(os.environ.get("FER_OUTPUT_DIR", PROJECT_ROOT / "outputs")).resolve()
#: Models and histories written by notebooks 03 and 04, figures by all notebooks.
MODELS_DIR: Path = OUTPUT_DIR / "models"
FIGURES_DIR: Path = OUTPUT_DIR / "figures"
BASELINE_MODEL: Path = MODELS_DIR / "fer_cnn.keras"  # notebook 03
BEST_MODEL: Path = MODELS_DIR / "fer_cnn_best.keras"  # notebook 04
#: The model shipped inside the package (see ``fer_utils/assets/``).
ASSETS_DIR: Path = Path(__file__).resolve().parent / "assets"
SHIPPED_MODEL: Path = ASSETS_DIR / "fer_cnn.keras"
SHIPPED_MODEL_CARD: Path = ASSETS_DIR / "fer_cnn.card.json"


def fer2013_dir_from_env() -> Path | None:
    """The folder named by ``FER2013_DIR``, if that variable is set."""
    value = os.environ.get("FER2013_DIR")
    return Path(value).expanduser().resolve() if value else None


@dataclass(frozen=True)
class Profile:
    """How much work a course run does. Choose one with ``FER_PROFILE``."""

    name: str
    train_limit: int | None  # images per run taken from train/ (stratified); None = all
    eval_limit: int | None  # images per evaluation split; None = all
    epochs: int  # training epochs in notebook 03
    batch_size: int
    patience: int  # EarlyStopping patience (epochs)
    model_width: int  # filters of the first block of the BN-VGG
    search_updates: int  # weight updates per experiment and per tuner trial in notebook 04
    tuner_trials: int  # KerasTuner trials in notebook 04
    retrain_choice: bool  # 04 retrains its choice with 03's recipe and epochs (False: 03's model is kept)
    search_seeds: int = 2  # seeds per configuration in notebook 04 (their spread is the noise band)
    study_faces: int = 1500  # training faces of notebook 03's over/underfitting study
    study_epochs: int = 25  # its most epochs (EarlyStopping on validation loss usually stops sooner)
    # Keras without graph tracing (tf.config.run_functions_eagerly): for runs of a few updates, tracing a
    # model's train step costs more than it saves (measured on the 2-core EPYC, a width-16 BN-VGG built,
    # trained for 10 updates and validated on 700 faces: about 10 s eager against 17 s traced)
    eager: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


PROFILES: dict[str, Profile] = {
    # CI: seconds per notebook; numbers are meaningless, code paths are exercised.
    "smoke": Profile(
        "smoke",
        study_faces=300,
        study_epochs=3,
        train_limit=700,
        eval_limit=700,
        epochs=2,
        batch_size=64,
        patience=2,
        model_width=8,  # a quarter of width 16's convolution work: the smoke runs' cost is mostly these updates
        search_updates=10,  # timed alone at width 8, eager: 0.38-0.51 s an update, most of a run's ~6 s
        tuner_trials=2,
        retrain_choice=True,  # for smoke's 2 epochs, so that CI runs the code
        search_seeds=2,
        eager=True,
    ),
    # A read-through: all the data, short trainings. Timed on the slower machine below (2026-12-02): 03 19.3 min
    # (5 epochs + the overfitting study), 04 32.9 min (laptop's 350 updates per run, the fewest at which the
    # search base passed the learning guard; 3 tuner trials); about 57 min for the course.
    "quick": Profile(
        "quick",
        train_limit=None,
        eval_limit=None,
        epochs=5,
        batch_size=64,
        patience=3,
        model_width=16,
        search_updates=350,
        tuner_trials=3,
        retrain_choice=False,
        search_seeds=2,
    ),
    # The default and the committed notebooks: the whole course in at most 100 minutes on 2 CPU cores
    # (03 at most 45 min, 04 at most 45 min), budgeted on the slowest machine the course is run on, a
    # 2-core AMD EPYC with AVX2 only (float32). Rates measured there: the width-16 BN-VGG ~0.26 s per
    # update at batch 64 (~105 s an epoch of 404 updates; width 24 ~0.51 s), and ~10 s per run to build,
    # compile and validate. 03: 13 epochs (~23 min; ~33 min on a slow day's 150 s an epoch; 15 epochs took
    # 48.3 min in all that day) + the overfitting study (9.4 min at 1,500 faces on a slow day) + evaluation (~1 min).
    # 04, in updates of the width-16 base (measured 0.275 s per update with validation):
    #   section 1: 4 configurations x 2 seeds x 350 updates           ~  870 s
    #   6 tuner trials + the tuner's best and exercise 2 (2 seeds each)   10 x 350 updates ~ 1,240 s
    #   no retraining (retrain_choice False: a run as long as 03's does not fit, a shorter one compares nothing)
    #   start-up, data, PrivateTest evaluation, figures               ~  100 s
    #   total about 2,200 s = 37 min at 0.275 s per update; the committed run measured 0.376 s per update
    #   that day and took 45.0 min. A CPU with AVX-512 (bfloat16) runs both in about half the time.
    "laptop": Profile(
        "laptop",
        train_limit=None,
        eval_limit=None,
        epochs=13,
        batch_size=64,
        patience=6,
        model_width=16,
        search_updates=350,
        tuner_trials=6,
        retrain_choice=False,
        search_seeds=2,
    ),
    # One GPU: the full recipe.
    "full": Profile(
        "full",
        train_limit=None,
        eval_limit=None,
        epochs=120,
        batch_size=128,
        patience=25,
        model_width=64,
        search_updates=4000,
        tuner_trials=20,
        retrain_choice=True,  # for 03's 120 epochs, so the comparison with 03 is like for like
        search_seeds=3,
    ),
}
DEFAULT_PROFILE = "laptop"


def get_profile(name: str | None = None) -> Profile:
    """Return the run profile: ``name``, else ``FER_PROFILE``, else ``laptop``.

    This is the course's one speed switch; CI sets ``FER_PROFILE=smoke``.
    """
    name = (name or os.environ.get("FER_PROFILE") or DEFAULT_PROFILE).strip().lower()
    if name not in PROFILES:
        raise ValueError(f"Unknown FER_PROFILE {name!r}: choose one of {', '.join(PROFILES)}.")
    return PROFILES[name]
