"""Assignments and grading with otter-grader: student notebooks without solutions, hidden checks,
and a gradebook for a folder of submissions.

    python -m fer_utils.grading assign --out dist                        # make assignments
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
import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from . import config

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
        "best epoch 22 of 24 (laptop); any epoch in smoke",
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
        "augmentation minus plain, mean of two seeds (hidden); the comment on the seed spread is read by hand",
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
        "`learned` holds the rows of `effects` whose configuration learned with every seed, best first, without "
        "the base (public: a table with `experiment` and `vs_base`; hidden: the same experiments as the notebook's "
        "own filter); whether each gap exceeds the noise band is read by hand. In `smoke` no run learns and the "
        "right answer is an empty table.",
        "helped most and hurt most with their mean gaps from the base, each set against the noise (the largest "
        "seed-to-seed spread); numbers: the committed laptop run",
        "learned = ...  # the rows of `effects` for the configurations that learned, best first, without the base\n"
        "if len(learned):\n"
        "    up, down = learned.iloc[0], learned.iloc[-1]\n"
        '    print("helped most:", up.experiment, "| hurt most:", down.experiment)',
        ('assert {"experiment", "vs_base"} <= set(learned.columns)',),
        (
            '_ok = effects[effects.learned & (effects.experiment != "BN-VGG (base)")]\n'
            "assert list(learned.experiment) == list(_ok.experiment)",
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
        "happy 0.91, flipped: happy 0.89",
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
        "lowest precision: fear (0.50 in the laptop run)",
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
        "weighted 0.6353 = scikit-learn's; micro 0.6397 = the accuracy (laptop run)",
        "weighted_f1 = ...  # from tp, fn and f1 of section 3: each emotion's F1 weighted by its support\n"
        "micro_f1 = ...  # F1 from the TP, FP and FN summed over the emotions\n"
        'print(f"weighted {weighted_f1:.4f} | micro {micro_f1:.4f}")',
        ("assert 0 <= float(weighted_f1) <= 1 and 0 <= float(micro_f1) <= 1",),
        (
            'assert abs(float(weighted_f1) - m["weighted"]["f1"]) < 1e-6',
            'assert abs(float(micro_f1) - m["accuracy"]) < 1e-6',
        ),
    ),
    Exercise("06", 3, 1, _MANUAL, "e.g. class weights for disgust, less early pooling, a look at label noise"),
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


def make_assignments(out: str | os.PathLike, source_dir: str | os.PathLike | None = None) -> dict[str, Path]:
    """Run ``otter assign`` on every notebook. Writes ``out/student/<nb>.ipynb`` (to hand out: no
    solutions, no hidden checks), ``out/autograder/<nb>.zip`` (for grading) and ``out/RUBRIC.md``.
    Returns the autograder zips by notebook key."""
    import nbformat

    out = Path(out)
    shutil.rmtree(out, ignore_errors=True)
    (out / "student").mkdir(parents=True)
    (out / "autograder").mkdir()
    zips = {}
    for key, name in NOTEBOOKS.items():
        source = Path(source_dir) / f"{name}.ipynb" if source_dir else None
        with tempfile.TemporaryDirectory() as tmp:
            master = Path(tmp) / f"{name}.ipynb"
            nbformat.write(master_notebook(key, source), master)
            done = subprocess.run(
                [sys.executable, "-m", "otter", "assign", "-v", str(master), str(Path(tmp) / "dist")],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise GradingError(f"otter assign failed on {name}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
            shutil.copy(Path(tmp) / "dist" / "student" / f"{name}.ipynb", out / "student" / f"{name}.ipynb")
            (zip_file,) = (Path(tmp) / "dist" / "autograder").glob("*.zip")
            zips[key] = shutil.copy(zip_file, out / "autograder" / f"{name}.zip")
    (out / "RUBRIC.md").write_text(rubric())
    print(f"student notebooks in {out / 'student'}, autograders in {out / 'autograder'}, rubric {out / 'RUBRIC.md'}")
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
        "| exercise | points | graded | what is checked | looked like (laptop run) |",
        "|---|---|---|---|---|",
    ]
    for e in EXERCISES:
        graded = "by hand" if e.manual else "checks"
        lines.append(f"| {e.name} | {e.points} | {graded} | {e.checks} | {e.normal} |")
    lines += [
        "",
        "Normal ranges per profile: in `smoke` (CI; a few hundred faces, one or two epochs) the models learn "
        "little and exercise answers that are accuracies are not meaningful; in `quick` notebook 03 reaches "
        "about 53% PrivateTest, in `laptop` about 64%. A submission whose run record says `smoke` or "
        "`synthetic` was not run on FER-2013 in a real profile: the gradebook's `profile` and `data` columns show it.",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- grading
def _student_folders(submissions: Path, scratch: Path) -> dict[str, Path]:
    """One folder per student: sub-folders as they are, ``.zip`` archives unpacked into ``scratch``."""
    if not submissions.is_dir():
        raise GradingError(f"{submissions} is not a folder: put one sub-folder or .zip archive per student in it")
    students = {}
    for entry in sorted(submissions.iterdir()):
        if entry.is_dir():
            students[entry.name] = entry
        elif entry.suffix == ".zip":
            target = scratch / entry.stem
            try:
                with zipfile.ZipFile(entry) as archive:
                    archive.extractall(target)
            except zipfile.BadZipFile:
                target.mkdir(parents=True, exist_ok=True)
                (target / "UNREADABLE_ARCHIVE").write_text(f"{entry} is not a readable zip archive")
            students[entry.stem] = target
    if not students:
        raise GradingError(f"{submissions} holds no student sub-folder or .zip archive")
    return students


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


def grade_notebook(notebook: Path, autograder: Path, student: str, work: Path) -> dict:
    """Grade one submitted notebook with otter (no Docker). Never raises: a notebook that cannot be
    graded scores 0 and says why. Returns scores by exercise, errors and the run record."""
    import nbformat
    from otter.api import grade_submission

    submitted = None
    try:
        submitted = nbformat.read(notebook, as_version=4)
    except Exception as err:  # noqa: BLE001 - any unreadable file is the student's, reported, not raised
        return {"scores": {}, "errors": [f"{notebook.name} is not a readable notebook: {err}"], "record": {}}
    env = {"FER_OUTPUT_DIR": str(work / "outputs"), "FER_STUDENT_ID": student}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        results = grade_submission(str(notebook), str(autograder), quiet=True)
    except Exception as err:  # noqa: BLE001
        return {"scores": {}, "errors": [f"grading failed: {type(err).__name__}: {err}"], "record": {}}
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    scores = {name: float(results.get_score(name)) for name in results.test_files}
    errors = _cell_errors(results.notebook)
    if results.catastrophic_error:
        errors.append(f"grading failed: {results.catastrophic_error}")
    outputs = {}
    for name in results.test_files:  # public checks in full; hidden ones only counted, never shown
        result = results.get_result(name)
        hidden = [r for r in result.test_case_results if r.test_case.hidden]
        text = result.summary(public_only=True)
        text = text if len(text) < 1500 else text[:700] + "\n...\n" + text[-700:]
        if hidden:
            text += f"\nhidden checks passed: {sum(r.passed for r in hidden)} of {len(hidden)}"
        outputs[name] = text
    return {"scores": scores, "errors": errors, "record": _run_record(submitted), "outputs": outputs}


def grade(submissions: str | os.PathLike, dist: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Grade every student's notebooks; writes ``out/gradebook.csv`` (one row per student, a column
    per exercise, totals, profile and data per notebook) and ``out/feedback/<student>.md``."""
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
        for student, folder in students.items():
            row: dict = {"student": student}
            feedback = [f"# Feedback for {student}", ""]
            for key, name in NOTEBOOKS.items():
                found = sorted(folder.rglob(f"{name}*.ipynb"))
                if not found:
                    feedback += [f"## {name}", "", "not submitted", ""]
                    row[f"nb{key}_profile"], row[f"nb{key}_data"] = "", "missing"
                    continue
                print(f"grading {student} / {found[0].name}", flush=True)
                res = grade_notebook(found[0], zips[key], student, Path(tmp) / "work" / student / key)
                row.update({e.name: res["scores"].get(e.name, 0.0) for e in auto if e.notebook == key})
                row[f"nb{key}_profile"] = res["record"].get("profile", "")
                row[f"nb{key}_data"] = res["record"].get("data", "")
                feedback += [f"## {name}", ""]
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
            for e in auto:
                row.setdefault(e.name, 0.0)
            row["auto_total"] = sum(row[e.name] for e in auto)
            row["auto_possible"] = sum(e.points for e in auto)
            row["manual_possible"] = sum(e.points for e in EXERCISES if e.manual)
            (out / "feedback" / f"{student}.md").write_text("\n".join(feedback))
            rows.append(row)
    columns = ["student", *[e.name for e in auto], "auto_total", "auto_possible", "manual_possible"]
    columns += [f"nb{k}_{what}" for k in NOTEBOOKS for what in ("profile", "data")]
    with open(out / "gradebook.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    print(f"gradebook: {out / 'gradebook.csv'} ({len(rows)} students); feedback in {out / 'feedback'}")
    return out / "gradebook.csv"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fer_utils.grading", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    a = sub.add_parser("assign", help="write the student notebooks, autograders and rubric")
    a.add_argument("--out", default="dist")
    g = sub.add_parser("grade", help="grade a folder of submissions into a gradebook")
    g.add_argument("--submissions", required=True, help="one sub-folder or .zip archive per student")
    g.add_argument("--dist", default="dist", help="what `assign` wrote")
    g.add_argument("--out", default=None, help="default: <dist>/grades")
    args = ap.parse_args(argv)
    try:
        if args.command == "assign":
            make_assignments(args.out)
        else:
            grade(args.submissions, args.dist, args.out or Path(args.dist) / "grades")
    except GradingError as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
