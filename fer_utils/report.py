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

# (section title, figure files, the notebook that makes them)
SECTIONS = [
    ("Dataset", ["01_class_distribution.png", "01_sample_faces.png"], "01"),
    ("Model", [], "02"),
    ("Training", ["03_learning_curves.png", "04_experiments.png"], "03 and 04"),
    ("Test metrics", ["06_per_class.png"], "06"),
    ("Confusion matrix", ["06_confusion_counts.png", "06_confusion_normalized.png"], "06"),
    ("Most confused pairs", [], "06"),
    ("Mistakes", ["06_confident_mistakes.png", "06_unsure_correct.png"], "06"),
    ("Grad-CAM", ["06_gradcam.png"], "06"),
]

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{margin-bottom:.2em} h2{border-bottom:2px solid #eee;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f6f6f6} td:first-child,th:first-child{text-align:left}
img{max-width:100%;border:1px solid #eee;margin:.5em 0} .banner{background:#fff3cd;border:2px solid #e0a800;
padding:.8em 1em;font-weight:600;margin:1em 0} .missing{color:#a00} .meta{color:#555} pre{background:#f7f7f7;
padding:.6em;overflow-x:auto;font-size:.85em}
"""


def _table(rows: list[dict] | dict, index_name: str = "") -> str:
    import pandas as pd

    df = pd.DataFrame(rows)
    if index_name:
        df.index.name = index_name
    return df.to_html(float_format=lambda v: f"{v:.3f}", border=0)


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.name)}" src="data:image/png;base64,{data}">'


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


def run_records(run_dir: Path | None) -> list[dict]:
    """Name and run-record text of each executed notebook in ``run_dir``."""
    if run_dir is None or not run_dir.is_dir():
        return []
    import nbformat

    out = []
    for path in sorted(run_dir.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        text = next((c.source for c in nb.cells if RUN_RECORD_TAG in c.get("metadata", {}).get("tags", [])), "")
        out.append({"notebook": path.name, "record": text.lstrip("> ").replace("**", "")})
    return out


def build_report(
    outputs: Path = config.OUTPUT_DIR, run_dir: Path | None = None, dest: Path | None = None
) -> tuple[Path, list[str]]:
    """Write the report page; return its path (default ``<run_dir or outputs>/report.html``)
    and the names of missing figures (each is also flagged on the page).

    Raises ``FileNotFoundError`` with what to run when ``metrics.json`` is missing.
    """
    outputs = Path(outputs)
    metrics_file = outputs / "metrics.json"
    if not metrics_file.exists():
        raise FileNotFoundError(
            f"{metrics_file} not found: run the course first (`make course`, or notebook 06 "
            "alone once a model exists); notebook 06 writes it."
        )
    try:
        m = json.loads(metrics_file.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{metrics_file} is not valid JSON ({err}); re-run notebook 06 to rewrite it.") from None
    figures = outputs / "figures"
    profile = m.get("profile", {}).get("name", "unknown")
    synthetic = bool(m.get("data", {}).get("synthetic"))
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>FER course run report ({profile})</title>"
        f"<style>{STYLE}</style></head><body>",
        "<h1>Face emotion recognition: course run report</h1>",
        f"<p class='meta'>Profile <b>{html.escape(profile)}</b> · {html.escape(str(m.get('hardware', '?')))} · "
        f"metrics written {html.escape(str(m.get('created', '?')))} · "
        f"report built {time.strftime('%Y-%m-%d %H:%M')}</p>",
    ]
    if profile == "smoke":
        parts.append(
            "<div class='banner'>SMOKE RUN: tiny subsets and 1-2 epochs, made to check that the code runs. "
            "The accuracies below mean nothing.</div>"
        )
    if synthetic:
        parts.append(
            "<div class='banner'>SYNTHETIC DATA: FER-2013 was not found, so this run used the generated demo "
            "faces. None of these numbers describe FER-2013.</div>"
        )

    head = m.get("headline", {})
    if head:
        parts.append("<h2>Headline</h2>" + _table([head]).replace("<th>0</th>", "<th></th>"))

    records = run_records(Path(run_dir) if run_dir else None)
    if records:
        parts.append(
            "<h2>Course run</h2><ul>"
            + "".join(
                f"<li><b>{html.escape(r['notebook'])}</b>: {html.escape(r['record'][:300])}</li>" for r in records
            )
            + "</ul>"
        )

    missing = []
    for title, files, notebook in SECTIONS:
        parts.append(f"<h2>{title}</h2>")
        parts.append(_section_body(title, m))
        for name in files:
            if (figures / name).exists():
                parts.append(_img(figures / name))
            else:
                missing.append(name)
                parts.append(f"<p class='missing'>Figure {name} is missing: run notebook {notebook}.</p>")
    versions = m.get("versions", {})
    if versions:
        parts.append(
            "<h2>Versions</h2><p class='meta'>"
            + ", ".join(f"{html.escape(k)} {html.escape(str(v))}" for k, v in versions.items())
            + "</p>"
        )
    parts.append("</body></html>")
    dest = Path(dest) if dest else (Path(run_dir) if run_dir else outputs) / "report.html"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("\n".join(parts), encoding="utf-8")
    return dest, missing


def _section_body(title: str, m: dict) -> str:
    metrics, tta = m.get("metrics", {}), m.get("metrics_tta", {})
    priv = metrics.get("PrivateTest")
    if title == "Dataset":
        d = m.get("data", {})
        sizes = d.get("split_sizes")
        text = f"<p>Source: <code>{html.escape(str(d.get('source', '?')))}</code>.</p>"
        return text + (_table(sizes) if sizes else "<p class='missing'>Split sizes missing from metrics.json.</p>")
    if title == "Model":
        mod = m.get("model", {})
        text = (
            f"<p><b>{html.escape(str(mod.get('name', '?')))}</b>, {mod.get('params', 0):,} parameters, "
            f"from <code>{html.escape(str(mod.get('path', '?')))}</code>.</p>"
        )
        if mod.get("summary"):
            text += f"<pre>{html.escape(mod['summary'])}</pre>"
        return text
    if title == "Training":
        t = m.get("training", {})
        w = m.get("wall_times_seconds", {})
        rows = {
            k: v
            for k, v in {**t, "training seconds": w.get("training"), "evaluation seconds": w.get("evaluation")}.items()
            if v is not None
        }
        return (
            "<table>"
            + "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows.items())
            + "</table>"
        )
    if title == "Test metrics":

        def rows(ms):
            return {
                k: {
                    "n": v["n"],
                    "accuracy": v["accuracy"],
                    "top-2": v["top2_accuracy"],
                    "loss": v["loss"],
                    "macro F1": v["macro"]["f1"],
                    "weighted F1": v["weighted"]["f1"],
                }
                for k, v in ms.items()
            }

        text = (
            "<p>PrivateTest is the headline; validation chose the model; "
            "the test folder is PublicTest + PrivateTest.</p>"
        )
        if metrics:
            text += "<h3>Plain</h3>" + _table(rows(metrics))
        if tta:
            text += "<h3>With test-time augmentation</h3>" + _table(rows(tta))
        if priv:
            per = {k: {**v} for k, v in priv["per_class"].items()}
            for avg in ("macro", "weighted"):
                per[f"{avg} avg"] = {**priv[avg], "support": priv["n"]}
            text += "<h3>Per class (PrivateTest)</h3>" + _table(per)
        return text
    if title == "Confusion matrix" and priv:
        names = list(priv["per_class"])
        rows = {t: dict(zip(names, r)) for t, r in zip(names, priv["confusion_matrix"])}
        return "<p>PrivateTest, rows = true emotion, columns = prediction.</p>" + _table(rows)
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
