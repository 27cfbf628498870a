"""The option lists of the mixed-model engines, in one light module (no numpy, no scipy).

The trajectory analysis and the configuration (:mod:`dryneedle_outcomes.config`, which
must not import scipy or statsmodels) read the allowed values from here.

.. note:: :mod:`.mmrm` keeps its own ``STRUCTURES`` (which add the heterogeneous
   variants offered to no user yet); when it is split (issue 16, item 2) it should
   import ``COVARIANCES`` from here and extend it.

Examples
--------
>>> from dryneedle_outcomes.stats.mixed.options import COVARIANCES, DF_METHODS
>>> COVARIANCES, DF_METHODS
(('unstructured', 'cs', 'ar1'), ('satterthwaite', 'kenward_roger'))
"""

from __future__ import annotations

#: Residual covariance structures of the MMRM offered to users (``nlme::corSymm``,
#: ``corCompSymm``, ``corAR1``).
COVARIANCES = ("unstructured", "cs", "ar1")
#: Denominator degrees-of-freedom methods (Kenward-Roger exists for the MMRM only).
DF_METHODS = ("satterthwaite", "kenward_roger")
