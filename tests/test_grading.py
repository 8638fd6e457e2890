"""Assignments and grading (fer_utils.grading, otter-grader): what students get hides the solutions
and the hidden checks, an untouched answer fails every check, and a class is graded end to end in the
smoke profile (one student's six notebooks; the other cases on one or two notebooks each)."""

from __future__ import annotations

import ast
import builtins
import csv
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from unittest import mock

import nbformat
import numpy as np
import pandas as pd
import pytest
from conftest import build_once

from fer_utils import config, grading

NOTEBOOK_DIR = config.PROJECT_ROOT / "notebooks"
AUTO = [e for e in grading.EXERCISES if not e.manual]


@pytest.fixture(scope="session")  # otter assign takes about a minute: once per test run
def dist(tmp_path_factory):
    return build_once(tmp_path_factory, "dist-grading", grading.make_assignments)


def _solution_lines(name: str) -> set[str]:
    """Code lines of the instructor's solution cells that appear nowhere else in the notebook."""
    nb = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    start = next(i for i, c in enumerate(nb.cells) if c.source.startswith("## Exercises"))
    outside = {line.strip() for c in nb.cells[:start] for line in c.source.splitlines()}
    lines = set()
    for cell in nb.cells[start:]:
        if cell.cell_type == "code" and cell.source[:3] in ("# 1", "# 2", "# 3", "# 4"):
            lines |= {s for line in cell.source.splitlines() if len(s := line.strip()) > 12 and s not in outside}
    return lines


@pytest.mark.parametrize("key", sorted(grading.NOTEBOOKS))
def test_student_notebooks_carry_no_solution_and_no_hidden_check(dist, key):
    name = grading.NOTEBOOKS[key]
    student = (dist / "student" / f"{name}.ipynb").read_text()
    nb = nbformat.reads(student, as_version=4)
    code = "\n".join(c.source for c in nb.cells)
    stubs = "\n".join(e.stub for e in grading.EXERCISES if e.notebook == key)
    student_lines = {line.strip() for line in code.splitlines()}
    leaked = [line for line in _solution_lines(name) if line in student_lines and line not in stubs]
    assert not leaked, f"solution code in the student notebook: {leaked}"
    assert "# HIDDEN" not in student and "BEGIN SOLUTION" not in student
    for e in (e for e in grading.EXERCISES if e.notebook == key):
        for check in e.hidden:
            assert check.splitlines()[-1] not in code, f"{e.name}: a hidden check is in the student notebook"
        if not e.manual:
            assert e.stub.splitlines()[0] in code and f'grader.check("{e.name}")' in code
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")


def test_autograders_hold_every_check(dist):
    for e in AUTO:
        with zipfile.ZipFile(dist / "autograder" / f"{grading.NOTEBOOKS[e.notebook]}.zip") as z:
            test = z.read(f"tests/{e.name}.py").decode()
        test = test.replace("'", '"')
        assert test.count('"hidden": False') == len(e.public) and test.count('"hidden": True') == len(e.hidden)
        assert f'"points": {e.points}' in test


def test_autograders_use_a_python_the_course_supports(dist):
    """otter's default autograder Python (3.13) is outside ``requires-python``; the zips pin ours."""
    for name in grading.NOTEBOOKS.values():
        with zipfile.ZipFile(dist / "autograder" / f"{name}.zip") as z:
            env = z.read("environment.yml").decode()
        assert f"python={grading.AUTOGRADER_PYTHON}" in env, name


@pytest.mark.parametrize("exercise", AUTO, ids=lambda e: e.name)
def test_an_untouched_answer_fails_every_check(exercise):
    """The answer as distributed (``name = ...``) fails each public and hidden check, so an untouched
    exercise scores 0 in every notebook; the end-to-end test shows it through otter on notebooks 01-02.
    The notebook's other names are stand-ins here: every check must fail on the answer itself."""
    answers = re.findall(r"^(\w+) = \.\.\.", exercise.stub, flags=re.M)
    assert answers, f"{exercise.name}: the stub assigns no answer as '<name> = ...'"
    for check in (*exercise.public, *exercise.hidden):
        names = {n.id for n in ast.walk(ast.parse(check)) if isinstance(n, ast.Name)} - set(dir(builtins))
        assert names & set(answers), f"{exercise.name}: a check that ignores the answer: {check}"
        scope = {n: mock.MagicMock(name=n) for n in names} | {"np": np, "pd": pd, "config": config}
        scope |= dict.fromkeys(answers, ...)
        with pytest.raises(Exception):  # noqa: B017 - any error or failed assert scores 0
            exec(check, scope)


