"""The option lists of the mixed-model engines, in one light module (no numpy, no scipy).

The trajectory analysis and the configuration (:mod:`dryneedle_outcomes.config`, which
must not import scipy or statsmodels) read the allowed values from here.

``STRUCTURES`` is every structure the engine fits (:mod:`.covariance`);
``COVARIANCES`` the ones :func:`~dryneedle_outcomes.fit_trajectory` offers so far.

Examples
--------
>>> from dryneedle_outcomes.stats.mixed.options import COVARIANCES, DF_METHODS
>>> COVARIANCES, DF_METHODS
(('unstructured', 'cs', 'ar1'), ('satterthwaite', 'kenward_roger', 'kenward_roger_linear'))
"""

from __future__ import annotations

#: Every residual covariance structure the MMRM engine fits (:mod:`.covariance`).
STRUCTURES = ("unstructured", "cs", "ar1", "cs_hetero", "ar1_hetero", "toeplitz",
              "toeplitz_hetero", "ante1_hetero")
#: The structures offered to users (``nlme::corSymm``, ``corCompSymm``, ``corAR1``).
COVARIANCES = STRUCTURES[:3]
#: Denominator degrees-of-freedom methods (Kenward-Roger exists for the MMRM only):
#: SAS's DDFM=SATTERTHWAITE, DDFM=KR and DDFM=KR(LINEAR).
DF_METHODS = ("satterthwaite", "kenward_roger", "kenward_roger_linear")
#: The Kenward-Roger methods among them.
KR_METHODS = DF_METHODS[1:]
