"""The option lists of the mixed-model engines, in one light module (no numpy, no scipy).

The trajectory analysis and the configuration (:mod:`dryneedle_outcomes.config`, which
must not import scipy or statsmodels) read the allowed values from here.

``STRUCTURES`` is every structure the engine fits (:mod:`.covariance`,
:mod:`.covariance_banded`); ``COVARIANCES`` the ones
:func:`~dryneedle_outcomes.fit_trajectory` offers: all of them, each validated against
SAS PROC MIXED (``tests/test_kenward_roger_sas.py``). ``SAS_TYPES``, ``MMRM_NAMES`` and
``NLME_EQUIVALENTS`` name each structure as SAS's ``REPEATED / TYPE=``, R's ``mmrm``
and ``nlme::gls`` do. ``"ante1"`` (mmrm's ``ad``) and ``"spatial_exp"`` are validated in
``tests/test_covariance_structures.py`` (R mmrm's own output and SAS ``SP(EXP)``), as are
separate covariances per group (SAS ``GROUP=``).

Examples
--------
>>> from dryneedle_outcomes.stats.mixed.options import COVARIANCES, DF_METHODS, SAS_TYPES
>>> COVARIANCES[:3], DF_METHODS
(('unstructured', 'cs', 'ar1'), ('satterthwaite', 'kenward_roger', 'kenward_roger_linear'))
>>> SAS_TYPES["toeplitz_hetero"]
'TOEPH'
"""

from __future__ import annotations

#: Every residual covariance structure the MMRM engine fits (:mod:`.covariance`).
STRUCTURES = ("unstructured", "cs", "ar1", "cs_hetero", "ar1_hetero", "toeplitz",
              "toeplitz_hetero", "ante1_hetero", "ante1", "spatial_exp")
#: The structures offered to users: every one the engine fits.
COVARIANCES = STRUCTURES
#: Each structure as SAS PROC MIXED's ``REPEATED / TYPE=`` names it (None: SAS has no
#: homogeneous first-order ante-dependence; ``SP(EXP)`` takes the coordinate in brackets,
#: ``TYPE=SP(EXP)(day)``).
SAS_TYPES = {"unstructured": "UN", "cs": "CS", "ar1": "AR(1)", "cs_hetero": "CSH",
             "ar1_hetero": "ARH(1)", "toeplitz": "TOEP", "toeplitz_hetero": "TOEPH",
             "ante1_hetero": "ANTE(1)", "ante1": None, "spatial_exp": "SP(EXP)"}
#: Each structure as R's ``mmrm`` package names it.
MMRM_NAMES = {"unstructured": "us", "cs": "cs", "ar1": "ar1", "cs_hetero": "csh",
              "ar1_hetero": "ar1h", "toeplitz": "toep", "toeplitz_hetero": "toeph",
              "ante1_hetero": "adh", "ante1": "ad", "spatial_exp": "sp_exp"}
#: The ``nlme::gls`` correlation (and variance) function of each structure; nlme has no
#: ante-dependence structure.  A separate covariance per group (SAS ``GROUP=``) has no
#: nlme equivalent beyond group-specific variances (``varIdent(form = ~ 1 | group)``).
NLME_EQUIVALENTS = {
    "unstructured": "corSymm + varIdent", "cs": "corCompSymm",
    "ar1": "corAR1", "cs_hetero": "corCompSymm + varIdent", "ar1_hetero": "corAR1 + varIdent",
    "toeplitz": "corARMA(p = T - 1)", "toeplitz_hetero": "corARMA(p = T - 1) + varIdent",
    "ante1_hetero": None, "ante1": None, "spatial_exp": "corExp(form = ~ day | patient)"}
#: Denominator degrees-of-freedom methods (Kenward-Roger exists for the MMRM only):
#: SAS's DDFM=SATTERTHWAITE, DDFM=KR and DDFM=KR(LINEAR).
DF_METHODS = ("satterthwaite", "kenward_roger", "kenward_roger_linear")
#: The Kenward-Roger methods among them.
KR_METHODS = DF_METHODS[1:]
