"""Run the six course notebooks headless, in order, and save the executed copies.

    python -m fer_utils.course --out outputs/run          # what `make course` runs

The profile comes from ``FER_PROFILE`` (default ``laptop``). A failing notebook stops the
run with its name; the notebooks already executed are kept.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from . import config
from .report import add_run_record, build_report
from .runtime import silenced_native_stderr


def notebook_setup(seed: int = 42):
    """The setup every notebook runs: seed everything, print profile, hardware and versions.

    Returns the run profile (``FER_PROFILE``: smoke, quick, laptop or full).
    """
    import platform
    import warnings

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with silenced_native_stderr():  # TensorFlow's C++ start-up chatter (CUDA probing, CPU flags)
        import keras
        import tensorflow as tf

        import fer_utils

        from .runtime import hardware_description, set_seed

        hardware = hardware_description()
    tf.get_logger().setLevel("ERROR")  # e.g. retracing warnings when many small models are evaluated
    warnings.filterwarnings("ignore", message=".*`shuffle=True` was passed.*")

    profile = config.get_profile()
    set_seed(seed)
    print(f"Profile: {profile.name} (set FER_PROFILE=smoke|quick|laptop|full)  |  {hardware}")
    print(
        f"Python {platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}, "
        f"fer_utils {fer_utils.__version__}  |  started {time.strftime('%Y-%m-%d %H:%M')}"
    )
    if profile.name == "smoke":
        print("SMOKE profile: tiny subsets and 1-2 epochs. The code runs; the accuracies mean nothing.")
    elif profile.name == "quick":
        print(
            f"QUICK profile: all the data, short trainings ({profile.epochs} epochs in 03). Accuracies sit "
            "a few points below the laptop profile's."
        )
    return profile


def notebooks(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


def run_course(nb_dir: Path, out_dir: Path, timeout: int = 6 * 3600, only: list[str] | None = None) -> int:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    out_dir.mkdir(parents=True, exist_ok=True)
    profile = config.get_profile()
    print(f"Running the course in the '{profile.name}' profile; executed notebooks -> {out_dir}")
    for path in notebooks(nb_dir):
        if only and not any(path.name.startswith(o) for o in only):
            continue
        start = time.perf_counter()
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(
            nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(nb_dir)}}
        )
        try:
            client.execute()
        except CellExecutionError as err:
            nbformat.write(nb, out_dir / path.name)
            print(
                f"FAILED {path.name} after {time.perf_counter() - start:.0f} s; partial copy in "
                f"{out_dir / path.name}\n{str(err)[-2000:]}",
                file=sys.stderr,
            )
            return 1
        add_run_record(nb, profile.name, time.perf_counter() - start)
        nbformat.write(nb, out_dir / path.name)
        print(f"  {path.name}: {time.perf_counter() - start:.0f} s")
    print(f"Done. Figures and models are in {config.OUTPUT_DIR}.")
    if only is None:
        try:
            page, _ = build_report(config.OUTPUT_DIR, out_dir)
            print(f"Instructor report: {page}")
        except (FileNotFoundError, ValueError) as err:
            print(f"No report: {err}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--notebooks", default=str(config.PROJECT_ROOT / "notebooks"))
    ap.add_argument("--out", default=str(config.OUTPUT_DIR / "run"))
    ap.add_argument("--only", nargs="*", help="notebook number prefixes, e.g. 01 03")
    args = ap.parse_args(argv)
    return run_course(Path(args.notebooks), Path(args.out), only=args.only)


if __name__ == "__main__":
    sys.exit(main())
