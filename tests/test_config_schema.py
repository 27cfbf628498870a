"""The configuration schema is written once (``config_schema.FIELDS``) and cannot drift.

The annotated TOML block in the docstring of :mod:`dryneedle_outcomes.config` names the
same tables, keys and defaults as the table; the option dataclasses take their defaults
from it; :func:`~dryneedle_outcomes.config.reference_rows` (what the documentation
renders) has one row per key.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib

import pytest

from dryneedle_outcomes import config
from dryneedle_outcomes.config_schema import FIELDS, SCHEMA, TABLES, default, field_of

KEY_LINE = re.compile(r"^\s*(#\s*)?([a-z_]+) = (.+?)(\s+#.*)?$")


def _docstring_schema() -> dict[tuple[str, str], tuple[bool, str]]:
    """``{(table, key): (commented out, value text)}`` from config.py's schema block."""
    doc = config.__doc__
    block = doc[doc.index("Schema (defaults"):doc.index("``[analysis.survival]``")]
    found, table = {}, None
    for line in block.splitlines():
        header = re.match(r"^\s*\[([a-z_.]+)\]", line)
        if header:
            table = header.group(1)
            continue
        m = KEY_LINE.match(line)
        if m and table is not None:
            found[(table, m.group(2))] = (bool(m.group(1)), m.group(3))
    return found


def test_the_docstring_names_every_key_of_the_table_and_no_other():
    documented = _docstring_schema()
    assert set(documented) == {(f.table, f.key) for f in FIELDS}
    assert {t for t, _ in documented} | {"mapping", "instruments"} == set(TABLES)


def test_the_docstring_shows_the_table_defaults():
    from dryneedle_outcomes.io.limits import ReadLimits

    checked = 0
    for (table, key), (commented, text) in _docstring_schema().items():
        value = tomllib.loads(f"v = {text}")["v"]
        if table == "data.limits":
            assert value == getattr(ReadLimits(), key), key
        elif not commented and field_of(table, key).default is not None:
            assert value == field_of(table, key).default, (table, key)
            checked += 1
    assert checked >= 30   # every key with a default, but the commented deprecated ones


def _options(cls) -> list[tuple[str, object]]:
    return [(f.name, f.default) for f in dataclasses.fields(cls)
            if f.default is not dataclasses.MISSING]


@pytest.mark.parametrize("field", [f for f in FIELDS if f.option and
                                   f.kind not in ("definition",)],
                         ids=lambda f: f"{f.table}.{f.key}")
def test_option_defaults_come_from_the_table(field):
    cls_name, attr = field.option.split(".")
    got = getattr(getattr(config, cls_name)(), attr)
    expected = default(field.table, field.key)
    if field.key in ("strata", "rmst_tau", "rmst_tau_sessions", "cluster"):  # ""/0: none
        expected = expected or None
    assert got == expected


def test_reference_rows_have_one_row_per_key():
    rows = config.reference_rows()
    assert all(list(r) == ["table", "key", "type", "default", "allowed", "required",
                           "description"] for r in rows)
    keys = {(r["table"], r["key"]) for r in rows}
    for table, allowed in SCHEMA.items():
        own = {k for k in allowed or () if f"{table}.{k}" not in TABLES}
        assert own == {k for t, k in keys if t == table}, table
    assert all(r["description"] and "\n" not in r["description"] for r in rows)
    models = next(r for r in rows if r["key"] == "models")
    assert models["default"] == ["mmrm"] and "session_means" in models["allowed"]


def test_the_messages_say_what_the_reference_says_is_allowed(tmp_path):
    """The reference's ``allowed`` text is the one the error gives."""
    from dryneedle_outcomes.errors import ConfigError

    (tmp_path / "a.csv").write_text("patient_id,visit\n")
    rows = {(r["table"], r["key"]): r for r in config.reference_rows()}
    for table, key, bad in [("figures", "dpi", 5), ("analysis.soreness_duration", "n_boot", -1),
                            ("analysis", "conf_level", 2), ("analysis", "primary_visit", 0)]:
        parts = table.split(".")
        data: dict = {"data": {"assessments": "a.csv"}}
        node = data
        for part in parts:
            node = node.setdefault(part, {})
        node[key] = bad
        with pytest.raises(ConfigError) as info:
            config.AnalysisConfig.from_dict(data, base_dir=tmp_path)
        assert f"[{table}]: {key} must be {rows[(table, key)]['allowed']}, got {bad}" \
            in str(info.value)


def test_one_default_seed():
    from dryneedle_outcomes.config_schema import DEFAULT_SEED
    from dryneedle_outcomes.results import DEFAULT_SEED as RESULTS_SEED

    assert DEFAULT_SEED == RESULTS_SEED
    seeds = {(f.table, f.key): f.default for f in FIELDS if f.key == "seed"
             and f.table.startswith("analysis.")}
    assert set(seeds.values()) == {RESULTS_SEED}, seeds


def _ttr(extra: str) -> config.AnalysisConfig:
    text = ('[data]\nassessments = "data/sample/assessments.csv"\n'
            f"[analysis.time_to_relief]\n{extra}")
    return config.AnalysisConfig.from_dict(tomllib.loads(text), base_dir=".")


def test_time_to_relief_adjust_and_its_deprecated_name():
    assert _ttr('adjust = ["baseline"]\n').analysis.time_to_relief.adjust == ("baseline",)
    with pytest.warns(FutureWarning, match="covariates is deprecated; call it adjust"):
        old = _ttr('covariates = ["baseline"]\n')
    assert old.analysis.time_to_relief.adjust == ("baseline",)
    with pytest.raises(config.ConfigError, match="give adjust only"):
        _ttr('adjust = ["baseline"]\ncovariates = ["age"]\n')


