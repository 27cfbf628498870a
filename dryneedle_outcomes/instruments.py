"""The registry of outcome instruments: range, direction, default MCID and source.

Every fact about an instrument lives here once. Loaders use the canonical range
to validate and the declared source scales to convert; analyses use the
direction to put improvement on one readable sign and the MCID as the default
for responder and relief definitions.

Users add their own instruments (FAAM, LEFS, PSFS, EQ-5D, HAMD, ...) with
:func:`register_instrument`, or with an ``[instruments.NAME]`` table in the mapping
or in ``analysis.toml`` (same keys); every loader rule (range check, scale, ledger)
and analysis then works on the new column.

**The registry is process-global**: a registration (by :func:`register_instrument`
or by loading a mapping or configuration that declares ``[instruments.NAME]``) lasts
for the Python session and is seen by every later cohort. It cannot change under a
cohort silently: declaring a name again with a different definition is an error
unless ``replace=True``; the same definition again is a no-op. Undo one with
:func:`unregister_instrument`, or confine registrations to a block with
:func:`instrument_scope`, which puts the registry back as it was on exit (the tests
do this).

An NRS is its own instrument, not a VAS in other units (Hjermstad et al. 2011, J Pain
Symptom Manage 41:1073-1093: NRS and VAS scores corresponded overall, but some studies
found systematically higher VAS scores): a site that scored first-step pain on a 0-10 NRS gives
``first_step_pain_nrs`` values, with their own MCID, and they join the VAS column
only when the mapping says ``pool_as`` (see :mod:`dryneedle_outcomes.pooling`).

Examples
--------
>>> from dryneedle_outcomes.instruments import get_instrument
>>> fsp = get_instrument("first_step_pain")
>>> fsp.mcid, fsp.higher_is_better, fsp.units
(19.0, False, 'mm')
>>> float(fsp.improvement(80.0, 50.0))
30.0
>>> get_instrument("first_step_pain_nrs").mcid
2.0
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType

from .errors import MappingError


@dataclass(frozen=True)
class Scale:
    """A source scale and the factor that takes it to an instrument's canonical scale.

    Parameters
    ----------
    name : str
        Name used in mappings (``"mm"``, ``"cm"``, ``"nrs10"``, ...).
    lower, upper : float
        Range of valid values on the source scale.
    factor : float
        Multiply a source value by this to get the canonical value.
    instrument : str or None
        When set, values declared on this scale are **another instrument** (a 0-10 NRS
        declared for a VAS column): they are range-checked on this scale and kept,
        unconverted, in that instrument's column, never converted into this one; the
        mapping's ``pool_as`` may pool them back (:mod:`dryneedle_outcomes.pooling`).
    """

    name: str
    lower: float
    upper: float
    factor: float
    instrument: str | None = None


@dataclass(frozen=True)
class Instrument:
    """An outcome instrument.

    Parameters
    ----------
    column : str
        Canonical column name in ``Cohort.assessments`` (the registered name).
    label : str
        Human-readable name for tables and figures.
    lower, upper : float
        Canonical range (inclusive).
    units : str
        Canonical units.
    higher_is_better : bool
        Direction of the scale.
    mcid : float or None
        Default minimal clinically important difference on the canonical scale.
    mcid_source : str
        Citation for the MCID (or the responder thresholds).
    percent_thresholds : tuple of float
        Percent-reduction thresholds commonly reported (e.g. IMMPACT 30% / 50%).
    scales : mapping of str to Scale
        Source scales that can be declared for this instrument in a mapping.
    alternative_to : tuple of str
        Instruments this one measures the same construct as on another scale (the
        first-step pain NRS for the first-step pain VAS): an analysis of one of those
        names the rows that have only this one (they are not pooled unless the mapping
        says ``pool_as``).
    builtin : bool
        Whether the package defines it (True) or a user registered it.
    """

    column: str
    label: str
    lower: float
    upper: float
    units: str
    higher_is_better: bool
    mcid: float | None
    mcid_source: str
    percent_thresholds: tuple[float, ...] = ()
    scales: Mapping[str, Scale] = field(default_factory=dict)
    alternative_to: tuple[str, ...] = ()
    builtin: bool = False

    @property
    def name(self) -> str:
        """The registered name (the canonical column)."""
        return self.column

    @property
    def digits(self) -> int:
        """Decimals for means and differences on this scale in tables and text: 1 on a
        scale spanning more than 20 units (a 0-100 mm VAS: 18.1 mm), else 2 (a 0-10 NRS:
        1.81). The mean of n whole-unit scores is not known more finely (SAMPL: no more
        precision than is meaningful); the exports keep every digit.

        Examples
        --------
        >>> get_instrument("first_step_pain").digits, get_instrument("pain_nrs").digits
        (1, 2)
        """
        return 1 if self.upper - self.lower > 20 else 2

    @property
    def direction(self) -> int:
        """``+1`` when higher is better, ``-1`` when higher is worse."""
        return 1 if self.higher_is_better else -1

    def improvement(self, baseline, value):
        """Improvement from ``baseline`` to ``value``; positive always means better.

        Works element-wise on numbers, arrays and Series.
        """
        return (value - baseline) * self.direction

    def scale(self, name: str) -> Scale:
        """Return the declared source scale ``name`` or raise :class:`MappingError`."""
        try:
            return self.scales[name]
        except KeyError:
            allowed = ", ".join(sorted(self.scales))
            raise MappingError(
                f"scale {name!r} is not known for instrument {self.column!r}; "
                f"allowed scales: {allowed}"
            ) from None

    def definition(self) -> dict:
        """The keys of :func:`register_instrument` (and ``[instruments.NAME]``) as plain data.

        Examples
        --------
        >>> get_instrument("fhsq_pain").definition()["higher_is_better"]
        True
        """
        return {"label": self.label, "lower": self.lower, "upper": self.upper,
                "units": self.units, "higher_is_better": self.higher_is_better,
                "mcid": self.mcid, "mcid_source": self.mcid_source,
                "percent_thresholds": list(self.percent_thresholds)}


def _pain_100_scales(nrs_instrument: str) -> Mapping[str, Scale]:
    """Scales of a 0-100 mm pain VAS: mm, cm and percent convert; ``nrs10`` is the NRS."""
    return MappingProxyType(
        {
            "mm": Scale("mm", 0.0, 100.0, 1.0),
            "cm": Scale("cm", 0.0, 10.0, 10.0),
            "nrs10": Scale("nrs10", 0.0, 10.0, 1.0, instrument=nrs_instrument),
            "percent": Scale("percent", 0.0, 100.0, 1.0),
        }
    )


_LANDORF_2010 = (
    "Landorf KB, Radford JA, Hudson S. Minimal important difference (MID) of two "
    "commonly used outcome measures for foot problems. J Foot Ankle Res. 2010;3:7."
)
_FARRAR_2001 = (
    "Farrar JT, Young JP Jr, LaMoreaux L, Werth JL, Poole RM. Clinical importance of "
    "changes in chronic pain intensity measured on an 11-point numerical pain rating "
    "scale. Pain. 2001;94(2):149-158 (a reduction of about 2 points or about 30% was "
    "clinically important; Salaffi et al., Eur J Pain 2004;8(4):283-291 found -2 points / "
    "-33% best matched 'much better' in chronic musculoskeletal pain)."
)
_NRS_SCALES = MappingProxyType({"nrs10": Scale("nrs10", 0.0, 10.0, 1.0)})

_BUILTINS: dict[str, Instrument] = {
    "first_step_pain": Instrument(
        column="first_step_pain",
        label="First-step pain (VAS, mm)",
        lower=0.0, upper=100.0, units="mm", higher_is_better=False,
        mcid=19.0, mcid_source=_LANDORF_2010, percent_thresholds=(30.0, 50.0),
        scales=_pain_100_scales("first_step_pain_nrs"), builtin=True,
    ),
    "vas_pain": Instrument(
        column="vas_pain",
        label="Average pain (VAS, mm)",
        lower=0.0, upper=100.0, units="mm", higher_is_better=False,
        mcid=8.0, mcid_source=_LANDORF_2010, percent_thresholds=(30.0, 50.0),
        scales=_pain_100_scales("pain_nrs"), builtin=True,
    ),
    "first_step_pain_nrs": Instrument(
        column="first_step_pain_nrs",
        label="First-step pain (NRS, 0-10)",
        lower=0.0, upper=10.0, units="points", higher_is_better=False,
        mcid=2.0, mcid_source=_FARRAR_2001, percent_thresholds=(30.0, 50.0),
        scales=_NRS_SCALES, alternative_to=("first_step_pain",), builtin=True,
    ),
    "pain_nrs": Instrument(
        column="pain_nrs",
        label="Pain (NRS, 0-10)",
        lower=0.0, upper=10.0, units="points", higher_is_better=False,
        mcid=None,
        mcid_source=(
            "Dworkin RH et al. Interpreting the clinical importance of treatment "
            "outcomes in chronic pain clinical trials: IMMPACT recommendations. "
            "J Pain. 2008;9(2):105-121 (>=30% moderate, >=50% substantial)."
        ),
        percent_thresholds=(30.0, 50.0), scales=_NRS_SCALES,
        alternative_to=("vas_pain",), builtin=True,
    ),
    "fhsq_pain": Instrument(
        column="fhsq_pain",
        label="FHSQ foot pain (0-100, higher is better)",
        lower=0.0, upper=100.0, units="points", higher_is_better=True,
        mcid=13.0, mcid_source=_LANDORF_2010,
        scales=MappingProxyType({"points": Scale("points", 0.0, 100.0, 1.0)}), builtin=True,
    ),
    "ffi_pain": Instrument(
        column="ffi_pain",
        label="FFI pain subscale (0-100, higher is worse)",
        lower=0.0, upper=100.0, units="points", higher_is_better=False,
        mcid=12.0,
        mcid_source=(
            "Landorf KB, Radford JA. Minimal important difference: values for the "
            "Foot Health Status Questionnaire, Foot Function Index and Visual "
            "Analogue Scale. The Foot. 2008;18(1):15-19."
        ),
        scales=MappingProxyType({"points": Scale("points", 0.0, 100.0, 1.0)}), builtin=True,
    ),
}
_REGISTRY: dict[str, Instrument] = dict(_BUILTINS)

#: The outcome instruments the package knows, by canonical column name (a read-only
#: view of the process-global registry, so it shows user registrations too): their
#: range, units, direction, minimal clinically important difference (MCID) with its
#: source, and the scales a site may have used. Look one up with
#: :func:`~dryneedle_outcomes.get_instrument`; add one with
#: :func:`~dryneedle_outcomes.register_instrument`.
INSTRUMENTS: Mapping[str, Instrument] = MappingProxyType(_REGISTRY)

#: Instrument columns that every canonical assessments table carries.
CORE_INSTRUMENTS: tuple[str, ...] = ("vas_pain", "first_step_pain")

def get_instrument(name: str) -> Instrument:
    """Return the registered instrument ``name``.

    Raises
    ------
    MappingError
        If ``name`` is not registered; the message lists the registered names.
    """
    try:
        return INSTRUMENTS[name]
    except (KeyError, TypeError):
        raise MappingError(
            f"{name!r} is not a registered instrument; registered: {', '.join(INSTRUMENTS)}"
            ". Register your own with dno.register_instrument(name, label=..., lower=..., "
            "upper=..., units=..., higher_is_better=...) or an [instruments.NAME] table in "
            "the mapping"
        ) from None


def default_scale(instrument: Instrument) -> str:
    """The canonical scale name of ``instrument`` (the one with factor 1)."""
    for name, scale in instrument.scales.items():
        if (scale.factor == 1.0 and scale.instrument is None
                and scale.upper == instrument.upper and scale.lower == instrument.lower):
            return name
    raise MappingError(f"instrument {instrument.column!r} has no canonical scale")


def _same(a: Instrument, b: Instrument) -> bool:
    keys = [f.name for f in fields(Instrument) if f.name not in ("builtin",)]
    return all(getattr(a, k) == getattr(b, k) if k != "scales" else dict(a.scales) == dict(
        b.scales) for k in keys)


def _differences(a: Instrument, b: Instrument) -> str:
    da, db = a.definition(), b.definition()
    return "; ".join(f"{k} {da[k]!r} vs {db[k]!r}" for k in da if da[k] != db[k])


def register_instrument(name: str, *, label: str, lower: float, upper: float, units: str,
                        higher_is_better: bool, mcid: float | None = None,
                        mcid_source: str | None = None, percent_thresholds=(),
                        replace: bool = False) -> Instrument:
    """Register an outcome instrument so that every loader rule and analysis works on it.

    After registration a column ``name`` in the assessments (mapped like any
    instrument: ``[assessments.columns] name = "Source column"``) is range-checked on
    ``lower``-``upper`` (out-of-range values rejected with rule ``out_of_range``), listed
    in the ledger and provenance, and ``name`` is a valid ``outcome=`` of
    :func:`~dryneedle_outcomes.fit_trajectory`, :func:`~dryneedle_outcomes.responders`
    and :func:`~dryneedle_outcomes.time_to_relief` (``Relief(mcid=True)`` uses ``mcid``;
    without one it refuses and asks for ``mcid=<number>``). Improvement is signed by
    ``higher_is_better``.

    The registry is **process-global** (see the module docstring): the instrument
    stays registered for the session, for every later cohort. Use
    :func:`instrument_scope` to confine it to a block, or :func:`unregister_instrument`.
    The same name and definition again is a no-op; a different definition under a
    registered name raises unless ``replace=True``, and a built-in name
    (``first_step_pain``, ...) can be redefined only with ``replace=True``.

    Parameters
    ----------
    name : str
        The canonical column: lower-case letters, digits and ``_`` (``"faam_adl"``).
    label : str
        The name tables and figures print (``"FAAM ADL (0-100%)"``).
    lower, upper : float
        The range of valid scores (inclusive), ``lower < upper``.
    units : str
        The units (``"points"``, ``"%"``).
    higher_is_better : bool
        Direction: True for function scales (FAAM, LEFS, PSFS, EQ-5D), False for
        symptom scales (pain, HAMD).
    mcid : float, optional
        The minimal clinically important difference on this scale (``> 0``); the
        default of ``Relief(mcid=True)`` and ``responders(mcid=True)``.
    mcid_source : str, optional
        The citation of ``mcid`` (the report prints it); "user-declared MCID (no source
        given)" when omitted with an ``mcid``.
    percent_thresholds : sequence of float, optional
        Percent-improvement thresholds commonly reported for it.
    replace : bool, default False
        Redefine a registered name (a built-in included).

    Returns
    -------
    Instrument

    Raises
    ------
    MappingError
        On a broken rule (the name, ``lower < upper``, ``0 < mcid <= upper - lower``,
        ...: each message names the key) or a name already registered with another
        definition (or a built-in) without ``replace=True``.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> with dno.instrument_scope():
    ...     lefs = dno.register_instrument(
    ...         "lefs", label="LEFS (0-80)", lower=0, upper=80, units="points",
    ...         higher_is_better=True, mcid=9,
    ...         mcid_source="Binkley JM et al. Phys Ther. 1999;79(4):371-383.")
    ...     "lefs" in dno.INSTRUMENTS
    True
    >>> "lefs" in dno.INSTRUMENTS
    False
    >>> dno.register_instrument("first_step_pain", label="FSP", lower=0, upper=10,
    ...                         units="points", higher_is_better=False)
    Traceback (most recent call last):
    ...
    dryneedle_outcomes.errors.MappingError: instrument 'first_step_pain' is built in ...
    """
    from .instrument_definitions import make_instrument

    inst = make_instrument(name, label=label, lower=lower, upper=upper, units=units,
                           higher_is_better=higher_is_better, mcid=mcid,
                           mcid_source=mcid_source, percent_thresholds=percent_thresholds)
    return add_instrument(inst, replace=replace)


def add_instrument(inst: Instrument, *, replace: bool = False,
                   origin: str | None = None) -> Instrument:
    """Register a built :class:`Instrument` (:func:`register_instrument`'s rules).

    ``origin`` (a mapping or configuration file) is named in the messages.
    """
    if not isinstance(replace, bool):
        raise MappingError(f"replace must be True or False, got {replace!r}")
    name = inst.column
    where = f"{origin}: [instruments.{name}]" if origin else f"instrument {name!r}"
    current = _REGISTRY.get(name)
    if current is not None and not replace:
        if current.builtin:
            raise MappingError(
                f"{where} is built in ({current.label}); choose another name for your "
                "instrument, or pass replace=True to dno.register_instrument to redefine it")
        if _same(current, inst):
            return current
        raise MappingError(
            f"{where} is already registered with another definition ({_differences(current, inst)})"
            "; the registry is process-global: call dno.unregister_instrument"
            f"({name!r}) first, pass replace=True, or use another name")
    _REGISTRY[name] = inst
    return inst


def unregister_instrument(name: str) -> None:
    """Remove the user instrument ``name`` (a replaced built-in gets its definition back).

    Raises
    ------
    MappingError
        If ``name`` is not registered, or is a built-in that was not replaced.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> _ = dno.register_instrument("psfs", label="PSFS (0-10)", lower=0, upper=10,
    ...                             units="points", higher_is_better=True, mcid=2)
    >>> dno.unregister_instrument("psfs")
    >>> "psfs" in dno.INSTRUMENTS
    False
    """
    current = _REGISTRY.get(name)
    if current is None:
        raise MappingError(f"{name!r} is not a registered instrument; registered: "
                           f"{', '.join(_REGISTRY)}")
    if name in _BUILTINS:
        if current is _BUILTINS[name]:
            raise MappingError(f"{name!r} is a built-in instrument and cannot be "
                               "unregistered")
        _REGISTRY[name] = _BUILTINS[name]
        return
    del _REGISTRY[name]


@contextlib.contextmanager
def instrument_scope() -> Iterator[Mapping[str, Instrument]]:
    """A block whose instrument registrations are undone when it ends.

    Inside, :func:`register_instrument` (and loading a mapping with
    ``[instruments.NAME]``) work as usual; on exit, even on an error, the registry is
    put back exactly as it was on entry.

    Yields
    ------
    Mapping
        The (live, read-only) registry, :data:`INSTRUMENTS`.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> with dno.instrument_scope():
    ...     _ = dno.register_instrument("faam_adl", label="FAAM ADL (%)", lower=0,
    ...                                 upper=100, units="%", higher_is_better=True)
    ...     sorted(dno.INSTRUMENTS)[:2]
    ['faam_adl', 'ffi_pain']
    >>> "faam_adl" in dno.INSTRUMENTS
    False
    """
    saved = dict(_REGISTRY)
    try:
        yield INSTRUMENTS
    finally:
        _REGISTRY.clear()
        _REGISTRY.update(saved)


def user_instruments() -> dict[str, Instrument]:
    """The instruments registered by users (and built-ins replaced) this session."""
    return {k: v for k, v in _REGISTRY.items() if v is not _BUILTINS.get(k)}


def ensure_registered(declared: Mapping[str, Instrument], origin: str | None) -> None:
    """Register the instruments a mapping or configuration declares (no-op when identical).

    A declaration that differs from the registered instrument of that name, or that
    names a built-in, raises a :class:`MappingError` naming ``origin``.
    """
    for inst in declared.values():
        add_instrument(inst, origin=origin or "mapping")


def rescale(values, source: Instrument, target: Instrument):
    """Linear map of ``source``'s range onto ``target``'s (0-10 NRS -> 0-100 mm: x10).

    Examples
    --------
    >>> float(rescale(6.0, get_instrument("first_step_pain_nrs"),
    ...               get_instrument("first_step_pain")))
    60.0
    """
    factor = (target.upper - target.lower) / (source.upper - source.lower)
    return target.lower + (values - source.lower) * factor


def pooling_factor(source: Instrument, target: Instrument) -> float:
    """The multiplier of :func:`rescale` (10 for a 0-10 NRS pooled into a 0-100 VAS)."""
    return (target.upper - target.lower) / (source.upper - source.lower)


__all__ = ["INSTRUMENTS", "CORE_INSTRUMENTS", "Instrument", "Scale", "add_instrument",
           "default_scale", "ensure_registered", "get_instrument", "instrument_scope",
           "register_instrument",
           "unregister_instrument", "user_instruments"]
