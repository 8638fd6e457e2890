"""The Makefile: `make help` names every target."""

from __future__ import annotations

import re

from fer_utils import config

MAKEFILE = (config.PROJECT_ROOT / "Makefile").read_text()


def test_help_lists_every_target():
    targets = set(re.findall(r"^([a-z][\w-]*):(?!=)", MAKEFILE, flags=re.M))
    helped = set(re.findall(r'^\t@echo "make ([\w-]+)', MAKEFILE, flags=re.M))
    assert {"help", "test", "clean"} <= targets
    assert targets - helped == set(), "add these targets to `make help`"
    assert helped - targets == set(), "`make help` names targets that do not exist"
