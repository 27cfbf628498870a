"""Write ``sas_fev_predict.csv`` from SAS output in openpharma/mmrm's design/predict_interval.

    python tests/reference/mmrm_predict_sas/extract.py /path/to/openpharma+mmrm/repo FEV_DATA

Reads each ``design/predict_interval/<type>_<ddfm>.csv`` at commit ``COMMIT`` of a clone of
https://github.com/openpharma/mmrm (bare or not) with ``git show``, checks that its FEV1
column is ``fev_data``'s (the rows are fev_data's rows, in order), and keeps, in long
format: for every row with a missing FEV1 the conditional prediction ``P`` and its
``PSD`` (SAS ``OUTP=``: ``Pred``, ``StdErrPred``), and for the first row of each arm the
marginal prediction ``PM`` and ``PMSD`` (``OUTPM=``; the model ``FEV1 = ARMCD`` has one
marginal mean per arm). Nothing is computed: every value is SAS's, written with 15
significant digits as the file holds it.

Left out: ``un_kenwardroger_linear.csv`` (identical, value for value, to
``un_satterthwaite.csv``: ``ddfm=kenwardroger_linear`` is not SAS syntax, so that run can
only have re-read the previous run's data sets) and the spatial exponential files
(``sp(exp)(VISITN VISITN2)_*``; no spatial structure in the engine yet). The ``PSD`` of
missing rows under ``ddfm=kenwardroger`` are left out too: SAS adds a term for the
estimated covariance parameters there that the package does not compute (see the README).
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import numpy as np

COMMIT = "ec290b2695b25057b31bc98e27c39d3f498cd0d6"
FILES = [("UN", "satterthwaite", "un_satterthwaite.csv"),
         ("CS", "satterthwaite", "cs_satterthwaite.csv"),
         ("CS", "kenwardroger", "cs_kenwardroger.csv"),
         ("AR(1)", "satterthwaite", "ar(1)_satterthwaite.csv"),
         ("AR(1)", "kenwardroger", "ar(1)_kenwardroger.csv"),
         ("TOEP", "satterthwaite", "toep_satterthwaite.csv"),
         ("TOEP", "kenwardroger", "toep_kenwardroger.csv")]


def main(repo: str, fev_data: str) -> None:
    with open(fev_data, newline="") as f:
        fev = list(csv.DictReader(f))
    fev1 = np.array([float(r["FEV1"]) if r["FEV1"] != "NA" else np.nan for r in fev])
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["source", "structure", "ddfm", "row", "usubjid", "avisit", "armcd",
                  "quantity", "value"])
    for structure, ddfm, name in FILES:
        path = f"design/predict_interval/{name}"
        text = subprocess.run(["git", "-C", repo, "show", f"{COMMIT}:{path}"],
                              capture_output=True, text=True, check=True).stdout
        rows = list(csv.DictReader(io.StringIO(text)))
        sas = np.array([float(r["FEV1"]) if r["FEV1"] != "NA" else np.nan for r in rows])
        if not np.array_equal(np.isnan(sas), np.isnan(fev1)) or \
                not np.allclose(sas[~np.isnan(sas)], fev1[~np.isnan(fev1)], rtol=0, atol=1e-12):
            raise SystemExit(f"{path}: its FEV1 column is not fev_data's")
        source = f"openpharma/mmrm@{COMMIT}:{path}"
        seen_arm = set()
        for i, (r, f) in enumerate(zip(rows, fev), start=1):
            keys = [source, structure, ddfm, i, f["USUBJID"], f["AVISIT"], f["ARMCD"]]
            if f["ARMCD"] not in seen_arm:
                seen_arm.add(f["ARMCD"])
                out.writerow(keys + ["PM", r["PM"]])
                out.writerow(keys + ["PMSD", r["PMSD"]])
            if r["FEV1"] == "NA":
                out.writerow(keys + ["P", r["P"]])
                if ddfm == "satterthwaite":
                    out.writerow(keys + ["PSD", r["PSD"]])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
