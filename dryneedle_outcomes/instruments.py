"""The registry of outcome instruments: range, direction, default MCID and source.

Every fact about an instrument lives here once. Loaders use the canonical range
to validate and the declared source scales to convert; analyses use the
direction to put improvement on one readable sign and the MCID as the default
for responder and relief definitions.

Examples
--------
>>> from dryneedle_outcomes.instruments import get_instrument
>>> fsp = get_instrument("first_step_pain")
>>> fsp.mcid, fsp.higher_is_better, fsp.units
(19.0, False, 'mm')
>>> float(fsp.improvement(80.0, 50.0))
30.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
    """

    name: str
    lower: float
    upper: float
    factor: float


@dataclass(frozen=True)
class Instrument:
    """An outcome instrument.

    Parameters
    ----------
    column : str
        Canonical column name in ``Cohort.assessments``.
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


def _pain_100_scales() -> Mapping[str, Scale]:
    return MappingProxyType(
        {
            "mm": Scale("mm", 0.0, 100.0, 1.0),
            "cm": Scale("cm", 0.0, 10.0, 10.0),
            "nrs10": Scale("nrs10", 0.0, 10.0, 10.0),
            "percent": Scale("percent", 0.0, 100.0, 1.0),
        }
    )


_LANDORF_2010 = (
    "Landorf KB, Radford JA, Hudson S. Minimal important difference (MID) of two "
    "commonly used outcome measures for foot problems. J Foot Ankle Res. 2010;3:7."
)

#: The outcome instruments the package knows, by canonical column name (read-only):
#: their range, units, direction, minimal clinically important difference (MCID) with
#: its source, and the scales a site may have used. Look one up with
#: :func:`~dryneedle_outcomes.get_instrument`.
INSTRUMENTS: Mapping[str, Instrument] = MappingProxyType(
    {
        "first_step_pain": Instrument(
            column="first_step_pain",
            label="First-step pain (VAS, mm)",
            lower=0.0,
            upper=100.0,
            units="mm",
            higher_is_better=False,
            mcid=19.0,
            mcid_source=_LANDORF_2010,
            percent_thresholds=(30.0, 50.0),
            scales=_pain_100_scales(),
        ),
        "vas_pain": Instrument(
            column="vas_pain",
            label="Average pain (VAS, mm)",
            lower=0.0,
            upper=100.0,
            units="mm",
            higher_is_better=False,
            mcid=8.0,
            mcid_source=_LANDORF_2010,
            percent_thresholds=(30.0, 50.0),
            scales=_pain_100_scales(),
        ),
        "pain_nrs": Instrument(
            column="pain_nrs",
            label="Pain (NRS, 0-10)",
            lower=0.0,
            upper=10.0,
            units="points",
            higher_is_better=False,
            mcid=None,
            mcid_source=(
                "Dworkin RH et al. Interpreting the clinical importance of treatment "
                "outcomes in chronic pain clinical trials: IMMPACT recommendations. "
                "J Pain. 2008;9(2):105-121 (>=30% moderate, >=50% substantial)."
            ),
            percent_thresholds=(30.0, 50.0),
            scales=MappingProxyType({"nrs10": Scale("nrs10", 0.0, 10.0, 1.0)}),
        ),
        "fhsq_pain": Instrument(
            column="fhsq_pain",
            label="FHSQ foot pain (0-100, higher is better)",
            lower=0.0,
            upper=100.0,
            units="points",
            higher_is_better=True,
            mcid=13.0,
            mcid_source=_LANDORF_2010,
            scales=MappingProxyType({"points": Scale("points", 0.0, 100.0, 1.0)}),
        ),
        "ffi_pain": Instrument(
            column="ffi_pain",
            label="FFI pain subscale (0-100, higher is worse)",
            lower=0.0,
            upper=100.0,
            units="points",
            higher_is_better=False,
            mcid=12.0,
            mcid_source=(
                "Landorf KB, Radford JA. Minimal important difference: values for the "
                "Foot Health Status Questionnaire, Foot Function Index and Visual "
                "Analogue Scale. The Foot. 2008;18(1):15-19."
            ),
            scales=MappingProxyType({"points": Scale("points", 0.0, 100.0, 1.0)}),
        ),
    }
)

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
    except KeyError:
        raise MappingError(
            f"{name!r} is not a registered instrument; registered: {', '.join(INSTRUMENTS)}"
        ) from None


def default_scale(instrument: Instrument) -> str:
    """The canonical scale name of ``instrument`` (the one with factor 1)."""
    for name, scale in instrument.scales.items():
        if scale.factor == 1.0 and scale.upper == instrument.upper:
            return name
    raise MappingError(f"instrument {instrument.column!r} has no canonical scale")
