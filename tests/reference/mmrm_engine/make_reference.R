# Golden values for tests/test_mmrm_engine.py (the MMRM engine, dryneedle_outcomes.stats.mixed.mmrm).
#
# Run from the repository root:
#   python tests/reference/mmrm_engine/make_trial_data.py   # writes trial.csv (fixed seed)
#   Rscript tests/reference/mmrm_engine/make_reference.R    # writes orthodont.csv, reference.json
#
# Every fitted number is stored next to the R call that produced it. Numbers are written
# with 15 significant digits (jsonlite digits = I(15)); matrices are row-major arrays.
suppressPackageStartupMessages({
  library(nlme)
  library(lme4)
  library(pbkrtest)
  library(emmeans)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
emm_options(msg.interaction = FALSE)
# glsControl(natural = FALSE) for corSymm fits: it changes nothing in the fit, only the
# parametrisation of m$apVar, and lets emmeans use its analytical Satterthwaite method
# (with the default natural = TRUE emmeans falls back to "appx-satterthwaite", which
# refits the model many times and is a cruder approximation).

# ---- data -------------------------------------------------------------------------------
orthodont <- as.data.frame(Orthodont)
orthodont$Subject <- as.character(orthodont$Subject)
orthodont$Sex <- factor(as.character(orthodont$Sex), levels = c("Male", "Female"))
orthodont$visit <- as.integer(factor(orthodont$age))          # 8, 10, 12, 14 -> 1..4
write.csv(orthodont[, c("Subject", "Sex", "age", "visit", "distance")],
          file.path(here, "orthodont.csv"), row.names = FALSE)

trial <- read.csv(file.path(here, "trial.csv"), stringsAsFactors = FALSE)
trial$arm <- factor(trial$arm, levels = c("control", "dry_needling"))

# ---- helpers ----------------------------------------------------------------------------
mat <- function(m) unname(if (isS4(m)) as.matrix(m) else as.matrix(unclass(m)))

fit_gls <- function(call_text, complete_subject, spec, by, contrast_by) {
  m <- eval(parse(text = call_text), envir = globalenv())
  fine <- NULL
  if (grepl("REML", call_text)) {
    # the same fit with nlme's apVar Hessian taken with a larger finite-difference step:
    # shows how much of emmeans' Satterthwaite df is numerical noise (see the tests)
    fine_call <- if (grepl("glsControl", call_text)) {
      sub("glsControl(natural = FALSE)", "glsControl(natural = FALSE, .relStep = 1e-4)",
          call_text, fixed = TRUE)
    } else {
      sub(")$", ", control = glsControl(.relStep = 1e-4))", call_text)
    }
    mf <- eval(parse(text = fine_call), envir = globalenv())
    ef <- emmeans(mf, as.formula(spec), mode = "satterthwaite")
    fine <- list(call = fine_call,
                 emmeans_df = as.data.frame(summary(ef))$df,
                 contrasts_df = as.data.frame(summary(pairs(ef, reverse = TRUE)))$df)
  }
  S <- getVarCov(m, individual = complete_subject)
  emm_call <- sprintf("emmeans(m, %s, mode = \"satterthwaite\")", spec)
  emm <- eval(parse(text = emm_call))
  es <- as.data.frame(summary(emm))
  pr <- pairs(emm, reverse = TRUE)
  ps <- as.data.frame(summary(pr))
  list(
    call = call_text,
    coef = list(call = "coef(m)", names = names(coef(m)), value = unname(coef(m))),
    se = list(call = "sqrt(diag(vcov(m)))", value = unname(sqrt(diag(vcov(m))))),
    vcov = list(call = "vcov(m)", value = mat(vcov(m))),
    logLik = list(call = "logLik(m)", value = as.numeric(logLik(m)),
                  df = attr(logLik(m), "df")),
    AIC = list(call = "AIC(m)", value = AIC(m)),
    Sigma = list(call = sprintf("getVarCov(m, individual = \"%s\")", complete_subject),
                 value = mat(S)),
    sigma = list(call = "m$sigma", value = m$sigma),
    n_cov_params = list(call = "length(coef(m$modelStruct)) + 1",
                        value = length(coef(m$modelStruct)) + 1),
    emmeans = list(
      call = emm_call,
      linfct = mat(emm@linfct),
      grid = emm@grid[, setdiff(names(emm@grid), ".wgt."), drop = FALSE],
      estimate = es$emmean, se = es$SE, df = es$df
    ),
    contrasts = list(
      call = "pairs(emm, reverse = TRUE)",
      label = as.character(ps$contrast), by = as.character(ps[[contrast_by]]),
      linfct = mat(pr@linfct),
      estimate = ps$estimate, se = ps$SE, df = ps$df
    ),
    relstep_1e4 = fine
  )
}

kr_lmer <- function(call_text, L1_names, L2_names) {
  m <- eval(parse(text = call_text), envir = globalenv())
  b <- fixef(m)
  p <- length(b)
  L1 <- matrix(0, 1, p, dimnames = list(NULL, names(b)))
  L1[1, L1_names] <- 1
  L2 <- matrix(0, length(L2_names), p, dimnames = list(NULL, names(b)))
  for (i in seq_along(L2_names)) L2[i, L2_names[i]] <- 1
  Va <- vcovAdj(m)
  V0 <- vcov(m)
  k1 <- KRmodcomp(m, L1)$test
  k2 <- KRmodcomp(m, L2)$test
  vc <- as.data.frame(VarCorr(m))
  krrow <- function(k) list(ndf = k["Ftest", "ndf"], ddf = k["Ftest", "ddf"],
                            F = k["Ftest", "stat"], F_scaling = k["Ftest", "F.scaling"],
                            F_unscaled = k["FtestU", "stat"], p_value = k["Ftest", "p.value"])
  list(
    call = call_text,
    names = names(b),
    fixef = list(call = "fixef(m)", value = unname(b)),
    vcov = list(call = "as.matrix(vcov(m))", value = mat(V0)),
    logLik = list(call = "logLik(m)", value = as.numeric(logLik(m))),
    varcorr = list(call = "as.data.frame(VarCorr(m))$vcov (intercept, residual)",
                   value = vc$vcov),
    vcov_adj = list(call = "as.matrix(pbkrtest::vcovAdj(m))", value = mat(Va)),
    L1 = list(names = L1_names, value = mat(L1),
              krmodcomp = c(list(call = "pbkrtest::KRmodcomp(m, L1)$test"), krrow(k1)),
              lb_ddf = list(call = "pbkrtest::Lb_ddf(L1, vcov(m), vcovAdj(m))",
                            value = Lb_ddf(L1, V0, Va)),
              var_adj = list(call = "L1 %*% vcovAdj(m) %*% t(L1)",
                             value = as.numeric(L1 %*% Va %*% t(L1)))),
    L2 = list(names = L2_names, value = mat(L2),
              krmodcomp = c(list(call = "pbkrtest::KRmodcomp(m, L2)$test"), krrow(k2)))
  )
}

first_complete <- function(d, id, visit, n_visits) {
  cnt <- table(d[[id]])
  names(cnt)[cnt == n_visits][1]
}

# ---- Orthodont --------------------------------------------------------------------------
ort_fits <- list()
ort_calls <- c(
  unstructured = paste0(
    "gls(distance ~ Sex * factor(age), data = orthodont, ",
    "correlation = corSymm(form = ~ visit | Subject), ",
    "weights = varIdent(form = ~ 1 | factor(age)), method = \"REML\", ",
    "control = glsControl(natural = FALSE))"),
  cs = paste0(
    "gls(distance ~ Sex * factor(age), data = orthodont, ",
    "correlation = corCompSymm(form = ~ 1 | Subject), method = \"REML\")"),
  ar1 = paste0(
    "gls(distance ~ Sex * factor(age), data = orthodont, ",
    "correlation = corAR1(form = ~ visit | Subject), method = \"REML\")"),
  cs_hetero = paste0(
    "gls(distance ~ Sex * factor(age), data = orthodont, ",
    "correlation = corCompSymm(form = ~ 1 | Subject), ",
    "weights = varIdent(form = ~ 1 | factor(age)), method = \"REML\")"),
  ar1_hetero = paste0(
    "gls(distance ~ Sex * factor(age), data = orthodont, ",
    "correlation = corAR1(form = ~ visit | Subject), ",
    "weights = varIdent(form = ~ 1 | factor(age)), method = \"REML\")"),
  unstructured_ml = paste0(
    "gls(distance ~ Sex * factor(age), data = orthodont, ",
    "correlation = corSymm(form = ~ visit | Subject), ",
    "weights = varIdent(form = ~ 1 | factor(age)), method = \"ML\", ",
    "control = glsControl(natural = FALSE))")
)
ocomplete <- first_complete(orthodont, "Subject", "visit", 4)
for (s in names(ort_calls)) {
  ort_fits[[s]] <- fit_gls(ort_calls[[s]], ocomplete, "~ Sex | age", "age", "age")
}
ort_kr <- kr_lmer(
  "lmer(distance ~ Sex * factor(age) + (1 | Subject), data = orthodont, REML = TRUE)",
  c("SexFemale", "SexFemale:factor(age)14"),
  c("SexFemale:factor(age)10", "SexFemale:factor(age)12", "SexFemale:factor(age)14"))

# ---- simulated trial --------------------------------------------------------------------
tri_fits <- list()
tri_calls <- c(
  unstructured = paste0(
    "gls(y ~ base + arm * factor(visit), data = trial, ",
    "correlation = corSymm(form = ~ visit | id), ",
    "weights = varIdent(form = ~ 1 | factor(visit)), method = \"REML\", ",
    "control = glsControl(natural = FALSE))"),
  cs = paste0(
    "gls(y ~ base + arm * factor(visit), data = trial, ",
    "correlation = corCompSymm(form = ~ 1 | id), method = \"REML\")"),
  ar1 = paste0(
    "gls(y ~ base + arm * factor(visit), data = trial, ",
    "correlation = corAR1(form = ~ visit | id), method = \"REML\")"),
  cs_hetero = paste0(
    "gls(y ~ base + arm * factor(visit), data = trial, ",
    "correlation = corCompSymm(form = ~ 1 | id), ",
    "weights = varIdent(form = ~ 1 | factor(visit)), method = \"REML\")"),
  ar1_hetero = paste0(
    "gls(y ~ base + arm * factor(visit), data = trial, ",
    "correlation = corAR1(form = ~ visit | id), ",
    "weights = varIdent(form = ~ 1 | factor(visit)), method = \"REML\")")
)
tcomplete <- first_complete(trial, "id", "visit", 6)
for (s in names(tri_calls)) {
  tri_fits[[s]] <- fit_gls(tri_calls[[s]], tcomplete, "~ arm | visit", "visit", "visit")
}
tri_kr <- kr_lmer(
  "lmer(y ~ base + arm * factor(visit) + (1 | id), data = trial, REML = TRUE)",
  c("armdry_needling", "armdry_needling:factor(visit)6"),
  paste0("armdry_needling:factor(visit)", 2:6))

out <- list(
  generated_by = "tests/reference/mmrm_engine/make_reference.R",
  versions = list(R = R.version.string,
                  nlme = as.character(packageVersion("nlme")),
                  lme4 = as.character(packageVersion("lme4")),
                  pbkrtest = as.character(packageVersion("pbkrtest")),
                  emmeans = as.character(packageVersion("emmeans")),
                  jsonlite = as.character(packageVersion("jsonlite"))),
  orthodont = list(data = "orthodont.csv", group = "Subject",
                   visit = "visit (1..4 = age 8, 10, 12, 14)",
                   complete_subject = ocomplete, fits = ort_fits, kr = ort_kr),
  trial = list(data = "trial.csv", group = "id", visit = "visit (1..6)",
               complete_subject = tcomplete, fits = tri_fits, kr = tri_kr)
)
writeLines(toJSON(out, digits = I(15), auto_unbox = TRUE, pretty = TRUE, na = "null"),
           file.path(here, "reference.json"))
cat("wrote", file.path(here, "reference.json"), "\n")
