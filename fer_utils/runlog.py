"""Run records: every notebook run leaves a small JSON file that says how it ran.

``course.notebook_setup`` calls :func:`start`, which writes ``<FER_OUTPUT_DIR>/runs/<notebook>.json``
with the profile, hardware, versions, the notebook's code hash and an optional student id
(``FER_STUDENT_ID``). ``data.load_fer2013`` adds the data source and its integrity check with
:func:`note`. In IPython (JupyterLab, VS Code, ``make course``) the record is rewritten after
every cell, so its wall time and cell count follow the run, whichever way it was started.

An instructor reads these files to see that a submission ran on FER-2013, in a real profile.
This module only imports ``config``, so any module may use it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from . import config

_record: dict | None = None
_path: Path | None = None
_t0: float = 0.0


def notebook_path() -> Path | None:
    """The notebook this kernel runs, when the front end says so: Jupyter Server sets
    ``JPY_SESSION_NAME`` (``make course`` sets it too), VS Code sets ``__vsc_ipynb_file__``."""
    name = os.environ.get("JPY_SESSION_NAME")
    if not name:
        try:
            from IPython import get_ipython

            name = (get_ipython().user_ns or {}).get("__vsc_ipynb_file__")
        except Exception:  # not in IPython
            name = None
    return Path(name) if name and Path(name).suffix == ".ipynb" else None


def code_sha256(path: Path) -> str | None:
    """SHA-256 of a notebook's code cells (sources only, so re-running does not change it)."""
    try:
        cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return None
    code = "\n\f\n".join(
        "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        for c in cells
        if c.get("cell_type") == "code"
    )
    return hashlib.sha256(code.encode()).hexdigest()


def start(profile_name: str, hardware: str, versions: dict, folder: Path | None = None) -> Path:
    """Begin this kernel's run record and return its path (one file per notebook, replaced by each run)."""
    global _record, _path, _t0
    nb = notebook_path()
    _t0 = time.time()
    _record = {
        "notebook": nb.name if nb else None,
        "code_sha256": code_sha256(nb) if nb else None,
        "student_id": os.environ.get("FER_STUDENT_ID") or None,
        "profile": profile_name,
        "hardware": hardware,
        "versions": versions,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(_t0)),
        "wall_seconds": 0.0,
        "cells_run": 0,
        "cells_failed": 0,
        "data": None,
    }
    folder = Path(folder or config.OUTPUT_DIR / "runs")
    _path = folder / f"{nb.stem if nb else 'notebook'}.json"
    _write()
    _watch_cells()
    return _path


def note(key: str, value) -> None:
    """Add ``key: value`` to the current run record (ignored when no record was started)."""
    if _record is not None:
        _record[key] = value
        _write()


def current() -> dict | None:
    """A copy of the current run record, or None."""
    return None if _record is None else dict(_record)


def _write() -> None:
    if _record is None or _path is None:
        return
    _record["wall_seconds"] = round(time.time() - _t0, 1)
    try:
        _path.parent.mkdir(parents=True, exist_ok=True)
        tmp = _path.with_suffix(".tmp")
        tmp.write_text(json.dumps(_record, indent=1, default=str))
        os.replace(tmp, _path)
    except OSError:  # a read-only output folder must not break the lesson
        pass


def _after_cell(result) -> None:
    if _record is not None:
        _record["cells_run"] += 1
        _record["cells_failed"] += int(not result.success)
        _write()


def _watch_cells() -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is None:
        return
    try:
        ip.events.unregister("post_run_cell", _after_cell)
    except ValueError:
        pass
    ip.events.register("post_run_cell", _after_cell)
