"""The Methods and Results text of a run, as Markdown (``methods.md``), BibTeX
(``references.bib``) and an HTML section of ``report.html``.

:func:`run_text` builds a :class:`RunText` from the run's sections (:mod:`.methods`,
:mod:`.results_text`); its :attr:`~RunText.methods` and :attr:`~RunText.results` are
lists of ``(heading, paragraphs)`` so that another writer (a Word document) can lay
them out its own way; citations stay as Pandoc's ``[@key]`` in every paragraph and
:meth:`RunText.plain` replaces them by author-year text.

Examples
--------
>>> t = RunText(methods=[("Primary analysis", ["An MMRM [@kenward_roger_1997]."])],
...             results=[("Primary outcome", ["At visit 6, pain was 1.0 mm lower."])])
>>> t.citations()
['kenward_roger_1997']
>>> t.plain("An MMRM [@kenward_roger_1997; @mallinckrodt_2008].")
'An MMRM (Kenward & Roger 1997; Mallinckrodt et al. 2008).'
>>> print(t.markdown().splitlines()[0])
# Methods
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from ..cohort import Cohort
from .methods import methods_sections
from .references import REFERENCES, bibtex, cited_keys
from .results_text import results_sections
from .sections import Section

Paragraphs = tuple[str, list[str]]
_GROUP = re.compile(r"\[(@[^\]]+)\]")


def _surname(author: str) -> str:
    name = author.split(",")[0].strip().strip("{}")
    return re.sub(r"\{\\[^{}]*\{?(\w)\}?\}", r"\1", name).replace("{", "").replace("}", "")


def short_label(key: str) -> str:
    """"Kenward & Roger 1997", "Wolbers et al. 2022", "Rubin 1987", "ICH 2019" for
    ``key``.

    Examples
    --------
    >>> short_label("ich_e9_r1_2019"), short_label("fda_covariates_2023")
    ('ICH 2019', 'FDA 2023')
    """
    _, fields = REFERENCES[key]
    year = fields["year"]
    if fields["author"].startswith("{"):       # an organisation, by its short name
        return f"{fields.get('shortauthor', fields['author'].strip('{}'))} {year}"
    authors = fields["author"].split(" and ")
    if len(authors) == 1:
        return f"{_surname(authors[0])} {year}"
    if len(authors) == 2 and authors[1] != "others":
        return f"{_surname(authors[0])} & {_surname(authors[1])} {year}"
    return f"{_surname(authors[0])} et al. {year}"


def reference_line(key: str) -> str:
    """One reference as a reader sees it (authors, year, title, journal, volume, pages,
    DOI), braces of BibTeX removed."""
    kind, f = REFERENCES[key]
    clean = {k: re.sub(r"\{\\'o\}", "ó", re.sub(r"\{\\o\}", "ø", v)).replace("{", "")
             .replace("}", "").replace("--", "–") for k, v in f.items()}
    authors = (clean["author"] if f["author"].startswith("{") else
               clean["author"].replace(" and others", " et al.").replace(" and ", "; "))
    where = (clean.get("journal", "") + (f" {clean['volume']}" if "volume" in clean else "")
             + (f"({clean['number']})" if "number" in clean else "")
             + (f":{clean['pages']}" if "pages" in clean else "")
             if kind == "article" else
             clean.get("publisher", clean.get("howpublished", "")))
    doi = f" doi:{clean['doi']}" if "doi" in clean else ""
    return f"{authors} ({clean['year']}). {clean['title']}. {where}.{doi}"


@dataclass(frozen=True)
class RunText:
    """The Methods and Results of a run as ``(heading, paragraphs)`` lists."""

    methods: list[Paragraphs] = field(default_factory=list)
    results: list[Paragraphs] = field(default_factory=list)

    def _paragraphs(self):
        return [p for _, ps in (*self.methods, *self.results) for p in ps]

    def citations(self) -> list[str]:
        """Every citation key, in order of first use."""
        return cited_keys("\n".join(self._paragraphs()))

    def bibtex(self) -> str:
        """``references.bib``: the entries of :meth:`citations`, no others."""
        return bibtex(self.citations())

    @staticmethod
    def plain(text: str) -> str:
        """``text`` with each ``[@a; @b]`` as "(A 1990; B et al. 2001)"."""
        return _GROUP.sub(lambda m: "(" + "; ".join(
            short_label(k.strip().lstrip("@")) for k in m.group(1).split(";")) + ")", text)

    def markdown(self) -> str:
        """``methods.md``: "# Methods", "# Results", "## heading" and the paragraphs, with
        Pandoc citations (``pandoc --citeproc --bibliography references.bib``)."""
        out = []
        for title, parts in (("Methods", self.methods), ("Results", self.results)):
            if not parts:
                continue
            out.append(f"# {title}\n")
            for heading, paragraphs in parts:
                out.append(f"## {heading}\n")
                out += [f"{p}\n" for p in paragraphs]
        return "\n".join(out)

    def html(self) -> str:
        """The report's "Methods" and "Results" sections, citations in author-year form
        and the references listed."""
        e = html.escape
        out = []
        for key, title, parts in (("methods", "Methods", self.methods),
                                  ("results", "Results", self.results)):
            if not parts:
                continue
            out.append(f'<h2 id="{key}">{title}</h2>')
            for heading, paragraphs in parts:
                out.append(f"<h3>{e(heading)}</h3>")
                out += [f"<p>{e(self.plain(p))}</p>" for p in paragraphs]
        keys = self.citations()
        if keys:
            out.append('<h3 id="references">References</h3><ol class="references">'
                       + "".join(f"<li>{e(reference_line(k))}</li>" for k in keys)
                       + "</ol>")
        return "\n".join(out)


def run_text(cohort: Cohort, sections: list[Section], *, options=None,
             estimand: dict | None = None, inputs: dict | None = None) -> RunText:
    """The Methods and Results of a run (``options``: the configuration's
    :class:`~dryneedle_outcomes.config.AnalysisOptions`; ``estimand``: its checked
    ``[estimand]`` table; ``inputs``: the input files by role)."""
    visit = getattr(options, "primary_visit", None)
    return RunText(methods=methods_sections(cohort, sections, options=options,
                                            estimand=estimand, inputs=inputs),
                   results=results_sections(sections, primary_visit=visit))
