"""Mappings: every key checked, TOML and dict give the same, clear errors."""

from __future__ import annotations

import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.mapping import Mapping


def test_toml_and_dict_give_the_same_mapping(sample_dir):
    import tomllib

    from_file = Mapping.from_any(sample_dir / "mapping.toml")
    with open(sample_dir / "mapping.toml", "rb") as fh:
        from_dict = Mapping.from_any(tomllib.load(fh))
    assert from_file.to_dict() == from_dict.to_dict()
    assert from_file.table("assessments").scales["first_step_pain"] == "cm"


@pytest.mark.parametrize(
    ("mapping", "needle"),
    [
        ({"assessments": {"colums": {}}}, "unknown key 'colums' (did you mean 'columns'?)"),
        ({"assessments": {"columns": {"first_step_pian": "x"}}},
         "unknown canonical column 'first_step_pian' (did you mean 'first_step_pain'?)"),
        ({"assessments": {"scales": {"first_step_pain": "inches"}}},
         "scale 'inches' is not known for instrument 'first_step_pain'"),
        ({"assessments": {"layout": "tall"}}, "layout must be 'long' or 'wide'"),
        ({"assessments": {"layout": "wide"}}, "needs a [wide] table"),
        ({"assessments": {"layout": "wide", "wide": {"first_step_pain": "fsp"}}},
         "must contain '{visit}'"),
        ({"assessments": {"columns": {"patient_id": 3}}}, "must be of type str"),
        ({"patients": {"header_row": "3"}}, "header_row must be of type int"),
        ({"patients": {"header_row": True}}, "header_row must be of type int, got bool True"),
        ({"assessments": {"delimiter": 5}},
         "mapping [assessments]: delimiter must be of type str, got int 5"),
        ({"patients": {"sheet": 1.5}}, "sheet must be of type str or int, got float 1.5"),
        ({"patients": {"encoding": ["utf-8"]}}, "encoding must be of type str, got list"),
        ({"adverse_events": {"format": 1}}, "format must be of type str, got int 1"),
        ({"assessments": {"decimal": 0.5}}, "decimal must be of type str, got float 0.5"),
        ({"adverse_events": {"synonyms": {"black toe": "bruised"}}}, "bruised"),
        # the files are arguments of load_cohort (DESIGN.md), never mapping keys
        ({"patients": {"file": "patients.csv"}}, "mapping [patients]: unknown key 'file'"),
    ],
)
def test_malformed_mappings_raise_mapping_error(mapping, needle):
    import pandas as pd

    visits = pd.DataFrame({"patient_id": ["A"], "visit": [0]})
    events = pd.DataFrame({"patient_id": ["A"], "visit": [0], "verbatim": ["black toe"]})
    with pytest.raises(dno.MappingError) as info:
        dno.load_cohort(visits, adverse_events=events, mapping=mapping)
    assert needle in str(info.value)


def test_the_format_reader_option_is_applied(tmp_path):
    """``format`` names the format of a file whose extension does not (was a TypeError)."""
    source = tmp_path / "visits.dat"
    source.write_text("patient_id,visit,first_step_pain\nA,0,70\nA,1,60\n")
    with pytest.raises(dno.ReadError):
        dno.load_cohort(source)
    cohort = dno.load_cohort(source, mapping={"assessments": {"format": "csv"}})
    assert cohort.assessments["first_step_pain"].tolist() == [70, 60]


def test_missing_and_invalid_toml_files(tmp_path):
    with pytest.raises(dno.MappingError, match="does not exist"):
        Mapping.from_any(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[assessments\n")
    with pytest.raises(dno.MappingError, match="not valid TOML"):
        Mapping.from_any(bad)


def test_visit_codes_and_value_codes_are_applied_and_recorded():
    import pandas as pd

    visits = pd.DataFrame({"id": ["A", "A"], "when": ["Baseline", "Week 1"],
                           "fsp": [70, 60]})
    patients = pd.DataFrame({"patient_id": ["A"], "group": [1]})
    mapping = {
        "assessments": {"columns": {"patient_id": "id", "visit": "when",
                                    "first_step_pain": "fsp"},
                        "codes": {"visit": {"Baseline": 0, "Week 1": 1}}},
        "patients": {"columns": {"arm": "group"}, "codes": {"arm": {"1": "dry_needling"}}},
    }
    cohort = dno.load_cohort(visits, patients, mapping=mapping)
    assert cohort.assessments["visit"].tolist() == [0, 1]
    assert cohort.arms == ["dry_needling"]
    recodes = cohort.quality.corrections.query("action == 'recoded'")
    assert set(recodes["old"]) == {"Baseline", "Week 1", "1"}
    unknown = visits.assign(when=["Baseline", "Week 9"])
    with pytest.raises(dno.DataValidationError, match="add it to codes.visit"):
        dno.load_cohort(unknown, patients, mapping=mapping)


def test_reference_rows_cover_every_key_the_docstring_shows():
    from dryneedle_outcomes import mapping

    rows = mapping.reference_rows()
    assert all(list(r) == ["table", "key", "type", "default", "allowed", "required",
                           "description"] for r in rows)
    for name in mapping.TABLES:
        listed = tuple(r["key"] for r in rows if r["table"] == name)
        assert listed == mapping._TABLE_KEYS[name]
    for key in {r["key"] for r in rows}:
        assert key in mapping.__doc__, key
    assert all(r["description"] and "\n" not in r["description"] for r in rows)


def test_the_reference_names_the_formats_the_reader_reads():
    from dryneedle_outcomes.io.readers import SUPPORTED_FORMATS
    from dryneedle_outcomes.mapping import reference_rows

    allowed = next(r["allowed"] for r in reference_rows() if r["key"] == "format")
    named = {w.strip(" ,") for w in allowed.split("(")[0].split()}
    assert named == set(SUPPORTED_FORMATS.values())
