"""Measure a copy of FER-2013 and compare it with the published fingerprint.

    python scripts/check_fer2013.py                    # $FER2013_DIR, else data/fer2013/
    python scripts/check_fer2013.py /path/to/fer2013

Prints the statistics beside FER-2013's (``fer_utils.integrity``), the per-image spread the
tolerances are built on, and the verdict. Exit status 1 when the copy looks processed.
"""

from __future__ import annotations

import sys

from fer_utils.data import load_fer2013
from fer_utils.integrity import per_image_spread


def main() -> int:
    data = load_fer2013(sys.argv[1] if len(sys.argv) > 1 else None)
    print(data.integrity.table().to_string(index=False))
    print("per-image spread (train):", per_image_spread(data.x_train))
    if data.integrity.processed:
        print("PROCESSED: " + "; ".join(data.integrity.problems))
        return 1
    print("genuine: no statistic is off")
    return 0


if __name__ == "__main__":
    sys.exit(main())
