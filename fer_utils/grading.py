"""Assignments and grading with otter-grader: student notebooks without solutions, hidden checks,
and a gradebook for a folder of submissions.

    python -m fer_utils.grading assign --out dist                        # make assignments
    python -m fer_utils.grading import-lms --download D --out S         # make import-lms DOWNLOAD=D SUBMISSIONS=S
    python -m fer_utils.grading grade --submissions S --dist dist        # make grade SUBMISSIONS=S

The six course notebooks stay the only source (the instructor version, solutions included).
``EXERCISES`` says, for each exercise, its points, the answer variable the student fills in
(``stub``) and its checks: ``public`` ones the student runs with ``grader.check`` while working,
``hidden`` ones used only when grading. Exercises without checks are graded by hand (``manual``).
Every check compares with values the notebook computes itself, never with one accuracy, so it
holds in every profile and on CPU runs that are not bit-reproducible.

Why otter-grader (not nbgrader): it turns one annotated notebook into the student version, the
tests and an autograder, grades a submission without Docker (``otter run``, what our machines
need), and needs no database or JupyterHub; nbgrader wants its own course directory, database and
formgrader service for the same job.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from . import classroom, config

NOTEBOOKS = {
    "01": "01_data_understanding_and_preprocessing",
    "02": "02_model_construction",
    "03": "03_training_and_evaluation",
    "04": "04_model_optimization",
    "05": "05_face_emotion_prediction",
    "06": "06_model_evaluation",
}


@dataclass(frozen=True)
class Exercise:
    """One exercise of one notebook: its solution cell starts with ``# <number>``."""

    notebook: str
    number: int
    points: int
    checks: str  # what the checks verify (for the rubric)
    normal: str  # what a correct answer looked like in the committed laptop run (for the rubric)
    stub: str = ""  # the student's starting code; empty for a hand-graded exercise
    public: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"nb{self.notebook}_ex{self.number}"

    @property
    def manual(self) -> bool:
        return not (self.public or self.hidden)


_MANUAL = "by hand: the explanation in the student's comment or markdown"

