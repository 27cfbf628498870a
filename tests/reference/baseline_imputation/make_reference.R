# Reference for fit_trajectory(..., model = "mmrm", missing_baseline = "mean"):
# the baseline of patients without one is the mean of the observed baselines (both arms
# pooled, one value per patient; White & Thompson 2005, Stat Med 24:993-1007), then an
# MMRM with unstructured covariance by REML (nlme::gls, corSymm + varIdent), the
# baseline and baseline-by-visit as covariates, and the arm difference at each visit.
#
#   Rscript tests/reference/baseline_imputation/make_reference.R   (from the repo root)
suppressPackageStartupMessages({ library(nlme); library(emmeans) })
here <- "tests/reference/baseline_imputation"
d <- read.csv(file.path(here, "data.csv"), stringsAsFactors = FALSE)
base <- d[d$visit == 0, c("patient_id", "first_step_pain")]
names(base)[2] <- "baseline"
d <- merge(d[d$visit >= 1, ], base, by = "patient_id", all.x = TRUE)
bmean <- mean(base$baseline, na.rm = TRUE)
n_imputed <- length(unique(d$patient_id[is.na(d$baseline)]))
d$baseline[is.na(d$baseline)] <- bmean
d <- d[!is.na(d$first_step_pain), ]
d <- d[order(d$patient_id, d$visit), ]
d$arm <- factor(d$arm, levels = c("sham", "dry_needling"))
d$visit <- factor(d$visit)
m <- gls(first_step_pain ~ baseline + arm * visit + baseline:visit, data = d,
         correlation = corSymm(form = ~ as.integer(visit) | patient_id),
         weights = varIdent(form = ~ 1 | visit), method = "REML",
         control = glsControl(maxIter = 200, msMaxIter = 200, tolerance = 1e-10,
                              msTol = 1e-10))
emm <- emmeans(m, ~ arm | visit, mode = "df.error")
con <- as.data.frame(summary(contrast(emm, method = "revpairwise")))
out <- data.frame(visit = as.numeric(as.character(con$visit)), estimate = con$estimate,
                  std_error = con$SE, baseline_mean = bmean, n_imputed = n_imputed,
                  n_patients = length(unique(d$patient_id)), n_observations = nrow(d),
                  loglik = as.numeric(logLik(m)))
write.csv(out, file.path(here, "gls_mean_imputed.csv"), row.names = FALSE)
print(out, digits = 10)
cat(R.version.string, "nlme", as.character(packageVersion("nlme")), "emmeans",
    as.character(packageVersion("emmeans")), "\n")