def test_rubric_lists_every_exercise_and_is_committed(dist):
    text = grading.rubric()
    assert all(f"| {e.name} | {e.points} |" in text for e in grading.EXERCISES)
    assert "all or nothing" in text  # the scoring scheme
    assert (dist / "RUBRIC.md").read_text() == text
    committed = NOTEBOOK_DIR / "RUBRIC.md"
    assert committed.read_text() == text, "notebooks/RUBRIC.md is stale: copy dist/RUBRIC.md after make assignments"


def test_a_missing_autograder_or_submission_folder_is_explained(tmp_path):
    with pytest.raises(grading.GradingError, match="make assignments"):
        grading.grade(tmp_path, tmp_path / "nothing", tmp_path / "out")


def _gradebook(path):
    with open(path) as f:
        return {row["student"]: row for row in csv.DictReader(f)}


@pytest.mark.slow_first  # the longest test: eight notebooks in smoke
def test_a_class_graded_end_to_end(dist, tmp_path, monkeypatch):
    """The instructor notebooks score full marks (all six notebooks: the one student graded end to end),
    the student notebooks as distributed score zero (01 and 02; an untouched answer fails every check in
    every notebook, see above). Runs eight notebooks in smoke, two at a time."""
    monkeypatch.setenv("FER_PROFILE", "smoke")
    class_a = tmp_path / "class_a"
    for folder in (class_a / "alice", class_a / "bob"):
        folder.mkdir(parents=True)
    for name in grading.NOTEBOOKS.values():
        shutil.copy(NOTEBOOK_DIR / f"{name}.ipynb", class_a / "alice")
    for name in (grading.NOTEBOOKS["01"], grading.NOTEBOOKS["02"]):
        shutil.copy(dist / "student" / f"{name}.ipynb", class_a / "bob")

    book_a = _gradebook(grading.grade(class_a, dist, tmp_path / "grades_a", jobs=2))  # two notebooks at a time

    with open(tmp_path / "grades_a" / "gradebook.csv") as f:
        assert next(csv.reader(f)) == grading.gradebook_columns()
    possible = sum(e.points for e in AUTO)
    alice, bob = book_a["alice"], book_a["bob"]
    assert {e.name: float(alice[e.name]) for e in AUTO} == {e.name: float(e.points) for e in AUTO}, (
        tmp_path / "grades_a" / "feedback" / "alice.md"
    ).read_text()
    assert float(alice["auto_total"]) == possible == int(alice["auto_possible"]) == float(alice["total"])
    assert alice["nb01_ex3"] == "" and float(alice["percent"]) == round(100 * possible / int(alice["possible"]), 2)
    assert all(float(bob[e.name]) == 0 for e in AUTO) and float(bob["auto_total"]) == 0
    assert bob["nb01_profile"] == ""  # as distributed it was never run: no run record to show
    assert bob["nb01_data"] == bob["nb02_data"] == "" and bob["nb03_data"] == "missing"  # graded, not absent


