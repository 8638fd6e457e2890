"""The headless course runner: executed copies, run records, live progress, banners, failures."""

from __future__ import annotations

import nbformat
import pytest

from fer_utils import course
from fer_utils.report import RUN_RECORD_TAG


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# title")])
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)


@pytest.fixture()
def tiny_course(tmp_path):
    folder = tmp_path / "nbs"
    folder.mkdir()
    _notebook(folder / "01_first.ipynb", "x = 1 + 1\nprint(x)", "print('Epoch 1/2')\nprint('Epoch 2/2')")
    _notebook(folder / "02_second.ipynb", "print('two')", "print('experiment A  val acc 0.51')")
    return folder


def test_run_course_writes_executed_copies_with_run_records(tiny_course, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FER_PROFILE", "quick")
    monkeypatch.setitem(course.MEASURED_MINUTES, "quick", {"01": 0.3, "02": 0.2})
    monkeypatch.setenv("FER2013_DIR", str(tmp_path / "no_data_here"))
    monkeypatch.setattr(course.config, "DEFAULT_FER_DIR", tmp_path / "nothing")
    monkeypatch.setattr(course.config, "DATA_DIR", tmp_path / "nothing")
    out = tmp_path / "run"
    assert course.run_course(tiny_course, out, only=["01", "02"]) == 0
    printed = capsys.readouterr().out
    assert "SYNTHETIC" in printed and "FER2013_DIR" in printed  # the banner on the terminal
    assert "Expected wall time: about 0.5 min" in printed  # 0.3 + 0.2 minutes for the two notebooks
    assert "2/2 code cells" in printed and "training: epoch 2/2" in printed  # live progress
    assert "experiment A val acc 0.51" in printed  # a cell's last printed line when it is not an epoch
    first = nbformat.read(out / "01_first.ipynb", as_version=4)
    assert first.cells[1].metadata["tags"] == [RUN_RECORD_TAG] and "`quick`" in first.cells[1].source
    assert first.cells[2].outputs[0]["text"] == "2\n"
    assert (out / "02_second.ipynb").is_file()
    assert "Kernel is running over TCP" not in printed and (out / "kernel_stderr.log").is_file()


def test_a_failing_notebook_stops_the_run_and_keeps_its_partial_copy(tmp_path, capsys):
    folder = tmp_path / "nbs"
    folder.mkdir()
    _notebook(folder / "01_broken.ipynb", "print('before')", "1 / 0")
    _notebook(folder / "02_never.ipynb", "print('never')")
    out = tmp_path / "run"
    assert course.run_course(folder, out) == 1
    err = capsys.readouterr().err
    assert "FAILED 01_broken.ipynb" in err and "ZeroDivisionError" in err
    partial = nbformat.read(out / "01_broken.ipynb", as_version=4)
    assert partial.cells[1].outputs[0]["text"] == "before\n"
    assert not (out / "02_never.ipynb").exists()


def test_announce_looks_for_the_data_once_and_shows_the_banner_without_it(monkeypatch, capsys, tmp_path):
    from fer_utils import config, data, synthetic

    calls = []
    monkeypatch.setattr(data, "find_dataset", lambda path=None: calls.append(1) or ("folders", tmp_path))
    course._announce(config.get_profile("smoke"), [])
    assert f"Data: FER-2013 (folders) from {tmp_path}" in capsys.readouterr().out and len(calls) == 1

    def missing(path=None):
        raise data.DatasetNotFoundError("not here")

    monkeypatch.setattr(data, "find_dataset", missing)
    course._announce(config.get_profile("smoke"), [])
    out = capsys.readouterr().out
    assert out.startswith(synthetic.SYNTHETIC_BANNER) and "FER-2013 NOT FOUND" in out


@pytest.mark.parametrize("profile, eager", [("smoke", True), ("laptop", False)])
def test_smoke_runs_keras_eagerly_and_the_course_profiles_trace(profile, eager, tmp_path):
    """``Profile.eager`` reaches TensorFlow through the notebooks' setup (in a fresh process: the switch is global)."""
    import os
    import subprocess
    import sys

    code = "import tensorflow as tf; from fer_utils.course import notebook_setup; notebook_setup(); "
    code += "print('EAGER', tf.config.functions_run_eagerly()); "
    code += "next(iter(tf.data.Dataset.range(3).map(lambda x: x + 1)))"  # tf.data's notice must not reach stderr
    env = {**os.environ, "FER_PROFILE": profile, "FER_OUTPUT_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"EAGER {eager}" in done.stdout
    assert "Warning" not in done.stderr, done.stderr[-2000:]  # nbval compares stderr
