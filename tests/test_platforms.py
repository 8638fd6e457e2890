"""Platform detection and the places FER-2013 is looked for on Kaggle and Colab, with faked environments
(the downloads themselves cannot be tested here: no internet)."""

from __future__ import annotations

from pathlib import Path

from fer_utils import data
from fer_utils.platforms import detect_platform, platform_fer2013_candidates


def test_detect_platform_from_environment_and_modules():
    assert detect_platform(environ={}, modules={}) == "local"
    assert detect_platform(environ={"KAGGLE_KERNEL_RUN_TYPE": "Interactive"}, modules={}) == "kaggle"
    assert detect_platform(environ={}, modules={"google.colab": object()}) == "colab"
    assert detect_platform(environ={"COLAB_RELEASE_TAG": "release-x"}, modules={}) == "colab"


def test_kaggle_looks_in_the_attached_dataset():
    places = platform_fer2013_candidates("kaggle", environ={})
    assert Path("/kaggle/input/fer2013") in places


def test_colab_looks_in_the_kagglehub_cache_newest_version_first(tmp_path):
    for v in ("1", "2"):
        (tmp_path / "datasets" / "msambare" / "fer2013" / "versions" / v).mkdir(parents=True)
    places = platform_fer2013_candidates("colab", environ={"KAGGLEHUB_CACHE": str(tmp_path)})
    assert places[0].name == "2" and places[1].name == "1" and places[-1] == Path("/content/fer2013")


def test_local_adds_nothing_and_the_loader_uses_the_platform_places(monkeypatch, tmp_path):
    assert platform_fer2013_candidates("local", environ={}) == []
    monkeypatch.delenv("FER2013_DIR", raising=False)
    fake = tmp_path / "kaggle_input"
    (fake / "train").mkdir(parents=True)
    (fake / "test").mkdir()
    monkeypatch.setattr(data, "platform_fer2013_candidates", lambda: [fake])
    assert fake in data.candidate_locations()
    monkeypatch.setattr(data.config, "DEFAULT_FER_DIR", tmp_path / "nothing")
    monkeypatch.setattr(data.config, "DATA_DIR", tmp_path / "nothing")
    assert data.find_dataset() == ("folders", fake)
