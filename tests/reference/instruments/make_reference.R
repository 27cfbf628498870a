# Golden values for the pooled first-step pain analysis of the bundled sample (issue 12):
# Site B's 0-10 NRS pooled x10 into the 0-100 mm VAS by the mapping's pool_as, with each
# patient's instrument (first_step_pain_instrument) as a covariate, as fit_trajectory and
# time_to_relief add it by default.
#
#   python tests/reference/instruments/export_pooled_frames.py      (writes the two CSVs)
#   Rscript tests/reference/instruments/make_reference.R     (from the repository root)
#
# MMRM: nlme::gls, REML, unstructured covariance (corSymm + varIdent by visit), formula
#   y ~ baseline + instrument + arm * visit + baseline:visit (the baseline-by-visit
#   interaction fit_trajectory has by default for mmrm); arm differences per visit from
#   emmeans (mode = "df.error": estimates and SEs only, df are not compared; see
#   tests/reference/model_terms/make_reference.R for why).
# Cox: survival::coxph(Surv(time, event) ~ arm + instrument), Efron ties (R's default).
# Writes reference.csv (fit, quantity, term/visit, value, and the R expression) and
# versions.json.
suppressPackageStartupMessages({
  library(nlme); library(emmeans); library(survival); library(jsonlite)
})
here <- "tests/reference/instruments"
rows <- list()
add <- function(fit, quantity, key, value, expr) {
  rows[[length(rows) + 1]] <<- data.frame(fit = fit, quantity = quantity, key = key,
                                          value = value, source = expr)
}
d <- read.csv(file.path(here, "sample_pooled_mmrm.csv"))
d$arm <- factor(d$arm, levels = c("sham", "dry_needling"))
d$instrument <- factor(d$first_step_pain_instrument,
                       levels = c("first_step_pain", "first_step_pain_nrs"))
d$visit <- factor(d$visit)
d$vidx <- as.integer(d$visit)
m <- gls(y ~ baseline + instrument + arm * visit + baseline:visit, data = d, method = "REML",
         correlation = corSymm(form = ~ vidx | patient_id),
         weights = varIdent(form = ~ 1 | visit),
         control = glsControl(maxIter = 500, msMaxIter = 500, tolerance = 1e-10))
add("mmrm", "loglik", "", as.numeric(logLik(m)), "logLik(m)")
b <- coef(m); se <- sqrt(diag(vcov(m)))
k <- "instrumentfirst_step_pain_nrs"
add("mmrm", "estimate", "instrument", b[[k]], "coef(m)['instrumentfirst_step_pain_nrs']")
add("mmrm", "std_error", "instrument", se[[k]], "sqrt(diag(vcov(m)))[...]")
emm <- emmeans(m, ~ arm | visit, mode = "df.error")
con <- as.data.frame(summary(contrast(emm, method = "revpairwise")))
for (i in seq_len(nrow(con))) {
  v <- as.character(con$visit[i])
  add("mmrm", "estimate", v, con$estimate[i], "summary(contrast(emm, 'revpairwise'))$estimate")
  add("mmrm", "std_error", v, con$SE[i], "summary(contrast(emm, 'revpairwise'))$SE")
}
r <- read.csv(file.path(here, "sample_pooled_relief.csv"))
r$arm <- factor(r$arm, levels = c("sham", "dry_needling"))
r$instrument <- factor(r$first_step_pain_instrument,
                       levels = c("first_step_pain", "first_step_pain_nrs"))
cx <- coxph(Surv(time, event) ~ arm + instrument, data = r)
s <- summary(cx)$coefficients
add("cox", "hazard_ratio", "arm", s["armdry_needling", "exp(coef)"], "exp(coef(cx))")
add("cox", "hazard_ratio", "instrument", s["instrumentfirst_step_pain_nrs", "exp(coef)"],
    "exp(coef(cx))")
add("cox", "std_error", "arm", s["armdry_needling", "se(coef)"], "summary(cx)$coefficients")
add("cox", "std_error", "instrument", s["instrumentfirst_step_pain_nrs", "se(coef)"],
    "summary(cx)$coefficients")
add("cox", "p_value", "arm", s["armdry_needling", "Pr(>|z|)"], "summary(cx)$coefficients")
out <- do.call(rbind, rows)
write.csv(out, file.path(here, "reference.csv"), row.names = FALSE)
write_json(list(R = R.version.string, nlme = as.character(packageVersion("nlme")),
                emmeans = as.character(packageVersion("emmeans")),
                survival = as.character(packageVersion("survival"))),
           file.path(here, "versions.json"), auto_unbox = TRUE, pretty = TRUE)
print(out[, 1:4], digits = 10)
