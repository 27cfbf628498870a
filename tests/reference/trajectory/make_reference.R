# Golden values for fit_trajectory, from lme4 + lmerTest + emmeans and nlme::gls.
#
#   Rscript tests/reference/trajectory/make_reference.R    (from the repository root)
#
# Reads the model frames written by export_frames.py and writes reference.json.
# Each number is stored under the name of the R expression that produced it.
# R 4.2.2; lme4, lmerTest, emmeans, nlme as installed from Debian (versions recorded).
suppressPackageStartupMessages({
  library(lme4); library(lmerTest); library(emmeans); library(nlme); library(jsonlite)
})
here <- "tests/reference/trajectory"
emm_options(lmer.df = "satterthwaite", lmerTest.limit = 1e6, pbkrtest.limit = 0)

tidy_emm <- function(emm) {
  d <- as.data.frame(summary(emm, infer = c(TRUE, TRUE)))
  list(arm = as.character(d$arm), visit = as.numeric(as.character(d$visit)),
       estimate = d$emmean, std_error = d$SE, df = d$df,
       ci_lower = d$lower.CL, ci_upper = d$upper.CL)
}
tidy_con <- function(emm) {
  con <- contrast(emm, method = "revpairwise")   # dry_needling - sham
  d <- as.data.frame(summary(con, infer = c(TRUE, TRUE)))
  list(contrast = as.character(d$contrast), visit = as.numeric(as.character(d$visit)),
       estimate = d$estimate, std_error = d$SE, df = d$df,
       ci_lower = d$lower.CL, ci_upper = d$upper.CL, p_value = d$p.value)
}
lmer_ref <- function(m, visits) {
  s <- summary(m)$coefficients
  emm <- if (is.factor(model.frame(m)$visit) ||
             any(grepl("factor", deparse(formula(m)))))
    emmeans(m, ~ arm | visit) else emmeans(m, ~ arm | visit, at = list(visit = visits))
  vc <- as.data.frame(VarCorr(m))
  list(call = paste(deparse(formula(m)), collapse = " "),
       `fixef(m)` = unname(fixef(m)), terms = names(fixef(m)),
       `sqrt(diag(vcov(m)))` = unname(sqrt(diag(as.matrix(vcov(m))))),
       `summary(m)$coefficients[, "df"]` = unname(s[, "df"]),
       `logLik(m)` = as.numeric(logLik(m)), `AIC(m)` = AIC(m), `BIC(m)` = BIC(m),
       `as.data.frame(VarCorr(m))$vcov` = vc$vcov,
       varcorr_names = paste(vc$grp, vc$var1, vc$var2),
       emmeans = tidy_emm(emm), contrasts = tidy_con(emm))
}
# The linear-time models on weeks since baseline (fit_trajectory's default time scale):
# marginal means at each visit's mean week over the modelled rows, as fit_trajectory's
# reference grid places them, with the visit each week belongs to.
lmer_week_ref <- function(m, d) {
  s <- summary(m)$coefficients
  wk <- tapply(d$week, d$visit, mean)
  emm <- emmeans(m, ~ arm | week, at = list(week = unname(wk)))
  visit_of <- function(x) as.numeric(names(wk))[match(round(x, 10), round(unname(wk), 10))]
  e <- as.data.frame(summary(emm, infer = c(TRUE, TRUE)))
  con <- as.data.frame(summary(contrast(emm, method = "revpairwise"), infer = c(TRUE, TRUE)))
  vc <- as.data.frame(VarCorr(m))
  list(call = paste(deparse(formula(m)), collapse = " "),
       `fixef(m)` = unname(fixef(m)), terms = names(fixef(m)),
       `sqrt(diag(vcov(m)))` = unname(sqrt(diag(as.matrix(vcov(m))))),
       `summary(m)$coefficients[, "df"]` = unname(s[, "df"]),
       `logLik(m)` = as.numeric(logLik(m)), `AIC(m)` = AIC(m), `BIC(m)` = BIC(m),
       `as.data.frame(VarCorr(m))$vcov` = vc$vcov,
       varcorr_names = paste(vc$grp, vc$var1, vc$var2),
       emmeans = list(arm = as.character(e$arm), visit = visit_of(e$week),
                      estimate = e$emmean, std_error = e$SE, df = e$df,
                      ci_lower = e$lower.CL, ci_upper = e$upper.CL),
       contrasts = list(contrast = as.character(con$contrast), visit = visit_of(con$week),
                        estimate = con$estimate, std_error = con$SE, df = con$df,
                        ci_lower = con$lower.CL, ci_upper = con$upper.CL,
                        p_value = con$p.value))
}
gls_ref <- function(m) {
  # emmeans' Satterthwaite df for gls need nlme's apVar; when nlme cannot invert the
  # variance parameters' Hessian it fails, and the df are recorded as missing (the
  # estimates and standard errors are still compared)
  df_mode <- "satterthwaite"
  emm <- if (is.character(m$apVar)) NULL else   # (emmeans would quietly use df.error)
    tryCatch(emmeans(m, ~ arm | visit, mode = "satterthwaite"), error = function(e) NULL)
  if (is.null(emm)) {
    df_mode <- "unavailable"
    emm <- emmeans(m, ~ arm | visit, mode = "asymptotic")
  }
  tidy <- function(x) {  # without df, the t-based CI and p are unavailable too
    if (df_mode == "unavailable") {
      na <- rep(NA_real_, length(x$estimate))
      x$df <- na; x$ci_lower <- na; x$ci_upper <- na
      if (!is.null(x$p_value)) x$p_value <- na
    }
    x
  }
  list(call = paste(deparse(m$call), collapse = " "), df_mode = df_mode,
       apVar = if (is.character(m$apVar)) m$apVar else "ok",
       `coef(m)` = unname(coef(m)), terms = names(coef(m)),
       `sqrt(diag(vcov(m)))` = unname(sqrt(diag(vcov(m)))),
       `logLik(m)` = as.numeric(logLik(m)), `AIC(m)` = AIC(m),
       `getVarCov(m)` = unclass(getVarCov(m)),
       emmeans = tidy(tidy_emm(emm)), contrasts = tidy(tidy_con(emm)))
}

