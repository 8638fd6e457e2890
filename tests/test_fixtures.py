"""The test suite's own plumbing: a slow session build runs once per test run."""

from __future__ import annotations

from conftest import build_once


def test_a_slow_build_runs_once_and_is_reused(tmp_path_factory):
    calls = []

    def build(out):
        calls.append(out)
        (out / "built.txt").write_text("once")

    first = build_once(tmp_path_factory, "probe", build)
    again = build_once(tmp_path_factory, "probe", build)  # as when xdist sets the session fixture up again
    assert first == again and len(calls) == 1 and (again / "built.txt").read_text() == "once"
