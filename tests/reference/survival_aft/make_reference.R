# Golden values for dryneedle_outcomes.stats.survival.aft (fit_aft).
# Run from the repository root:  Rscript tests/reference/survival_aft/make_reference.R
# R 4.2, survival 3.5-3, jsonlite.
#
# Every data set is written as a CSV in the form R needs for Surv(type = "interval2"):
#   lower = NA  -> left-censored at upper ("by upper"; our convention: lower = 0),
#   upper = NA  -> right-censored at lower (our convention: upper = inf),
#   lower == upper -> exact.
# survreg with a log-time distribution stops with "Invalid survival times for this
# distribution" on a lower bound of 0 (log 0 = -Inf) and on an exact 0, so a 0 lower
# bound must be written as NA for R; it drops (NA, NA) rows silently via na.omit.
# The Python tests map NA lower -> 0 and NA upper -> inf, except for the soreness data,
# whose CSV keeps the raw data (exact 0 h as lower = upper = 0) and R gets the exact
# zeros as left-censored at 0.5 h: fit_aft(..., zero_resolution = 0.5) must match.
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})
out_dir <- file.path("tests", "reference", "survival_aft")
ctl <- survreg.control(rel.tolerance = 1e-13, maxiter = 200)

# Robust (sandwich) variance with the correct score.
# survival 3.5-3 (and the current GitHub source) computes, in residuals.survreg, the
# derivative of an interval-censored row's log-likelihood with respect to log(scale)
# with the wrong sign: ds = (z2 f(z2) - z1 f(z1)) / (S(z1) - S(z2)), whereas
# d/dlog(sigma) log(S(z1) - S(z2)) = (z1 f(z1) - z2 f(z2)) / (S(z1) - S(z2)).
# survreg's robust variance, crossprod(rowsum(residuals(fit, "dfbeta"), cluster)), is
# built from those residuals, so for data with interval-censored rows and an estimated
# scale its robust SEs are off (exact, left- and right-censored rows are right).
# check_ds() proves the sign by numerical differentiation and by the score summing to
# zero at the MLE; robust_var() is survreg's formula with the corrected score (and,
# with weights, the weighted score; see relief_weighted below).
row_loglik <- function(f, log_scale) {
  y <- f$y; st <- y[, ncol(y)]
  sig <- exp(log_scale); eta <- f$linear.predictors
  dd <- survreg.distributions[[f$dist]]
  if (!is.null(dd$dist)) dd <- survreg.distributions[[dd$dist]]
  z1 <- (log(y[, 1]) - eta) / sig
  z2 <- if (ncol(y) == 3) (log(y[, 2]) - eta) / sig else z1
  d1 <- dd$density(z1, f$parms); d2 <- dd$density(z2, f$parms)
  out <- numeric(length(st))
  out[st == 1] <- log(d1[st == 1, 3]) - log_scale
  out[st == 0] <- log(d1[st == 0, 2])
  out[st == 2] <- log(d1[st == 2, 1])
  out[st == 3] <- log(d1[st == 3, 2] - d2[st == 3, 2])
  out
}
corrected_score <- function(f, weights = NULL) {
  mm <- residuals(f, "matrix")
  st <- f$y[, ncol(f$y)]
  ds <- mm[, "ds"]
  ds[st == 3] <- -ds[st == 3]
  score <- mm[, "dg"] * f$x
  if (nrow(f$var) > ncol(f$x)) score <- cbind(score, ds)
  if (!is.null(weights)) score <- score * weights
  score
}
check_ds <- function(f, weights = NULL) {
  if (nrow(f$var) == length(coef(f))) return(invisible())
  h <- 1e-6
  num <- (row_loglik(f, log(f$scale) + h) - row_loglik(f, log(f$scale) - h)) / (2 * h)
  sc <- corrected_score(f, weights)
  stopifnot(max(abs(num - corrected_score(f)[, ncol(sc)])) < 1e-6)
  stopifnot(max(abs(colSums(sc))) < 1e-6)   # the score vanishes at the MLE
}
robust_var <- function(f, cluster, weights = NULL) {
  check_ds(f, weights)
  vv <- if (is.null(f$naive.var)) f$var else f$naive.var
  unname(crossprod(rowsum(corrected_score(f, weights) %*% vv, cluster)))
}
dists <- c("weibull", "loglogistic", "lognormal", "exponential")