def _trajectory(extra: str, primary: str = "primary_visit = 6\n") -> config.AnalysisConfig:
    text = ('[data]\nassessments = "data/sample/assessments.csv"\n'
            f"[analysis]\n{primary}[analysis.trajectory]\n{extra}")
    return config.AnalysisConfig.from_dict(tomllib.loads(text), base_dir=".")


def test_the_primary_visit_is_declared_never_inferred():
    """A headline analysis needs [analysis] primary_visit: a config error naming the key."""
    assert _trajectory("").analysis.primary_visit == 6
    for table in ("trajectory", "responders"):
        text = ('[data]\nassessments = "data/sample/assessments.csv"\n'
                f"[analysis.{table}]\n")
        with pytest.raises(config.ConfigError,
                           match=re.escape(f"[analysis]: primary_visit is required with "
                                           f"[analysis.{table}]")):
            config.AnalysisConfig.from_dict(tomllib.loads(text), base_dir=".")
    # analyses without a headline at a visit do not need it
    text = '[data]\nassessments = "data/sample/assessments.csv"\n[analysis.harms]\n'
    cfg = config.AnalysisConfig.from_dict(tomllib.loads(text), base_dir=".")
    assert cfg.analysis.primary_visit is None
    with pytest.raises(config.ConfigError, match="primary_visit must be a whole number >= 1"):
        _trajectory("", primary="primary_visit = 6.5\n")
    with pytest.raises(config.ConfigError, match="primary_visit is required"):
        config.AnalysisOptions(trajectory=config.TrajectoryOptions())


def test_sap_defaults_of_the_trajectory_table():
    """Kenward-Roger df for the mmrm, weeks since baseline for the random-effects models."""
    t = _trajectory("").analysis.trajectory
    assert (t.df, t.time, t.models) == ("kenward_roger", "week", ("mmrm",))
    assert t.df_for("mmrm") == "kenward_roger" and t.df_for("random_slope") == "satterthwaite"
    with pytest.raises(config.ConfigError, match="time = 'weeks' is not allowed"):
        _trajectory('time = "weeks"\n')


@pytest.mark.parametrize("key", ["sessions_to_mcid = true", "n_boot = 50", "seed = 3"])
def test_sessions_to_mcid_and_its_bootstrap_keys_are_deprecated(key):
    with pytest.warns(FutureWarning, match=r"deprecated and ignored.*IMMPACT.*Dworkin"):
        cfg = _trajectory(key + "\n")
    assert cfg.analysis.trajectory.models == ("mmrm",)


def test_trajectory_covariance_is_one_structure_or_an_order():
    assert config.COVARIANCES == FIELDS[[f.key for f in FIELDS].index("covariance")].allowed
    one = _trajectory('covariance = "toeplitz_hetero"\n').analysis.trajectory.covariance
    assert one == "toeplitz_hetero"
    order = _trajectory('covariance = ["unstructured", "toeplitz_hetero", "ar1_hetero", '
                        '"cs_hetero"]\n').analysis.trajectory.covariance
    assert order == ("unstructured", "toeplitz_hetero", "ar1_hetero", "cs_hetero")
    for bad, needle in [('"toeplitz_het"', "did you mean 'toeplitz_hetero'"),
                        ('["unstructured", "toep"]', "has 'toep' (did you mean"),
                        ('["cs", "cs"]', "names a value twice"),
                        ("[]", "must be an array of one or more of"),
                        ("3", "must be one of unstructured, cs, ar1, cs_hetero, ar1_hetero, "
                              "toeplitz, toeplitz_hetero, ante1_hetero, ante1, spatial_exp, "
                              "or an array of them")]:
        with pytest.raises(config.ConfigError, match=re.escape(needle)):
            _trajectory(f"covariance = {bad}\n")
    row = next(r for r in config.reference_rows() if r["key"] == "covariance")
    assert row["type"] == "text or array of text"
    assert row["allowed"].endswith("; or an array of them, tried in order")


def test_subgroups_and_multiplicity_tables():
    """[analysis.subgroups] and [analysis.multiplicity] (issue 14 items 6-7)."""
    base = {"data": {"assessments": "data/sample/assessments.csv"}}

    def read(analysis):
        return config.AnalysisConfig.from_dict({**base, "analysis": analysis}, base_dir=".")

    a = read({"primary_visit": 6, "subgroups": {"cluster": "clinician",
                                                "cuts": {"baseline": 70}}}).analysis
    assert (a.subgroups.cluster, a.subgroups.cuts) == ("clinician", {"baseline": 70.0})
    assert read({"primary_visit": 6, "subgroups": {}}).analysis.subgroups.cluster is None
    with pytest.raises(config.ConfigError, match=r"\[analysis.subgroups\]: cuts must be"):
        read({"primary_visit": 6, "subgroups": {"cuts": {"baseline": "median"}}})
    with pytest.raises(config.ConfigError, match="endpoints.outcome"):
        read({"multiplicity": {"endpoints": [{"outcome": "nope", "visit": 6},
                                             {"outcome": "vas_pain", "visit": 6}]}})
    with pytest.raises(config.ConfigError, match="endpoints must be"):
        read({"multiplicity": {"endpoints": [{"outcome": "vas_pain"}]}})
