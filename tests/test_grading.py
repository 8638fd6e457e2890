"""Assignments and grading (fer_utils.grading, otter-grader): what students get hides the solutions
and the hidden checks, an untouched answer fails every check, and a class is graded end to end in the
smoke profile (one student's six notebooks; the other cases on one or two notebooks each)."""

from __future__ import annotations

import ast
import builtins
import csv
import re
import shutil
import zipfile
from unittest import mock

import nbformat
import numpy as np
import pandas as pd
import pytest

from fer_utils import config, grading

NOTEBOOK_DIR = config.PROJECT_ROOT / "notebooks"
AUTO = [e for e in grading.EXERCISES if not e.manual]
# one pytest-xdist worker runs this module: `dist` (otter assign on six notebooks) is built once
pytestmark = pytest.mark.xdist_group("grading")


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    grading.make_assignments(out)
    return out


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
    assert (dist / "RUBRIC.md").read_text() == text
    committed = NOTEBOOK_DIR / "RUBRIC.md"
    assert committed.read_text() == text, "notebooks/RUBRIC.md is stale: copy dist/RUBRIC.md after make assignments"


def test_a_missing_autograder_or_submission_folder_is_explained(tmp_path):
    with pytest.raises(grading.GradingError, match="make assignments"):
        grading.grade(tmp_path, tmp_path / "nothing", tmp_path / "out")


def _gradebook(path):
    with open(path) as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def test_two_classes_graded_end_to_end(dist, tmp_path, monkeypatch):
    """Class A: the instructor notebooks score full marks (all six notebooks, the one student graded
    end to end), the student notebooks as distributed score zero (01 and 02; an untouched answer fails
    every check in every notebook, see above). Class B, an archive instead of a folder: one broken cell
    costs that exercise only, and its error reaches the feedback. Runs ten notebooks in smoke."""
    monkeypatch.setenv("FER_PROFILE", "smoke")
    class_a, class_b, carol = tmp_path / "class_a", tmp_path / "class_b", tmp_path / "carol"
    for folder in (class_a / "alice", class_a / "bob", class_b, carol):
        folder.mkdir(parents=True)
    for name in grading.NOTEBOOKS.values():
        shutil.copy(NOTEBOOK_DIR / f"{name}.ipynb", class_a / "alice")
    first, second = grading.NOTEBOOKS["01"], grading.NOTEBOOKS["02"]
    for name in (first, second):
        shutil.copy(dist / "student" / f"{name}.ipynb", class_a / "bob")
    nb = nbformat.read(NOTEBOOK_DIR / f"{first}.ipynb", as_version=4)
    broken = next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith("# 1"))
    broken.source = 'raise RuntimeError("carol broke exercise 1")\n' + broken.source
    nbformat.write(nb, carol / f"{first}.ipynb")
    shutil.copy(NOTEBOOK_DIR / f"{second}.ipynb", carol)
    shutil.make_archive(str(class_b / "carol"), "zip", carol)  # an archive instead of a folder

    book_a = _gradebook(grading.grade(class_a, dist, tmp_path / "grades_a"))
    book_b = _gradebook(grading.grade(class_b, dist, tmp_path / "grades_b"))

    columns = ["student", *[e.name for e in AUTO], "auto_total", "auto_possible", "manual_possible"]
    columns += [f"nb{k}_{w}" for k in grading.NOTEBOOKS for w in ("profile", "data")]
    with open(tmp_path / "grades_a" / "gradebook.csv") as f:
        assert next(csv.reader(f)) == columns
    possible = sum(e.points for e in AUTO)
    alice, bob = book_a["alice"], book_a["bob"]
    assert {e.name: float(alice[e.name]) for e in AUTO} == {e.name: float(e.points) for e in AUTO}, (
        tmp_path / "grades_a" / "feedback" / "alice.md"
    ).read_text()
    assert float(alice["auto_total"]) == possible == int(alice["auto_possible"])
    assert all(float(bob[e.name]) == 0 for e in AUTO) and float(bob["auto_total"]) == 0
    assert bob["nb01_profile"] == ""  # as distributed it was never run: no run record to show
    assert bob["nb01_data"] == bob["nb02_data"] == "" and bob["nb03_data"] == "missing"  # graded, not absent

    row = book_b["carol"]
    assert float(row["nb01_ex1"]) == 0 and float(row["nb01_ex2"]) == 2
    assert float(row["nb02_ex1"]) == 2 and float(row["nb02_ex2"]) == 2 and float(row["nb02_ex4"]) == 2
    assert float(row["auto_total"]) == 8 and row["nb03_data"] == "missing"
    feedback = (tmp_path / "grades_b" / "feedback" / "carol.md").read_text()
    assert "RuntimeError: carol broke exercise 1" in feedback and "not submitted" in feedback
    assert "to_dict() ==" not in feedback and "hidden checks passed: 0 of 1" in feedback  # counted, not shown
