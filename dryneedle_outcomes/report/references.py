"""The bibliography of a run's Methods text: one BibTeX entry per method it cites.

:data:`REFERENCES` holds every source the Methods text (:mod:`.methods`) can cite, by
citation key; a run writes only the entries its ``methods.md`` cites
(:func:`bibtex`), so the two files agree key for key. Bibliographic data (journal,
year, volume, issue, pages, DOI) were checked against the publishers' or PubMed's
records; a DOI is given only where one exists and was confirmed (ICH E9(R1), the FDA
guidance and Holm 1979 have none).

Examples
--------
>>> print(bibtex(["kenward_roger_1997"]).splitlines()[0])
@article{kenward_roger_1997,
>>> cited_keys("MMRM [@kenward_roger_1997; @mallinckrodt_2008], see [@rubin_1987].")
['kenward_roger_1997', 'mallinckrodt_2008', 'rubin_1987']
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: Every citable source: key -> (entry type, fields in order).
REFERENCES: dict[str, tuple[str, dict[str, str]]] = {
    "landorf_2010": ("article", {
        "author": "Landorf, Karl B. and Radford, Joel A. and Hudson, Sheree",
        "title": "Minimal Important Difference ({MID}) of two commonly used outcome "
                 "measures for foot problems",
        "journal": "Journal of Foot and Ankle Research", "year": "2010", "volume": "3",
        "pages": "7", "doi": "10.1186/1757-1146-3-7"}),
    "kenward_roger_1997": ("article", {
        "author": "Kenward, Michael G. and Roger, James H.",
        "title": "Small sample inference for fixed effects from restricted maximum "
                 "likelihood",
        "journal": "Biometrics", "year": "1997", "volume": "53", "number": "3",
        "pages": "983--997", "doi": "10.2307/2533558"}),
    "satterthwaite_1946": ("article", {
        "author": "Satterthwaite, Franklin E.",
        "title": "An approximate distribution of estimates of variance components",
        "journal": "Biometrics Bulletin", "year": "1946", "volume": "2", "number": "6",
        "pages": "110--114", "doi": "10.2307/3002019"}),
    "mallinckrodt_2008": ("article", {
        "author": "Mallinckrodt, Craig H. and Lane, Peter W. and Schnell, Dan and "
                  "Peng, Yahong and Mancuso, James P.",
        "title": "Recommendations for the primary analysis of continuous endpoints in "
                 "longitudinal clinical trials",
        "journal": "Drug Information Journal", "year": "2008", "volume": "42",
        "number": "4", "pages": "303--319", "doi": "10.1177/009286150804200402"}),
    "ich_e9_r1_2019": ("misc", {
        "author": "{International Council for Harmonisation of Technical Requirements "
                  "for Pharmaceuticals for Human Use}",
        "shortauthor": "ICH",
        "title": "{ICH} {E9(R1)}: Addendum on estimands and sensitivity analysis in "
                 "clinical trials to the guideline on statistical principles for "
                 "clinical trials",
        "howpublished": "Step 4 version, 20 November 2019", "year": "2019"}),
    "carpenter_2013": ("article", {
        "author": "Carpenter, James R. and Roger, James H. and Kenward, Michael G.",
        "title": "Analysis of longitudinal trials with protocol deviation: a framework "
                 "for relevant, accessible assumptions, and inference via multiple "
                 "imputation",
        "journal": "Journal of Biopharmaceutical Statistics", "year": "2013",
        "volume": "23", "number": "6", "pages": "1352--1371",
        "doi": "10.1080/10543406.2013.834911"}),
    "wolbers_2022": ("article", {
        "author": "Wolbers, Marcel and Noci, Alessandro and Delmar, Paul and "
                  "Gower-Page, Craig and Yiu, Sean and Bartlett, Jonathan W.",
        "title": "Standard and reference-based conditional mean imputation",
        "journal": "Pharmaceutical Statistics", "year": "2022", "volume": "21",
        "number": "6", "pages": "1246--1257", "doi": "10.1002/pst.2234"}),
    "cro_2020": ("article", {
        "author": "Cro, Suzie and Morris, Tim P. and Kenward, Michael G. and "
                  "Carpenter, James R.",
        "title": "Sensitivity analysis for clinical trials with missing continuous "
                 "outcome data using controlled multiple imputation: a practical guide",
        "journal": "Statistics in Medicine", "year": "2020", "volume": "39",
        "number": "21", "pages": "2815--2842", "doi": "10.1002/sim.8569"}),
    "rubin_1987": ("book", {
        "author": "Rubin, Donald B.",
        "title": "Multiple Imputation for Nonresponse in Surveys",
        "publisher": "Wiley", "address": "New York", "year": "1987",
        "doi": "10.1002/9780470316696"}),
    "turnbull_1976": ("article", {
        "author": "Turnbull, Bruce W.",
        "title": "The empirical distribution function with arbitrarily grouped, "
                 "censored and truncated data",
        "journal": "Journal of the Royal Statistical Society: Series B (Methodological)",
        "year": "1976", "volume": "38", "number": "3", "pages": "290--295",
        "doi": "10.1111/j.2517-6161.1976.tb01597.x"}),
    "fay_shaw_2010": ("article", {
        "author": "Fay, Michael P. and Shaw, Pamela A.",
        "title": "Exact and asymptotic weighted logrank tests for interval censored "
                 "data: the {interval} {R} package",
        "journal": "Journal of Statistical Software", "year": "2010", "volume": "36",
        "number": "2", "pages": "1--34", "doi": "10.18637/jss.v036.i02"}),
    "finkelstein_1986": ("article", {
        "author": "Finkelstein, Dianne M.",
        "title": "A proportional hazards model for interval-censored failure time data",
        "journal": "Biometrics", "year": "1986", "volume": "42", "number": "4",
        "pages": "845--854", "doi": "10.2307/2530698"}),
    "anderson_bergman_2017": ("article", {
        "author": "Anderson-Bergman, Clifford",
        "title": "{icenReg}: regression models for interval censored data in {R}",
        "journal": "Journal of Statistical Software", "year": "2017", "volume": "81",
        "number": "12", "pages": "1--23", "doi": "10.18637/jss.v081.i12"}),
    "efron_1977": ("article", {
        "author": "Efron, Bradley",
        "title": "The efficiency of {Cox}'s likelihood function for censored data",
        "journal": "Journal of the American Statistical Association", "year": "1977",
        "volume": "72", "number": "359", "pages": "557--565",
        "doi": "10.1080/01621459.1977.10480613"}),
    "schoenfeld_1982": ("article", {
        "author": "Schoenfeld, David",
        "title": "Partial residuals for the proportional hazards regression model",
        "journal": "Biometrika", "year": "1982", "volume": "69", "number": "1",
        "pages": "239--241", "doi": "10.1093/biomet/69.1.239"}),
    "grambsch_therneau_1994": ("article", {
        "author": "Grambsch, Patricia M. and Therneau, Terry M.",
        "title": "Proportional hazards tests and diagnostics based on weighted residuals",
        "journal": "Biometrika", "year": "1994", "volume": "81", "number": "3",
        "pages": "515--526", "doi": "10.1093/biomet/81.3.515"}),
    "royston_parmar_2013": ("article", {
        "author": "Royston, Patrick and Parmar, Mahesh K. B.",
        "title": "Restricted mean survival time: an alternative to the hazard ratio for "
                 "the design and analysis of randomized trials with a time-to-event "
                 "outcome",
        "journal": "BMC Medical Research Methodology", "year": "2013", "volume": "13",
        "pages": "152", "doi": "10.1186/1471-2288-13-152"}),
    "clopper_pearson_1934": ("article", {
        "author": "Clopper, C. J. and Pearson, Egon S.",
        "title": "The use of confidence or fiducial limits illustrated in the case of "
                 "the binomial",
        "journal": "Biometrika", "year": "1934", "volume": "26", "number": "4",
        "pages": "404--413", "doi": "10.1093/biomet/26.4.404"}),
    "garwood_1936": ("article", {
        "author": "Garwood, F.",
        "title": "Fiducial limits for the {Poisson} distribution",
        "journal": "Biometrika", "year": "1936", "volume": "28", "number": "3/4",
        "pages": "437--442", "doi": "10.1093/biomet/28.3-4.437"}),
    "wilson_1927": ("article", {
        "author": "Wilson, Edwin B.",
        "title": "Probable inference, the law of succession, and statistical inference",
        "journal": "Journal of the American Statistical Association", "year": "1927",
        "volume": "22", "number": "158", "pages": "209--212",
        "doi": "10.1080/01621459.1927.10502953"}),
    "newcombe_1998": ("article", {
        "author": "Newcombe, Robert G.",
        "title": "Interval estimation for the difference between independent "
                 "proportions: comparison of eleven methods",
        "journal": "Statistics in Medicine", "year": "1998", "volume": "17",
        "number": "8", "pages": "873--890"}),
    "altman_1998": ("article", {
        "author": "Altman, Douglas G.",
        "title": "Confidence intervals for the number needed to treat",
        "journal": "BMJ", "year": "1998", "volume": "317", "number": "7168",
        "pages": "1309--1312", "doi": "10.1136/bmj.317.7168.1309"}),
    "ge_2011": ("article", {
        "author": "Ge, Miaomiao and Durham, L. Kathryn and Meyer, R. Daniel and "
                  "Xie, Wangang and Thomas, Neal",
        "title": "Covariate-adjusted difference in proportions from clinical trials "
                 "using logistic regression and weighted risk differences",
        "journal": "Drug Information Journal", "year": "2011", "volume": "45",
        "number": "4", "pages": "481--493", "doi": "10.1177/009286151104500409"}),
    "fda_covariates_2023": ("misc", {
        "author": "{U.S. Food and Drug Administration}", "shortauthor": "FDA",
        "title": "Adjusting for Covariates in Randomized Clinical Trials for Drugs and "
                 "Biological Products: Guidance for Industry",
        "howpublished": "Final guidance, May 2023", "year": "2023"}),
    "junqueira_2023": ("article", {
        "author": "Junqueira, Daniela R. and Zorzela, Liliane and Golder, Susan and "
                  "Loke, Yoon and Gagnier, Joel J. and Julious, Steven A. and Li, Tianjing "
                  "and Mayo-Wilson, Evan and Pham, Ba and Phillips, Rachel and "
                  "Santaguida, Pasqualina and Scherer, Roberta W. and G{\\o}tzsche, "
                  "Peter C. and Moher, David and Ioannidis, John P. A. and Vohra, Sunita",
        "title": "{CONSORT} {Harms} 2022 statement, explanation, and elaboration: "
                 "updated guideline for the reporting of harms in randomised trials",
        "journal": "BMJ", "year": "2023", "volume": "381", "pages": "e073725",
        "doi": "10.1136/bmj-2022-073725"}),
    "hopewell_2025": ("article", {
        "author": "Hopewell, Sally and Chan, An-Wen and Collins, Gary S. and "
                  "Hr{\\'o}bjartsson, Asbj{\\o}rn and Moher, David and Schulz, Kenneth F. "
                  "and others",
        "title": "{CONSORT} 2025 statement: updated guideline for reporting randomised "
                 "trials",
        "journal": "BMJ", "year": "2025", "volume": "389", "pages": "e081123",
        "doi": "10.1136/bmj-2024-081123"}),
    "macpherson_2010": ("article", {
        "author": "MacPherson, Hugh and Altman, Douglas G. and Hammerschlag, Richard and "
                  "Li, Youping and Wu, Taixiang and White, Adrian and Moher, David",
        "title": "Revised {STandards} for {Reporting} {Interventions} in {Clinical} "
                 "{Trials} of {Acupuncture} ({STRICTA}): extending the {CONSORT} "
                 "statement",
        "journal": "PLoS Medicine", "year": "2010", "volume": "7", "number": "6",
        "pages": "e1000261", "doi": "10.1371/journal.pmed.1000261"}),
    "cotchett_2014": ("article", {
        "author": "Cotchett, Matthew P. and Munteanu, Shannon E. and Landorf, Karl B.",
        "title": "Effectiveness of trigger point dry needling for plantar heel pain: a "
                 "randomized controlled trial",
        "journal": "Physical Therapy", "year": "2014", "volume": "94", "number": "8",
        "pages": "1083--1094", "doi": "10.2522/ptj.20130255"}),
    "hochberg_1988": ("article", {
        "author": "Hochberg, Yosef",
        "title": "A sharper {Bonferroni} procedure for multiple tests of significance",
        "journal": "Biometrika", "year": "1988", "volume": "75", "number": "4",
        "pages": "800--802", "doi": "10.1093/biomet/75.4.800"}),
    "holm_1979": ("article", {
        "author": "Holm, Sture",
        "title": "A simple sequentially rejective multiple test procedure",
        "journal": "Scandinavian Journal of Statistics", "year": "1979", "volume": "6",
        "number": "2", "pages": "65--70"}),
    "liang_zeger_1986": ("article", {
        "author": "Liang, Kung-Yee and Zeger, Scott L.",
        "title": "Longitudinal data analysis using generalized linear models",
        "journal": "Biometrika", "year": "1986", "volume": "73", "number": "1",
        "pages": "13--22", "doi": "10.1093/biomet/73.1.13"}),
    "bang_2004": ("article", {
        "author": "Bang, Heejung and Ni, Liyun and Davis, Clarence E.",
        "title": "Assessment of blinding in clinical trials",
        "journal": "Controlled Clinical Trials", "year": "2004", "volume": "25",
        "number": "2", "pages": "143--156", "doi": "10.1016/j.cct.2003.10.016"}),
}

_CITE = re.compile(r"@([A-Za-z][\w-]*)")
_GROUP = re.compile(r"\[(@[^\]]+)\]")


def cited_keys(text: str) -> list[str]:
    """The citation keys of Pandoc citations (``[@key]``, ``[@a; @b]``) in ``text``, in
    order of first use."""
    keys = [k for group in _GROUP.findall(text) for k in _CITE.findall(group)]
    return list(dict.fromkeys(keys))


def entry(key: str) -> str:
    """One BibTeX entry.

    Raises
    ------
    KeyError
        When ``key`` is not in :data:`REFERENCES` (a Methods sentence citing a source
        the bibliography lacks is a bug, never written silently).
    """
    kind, fields = REFERENCES[key]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items())
    return f"@{kind}{{{key},\n{body}\n}}"


def bibtex(keys: Iterable[str]) -> str:
    """The BibTeX entries of ``keys``, in the order given, one blank line apart."""
    return "\n\n".join(entry(k) for k in dict.fromkeys(keys)) + "\n"
