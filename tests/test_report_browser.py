"""The instructor report, opened in a real headless Chromium: it renders, every image loads,
no two blocks overlap, nothing is wider than the window and no raw markdown shows.

Needs Playwright (requirements.txt) and a Chromium from the system's package manager
(Debian/Ubuntu: ``apt-get install chromium-headless-shell``); Playwright's own browser download
is not used. Skipped with that reason when no Chromium is found, except in CI, where it fails.
"""

from __future__ import annotations

import json

import pytest
from test_report import _course_outputs


@pytest.fixture(scope="module")
def page(chromium):
    pg = chromium.new_page(viewport={"width": 1000, "height": 800})
    yield pg
    pg.close()


# for each container, its visible children's boxes in document order: neighbours that overlap are a
# layout bug (e.g. a caption drawn over a figure, a table over an image)
LAYOUT_JS = """() => {
  const groups = [...document.querySelectorAll('body, figure, details, table')].map(parent =>
    [...parent.children].filter(e => e.getClientRects().length > 0).map(e => {
      const r = e.getBoundingClientRect();
      return {tag: e.tagName, top: r.top + scrollY, bottom: r.bottom + scrollY, height: r.height};
    }));
  const images = [...document.images].map(i => ({alt: i.alt, ok: i.complete && i.naturalWidth > 0}));
  return {groups, images, scrollWidth: document.documentElement.scrollWidth, width: innerWidth,
          text: document.body.innerText};
}"""


def test_report_renders_in_chromium(page, tmp_path):
    out = _course_outputs(tmp_path / "outputs")
    (out / "runs").mkdir()
    (out / "runs" / "01_data.json").write_text(
        json.dumps({"notebook": "01_data.ipynb", "profile": "smoke", "wall_seconds": 12.0, "data": None})
    )
    from fer_utils import report

    path, missing = report.build_report(out)
    assert missing == []
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    got = page.evaluate(LAYOUT_JS)

    assert got["images"] and all(i["ok"] for i in got["images"]), [i["alt"] for i in got["images"] if not i["ok"]]
    assert got["scrollWidth"] <= got["width"], "something is wider than the window"
    assert sum(len(g) for g in got["groups"]) > 50
    for group in got["groups"]:
        boxes = [b for b in group if b["height"] > 0]
        for a, b in zip(boxes, boxes[1:]):
            assert b["top"] >= a["bottom"] - 1, f"{a['tag']} and {b['tag']} overlap"
    text = got["text"]
    assert "**" not in text and "`" not in text, "raw markdown on the page"
    assert "Course run" in text and "01_data.ipynb" in text and "0.2 min" in text
    # the model summary is folded away until asked for
    assert page.locator("details pre").is_hidden()
