"""Copy the SAS PROC MIXED numbers of openpharma/mmrm's design/ folder into sas_values.csv.

Run once by hand (not by the tests) with a clone of openpharma/mmrm at the commit below:
``python extract_sas_values.py /path/to/mmrm.git``. It reads the files with ``git show``, copies the
printed numbers as text (nothing is computed) and writes ``sas_values.csv`` next to it.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from pathlib import Path

COMMIT = "ec290b2695b25057b31bc98e27c39d3f498cd0d6"
STRUCTURES = {"us": "UN", "cs": "CS", "csh": "CSH", "ar1": "AR(1)", "arh1": "ARH(1)",
              "toep": "TOEP", "toeph": "TOEPH", "adh": "ANTE(1)"}
NUM = r"(-?\d+(?:\.\d+)?(?:E[-+]?\d+)?)"


def show(repo: str, path: str) -> str:
    return subprocess.run(["git", "-C", repo, "show", f"{COMMIT}:{path}"], check=True,
                          capture_output=True, text=True).stdout


def digits(text: str, full: bool) -> int:
    return 15 if full else len(text.lstrip("-").replace(".", "").lstrip("0"))


def rows_empirical(repo: str):
    for short, sas in STRUCTURES.items():
        base = f"design/Robust/empirical_{short}"
        src = f"openpharma/mmrm@{COMMIT}:{base}"
        lst = show(repo, base + ".txt")

        def row(quantity, term, value, full=False, suffix=".txt", src=src, sas=sas):
            return {"source": src + suffix, "structure": sas, "model": "M_ARM_EMPIRICAL",
                    "quantity": quantity, "term": term, "value": value,
                    "digits_printed": digits(value, full)}

        it = re.findall(r"^\s+\d+\s+\d+\s+" + NUM + r"(?:\s+" + NUM + r")?\s*$",
                        lst.split("Iteration History")[1].split("Convergence")[0], re.M)
        yield row("m2loglik_iter", "", it[-1][0])
        sol = lst.split("Solution for Fixed Effects")[1].split("Empirical Covariance")[0]
        for term, pat in (("Intercept", r"Intercept\s+"), ("ARMCD TRT", r"ARMCD\s+TRT\s+")):
            m = re.search(pat + NUM + r"\s+" + NUM + r"\s+" + NUM + r"\s+" + NUM, sol)
            for q, val in zip(("estimate", "se", "df", "t"), m.groups()):
                yield row(q, term, val)
        t3 = lst.split("Type 3 Tests of Fixed Effects")[1].split("Least Squares")[0]
        m = re.search(r"ARMCD\s+" + NUM + r"\s+" + NUM + r"\s+" + NUM + r"\s+" + NUM, t3)
        for q, val in zip(("type3_numdf", "type3_dendf", "type3_chisq", "type3_F"), m.groups()):
            yield row(q, "ARMCD", val)
        lsm = lst.split("Least Squares Means")[1].split("Differences")[0]
        for arm in ("TRT", "PBO"):
            m = re.search(r"ARMCD\s+" + arm + r"\s+" + NUM + r"\s+" + NUM + r"\s+" + NUM, lsm)
            for q, val in zip(("lsmean_estimate", "lsmean_se", "lsmean_df"), m.groups()):
                yield row(q, f"ARMCD {arm}", val)
        covb = list(csv.DictReader(io.StringIO(show(repo, base + "_covb.csv"))))
        for r in covb[:2]:
            term = "Intercept" if r["Effect"] == "Intercept" else f"ARMCD {r['ARMCD']}"
            for j, other in ((1, "Intercept"), (2, "ARMCD TRT")):
                yield row("covb", f"{term} x {other}", r[f"Col{j}"], True, "_covb.csv")
        diff = next(csv.DictReader(io.StringIO(show(repo, base + "_lsmean.csv"))))
        for q, col in (("lsmean_diff_estimate", "Estimate"), ("lsmean_diff_se", "StdErr"),
                       ("lsmean_diff_df", "DF"), ("lsmean_diff_t", "tValue")):
            yield row(q, "ARMCD TRT - PBO", diff[col], True, "_lsmean.csv")


def rows_anova(repo: str):
    for name, model in (("test3_1", "M_ANOVA_1"), ("test3_2", "M_ANOVA_2")):
        path = f"design/anova/{name}.csv"
        for r in csv.DictReader(io.StringIO(show(repo, path))):
            for q, col in (("type3_numdf", "NumDF"), ("type3_dendf", "DenDF"),
                           ("type3_F", "FValue")):
                yield {"source": f"openpharma/mmrm@{COMMIT}:{path}", "structure": "AR(1)",
                       "model": model, "quantity": q, "term": r["Effect"],
                       "value": r[col], "digits_printed": 15}


def main(repo: str) -> None:
    out = Path(__file__).with_name("sas_values.csv")
    fields = ["source", "structure", "model", "quantity", "term", "value", "digits_printed"]
    with out.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        for r in [*rows_empirical(repo), *rows_anova(repo)]:
            w.writerow(r)


if __name__ == "__main__":
    main(sys.argv[1])
