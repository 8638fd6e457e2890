"""One self-contained HTML page for instructors, from the outputs of a course run.

    python -m fer_utils.report --run outputs/run        # what `make report` runs

Reads ``metrics.json`` (written by notebook 06), the figures the notebooks saved under
``outputs/figures/`` and, when ``--run`` names the folder of executed notebooks, their run
records (profile, wall time). Figures are embedded, so the page can be mailed or uploaded as
one file. Missing pieces are listed on the page with the notebook that produces them.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import sys
import time
from pathlib import Path

from . import config

# (section title, [(figure file, caption)], the notebook that makes them)
SECTIONS = [
    (
        "Dataset",
        [
            (
                "01_class_distribution.png",
                "Notebook 01: faces per class in the whole dataset (train and test).",
            ),
            ("01_sample_faces.png", "Notebook 01: sample training faces."),
        ],
        "01",
    ),
    ("Model", [], "02"),
    (
        "Training",
        [
            ("03_learning_curves.png", "Notebook 03: accuracy and loss per epoch, training and validation."),
            ("04_experiments.png", "Notebook 04: validation accuracy of each controlled experiment."),
        ],
        "03 and 04",
    ),
    ("Test metrics", [("06_per_class.png", "Notebook 06: precision, recall and F1 per class (PrivateTest).")], "06"),
    (
        "Confusion matrix",
        [
            ("06_confusion_counts.png", "Notebook 06: PrivateTest confusion matrix, counts."),
            (
                "06_confusion_normalized.png",
                "Notebook 06: PrivateTest confusion matrix, rows divided by their totals.",
            ),
        ],
        "06",
    ),
    ("Most confused pairs", [], "06"),
    (
        "Mistakes",
        [
            ("06_confident_mistakes.png", "Notebook 06: the most confident wrong predictions."),
            ("06_unsure_correct.png", "Notebook 06: correct predictions with the least confidence."),
        ],
        "06",
    ),
    ("Grad-CAM", [("06_gradcam.png", "Notebook 06: where the last convolutional block looked.")], "06"),
]


def _float_cell(v: float) -> str:
    return f"{int(v):,}" if v.is_integer() else f"{v:.3f}"


def _table(rows, index_name: str = "") -> str:
    """An HTML table of a DataFrame, a list of row dicts, or a dict of *columns* (pandas' reading)."""
    import pandas as pd

    df = pd.DataFrame(rows)
    if index_name:
        df.index.name = index_name
    return df.to_html(formatters=None, float_format=_float_cell, border=0)


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _number(v):
    """Numbers as a reader wants them: integers with separators, fractions to 3 decimals."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) >= 10):
        return f"{int(v):,}"
    if isinstance(v, float):
        return f"{v:.3f}"
    return v


RUN_RECORD_TAG = "run-record"


def add_run_record(nb, profile_name: str, seconds: float) -> None:
    """Put (or replace) a short markdown cell after the title: profile, hardware, date and
    wall time of this execution, so a reader of the saved notebook sees them first."""
    import nbformat

    import fer_utils

    from .runtime import hardware_description, silenced_native_stderr

    with silenced_native_stderr():  # the first TensorFlow import logs CUDA probing to fd 2
        hardware = hardware_description()
    text = (
        f"> **Executed outputs below:** profile `{profile_name}`, {hardware}, "
        f"wall time {seconds / 60:.1f} min, {time.strftime('%Y-%m-%d')}, fer_utils {fer_utils.__version__}. "
        "The time includes starting the kernel and imports; the last cell prints the time of the cells alone. "
        "Run it yourself with `make course` (see the README); in CI the `smoke` profile re-runs it."
    )
    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata["tags"] = [RUN_RECORD_TAG]
    nb.cells = [c for c in nb.cells if RUN_RECORD_TAG not in c.get("metadata", {}).get("tags", [])]
    nb.cells.insert(1, cell)


def run_record_rows(outputs: Path) -> list[dict]:
    """One row per notebook from the run records in ``outputs/runs/`` (``fer_utils.runlog``)."""
    rows = []
    for path in sorted((Path(outputs) / "runs").glob("[0-9][0-9]_*.json")):
        try:
            r = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        data = r.get("data") or {}
        rows.append(
            {
                "notebook": r.get("notebook") or path.stem,
                "profile": r.get("profile", "?"),
                "data": f"{data.get('source', 'not loaded')}"
                + (f" ({data['integrity']})" if data.get("integrity") else ""),
                "wall": f"{r.get('wall_seconds', 0) / 60:.1f} min",
                "cells": f"{r.get('cells_run', 0)} ({r.get('cells_failed', 0)})",
                "student": r.get("student_id") or "",
                "started": str(r.get("started", ""))[:16].replace("T", " "),
            }
        )
    return rows


def build_report(
    outputs: Path = config.OUTPUT_DIR, run_dir: Path | None = None, dest: Path | None = None
) -> tuple[Path, list[str]]:
    """Write the report page; return its path (default ``<run_dir or outputs>/report.html``)
    and the names of missing figures (each is also flagged on the page).

    Raises ``FileNotFoundError`` with what to run when ``metrics.json`` is missing, and
    ``evaluation.MetricsFileError`` (a ``ValueError``) when it does not match the schema.
    """
    import jinja2

    from .evaluation import load_metrics

    outputs = Path(outputs)
    metrics_file = outputs / "metrics.json"
    if not metrics_file.exists():
        raise FileNotFoundError(
            f"{metrics_file} not found: run the course first (`make course`, or notebook 06 "
            "alone once a model exists); notebook 06 writes it."
        )
    m = load_metrics(metrics_file)
    figures = outputs / "figures"
    profile = m["profile"]["name"]
    banners = []
    if profile == "smoke":
        banners.append(
            "SMOKE RUN: tiny subsets and 1-2 epochs, made to check that the code runs. "
            "The accuracies below mean nothing."
        )
    if m["data"]["synthetic"]:
        banners.append(
            "SYNTHETIC DATA: FER-2013 was not found, so this run used the generated demo faces. "
            "None of these numbers describe FER-2013."
        )
    sections, missing = [], []
    for title, files, notebook in SECTIONS:
        figs = []
        for name, caption in files:
            if (figures / name).exists():
                figs.append({"name": name, "src": _data_uri(figures / name), "caption": caption})
            else:
                missing.append(name)
                figs.append({"name": name, "src": None, "caption": caption})
        sections.append({"title": title, "notebook": notebook, "body": _section_body(title, m), "figures": figs})
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("fer_utils", "templates"), autoescape=True, undefined=jinja2.StrictUndefined
    )
    page = env.get_template("report.html.j2").render(
        profile=profile,
        hardware=m["hardware"],
        created=m["created"],
        built=time.strftime("%Y-%m-%d %H:%M"),
        banners=banners,
        headline=[(k.replace("_", " "), _number(v)) for k, v in m["headline"].items()],
        runs=run_record_rows(outputs),
        sections=sections,
        versions=list(m.get("versions", {}).items()),
    )
    dest = Path(dest) if dest else (Path(run_dir) if run_dir else outputs) / "report.html"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(page, encoding="utf-8")
    return dest, missing


def _section_body(title: str, m: dict) -> str:
    """The HTML (tables built by pandas, text escaped) of one section, above its figures."""
    metrics, tta = m["metrics"], m.get("metrics_tta", {})
    priv = metrics.get("PrivateTest")
    if title == "Dataset":
        d = m["data"]
        sizes = d.get("split_sizes")
        text = (
            f"<p>Source: <code>{html.escape(str(d['source']))}</code>. The table gives the faces per split "
            f"that this run used (profile <b>{html.escape(m['profile']['name'])}</b>); the chart below counts "
            "the whole dataset.</p>"
        )
        return text + (_table(sizes) if sizes else "<p class='missing'>Split sizes missing from metrics.json.</p>")
    if title == "Model":
        mod = m["model"]
        text = (
            f"<p><b>{html.escape(str(mod['name']))}</b>, {int(mod['params']):,} parameters, "
            f"from <code>{html.escape(str(mod['path']))}</code>.</p>"
        )
        if mod.get("summary"):
            lines = mod["summary"].count("\n") + 1
            text += (
                f"<details><summary>Layer-by-layer summary ({lines} lines)</summary>"
                f"<pre>{html.escape(mod['summary'])}</pre></details>"
            )
        return text
    if title == "Training":
        t = m.get("training", {})
        w = m.get("wall_times_seconds", {})
        rows = {k: v for k, v in t.items() if v is not None and not isinstance(v, dict)}
        for key, label in (("training", "training time"), ("evaluation", "evaluation time")):
            if w.get(key) is not None:
                rows[label] = f"{w[key] / 60:.1f} min"
        return (
            "<table>"
            + "".join(
                f"<tr><th>{html.escape(str(k).replace('_', ' '))}</th><td>{html.escape(str(_number(v)))}</td></tr>"
                for k, v in rows.items()
            )
            + "</table>"
        )
    if title == "Test metrics":
        from .evaluation import summary_rows

        labels = {"top2_accuracy": "top-2", "macro_f1": "macro F1", "weighted_f1": "weighted F1"}

        def rows(ms):
            return {k: {labels.get(c, c): v for c, v in row.items()} for k, row in summary_rows(ms).items()}

        text = (
            "<p>PrivateTest is the headline; validation chose the model; "
            "the test folder is PublicTest + PrivateTest.</p>"
        )
        text += "<h3>Plain</h3>" + _table(rows(metrics))
        decision = m.get("tta", {})
        if tta:
            text += "<h3>With test-time augmentation (adopted on validation)</h3>" + _table(rows(tta))
        elif decision.get("adopted") is False:
            text += "<p>Test-time augmentation was not adopted (decided on validation); no figures for it.</p>"
        if priv:
            per = {k: {**v} for k, v in priv["per_class"].items()}
            for avg in ("macro", "weighted"):
                per[f"{avg} avg"] = {**priv[avg], "support": priv["n"]}
            text += "<h3>Per class (PrivateTest)</h3>" + _table(per)
        return text
    if title == "Confusion matrix" and priv:
        import pandas as pd

        names = list(priv["per_class"])
        counts = pd.DataFrame(priv["confusion_matrix"], index=names, columns=names)  # row i: true class i
        counts.columns.name = "true \\ predicted"
        return "<p>PrivateTest, rows = true emotion, columns = prediction.</p>" + _table(counts)
    if title == "Most confused pairs":
        pairs = m.get("confused_pairs")
        return _table(pairs) if pairs else "<p class='missing'>No confused pairs in metrics.json.</p>"
    if title == "Mistakes":
        return "<p>Most confident wrong predictions, and correct but least confident ones (PrivateTest).</p>"
    if title == "Grad-CAM":
        return "<p>Where the last convolutional block looked: correct predictions beside wrong ones.</p>"
    return ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--outputs", default=str(config.OUTPUT_DIR), help="folder with metrics.json and figures/")
    ap.add_argument("--run", default=None, help="folder of executed notebooks from `make course` (optional)")
    ap.add_argument("--dest", default=None, help="where to write the page (default: <run>/report.html)")
    ap.add_argument("--strict", action="store_true", help="exit with status 1 if any figure is missing (CI)")
    args = ap.parse_args(argv)
    try:
        path, missing = build_report(
            Path(args.outputs), Path(args.run) if args.run else None, Path(args.dest) if args.dest else None
        )
    except (FileNotFoundError, ValueError) as err:
        print(f"report: {err}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    if missing:
        print(f"report: {len(missing)} figure(s) missing: {', '.join(missing)}", file=sys.stderr)
        return 1 if args.strict else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
