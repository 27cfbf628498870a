"""Linear mixed-model engines: arrays in, fits out; no cohort, no visit vocabulary.

:mod:`.lmm` fits random-intercept and random-slope models by REML/ML as R's
``lme4::lmer`` does (Satterthwaite df as ``lmerTest``), on the profiled deviance of
:mod:`.lmm_criterion`; :mod:`.mmrm` fits MMRM with unstructured, CS and AR(1) residual
covariance as ``nlme::gls`` does (least-squares means as ``emmeans``), with the
structures in :mod:`.covariance` and the data preparation in :mod:`.mmrm_data`;
:mod:`.kenward_roger` gives Kenward-Roger inference for MMRM fits as SAS's DDFM=KR;
:mod:`.ftest` F tests of any contrast matrix (Satterthwaite df for rank > 1 as SAS's
Fai-Cornelius); :mod:`.robust` the sandwich covariance of the fixed effects (SAS's
EMPIRICAL, mmrm's jackknife) with SAS's between-within df;
:mod:`.engine` holds the result type and the Satterthwaite machinery both share.
Golden values: ``tests/reference/lmm_engine/`` and ``tests/reference/mmrm_engine/``,
with the R scripts that made them, and SAS PROC MIXED in ``tests/reference/mmrm_sas/``.
The trajectory analysis (:mod:`dryneedle_outcomes.models.trajectory`) builds on these and
never the other way round.
"""