EXERCISES: list[Exercise] = [
    Exercise(
        "01",
        1,
        2,
        "`private` is the PrivateTest count per emotion (public: a Series over the 7 emotions; "
        "hidden: equal to the notebook's own `counts`)",
        "disgust, 55 faces, 1.5% of PrivateTest (every profile: counts come from the whole dataset)",
        "private = ...  # PrivateTest faces per emotion: a pandas Series indexed by emotion\n"
        'print(private.idxmin(), private.min(), f"{private.min() / private.sum():.1%}")',
        ("assert isinstance(private, pd.Series) and set(private.index) == set(config.CLASS_NAMES)",),
        ('assert private.to_dict() == counts["PrivateTest"].drop("total").to_dict()',),
    ),
    Exercise(
        "01",
        2,
        2,
        "`public` is a `Splits` with PublicTest as validation (public), training on all of train/ (hidden)",
        "28,709 training faces instead of 25,838 (+2,871)",
        "public = ...  # protocol.make_splits(...) with PublicTest as the validation set\n"
        'print("training faces:", len(public.y_train), "instead of", len(splits_all.y_train))',
        ('assert public.validation == "public"',),
        (
            "assert len(public.y_train) == len(fer.y_train)",
            # PublicTest without its faces that have a twin in train/ (fer_utils.twins)
            'assert len(public.y_val) == len(protocol.make_splits(fer, validation="public").y_val)',
        ),
    ),
    Exercise("01", 3, 1, _MANUAL, "faces on their side are not what a camera sees; capacity is wasted on them"),
    Exercise(
        "02",
        1,
        2,
        "`m5` has 5x5 kernels (public) and the parameter count of `build_simple_cnn(kernel_size=5)` (hidden)",
        "5,393,543 parameters (was 4,967,047); the convolution weights grow 25/9 = 2.78x",
        'm5 = ...  # the simple CNN with 5x5 kernels\nprint(f"{m5.count_params():,} parameters")',
        ('assert m5.get_layer("conv1").kernel_size == (5, 5)',),
        ("assert m5.count_params() == models.build_simple_cnn(kernel_size=5).count_params()",),
    ),
    Exercise(
        "02",
        2,
        2,
        "`m0` has no `fc` layer (public) and the parameter count of `build_simple_cnn(dense_units=0)` (hidden)",
        "272,519 parameters: 95% fewer",
        'm0 = ...  # the simple CNN without its Dense(1024) layer\nprint(f"{m0.count_params():,} parameters")',
        ('assert "fc" not in [layer.name for layer in m0.layers]',),
        ("assert m0.count_params() == models.build_simple_cnn(dense_units=0).count_params()",),
    ),
    Exercise("02", 3, 1, _MANUAL, "a 16-bit softmax rounds probabilities to exactly 0 or 1; the output stays float32"),
    Exercise(
        "02",
        4,
        2,
        "`covered` maps momenta 0.99 and 0.9 to the share of the way each moving mean covered (public); each "
        "share follows the update rule, 1 - momentum^50 (hidden); which momentum suits a short run is read by hand",
        "0.99: 39.5% of the way, 0.9: 99.5% (every profile: the rule does not depend on the faces); 0.9 for short runs",
        "covered = ...  # {0.99: share of the way after 50 steps, 0.9: share of the way after 50 steps}\n"
        'print({m: f"{c:.1%}" for m, c in covered.items()})',
        ("assert set(covered) == {0.99, 0.9}",),
        ("assert all(abs(float(covered[m]) - (1 - m**50)) < 0.01 for m in (0.99, 0.9))",),
    ),
    Exercise(
        "03",
        1,
        2,
        "`best` is a valid epoch index (public) whose validation accuracy is the maximum (hidden)",
        "best epoch 15 of 15 (laptop); any epoch in smoke",
        "best = ...  # 0-based index of the epoch with the best validation accuracy\n"
        "print(f\"best epoch {best + 1}: {history['val_accuracy'][best]:.3f}\")",
        ('assert 0 <= int(best) < len(history["val_accuracy"])',),
        ('assert history["val_accuracy"][int(best)] == max(history["val_accuracy"])',),
    ),
    Exercise(
        "03",
        2,
        2,
        "`delay` is a number of epochs (public) equal to the notebook's own difference in best epoch, "
        "augmentation minus plain, mean of two seeds (hidden); the verdict on the 95% interval (printed or in a "
        "comment) is read by hand",
        "a positive delay: augmentation moves the best validation epoch later (laptop); in smoke the study "
        "runs 3 epochs and means little",
        "delay = ...  # best epoch with augmentation minus best epoch plain (mean of the two seeds)\n"
        'print(f"{float(delay):+.1f} epochs")',
        ("assert np.isfinite(float(delay))",),
        (
            'assert abs(float(delay) - (means.loc["+ augmentation", "best epoch"] - means.loc["plain", "best epoch"]))'
            " < 1e-9",
        ),
    ),
    Exercise("03", 3, 1, _MANUAL, "always 'happy': 0.245 on PrivateTest; a model at or below it learned nothing"),
    Exercise(
        "04",
        1,
        2,
        "`changes` holds every row of `effects` but the base's that learned, best first (a failed configuration "
        "has no effect size; public: a table with `experiment`, `vs_base` and `learned`; hidden: the same "
        "experiments in the same order as the notebook's own filter); whether each gap exceeds the noise band is "
        "read by hand.",
        "helped most and hurt most among the configurations that learned, with their mean gaps from the base "
        "(failed ones listed apart, not ranked), each set against the noise (the largest seed-to-seed spread); "
        "numbers: the committed laptop run",
        "changes = ...  # every row of `effects` except the base's that learned (`learned` True), best first\n"
        "if len(changes):\n"
        "    up, down = changes.iloc[0], changes.iloc[-1]\n"
        '    print("helped most:", up.experiment, "| hurt most:", down.experiment)',
        ('assert {"experiment", "vs_base", "learned"} <= set(changes.columns)',),
        (
            '_all = effects[(effects.experiment != "BN-VGG (base)") & effects.learned]\n'
            "assert list(changes.experiment) == list(_all.experiment)",
        ),
    ),
    Exercise(
        "04",
        2,
        2,
        "`weighted` holds one class-weighted run of the search base per seed with disgust recall (public: the "
        "columns and one row per seed of `SEEDS`; hidden: recall and accuracy are fractions); whether the change "
        "exceeds the seed spread is read by hand",
        "disgust recall of the two seeds with and without sqrt class weights, and their validation accuracy; "
        "numbers: the committed laptop run",
        'weighted = ...  # pd.DataFrame(run_seeds(...)): the search base with {"class_weight": "sqrt"}, '
        "extra_metrics=disgust_recall",
        (
            'assert {"disgust_recall", "val_accuracy", "seed"} <= set(weighted.columns)',
            "assert sorted(weighted.seed) == SEEDS",
        ),
        ("assert weighted.disgust_recall.between(0, 1).all() and weighted.val_accuracy.between(0, 1).all()",),
    ),
    Exercise("04", 3, 1, _MANUAL, "the maximum of noisy estimates is biased upwards; select on validation"),
    Exercise(
        "05",
        1,
        2,
        "`loose` are the Haar boxes at `min_neighbors=1` (hidden: the same count as the notebook's own call)",
        "1 face at the default, 2 boxes at min_neighbors=1 (one false)",
        'loose = ...  # detection.detect_faces(gray, "haar", min_neighbors=1)\nprint(len(loose), "boxes")',
        ("assert len(loose) >= 1",),
        ('assert len(loose) == len(detection.detect_faces(gray, "haar", min_neighbors=1))',),
    ),
    Exercise(
        "05",
        2,
        2,
        "`flipped` is the prediction for the mirrored photo (public: at least one face; hidden: an emotion "
        "and a confidence equal to the notebook's own call)",
        "happy 0.93, flipped: happy 0.92",
        "flipped = ...  # prediction.predict_image(model, <the photo mirrored left-right>)\n"
        'print(results[0].emotion, "| flipped:", flipped[0].emotion)',
        ("assert len(flipped) >= 1",),
        (
            "assert flipped[0].emotion in config.CLASS_NAMES",
            "assert abs(flipped[0].confidence - prediction.predict_image(model, photo[:, ::-1])[0].confidence) < 1e-3",
        ),
    ),
    Exercise("05", 3, 1, _MANUAL, "the face fills a few of the 48x48 pixels: the model sees suit and background"),
    Exercise(
        "06",
        1,
        2,
        "`worst` is the index of an emotion (public) with the lowest precision in `m` (hidden: ties accepted); "
        "where its false positives come from is read by hand",
        "lowest precision: sad (0.43 in the laptop run; its false positives are mostly fear faces)",
        'worst = ...  # index of the emotion with the lowest precision (m["per_class"])\n'
        "print(config.CLASS_NAMES[worst])",
        ("assert 0 <= int(worst) < len(config.CLASS_NAMES)",),
        ('_p = [m["per_class"][c]["precision"] for c in config.CLASS_NAMES]\nassert _p[int(worst)] == min(_p)',),
    ),
    Exercise(
        "06",
        2,
        2,
        "`weighted_f1` and `micro_f1` are numbers in [0, 1] (public), computed from the confusion matrix's TP, FP "
        "and FN: equal to scikit-learn's weighted F1 and to the accuracy (hidden); why micro-F1 is the accuracy is "
        "read by hand",
        "weighted 0.5711 = scikit-learn's; micro 0.5887 = the accuracy (laptop run)",
        "weighted_f1 = ...  # from tp, fn and f1 of section 3: each emotion's F1 weighted by its support\n"
        "micro_f1 = ...  # F1 from the TP, FP and FN summed over the emotions\n"
        'print(f"weighted {weighted_f1:.4f} | micro {micro_f1:.4f}")',
        ("assert 0 <= float(weighted_f1) <= 1 and 0 <= float(micro_f1) <= 1",),
        (
            'assert abs(float(weighted_f1) - m["weighted"]["f1"]) < 1e-6',
            'assert abs(float(micro_f1) - m["accuracy"]) < 1e-6',
        ),
    ),
    Exercise(
        "06",
        3,
        1,
        _MANUAL,
        "read from the validation matrix (metrics['validation']), never PrivateTest's: e.g. class weights for a "
        "rare emotion with low validation recall, less early pooling for a pair it confuses, a look at label noise",
    ),
]


class GradingError(RuntimeError):
    """A problem with the assignment sources or a submission folder, explained for the instructor."""


