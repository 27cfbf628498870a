# Reference for the therapist clustering of dno.subgroup_analysis(cluster = "clinician"):
# at visit 6, lmer(y ~ baseline + arm + (1 | clinician), REML) on
# clustered_assessments.csv (scores with a therapist effect, export_subgroups_data.py).
#
#   Rscript tests/reference/subgroups/make_clustering.R   (from the repository root)
suppressPackageStartupMessages({ library(lme4); library(lmerTest) })
here <- "tests/reference/subgroups"
a <- read.csv(file.path(here, "clustered_assessments.csv"), stringsAsFactors = FALSE)
p <- read.csv(file.path(here, "patients.csv"), stringsAsFactors = FALSE)
base <- a[a$visit == 0, c("patient_id", "first_step_pain")]
names(base)[2] <- "baseline"
d <- merge(a[a$visit == 6 & !is.na(a$first_step_pain), ], base, by = "patient_id")
d <- merge(d, p, by = "patient_id")
d$arm <- factor(d$arm, levels = c("sham", "dry_needling"))
m <- lmer(first_step_pain ~ baseline + arm + (1 | clinician), data = d, REML = TRUE,
          control = lmerControl(optimizer = "bobyqa"))
vc <- as.data.frame(VarCorr(m))
s <- summary(m)$coefficients
out <- data.frame(n_patients = nrow(d), n_clusters = length(unique(d$clinician)),
                  variance_cluster = vc$vcov[vc$grp == "clinician"],
                  variance_residual = vc$vcov[vc$grp == "Residual"],
                  estimate = s["armdry_needling", "Estimate"],
                  std_error = s["armdry_needling", "Std. Error"],
                  df = s["armdry_needling", "df"], loglik = as.numeric(logLik(m)))
out$icc <- out$variance_cluster / (out$variance_cluster + out$variance_residual)
write.csv(out, file.path(here, "clustering.csv"), row.names = FALSE)
print(out, digits = 10)
cat(R.version.string, "lme4", as.character(packageVersion("lme4")), "lmerTest",
    as.character(packageVersion("lmerTest")), "\n")
