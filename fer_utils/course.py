"""Run the six course notebooks headless, in order, and save the executed copies.

    python -m fer_utils.course --out outputs/run          # what `make course` runs

The profile comes from ``FER_PROFILE`` (default ``laptop``). A failing notebook stops the
run with its name; the notebooks already executed are kept.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

from . import config, runlog
from .report import add_run_record, build_report
from .runtime import silenced_native_stderr


def notebook_setup(seed: int = 42):
    """The setup every notebook runs: seed everything, create the output folders, print profile,
    hardware and versions.

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
    import pandas as pd

    pd.set_option("display.width", 200)  # wide tables print as one block, not two joined by backslashes
    pd.set_option("display.max_columns", None)
    warnings.filterwarnings("ignore", message=".*`shuffle=True` was passed.*")

    profile = config.get_profile()
    set_seed(seed)
    for folder in (config.FIGURES_DIR, config.MODELS_DIR):  # a notebook run alone saves its figures too
        folder.mkdir(parents=True, exist_ok=True)
    versions = {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "fer_utils": fer_utils.__version__,
    }
    print(f"Profile: {profile.name} (set FER_PROFILE=smoke|quick|laptop|full)  |  {hardware}")
    print(
        f"Python {versions['python']}, TensorFlow {versions['tensorflow']}, Keras {versions['keras']}, "
        f"fer_utils {versions['fer_utils']}  |  started {time.strftime('%Y-%m-%d %H:%M')}"
    )
    record = runlog.start(profile.name, hardware, versions)
    print(f"Run record (profile, data, hardware, wall time; student id from FER_STUDENT_ID): {_short(record)}")
    if profile.eager:
        tf.config.run_functions_eagerly(True)
        # tf.data says once per process that its functions still trace: stderr that nbval would compare
        warnings.filterwarnings("ignore", message="Even though the `tf.config.experimental_run_functions_eagerly`")
    if profile.name == "smoke":
        print(
            "SMOKE profile: tiny subsets and 1-2 epochs, Keras run eagerly (no graph tracing). "
            "The code runs; the accuracies mean nothing."
        )
    elif profile.name == "quick":
        print(
            f"QUICK profile: all the data, short trainings ({profile.epochs} epochs in 03). Its accuracies are "
            "not those of the default laptop profile (see the README's profile table)."
        )
    return profile


def _short(path: Path) -> str:
    """``path`` relative to the project root when it lies inside it (shorter, and the same on every machine)."""
    try:
        return str(Path(path).resolve().relative_to(config.PROJECT_ROOT))
    except ValueError:
        return str(path)


def notebooks(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


#: Measured wall minutes per notebook on the project's 2-core AMD EPYC CPU (no GPU), used for the
#: time estimate that ``make course`` prints; a profile missing here has no estimate yet.
MEASURED_MINUTES: dict[str, dict[str, float]] = {
    # the committed run (01 and 02 on 2026-12-01 at 13:59, 03 and 04 on 2026-12-02 at 09:21, 05 and 06 re-run
    # at 10:58 on the same model), on a 2-core AMD EPYC with AVX2 only (the slowest machine the course runs on;
    # 03's epochs took 99-184 s that day)
    "laptop": {"01": 0.6, "02": 0.2, "03": 38.3, "04": 35.3, "05": 0.5, "06": 2.3},
    # nbval in CI, 2026-12-02 (fresh-clone run, 804 s), on the same CPU while the unit tests ran beside it
    "smoke": {"01": 0.4, "02": 0.3, "03": 2.1, "04": 5.5, "05": 1.1, "06": 1.5},
    # 03 and 04 timed on 2026-12-02 (same CPU); 01, 02, 05 and 06 do the same work as in `laptop`
    "quick": {"01": 0.6, "02": 0.2, "03": 19.3, "04": 32.9, "05": 0.6, "06": 3.0},
}

EPOCH_PATTERN = re.compile(r"Epoch (\d+)/(\d+)")


def _progress_client(nb, bar, timeout: int, nb_dir: Path):
    """An nbclient ``NotebookClient`` that advances ``bar`` per code cell and shows the epoch that
    a training cell last printed (Keras' ``Epoch i/n`` lines), else the cell's last printed line."""
    from nbclient import NotebookClient

    class ProgressClient(NotebookClient):
        def output(self, outs, msg, display_id, cell_index):
            text = msg.get("content", {}).get("text", "")
            if isinstance(text, str) and text.strip():
                found = EPOCH_PATTERN.findall(text)
                if found:
                    bar.set_postfix_str(f"training: epoch {found[-1][0]}/{found[-1][1]}")
                elif msg.get("content", {}).get("name") == "stdout":  # e.g. one line per experiment in 04
                    bar.set_postfix_str(" ".join(text.strip().splitlines()[-1].split())[:60])
            return super().output(outs, msg, display_id, cell_index)

    def started(cell, cell_index, **_):
        bar.set_postfix_str("")

    def completed(cell, cell_index, **_):
        if cell.cell_type == "code":
            bar.update(1)

    return ProgressClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(nb_dir)}},
        on_cell_start=started,
        on_cell_complete=completed,
    )