summarise_fit <- function(f, wcluster = NULL) {
  # wcluster: cluster ids for the weighted-score sandwich (see the weighted fit below)
  tab <- summary(f)$table
  vnames <- c(names(coef(f)), if (nrow(f$var) > length(coef(f))) "Log(scale)")
  res <- list(
    call = paste(deparse(f$call), collapse = " "),
    coef = as.list(coef(f)),                      # coef(f)
    var = unname(f$var),                          # f$var (robust when clustered)
    var_names = vnames,
    se = as.list(sqrt(diag(f$var))),              # sqrt(diag(f$var))
    scale = f$scale,                              # f$scale
    loglik = f$loglik[2],                         # f$loglik[2] == logLik(f)
    loglik_null = f$loglik[1],                    # f$loglik[1] (intercept-only)
    aic = AIC(f),                                 # AIC(f)
    df = attr(logLik(f), "df"),
    iter = f$iter,
    n = nrow(f$y),
    z = as.list(tab[, "z"]),                      # summary(f)$table[, "z"]
    p = as.list(tab[, "p"])                       # summary(f)$table[, "p"]
  )
  names(res$se) <- vnames
  if (!is.null(f$naive.var)) {
    res$naive_var <- unname(f$naive.var)          # f$naive.var
    res$naive_se <- as.list(setNames(sqrt(diag(f$naive.var)), vnames))
  }
  res
}

fit_all <- function(formula, data, ...) {
  out <- list()
  for (d in dists) {
    f <- survreg(formula, data = data, dist = d, control = ctl, x = TRUE, ...)
    stopifnot(f$iter < ctl$maxiter)
    out[[d]] <- summarise_fit(f)
  }
  out
}

ref <- list(meta = list(R = R.version.string,
                        survival = as.character(packageVersion("survival")),
                        rel_tolerance = ctl$rel.tolerance))

## (a) lung, times binned to 30-day intervals ------------------------------------------
# events: (floor(t/30)*30, ceiling(t/30)*30]  (exact when t is a multiple of 30;
#         lower 0 -> NA, i.e. left-censored at 30 days)
# censored: right-censored at floor(t/30)*30 (lung's shortest censored time is 92 days,
#         so no censored row gets a 0 bound)
lo <- floor(lung$time / 30) * 30
hi <- ceiling(lung$time / 30) * 30
lung_b <- data.frame(
  lower = ifelse(lo == 0, NA, lo),
  upper = ifelse(lung$status == 2, hi, NA),
  female = as.integer(lung$sex == 2),
  age = lung$age
)
stopifnot(all(!is.na(lung_b$lower) | !is.na(lung_b$upper)))
write.csv(lung_b, file.path(out_dir, "lung_binned.csv"), row.names = FALSE, na = "NA")
ref$lung_binned <- fit_all(Surv(lower, upper, type = "interval2") ~ female + age, lung_b)
nd <- data.frame(female = c(0, 1, 1), age = c(50, 60, 70.5))
f <- survreg(Surv(lower, upper, type = "interval2") ~ female + age, lung_b,
             dist = "weibull", control = ctl)
ref$lung_binned$weibull$newdata <- nd
# predict(f, newdata = nd, type = "quantile", p = 0.5)
ref$lung_binned$weibull$median <- unname(predict(f, newdata = nd, type = "quantile", p = 0.5))
ref$lung_binned$weibull$quantile_p <- c(0.1, 0.9)
# predict(f, newdata = nd, type = "quantile", p = c(0.1, 0.9))
ref$lung_binned$weibull$quantile <- unname(predict(f, newdata = nd, type = "quantile",
                                                   p = c(0.1, 0.9)))
f <- survreg(Surv(lower, upper, type = "interval2") ~ female + age, lung_b,
             dist = "lognormal", control = ctl)
ref$lung_binned$lognormal$median <- unname(predict(f, newdata = nd, type = "quantile", p = 0.5))
f <- survreg(Surv(lower, upper, type = "interval2") ~ female + age, lung_b,
             dist = "loglogistic", control = ctl)
ref$lung_binned$loglogistic$median <- unname(predict(f, newdata = nd, type = "quantile",
                                                     p = 0.5))
# Weibull hazard ratios: log HR = -coef / scale, delta method on (coef, log scale)
hr_table <- function(f) {
  b <- coef(f)[-1]; V <- f$var; p <- length(coef(f))
  if (nrow(V) == p) {                      # exponential: scale fixed at 1
    lhr <- -b; se <- sqrt(diag(V)[-1])
  } else {
    s <- f$scale; lhr <- -b / s
    se <- sqrt(diag(V)[2:p] - 2 * b * V[2:p, p + 1] + b^2 * V[p + 1, p + 1]) / s
  }
  names(se) <- names(b)
  list(log_hr = as.list(lhr), se = as.list(se), hr = as.list(exp(lhr)),
       lower = as.list(exp(lhr - qnorm(0.975) * se)),
       upper = as.list(exp(lhr + qnorm(0.975) * se)))
}
f <- survreg(Surv(lower, upper, type = "interval2") ~ female + age, lung_b,
             dist = "weibull", control = ctl)
