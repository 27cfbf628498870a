# Reference for the Kenward-Roger F test of the arm x subgroup interaction at visit 6:
# a compound-symmetry MMRM is the random-intercept model with visit as a factor, so
#   lmer(y ~ baseline + baseline:visit + arm * visit * S + (1 | patient_id), REML)
# with pbkrtest::KRmodcomp(m, L), L = the interaction contrasts at visit 6 (emmeans'
# linfct of contrast(interaction = c("revpairwise", "trt.vs.ctrl1"))), for site (1 df)
# and age_group (2 df). pbkrtest uses the expected information of the variance
# parameters, the engine (as SAS and R's mmrm) the observed one: they differ with
# missing visits (tests/test_trajectory.py: up to 2.3e-4 in SEs).
#
#   Rscript tests/reference/subgroups/make_kenward_roger.R   (from the repository root)
suppressPackageStartupMessages({ library(lme4); library(pbkrtest); library(emmeans) })
here <- "tests/reference/subgroups"
a <- read.csv(file.path(here, "assessments.csv"), stringsAsFactors = FALSE)
p <- read.csv(file.path(here, "patients.csv"), stringsAsFactors = FALSE)
base <- a[a$visit == 0, c("patient_id", "first_step_pain")]
names(base)[2] <- "baseline"
d <- merge(a[a$visit >= 1 & !is.na(a$first_step_pain), ], base, by = "patient_id")
d <- merge(d, p, by = "patient_id")
names(d)[names(d) == "first_step_pain"] <- "y"
d$arm <- factor(d$arm, levels = c("sham", "dry_needling"))
d$visit <- factor(d$visit)
emm_options(pbkrtest.limit = 0, lmerTest.limit = 0)
rows <- list()
for (name in c("site", "age_group")) {
  d$S <- factor(d[[name]])
  m <- lmer(y ~ baseline + baseline:visit + arm * visit * S + (1 | patient_id), data = d,
            REML = TRUE, control = lmerControl(optimizer = "bobyqa"))
  emm <- emmeans(m, ~ arm | S * visit, lmer.df = "asymptotic")
  int <- contrast(emm, interaction = c("revpairwise", "trt.vs.ctrl1"), by = "visit")
  L <- int@linfct[as.character(int@grid$visit) == "6", , drop = FALSE]
  kr <- KRmodcomp(m, L)
  st <- kr$stats
  rows[[name]] <- data.frame(subgroup = name, num_df = st$ndf, den_df = st$ddf,
                             statistic = st$Fstat, scaling = st$F.scaling,
                             p_value = st$p.value)
}
out <- do.call(rbind, rows)
write.csv(out, file.path(here, "kenward_roger.csv"), row.names = FALSE)
print(out, digits = 10)
cat(R.version.string, "lme4", as.character(packageVersion("lme4")), "pbkrtest",
    as.character(packageVersion("pbkrtest")), "emmeans",
    as.character(packageVersion("emmeans")), "\n")
