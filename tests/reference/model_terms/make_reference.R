# Golden values for fit_trajectory's model terms (baseline-by-visit interaction, factor
# and numeric covariates, aliased columns) and for its diagnostics (Cholesky-scaled
# residuals, pairwise-complete residual covariance), from nlme::gls, lme4 + lmerTest,
# emmeans and stats::lm.
#
#   Rscript tests/reference/model_terms/make_reference.R    (from the repository root)
#
# Data: sample_frame.csv beside this script (written by export_sample_frame.py: the rows
# fit_trajectory models for the bundled sample cohort) and mmrm's fev_data, read from
# ../shared/external/mmrm/fev_data.csv (FEV1_BL is the baseline, AVISIT the visit).
# Writes reference.csv (one row per number: data set, fit, table, arm, visit, term,
# quantity, value and, in `source`, the R expression that produced it), residuals.csv,
# residual_cov.csv and versions.json. R 4.2.2; nlme, lme4, lmerTest, emmeans, pbkrtest
# from Debian.
suppressPackageStartupMessages({
  library(nlme); library(lme4); library(lmerTest); library(emmeans); library(jsonlite)
})
here <- "tests/reference/model_terms"
emm_options(lmer.df = "satterthwaite", lmerTest.limit = 1e6, pbkrtest.limit = 1e6)
ctrl <- glsControl(maxIter = 500, msMaxIter = 500, tolerance = 1e-10)
rows <- list()
add <- function(dataset, fit, table, quantity, value, expr, arm = NA, visit = NA,
                term = NA) {
  rows[[length(rows) + 1]] <<- data.frame(
    dataset = dataset, fit = fit, table = table, arm = arm, visit = visit, term = term,
    quantity = quantity, value = value, source = expr)
}
record_coef <- function(dataset, fit, est, se, expr_est, expr_se) {
  add(dataset, fit, "fixed_effects", "estimate", unname(est), expr_est, term = names(est))
  add(dataset, fit, "fixed_effects", "std_error", unname(se), expr_se, term = names(est))
}
record_emm <- function(dataset, fit, emm, call) {
  d <- as.data.frame(summary(emm, infer = c(TRUE, TRUE)))
  v <- as.numeric(sub("^VIS", "", as.character(d[[2]])))
  for (q in c("emmean", "SE", "df")) {
    add(dataset, fit, "marginal_means", c(emmean = "estimate", SE = "std_error",
                                          df = "df")[[q]],
        d[[q]], paste0("summary(", call, ")$", q), arm = as.character(d[[1]]), visit = v)
  }
  con <- contrast(emm, method = "revpairwise")
  c <- as.data.frame(summary(con, infer = c(TRUE, TRUE)))
  cv <- as.numeric(sub("^VIS", "", as.character(c[[2]])))
  ccall <- paste0("summary(contrast(", call, ", 'revpairwise'))$")
  for (q in c("estimate", "SE", "df", "p.value")) {
    add(dataset, fit, "comparison", c(estimate = "estimate", SE = "std_error", df = "df",
                                      p.value = "p_value")[[q]],
        c[[q]], paste0(ccall, q), arm = as.character(c$contrast), visit = cv)
  }
}
gls_fit <- function(dataset, fit, m, arm, visit) {
  message(dataset, " ", fit)
  record_coef(dataset, fit, coef(m), sqrt(diag(vcov(m))), "coef(m)", "sqrt(diag(vcov(m)))")
  add(dataset, fit, "fit", "loglik", as.numeric(logLik(m)), "logLik(m)")
  # estimates and standard errors only: emmeans' Satterthwaite df for gls are a numerical
  # approximation that takes many minutes per fit and fails for some of these (the
  # engine's df are checked against emmeans/lmerTest and SAS elsewhere); "df.error"
  # is fast and leaves estimates and SEs unchanged (its df are not compared)
  emm <- emmeans(m, as.formula(paste("~", arm, "|", visit)), mode = "df.error")
  record_emm(dataset, fit, emm, paste0("emmeans(m, ~ ", arm, " | ", visit,
                                       ", mode = 'df.error')"))
}
lmer_fit <- function(dataset, fit, m, arm, visit, df = "satterthwaite") {
  message(dataset, " ", fit)
  record_coef(dataset, fit, fixef(m), sqrt(diag(as.matrix(vcov(m)))), "fixef(m)",
              "sqrt(diag(vcov(m)))")
  add(dataset, fit, "fit", "loglik", as.numeric(logLik(m)), "logLik(m)")
  emm <- emmeans(m, as.formula(paste("~", arm, "|", visit)), lmer.df = df)
  record_emm(dataset, fit, emm, paste0("emmeans(m, ~ ", arm, " | ", visit, ", lmer.df = '",
                                       df, "')"))
}
residual_rows <- list()
residuals_of <- function(dataset, m, d, id, visit, y) {
  residual_rows[[length(residual_rows) + 1]] <<- data.frame(
    dataset = dataset, patient_id = d[[id]], visit = d[[visit]], observed = d[[y]],
    fitted = unname(fitted(m)), residual = unname(residuals(m, type = "response")),
    normalized = unname(residuals(m, type = "normalized")))
}
cov_rows <- list()
residual_cov <- function(dataset, m, d, id, visit, group = "pooled", keep = TRUE) {
  w <- reshape(data.frame(id = d[[id]], visit = d[[visit]],
                          r = unname(residuals(m, type = "response")))[keep, ],
               idvar = "id", timevar = "visit", direction = "wide")
  w <- w[, order(as.numeric(sub("r.", "", names(w)[-1], fixed = TRUE))) + 1]
  vis <- as.numeric(sub("r.", "", names(w), fixed = TRUE))
  cv <- cov(w, use = "pairwise.complete.obs")
  cr <- cor(w, use = "pairwise.complete.obs")
  ij <- which(lower.tri(cv, diag = TRUE), arr.ind = TRUE)
  cov_rows[[length(cov_rows) + 1]] <<- data.frame(
    dataset = dataset, group = group, visit_1 = vis[ij[, 2]], visit_2 = vis[ij[, 1]],
    observed_covariance = cv[ij], observed_correlation = cr[ij])
}