# --------------------------------------------------------------------------- assignments
def _exercise_items(markdown: str) -> dict[int, str]:
    """The numbered items of a notebook's '## Exercises' cell."""
    items: dict[int, str] = {}
    for match in re.finditer(r"^(\d)\. (.*?)(?=^\d\. |\Z)", markdown, flags=re.M | re.S):
        items[int(match.group(1))] = " ".join(match.group(2).split())
    return items


def master_notebook(key: str, source: Path | None = None):
    """The otter-format version of course notebook ``key`` ("01".."06"): each exercise becomes a
    question with its prompt, its solution (replaced by the stub for students) and its checks."""
    import nbformat

    raw, md, code = nbformat.v4.new_raw_cell, nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    name = NOTEBOOKS[key]
    path = source or config.PROJECT_ROOT / "notebooks" / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    exercises = {e.number: e for e in EXERCISES if e.notebook == key}
    header = next((c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## Exercises")), None)
    if header is None:
        raise GradingError(f"{path}: no '## Exercises' markdown cell")
    items = _exercise_items(header.source)
    cells = [
        raw(
            "# ASSIGNMENT CONFIG\n"
            "init_cell: true\ncheck_all_cell: false\nexport_cell: false\n"
            "run_tests: false\nsolutions_pdf: false\ngenerate: true\nrequirements: null\n"
            f"python_version: {AUTOGRADER_PYTHON}\n"  # otter's default (3.13) is outside the course's 3.10-3.12
        )
    ]
    found = set()
    for cell in nb.cells:
        cell = nbformat.from_dict({**cell, "outputs": []} if cell.cell_type == "code" else dict(cell))
        if cell.cell_type == "code":
            cell.execution_count = None
        if cell.cell_type == "markdown" and cell.source.startswith("> **Executed outputs below:**"):
            continue  # describes the committed run's outputs, which the assignment does not carry
        if cell.cell_type == "markdown" and cell.source.strip() == "### Solutions":
            cells.append(md("### Your answers\n\nReplace each `...` and run the cell, then its check."))
            continue
        match = re.match(r"# (\d)\b", cell.source) if cell.cell_type == "code" else None
        if not match or int(match.group(1)) not in exercises:
            cells.append(cell)
            continue
        ex = exercises[int(match.group(1))]
        found.add(ex.number)
        stub = ex.stub or "# Your answer, as a comment here or in a markdown cell below"
        cell.source = (
            f'# BEGIN SOLUTION NO PROMPT\n{cell.source}\n# END SOLUTION\n""" # BEGIN PROMPT\n'
            f'# Exercise {ex.number}\n{stub}\n""" # END PROMPT'
        )
        cells += [
            raw(f"# BEGIN QUESTION\nname: {ex.name}\npoints: {ex.points}" + ("\nmanual: true" if ex.manual else "")),
            md(f"**Exercise {ex.number}** ({ex.points} point{'s' * (ex.points > 1)}). {items.get(ex.number, '')}"),
            raw("# BEGIN SOLUTION"),
            cell,
            raw("# END SOLUTION"),
        ]
        if not ex.manual:
            cells.append(raw("# BEGIN TESTS"))
            cells += [code(test) for test in ex.public]
            cells += [code("# HIDDEN\n" + test) for test in ex.hidden]
            cells.append(raw("# END TESTS"))
        cells.append(raw("# END QUESTION"))
    missing = sorted(set(exercises) - found)
    if missing:
        raise GradingError(f"{path}: no solution cell starting with '# N' for exercise(s) {missing}")
    nb.cells = cells
    nb.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"})
    return nb


def make_assignments(
    out: str | os.PathLike,
    source_dir: str | os.PathLike | None = None,
    repo: str | None = None,
    branch: str = "main",
    private_checks: str | os.PathLike | None = None,
) -> dict[str, Path]:
    """Run ``otter assign`` on every notebook. Writes ``out/student/<nb>.ipynb`` (to hand out: no
    solutions, no hidden checks), the student package ``out/student/fer_utils-<version>-py3-none-any.whl``
    (without this module), ``out/autograder/<nb>.zip`` (for grading) and ``out/RUBRIC.md``. With ``repo``
    (``owner/name`` on GitHub, which holds ``out/student/`` as ``student/`` on ``branch``) the student
    notebooks get Colab/Kaggle badges and a setup cell (``classroom``). ``private_checks``: a JSON file of
    extra hidden checks, added to the autograders only. Returns the autograder zips by notebook key."""
    import nbformat

    out = Path(out)
    checked = [e.name for e in EXERCISES if not e.manual]
    private = classroom.load_private_checks(private_checks, checked) if private_checks else {}
    for built in ("student", "autograder"):  # only what this writes: out/grades (make grade) stays
        shutil.rmtree(out / built, ignore_errors=True)
        (out / built).mkdir(parents=True)
    wheel_name = classroom.student_wheel_name()
    zips = {}
    for key, name in NOTEBOOKS.items():
        source = Path(source_dir) / f"{name}.ipynb" if source_dir else None
        with tempfile.TemporaryDirectory() as tmp:
            master = Path(tmp) / f"{name}.ipynb"
            nb = master_notebook(key, source)
            classroom.add_private_checks(nb, private)
            nbformat.write(nb, master)
            done = subprocess.run(
                [sys.executable, "-m", "otter", "assign", "-v", str(master), str(Path(tmp) / "dist")],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise GradingError(f"otter assign failed on {name}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
            student = shutil.copy(Path(tmp) / "dist" / "student" / f"{name}.ipynb", out / "student" / f"{name}.ipynb")
            strip_export_comments(student)
            if repo:
                classroom.add_classroom_cells(student, repo, branch, wheel_name)
            (zip_file,) = (Path(tmp) / "dist" / "autograder").glob("*.zip")
            zips[key] = shutil.copy(zip_file, out / "autograder" / f"{name}.zip")
    secrets = [t for e in EXERCISES for t in e.hidden] + [t for tests in private.values() for t in tests]
    bundle = {f"fer_utils/{classroom.BUNDLE}/{p.name}": p for p in sorted((out / "student").glob("*.ipynb"))}
    wheel = classroom.build_student_wheel(out / "student", forbidden=secrets, extra=bundle)
    (out / "RUBRIC.md").write_text(rubric())
    print(
        f"student notebooks and package {wheel.name} in {out / 'student'}, autograders in {out / 'autograder'}, "
        f"rubric {out / 'RUBRIC.md'}" + (f"; {sum(map(len, private.values()))} private checks" if private else "")
    )
    if repo:
        print(
            f"Colab/Kaggle badges for github.com/{repo} (branch {branch}): commit {out / 'student'} there as "
            f"{classroom.STUDENT_FOLDER}/"
        )
    else:
        print("no GitHub repository (REPO=owner/name, or an origin remote on GitHub): no Colab/Kaggle badges")
    return {k: Path(v) for k, v in zips.items()}


def rubric() -> str:
    """The rubric in markdown, written from ``EXERCISES`` (so it cannot drift from the checks)."""
    auto = sum(e.points for e in EXERCISES if not e.manual)
    manual = sum(e.points for e in EXERCISES if e.manual)
    lines = [
        "# Rubric",
        "",
        f"Written by `make assignments` from `fer_utils/grading.py`. {auto} points are graded by the checks "
        f"(`make grade`), {manual} by hand. 'Looked like' is the committed `laptop` run on FER-2013; the "
        "checks compare with values the notebook computes itself, so they hold in every profile (`smoke` "
        "included) and on the synthetic faces, and never depend on one accuracy.",
        "",
        "Each checked exercise is all or nothing: its points when every check passes, public and hidden, 0 "
        "otherwise (a public check tests the form of the answer, a hidden one its value). Each notebook is "
        f"stopped after {TIMEOUT_S} s (`make grade TIMEOUT=...`); the checks then score what it had defined. "
        "The gradebook has an empty column per exercise graded by hand, for the instructor; `total` and "
        "`percent` count what is entered there at the next `make grade`.",
        "",
        "| exercise | points | graded | what is checked | looked like (laptop run) |",
        "|---|---|---|---|---|",
    ]
    for e in EXERCISES:
        graded = "by hand" if e.manual else "checks"
        lines.append(f"| {e.name} | {e.points} | {graded} | {e.checks} | {e.normal} |")
    lines += [
        "",
        "Normal ranges per profile: in `smoke` (CI; a few hundred faces, one or two epochs) the models learn "
        "little and exercise answers that are accuracies are not meaningful; in `laptop` notebook 03 reaches "
        "about 60% PrivateTest (`quick`, 5 epochs: about 49%). A submission whose run record "
        "says `smoke` or "
        "`synthetic` was not run on FER-2013 in a real profile: the gradebook's `profile` and `data` columns show it.",
        "",
    ]
    return "\n".join(lines)


_EXPORT_COMMENT = re.compile(r"^<!--\s*(BEGIN|END) QUESTION\s*-->\n*", flags=re.M)


def strip_export_comments(notebook: str | os.PathLike) -> int:
    """Remove the ``<!-- BEGIN QUESTION -->`` / ``<!-- END QUESTION -->`` lines that ``otter assign``
    puts around hand-graded questions (for its PDF export, unused here) from a student notebook's
    markdown, and the cells left empty. Returns the number of comments removed."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    removed, cells = 0, []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source, n = _EXPORT_COMMENT.subn("", cell.source)
            removed += n
            if n and not cell.source.strip():
                continue
        cells.append(cell)
    if removed:
        nb.cells = cells
        nbformat.write(nb, notebook)
    return removed


# --------------------------------------------------------------------------- grading
AUTOGRADER_PYTHON = "3.11"  # the Python of the autograder zips (pyproject: >=3.10,<3.13)
TIMEOUT_S = 1200  # per notebook: notebook 04 takes about 7 minutes in `smoke` on 2 busy cores (docs/teaching.md)
_CHECKS_S = 600  # for each of otter's own cells: its setup, and its last cell that runs the checks not yet run
_OTTER_SETUP = (".init_grading_mode(", "sys.path.append(r")  # what otter's setup cells run


def _unzip(archive: Path, target: Path, label: str) -> str:
    """Unpack ``archive`` into ``target``: '' or one line naming it and what is wrong."""
    try:
        with zipfile.ZipFile(archive) as z:
            z.extractall(target)
    except Exception as err:  # noqa: BLE001 - any unreadable archive is the student's, reported, not raised
        return f"{label} is not a readable .zip archive ({type(err).__name__}: {err}): ask for a new one"
    return ""


def _notebooks(folder: Path) -> list[Path]:
    """The notebooks under ``folder``, without Jupyter's checkpoints and macOS's resource forks."""
    return sorted(
        p
        for p in folder.rglob("*.ipynb")
        if not ({".ipynb_checkpoints", "__MACOSX"} & set(p.relative_to(folder).parts))
        and not p.name.endswith("-checkpoint.ipynb")
    )


def _archives(folder: Path) -> list[Path]:
    """The ``.zip`` archives under ``folder``."""
    return [z for z in sorted(folder.rglob("*")) if z.suffix.lower() == ".zip" and "__MACOSX" not in z.parts]


def _open_inner_archives(folder: Path, label: str, target: Path) -> tuple[Path, str]:
    """A submission without notebooks but with ``.zip`` archives (a zip in the zip) is graded from
    them, one level deep. Returns the folder to grade and '' or what is wrong."""
    inner = _archives(folder)
    if _notebooks(folder) or not inner:
        return folder, ""
    problems = [_unzip(z, target / z.stem, f"{label}: {z.relative_to(folder)}") for z in inner]
    problems = [p for p in problems if p]
    if not problems and not _notebooks(target) and _archives(target):
        problems = [
            f"{label}: its notebooks are in a .zip inside a .zip inside it, and only one level is opened: "
            "ask for the notebooks in one .zip"
        ]
    if not problems:
        print(f"{label}: graded the notebooks of {', '.join(z.name for z in inner)} inside it", flush=True)
    return target, "; ".join(problems)


def _student_folders(submissions: Path, scratch: Path) -> dict[str, tuple[Path, str]]:
    """One folder per student: sub-folders as they are, ``.zip`` archives unpacked into ``scratch``
    (an archive found inside, one level deep, too). Each with '' or what is wrong with it."""
    if not submissions.is_dir():
        raise GradingError(f"{submissions} is not a folder: put one sub-folder or .zip archive per student in it")
    students = {}
    for entry in sorted(submissions.iterdir()):
        if entry.is_dir():
            student, folder, problem = entry.name, entry, ""
        elif entry.suffix.lower() == ".zip":
            student, folder = entry.stem, scratch / entry.stem
            problem = _unzip(entry, folder, entry.name)
        else:
            if not entry.name.startswith("."):
                print(f"skipped {entry}: not a sub-folder or .zip archive", flush=True)
            continue
        if not problem:
            label = entry.name if entry.is_file() else f"{entry.name}/"
            folder, problem = _open_inner_archives(folder, label, scratch / f"{student}.inner")
        students[student] = (folder, problem)
    if not students:
        raise GradingError(f"{submissions} holds no student sub-folder or .zip archive")
    return students


def find_notebook(folder: Path, name: str) -> tuple[Path | None, str]:
    """The notebook to grade for ``name`` in a student's folder, and '' or a note for the feedback
    that says which file was graded. Jupyter's checkpoints are never graded; the exact file name
    wins over copies (``<name> (1).ipynb``); among copies, the last modified one."""
    found = [p for p in _notebooks(folder) if p.name.startswith(name)]
    if not found:
        return None, ""
    exact = [p for p in found if p.name == f"{name}.ipynb"]
    if exact:
        chosen = min(exact, key=lambda p: (len(p.parts), str(p)))
    else:
        chosen = max(found, key=lambda p: (p.stat().st_mtime, str(p)))
    others = [str(p.relative_to(folder)) for p in found if p != chosen]
    note = f"graded {chosen.relative_to(folder)} (also found: {', '.join(others)})" if others else ""
    return chosen, note


def _cell_errors(nb) -> list[str]:
    """'cell N: Error: message' for every code cell of an executed notebook that raised."""
    errors = []
    for i, cell in enumerate(nb.cells if nb is not None else []):
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if out.get("output_type") == "error":
                first = cell.source.strip().splitlines()[0][:60] if cell.source.strip() else ""
                errors.append(f"cell {i} ({first!r}): {out.get('ename')}: {str(out.get('evalue'))[:300]}")
    return errors


def _run_record(nb) -> dict:
    """Profile and data source as the student's own run printed them in the setup and loading cells."""
    text = "\n".join(
        out.get("text", "") for cell in (nb.cells if nb is not None else []) for out in cell.get("outputs", [])
    )
    profile = re.search(r"Profile: (\w+)", text)
    data = "synthetic" if "SYNTHETIC" in text else "FER-2013" if "pixel statistics match FER-2013" in text else ""
    return {"profile": profile.group(1) if profile else "", "data": data}


@contextlib.contextmanager
def time_limit(seconds: float, run: dict):
    """While active, otter stops a notebook ``seconds`` after its first cell starts: the running
    cell is interrupted, the cells after it are skipped, and otter's last cell, which runs every
    check on what the notebook defined until then, still runs. otter's own cells (its setup before
    the notebook, its checks after) get ``_CHECKS_S`` seconds each; if one runs out, or the kernel
    ignores the interrupt, the grading fails. The kernel is shut down either way. ``run`` receives
    ``stopped`` (the first line of the stopped cell) and ``kernel_pid``.

    ``otter run`` has no time limit, and otter's ``grade_notebook`` takes nbconvert's
    ``ExecutePreprocessor`` from ``nbconvert.preprocessors`` each time it runs: a subclass with
    the limit stands in for it while this is active."""
    import nbconvert.preprocessors as preprocessors
    from nbclient.exceptions import CellTimeoutError
    from nbclient.util import ensure_async

    base = preprocessors.ExecutePreprocessor

    class TimedExecutePreprocessor(base):
        def preprocess_cell(self, cell, resources, index):
            process = getattr(getattr(self.km, "provisioner", None), "process", None)
            run.setdefault("kernel_pid", getattr(process, "pid", None))
            last = index == len(self.nb.cells) - 1
            if last or any(mark in cell.source for mark in _OTTER_SETUP):
                self.timeout = _CHECKS_S
                return super().preprocess_cell(cell, resources, index)
            now = time.monotonic()
            deadline = run.setdefault("deadline", now + seconds)
            if "stopped" in run or now >= deadline:
                run.setdefault("stopped", "")
                return cell, resources  # out of time: the cells after the stopped one do not run
            self.timeout = max(1, math.ceil(deadline - now))
            return super().preprocess_cell(cell, resources, index)

        async def _async_handle_timeout(self, timeout, cell=None):
            if "stopped" in run:  # the interrupt did not stop the kernel, or otter's own cell ran out of time
                raise CellTimeoutError.error_from_timeout_and_cell("no answer after an interrupt", timeout, cell)
            run["stopped"] = cell.source.strip().splitlines()[0][:60] if cell is not None and cell.source else ""
            await ensure_async(self.km.interrupt_kernel())
            # the execute reply of the interrupted cell, without waiting for it: otter's last cell runs next
            return {"content": {"status": "error", "ename": "KeyboardInterrupt", "evalue": "", "traceback": []}}

    preprocessors.ExecutePreprocessor = TimedExecutePreprocessor
    try:
        yield run
    finally:
        preprocessors.ExecutePreprocessor = base


def _check_summary(result) -> str:
    """What the student sees of one exercise's checks: public ones in full when one fails, hidden
    ones only counted."""
    public = [r for r in result.test_case_results if not r.test_case.hidden]
    hidden = [r for r in result.test_case_results if r.test_case.hidden]
    text = f"public checks passed: {sum(r.passed for r in public)} of {len(public)}"
    if hidden:
        text += f"; hidden checks passed: {sum(r.passed for r in hidden)} of {len(hidden)}"
    if not all(r.passed for r in public):
        detail = result.summary(public_only=True)
        text += "\n" + (detail if len(detail) < 1500 else detail[:700] + "\n...\n" + detail[-700:])
    return text


def _all_or_nothing(result) -> float:
    """An exercise's points when every check, public and hidden, ran and passed; else 0."""
    ran = result.test_case_results
    return float(result.possible) if ran and len(ran) == len(result.test_cases) and all(r.passed for r in ran) else 0.0


def grade_notebook(notebook: Path, autograder: Path, student: str, work: Path, timeout: float = TIMEOUT_S) -> dict:
    """Grade one submitted notebook with otter (no Docker), stopped after ``timeout`` seconds. Never
    raises: a notebook that cannot be graded scores 0 and says why. Returns scores by exercise (all
    or nothing, see ``_all_or_nothing``), errors, the run record, what the checks said and whether
    the notebook was stopped."""
    import nbformat
    from otter.api import grade_submission

    submitted = None
    try:
        submitted = nbformat.read(notebook, as_version=4)
    except Exception as err:  # noqa: BLE001 - any unreadable file is the student's, reported, not raised
        return {"scores": {}, "errors": [f"{notebook.name} is not a readable notebook: {err}"], "record": {}}
    env = {  # JPY_SESSION_NAME names the run record after the notebook (runlog.notebook_path)
        "FER_OUTPUT_DIR": str(work / "outputs"),
        "FER_STUDENT_ID": student,
        "JPY_SESSION_NAME": str(notebook.resolve()),
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    run: dict = {}
    try:
        with time_limit(timeout, run):
            results = grade_submission(str(notebook), str(autograder), quiet=True)
    except Exception as err:  # noqa: BLE001
        why = f"{_stopped(timeout, run)}, and the checks could not run" if "stopped" in run else "grading failed"
        return {
            "scores": {},
            "errors": [f"{why}: {type(err).__name__}: {err}"],
            "record": {},
            "stopped": "stopped" in run,
        }
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    scores = {name: _all_or_nothing(results.get_result(name)) for name in results.test_files}
    errors = _cell_errors(results.notebook)
    if "stopped" in run:  # the interrupt's KeyboardInterrupt is said by this line
        errors = [_stopped(timeout, run)] + [e for e in errors if "): KeyboardInterrupt: " not in e]
    if results.catastrophic_error:
        errors.append(f"grading failed: {results.catastrophic_error}")
    outputs = {name: _check_summary(results.get_result(name)) for name in results.test_files}
    return {
        "scores": scores,
        "errors": errors,
        "record": _run_record(submitted),
        "outputs": outputs,
        "stopped": "stopped" in run,
        "kernel_pid": run.get("kernel_pid"),
    }


def _stopped(timeout: float, run: dict) -> str:
    where = f" in the cell {run['stopped']!r}" if run.get("stopped") else ""
    return f"stopped after {timeout:g} s{where}: the cells after it did not run, the checks scored what was defined"


def _number(text) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def gradebook_columns() -> list[str]:
    """The gradebook's columns: checked exercises, hand-graded ones (empty, for the instructor),
    totals, per notebook the student's profile and data source, and a note."""
    columns = ["student", *[e.name for e in EXERCISES if not e.manual], *[e.name for e in EXERCISES if e.manual]]
    columns += ["auto_total", "auto_possible", "manual_possible", "total", "possible", "percent"]
    return columns + [f"nb{k}_{what}" for k in NOTEBOOKS for what in ("profile", "data")] + ["note"]


def write_gradebook(path: Path, rows: list[dict]) -> None:
    """Merge ``rows`` into the gradebook at ``path``: a student's new row replaces the old one (the
    hand-graded scores already entered are kept), other students stay. Totals are counted again for
    every row, hand-graded scores included where entered."""
    book: dict[str, dict] = {}
    if path.exists():
        with open(path, newline="") as f:
            book = {row["student"]: row for row in csv.DictReader(f) if row.get("student")}
    manual = [e.name for e in EXERCISES if e.manual]
    for row in rows:
        old = book.get(row["student"], {})
        book[row["student"]] = {**{m: old.get(m, "") for m in manual}, **row}
    possible = sum(e.points for e in EXERCISES)
    for row in book.values():
        auto = _number(row.get("auto_total")) or 0.0
        entered = [n for m in manual if (n := _number(row.get(m))) is not None]
        row["total"] = round(auto + sum(entered), 2)
        row["possible"] = possible
        row["percent"] = round(100 * row["total"] / possible, 2)
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=gradebook_columns(), restval="", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(book[s] for s in sorted(book))
    tmp.replace(path)
    write_lms_grades(path)  # rebuilt from the gradebook: the two never disagree


def _limit_threads(threads: int) -> None:
    """Pool initializer: the kernels a grading process starts use ``threads`` TensorFlow threads per pool,
    so that ``jobs`` notebooks side by side do not fight over the cores."""
    for var in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))


def _grade_all(tasks: list[tuple], labels: list[str], timeout: float, jobs: int) -> list[dict]:
    """``grade_notebook`` for each ``(notebook, autograder, student, work)``, in order (``labels``: what
    the progress line names); with ``jobs`` > 1,
    that many notebooks at a time, each in its own process (otter's time limit and the notebook's
    environment are per process)."""

    def start(task: tuple, label: str):
        print(f"grading {task[2]} / {label}", flush=True)
        return task

    if jobs <= 1 or len(tasks) <= 1:
        return [grade_notebook(*start(task, label), timeout=timeout) for task, label in zip(tasks, labels)]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    threads = max(1, (os.cpu_count() or 1) // jobs)
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing inherited from TensorFlow's threads
    with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_limit_threads, initargs=(threads,)) as pool:
        futures = [pool.submit(grade_notebook, *start(t, label), timeout=timeout) for t, label in zip(tasks, labels)]
        return [f.result() for f in futures]


def grade(
    submissions: str | os.PathLike,
    dist: str | os.PathLike,
    out: str | os.PathLike,
    timeout: float = TIMEOUT_S,
    jobs: int = 1,
) -> Path:
    """Grade every student's notebooks, each stopped after ``timeout`` seconds, ``jobs`` notebooks at a
    time; updates ``out/gradebook.csv`` (one row per student: ``gradebook_columns``; the rows of
    students not in ``submissions`` stay; ``out/lms_grades.csv`` follows it) and writes
    ``out/feedback/<student>.md``."""
    dist, out = Path(dist), Path(out)
    zips = {key: dist / "autograder" / f"{name}.zip" for key, name in NOTEBOOKS.items()}
    absent = [str(z) for z in zips.values() if not z.exists()]
    if absent:
        raise GradingError(f"no autograder at {', '.join(absent)}: run `make assignments` first")
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    auto = [e for e in EXERCISES if not e.manual]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        students = _student_folders(Path(submissions), Path(tmp) / "unpacked")
        found = {  # (student, key) -> (notebook or None, why another file was chosen)
            (student, key): find_notebook(folder, name)
            for student, (folder, problem) in students.items()
            if not problem
            for key, name in NOTEBOOKS.items()
        }
        graded = [(sk, nb) for sk, (nb, _) in found.items() if nb is not None]
        tasks = [(nb, zips[key], student, Path(tmp) / "work" / student / key) for (student, key), nb in graded]
        labels = [str(nb.relative_to(students[student][0])) for (student, _), nb in graded]
        results = dict(zip([sk for sk, _ in graded], _grade_all(tasks, labels, timeout, jobs)))
        for student, (_, problem) in students.items():
            row: dict = {"student": student, **{e.name: 0.0 for e in auto}}
            feedback, notes = [f"# Feedback for {student}", ""], []
            if problem:  # one line for the archive instead of six notebooks "not submitted"
                print(f"{student}: {problem}", flush=True)
                feedback += [problem, ""]
                notes.append(problem)
                for key in NOTEBOOKS:
                    row[f"nb{key}_profile"], row[f"nb{key}_data"] = "", "missing"
            for key, name in ({} if problem else NOTEBOOKS).items():
                notebook, chosen = found[student, key]
                if notebook is None:
                    feedback += [f"## {name}", "", "not submitted", ""]
                    row[f"nb{key}_profile"], row[f"nb{key}_data"] = "", "missing"
                    continue
                res = results[student, key]
                row.update({e.name: round(res["scores"].get(e.name, 0.0), 2) for e in auto if e.notebook == key})
                row[f"nb{key}_profile"] = res["record"].get("profile", "")
                row[f"nb{key}_data"] = res["record"].get("data", "")
                feedback += [f"## {name}", ""] + ([chosen, ""] if chosen else [])
                if chosen:
                    notes.append(f"nb{key}: {chosen}")
                if res.get("stopped"):
                    notes.append(f"nb{key}: stopped after {timeout:g} s")
                for e in (e for e in EXERCISES if e.notebook == key):
                    if e.manual:
                        feedback.append(f"- exercise {e.number}: graded by hand ({e.points} point(s))")
                    else:
                        got = res["scores"].get(e.name, 0.0)
                        detail = res.get("outputs", {}).get(e.name, "not graded").strip().replace("\n", "\n    ")
                        feedback.append(f"- exercise {e.number}: {got:g} / {e.points}\n    {detail}")
                if res["errors"]:
                    feedback += ["", "Errors while running your notebook:"] + [f"- {err}" for err in res["errors"]]
                feedback.append("")
            row["auto_total"] = round(sum(row[e.name] for e in auto), 2)
            row["auto_possible"] = sum(e.points for e in auto)
            row["manual_possible"] = sum(e.points for e in EXERCISES if e.manual)
            row["note"] = "; ".join(notes)
            (out / "feedback" / f"{student}.md").write_text("\n".join(feedback))
            rows.append(row)
    _keep_lms_ids(Path(submissions), out)
    write_gradebook(out / "gradebook.csv", rows)
    print(f"gradebook: {out / 'gradebook.csv'} ({len(rows)} students graded); feedback in {out / 'feedback'}")
    print(f"for the LMS gradebook import: {out / 'lms_grades.csv'}")
    return out / "gradebook.csv"


# --------------------------------------------------------------------------- LMS import and export
# Canvas's "Download Submissions": <name>[_LATE]_<user id>_<submission id>_<original file name>,
# a re-submission's original name ending in -1, -2, ... before its extension.
_CANVAS_NAME = re.compile(r"^(?P<student>[^_]+?)(?P<late>_LATE)?_(?P<user>\d+)_(?P<submission>\d+)_(?P<original>.+)$")
_RESUBMISSION = re.compile(r"^(?P<stem>.+)-(?P<n>\d+)(?P<ext>\.[^.]+)$")
LMS_IDS = ".lms_ids.csv"  # student folder -> LMS user id, written by import_lms beside the student folders
GRADES_LMS_IDS = "lms_ids.csv"  # the same, gathered by `grade` beside the gradebook for the export
LMS_COLUMNS = ["Student", "ID", "SIS User ID", "Section", "FER course (points)", "FER course (percent)"]


@dataclass(frozen=True)
class LmsFile:
    """One file of an LMS download, as its name describes it."""

    student: str
    user_id: str
    original: str  # the file name the student uploaded, without the re-submission suffix
    attempt: int  # 0: the plain upload; N: the re-submission ending in -N
    late: bool
    name: str  # the name in the download


def parse_lms_name(name: str) -> LmsFile | None:
    """What a Canvas download's file name says (student, user id, original name, re-submission,
    late), or None when it is not such a name."""
    match = _CANVAS_NAME.match(name)
    if not match:
        return None
    original, attempt = match["original"], 0
    if resubmission := _RESUBMISSION.match(original):
        original, attempt = resubmission["stem"] + resubmission["ext"], int(resubmission["n"])
    return LmsFile(match["student"], match["user"], original, attempt, bool(match["late"]), name)


def _download_files(download: Path) -> list[tuple[str, float, bytes]]:
    """(name, modification time, content) of each file of a download folder or .zip archive, without
    macOS's resource forks and hidden files."""

    def kept(parts: tuple[str, ...]) -> bool:
        return "__MACOSX" not in parts and not parts[-1].startswith(".")

    if download.is_dir():
        return [
            (p.name, p.stat().st_mtime, p.read_bytes())
            for p in sorted(download.rglob("*"))
            if p.is_file() and kept(p.relative_to(download).parts)
        ]
    if not download.is_file():
        raise GradingError(f"{download} does not exist: give the LMS download (a folder or its .zip archive)")
    try:
        with zipfile.ZipFile(download) as z:
            return [
                (Path(i.filename).name, time.mktime((*i.date_time, 0, 0, -1)), z.read(i))
                for i in sorted(z.infolist(), key=lambda i: i.filename)
                if not i.is_dir() and kept(Path(i.filename).parts)
            ]
    except (zipfile.BadZipFile, OSError) as err:
        raise GradingError(
            f"{download} is not a readable .zip archive ({type(err).__name__}: {err}): download it again"
        ) from err


def _read_lms_ids(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    with open(path, newline="") as f:
        return {row["student"]: row["id"] for row in csv.DictReader(f) if row.get("student")}


def _write_lms_ids(path: Path, ids: dict[str, str]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "id"])
        writer.writerows(sorted(ids.items()))


def import_lms(download: str | os.PathLike, out: str | os.PathLike) -> dict[str, list[Path]]:
    """Turn an LMS download (Canvas's "Download Submissions": one flat folder or .zip) into the
    layout ``grade`` reads: ``out/<student>/<original file name>``. Of a student's re-submissions
    of one file the highest ``-N`` wins, else the plain upload; a file already in ``out`` that is
    newer than the download's is kept and reported; names that match no pattern are listed.
    Returns the files written by student."""
    download, out = Path(download), Path(out)
    files = _download_files(download)
    parsed = {name: parse_lms_name(name) for name, _, _ in files}
    skipped = [name for name, info in parsed.items() if info is None]
    users: dict[str, set[str]] = {}
    for info in filter(None, parsed.values()):
        users.setdefault(info.student, set()).add(info.user_id)

    def folder(info: LmsFile) -> str:  # two students of one name: the user id tells them apart
        return info.student if len(users[info.student]) == 1 else f"{info.student}_{info.user_id}"

    uploads: dict[tuple[str, str], list[tuple[LmsFile, float, bytes]]] = {}
    for name, mtime, content in files:
        if info := parsed[name]:
            uploads.setdefault((folder(info), info.original), []).append((info, mtime, content))
    written: dict[str, list[Path]] = {}
    kept, ids = [], _read_lms_ids(out / LMS_IDS)
    for (student, original), candidates in sorted(uploads.items()):
        info, mtime, content = max(candidates, key=lambda c: (c[0].attempt, c[1], c[0].name))
        ids[student] = info.user_id
        target = out / student / original
        which = f"re-submission {info.attempt}" if info.attempt else "the plain upload"
        if len(candidates) > 1:
            which += f" of {len(candidates)} uploads"
        which += ", late" if info.late else ""
        if target.exists() and target.read_bytes() == content:
            print(f"{student}/{original}: unchanged ({which}: {info.name})", flush=True)
            continue
        if target.exists() and target.stat().st_mtime > mtime:
            kept.append(f"kept {target}: it is newer than {info.name} in the download (delete it to import that one)")
            continue
        replaced = " (replaced the older file there)" if target.exists() else ""
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        os.utime(target, (mtime, mtime))
        written.setdefault(student, []).append(target)
        print(f"{student}/{original} <- {info.name} ({which}){replaced}", flush=True)
    if ids:
        out.mkdir(parents=True, exist_ok=True)
        _write_lms_ids(out / LMS_IDS, ids)
    for line in kept:
        print(line, flush=True)
    for name in skipped:
        print(f"skipped {name}: not an LMS download name (<student>_<id>_<id>_<file>); copy it by hand", flush=True)
    print(
        f"imported {sum(map(len, written.values()))} file(s) of {len({s for s, _ in uploads})} student(s) into {out}"
        f"; {len(kept)} kept, {len(skipped)} skipped",
        flush=True,
    )
    return written


def _keep_lms_ids(submissions: Path, grades: Path) -> None:
    """The LMS user ids that ``import_lms`` found in ``submissions``, added to ``grades``'s."""
    found = _read_lms_ids(submissions / LMS_IDS)
    if found:
        grades.mkdir(parents=True, exist_ok=True)
        ids = grades / GRADES_LMS_IDS
        _write_lms_ids(ids, {**_read_lms_ids(ids), **found})


def write_lms_grades(gradebook: Path) -> Path:
    """``lms_grades.csv`` beside ``gradebook``, rebuilt from it: Canvas's gradebook import layout
    (``LMS_COLUMNS``): a "Points Possible" row (as in Canvas's own export: new assignment columns
    take their points from it), then one row per student with its total and percent; the ID is the
    LMS user id where ``import_lms`` found one, else empty."""
    with open(gradebook, newline="") as f:
        rows = [row for row in csv.DictReader(f) if row.get("student")]
    ids = _read_lms_ids(gradebook.parent / GRADES_LMS_IDS)
    path = gradebook.parent / "lms_grades.csv"
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(LMS_COLUMNS)
        if rows:
            writer.writerow(["Points Possible", "", "", "", max((r["possible"] for r in rows), key=float), "100"])
        writer.writerows([r["student"], ids.get(r["student"], ""), "", "", r["total"], r["percent"]] for r in rows)
    tmp.replace(path)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fer_utils.grading", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    a = sub.add_parser("assign", help="write the student notebooks, autograders and rubric")
    a.add_argument("--out", default="dist")
    a.add_argument("--repo", default=None, help="owner/name on GitHub for Colab/Kaggle badges (default: origin)")
    a.add_argument("--branch", default="main", help="the branch of --repo that holds student/")
    a.add_argument(
        "--private-checks", default=None, help=f"JSON of extra hidden checks (${classroom.PRIVATE_CHECKS_ENV})"
    )
    g = sub.add_parser("grade", help="grade a folder of submissions into a gradebook")
    g.add_argument("--submissions", required=True, help="one sub-folder or .zip archive per student")
    g.add_argument("--dist", default="dist", help="what `assign` wrote")
    g.add_argument("--out", default=None, help="default: <dist>/grades")
    g.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds per notebook (default %(default)g)")
    g.add_argument("--jobs", type=int, default=1, help="notebooks graded at a time, each in its own process")
    m = sub.add_parser("import-lms", help="an LMS download (Canvas) as one sub-folder per student for `grade`")
    m.add_argument("--download", required=True, help="the LMS download: a flat folder or its .zip archive")
    m.add_argument("--out", required=True, help="the submissions folder for `grade`")
    args = ap.parse_args(argv)
    try:
        if args.command == "import-lms":
            import_lms(args.download, args.out)
        elif args.command == "assign":
            repo = classroom.check_repo(args.repo) if args.repo else classroom.repo_from_git()
            private = classroom.private_checks_path(args.private_checks)
            make_assignments(args.out, repo=repo, branch=args.branch, private_checks=private)
        else:
            out = args.out or Path(args.dist) / "grades"
            grade(args.submissions, args.dist, out, timeout=args.timeout, jobs=args.jobs)
    except (GradingError, classroom.ClassroomError) as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
