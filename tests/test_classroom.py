"""The student side of `make assignments` (fer_utils.classroom): the student wheel carries no hidden check,
the student notebooks get Colab/Kaggle badges and a setup cell for the instructor's repository, the setup
finds FER-2013 in faked Colab, Kaggle and local environments, and private checks reach the autograders only.
No network: kagglehub, pip and /kaggle/input are faked."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import types
import zipfile

import nbformat
import pytest
from conftest import build_once

from fer_utils import classroom, config, grading, platforms

REPO, BRANCH = "teacher/fer-course", "main"
KEY = "02"  # otter assign on one notebook keeps this module short; test_grading.py covers all six
NAME = grading.NOTEBOOKS[KEY]
PRIVATE = "assert m5.count_params() > 1717"  # an instructor's own check


@pytest.fixture(scope="session")  # otter assign on one notebook: once per test run
def dist(tmp_path_factory):
    def build(out):
        checks = tmp_path_factory.mktemp("private") / "checks.json"
        checks.write_text(json.dumps({"nb02_ex1": [PRIVATE]}))
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(grading, "NOTEBOOKS", {KEY: NAME})
            grading.make_assignments(out, repo=REPO, branch=BRANCH, private_checks=checks)

    return build_once(tmp_path_factory, "dist-classroom", build)


@pytest.fixture
def wheel(dist):
    (path,) = (dist / "student").glob("fer_utils-*-py3-none-any.whl")
    return path


def test_the_student_wheel_carries_no_hidden_check(wheel):
    secrets = [check for e in grading.EXERCISES for check in e.hidden] + [PRIVATE]
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        texts = {n: z.read(n).decode("utf-8", "replace") for n in names}
    assert "fer_utils/grading.py" not in names
    leaked = [(n, s) for n, text in texts.items() for s in secrets if s in text]
    assert not leaked, f"hidden checks in the student wheel: {leaked}"
    for n, text in texts.items():  # nothing in it needs grading
        if n.endswith(".py"):
            tree = ast.parse(text)
            imported = {a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for a in node.names}
            imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
            assert not {"grading", "fer_utils.grading"} & imported, n


def test_the_student_wheel_holds_what_the_student_notebooks_import(wheel):
    wanted = {"__init__", "classroom", "platforms"}
    for nb_path in (config.PROJECT_ROOT / "notebooks").glob("*.ipynb"):
        for cell in nbformat.read(nb_path, as_version=4).cells:
            for m in re.finditer(r"^from fer_utils(?:\.(\w+))? import ([\w, ]+)", cell.source, flags=re.M):
                wanted |= {m.group(1)} if m.group(1) else {n.strip() for n in m.group(2).split(",")}
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        meta = z.read(f"fer_utils-{classroom._project_metadata()['version']}.dist-info/METADATA").decode()
        record = z.read(next(n for n in names if n.endswith(".dist-info/RECORD"))).decode()
    assert {f"fer_utils/{m}.py" for m in wanted} <= names
    assert f"fer_utils/assignments/{NAME}.ipynb" in names  # the student notebook, for grader.check on Colab
    assert "fer_utils/assets/fer_cnn.keras" in names and any(n.startswith("fer_utils/templates/") for n in names)
    assert {line.split(",")[0] for line in record.splitlines()} == names
    requires = re.findall(r"^Requires-Dist: (.+)$", meta, flags=re.M)
    assert "otter-grader>=7.0,<8" in requires and "tensorflow>=2.16" in requires
    pinned = (config.PROJECT_ROOT / "requirements.txt").read_text()
    assert all(r in pinned for r in classroom.STUDENT_REQUIREMENTS), "keep STUDENT_REQUIREMENTS as requirements.txt"


def test_the_student_wheel_imports_without_the_repository(wheel, tmp_path):
    with zipfile.ZipFile(wheel) as z:
        z.extractall(tmp_path)
    code = (
        "import importlib.util, fer_utils, fer_utils.classroom, fer_utils.platforms\n"
        "print(fer_utils.__file__, importlib.util.find_spec('fer_utils.grading'))"
    )
    # -S: no site-packages, so the repository's editable install cannot fill in the missing module
    done = subprocess.run(
        [sys.executable, "-S", "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(tmp_path / "fer_utils" / "__init__.py"), "None"]


def test_private_checks_reach_the_autograder_only(dist):
    with zipfile.ZipFile(dist / "autograder" / f"{NAME}.zip") as z:
        test = z.read("tests/nb02_ex1.py").decode()
    assert ">>> " + PRIVATE in test and test.count("'hidden': True") == 2  # the exercise's own and the private one
    assert "1717" not in (dist / "student" / f"{NAME}.ipynb").read_text()


def test_student_notebooks_link_colab_and_kaggle_to_the_repository(dist, wheel):
    nb = nbformat.read(dist / "student" / f"{NAME}.ipynb", as_version=4)
    first_md = next(c for c in nb.cells if c.cell_type == "markdown")
    assert first_md.source.startswith("# 02 ")
    links = set(re.findall(r"\]\((https://[^)]+)\)", first_md.source))
    path = f"https://github.com/{REPO}/blob/{BRANCH}/student/{NAME}.ipynb"
    assert links == {
        "https://colab.research.google.com/assets/colab-badge.svg",  # the badges' images
        "https://kaggle.com/static/images/open-in-kaggle.svg",
        f"https://colab.research.google.com/github/{REPO}/blob/{BRANCH}/student/{NAME}.ipynb",
        f"https://kaggle.com/kernels/welcome?src={path}",
    }
    setup, otter_init = nb.cells[0], nb.cells[1]
    assert setup.cell_type == "code" and "import otter" in otter_init.source  # set up before otter is imported
    url = f"https://raw.githubusercontent.com/{REPO}/{BRANCH}/student/{wheel.name}"
    assert f'wheel = "{url}"' in setup.source
    assert '"pip", "install", "-q", wheel' in setup.source and f'cloud_setup("{NAME}.ipynb")' in setup.source
    assert setup.get("id") and not setup.outputs


def test_without_a_repository_no_badges(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title\n\ntext")])
    nbformat.write(nb, tmp_path / "x.ipynb")
    classroom.add_classroom_cells(tmp_path / "x.ipynb", REPO, "dev", "fer_utils-0.1.0-py3-none-any.whl")
    cells = nbformat.read(tmp_path / "x.ipynb", as_version=4).cells
    assert "/blob/dev/student/x.ipynb" in cells[1].source and cells[1].source.endswith("text")
    assert "/teacher/fer-course/dev/student/fer_utils-0.1.0-py3-none-any.whl" in cells[0].source


# --------------------------------------------------------------------------- the setup cell and cloud_setup
def _fake_platform(monkeypatch, where: str) -> None:
    for var in ("KAGGLE_KERNEL_RUN_TYPE", "COLAB_RELEASE_TAG", "FER2013_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    if where == "kaggle":
        monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Interactive")
    elif where == "colab":
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    elif where == "colab-env":
        monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab")


@pytest.mark.parametrize("where", ["local", "kaggle", "colab", "colab-env"])
def test_the_setup_cell_installs_and_sets_up_on_colab_and_kaggle_only(monkeypatch, capsys, where):
    _fake_platform(monkeypatch, where)
    pip, setups = [], []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: pip.append(cmd) or subprocess.CompletedProcess(cmd, 0))
    monkeypatch.setattr(classroom, "cloud_setup", lambda notebook: setups.append(notebook))
    source = classroom.setup_cell_source(REPO, BRANCH, "fer_utils-0.1.0-py3-none-any.whl", f"{NAME}.ipynb")
    exec(compile(source, "setup-cell", "exec"), {})
    on_cloud = platforms.detect_platform() != "local"
    assert on_cloud == (where != "local")
    url = f"https://raw.githubusercontent.com/{REPO}/{BRANCH}/student/fer_utils-0.1.0-py3-none-any.whl"
    assert pip == ([[sys.executable, "-m", "pip", "install", "-q", url]] if on_cloud else [])
    assert setups == ([f"{NAME}.ipynb"] if on_cloud else [])
    if not on_cloud:
        assert capsys.readouterr().out == ""


def test_the_setup_cell_stops_with_one_line_when_pip_fails(monkeypatch):
    _fake_platform(monkeypatch, "kaggle")
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: subprocess.CompletedProcess(cmd, 1))
    with pytest.raises(SystemExit, match="turn Internet on"):
        exec(classroom.setup_cell_source(REPO, BRANCH, "w.whl", "n.ipynb"), {})


def _fer_tree(root):
    for split in ("train", "test"):
        (root / split / "happy").mkdir(parents=True)
    return root


@pytest.mark.parametrize("layout", ["fer2013", "datasets/msambare/fer2013"])
def test_cloud_setup_finds_the_attached_dataset_on_kaggle(tmp_path, capsys, layout):
    (tmp_path / "input" / "some-other-data" / "train").mkdir(parents=True)  # no test/: not FER-2013
    found = _fer_tree(tmp_path / "input" / layout)
    env = {"KAGGLE_KERNEL_RUN_TYPE": "Batch"}
    assert classroom.cloud_setup(environ=env, kaggle_input=tmp_path / "input") == found
    assert env["FER2013_DIR"] == str(found)
    out = capsys.readouterr().out
    assert "kaggle: fer_utils" in out and f"FER-2013: {found} (attached dataset); FER2013_DIR set" in out


def test_cloud_setup_on_kaggle_without_the_dataset_says_how_to_attach_it(tmp_path, capsys):
    env = {"KAGGLE_KERNEL_RUN_TYPE": "Batch"}
    assert classroom.cloud_setup(environ=env, kaggle_input=tmp_path) is None
    assert "FER2013_DIR" not in env and "Add Input, search msambare/fer2013" in capsys.readouterr().out


def test_cloud_setup_downloads_with_kagglehub_on_colab(tmp_path, monkeypatch, capsys):
    found = _fer_tree(tmp_path / "versions" / "1")
    asked = []
    fake = types.ModuleType("kagglehub")
    fake.dataset_download = lambda handle: asked.append(handle) or str(found)
    monkeypatch.setitem(sys.modules, "kagglehub", fake)
    env = {"COLAB_RELEASE_TAG": "x"}
    assert classroom.cloud_setup(environ=env) == found
    assert asked == ["msambare/fer2013"] and env["FER2013_DIR"] == str(found)
    assert "kagglehub.dataset_download('msambare/fer2013')" in capsys.readouterr().out


def test_cloud_setup_on_colab_without_network_says_so_in_one_line(monkeypatch, capsys):
    fake = types.ModuleType("kagglehub")

    def offline(handle):
        raise ConnectionError("no network")

    fake.dataset_download = offline
    monkeypatch.setitem(sys.modules, "kagglehub", fake)
    env = {"COLAB_RELEASE_TAG": "x"}
    assert classroom.cloud_setup(environ=env) is None
    out = capsys.readouterr().out
    assert "FER2013_DIR" not in env and "ConnectionError: no network" in out and "Traceback" not in out


def test_cloud_setup_keeps_a_given_folder_and_does_nothing_locally(tmp_path, capsys):
    given = str(_fer_tree(tmp_path / "mine"))
    env = {"COLAB_RELEASE_TAG": "x", "FER2013_DIR": given}
    assert str(classroom.cloud_setup(environ=env)) == given and env["FER2013_DIR"] == given
    env = {}
    assert classroom.cloud_setup(environ=env) is None and env == {}
    assert "local machine: nothing to set up" in capsys.readouterr().out


def test_grader_check_works_on_colab_from_the_package_alone(wheel, tmp_path, monkeypatch, capsys):
    """On Colab the notebook is not a file beside the kernel and otter reads checks only from tests/:
    cloud_setup writes both from the wheel, and grader.check then runs the public check."""
    import otter.check.utils

    with zipfile.ZipFile(wheel) as z:
        z.extractall(tmp_path / "wheel")
    work = tmp_path / "content"
    work.mkdir()
    fake = types.ModuleType("kagglehub")
    fake.dataset_download = lambda handle: str(_fer_tree(tmp_path / "fer"))
    monkeypatch.setitem(sys.modules, "kagglehub", fake)
    bundle = tmp_path / "wheel" / "fer_utils" / "assignments"
    classroom.cloud_setup(f"{NAME}.ipynb", environ={"COLAB_RELEASE_TAG": "x"}, bundle=bundle, workdir=work)
    assert "grader.check: 3 public checks" in capsys.readouterr().out
    assert sorted(p.name for p in (work / "tests").iterdir()) == ["nb02_ex1.py", "nb02_ex2.py", "nb02_ex4.py"]
    monkeypatch.chdir(work)
    monkeypatch.setattr(otter.check.utils, "get_ipython", lambda: "<google.colab._shell.Shell object>")
    grader = otter.Notebook(f"{NAME}.ipynb")
    assert grader.interpreter is otter.check.utils.IPythonInterpreter.COLAB
    conv = types.SimpleNamespace(kernel_size=(5, 5))
    right = grader.check("nb02_ex1", global_env={"m5": types.SimpleNamespace(get_layer=lambda name: conv)})
    wrong = grader.check("nb02_ex1", global_env={"m5": ...})
    assert right.grade == 1 and wrong.grade == 0


# --------------------------------------------------------------------------- the repository and the CLI
@pytest.mark.parametrize(
    "url, repo",
    [
        ("https://github.com/teacher/fer-course.git\n", REPO),
        ("git@github.com:teacher/fer-course.git", REPO),
        ("https://token@github.com/teacher/fer-course", REPO),
        ("https://gitlab.com/teacher/fer-course.git", None),
        ("/srv/git/fer-course", None),
    ],
)
def test_the_repository_is_read_from_a_github_remote(url, repo):
    assert classroom.github_repo(url) == repo


def test_repo_from_git_reads_origin(tmp_path):
    assert classroom.repo_from_git(tmp_path) is None  # not a git repository
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "remote", "add", "origin", "git@github.com:teacher/fer-course.git"])
    assert classroom.repo_from_git(tmp_path) == REPO


def test_assign_passes_repo_branch_and_private_checks(monkeypatch, tmp_path, capsys):
    calls = []
    monkeypatch.setattr(grading, "make_assignments", lambda out, **kw: calls.append((out, kw)))
    monkeypatch.setattr(classroom, "repo_from_git", lambda: REPO)
    monkeypatch.setenv(classroom.PRIVATE_CHECKS_ENV, str(tmp_path / "p.json"))
    assert grading.main(["assign", "--out", "d", "--branch", "spring"]) == 0
    assert calls[-1] == ("d", {"repo": REPO, "branch": "spring", "private_checks": tmp_path / "p.json"})
    assert grading.main(["assign", "--repo", "not a repo"]) == 1
    assert "is not a GitHub repository: write it as owner/name" in capsys.readouterr().err


def test_private_checks_must_name_checked_exercises(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"nb01_ex3": ["assert True"]}')  # nb01_ex3 is graded by hand
    checked = [e.name for e in grading.EXERCISES if not e.manual]
    with pytest.raises(classroom.ClassroomError, match=r"p\.json: nb01_ex3 are not exercises with checks"):
        classroom.load_private_checks(path, checked)
    path.write_text("{not json")
    with pytest.raises(classroom.ClassroomError, match=r"p\.json: not a readable JSON file"):
        classroom.load_private_checks(path, checked)
    path.write_text('{"nb01_ex1": "assert True"}')
    with pytest.raises(classroom.ClassroomError, match="exercise -> list of checks"):
        classroom.load_private_checks(path, checked)


def test_the_default_private_checks_file_is_git_ignored():
    ignored = (config.PROJECT_ROOT / ".gitignore").read_text().splitlines()
    assert classroom.PRIVATE_CHECKS_DEFAULT in ignored
    assert classroom.private_checks_path("x.json", environ={}) == classroom.Path("x.json")
    assert classroom.private_checks_path(None, environ={classroom.PRIVATE_CHECKS_ENV: "y.json"}).name == "y.json"


def test_make_assignments_takes_repo_and_branch_from_the_makefile():
    makefile = (config.PROJECT_ROOT / "Makefile").read_text()
    assert "--repo $(REPO)" in makefile and "--branch $(BRANCH)" in makefile and "BRANCH ?= main" in makefile