ref$lung_binned$weibull$hazard_ratios <- hr_table(f)
f <- survreg(Surv(lower, upper, type = "interval2") ~ female + age, lung_b,
             dist = "exponential", control = ctl)
ref$lung_binned$exponential$hazard_ratios <- hr_table(f)
# Intercept-only fit (X with no columns)
f <- survreg(Surv(lower, upper, type = "interval2") ~ 1, lung_b, dist = "weibull",
             control = ctl)
ref$lung_binned_null <- list(weibull = summarise_fit(f))

## (b) simulated time to relief (days) --------------------------------------------------
set.seed(20240611)
n <- 300
arm <- rep(0:1, each = n / 2)
pain0 <- round(rnorm(n, 6.5, 1.2), 1)
w_ev <- log(-log(runif(n)))                      # standard (minimum) extreme value
t_true <- exp(3.3 - 0.45 * arm + 0.15 * (pain0 - 6.5) + 0.7 * w_ev)
sched <- seq(7, 84, by = 7)
rel_lower <- rel_upper <- numeric(n)
for (i in seq_len(n)) {                          # generator only; small n
  visits <- sched + sample(-2:2, length(sched), replace = TRUE)
  last <- length(sched)
  drop <- which(runif(length(sched)) < 0.04)     # drops out after this visit
  if (length(drop)) last <- drop[1]
  visits <- visits[seq_len(last)]
  hit <- which(visits >= t_true[i])
  if (runif(1) < 0.12 && t_true[i] <= max(visits)) {
    rel_lower[i] <- rel_upper[i] <- max(round(t_true[i], 1), 0.1)   # diary: exact day
  } else if (length(hit)) {
    k <- hit[1]
    rel_lower[i] <- if (k == 1) NA else visits[k - 1]
    rel_upper[i] <- visits[k]
  } else {
    rel_lower[i] <- max(visits)
    rel_upper[i] <- NA
  }
}
relief <- data.frame(id = seq_len(n), lower = rel_lower, upper = rel_upper,
                     arm = arm, pain0 = pain0,
                     w = ifelse(pain0 > 7, 2, 1) * ifelse(arm == 1, 1.5, 1))
write.csv(relief, file.path(out_dir, "relief.csv"), row.names = FALSE, na = "NA")
ref$relief <- fit_all(Surv(lower, upper, type = "interval2") ~ arm + pain0, relief)

# Weighted Weibull fit with robust variance (each subject its own cluster).
# survival 3.5-3 forms the robust variance from UNweighted dfbeta residuals
# (crossprod(rowsum(residuals(f, "dfbeta"), cluster))); fit_aft uses the weighted
# score, crossprod(rowsum(residuals(f, "dfbeta", weighted = TRUE), cluster)), the
# sandwich for case/sampling weights (as survey::svysurvreg does).  Both are stored;
# with integer weights the weighted sandwich equals survreg on replicated rows with
# cluster = the original id.
fw <- survreg(Surv(lower, upper, type = "interval2") ~ arm + pain0, relief,
              weights = w, dist = "weibull", control = ctl, x = TRUE)
fwr <- survreg(Surv(lower, upper, type = "interval2") ~ arm + pain0, relief,
               weights = w, dist = "weibull", control = ctl, cluster = id)
ref$relief_weighted <- summarise_fit(fw)
ref$relief_weighted$robust_var_R <- unname(fwr$var)        # fwr$var, as survreg reports
# crossprod(rowsum(dfbeta from the weighted, sign-corrected score, id))
ref$relief_weighted$robust_var <- robust_var(fw, relief$id, relief$w)
# Integer weights: the weighted sandwich equals survreg on replicated rows, cluster = id
relief$w2 <- ifelse(relief$pain0 > 7, 2L, 1L)
rep_rows <- relief[rep(seq_len(n), relief$w2), ]
frep <- survreg(Surv(lower, upper, type = "interval2") ~ arm + pain0, rep_rows,
                dist = "weibull", control = ctl, x = TRUE)
fw2 <- survreg(Surv(lower, upper, type = "interval2") ~ arm + pain0, relief,
               weights = w2, dist = "weibull", control = ctl, x = TRUE)
stopifnot(isTRUE(all.equal(coef(fw2), coef(frep), tolerance = 1e-9)))
ref$relief_weighted_int <- list(
  coef = as.list(coef(fw2)), loglik = fw2$loglik[2], scale = fw2$scale,
  naive_var = unname(fw2$var),
  robust_var = robust_var(fw2, relief$id, relief$w2),
  replicated_robust_var = robust_var(frep, rep_rows$id)
)

