# Golden values for tests/test_survival_km.py (Kaplan-Meier and log-rank engines).
# Run from the repo root:  Rscript tests/reference/survival_km/make_reference.R
# R 4.2, survival 3.5-3, jsonlite. Inputs: survival::lung and survival::aml (written
# here to lung.csv / aml.csv), tied.csv (simulate_tied_survival.py) and edge_cases.csv.
# lung has one NA in ph.ecog: the stratified / by-ecog tests exclude that row
# explicitly (subset(lung, !is.na(ph.ecog))), and the Python test does the same.
suppressPackageStartupMessages({library(survival); library(jsonlite)})
stopifnot(packageVersion("survival") == "3.5.3")
dir <- "tests/reference/survival_km"

lung <- survival::lung
aml <- survival::aml
write.csv(lung, file.path(dir, "lung.csv"), row.names = FALSE)
write.csv(aml, file.path(dir, "aml.csv"), row.names = FALSE)
tied <- read.csv(file.path(dir, "tied.csv"))
edge <- read.csv(file.path(dir, "edge_cases.csv"))

conf_types <- c("log-log", "log", "plain")

# one Kaplan-Meier curve: every table column for each conf.type, both median rules,
# summary(fit, times=) and survmean's restricted mean
km_ref <- function(time, event, weights = NULL, taus) {
  d <- data.frame(time = time, event = event)
  if (!is.null(weights)) d$w <- weights
  # evaluation grid: 0, 13 rounded steps past the last time, and every observed time
  grid <- sort(unique(c(0, round(seq(0, max(time) * 1.1, length.out = 13), 4), unique(time))))
  out <- list(times = grid, taus = taus)
  for (ct in conf_types) {
    fit <- if (is.null(weights)) survfit(Surv(time, event) ~ 1, data = d, conf.type = ct)
           else survfit(Surv(time, event) ~ 1, data = d, weights = w, conf.type = ct)
    # std.err on the log scale: fit$std.err when fit$logse, else std.err / surv
    # (survfit_confint's own conversion: ifelse(se == 0, 0, se / p))
    se <- if (fit$logse) fit$std.err else ifelse(fit$std.err == 0, 0, fit$std.err / fit$surv)
    q <- quantile(fit, 0.5)                       # quantile.survfit
    pm <- survival:::survmean(fit, rmean = "none")$matrix   # what print(fit) shows
    s <- summary(fit, times = grid, extend = TRUE)
    out[[ct]] <- list(
      table = list(time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event,
                   n_censor = fit$n.censor, estimate = fit$surv, std_error = se,
                   ci_lower = fit$lower, ci_upper = fit$upper),
      logse = fit$logse,
      median_quantile = unname(c(q$quantile, q$lower, q$upper)),
      median_print = unname(pm[c("median", paste0(fit$conf.int, c("LCL", "UCL")))]),
      survival_at = list(estimate = s$surv, ci_lower = s$lower, ci_upper = s$upper),
      at_risk = list(n_at_risk = s$n.risk, n_events = cumsum(s$n.event),
                     n_censored = cumsum(s$n.censor)))
  }
  fit <- if (is.null(weights)) survfit(Surv(time, event) ~ 1, data = d)
         else survfit(Surv(time, event) ~ 1, data = d, weights = w)
  # print(fit, rmean = tau) shows survmean(fit, rmean = tau): rmean and se(rmean)
  rm <- lapply(taus, function(tau) {
    m <- survival:::survmean(fit, rmean = tau)$matrix
    c(unname(m["rmean"]), unname(m["se(rmean)"]))
  })
  out$rmst <- list(estimate = sapply(rm, `[`, 1), std_error = sapply(rm, `[`, 2))
  out
}

# survdiff: statistic, df, p-value, the printed table and the variance matrix
lr_ref <- function(formula, data, rho = 0) {
  sd <- survdiff(formula, data = data, rho = rho)
  o <- if (is.matrix(sd$obs)) rowSums(sd$obs) else sd$obs
  e <- if (is.matrix(sd$exp)) rowSums(sd$exp) else sd$exp
  df <- sum(e > 0) - 1
  list(statistic = sd$chisq, df = df, p_value = pchisq(sd$chisq, df, lower.tail = FALSE),
       group = sub("^[^=]*=", "", names(sd$n)), n = as.vector(sd$n), observed = o,
       expected = e, o_minus_e_sq_over_e = (o - e)^2 / e,
       o_minus_e_sq_over_v = (o - e)^2 / diag(sd$var), variance = sd$var)
}

ref <- list(meta = list(R = R.version.string,
                        survival = as.character(packageVersion("survival"))))
