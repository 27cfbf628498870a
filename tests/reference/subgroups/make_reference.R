# Reference for dno.subgroup_analysis: the arm difference at visit 6 within each level
# of a subgroup, the F test of the arm x subgroup interaction at visit 6, the
# continuous-scale interaction, and the fixed-effect heterogeneity (Q, I2) of the
# levels' differences.
#
#   Rscript tests/reference/subgroups/make_reference.R   (from the repository root)
#
# Model (one per subgroup variable S), REML with an unstructured covariance over visits:
#   gls(y ~ baseline + baseline:visit + arm * visit * S,
#       correlation = corSymm(form = ~ vidx | patient_id),
#       weights = varIdent(form = ~ 1 | visit))
# Contrasts: emmeans(m, ~ arm | S * visit) -> revpairwise (dry_needling - sham) at
# visit 6; interaction: contrast(interaction = c("revpairwise", "trt.vs.ctrl1")) at
# visit 6 tested jointly (test(joint = TRUE)); its F does not depend on emmeans' df mode
# (df.error here: residual df, not compared). Continuous: S numeric, emtrends of the arm
# difference on S at visit 6. Heterogeneity: metafor::rma(yi, vi, method = "FE") on R's
# own per-level estimates and squared SEs.
suppressPackageStartupMessages({ library(nlme); library(emmeans); library(metafor) })
here <- "tests/reference/subgroups"
a <- read.csv(file.path(here, "assessments.csv"), stringsAsFactors = FALSE)
p <- read.csv(file.path(here, "patients.csv"), stringsAsFactors = FALSE)
base <- a[a$visit == 0, c("patient_id", "first_step_pain")]
names(base)[2] <- "baseline"
d <- merge(a[a$visit >= 1 & !is.na(a$first_step_pain), ], base, by = "patient_id")
d <- merge(d, p, by = "patient_id")
names(d)[names(d) == "first_step_pain"] <- "y"
d <- d[order(d$patient_id, d$visit), ]
d$arm <- factor(d$arm, levels = c("sham", "dry_needling"))
d$vidx <- d$visit
d$visit <- factor(d$visit)
ctl <- glsControl(maxIter = 500, msMaxIter = 500, tolerance = 1e-10, msTol = 1e-10)
fit <- function(dd) {
  gls(y ~ baseline + baseline:visit + arm * visit * S, data = dd,
      correlation = corSymm(form = ~ vidx | patient_id),
      weights = varIdent(form = ~ 1 | visit), method = "REML", control = ctl)
}
pats <- d[!duplicated(d$patient_id), ]
subgroups <- list(
  site = function(x) x$site, sex = function(x) x$sex, age_group = function(x) x$age_group,
  # pre-specified cut (12 months) and the median split of the modelled patients' values
  symptom_months = function(x) ifelse(x$symptom_months < 12, "< 12", ">= 12"),
  baseline = function(x) {
    m <- median(pats$baseline)
    ifelse(x$baseline < m, paste("<", format(m)), paste(">=", format(m)))
  })
levels_out <- list(); tests_out <- list(); het_out <- list()
for (name in names(subgroups)) {
  dd <- d
  cat(name, "\n")
  dd$S <- factor(subgroups[[name]](dd))
  m <- fit(dd)
  emm <- emmeans(m, ~ arm | S * visit, mode = "df.error")
  con <- as.data.frame(contrast(emm, method = "revpairwise", by = c("S", "visit")))
  con <- con[con$visit == "6", ]
  levels_out[[name]] <- data.frame(subgroup = name, level = as.character(con$S),
                                   estimate = con$estimate, std_error = con$SE,
                                   loglik = as.numeric(logLik(m)))
  int <- contrast(emm, interaction = c("revpairwise", "trt.vs.ctrl1"), by = "visit")
  jt <- as.data.frame(test(int, joint = TRUE, by = "visit"))
  jt <- jt[jt$visit == "6", ]
  # emmeans prints F.ratio to 3 decimals: the Wald F in full precision from the same
  # interaction contrasts (emmeans' linfct) and gls's coef and vcov
  L <- int@linfct[as.character(int@grid$visit) == "6", , drop = FALSE]
  est <- L %*% coef(m)
  Fstat <- as.numeric(t(est) %*% solve(L %*% vcov(m) %*% t(L), est)) / nrow(L)
  tests_out[[name]] <- data.frame(subgroup = name, scale = "levels", num_df = jt$df1,
                                  statistic = Fstat, F_ratio_emmeans = jt$F.ratio)
  h <- rma(yi = con$estimate, vi = con$SE^2, method = "FE")
  het_out[[name]] <- data.frame(subgroup = name, estimate = as.numeric(h$beta),
                                std_error = h$se, Q = h$QE, Q_df = h$k - 1,
                                Q_p_value = h$QEp, I2 = h$I2 / 100)
}
for (name in c("symptom_months", "baseline")) {
  dd <- d
  dd$S <- dd[[name]]
  # the baseline is already a covariate (with baseline:visit): S = baseline would
  # duplicate those columns, which gls refuses (singular); the model is the same
  m <- if (name == "baseline") {
    gls(y ~ baseline + baseline:visit + arm * visit + arm:baseline + arm:visit:baseline,
        data = dd, correlation = corSymm(form = ~ vidx | patient_id),
        weights = varIdent(form = ~ 1 | visit), method = "REML", control = ctl)
  } else fit(dd)
  tr <- emtrends(m, ~ arm | visit, var = if (name == "baseline") "baseline" else "S",
                 mode = "df.error")
  ct <- as.data.frame(contrast(tr, method = "revpairwise", by = "visit"))
  ct <- ct[ct$visit == "6", ]
  tests_out[[paste(name, "continuous")]] <- data.frame(
    subgroup = name, scale = "continuous", num_df = 1, statistic = ct$t.ratio^2,
    F_ratio_emmeans = NA)
}
write.csv(do.call(rbind, levels_out), file.path(here, "levels.csv"), row.names = FALSE)
write.csv(do.call(rbind, tests_out), file.path(here, "interaction.csv"), row.names = FALSE)
write.csv(do.call(rbind, het_out), file.path(here, "heterogeneity.csv"), row.names = FALSE)
print(do.call(rbind, levels_out), digits = 10)
print(do.call(rbind, tests_out), digits = 10)
print(do.call(rbind, het_out), digits = 10)
cat(R.version.string, "nlme", as.character(packageVersion("nlme")), "emmeans",
    as.character(packageVersion("emmeans")), "metafor",
    as.character(packageVersion("metafor")), "\n")
