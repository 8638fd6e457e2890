"""The time-to-threshold arithmetic of scripts/benchmark_training.py (no training)."""

import importlib.util

import pytest

from fer_utils import config


def _script():
    path = config.PROJECT_ROOT / "scripts" / "benchmark_training.py"
    spec = importlib.util.spec_from_file_location("benchmark_training", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_minutes_to_reach_is_the_first_epoch_at_or_above_the_target():
    bench = _script()
    curve = [(1.0, 0.40), (2.0, 0.55), (3.0, 0.52), (4.0, 0.60)]
    assert bench.minutes_to_reach(curve, 0.55) == 2.0  # equal counts as reached
    assert bench.minutes_to_reach(curve, 0.56) == 4.0  # a later dip does not matter
    assert bench.minutes_to_reach(curve, 0.61) is None
    assert bench.minutes_to_reach([], 0.1) is None


def test_time_to_baseline_best_uses_the_baselines_peak_as_target():
    bench = _script()
    baseline = [(1.0, 0.50), (2.0, 0.58), (3.0, 0.57), (4.0, 0.56)]
    course = [(1.5, 0.45), (3.0, 0.59), (4.5, 0.62)]
    result = bench.time_to_baseline_best(baseline, course)
    assert result["target"] == 0.58
    assert result["baseline_minutes"] == 2.0  # its best epoch, not the end of the run
    assert result["course_minutes"] == 3.0
    assert result["course_sooner_by"] == pytest.approx(2.0 / 3.0)

    never = bench.time_to_baseline_best(baseline, [(5.0, 0.50), (10.0, 0.57)])
    assert never["course_minutes"] is None and never["course_sooner_by"] is None