def _minutes(m: float) -> str:
    return f"{m:.1f}" if m < 10 else f"{m:.0f}"


def _announce(profile, selected: list[Path]) -> None:
    """Say which data the run uses (a banner for synthetic faces) and how long it should take."""
    from .data import data_source_line

    print(data_source_line(banner=True))
    minutes = MEASURED_MINUTES.get(profile.name)
    if minutes:
        total = sum(minutes.get(p.name[:2], 0.0) for p in selected)
        print(f"Expected wall time: about {_minutes(total)} min on a 2-core CPU (measured), less with a GPU.")
    else:
        print(f"No measured wall time for the '{profile.name}' profile yet (see the README's profile table).")


def run_course(nb_dir: Path, out_dir: Path, timeout: int = 6 * 3600, only: list[str] | None = None) -> int:
    """Execute the notebooks in order with live progress; write the executed copies to ``out_dir``.

    The kernels' own stderr (TensorFlow's C++ logging, Jupyter's transport notice) goes to
    ``out_dir/kernel_stderr.log`` instead of the terminal; cell errors still reach the terminal.
    """
    import nbformat
    from nbclient.exceptions import CellExecutionError
    from tqdm import tqdm

    out_dir.mkdir(parents=True, exist_ok=True)
    profile = config.get_profile()
    selected = [p for p in notebooks(nb_dir) if not only or any(p.name.startswith(o) for o in only)]
    print(f"Running the course in the '{profile.name}' profile; executed notebooks -> {out_dir}")
    _announce(profile, selected)
    estimate = MEASURED_MINUTES.get(profile.name, {})
    left = sum(estimate.get(p.name[:2], 0.0) for p in selected)
    with open(out_dir / "kernel_stderr.log", "w") as kernel_log:
        for path in selected:
            start = time.perf_counter()
            nb = nbformat.read(path, as_version=4)
            n_code = sum(c.cell_type == "code" for c in nb.cells)
            label = path.name.split("_")[0]
            if estimate:
                label += f" (about {_minutes(estimate.get(path.name[:2], 0.0))} of {_minutes(left)} min left)"
            bar_format = "{desc}: {n_fmt}/{total_fmt} code cells |{bar}| {elapsed}{postfix}"
            with tqdm(total=n_code, desc=label, bar_format=bar_format, file=sys.stdout, dynamic_ncols=True) as bar:
                client = _progress_client(nb, bar, timeout, nb_dir)
                os.environ["JPY_SESSION_NAME"] = str(path.resolve())  # names the kernel's run record
                try:
                    client.execute(stderr=kernel_log)
                except CellExecutionError as err:
                    nbformat.write(nb, out_dir / path.name)
                    bar.close()
                    print(
                        f"FAILED {path.name} after {time.perf_counter() - start:.0f} s; partial copy in "
                        f"{out_dir / path.name}\n{str(err)[-2000:]}",
                        file=sys.stderr,
                    )
                    return 1
            left -= estimate.get(path.name[:2], 0.0)
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
