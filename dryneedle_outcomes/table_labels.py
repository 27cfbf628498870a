"""The presentation rules of tables: human headers, one CI column, arm labels.

The one rule set behind every human rendering of a
:class:`~dryneedle_outcomes.tables.TableResult` (notebook display, ``summary()``,
Markdown, LaTeX, ``report.html``); the DataFrames and the CSV/XLSX exports keep the
identifier column names (``estimate``, ``std_error``, ``ci_lower``, ``ci_upper``,
``p_value``). Rules, in order:

1. **Confidence intervals in one column.** Each pair ``<prefix>ci_lower`` /
   ``<prefix>ci_upper`` (``ci_*``, ``md_ci_*``, ``rate_ci_*``) becomes one column
   ``"-26.7 to -9.4"`` where the lower limit stood (likewise ``bound_lower`` /
   ``bound_upper``), headed ``"95% CI"`` with the level
   taken from ``conf_level`` (``"90% CI"`` for 0.9). The "to" style is the one the
   CONSORT 2025 explanation and most clinical journals print (a hyphen between two
   negative limits is ambiguous); negative numbers keep the ASCII hyphen-minus in
   every rendering (copy-paste into a spreadsheet reads them as numbers) and LaTeX
   sets them as a math minus.
2. **Headers** from :data:`HEADERS` (``std_error`` -> ``SE``, ``p_value`` -> ``p``,
   ``n_patients`` -> ``Patients`` ...); ``{level}`` is the CI level and ``{unit}`` the
   table's unit (``"Estimate (mm)"`` when ``unit="mm"``). Any other identifier is
   written as words: ``n_at_risk`` -> ``At risk`` (a leading ``n_`` names a count),
   ``lost_so_far`` -> ``Lost so far``. A table's ``labels`` mapping overrides any
   header (``labels={"estimate": "Hedges' g"}``).
3. **Arm labels** as the figures draw them (:func:`~dryneedle_outcomes.arms.arm_text`:
   ``dry_needling`` -> ``Dry needling``) in the ``arm`` and ``reference`` columns, in
   model terms (``arm[dry_needling]`` -> ``Dry needling``, ``visit[2]:arm[sham]`` ->
   ``Visit 2 × Sham``) and in headers that
   name an arm; with the table's ``arm_n`` the header says how many were allocated
   (``"Dry needling (n = 42)"``).
4. **Identifier values** of the label columns of :data:`VALUE_COLUMNS` (``measure``,
   ``method``, ``term``, ``group`` ...) as words (``risk_difference`` -> ``Risk
   difference``; :data:`VALUE_LABELS` for the few that are not plain words, such as
   ``mmrm`` -> ``MMRM``); free text is kept as written.

Headers of the form ``"<group>: <column>"`` shared by adjacent columns (the harms
table's ``"dry_needling: participants, n (%)"``) are spanners: HTML and LaTeX print the
group once above its columns (:func:`spanners`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .arms import arm_text

#: Headers of identifier columns; ``{level}`` is the CI level ("95%"), ``{unit}`` the
#: table's unit in parentheses (" (mm)", or nothing). Merged intervals are keyed
#: ``ci``, ``md_ci``, ``rate_ci`` (the prefix of their ``*_lower``/``*_upper`` pair).
HEADERS: dict[str, str] = {
    "estimate": "Estimate{unit}", "std_error": "SE", "ci": "{level} CI",
    "md_ci": "{level} CI", "rate_ci": "{level} CI", "bound": "Bounds", "p_value": "p",
    "p_adjusted": "Adjusted p", "p_interaction": "p (interaction)", "n": "n",
    "count": "n", "patients": "Patients", "n_patients": "Patients", "patient_id": "Patient",
    "arm": "Arm", "reference": "Reference", "visit": "Visit", "session": "Session",
    "chisq": "Chi-square", "df": "df", "aic": "AIC", "bic": "BIC",
    "loglik": "Log-likelihood", "coef": "Coefficient", "tau": "tau",
    "mean_difference": "Mean difference{unit}", "nnt_label": "NNT",
    "nnt_ci_label": "NNT {level} CI", "needles_bin": "Needles per session",
    "percent_missing": "Missing (%)", "p_value_at_0": "p at delta 0",
    "risk_arm": "Risk (arm)", "risk_reference": "Risk (reference)",
    "n_arm": "n (arm)", "n_reference": "n (reference)",
    "events_per_100_appointments": "Events per 100 appointments",
    "n_participants_with_event": "Participants with event",
    "count_reference": "n (reference)", "denominator_reference": "Denominator (reference)",
    "n_dont_know": "Don't know", "n_guess_real": "Guessed real", "n_guess_sham": "Guessed sham",
    "empirical_sd": "Empirical SD", "mean_std_error": "Mean SE",
}
#: Columns whose identifier values are written as words (rule 4); ``arm`` and
#: ``reference`` hold arm names (rule 3).
VALUE_COLUMNS = ("measure", "method", "group", "distribution", "index", "role", "stage",
                 "event", "strategy", "attribute", "per", "term", "instrument", "reason",
                 "model", "subgroup", "endpoint", "outcome", "test", "covariate",
                 "df_method", "vcov", "analysis", "component")
ARM_COLUMNS = ("arm", "reference")
#: Values that are not plain words (rule 4).
VALUE_LABELS: dict[str, str] = {
    "mmrm": "MMRM", "mar": "MAR", "post_needling_soreness": "Post-needling soreness",
    "jump_to_reference": "Jump to reference (J2R)", "copy_reference": "Copy reference (CR)",
    "copy_increments_from_reference": "Copy increments from reference (CIR)",
    "ph": "PH", "aft": "AFT", "nrs": "NRS", "vas": "VAS", "100_needles": "100 needles",
    "kenward_roger": "Kenward-Roger",
}
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*$")
_TERM = re.compile(r"^(\w+)\[([^\]]+)\]$")


def words(name: str) -> str:
    """An identifier as words, first letter capitalised (a leading ``n_`` dropped).

    Examples
    --------
    >>> words("n_at_risk"), words("lost_so_far"), words("mmrm")
    ('At risk', 'Lost so far', 'MMRM')
    """
    name = str(name)
    if name in VALUE_LABELS:
        return VALUE_LABELS[name]
    if name.startswith("n_") and len(name) > 2:
        name = name[2:]
    parts = [VALUE_LABELS.get(p, p) for p in name.split("_")]
    text = " ".join(parts)
    return text[:1].upper() + text[1:]


def level_text(conf_level: float) -> str:
    """The CI level as a header prints it.

    Examples
    --------
    >>> level_text(0.95), level_text(0.9), level_text(0.975)
    ('95%', '90%', '97.5%')
    """
    return f"{100 * conf_level:.10g}%"


def header(name: str, *, conf_level: float = 0.95, unit: str = "",
           labels: Mapping[str, str] | None = None,
           arm_n: Mapping[str, int] | None = None) -> str:
    """The human header of column ``name`` (rules 2 and 3 of the module docstring).

    Examples
    --------
    >>> header("estimate", unit="mm"), header("ci", conf_level=0.9), header("std_error")
    ('Estimate (mm)', '90% CI', 'SE')
    >>> header("dry_needling", arm_n={"dry_needling": 42})
    'Dry needling (n = 42)'
    >>> header("sham: participants, n (%)", arm_n={"sham": 42})
    'Sham (n = 42): Participants, n (%)'
    """
    labels = labels or {}
    arm_n = arm_n or {}
    name = str(name)
    if name in labels:
        template = labels[name]
    elif name in arm_n:
        return f"{arm_text(name)} (n = {arm_n[name]})"
    elif ": " in name and name not in HEADERS:
        group, rest = name.split(": ", 1)
        first = header(group, conf_level=conf_level, unit=unit, labels=labels, arm_n=arm_n) \
            if group in arm_n or group in labels else arm_text(group)
        return f"{first}: {rest[:1].upper() + rest[1:]}"
    elif name in HEADERS:
        template = HEADERS[name]
    elif _IDENTIFIER.match(name):
        return words(name) if name != "n" else "n"
    else:
        return name[:1].upper() + name[1:]
    return template.format(level=level_text(conf_level), unit=f" ({unit})" if unit else "")


def _term_part(part: str) -> str:
    term = _TERM.match(part)
    if term is None:
        return words(part) if _IDENTIFIER.match(part) else part
    var, level = term.groups()
    if var == "arm":
        return arm_text(level)
    return f"{words(var)}: {words(level)}" if _IDENTIFIER.match(level) \
        else f"{words(var)} {level}"


def value_text(column: str, value: str) -> str:
    """One cell of a label column as words (rules 3 and 4); other text unchanged.

    Model terms (the ``term`` column) are read part by part: ``arm[dry_needling]`` is the
    arm's label, ``visit[2]`` is ``Visit 2``, an interaction is joined by ``×``.

    Examples
    --------
    >>> value_text("arm", "dry_needling - sham"), value_text("measure", "risk_difference")
    ('Dry needling - Sham', 'Risk difference')
    >>> value_text("term", "arm[dry_needling]"), value_text("term", "visit[2]:arm[sham]")
    ('Dry needling', 'Visit 2 × Sham')
    >>> value_text("term", "baseline:visit"), value_text("term", "a free text")
    ('Baseline × Visit', 'a free text')
    """
    if value == "":
        return value
    if column in ARM_COLUMNS:
        return " - ".join(arm_text(part) for part in value.split(" - "))
    if value in VALUE_LABELS:
        return VALUE_LABELS[value]
    if column == "term" and " " not in value:
        return " × ".join(_term_part(p) for p in value.split(":"))
    if column in VALUE_COLUMNS and _IDENTIFIER.match(value):
        return words(value)
    return value


def spanners(columns) -> list[tuple[str, str]]:
    """``(group, header)`` per column: the group of adjacent ``"<group>: <header>"``
    columns that share it (at least two), else ``("", column)``.

    Examples
    --------
    >>> spanners(["Term", "Sham: n (%)", "Sham: rate", "Note: x"])
    [('', 'Term'), ('Sham', 'n (%)'), ('Sham', 'rate'), ('', 'Note: x')]
    """
    split = [str(c).split(": ", 1) if ": " in str(c) else ["", str(c)] for c in columns]
    out = []
    for i, (group, rest) in enumerate(split):
        shared = group and any(0 <= j < len(split) and split[j][0] == group
                               for j in (i - 1, i + 1))
        out.append((group, rest) if shared else ("", str(columns[i])))
    return out
