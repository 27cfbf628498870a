# Reference values for tests/test_interval_test.py that hold EXACTLY by theory
# (see README.md here for the theory of each comparison). The published ictest
# numbers (Fay & Shaw 2010) are in published.csv, copied by hand, not made here.
# Run from the repository root:
#   Rscript tests/reference/interval_test/make_reference.R
# R 4.2.2, survival 3.5-3, jsonlite; datasets::ChickWeight, survival::aml, survival::lung.
suppressPackageStartupMessages({library(survival); library(jsonlite)})
stopifnot(packageVersion("survival") == "3.5.3")
dir <- "tests/reference/interval_test"
out <- list()

# ---- data written for the Python tests -----------------------------------------
aml <- survival::aml                                   # 23 patients, 2 arms, ties
write.csv(aml, file.path(dir, "aml.csv"), row.names = FALSE)
lung <- subset(survival::lung, !is.na(ph.ecog) & ph.ecog < 3,   # ph.ecog 3: 1 patient;
               select = c(time, status, sex, ph.ecog))          # NA: 1 patient (excluded)
write.csv(lung, file.path(dir, "lung.csv"), row.names = FALSE)
chick <- subset(datasets::ChickWeight, Time == 21, select = c(weight, Diet))
write.csv(chick, file.path(dir, "chickweight21.csv"), row.names = FALSE)
# the fake four-arm assignment of the ictest k-sample example (Fay & Shaw 2010, 4.3):
# set.seed(1232); sample(letters[1:4], nrow(bcos), replace = TRUE), R >= 3.6 sampling
set.seed(1232)
fake <- sample(letters[1:4], 94, replace = TRUE)
write.csv(data.frame(fake_group = fake), file.path(dir, "bcos_fake_groups.csv"),
          row.names = FALSE)

# ---- 1. survdiff: log-rank (rho = 0) and Peto-Peto (rho = 1) observed - expected ---
oe <- function(sd) { d <- sd$obs - sd$exp; if (is.matrix(d)) rowSums(d) else as.numeric(d) }  # summed over strata
out$aml_survdiff_rho0 <- oe(survdiff(Surv(time, status) ~ x, data = aml))
out$aml_survdiff_rho1 <- oe(survdiff(Surv(time, status) ~ x, data = aml, rho = 1))
out$aml_groups <- levels(aml$x)
sd <- survdiff(Surv(time, status) ~ ph.ecog + strata(sex), data = lung)
out$lung_strat_survdiff_rho0 <- oe(sd)
sd1 <- survdiff(Surv(time, status) ~ ph.ecog + strata(sex), data = lung, rho = 1)
out$lung_strat_survdiff_rho1 <- oe(sd1)

# ---- 2. Sun's score test = Rao score test of the discrete logistic hazard model ---
# person-period rows: each patient at risk at every event time <= its own time
# (within its stratum), event = 1 on the row of its own event time.
pp <- function(time, event, group, strat) {
  out <- list()
  for (s in unique(strat)) {
    i <- which(strat == s)
    et <- sort(unique(time[i][event[i] == 1]))
    for (r in i) {
      at <- et[et <= time[r]]
      if (length(at) == 0) next
      out[[length(out) + 1]] <- data.frame(
        tt = paste(s, at), y = as.integer(event[r] == 1 & at == time[r]),
        group = group[r], strat = s)
    }
  }
  do.call(rbind, out)
}
rao <- function(d) {
  d$group <- factor(d$group)
  # IRLS run to convergence: the default epsilon = 1e-8 leaves the Rao statistic ~2e-5 off
  ctl <- glm.control(epsilon = 1e-14, maxit = 100)
  m0 <- glm(y ~ factor(tt), family = binomial, data = d, control = ctl)
  m1 <- glm(y ~ factor(tt) + group, family = binomial, data = d, control = ctl)
  a <- anova(m0, m1, test = "Rao")
  list(statistic = a$Rao[2], df = a$Df[2], p_value = a[["Pr(>Chi)"]][2])
}
aml_pp <- pp(aml$time, aml$status, as.character(aml$x), rep("all", nrow(aml)))
out$aml_rao_logistic <- rao(aml_pp)
lung_pp <- pp(lung$time, lung$status - 1, as.character(lung$ph.ecog), lung$sex)
out$lung_strat_rao_logistic <- rao(lung_pp)

# ---- 3. WMW scores on exact times are linear in the mid-ranks: Kruskal-Wallis -----
dead <- subset(lung, status == 2)
kw <- kruskal.test(time ~ factor(ph.ecog), data = dead)
out$lung_dead_kruskal <- list(statistic = unname(kw$statistic), df = unname(kw$parameter),
                              p_value = kw$p.value)
kw2 <- kruskal.test(time ~ factor(sex), data = dead)
out$lung_dead_kruskal_sex <- list(statistic = unname(kw2$statistic),
                                  df = unname(kw2$parameter), p_value = kw2$p.value)

out$R <- R.version.string
out$survival <- as.character(packageVersion("survival"))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path(dir, "reference.json"))
