# Golden values for TrajectoryResult.type3 and the sandwich covariances, from lmerTest
# (Type III anova of lmer fits, Satterthwaite and Kenward-Roger df) and clubSandwich
# (CR0 and CR3 covariance of nlme::gls fits and the Satterthwaite df of each coefficient
# under them), on the model frames of ../trajectory/.
#
#   Rscript tests/reference/trajectory_type3/make_reference.R   (from the repository root)
#
# Writes reference.json; each number is stored under the R expression that produced it.
suppressPackageStartupMessages({
  library(lme4); library(lmerTest); library(nlme); library(clubSandwich); library(jsonlite)
})
here <- "tests/reference/trajectory_type3"
frames <- "tests/reference/trajectory"

type3 <- function(m, ddf) {
  a <- as.data.frame(anova(m, type = "III", ddf = ddf))
  list(term = rownames(a), num_df = a$NumDF, den_df = a$DenDF, statistic = a$`F value`,
       p_value = a$`Pr(>F)`)
}
lmer_fit <- function(f, d) {
  lmerTest::lmer(f, data = d, REML = TRUE, control = lmerControl(optimizer = "bobyqa"))
}
sandwich <- function(m) {
  list(call = paste(deparse(m$call), collapse = " "), terms = names(coef(m)),
       `coef(m)` = unname(coef(m)),
       `vcovCR(m, type = "CR0")` = unname(as.matrix(vcovCR(m, type = "CR0"))),
       `vcovCR(m, type = "CR3")` = unname(as.matrix(vcovCR(m, type = "CR3"))),
       `coef_test(m, vcov = "CR0", test = "Satterthwaite")$df_Satt` =
         coef_test(m, vcov = "CR0", test = "Satterthwaite")$df_Satt,
       `coef_test(m, vcov = "CR3", test = "Satterthwaite")$df_Satt` =
         coef_test(m, vcov = "CR3", test = "Satterthwaite")$df_Satt)
}

out <- list(R = R.version.string,
            packages = lapply(c("lme4", "lmerTest", "pbkrtest", "nlme", "clubSandwich"),
                              function(p) as.character(packageVersion(p))))
for (name in c("sample", "dropout")) {
  d <- read.csv(file.path(frames, paste0(name, "_ancova.csv")))
  d$arm <- factor(d$arm, levels = c("sham", "dry_needling"))
  visits <- sort(unique(d$visit))
  d$vidx <- match(d$visit, visits)
  dm <- d; dm$visit <- factor(dm$visit)
  res <- list()
  ri <- lmer_fit(y ~ baseline + arm * visit + (1 | patient_id), d)
  rs <- lmer_fit(y ~ baseline + arm * visit + (1 + visit | patient_id), d)
  sm <- lmer_fit(y ~ baseline + arm * visit + (1 | patient_id), dm)
  res$random_intercept <- type3(ri, "Satterthwaite")
  res$random_slope <- type3(rs, "Satterthwaite")
  res$session_means <- type3(sm, "Satterthwaite")
  # a compound-symmetry MMRM is the random-intercept model with visit as a factor:
  # Kenward-Roger Type III (pbkrtest's scaled F and df, via lmerTest)
  res$mmrm_cs_kenward_roger <- type3(sm, "Kenward-Roger")
  ctl <- glsControl(maxIter = 500, msMaxIter = 500, tolerance = 1e-10)
  res$mmrm_unstructured <- sandwich(
    gls(y ~ baseline + arm * visit, data = dm, method = "REML",
        correlation = corSymm(form = ~ vidx | patient_id),
        weights = varIdent(form = ~ 1 | visit), control = ctl))
  res$mmrm_cs <- sandwich(
    gls(y ~ baseline + arm * visit, data = dm, method = "REML",
        correlation = corCompSymm(form = ~ 1 | patient_id)))
  res$mmrm_ar1 <- sandwich(
    gls(y ~ baseline + arm * visit, data = dm, method = "REML",
        correlation = corAR1(form = ~ vidx | patient_id)))
  out[[name]] <- res
}
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path(here, "reference.json"))
cat("wrote", file.path(here, "reference.json"), "\n")
