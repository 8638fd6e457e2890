"""Sphinx configuration of the course website (`make book`): README.md is the landing page, then
the six notebooks (rendered from their committed outputs, never executed) and the docs pages.

The sources stay where they are (the repository root is Sphinx's source folder, this file only
configures it), so links between them work on GitHub and on the site alike.
"""

from __future__ import annotations

import shutil
from pathlib import Path

project = "Face Emotion Recognition course"
root_doc = "README"

extensions = ["myst_nb", "sphinx.ext.githubpages"]  # githubpages writes .nojekyll
include_patterns = ["README.md", "ARCHITECTURE.md", "docs/*.md", "notebooks/*.ipynb"]
exclude_patterns = ["_build", "outputs", "data", "dist", "student", "submissions", ".*"]

nb_execution_mode = "off"  # the notebooks show the outputs of their committed run
myst_heading_anchors = 6  # GitHub's heading slugs, so links like docs/model.md#model-card resolve
myst_enable_extensions = ["colon_fence"]
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]  # warnings that break no link

html_theme = "furo"  # ships its CSS, JS and fonts: the build downloads nothing
html_title = "Face Emotion Recognition course"
html_copy_source = False
html_show_sourcelink = False
html_use_index = False  # no index entries: genindex.html would be empty

# the site's table of contents, added to README.md at build time (GitHub shows README.md as it is)
ROOT = Path(__file__).parents[1]
NOTEBOOKS = sorted(f"notebooks/{p.stem}" for p in (ROOT / "notebooks").glob("*.ipynb"))
ORDER = ["data", "teaching", "model", "benchmarks", "cli", "open-problems"]  # as README.md lists them
STEMS = sorted(p.stem for p in (ROOT / "docs").glob("*.md"))
DOCS = [f"docs/{s}" for s in sorted(STEMS, key=lambda s: ORDER.index(s) if s in ORDER else len(ORDER))]
TOC = "\n\n".join(
    f"```{{toctree}}\n:hidden:\n:caption: {caption}\n\n" + "\n".join(pages) + "\n```"
    for caption, pages in [
        ("Notebooks", NOTEBOOKS),
        ("Documentation", [*DOCS, "ARCHITECTURE"]),
    ]
)


def _add_toc(app, docname: str, source: list[str]) -> None:
    if docname == root_doc:
        source[0] += "\n\n" + TOC + "\n"


def _write_index(app, exception: Exception | None) -> None:
    """GitHub Pages opens index.html: the landing page, README.html, under that name too."""
    if exception is None and app.builder.format == "html":
        shutil.copyfile(Path(app.outdir) / "README.html", Path(app.outdir) / "index.html")


def setup(app) -> None:
    app.connect("source-read", _add_toc)
    app.connect("build-finished", _write_index)
