"""The instructor report: every section, the smoke banner, embedded figures, clear errors."""

from __future__ import annotations

import json
import re

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fer_utils import evaluation, plots, report  # noqa: E402
from fer_utils.config import CLASS_NAMES, PROFILES  # noqa: E402


def _course_outputs(root, profile="smoke", with_figures=True):
    """An outputs folder shaped like a course run's: metrics.json as notebook 06 writes it
    (built with the real evaluation functions) and the figures the notebooks save."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(7), 20)
    proba = rng.dirichlet(np.ones(7) * 0.5, len(y))
    m = evaluation.metrics_from_proba(y, proba)
    payload = {
        "headline": {"PrivateTest_accuracy": m["accuracy"], "PrivateTest_macro_f1": m["macro"]["f1"]},
        "metrics": {"validation": m, "PrivateTest": m, "PublicTest": m, "test": m},
        "metrics_tta": {"PrivateTest": m},  # written only when validation adopted TTA
        "tta": {"adopted": True, "decided_on": "validation"},
        "model": {
            "path": "outputs/models/fer_cnn_best.keras",
            "name": "fer_cnn_best",
            "params": 123456,
            "summary": "Model: fer_cnn_best\nTotal params: 123,456",
        },
        "training": {"profile": profile, "epochs_run": 2},
        "data": {
            "source": "/data/fer2013",
            "synthetic": False,
            "split_sizes": {c: {"train": 100, "validation": 10} for c in CLASS_NAMES},
        },
        "confused_pairs": evaluation.confused_pairs(m["confusion_matrix"]).to_dict(orient="records"),
        "profile": PROFILES[profile].as_dict(),
        "hardware": "CPU test, 2 cores, no GPU",
        "wall_times_seconds": {"training": 12.5, "evaluation": 3.0},
        "versions": {"python": "3.11"},
        "created": "2026-11-24 12:00:00",
    }
    evaluation.save_metrics(payload, root / "metrics.json", validate=True)
    if with_figures:
        for _, files, _ in report.SECTIONS:
            for name, _caption in files:
                plots.confusion_heatmap(m["confusion_matrix"], save=root / "figures" / name)
                matplotlib.pyplot.close("all")
    return root


def test_report_has_every_section_and_says_smoke(tmp_path):
    out = _course_outputs(tmp_path / "outputs")
    path, missing = report.build_report(out)
    page = path.read_text()
    assert missing == [] and path == out / "report.html"
    for title, _files, _ in report.SECTIONS:
        assert f"<h2>{title}</h2>" in page
    assert "SMOKE RUN" in page
    assert page.count("data:image/png;base64,") == sum(len(f) for _, f, _ in report.SECTIONS)
    assert "fer_cnn_best" in page and "123,456" in page and "Total params" in page
    for name in CLASS_NAMES:
        assert name in page
    assert "<h3>With test-time augmentation (adopted on validation)</h3>" in page


def test_report_says_when_tta_was_not_adopted(tmp_path):
    out = _course_outputs(tmp_path / "outputs")
    m = json.loads((out / "metrics.json").read_text())
    del m["metrics_tta"]  # notebook 06 writes TTA's figures only when validation adopted it
    m["tta"] = {"adopted": False, "decided_on": "validation"}
    evaluation.save_metrics(m, out / "metrics.json", validate=True)
    page = report.build_report(out)[0].read_text()
    assert "With test-time augmentation" not in page and "was not adopted (decided on validation)" in page


def test_report_without_smoke_banner_and_with_missing_figures(tmp_path, capsys):
    out = _course_outputs(tmp_path / "outputs", profile="quick", with_figures=False)
    path, missing = report.build_report(out, dest=tmp_path / "r.html")
    page = path.read_text()
    assert "SMOKE RUN" not in page and "quick" in page
    assert "06_gradcam.png" in missing and "run notebook 06" in page
    assert report.main(["--outputs", str(out), "--dest", str(tmp_path / "r2.html"), "--strict"]) == 1
    assert report.main(["--outputs", str(out), "--dest", str(tmp_path / "r2.html")]) == 0


def test_report_names_the_missing_or_broken_metrics_file(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="notebook 06"):
        report.build_report(tmp_path)
    (tmp_path / "metrics.json").write_text("{broken")
    assert report.main(["--outputs", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "metrics.json" in err and "re-run notebook 06" in err


def test_add_run_record_replaces_rather_than_stacks():
    import nbformat

    from fer_utils.report import add_run_record

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 03 · Training")])
    add_run_record(nb, "smoke", 61.0)
    add_run_record(nb, "smoke", 62.0)
    assert len(nb.cells) == 2 and "1.0 min" in nb.cells[1].source


def test_report_lists_run_records_and_rounds_numbers(tmp_path):
    out = _course_outputs(tmp_path / "outputs")
    runs = out / "runs"
    runs.mkdir()
    record = {
        "notebook": "03_training_and_evaluation.ipynb",
        "profile": "smoke",
        "student_id": "s042",
        "wall_seconds": 61.0,
        "cells_run": 17,
        "cells_failed": 0,
        "started": "2026-11-25T23:58:06+0000",
        "data": {"source": "FER-2013", "integrity": "matches FER-2013"},
    }
    (runs / "03_training_and_evaluation.json").write_text(json.dumps(record))
    path, _ = report.build_report(out)
    page = path.read_text()
    assert "<h2>Course run</h2>" in page and "03_training_and_evaluation.ipynb" in page
    assert "1.0 min" in page and "s042" in page and "FER-2013 (matches FER-2013)" in page
    assert "`" not in page and "**" not in page  # no raw markdown
    assert "12.5" not in page and "0.2 min" in page  # training seconds as minutes
    assert "<details><summary>Layer-by-layer summary" in page
    assert re.search(r"\d\.\d{4,}", re.sub(r"data:image/png;base64,[^\"]+", "", page)) is None  # <= 3 decimals


def test_report_escapes_text_from_metrics(tmp_path):
    out = _course_outputs(tmp_path / "outputs")
    m = json.loads((out / "metrics.json").read_text())
    m["hardware"] = "<script>alert(1)</script>"
    (out / "metrics.json").write_text(json.dumps(m))
    page = report.build_report(out)[0].read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_metrics_schema_rejects_a_payload_without_a_required_field(tmp_path):
    out = _course_outputs(tmp_path / "outputs")
    m = json.loads((out / "metrics.json").read_text())
    evaluation.validate_metrics(m)
    del m["metrics"]["PrivateTest"]["accuracy"]
    with pytest.raises(evaluation.MetricsFileError, match="metrics/PrivateTest: 'accuracy' is a required"):
        evaluation.save_metrics(m, tmp_path / "bad.json", validate=True)
    assert not (tmp_path / "bad.json").exists()  # nothing written
    (out / "metrics.json").write_text(json.dumps(m))
    with pytest.raises(ValueError, match="re-run notebook 06"):
        report.build_report(out)


def _table_after(page: str, heading: str) -> list[list[str]]:
    """The cell texts, row by row, of the first HTML table after ``heading``."""
    from html.parser import HTMLParser

    class Cells(HTMLParser):
        def __init__(self):
            super().__init__()
            self.rows, self.cell, self.done = [], None, False

        def handle_starttag(self, tag, attrs):
            if self.done:
                return
            if tag == "tr":
                self.rows.append([])
            elif tag in ("td", "th"):
                self.cell = ""

        def handle_endtag(self, tag):
            if tag in ("td", "th") and self.cell is not None and not self.done:
                self.rows[-1].append(self.cell.strip())
                self.cell = None
            elif tag == "table":
                self.done = True

        def handle_data(self, data):
            if self.cell is not None:
                self.cell += data

    parser = Cells()
    parser.feed(page[page.index(heading) :])
    return parser.rows


def test_confusion_table_has_the_true_emotion_in_each_row(tmp_path):
    """Every cell of the report's confusion table is metrics.json's count for (row = true, column = predicted)."""
    out = _course_outputs(tmp_path / "outputs")
    priv = json.loads((out / "metrics.json").read_text())["metrics"]["PrivateTest"]
    cm = np.array(priv["confusion_matrix"])
    assert not np.array_equal(cm, cm.T)  # a transposed table would show other numbers
    rows = _table_after(report.build_report(out)[0].read_text(), "<h2>Confusion matrix</h2>")
    header = next(r for r in rows if r[-len(CLASS_NAMES) :] == list(CLASS_NAMES))
    body = {r[0]: r[1:] for r in rows if r and r[0] in CLASS_NAMES and len(r) == len(CLASS_NAMES) + 1}
    assert list(body) == list(CLASS_NAMES)
    predicted = header[-len(CLASS_NAMES) :]
    for t, true_name in enumerate(CLASS_NAMES):
        for cell, pred_name in zip(body[true_name], predicted):
            assert int(cell.replace(",", "")) == cm[t, CLASS_NAMES.index(pred_name)], (true_name, pred_name)
        assert sum(int(c) for c in body[true_name]) == priv["per_class"][true_name]["support"]
