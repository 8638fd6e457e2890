"""Where a notebook runs: a local machine, Google Colab or Kaggle, and where FER-2013 usually is there.

Only detection and paths live here (no downloads, no installs), so it can be tested with faked
environments: ``detect_platform(environ={...}, modules={...})``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

#: The Kaggle dataset the course uses (the layout ``train/<emotion>/*.jpg``, ``test/<emotion>/*.jpg``).
KAGGLE_DATASET = "msambare/fer2013"


def detect_platform(environ: Mapping[str, str] | None = None, modules: Mapping | None = None) -> str:
    """``"kaggle"`` (a Kaggle notebook sets ``KAGGLE_KERNEL_RUN_TYPE``), ``"colab"`` (``google.colab``
    is importable in the running kernel) or ``"local"``."""
    environ = os.environ if environ is None else environ
    modules = sys.modules if modules is None else modules
    if "KAGGLE_KERNEL_RUN_TYPE" in environ:
        return "kaggle"
    if "google.colab" in modules or "COLAB_RELEASE_TAG" in environ:
        return "colab"
    return "local"


def platform_fer2013_candidates(
    platform: str | None = None, environ: Mapping[str, str] | None = None, home: Path | None = None
) -> list[Path]:
    """Folders where FER-2013 usually sits on ``platform`` (after ``FER2013_DIR`` and ``data/fer2013``).

    Kaggle: the attached dataset ``msambare/fer2013`` under ``/kaggle/input/``. Colab: the cache that
    ``kagglehub.dataset_download("msambare/fer2013")`` fills (``~/.cache/kagglehub/datasets/...``,
    any version) and an uploaded ``/content/fer2013``. Local: none.
    """
    environ = os.environ if environ is None else environ
    platform = platform or detect_platform(environ)
    home = Path(home) if home is not None else Path.home()
    if platform == "kaggle":
        return [Path("/kaggle/input/fer2013"), Path("/kaggle/input/datasets/msambare/fer2013")]
    if platform == "colab":
        cache = Path(environ.get("KAGGLEHUB_CACHE", home / ".cache" / "kagglehub"))
        versions = sorted((cache / "datasets" / KAGGLE_DATASET / "versions").glob("*"), reverse=True)
        return [*versions, Path("/content/fer2013")]
    return []