# ------------------------------------------------------------------ the sample cohort
s <- read.csv(file.path(here, "sample_frame.csv"))
s <- s[order(s$patient_id, s$visit), ]
s$arm <- factor(s$arm, levels = c("sham", "dry_needling"))
s$vidx <- match(s$visit, sort(unique(s$visit)))
s$visit <- factor(s$visit)
m <- gls(y ~ baseline + arm * visit + baseline:visit, data = s, method = "REML",
         correlation = corSymm(form = ~ vidx | patient_id),
         weights = varIdent(form = ~ 1 | visit), control = ctrl)
gls_fit("sample", "mmrm_unstructured", m, "arm", "visit")
residuals_of("sample", m, s, "patient_id", "visit", "y")
residual_cov("sample", m, s, "patient_id", "visit")
for (a in levels(s$arm)) residual_cov("sample", m, s, "patient_id", "visit", a, s$arm == a)
m <- gls(y ~ baseline + site + sex + age + arm * visit + baseline:visit, data = s,
         method = "REML", correlation = corSymm(form = ~ vidx | patient_id),
         weights = varIdent(form = ~ 1 | visit), control = ctrl)
gls_fit("sample", "mmrm_unstructured_covariates", m, "arm", "visit")
bobyqa <- lmerControl(optimizer = "bobyqa")
m <- lmerTest::lmer(y ~ baseline + arm * visit + baseline:visit + (1 | patient_id),
                    data = s, REML = TRUE, control = bobyqa)
lmer_fit("sample", "session_means", m, "arm", "visit")
m <- lmerTest::lmer(y ~ baseline + site + sex + age + arm * visit + baseline:visit +
                      (1 | patient_id), data = s, REML = TRUE, control = bobyqa)
lmer_fit("sample", "session_means_covariates", m, "arm", "visit")
# a CS MMRM is the random-intercept model: pbkrtest's Kenward-Roger via emmeans
m <- lmerTest::lmer(y ~ baseline + arm * visit + baseline:visit + (1 | patient_id),
                    data = s, REML = TRUE, control = bobyqa)
lmer_fit("sample", "mmrm_cs_kenward_roger", m, "arm", "visit", df = "kenward-roger")