def test_a_class_as_an_archive_with_a_broken_cell(dist, tmp_path, monkeypatch):
    """A class handed in as an archive instead of a folder: one broken cell costs that exercise only, and
    its error reaches the feedback. Runs two notebooks in smoke."""
    monkeypatch.setenv("FER_PROFILE", "smoke")
    class_b, carol = tmp_path / "class_b", tmp_path / "carol"
    for folder in (class_b, carol):
        folder.mkdir(parents=True)
    first, second = grading.NOTEBOOKS["01"], grading.NOTEBOOKS["02"]
    nb = nbformat.read(NOTEBOOK_DIR / f"{first}.ipynb", as_version=4)
    broken = next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith("# 1"))
    broken.source = 'raise RuntimeError("carol broke exercise 1")\n' + broken.source
    nbformat.write(nb, carol / f"{first}.ipynb")
    shutil.copy(NOTEBOOK_DIR / f"{second}.ipynb", carol)
    shutil.make_archive(str(class_b / "carol"), "zip", carol)  # an archive instead of a folder

    book_b = _gradebook(grading.grade(class_b, dist, tmp_path / "grades_b"))

    row = book_b["carol"]
    assert float(row["nb01_ex1"]) == 0 and float(row["nb01_ex2"]) == 2
    assert float(row["nb02_ex1"]) == 2 and float(row["nb02_ex2"]) == 2 and float(row["nb02_ex4"]) == 2
    assert float(row["auto_total"]) == 8 and row["nb03_data"] == "missing"
    feedback = (tmp_path / "grades_b" / "feedback" / "carol.md").read_text()
    assert "RuntimeError: carol broke exercise 1" in feedback and "not submitted" in feedback
    assert "to_dict() ==" not in feedback and "hidden checks passed: 0 of 1" in feedback  # counted, not shown


# --------------------------------------------------------------------------- grading defects (issue 26)
# These grade tiny notebooks or stand in for otter: none runs a course notebook.
def _fake_dist(tmp_path):
    """A dist folder whose autograders exist (for ``grade``'s check) but are never opened."""
    dist = tmp_path / "dist"
    (dist / "autograder").mkdir(parents=True)
    for name in grading.NOTEBOOKS.values():
        (dist / "autograder" / f"{name}.zip").write_bytes(b"")
    return dist


def _fake_grading(monkeypatch, points=None):
    """``grade_notebook`` without otter: every checked exercise scores ``points[student]`` (default:
    full points). Returns the list of (student, notebook) graded."""
    graded = []

    def grade_notebook(notebook, autograder, student, work, timeout=None):
        graded.append((student, notebook))
        key = next(k for k, name in grading.NOTEBOOKS.items() if notebook.name.startswith(name))
        scores = {e.name: (points or {}).get(student, e.points) for e in AUTO if e.notebook == key}
        return {"scores": scores, "errors": [], "record": {"profile": "smoke", "data": "synthetic"}, "outputs": {}}

    monkeypatch.setattr(grading, "grade_notebook", grade_notebook)
    return graded


def test_checkpoints_are_never_graded_and_the_exact_name_wins(tmp_path, monkeypatch):
    graded = _fake_grading(monkeypatch)
    first, second = grading.NOTEBOOKS["01"], grading.NOTEBOOKS["02"]
    alice = tmp_path / "class" / "alice"
    (alice / ".ipynb_checkpoints").mkdir(parents=True)
    (alice / "work").mkdir()
    exact = alice / "work" / f"{first}.ipynb"
    for path in (alice / ".ipynb_checkpoints" / f"{first}-checkpoint.ipynb", alice / f"{first}-checkpoint.ipynb"):
        path.write_text("{}")
    exact.write_text("{}")
    (alice / f"{first} (1).ipynb").write_text("{}")
    older, newer = alice / f"{second} (1).ipynb", alice / f"{second}_final.ipynb"  # only copies of 02
    older.write_text("{}")
    newer.write_text("{}")
    os.utime(older, (1e9, 1e9))
    grading.grade(tmp_path / "class", _fake_dist(tmp_path), tmp_path / "grades")
    assert [path for _, path in graded] == [exact, newer]
    feedback = (tmp_path / "grades" / "feedback" / "alice.md").read_text()
    assert f"graded {newer.name} (also found: {older.name})" in feedback
    assert f"graded work/{first}.ipynb (also found: {first} (1).ipynb)" in feedback and "checkpoint" not in feedback