lung$event <- lung$status - 1
lung_ecog <- subset(lung, !is.na(ph.ecog))     # 1 row with NA ph.ecog excluded explicitly
km <- list()
km$lung <- km_ref(lung$time, lung$event, taus = c(365, 730, max(lung$time)))
km$lung_sex1 <- with(subset(lung, sex == 1), km_ref(time, event, taus = c(365, 730)))
km$lung_sex2 <- with(subset(lung, sex == 2), km_ref(time, event, taus = c(365, 730)))
km$aml <- km_ref(aml$time, aml$status, taus = c(24, 48, 161))
km$aml_maintained <- with(subset(aml, x == "Maintained"), km_ref(time, status, taus = c(24, 48)))
km$aml_nonmaintained <- with(subset(aml, x == "Nonmaintained"),
                             km_ref(time, status, taus = c(24, 48)))
km$tied <- km_ref(tied$time, tied$event, taus = c(28, 56, 84))
km$tied_control <- with(subset(tied, arm == "control"), km_ref(time, event, taus = c(42, 84)))
km$tied_needling <- with(subset(tied, arm == "needling"), km_ref(time, event, taus = c(42, 84)))
km$tied_session <- km_ref(tied$session, tied$event, taus = c(3, 6))
km$tied_wt_int <- km_ref(tied$time, tied$event, weights = tied$wt_int, taus = c(42, 84))
km$tied_wt_frac <- km_ref(tied$time, tied$event, weights = tied$wt_frac, taus = c(42, 84))
for (cs in setdiff(unique(edge$case), "zero_expected")) {
  d <- edge[edge$case == cs, ]
  km[[paste0("edge_", cs)]] <- km_ref(d$time, d$event, taus = c(max(d$time) / 2, max(d$time)))
}

ref$km <- km

# RMST difference of independent arms (a - b): survmean per arm, var = var_a + var_b,
# Wald 95% CI and two-sided z p-value
rmst_diff <- function(a, b, tau) {
  ma <- survival:::survmean(survfit(Surv(time, event) ~ 1, data = a), rmean = tau)$matrix
  mb <- survival:::survmean(survfit(Surv(time, event) ~ 1, data = b), rmean = tau)$matrix
  est <- unname(ma["rmean"] - mb["rmean"])
  se <- unname(sqrt(ma["se(rmean)"]^2 + mb["se(rmean)"]^2))
  list(tau = tau, estimate = est, std_error = se, ci_lower = est - qnorm(0.975) * se,
       ci_upper = est + qnorm(0.975) * se, p_value = 2 * pnorm(-abs(est / se)))
}
aml$event <- aml$status
ref$rmst_difference <- list(
  lung_sex1_minus_sex2_365 = rmst_diff(subset(lung, sex == 1), subset(lung, sex == 2), 365),
  lung_sex1_minus_sex2_730 = rmst_diff(subset(lung, sex == 1), subset(lung, sex == 2), 730),
  aml_maint_minus_non_48 = rmst_diff(subset(aml, x == "Maintained"),
                                     subset(aml, x == "Nonmaintained"), 48),
  tied_needling_minus_control_84 = rmst_diff(subset(tied, arm == "needling"),
                                             subset(tied, arm == "control"), 84))

lr <- list()
lr$lung_sex <- lr_ref(Surv(time, event) ~ sex, lung)
lr$lung_sex_rho1 <- lr_ref(Surv(time, event) ~ sex, lung, rho = 1)
lr$lung_sex_strata_ecog <- lr_ref(Surv(time, event) ~ sex + strata(ph.ecog), lung_ecog)
lr$lung_ecog <- lr_ref(Surv(time, event) ~ ph.ecog, lung_ecog)
lr$aml_x <- lr_ref(Surv(time, status) ~ x, aml)
lr$tied_arm <- lr_ref(Surv(time, event) ~ arm, tied)
lr$tied_arm_rho_half <- lr_ref(Surv(time, event) ~ arm, tied, rho = 0.5)
lr$tied_arm_strata_site <- lr_ref(Surv(time, event) ~ arm + strata(site), tied)
lr$tied_arm_strata_site_rho1 <- lr_ref(Surv(time, event) ~ arm + strata(site), tied, rho = 1)
lr$tied_session_arm <- lr_ref(Surv(session, event) ~ arm, tied)
lr$tied_site <- lr_ref(Surv(time, event) ~ site, tied)
lr$edge_zero_expected <- lr_ref(Surv(time, event) ~ group,
                                subset(edge, case == "zero_expected"))
ref$logrank <- lr

writeLines(toJSON(ref, digits = NA, auto_unbox = TRUE, pretty = FALSE, na = "string"),
           file.path(dir, "reference.json"))
cat("wrote", file.path(dir, "reference.json"), "\n")
