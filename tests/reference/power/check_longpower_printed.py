"""Check ``longpower_printed.csv`` against the text of longpower's pkgdown pages.

Each row names a page and a line; the value must appear on that line as printed (tags
stripped). The pages are https://mcdonohue.github.io/longpower/reference/power.mmrm.html
and .../power.mmrm.ar1.html, i.e. the gh-pages branch of github.com/mcdonohue/longpower
at commit 2187836 (longpower 1.0.27, pkgdown 2.1.0); a later rebuild may move lines.

Usage: ``python check_longpower_printed.py DIR`` with DIR holding the two html files
(e.g. ``git show 2187836:reference/power.mmrm.html > DIR/power.mmrm.html``).
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

CSV = Path(__file__).with_name("longpower_printed.csv")


def mismatches(page_dir: Path) -> list[dict[str, str]]:
    """Rows whose value is not on the page line they cite."""
    pages = {}
    for name in ("power.mmrm", "power.mmrm.ar1"):
        text = (page_dir / f"{name}.html").read_text(encoding="utf-8")
        pages[name] = [re.sub(r"<[^>]*>", "", line) for line in text.split("\n")]
    bad = []
    with CSV.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            page = "power.mmrm.ar1" if "power.mmrm.ar1.html" in row["source"] else "power.mmrm"
            line = int(row["source"].rsplit(" ", 1)[1])
            pattern = r"(?<![0-9.])" + re.escape(row["value"]) + r"(?![0-9])"
            if not re.search(pattern, pages[page][line - 1]):
                bad.append(row)
    return bad


if __name__ == "__main__":
    found = mismatches(Path(sys.argv[1]))
    for row in found:
        print("not on its line:", row)
    print(f"{len(found)} mismatches")
    sys.exit(1 if found else 0)
