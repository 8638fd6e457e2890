"""Shared fixtures. Real-data tests need FER2013_DIR; they skip without it, except in CI; so do the browser
tests without a Chromium."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from fer_utils.config import CLASS_NAMES  # noqa: E402


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real FER-2013 folder; skip (locally) or fail (CI) when it is absent."""
    value = os.environ.get("FER2013_DIR")
    path = Path(value) if value else None
    if path is None or not (path / "train").is_dir():
        if os.environ.get("CI"):
            pytest.fail("CI must test on the real data: set FER2013_DIR to ../shared/fer2013.")
        pytest.skip("FER-2013 not available: set FER2013_DIR to run the real-data tests.")
    return path


@pytest.fixture(scope="session")
def real_data(real_data_dir):
    from fer_utils.data import load_fer2013

    return load_fer2013(real_data_dir, verbose=False)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``--dist loadgroup``, as in ``make test-unit``) the real-data tests share one
    worker, so FER-2013 is decoded (or read from ``data/cache``) once, not once per worker. Tests marked
    ``slow_first`` are collected first: a worker starts them at once, so the longest one does not begin
    late and end the run last. (The assignments that ``dist`` fixtures build are shared by every worker
    through ``build_once``.)"""
    for item in items:
        if "real_data_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("fer2013"))
    items.sort(key=lambda item: item.get_closest_marker("slow_first") is None)  # stable: the rest keep their order


def build_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]) -> Path:
    """``build(folder)`` once per test run, for a session fixture whose build is slow (``otter assign``).

    pytest-xdist may set a session fixture up more than once in a run (a worker tears its fixtures down
    when its queue runs empty, and a group can reach two workers); the first caller builds under a file
    lock in the run's shared temporary folder, later callers reuse the finished folder."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # shared by the run's workers
    out, done = root / name, root / f"{name}.done"
    with open(root / f"{name}.lock", "w") as lock:
        try:
            import fcntl  # POSIX; on Windows each worker builds its own copy

            fcntl.flock(lock, fcntl.LOCK_EX)
        except ImportError:
            out = base / name
            done = base / f"{name}.done"
        if not done.exists():
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            build(out)
            done.touch()
    return out


def write_face(path: Path, value: int = 128, mode: str = "L", size: int = 48) -> Path:
    """Write a small test image of the given mode and size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(value)
    arr = rng.integers(0, 256, (size, size), dtype=np.uint8)
    img = Image.fromarray(arr)
    if mode != "L":
        img = img.convert(mode)
    img.save(path)
    return path


@pytest.fixture()
def tiny_dataset(tmp_path) -> Path:
    """A valid Kaggle-layout dataset: 3 train and 2 test faces per class."""
    root = tmp_path / "fer"
    for c, name in enumerate(CLASS_NAMES):
        for i in range(3):
            write_face(root / "train" / name / f"Training_{c}{i}.jpg", value=c * 10 + i)
        write_face(root / "test" / name / f"PublicTest_{c}.jpg", value=100 + c)
        write_face(root / "test" / name / f"PrivateTest_{c}.jpg", value=200 + c)
    return root


#: Chromium from the system's package manager; Playwright's own browser download is not used.
BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome")


@pytest.fixture(scope="module")
def chromium():
    """A headless Chromium (Playwright) for the browser tests; skip (locally) or fail (CI) without one."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements.txt)")
    found = next((path for path in map(shutil.which, BROWSERS) if path), None)
    if found is None:
        reason = "no Chromium found (apt-get install chromium-headless-shell) for the browser tests"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=found, args=["--no-sandbox"])
        yield browser
        browser.close()