def test_a_broken_archive_is_reported_once_and_a_zip_in_a_zip_is_opened(tmp_path, monkeypatch):
    graded = _fake_grading(monkeypatch)
    first = grading.NOTEBOOKS["01"]
    class_ = tmp_path / "class"
    class_.mkdir()
    (class_ / "dave.zip").write_bytes(b"a text file renamed to .zip")
    with zipfile.ZipFile(tmp_path / "inner.zip", "w") as z:
        z.writestr(f"erin/{first}.ipynb", "{}")
    with zipfile.ZipFile(class_ / "erin.zip", "w") as z:  # a zip in the zip: graded
        z.write(tmp_path / "inner.zip", "submission.zip")
    with zipfile.ZipFile(class_ / "frank.zip", "w") as z:  # a zip in a zip in the zip: reported
        z.write(class_ / "erin.zip", "again.zip")
    with zipfile.ZipFile(class_ / "grace.zip", "w") as z:  # a broken zip in the zip: reported
        z.writestr("notebooks.zip", "not a zip")
    book = _gradebook(grading.grade(class_, _fake_dist(tmp_path), tmp_path / "grades"))

    def feedback(student):
        return (tmp_path / "grades" / "feedback" / f"{student}.md").read_text()

    assert [(student, path.name) for student, path in graded] == [("erin", f"{first}.ipynb")]
    assert float(book["erin"]["nb01_ex1"]) == 2 and "not submitted" in feedback("erin")  # 02 to 06
    for student, says in [
        ("dave", "dave.zip is not a readable .zip archive (BadZipFile"),
        ("frank", "frank.zip: its notebooks are in a .zip inside a .zip inside it"),
        ("grace", "grace.zip: notebooks.zip is not a readable .zip archive"),
    ]:
        assert says in feedback(student) and "not submitted" not in feedback(student), feedback(student)
        assert book[student]["note"].startswith(says) and float(book[student]["auto_total"]) == 0


