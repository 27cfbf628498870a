"""Multiple imputation under MAR and reference-based assumptions: arrays in, results out.

:mod:`.strategies` gives each patient's imputation distribution (mean over visits under
MAR, jump to reference, copy reference, copy increments from reference; Carpenter, Roger
& Kenward 2013, J Biopharm Stat 23:1352-71, as R's rbmi implements them) and the
conditional mean or a random draw of the missing values given the observed ones;
:mod:`.ancova` the analysis model (ANCOVA at each visit, weighted for resamples) and the
pooling rules (jackknife, bootstrap normal/percentile, Rubin with Barnard-Rubin df);
:mod:`.engine` the whole analysis (imputation model fitted by the MMRM engine of
:mod:`..mixed`, refits warm-started by :mod:`..mixed.mmrm_refit`). Validated against the
printed results of rbmi's vignettes in ``tests/reference/rbmi/``.
"""