## (c) soreness after needling (hours), sessions clustered within patients --------------
set.seed(7)
n_pat <- 90
n_ses <- sample(1:4, n_pat, replace = TRUE)
pat <- rep(seq_len(n_pat), n_ses)
session <- unlist(lapply(n_ses, seq_len))
pat_arm <- rbinom(n_pat, 1, 0.5)
frail <- rnorm(n_pat, 0, 0.5)
m <- length(pat)
needles <- sample(2:10, m, replace = TRUE)
t_sore <- exp(2.6 + 0.08 * (needles - 6) - 0.15 * (session - 1) - 0.3 * pat_arm[pat] +
                frail[pat] + 0.8 * rlogis(m) * 0.6)
checks <- c(0, 6, 12, 24, 48, 72)
kind <- sample(c("exact", "interval"), m, replace = TRUE, prob = c(0.5, 0.5))
none <- runif(m) < 0.06                         # "no soreness at all": exact 0 h
s_lower <- s_upper <- numeric(m)
for (j in seq_len(m)) {                          # generator only; small m
  if (none[j]) {
    s_lower[j] <- s_upper[j] <- 0
  } else if (t_sore[j] > 72) {
    s_lower[j] <- 72; s_upper[j] <- Inf          # still sore at the last check
  } else if (kind[j] == "exact") {
    s_lower[j] <- s_upper[j] <- round(t_sore[j] * 2) / 2   # to the half hour (may be 0)
  } else {
    k <- findInterval(t_sore[j], checks, left.open = TRUE)
    s_lower[j] <- checks[k]; s_upper[j] <- checks[k + 1]
  }
}
soreness <- data.frame(patient = pat, session = session, lower = s_lower, upper = s_upper,
                       needles = needles, arm = pat_arm[pat])
# Raw data (exact 0 h kept as 0, 0; ongoing as Inf) for Python
write.csv(soreness, file.path(out_dir, "soreness.csv"), row.names = FALSE)
# For R: exact 0 h -> left-censored at 0.5 h (the recording resolution);
#        0 lower bound -> NA (left-censored); Inf upper -> NA (right-censored)
sr <- soreness
zero <- sr$lower == 0 & sr$upper == 0
sr$upper[zero] <- 0.5
sr$lower[sr$lower == 0] <- NA
sr$upper[is.infinite(sr$upper)] <- NA
ref$soreness_n_exact_zero <- sum(zero)
ref$soreness <- list()
for (d in dists) {
  f <- survreg(Surv(lower, upper, type = "interval2") ~ needles + session + arm +
                 cluster(patient), sr, dist = d, control = ctl, x = TRUE)
  stopifnot(f$iter < ctl$maxiter)
  ref$soreness[[d]] <- summarise_fit(f)
  # f$var as survreg reports it is kept in "var"/"se"; the corrected sandwich:
  ref$soreness[[d]]$robust_var <- robust_var(f, sr$patient)
}

## (d) ovarian: right-censored only ----------------------------------------------------
ov <- data.frame(lower = ovarian$futime,
                 upper = ifelse(ovarian$fustat == 1, ovarian$futime, NA),
                 age = ovarian$age, ecog = ovarian$ecog.ps - 1, rx2 = ovarian$rx - 1)
write.csv(ov, file.path(out_dir, "ovarian.csv"), row.names = FALSE, na = "NA")
ref$ovarian <- fit_all(Surv(lower, upper, type = "interval2") ~ age + ecog + rx2, ov)
# clustered (artificial pairs of rows): no interval rows, so survreg's robust var is right
ov$pair <- rep(1:13, each = 2)
ref$ovarian_cluster <- list()
for (d in c("weibull", "lognormal")) {
  f <- survreg(Surv(lower, upper, type = "interval2") ~ age + ecog + rx2, ov, dist = d,
               control = ctl, cluster = pair, x = TRUE)
  ref$ovarian_cluster[[d]] <- summarise_fit(f)
  stopifnot(isTRUE(all.equal(unname(f$var), robust_var(f, ov$pair), tolerance = 1e-10)))
}
# the same as the usual right-censored call
f1 <- survreg(Surv(futime, fustat) ~ age + I(ecog.ps - 1) + I(rx - 1), ovarian,
              dist = "weibull", control = ctl)
stopifnot(isTRUE(all.equal(unname(coef(f1)), unname(unlist(ref$ovarian$weibull$coef)))))
stopifnot(isTRUE(all.equal(f1$loglik[2], ref$ovarian$weibull$loglik)))

writeLines(toJSON(ref, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path(out_dir, "reference.json"))
cat("wrote", file.path(out_dir, "reference.json"), "\n")