def test_grading_again_updates_the_gradebook_by_student(tmp_path, monkeypatch):
    dist, out, first = _fake_dist(tmp_path), tmp_path / "grades", grading.NOTEBOOKS["01"]
    for student in ("alice", "bob"):
        (tmp_path / "monday" / student).mkdir(parents=True)
        (tmp_path / "monday" / student / f"{first}.ipynb").write_text("{}")
    (tmp_path / "friday" / "bob").mkdir(parents=True)
    (tmp_path / "friday" / "bob" / f"{first}.ipynb").write_text("{}")
    _fake_grading(monkeypatch)
    grading.grade(tmp_path / "monday", dist, out)
    book = _gradebook(out / "gradebook.csv")
    assert book["bob"]["nb01_ex3"] == "" and float(book["bob"]["total"]) == 4  # hand-graded: for the instructor
    book["bob"]["nb01_ex3"] = "1"  # what the instructor enters
    with open(out / "gradebook.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=grading.gradebook_columns())
        writer.writeheader()
        writer.writerows(book.values())

    _fake_grading(monkeypatch, points={"bob": 0})
    grading.grade(tmp_path / "friday", dist, out)  # bob only, re-graded
    with open(out / "gradebook.csv") as f:
        assert next(csv.reader(f)) == grading.gradebook_columns()
    book = _gradebook(out / "gradebook.csv")
    possible = sum(e.points for e in grading.EXERCISES)
    assert float(book["alice"]["nb01_ex1"]) == 2 and float(book["alice"]["total"]) == 4
    assert float(book["alice"]["percent"]) == round(100 * 4 / possible, 2)
    assert float(book["bob"]["nb01_ex1"]) == 0 and book["bob"]["nb01_ex3"] == "1" and float(book["bob"]["total"]) == 1
    assert int(book["bob"]["possible"]) == possible and float(book["bob"]["percent"]) == round(100 / possible, 2)
    assert "2 / 2" in (out / "feedback" / "alice.md").read_text()  # kept
    assert "0 / 2" in (out / "feedback" / "bob.md").read_text()  # replaced


def test_make_assignments_keeps_the_grades(tmp_path, monkeypatch):
    """``otter assign`` stands in: it writes a student notebook of one title cell and an empty autograder."""
    run = subprocess.run

    def otter_assign(command, *args, **kwargs):
        if command[1:4] != ["-m", "otter", "assign"]:
            return run(command, *args, **kwargs)
        master, dist = Path(command[-2]), Path(command[-1])
        for folder in ("student", "autograder"):
            (dist / folder).mkdir(parents=True)
        title = nbformat.v4.new_markdown_cell(f"# {master.stem}")
        nbformat.write(nbformat.v4.new_notebook(cells=[title]), dist / "student" / master.name)
        zipfile.ZipFile(dist / "autograder" / f"{master.stem}-autograder.zip", "w").close()
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(grading.subprocess, "run", otter_assign)
    dist = tmp_path / "dist"
    (dist / "grades" / "feedback").mkdir(parents=True)
    (dist / "grades" / "gradebook.csv").write_text("student\nalice\n")
    (dist / "student").mkdir()
    (dist / "student" / "old.ipynb").write_text("{}")
    grading.make_assignments(dist)
    assert (dist / "grades" / "gradebook.csv").read_text() == "student\nalice\n"
    assert not (dist / "student" / "old.ipynb").exists()
    assert all((dist / "student" / f"{name}.ipynb").exists() for name in grading.NOTEBOOKS.values())


_TINY_QUESTION = [  # otter's format, as master_notebook writes it: (raw cell?, source)
    (True, "# BEGIN QUESTION\nname: {q}\npoints: 2"),
    (True, "# BEGIN SOLUTION"),
    (
        False,
        '# BEGIN SOLUTION NO PROMPT\n{v} = {answer}\n# END SOLUTION\n""" # BEGIN PROMPT\n{v} = ...\n""" # END PROMPT',
    ),
    (True, "# END SOLUTION"),
    (True, "# BEGIN TESTS"),
    (False, "assert {v} is not ..."),
    (False, "# HIDDEN\nassert {v} == {answer}"),
    (True, "# END TESTS"),
    (True, "# END QUESTION"),
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny assignment (q1: ``x = 1``, q2: ``y = 2``; each a public check of the form and a hidden one
    of the value, 2 points): its folder, its autograder and the kernelspec."""
    tmp = tmp_path_factory.mktemp("tiny")
    cells = [
        nbformat.v4.new_raw_cell(
            "# ASSIGNMENT CONFIG\ninit_cell: false\ncheck_all_cell: false\nexport_cell: false\nrun_tests: false\n"
            "solutions_pdf: false\ngenerate: true\nrequirements: null"
        )
    ]
    for q, v, answer in (("q1", "x", 1), ("q2", "y", 2)):
        for raw, text in _TINY_QUESTION:
            new = nbformat.v4.new_raw_cell if raw else nbformat.v4.new_code_cell
            cells.append(new(text.format(q=q, v=v, answer=answer)))
    master = nbformat.v4.new_notebook(cells=cells)
    master.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(master, tmp / "tiny.ipynb")
    done = subprocess.run(
        [sys.executable, "-m", "otter", "assign", str(tmp / "tiny.ipynb"), str(tmp / "dist")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (autograder,) = (tmp / "dist" / "autograder").glob("*.zip")
    return tmp, autograder, master.metadata["kernelspec"]


def _tiny_submission(tiny, name: str, code: list[str]) -> Path:
    tmp, _, kernelspec = tiny
    submission = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in code])
    submission.metadata["kernelspec"] = kernelspec
    nbformat.write(submission, tmp / f"{name}.ipynb")
    return tmp / f"{name}.ipynb"


@pytest.fixture(scope="module")
def stopped(tiny):
    """The tiny assignment's submission: q1 right, q2 of the right form but wrong, then a loop that never
    ends, then a cell that would spoil q1; graded with a 5 s limit."""
    notebook = _tiny_submission(tiny, "submission", ["x = 1", "y = 3", "while True:\n    pass", "x = 0"])
    return grading.grade_notebook(notebook, tiny[1], "tiny", tiny[0] / "work", timeout=5)


def test_notebooks_graded_side_by_side_score_as_one_at_a_time(tiny):
    """``jobs=2``: each notebook in its own process, results in the order of the tasks."""
    tmp, autograder, _ = tiny
    answers = {"right": ["x = 1", "y = 2"], "half": ["x = 1", "y = 3"], "none": ["x = 5"]}
    tasks = [(_tiny_submission(tiny, n, code), autograder, n, tmp / "jobs" / n) for n, code in answers.items()]
    side_by_side = grading._grade_all(tasks, list(answers), timeout=60, jobs=2)
    assert [r["scores"] for r in side_by_side] == [{"q1": 2, "q2": 2}, {"q1": 2, "q2": 0}, {"q1": 0, "q2": 0}]
    one = grading._grade_all(tasks[1:2], ["half"], timeout=60, jobs=1)
    assert one[0]["scores"] == side_by_side[1]["scores"] and one[0]["outputs"] == side_by_side[1]["outputs"]


def test_a_notebook_that_never_ends_is_stopped_and_keeps_what_it_earned(stopped):
    assert stopped["stopped"] and stopped["errors"] == [
        "stopped after 5 s in the cell 'while True:': the cells after it did not run, the checks scored what was "
        "defined"
    ]
    assert stopped["scores"]["q1"] == 2  # earned before the loop; `x = 0` after it never ran
    with pytest.raises(ProcessLookupError):  # its kernel was shut down
        os.kill(stopped["kernel_pid"], 0)


def test_an_exercise_scores_its_points_only_when_every_check_passes(stopped):
    """q2's public check (the form) passes and its hidden one (the value) fails: 0, not half."""
    assert stopped["scores"]["q2"] == 0
    assert stopped["outputs"]["q2"] == "public checks passed: 1 of 1; hidden checks passed: 0 of 1"
    assert stopped["outputs"]["q1"] == "public checks passed: 1 of 1; hidden checks passed: 1 of 1"


def test_otter_export_comments_leave_the_student_markdown(tmp_path):
    """otter assign opens and closes each hand-graded question with HTML comments for its PDF export."""
    md = nbformat.v4.new_markdown_cell
    cells = [md("<!-- BEGIN QUESTION -->\n\n**Exercise 3** Explain."), md("<!-- END QUESTION -->\n\n"), md("## Next")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path / "student.ipynb")
    assert grading.strip_export_comments(tmp_path / "student.ipynb") == 2
    nb = nbformat.read(tmp_path / "student.ipynb", as_version=4)
    assert [c.source for c in nb.cells] == ["**Exercise 3** Explain.", "## Next"]


# --------------------------------------------------------------------------- LMS import and export (issue 26)
@pytest.mark.parametrize(
    "name, expected",
    [
        (
            "smithjane_12345_67890_03_training_and_evaluation.ipynb",
            ("smithjane", "12345", "03_training_and_evaluation.ipynb", 0, False),
        ),
        (
            "smithjane_LATE_12345_67890_03_training_and_evaluation.ipynb",
            ("smithjane", "12345", "03_training_and_evaluation.ipynb", 0, True),
        ),
        (
            "smithjane_12345_67890_03_training_and_evaluation-2.ipynb",
            ("smithjane", "12345", "03_training_and_evaluation.ipynb", 2, False),
        ),
        ("o-brienann_LATE_7_8_my notebook-1.ipynb", ("o-brienann", "7", "my notebook.ipynb", 1, True)),
        ("smithjane_03_training_and_evaluation.ipynb", None),  # no LMS ids
        ("03_training_and_evaluation.ipynb", None),
        ("notes.txt", None),
    ],
)
def test_lms_download_names_are_parsed(name, expected):
    info = grading.parse_lms_name(name)
    assert (info and (info.student, info.user_id, info.original, info.attempt, info.late)) == expected


def test_an_lms_zip_download_is_imported_and_unmatched_files_are_listed(tmp_path, capsys):
    first, second = grading.NOTEBOOKS["01"], grading.NOTEBOOKS["02"]
    download, out = tmp_path / "submissions.zip", tmp_path / "submissions"
    with zipfile.ZipFile(download, "w") as z:
        z.writestr(f"smithjane_12345_67890_{first}.ipynb", "plain")
        z.writestr(f"smithjane_12345_67891_{first}-1.ipynb", "first re-submission")
        z.writestr(f"smithjane_LATE_12345_67892_{first}-2.ipynb", "second re-submission")
        z.writestr(f"doejohn_222_333_{second}.ipynb", "john's")
        z.writestr("README.txt", "not a submission")
        z.writestr("__MACOSX/._README.txt", "")
    assert grading.main(["import-lms", "--download", str(download), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert (out / "smithjane" / f"{first}.ipynb").read_text() == "second re-submission"
    assert (out / "doejohn" / f"{second}.ipynb").read_text() == "john's"
    assert sorted(p.name for p in out.iterdir()) == [".lms_ids.csv", "doejohn", "smithjane"]
    assert (
        f"smithjane/{first}.ipynb <- smithjane_LATE_12345_67892_{first}-2.ipynb (re-submission 2 of 3 uploads, late)"
        in printed
    )
    assert [line for line in printed.splitlines() if "README" in line] == [
        "skipped README.txt: not an LMS download name (<student>_<id>_<id>_<file>); copy it by hand"
    ]
    assert "Traceback" not in printed

    newer = out / "doejohn" / f"{second}.ipynb"  # the instructor's newer copy is kept and reported
    newer.write_text("fixed by hand")
    os.utime(newer, (4e9, 4e9))
    grading.import_lms(download, out)
    printed = capsys.readouterr().out
    assert newer.read_text() == "fixed by hand"
    assert f"kept {newer}: it is newer than doejohn_222_333_{second}.ipynb in the download" in printed
    assert f"smithjane/{first}.ipynb: unchanged" in printed

    (tmp_path / "broken.zip").write_text("not a zip")
    assert grading.main(["import-lms", "--download", str(tmp_path / "broken.zip"), "--out", str(out)]) == 1
    assert capsys.readouterr().err.startswith(f"ERROR: {tmp_path / 'broken.zip'} is not a readable .zip archive")


def test_the_lms_export_follows_the_gradebook_after_grading_again(tmp_path, monkeypatch):
    dist, out, first = _fake_dist(tmp_path), tmp_path / "grades", grading.NOTEBOOKS["01"]
    for folder, files in [
        ("monday", [f"alicesmith_11_1_{first}.ipynb", f"bobjones_22_2_{first}.ipynb"]),
        ("friday", [f"bobjones_LATE_22_3_{first}-1.ipynb"]),
    ]:
        (tmp_path / "lms" / folder).mkdir(parents=True)
        for name in files:
            (tmp_path / "lms" / folder / name).write_text("{}")
        grading.import_lms(tmp_path / "lms" / folder, tmp_path / folder)
    (tmp_path / "monday" / "carol").mkdir()  # collected by hand: no LMS id
    (tmp_path / "monday" / "carol" / f"{first}.ipynb").write_text("{}")

    def lms_rows():
        with open(out / "lms_grades.csv", newline="") as f:
            rows = list(csv.reader(f))
        assert rows[0] == ["Student", "ID", "SIS User ID", "Section", "FER course (points)", "FER course (percent)"]
        book = _gradebook(out / "gradebook.csv")
        assert rows[1] == ["Points Possible", "", "", "", next(iter(book.values()))["possible"], "100"]
        assert [(r[0], r[4], r[5]) for r in rows[2:]] == [(s, b["total"], b["percent"]) for s, b in book.items()]
        return {r[0]: r for r in rows[2:]}

    _fake_grading(monkeypatch)
    grading.grade(tmp_path / "monday", dist, out)
    rows = lms_rows()
    assert rows["alicesmith"][1:4] == ["11", "", ""] and rows["carol"][1] == "" and float(rows["bobjones"][4]) == 4
    _fake_grading(monkeypatch, points={"bobjones": 0})
    grading.grade(tmp_path / "friday", dist, out)  # bob's late re-submission only
    rows = lms_rows()
    assert float(rows["bobjones"][4]) == 0 and rows["bobjones"][1] == "22" and float(rows["alicesmith"][4]) == 4