out <- list(R = R.version.string,
            packages = lapply(c("lme4", "lmerTest", "emmeans", "nlme"),
                              function(p) as.character(packageVersion(p))))
for (name in c("sample", "dropout")) {
  d <- read.csv(file.path(here, paste0(name, "_ancova.csv")))
  d$arm <- factor(d$arm, levels = c("sham", "dry_needling"))
  visits <- sort(unique(d$visit))
  d$vidx <- match(d$visit, visits)
  res <- list()
  res$random_intercept <- lmer_ref(
    lmerTest::lmer(y ~ baseline + arm * visit + (1 | patient_id), data = d, REML = TRUE,
                   control = lmerControl(optimizer = "bobyqa")), visits)
  res$random_slope <- lmer_ref(
    lmerTest::lmer(y ~ baseline + arm * visit + (1 + visit | patient_id), data = d,
                   REML = TRUE, control = lmerControl(optimizer = "bobyqa")), visits)
  res$random_intercept_week <- lmer_week_ref(
    lmerTest::lmer(y ~ baseline + arm * week + (1 | patient_id), data = d, REML = TRUE,
                   control = lmerControl(optimizer = "bobyqa")), d)
  res$random_slope_week <- lmer_week_ref(
    lmerTest::lmer(y ~ baseline + arm * week + (1 + week | patient_id), data = d,
                   REML = TRUE, control = lmerControl(optimizer = "bobyqa")), d)
  d$fvisit <- factor(d$visit)
  dm <- d; dm$visit <- factor(dm$visit)
  res$session_means <- lmer_ref(
    lmerTest::lmer(y ~ baseline + arm * visit + (1 | patient_id), data = dm, REML = TRUE,
                   control = lmerControl(optimizer = "bobyqa")), visits)
  # Kenward-Roger: a compound-symmetry MMRM is the random-intercept model, for which
  # pbkrtest gives the KR-adjusted covariance and df (emmeans' lmer.df = "kenward-roger")
  m_kr <- lmerTest::lmer(y ~ baseline + arm * visit + (1 | patient_id), data = dm,
                         REML = TRUE, control = lmerControl(optimizer = "bobyqa"))
  emm_kr <- emmeans(m_kr, ~ arm | visit, lmer.df = "kenward-roger")
  res$mmrm_cs_kenward_roger <- list(
    call = "emmeans(lmer(y ~ baseline + arm * visit + (1 | patient_id)), ~ arm | visit, lmer.df = 'kenward-roger')",
    emmeans = tidy_emm(emm_kr), contrasts = tidy_con(emm_kr))
  res$mmrm_unstructured <- gls_ref(
    gls(y ~ baseline + arm * visit, data = dm, method = "REML",
        correlation = corSymm(form = ~ vidx | patient_id),
        weights = varIdent(form = ~ 1 | visit),
        control = glsControl(maxIter = 500, msMaxIter = 500, tolerance = 1e-10)))
  res$mmrm_cs <- gls_ref(
    gls(y ~ baseline + arm * visit, data = dm, method = "REML",
        correlation = corCompSymm(form = ~ 1 | patient_id)))
  res$mmrm_ar1 <- gls_ref(
    gls(y ~ baseline + arm * visit, data = dm, method = "REML",
        correlation = corAR1(form = ~ vidx | patient_id)))
  # all visits, baseline modelled as visit 0 (adjust = ())
  a <- read.csv(file.path(here, paste0(name, "_all_visits.csv")))
  a$arm <- factor(a$arm, levels = c("sham", "dry_needling"))
  res$random_slope_all_visits <- lmer_ref(
    lmerTest::lmer(y ~ arm * visit + (1 + visit | patient_id), data = a, REML = TRUE,
                   control = lmerControl(optimizer = "bobyqa")), sort(unique(a$visit)))
  res$random_slope_all_visits_week <- lmer_week_ref(
    lmerTest::lmer(y ~ arm * week + (1 + week | patient_id), data = a, REML = TRUE,
                   control = lmerControl(optimizer = "bobyqa")), a)
  out[[name]] <- res
}
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path(here, "reference.json"))
cat("wrote", file.path(here, "reference.json"), "\n")
