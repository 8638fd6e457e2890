"""The student side of ``make assignments``: the student package, Colab/Kaggle badges and setup, and
the instructor's private checks.

- ``build_student_wheel`` writes ``fer_utils-<version>-py3-none-any.whl`` from this package without
  ``grading`` (which holds every hidden check); the student notebooks never import ``grading``.
- ``add_classroom_cells`` puts "Open in Colab" and "Open in Kaggle" badges into a student notebook's
  first markdown cell and a first code cell that, on Colab and Kaggle only, installs that wheel from
  the instructor's GitHub repository and calls ``cloud_setup`` (find FER-2013, set ``FER2013_DIR``).
- ``load_private_checks`` / ``add_private_checks``: hidden checks kept in a file outside the
  repository (``FER_PRIVATE_CHECKS``), added to the autograders only.

The instructor commits ``dist/student/`` as ``student/`` (``STUDENT_FOLDER``) of the repository the
badges name; imports only ``config`` and ``platforms``, so it runs before anything heavy.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import zipfile
from collections.abc import Iterable, Mapping, MutableMapping
from pathlib import Path

from . import config
from .platforms import KAGGLE_DATASET, detect_platform

#: Where the student notebooks and the wheel live in the instructor's repository.
STUDENT_FOLDER = "student"
#: The student notebooks inside the student package (``fer_utils/assignments/``): on Colab and Kaggle
#: ``cloud_setup`` puts the student's one beside the kernel and its public checks into ``tests/`` for otter.
BUNDLE = "assignments"
#: Left out of the student package: ``grading`` holds every exercise's checks, hidden ones included.
INSTRUCTOR_ONLY = ("grading.py",)
#: What the student notebooks need besides the package's own dependencies (all in requirements.txt):
#: otter-grader for ``grader.check``, KerasTuner (notebook 04), scikit-image's sample photos (05).
STUDENT_REQUIREMENTS = (
    "otter-grader>=7.0,<8",
    "keras-tuner>=1.4.7",
    "tensorboard>=2.16",
    "scikit-image>=0.22",
    "tqdm>=4.66",
    "nbformat>=5.9",
)
#: The instructor's own hidden checks: a JSON file outside the repository (or this git-ignored one).
PRIVATE_CHECKS_ENV = "FER_PRIVATE_CHECKS"
PRIVATE_CHECKS_DEFAULT = "private_checks.json"


class ClassroomError(RuntimeError):
    """Bad input for the student package or the private checks, explained in one line."""


# --------------------------------------------------------------------------- the student package
def _project_metadata() -> dict:
    """``[project]`` of pyproject.toml (Python 3.11+), else the installed package's metadata."""
    try:
        import tomllib

        return tomllib.loads((config.PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    except (ImportError, OSError, KeyError):
        from importlib import metadata

        from . import __version__

        return {
            "name": "fer_utils",
            "version": __version__,
            "requires-python": ">=3.10",
            "dependencies": metadata.requires("fer_utils") or [],
            "scripts": {"fer-emotion": "fer_utils.cli:main"},
        }


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def student_package_files(package: Path | None = None) -> dict[str, Path]:
    """Archive name -> file for every file of the package that students get (no ``INSTRUCTOR_ONLY``,
    no caches)."""
    package = Path(package or Path(__file__).parent)
    files = {}
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(package)
        if not path.is_file() or "__pycache__" in rel.parts or path.suffix == ".pyc" or rel.name.startswith("."):
            continue
        if rel.as_posix() in INSTRUCTOR_ONLY:
            continue
        files[f"{package.name}/{rel.as_posix()}"] = path
    return files


def student_wheel_name() -> str:
    meta = _project_metadata()
    return f"{meta['name'].replace('-', '_')}-{meta['version']}-py3-none-any.whl"


def build_student_wheel(
    out_dir: str | os.PathLike, forbidden: Iterable[str] = (), extra: Mapping[str, Path] | None = None
) -> Path:
    """Write ``out_dir/<student_wheel_name()>``: the package without ``INSTRUCTOR_ONLY``, plus ``extra``
    files (archive name -> file: the student notebooks), requiring the package's dependencies and
    ``STUDENT_REQUIREMENTS``. A plain PEP 427 zip, so no build backend or network is needed. Raises
    ``ClassroomError`` if any ``forbidden`` text (hidden checks) is in it."""
    meta = _project_metadata()
    name, version = meta["name"].replace("-", "_"), meta["version"]
    info = f"{name}-{version}.dist-info"
    files = {**student_package_files(), **(extra or {})}
    contents = {arc: Path(path).read_bytes() for arc, path in files.items()}
    leaks = [arc for arc, data in contents.items() for text in forbidden if text and text.encode() in data]
    if leaks:
        raise ClassroomError(f"hidden checks found in {', '.join(sorted(set(leaks)))}: they must not reach students")
    requires = [*meta.get("dependencies", []), *STUDENT_REQUIREMENTS]
    contents[f"{info}/METADATA"] = "\n".join(
        [
            "Metadata-Version: 2.1",
            f"Name: {name}",
            f"Version: {version}",
            "Summary: Face Emotion Recognition course, student package (no solutions, no hidden checks)",
            f"Requires-Python: {meta.get('requires-python', '>=3.10')}",
            *[f"Requires-Dist: {r}" for r in requires],
            "",
        ]
    ).encode()
    contents[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: fer_utils.classroom\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    scripts = meta.get("scripts", {})
    contents[f"{info}/entry_points.txt"] = (
        "[console_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in scripts.items())
    ).encode()
    contents[f"{info}/top_level.txt"] = f"{name}\n".encode()
    record = "".join(f"{arc},{_digest(data)},{len(data)}\n" for arc, data in contents.items()) + f"{info}/RECORD,,\n"
    contents[f"{info}/RECORD"] = record.encode()
    out = Path(out_dir) / student_wheel_name()
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as wheel:
        for arc, data in contents.items():
            wheel.writestr(zipfile.ZipInfo(arc, date_time=(2020, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return out


# --------------------------------------------------------------------------- the instructor's repository
def github_repo(url: str) -> str | None:
    """``owner/name`` of a GitHub remote address (https or ssh), else None."""
    match = re.match(
        r"^(?:https?://(?:[^@/]+@)?github\.com/|git@github\.com:|ssh://git@github\.com/)"
        r"([\w.-]+)/([\w.-]+?)(?:\.git)?/?$",
        url.strip(),
    )
    return f"{match.group(1)}/{match.group(2)}" if match else None


def repo_from_git(cwd: str | os.PathLike | None = None) -> str | None:
    """``owner/name`` from ``git remote get-url origin`` when that is a GitHub address, else None."""
    try:
        done = subprocess.run(
            ["git", "remote", "get-url", "origin"], cwd=cwd or config.PROJECT_ROOT, capture_output=True, text=True
        )
    except OSError:
        return None
    return github_repo(done.stdout) if done.returncode == 0 else None


def check_repo(repo: str) -> str:
    """``repo`` if it reads ``owner/name``; else ``ClassroomError``."""
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo or ""):
        raise ClassroomError(f"REPO={repo!r} is not a GitHub repository: write it as owner/name")
    return repo


def colab_url(repo: str, branch: str, path: str) -> str:
    return f"https://colab.research.google.com/github/{repo}/blob/{branch}/{path}"


def kaggle_url(repo: str, branch: str, path: str) -> str:
    return f"https://kaggle.com/kernels/welcome?src=https://github.com/{repo}/blob/{branch}/{path}"


def wheel_url(repo: str, branch: str, wheel_name: str) -> str:
    """The raw address of the student wheel committed in ``STUDENT_FOLDER``."""
    return f"https://raw.githubusercontent.com/{repo}/{branch}/{STUDENT_FOLDER}/{wheel_name}"


def badges_markdown(repo: str, branch: str, path: str) -> str:
    return (
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(repo, branch, path)})"
        f" [![Open In Kaggle](https://kaggle.com/static/images/open-in-kaggle.svg)]({kaggle_url(repo, branch, path)})"
    )


def setup_cell_source(repo: str, branch: str, wheel_name: str, notebook: str) -> str:
    """Student notebook ``notebook``'s first code cell: on Colab or Kaggle (the tests of
    ``platforms.detect_platform``) install the student package and run ``cloud_setup``; elsewhere nothing."""
    return (
        "# Colab and Kaggle only (nothing happens elsewhere): install the course package from\n"
        f"# {repo} (no solutions, no hidden checks), find FER-2013 and set FER2013_DIR.\n"
        "import os, subprocess, sys\n\n"
        'on_cloud = "KAGGLE_KERNEL_RUN_TYPE" in os.environ or "COLAB_RELEASE_TAG" in os.environ\n'
        'if on_cloud or "google.colab" in sys.modules:\n'
        f'    wheel = "{wheel_url(repo, branch, wheel_name)}"\n'
        '    if subprocess.run([sys.executable, "-m", "pip", "install", "-q", wheel]).returncode:\n'
        '        raise SystemExit(f"could not install {wheel} (on Kaggle: Settings, turn Internet on) and rerun")\n'
        "    from fer_utils.classroom import cloud_setup\n\n"
        f'    cloud_setup("{notebook}")'
    )


def add_classroom_cells(notebook: str | os.PathLike, repo: str, branch: str, wheel_name: str) -> None:
    """Badges into the first markdown cell and the setup cell first among the code cells of the student
    notebook file ``notebook``, which lives at ``STUDENT_FOLDER/<its name>`` in ``repo``."""
    import nbformat

    path = Path(notebook)
    nb = nbformat.read(path, as_version=4)
    badges = badges_markdown(repo, branch, f"{STUDENT_FOLDER}/{path.name}")
    first_md = next(c for c in nb.cells if c.cell_type == "markdown")
    title, _, rest = first_md.source.partition("\n")
    first_md.source = f"{title}\n\n{badges}\n{rest}" if title.startswith("#") else f"{badges}\n\n{first_md.source}"
    nb.cells.insert(0, nbformat.v4.new_code_cell(setup_cell_source(repo, branch, wheel_name, path.name)))
    nbformat.write(nb, path)


# --------------------------------------------------------------------------- on Colab and Kaggle
def _has_fer_folders(path: Path) -> bool:
    return (path / "train").is_dir() and (path / "test").is_dir()


def otter_files(notebook: str, bundle: str | os.PathLike | None = None, workdir: str | os.PathLike = ".") -> int:
    """For ``grader.check`` on Colab and Kaggle, where the notebook is not a file beside the kernel: copy
    student notebook ``notebook`` from the package's ``BUNDLE`` into ``workdir`` (unless one is there) and
    write its public checks to ``workdir/tests/<exercise>.py``, which otter reads first. Returns how many."""
    import pprint

    import nbformat

    source = Path(bundle or Path(__file__).parent / BUNDLE) / notebook
    if not source.is_file():
        print(f"{notebook} is not in the course package: grader.check will not find its checks")
        return 0
    workdir = Path(workdir)
    if not (workdir / notebook).exists():
        (workdir / notebook).write_bytes(source.read_bytes())
    tests = nbformat.read(source, as_version=4).metadata.get("otter", {}).get("tests", {})
    (workdir / "tests").mkdir(exist_ok=True)
    for question, test in tests.items():
        (workdir / "tests" / f"{question}.py").write_text(f"OK_FORMAT = True\n\ntest = {pprint.pformat(test)}\n")
    return len(tests)


def cloud_setup(
    notebook: str | None = None,
    platform: str | None = None,
    environ: MutableMapping[str, str] | None = None,
    kaggle_input: str | os.PathLike = "/kaggle/input",
    bundle: str | os.PathLike | None = None,
    workdir: str | os.PathLike = ".",
) -> Path | None:
    """On Colab or Kaggle: prepare ``grader.check`` for student notebook ``notebook`` (``otter_files``),
    find FER-2013 (Kaggle: an attached dataset under ``/kaggle/input/``; Colab: ``kagglehub``), set
    ``FER2013_DIR`` to it and print what was done. Returns the folder, or None (locally, or when it is
    not found: the notebooks then say how to get it)."""
    from . import __version__

    environ = os.environ if environ is None else environ
    platform = platform or detect_platform(environ)
    if platform == "local":
        print("local machine: nothing to set up (FER2013_DIR or data/fer2013 as usual)")
        return None
    print(f"{platform}: fer_utils {__version__} (student package) installed")
    if notebook and (n := otter_files(notebook, bundle, workdir)):
        print(f"grader.check: {n} public checks of {notebook} in {Path(workdir) / 'tests'}")
    given = environ.get("FER2013_DIR")
    if given and _has_fer_folders(Path(given)):
        print(f"FER-2013: {given} (FER2013_DIR already set)")
        return Path(given)
    found = None
    if platform == "kaggle":
        root = Path(kaggle_input)
        candidates = [p for pattern in ("*", "*/*", "*/*/*") for p in sorted(root.glob(pattern))]
        found = next((p for p in candidates if _has_fer_folders(p)), None)
        if found is None:
            print(f"FER-2013 not found under {root}: Add Input, search {KAGGLE_DATASET}, attach it and rerun")
            return None
        how = "attached dataset"
    else:
        try:
            import kagglehub

            download = Path(kagglehub.dataset_download(KAGGLE_DATASET))
        except Exception as err:  # noqa: BLE001 - no kagglehub, no network, no credentials: one line, no traceback
            print(f"FER-2013 not downloaded ({type(err).__name__}: {err}); upload it to /content/fer2013 and rerun")
            return None
        found = next((p for p in [download, *sorted(download.glob("*"))] if _has_fer_folders(p)), None)
        if found is None:
            print(f"{download} has no train/ and test/ folders: not the {KAGGLE_DATASET} layout")
            return None
        how = f"kagglehub.dataset_download({KAGGLE_DATASET!r})"
    environ["FER2013_DIR"] = str(found)
    print(f"FER-2013: {found} ({how}); FER2013_DIR set")
    return found


# --------------------------------------------------------------------------- private checks
def private_checks_path(
    given: str | os.PathLike | None = None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The private checks file: ``given``, else ``$FER_PRIVATE_CHECKS``, else ``private_checks.json`` at
    the repository root (git-ignored) if it exists."""
    environ = os.environ if environ is None else environ
    if given or environ.get(PRIVATE_CHECKS_ENV):
        return Path(given or environ[PRIVATE_CHECKS_ENV]).expanduser()
    default = config.PROJECT_ROOT / PRIVATE_CHECKS_DEFAULT
    return default if default.is_file() else None


def load_private_checks(path: str | os.PathLike, exercises: Iterable[str]) -> dict[str, list[str]]:
    """``{"nb01_ex1": ["assert ...", ...], ...}`` from a JSON file; every key must be a checked exercise."""
    path, known = Path(path), set(exercises)
    try:
        checks = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ClassroomError(f"{path}: not a readable JSON file of private checks ({err})") from None
    if not isinstance(checks, dict) or not all(
        isinstance(v, list) and all(isinstance(t, str) for t in v) for v in checks.values()
    ):
        raise ClassroomError(f'{path}: write {{"nb01_ex1": ["assert ...", ...]}}: exercise -> list of checks')
    unknown = sorted(set(checks) - known)
    if unknown:
        raise ClassroomError(f"{path}: {', '.join(unknown)} are not exercises with checks ({', '.join(sorted(known))})")
    return checks


def add_private_checks(nb, checks: Mapping[str, list[str]]) -> int:
    """Add ``checks`` as hidden tests to the questions of an otter-format master notebook; returns how many."""
    import nbformat

    cells, added, question = [], 0, None
    for cell in nb.cells:
        if cell.cell_type == "raw" and cell.source.startswith("# BEGIN QUESTION"):
            question = re.search(r"^name: (\S+)", cell.source, flags=re.M).group(1)
        elif cell.cell_type == "raw" and cell.source.strip() == "# END TESTS" and checks.get(question):
            cells += [nbformat.v4.new_code_cell("# HIDDEN\n" + test) for test in checks[question]]
            added += len(checks[question])
        cells.append(cell)
    nb.cells = cells
    return added
