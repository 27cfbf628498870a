# nlme::gls with corExp (spatial exponential, SAS TYPE=SP(EXP)) as an outside reference
# for the MMRM engine's covariance="spatial_exp".
#
#   Rscript tests/reference/mmrm_covstruct/make_nlme.R    (from the repository root)
#
# Writes nlme_spatial.csv: one row per number, named by the fit and the R expression.
# Fits (REML, as fit_trajectory and SAS):
#   fev_1d:   gls(FEV1 ~ ARMCD, corExp(form = ~ VISITN | USUBJID)) on mmrm's fev_data
#             (../shared/external/mmrm/fev_data.csv; skipped when absent)
#   fev_2d:   the same with corExp(form = ~ VISITN + VISITN2 | USUBJID) (Euclidean distance)
#   sample:   gls(y ~ baseline + arm * factor(visit), corExp(form = ~ day | patient_id)) on
#             sample_spatial.csv (export_frame.py): each row's own day since baseline.
# nlme's corExp correlation is exp(-d / range): the same parameters as SAS's SP(EXP)
# ("range") and Residual (sigma^2 = sigma(m)^2).
suppressPackageStartupMessages({ library(nlme); library(emmeans) })
here <- "tests/reference/mmrm_covstruct"
ctrl <- glsControl(maxIter = 200, msMaxIter = 200, tolerance = 1e-10, msTol = 1e-12)
out <- list()
add <- function(fit, quantity, term, value) {
  out[[length(out) + 1]] <<- data.frame(fit = fit, quantity = quantity, term = term,
                                        value = sprintf("%.15g", value))
}
report <- function(name, m) {
  b <- coef(m); se <- sqrt(diag(vcov(m)))
  for (j in seq_along(b)) {
    add(name, "coef(m)", names(b)[j], b[j])
    add(name, "sqrt(diag(vcov(m)))", names(b)[j], se[j])
  }
  add(name, "logLik(m)", "", as.numeric(logLik(m)))
  add(name, "range", "", coef(m$modelStruct$corStruct, unconstrained = FALSE)[["range"]])
  add(name, "sigma(m)^2", "", sigma(m)^2)
}
fev_path <- file.path("..", "shared", "external", "mmrm", "fev_data.csv")
if (file.exists(fev_path)) {
  fev <- read.csv(fev_path)
  fev <- fev[!is.na(fev$FEV1), ]
  fev$ARMCD <- factor(fev$ARMCD, levels = c("PBO", "TRT"))
  report("fev_1d", gls(FEV1 ~ ARMCD, data = fev, method = "REML", control = ctrl,
                       correlation = corExp(form = ~ VISITN | USUBJID)))
  report("fev_2d", gls(FEV1 ~ ARMCD, data = fev, method = "REML", control = ctrl,
                       correlation = corExp(form = ~ VISITN + VISITN2 | USUBJID)))
}
d <- read.csv(file.path(here, "sample_spatial.csv"))
d$arm <- factor(d$arm, levels = c("sham", "dry_needling"))
d$visit <- factor(d$visit)
m <- gls(y ~ baseline + arm * visit, data = d, method = "REML", control = ctrl,
         correlation = corExp(form = ~ day | patient_id))
report("sample", m)
# the arm difference per visit (dry_needling - sham): estimate and model-based SE
con <- as.data.frame(summary(contrast(emmeans(m, ~ arm | visit, mode = "asymptotic"),
                                      method = "revpairwise")))
for (i in seq_len(nrow(con))) {
  add("sample", "emmeans difference estimate", paste("visit", con$visit[i]), con$estimate[i])
  add("sample", "emmeans difference SE", paste("visit", con$visit[i]), con$SE[i])
}
res <- do.call(rbind, out)
res$r_version <- R.version.string
res$nlme_version <- as.character(packageVersion("nlme"))
write.csv(res, file.path(here, "nlme_spatial.csv"), row.names = FALSE)