# ------------------------------------------------------------------ mmrm's fev_data
f <- read.csv("../shared/external/mmrm/fev_data.csv")
f <- f[!is.na(f$FEV1), ]
f <- f[order(f$USUBJID, f$VISITN), ]
f$ARMCD <- factor(f$ARMCD, levels = c("PBO", "TRT"))
f$AVISIT <- factor(f$AVISIT)
m <- gls(FEV1 ~ FEV1_BL + ARMCD * AVISIT + FEV1_BL:AVISIT, data = f, method = "REML",
         correlation = corSymm(form = ~ VISITN | USUBJID),
         weights = varIdent(form = ~ 1 | AVISIT), control = ctrl)
gls_fit("fev", "mmrm_unstructured", m, "ARMCD", "AVISIT")
residuals_of("fev", m, f, "USUBJID", "VISITN", "FEV1")
residual_cov("fev", m, f, "USUBJID", "VISITN")
m <- gls(FEV1 ~ FEV1_BL + RACE + SEX + ARMCD * AVISIT + FEV1_BL:AVISIT, data = f,
         method = "REML", correlation = corSymm(form = ~ VISITN | USUBJID),
         weights = varIdent(form = ~ 1 | AVISIT), control = ctrl)
gls_fit("fev", "mmrm_unstructured_covariates", m, "ARMCD", "AVISIT")
m <- lmerTest::lmer(FEV1 ~ FEV1_BL + RACE + SEX + ARMCD * AVISIT + FEV1_BL:AVISIT +
                      (1 | USUBJID), data = f, REML = TRUE, control = bobyqa)
lmer_fit("fev", "session_means_covariates", m, "ARMCD", "AVISIT")

# ------------------------------------------------------------------ aliased columns
# the sample without sham's visit-7 values (the arm-by-visit-7 column equals the visit-7
# column) and with age in months beside age in years (collinear)
a <- s[!(s$arm == "sham" & s$visit == "7"), ]
a$age_months <- 12 * a$age
m <- lm(y ~ baseline + age + age_months + arm * visit + baseline:visit, data = a)
add("aliased", "lm", "fixed_effects", "aliased", as.numeric(is.na(coef(m))),
    "is.na(coef(lm(...)))", term = names(coef(m)))
ok <- !is.na(coef(m))
record_coef("aliased", "lm", coef(m)[ok], sqrt(diag(vcov(m)))[ok], "coef(m)",
            "sqrt(diag(vcov(m)))")
m <- lmerTest::lmer(y ~ baseline + age + age_months + arm * visit + baseline:visit +
                      (1 | patient_id), data = a, REML = TRUE, control = bobyqa)
lmer_fit("aliased", "session_means", m, "arm", "visit")
# gls refuses a singular design: fitted on lm's kept columns (the same model)
X <- model.matrix(y ~ baseline + age + age_months + arm * visit + baseline:visit, data = a)
X <- X[, ok]
a$X <- X
m <- gls(y ~ X - 1, data = a, method = "REML",
         correlation = corSymm(form = ~ vidx | patient_id),
         weights = varIdent(form = ~ 1 | visit), control = ctrl)
est <- coef(m); names(est) <- colnames(X)
record_coef("aliased", "mmrm_unstructured", est, sqrt(diag(vcov(m))), "coef(m)",
            "sqrt(diag(vcov(m)))")
add("aliased", "mmrm_unstructured", "fit", "loglik", as.numeric(logLik(m)), "logLik(m)")

out <- do.call(rbind, rows)
write.csv(out, file.path(here, "reference.csv"), row.names = FALSE)
write.csv(do.call(rbind, residual_rows), file.path(here, "residuals.csv"), row.names = FALSE)
write.csv(do.call(rbind, cov_rows), file.path(here, "residual_cov.csv"), row.names = FALSE)
pk <- c("nlme", "lme4", "lmerTest", "emmeans", "pbkrtest")
versions <- c(list(R = R.version.string),
              lapply(setNames(pk, pk), function(p) as.character(packageVersion(p))))
writeLines(toJSON(versions, auto_unbox = TRUE, pretty = TRUE),
           file.path(here, "versions.json"))
cat("wrote", nrow(out), "reference numbers to", here, "\n")
