"""Tests for dryneedle_outcomes.normalize.vocabulary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dryneedle_outcomes.errors import DryNeedleError, MappingError
from dryneedle_outcomes.normalize import vocabulary as vocab
from dryneedle_outcomes.normalize.vocabulary import (
    AE_PRECEDENCE,
    AE_TERMS,
    DEFAULT_AE_SYNONYMS,
    DEFAULT_MUSCLE_SYNONYMS,
    MUSCLES,
    SEVERITIES,
    map_ae_terms,
    map_bool,
    map_muscles,
    map_severity,
    normalize_text,
)

# --------------------------------------------------------------------------- constants


def test_vocabularies_are_as_specified() -> None:
    assert AE_TERMS == (
        "post_needling_soreness",
        "bruising",
        "bleeding",
        "vasovagal",
        "infection",
        "needle_site_pain",
        "aggravation_of_symptoms",
        "paraesthesia",
        "drowsiness",
        "headache",
        "nausea",
        "dizziness",
        "fainting",
        "other",
    )
    # DESIGN.md's vocabulary plus fainting and dizziness (Brady et al. 2014's categories)
    assert SEVERITIES == ("mild", "moderate", "severe")
    # each intrinsic foot muscle keeps its own code (STRICTA 2010 item 2b); intrinsic_foot
    # is an intrinsic muscle the notes do not name
    assert MUSCLES == ("gastrocnemius", "soleus", "abductor_hallucis", "flexor_digitorum_brevis",
                       "quadratus_plantae", "abductor_digiti_minimi", "flexor_hallucis_brevis",
                       "adductor_hallucis", "flexor_digiti_minimi_brevis", "lumbricals",
                       "interossei", "extensor_digitorum_brevis", "extensor_hallucis_brevis",
                       "intrinsic_foot", "plantar_fascia", "other")
    assert set(AE_PRECEDENCE) == set(AE_TERMS)
    assert AE_PRECEDENCE[:5] == ("fainting", "vasovagal", "infection", "bleeding", "bruising")
    assert AE_PRECEDENCE[-3:] == ("needle_site_pain", "post_needling_soreness", "other")


def test_default_tables_are_normalised_and_read_only() -> None:
    for key, term in DEFAULT_AE_SYNONYMS.items():
        assert key == normalize_text(key)
        assert term in AE_TERMS
    for key, codes in DEFAULT_MUSCLE_SYNONYMS.items():
        assert key == normalize_text(key)
        assert set(codes) <= set(MUSCLES)
    with pytest.raises(TypeError):
        DEFAULT_AE_SYNONYMS["x"] = "other"  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Light-headed  ", "light headed"),
        ("PALE_and   SWEATY.", "pale and sweaty"),
        ("\tbruise,\n", "bruise"),
        ("“Bleeding”", "bleeding"),
        ("post–needling soreness", "post needling soreness"),
        ("n/a", "n/a"),
        ("?", ""),
    ],
)
def test_normalize_text(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


# --------------------------------------------------------------------------- AE terms

AE_CASES = [
    # bruising
    ("bruise", "bruising"),
    ("Bruised", "bruising"),
    ("BRUISING", "bruising"),
    ("haematoma", "bruising"),
    ("hematoma", "bruising"),
    ("ecchymosis", "bruising"),
    ("discolouration", "bruising"),
    ("small bruise left calf", "bruising"),
    ("Minor bruising at needle site.", "bruising"),
    # bleeding
    ("bleed", "bleeding"),
    ("bleeding", "bleeding"),
    ("pinpoint bleeding", "bleeding"),
    ("pin-point bleeding", "bleeding"),
    ("blood spot", "bleeding"),
    ("blood at needle site", "bleeding"),
    ("drop of blood on removal", "bleeding"),
    # vasovagal, fainting, dizziness and nausea are four terms (Brady et al. 2014 report
    # nausea apart; a vasovagal reaction is not a bin for its prodrome)
    ("felt faint", "dizziness"),
    ("faint", "fainting"),
    ("fainted", "fainting"),
    ("syncope", "fainting"),
    ("passed out", "fainting"),
    ("Pre-syncope", "dizziness"),
    ("dizzy", "dizziness"),
    ("dizziness", "dizziness"),
    ("light-headed", "dizziness"),
    ("lightheaded", "dizziness"),
    ("nearly fainted", "dizziness"),
    ("Vasovagal", "vasovagal"),
    ("vaso-vagal reaction", "vasovagal"),
    ("VVR", "vasovagal"),
    ("pale and sweaty", "vasovagal"),
    ("nausea", "nausea"),
    ("felt sick", "nausea"),
    ("patient felt dizzy after session", "dizziness"),
    # the other terms of Brady et al. (2014)
    ("pain during treatment", "needle_site_pain"),
    ("pain after treatment", "post_needling_soreness"),
    ("aggravation of symptoms", "aggravation_of_symptoms"),
    ("flare up of heel pain", "aggravation_of_symptoms"),
    ("drowsy after session", "drowsiness"),
    ("fatigue", "drowsiness"),
    ("headache", "headache"),
    ("numbness in toes", "paraesthesia"),
    ("pins and needles", "paraesthesia"),
    ("tingling in foot", "paraesthesia"),
    # soreness
    ("DOMS", "post_needling_soreness"),
    ("sore calf", "post_needling_soreness"),
    ("muscle soreness", "post_needling_soreness"),
    ("post-needling soreness", "post_needling_soreness"),
    ("soreness", "post_needling_soreness"),
    ("ache", "post_needling_soreness"),
    ("aching", "post_needling_soreness"),
    ("stiffness", "post_needling_soreness"),
    ("calf aching next day", "post_needling_soreness"),
    # infection
    ("infection", "infection"),
    ("redness and swelling", "infection"),
    ("cellulitis", "infection"),
    ("local infection", "infection"),
    # needle-site pain
    ("pain at needle site", "needle_site_pain"),
    ("needle pain", "needle_site_pain"),
    ("sharp pain on insertion", "needle_site_pain"),
    ("burning at insertion", "needle_site_pain"),
    ("Needle-site pain", "needle_site_pain"),
    # several terms named: ``term`` is the first in AE_PRECEDENCE (all are in MULTI_CASES)
    ("bruising and bleeding", "bleeding"),
    ("pinpoint bleed + bruise", "bleeding"),
    ("sore calf and small bruise", "bruising"),
    ("needle pain and soreness", "needle_site_pain"),
    ("infection with bleeding", "infection"),
    # formula-looking text is just text: the leading character is punctuation
    ("@bruise?", "bruising"),
    ("=bleeding", "bleeding"),
    # negation
    ("no bruising, felt dizzy", "dizziness"),
    ("felt faint but no bleeding", "dizziness"),
    ("bleeding, no bruising", "bleeding"),
]


@pytest.mark.parametrize(("verbatim", "term"), AE_CASES)
def test_ae_terms(verbatim: str, term: str) -> None:
    out = map_ae_terms(pd.Series([verbatim]))
    assert list(out.columns) == ["term", "matched", "terms", "n_terms"]
    assert out["term"].iloc[0] == term
    assert bool(out["matched"].iloc[0]) is True
    assert out["terms"].iloc[0].split(";")[0] == term


MULTI_CASES = [
    # one verbatim, several events: every term named, in AE_PRECEDENCE order
    ("bruising and bleeding", "bleeding;bruising"),
    ("pinpoint bleed + bruise", "bleeding;bruising"),
    ("bruise, felt faint", "bruising;dizziness"),
    ("sore calf and small bruise", "bruising;post_needling_soreness"),
    ("needle pain and soreness", "needle_site_pain;post_needling_soreness"),
    ("infection with bleeding", "infection;bleeding"),
    ("dizzy, bleeding", "bleeding;dizziness"),
    ("light-headed, nauseous", "dizziness;nausea"),
    ("fainted, pale and clammy", "fainting;vasovagal"),
    ("headache and drowsy", "headache;drowsiness"),
    # a longer synonym is one mention: "needle site soreness" is not also "soreness"
    ("needle site soreness", "needle_site_pain"),
    # a negated mention is not an event
    ("bleeding, no bruising", "bleeding"),
]


@pytest.mark.parametrize(("verbatim", "terms"), MULTI_CASES)
def test_ae_every_term_of_a_verbatim(verbatim: str, terms: str) -> None:
    out = map_ae_terms(pd.Series([verbatim]))
    assert out["terms"].iloc[0] == terms
    assert int(out["n_terms"].iloc[0]) == len(terms.split(";"))


@pytest.mark.parametrize(
    "verbatim",
    ["calf cramp", "itchy ankle", "claustrophobia", "pain", "redness", "no bruising",
     "=HYPERLINK(\"x\")", "=SUM(A1:A3)", "+1", "@calf"],
)
def test_ae_unmatched_falls_back_to_other(verbatim: str) -> None:
    out = map_ae_terms(pd.Series([verbatim]))
    assert out["term"].iloc[0] == "other"
    assert bool(out["matched"].iloc[0]) is False


@pytest.mark.parametrize(
    "verbatim", [None, np.nan, pd.NA, "", "   ", "n/a", "unknown", "none", "Nil", "no AE",
                 "No adverse events"],
)
def test_ae_missing_or_no_event(verbatim: object) -> None:
    out = map_ae_terms(pd.Series([verbatim], dtype=object))
    assert pd.isna(out["term"].iloc[0])
    assert bool(out["matched"].iloc[0]) is False


def test_ae_index_and_dtypes() -> None:
    s = pd.Series(["bruise", None, "zzz", "bruise"], index=[7, 3, 9, 1])
    out = map_ae_terms(s)
    assert list(out.index) == [7, 3, 9, 1]
    assert out["matched"].dtype == bool
    assert out["term"].tolist()[0] == "bruising"
    assert pd.isna(out["term"].tolist()[1])
    assert out["term"].tolist()[2:] == ["other", "bruising"]
    assert out["matched"].tolist() == [True, False, False, True]


def test_ae_user_synonyms_extend_and_override() -> None:
    s = pd.Series(["calf cramp", "bruise", "Blue Mark on heel", "cramp"])
    out = map_ae_terms(
        s,
        synonyms={"Cramp": "post_needling_soreness", "bruise": "other", "blue mark": "bruising"},
    )
    assert out["term"].tolist() == ["post_needling_soreness", "other", "bruising",
                                    "post_needling_soreness"]
    assert out["matched"].tolist() == [True, True, True, True]
    # defaults are unchanged afterwards
    assert DEFAULT_AE_SYNONYMS["bruise"] == "bruising"


def test_ae_user_synonym_term_is_case_insensitive() -> None:
    out = map_ae_terms(pd.Series(["zing"]), synonyms={"zing": "Needle_Site_Pain"})
    assert out["term"].iloc[0] == "needle_site_pain"


def test_ae_bad_user_synonym_raises_mapping_error() -> None:
    with pytest.raises(MappingError) as info:
        map_ae_terms(pd.Series(["x"]), synonyms={"calf cramp": "cramp"})
    message = str(info.value)
    assert "calf cramp" in message and "cramp" in message
    for term in AE_TERMS:
        assert term in message
    assert isinstance(info.value, DryNeedleError)


@pytest.mark.parametrize("synonyms", [["bruise"], {"": "bruising"}, {3: "bruising"}])
def test_ae_malformed_synonyms_raise(synonyms: object) -> None:
    with pytest.raises(MappingError):
        map_ae_terms(pd.Series(["x"]), synonyms=synonyms)  # type: ignore[arg-type]


@pytest.mark.slow
def test_ae_parses_each_distinct_value_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = vocab.normalize_text

    def counting(text: str) -> str:
        calls.append(text)
        return original(text)

    monkeypatch.setattr(vocab.ae_terms, "normalize_text", counting)
    s = pd.Series(["bruise", "felt faint", None] * 100_000)
    out = map_ae_terms(s)
    assert sorted(calls) == ["bruise", "felt faint"]
    assert out["term"].iloc[299_998] == "dizziness"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_property_ae_term_always_in_vocabulary(text: str) -> None:
    out = map_ae_terms(pd.Series([text]))
    term = out["term"].iloc[0]
    assert pd.isna(term) or term in AE_TERMS
    if pd.isna(term):
        assert bool(out["matched"].iloc[0]) is False


# --------------------------------------------------------------------------- severity

SEVERITY_CASES = [
    ("mild", "mild"),
    ("Mild", "mild"),
    (" MILD. ", "mild"),
    ("minor", "mild"),
    ("slight", "mild"),
    ("moderate", "moderate"),
    ("Mod", "moderate"),
    ("mod.", "moderate"),
    ("medium", "moderate"),
    ("severe", "severe"),
    ("marked", "severe"),
    ("major", "severe"),
    ("life-threatening", "severe"),
    (1, "mild"),
    (2, "moderate"),
    (3, "severe"),
    (4, "severe"),
    (5, "severe"),
    (1.0, "mild"),
    (np.int64(2), "moderate"),
    ("1", "mild"),
    ("2.0", "moderate"),
    ("grade 1", "mild"),
    ("Grade 2", "moderate"),
    ("grade 3", "severe"),
    ("grade 4", "severe"),
    ("grade 5", "severe"),
    ("G2", "moderate"),
    ("gr. 3", "severe"),
    ("grade II", "moderate"),
    ("Grade IV", "severe"),
    ("CTCAE grade 1", "mild"),
    ("ctcae 3", "severe"),
]


@pytest.mark.parametrize(("value", "expected"), SEVERITY_CASES)
def test_severity(value: object, expected: str) -> None:
    out = map_severity(pd.Series([value], dtype=object))
    assert list(out.columns) == ["severity", "status", "grade"]
    assert out["severity"].iloc[0] == expected
    assert out["status"].iloc[0] == "ok"


GRADE_CASES = [
    # CTCAE v5: grade 4 life-threatening, grade 5 death; words without a grade give none
    (4, 4.0), ("grade 4", 4.0), ("Grade IV", 4.0), ("G5", 5.0), ("life-threatening", 4.0),
    ("Death", 5.0), ("fatal", 5.0), ("grade 3", 3.0), (1, 1.0), ("severe", np.nan),
    ("mild", np.nan),
]


@pytest.mark.parametrize(("value", "grade"), GRADE_CASES)
def test_severity_keeps_the_grade(value: object, grade: float) -> None:
    out = map_severity(pd.Series([value], dtype=object))
    assert np.array_equal(out["grade"].to_numpy(), [grade], equal_nan=True)


def test_severity_user_numeric_code_is_not_a_grade() -> None:
    # a site's own code "4" = "moderate" says nothing about CTCAE grade 4
    out = map_severity(pd.Series([4, "Grade 4"]), codes={4: "moderate", "Grade 4": "severe"})
    assert out["severity"].tolist() == ["moderate", "severe"]
    assert np.array_equal(out["grade"].to_numpy(), [np.nan, 4.0], equal_nan=True)


@pytest.mark.parametrize(
    "value",
    ["serious", "Serious", "mild-moderate", "mild to moderate", 0, 6, 2.5, "-1", "grade 6",
     "III", "high", True, "=1", "+2", "sever"],
)
def test_severity_invalid(value: object) -> None:
    out = map_severity(pd.Series([value], dtype=object))
    assert pd.isna(out["severity"].iloc[0])
    assert out["status"].iloc[0] == "invalid"


@pytest.mark.parametrize("value", [None, np.nan, "", "n/a", "unknown", "not recorded"])
def test_severity_missing(value: object) -> None:
    out = map_severity(pd.Series([value], dtype=object))
    assert pd.isna(out["severity"].iloc[0])
    assert out["status"].iloc[0] == "missing"


def test_severity_numeric_series_and_index() -> None:
    out = map_severity(pd.Series([1, 2, 3, np.nan, 7], index=list("abcde")))
    assert list(out.index) == list("abcde")
    assert out["severity"].tolist()[:3] == ["mild", "moderate", "severe"]
    assert out["status"].tolist() == ["ok", "ok", "ok", "missing", "invalid"]


def test_severity_user_codes_override() -> None:
    s = pd.Series(["A", "b", 3, "9", 1, "serious"])
    out = map_severity(s, codes={"a": "mild", "B": "Moderate", 3: "moderate", 9: None,
                                 "1": "severe", "serious": "severe"})
    assert out["severity"].tolist()[:3] == ["mild", "moderate", "moderate"]
    assert out["severity"].tolist()[4:] == ["severe", "severe"]
    assert out["status"].tolist() == ["ok", "ok", "ok", "missing", "ok", "ok"]


def test_severity_bad_user_code_raises() -> None:
    with pytest.raises(MappingError, match="extreme"):
        map_severity(pd.Series(["x"]), codes={"x": "extreme"})
    with pytest.raises(MappingError):
        map_severity(pd.Series(["x"]), codes=["mild"])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- booleans

BOOL_CASES = [
    ("yes", True), ("Yes", True), ("YES ", True), ("y", True), ("Y", True), ("true", True),
    ("TRUE", True), ("t", True), ("1", True), (1, True), (1.0, True), ("ja", True),
    ("Ja", True), ("j", True), ("oui", True), ("si", True), ("x", True), ("X", True),
    ("checked", True), ("✓", True), ("present", True), (True, True), (np.True_, True),
    ("no", False), ("No", False), ("n", False), ("N", False), ("false", False), ("f", False),
    ("0", False), (0, False), (0.0, False), ("nein", False), ("non", False),
    ("unchecked", False), ("absent", False), (False, False),
]


@pytest.mark.parametrize(("value", "expected"), BOOL_CASES)
def test_bool(value: object, expected: bool) -> None:
    out = map_bool(pd.Series([value], dtype=object))
    assert list(out.columns) == ["value", "status"]
    assert out["value"].dtype == "boolean"
    assert out["value"].iloc[0] is np.bool_(expected) or out["value"].iloc[0] == expected
    assert out["status"].iloc[0] == "ok"


@pytest.mark.parametrize("value", ["maybe", 2, -1, "-1", "2.5", "yes/no", "=TRUE()", "+1", "@y"])
def test_bool_invalid(value: object) -> None:
    out = map_bool(pd.Series([value], dtype=object))
    assert out["value"].isna().iloc[0]
    assert out["status"].iloc[0] == "invalid"


@pytest.mark.parametrize("value", [None, np.nan, pd.NA, "", " ", "n/a", "unknown", "?"])
def test_bool_missing(value: object) -> None:
    out = map_bool(pd.Series([value], dtype=object))
    assert out["value"].isna().iloc[0]
    assert out["status"].iloc[0] == "missing"


def test_bool_series_dtypes() -> None:
    out = map_bool(pd.Series([True, None, False], dtype="boolean"))
    assert out["value"].tolist() == [True, pd.NA, False]
    assert out["status"].tolist() == ["ok", "missing", "ok"]
    out = map_bool(pd.Series([1, 0, 1], index=[5, 6, 7]))
    assert list(out.index) == [5, 6, 7]
    assert out["value"].tolist() == [True, False, True]


def test_bool_user_codes_override() -> None:
    s = pd.Series([1, 2, "9", "x", "Yes"])
    out = map_bool(s, codes={2: False, "9": None, "x": False, "yes": np.False_})
    assert out["value"].tolist() == [True, False, pd.NA, False, False]
    assert out["status"].tolist() == ["ok", "ok", "missing", "ok", "ok"]


@pytest.mark.parametrize("bad", [{"y": "yes"}, {"y": 1}, {"": True}])
def test_bool_bad_user_codes(bad: dict) -> None:
    with pytest.raises(MappingError):
        map_bool(pd.Series(["y"]), codes=bad)


# --------------------------------------------------------------------------- muscles

MUSCLE_CASES = [
    ("gastrocnemius", "gastrocnemius", None),
    ("Gastroc", "gastrocnemius", None),
    ("Gastroc + soleus", "gastrocnemius;soleus", None),
    ("soleus, gastroc", "gastrocnemius;soleus", None),
    ("medial gastrocnemius, soleus", "gastrocnemius;soleus", None),
    ("lateral head of gastrocnemius", "gastrocnemius", None),
    ("L gastroc / R soleus", "gastrocnemius;soleus", None),
    ("b/l gastrocs", "gastrocnemius", None),
    ("gastroc and soleus", "gastrocnemius;soleus", None),
    ("gastroc & soleus & PF", "gastrocnemius;soleus;plantar_fascia", None),
    ("Soleus; soleus", "soleus", None),
    ("FDB; abductor hallucis", "abductor_hallucis;flexor_digitorum_brevis", None),
    ("flexor digitorum brevis", "flexor_digitorum_brevis", None),
    ("quadratus plantae", "quadratus_plantae", None),
    ("QP", "quadratus_plantae", None),
    ("flexor accessorius", "quadratus_plantae", None),
    ("abductor digiti minimi", "abductor_digiti_minimi", None),
    ("ADM", "abductor_digiti_minimi", None),
    ("abd hallucis", "abductor_hallucis", None),
    ("FHB", "flexor_hallucis_brevis", None),
    ("adductor hallucis", "adductor_hallucis", None),
    ("lumbricals", "lumbricals", None),
    ("dorsal interossei", "interossei", None),
    ("EDB", "extensor_digitorum_brevis", None),
    ("intrinsics", "intrinsic_foot", None),
    ("foot intrinsics", "intrinsic_foot", None),
    ("abductor hallucis TrP", "abductor_hallucis", None),
    ("plantar fascia", "plantar_fascia", None),
    ("PF", "plantar_fascia", None),
    ("fascia", "plantar_fascia", None),
    ("medial plantar fascia insertion", "plantar_fascia", None),
    ("triceps surae", "gastrocnemius;soleus", None),
    ("PF, FDB, soleus, gastroc",
     "gastrocnemius;soleus;flexor_digitorum_brevis;plantar_fascia", None),
    ("calf", "other", "calf"),
    ("tib post", "other", "tib post"),
    ("Tibialis posterior; soleus", "soleus;other", "Tibialis posterior"),
    ("FHL, hamstrings, gastroc", "gastrocnemius;other", "FHL;hamstrings"),
    ("fascia lata", "other", "fascia lata"),
]


@pytest.mark.parametrize(("text", "muscles", "unmatched"), MUSCLE_CASES)
def test_muscles(text: str, muscles: str, unmatched: str | None) -> None:
    out = map_muscles(pd.Series([text]))
    assert list(out.columns) == ["muscles", "unmatched", "laterality"]
    assert out["muscles"].iloc[0] == muscles
    if unmatched is None:
        assert pd.isna(out["unmatched"].iloc[0])
    else:
        assert out["unmatched"].iloc[0] == unmatched


@pytest.mark.parametrize("value", [None, np.nan, "", "n/a", "none", "not needled", " ; "])
def test_muscles_missing(value: object) -> None:
    out = map_muscles(pd.Series([value], dtype=object))
    assert pd.isna(out["muscles"].iloc[0])
    assert pd.isna(out["unmatched"].iloc[0])


def test_muscles_user_synonyms() -> None:
    s = pd.Series(["calf", "tib post", "calf + PF", "AH"])
    out = map_muscles(
        s,
        synonyms={
            "calf": ("gastrocnemius", "soleus"),
            "Tib Post": "other",
            "ah": "intrinsic_foot;plantar_fascia",
        },
    )
    assert out["muscles"].tolist() == [
        "gastrocnemius;soleus",
        "other",
        "gastrocnemius;soleus;plantar_fascia",
        "intrinsic_foot;plantar_fascia",
    ]
    assert out["unmatched"].isna().all()


@pytest.mark.parametrize("bad", [{"calf": "calf_muscle"}, {"calf": ["soleus", "x"]},
                                 {"calf": 3}, {"": "soleus"}, ["soleus"]])
def test_muscles_bad_synonyms_raise(bad: object) -> None:
    with pytest.raises(MappingError):
        map_muscles(pd.Series(["calf"]), synonyms=bad)  # type: ignore[arg-type]


def test_muscles_index_alignment_and_categorical() -> None:
    s = pd.Series(["gastroc", None, "PF"], index=[2, 0, 1], dtype="category")
    out = map_muscles(s)
    assert list(out.index) == [2, 0, 1]
    assert out["muscles"].iloc[0] == "gastrocnemius"
    assert pd.isna(out["muscles"].iloc[1])
    assert out["muscles"].iloc[2] == "plantar_fascia"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["gastroc", "soleus", "FDB", "PF", "calf", "tib post"]),
                min_size=1, max_size=6))
def test_property_muscles_sorted_unique(parts: list[str]) -> None:
    out = map_muscles(pd.Series([", ".join(parts)]))
    codes = out["muscles"].iloc[0].split(";")
    assert codes == sorted(set(codes), key=MUSCLES.index)
    assert set(codes) <= set(MUSCLES)
    assert ("other" in codes) == any(p in ("calf", "tib post") for p in parts)


# ---- the side written in the muscle text (assessments.laterality) ------------------
LATERALITY_CASES = [
    ("L soleus", "soleus", "left"),
    ("Lt gastroc", "gastrocnemius", "left"),
    ("left abductor hallucis", "abductor_hallucis", "left"),
    ("soleus (right)", "soleus", "right"),
    ("Rt FDB", "flexor_digitorum_brevis", "right"),
    ("R quadratus plantae", "quadratus_plantae", "right"),
    ("gastrocnemius (L)", "gastrocnemius", "left"),
    ("b/l gastrocs", "gastrocnemius", "bilateral"),
    ("B/L soleus", "soleus", "bilateral"),
    ("both gastroc + soleus", "gastrocnemius;soleus", "bilateral"),
    ("soleus (bilateral)", "soleus", "bilateral"),
    ("L gastroc / R soleus", "gastrocnemius;soleus", "bilateral"),   # both sides named
    ("lateral gastrocnemius", "gastrocnemius", None),   # a head, not a side
    ("lat gastroc, med soleus", "gastrocnemius;soleus", None),
    ("soleus", "soleus", None),
    ("R / L soleus", "soleus", "bilateral"),   # a part of side words only
]


@pytest.mark.parametrize(("text", "muscles", "side"), LATERALITY_CASES)
def test_muscle_laterality(text: str, muscles: str, side: str | None) -> None:
    out = map_muscles(pd.Series([text]))
    assert out["muscles"].iloc[0] == muscles
    assert pd.isna(out["unmatched"].iloc[0])
    if side is None:
        assert pd.isna(out["laterality"].iloc[0])
    else:
        assert out["laterality"].iloc[0] == side


def test_muscle_groups_keep_the_coarse_bin() -> None:
    from dryneedle_outcomes.normalize.vocabulary import MUSCLE_GROUPS, muscle_groups

    intrinsic = ("abductor_hallucis", "flexor_digitorum_brevis", "quadratus_plantae",
                 "abductor_digiti_minimi", "intrinsic_foot")
    assert all(MUSCLE_GROUPS[m] == "intrinsic_foot" for m in intrinsic)
    assert MUSCLE_GROUPS["gastrocnemius"] == MUSCLE_GROUPS["soleus"] == "calf"
    assert set(MUSCLE_GROUPS) == set(MUSCLES)
    got = muscle_groups(pd.Series(["soleus;quadratus_plantae;plantar_fascia", None,
                                   "abductor_hallucis;flexor_digitorum_brevis"]))
    assert got.iloc[0] == "calf;intrinsic_foot;plantar_fascia"
    assert pd.isna(got.iloc[1])
    assert got.iloc[2] == "intrinsic_foot"


@pytest.mark.parametrize(("text", "side", "matched"), [
    ("L", "left", True), ("Left", "left", True), ("lt", "left", True),
    ("R", "right", True), ("right side", "right", True), ("Rt", "right", True),
    ("B/L", "bilateral", True), ("both", "bilateral", True), ("Bilateral", "bilateral", True),
    ("left and right", "bilateral", True), ("heel", None, False), (None, None, True),
])
def test_laterality_column(text, side, matched) -> None:
    from dryneedle_outcomes.normalize.vocabulary import map_laterality

    out = map_laterality(pd.Series([text], dtype=object))
    assert bool(out["matched"].iloc[0]) is matched
    if side is None:
        assert pd.isna(out["laterality"].iloc[0])
    else:
        assert out["laterality"].iloc[0] == side


@pytest.mark.parametrize(("text", "technique", "matched"), [
    ("pistoning", "pistoning", True), ("Fast-in fast-out", "pistoning", True),
    ("FIFO", "pistoning", True), ("fast in/fast out", "pistoning", True),
    ("Hong's technique", "pistoning", True), ("static", "static", True),
    ("no manipulation", "static", True), ("Static (retained)", "static", True),
    ("winding", "rotation", True), ("electroacupuncture", "other", False),
    (None, None, True),
])
def test_technique_column(text, technique, matched) -> None:
    from dryneedle_outcomes.normalize.vocabulary import map_technique

    out = map_technique(pd.Series([text], dtype=object))
    assert bool(out["matched"].iloc[0]) is matched
    if technique is None:
        assert pd.isna(out["technique"].iloc[0])
    else:
        assert out["technique"].iloc[0] == technique


def test_loader_records_side_and_technique_in_the_ledger() -> None:
    from dryneedle_outcomes import load_cohort

    patients = pd.DataFrame({"patient_id": ["P1", "P2"], "arm": ["dry_needling", "sham"]})
    visits = pd.DataFrame({
        "patient_id": ["P1", "P1", "P2"], "visit": [0, 1, 1],
        "first_step_pain": [70.0, 60.0, 65.0], "needled": [False, True, False],
        "needles": [0, 4, 0], "muscles": [None, "L soleus, FDB", None],
        "technique": [None, "fast-in fast-out", None], "retention_min": [None, 1.5, None]})
    cohort = load_cohort(visits, patients)
    a = cohort.assessments.set_index(["patient_id", "visit"])
    assert a.loc[("P1", 1), "muscles"] == "soleus;flexor_digitorum_brevis"
    assert a.loc[("P1", 1), "laterality"] == "left"
    assert a.loc[("P1", 1), "technique"] == "pistoning"
    assert a.loc[("P1", 1), "retention_min"] == 1.5
    fixes = cohort.quality.corrections
    got = {(r.column, r.old, r.new) for r in fixes.itertuples()}
    assert ("muscles", "L soleus, FDB", "soleus;flexor_digitorum_brevis") in got
    assert ("laterality", "L soleus, FDB", "left") in got
    assert ("technique", "fast-in fast-out", "pistoning") in got


def test_loader_flags_an_unknown_side_and_technique() -> None:
    from dryneedle_outcomes import load_cohort

    patients = pd.DataFrame({"patient_id": ["P1"], "arm": ["dry_needling"]})
    visits = pd.DataFrame({"patient_id": ["P1", "P1"], "visit": [0, 1],
                           "first_step_pain": [70.0, 60.0], "needled": [False, True],
                           "laterality": [None, "heel"], "technique": [None, "laser"]})
    cohort = load_cohort(visits, patients)
    a = cohort.assessments
    assert pd.isna(a.loc[a["visit"] == 1, "laterality"].iloc[0])
    assert a.loc[a["visit"] == 1, "technique"].iloc[0] == "other"
    flags = cohort.quality.flags
    assert {"unmatched_laterality", "unmatched_technique"} <= set(flags["rule"])
