"""Run records: a notebook run leaves a JSON file that names the notebook, its code, the data and the wall time."""

import json
from types import SimpleNamespace

import nbformat
import pytest

from fer_utils import runlog


@pytest.fixture
def notebook(tmp_path, monkeypatch):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# T"), nbformat.v4.new_code_cell("x = 1")]
    path = tmp_path / "03_demo.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    monkeypatch.setenv("FER_STUDENT_ID", "s123")
    yield path
    monkeypatch.setattr(runlog, "_record", None)


def test_record_names_notebook_student_profile_and_data(notebook, tmp_path):
    path = runlog.start("laptop", "CPU X, 2 cores", {"keras": "3"}, folder=tmp_path / "runs")
    assert path == tmp_path / "runs" / "03_demo.json"
    runlog.note("data", {"source": "FER-2013", "integrity": "matches FER-2013"})
    runlog._after_cell(SimpleNamespace(success=True))
    runlog._after_cell(SimpleNamespace(success=False))
    rec = json.loads(path.read_text())
    assert rec["notebook"] == "03_demo.ipynb" and rec["student_id"] == "s123"
    assert rec["profile"] == "laptop" and rec["data"]["source"] == "FER-2013"
    assert (rec["cells_run"], rec["cells_failed"]) == (2, 1)
    assert rec["wall_seconds"] >= 0


def test_code_hash_ignores_outputs_but_not_code(notebook):
    before = runlog.code_sha256(notebook)
    nb = nbformat.read(notebook, 4)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    nbformat.write(nb, notebook)
    assert runlog.code_sha256(notebook) == before
    nb.cells[1].source = "x = 2"
    nbformat.write(nb, notebook)
    assert runlog.code_sha256(notebook) != before


def test_note_without_a_record_is_ignored(monkeypatch):
    monkeypatch.setattr(runlog, "_record", None)
    runlog.note("data", {"source": "synthetic"})
    assert runlog.current() is None
