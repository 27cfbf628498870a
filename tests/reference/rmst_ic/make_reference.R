# Golden values for the restricted mean survival time (RMST) of time_to_relief /
# dryneedle_outcomes.stats.survival.turnbull_summaries.turnbull_rmst.
# Run from the repository root:  Rscript tests/reference/rmst_ic/make_reference.R
# survival 3.5-3.
#
# Interval-censored: the area under survfit(Surv(lower, upper, type = "interval2") ~ 1)
# on [0, tau], from summary(fit, rmean = tau)$table["rmean"] (what print(fit, rmean =
# tau) shows), and again by summing the step function by hand (fit$time, fit$surv) as a
# check of what rmean computes. survfit's Turnbull EM stops when S changes by < 5e-5,
# which can leave it ~1e-3 from the NPMLE; as in tests/reference/survival_turnbull, a
# "tight" copy of survival:::survfitTurnbull with the threshold set to 1e-12 is used
# (survfit has no argument for it), and the stock value is stored too.
#
# Right-censored (Kaplan-Meier) view: summary(survfit(Surv(time, status) ~ 1),
# rmean = tau)$table[c("rmean", "se(rmean)")].
suppressPackageStartupMessages(library(survival))
stopifnot(packageVersion("survival") == "3.5.3")
dir <- "tests/reference/rmst_ic"

stock_turnbull <- survival:::survfitTurnbull
tight_turnbull <- stock_turnbull
src <- deparse(body(stock_turnbull))
stopifnot(sum(grepl("eps > 5e-05", src, fixed = TRUE)) == 1)
body(tight_turnbull) <- parse(text = sub("eps > 5e-05", "eps > 1e-12", src, fixed = TRUE))[[1]]

fit_ic <- function(d, tight) {
  if (tight) assignInNamespace("survfitTurnbull", tight_turnbull, "survival")
  on.exit(assignInNamespace("survfitTurnbull", stock_turnbull, "survival"))
  survfit(Surv(lower, upper, type = "interval2") ~ 1, data = d)
}

# area under a right-continuous step function starting at (0, 1)
step_area <- function(time, surv, tau) {
  t <- c(0, time[time < tau], tau)
  s <- c(1, surv[time < tau])
  sum(diff(t) * s)
}

rows <- list()
add_ic <- function(set, group, d, tau) {
  for (tight in c(TRUE, FALSE)) {
    fit <- fit_ic(d, tight)
    rmean <- unname(summary(fit, rmean = tau)$table["rmean"])
    by_hand <- step_area(fit$time, fit$surv, tau)
    stopifnot(abs(rmean - by_hand) < 1e-12)
    rows[[length(rows) + 1]] <<- data.frame(
      set = set, group = group, method = if (tight) "turnbull_tight" else "turnbull_stock",
      tau = tau, rmean = rmean, se_rmean = NA_real_)
  }
}
add_km <- function(set, group, d, tau) {
  time <- ifelse(is.na(d$upper), d$lower, d$upper)
  status <- as.integer(!is.na(d$upper))
  tab <- summary(survfit(Surv(time, status) ~ 1), rmean = tau)$table
  rows[[length(rows) + 1]] <<- data.frame(
    set = set, group = group, method = "kaplan_meier", tau = tau,
    rmean = unname(tab["rmean"]), se_rmean = unname(tab["se(rmean)"]))
}

# (a) hand example: tau = 3.5 falls inside the Turnbull interval (2, 4] (drop at 3)
hand <- data.frame(lower = c(0, 2, 4, 1, 0, 2), upper = c(2, 4, 6, NA, 1, 3))
write.csv(hand, file.path(dir, "hand.csv"), row.names = FALSE, na = "")
for (tau in c(3.5, 5)) add_ic("hand", "all", hand, tau)

# (b) the simulated time to relief (days) of tests/reference/survival_turnbull
relief <- read.csv("tests/reference/survival_turnbull/relief.csv")
for (g in c("A", "B")) for (tau in c(30, 60)) {
  add_ic("relief", g, subset(relief, group == g), tau)
  add_km("relief", g, subset(relief, group == g), tau)
}

# (c) survival::lung binned to 30-day intervals (tests/reference/survival_turnbull)
lung <- read.csv("tests/reference/survival_turnbull/lung_binned.csv")
add_ic("lung_binned", "all", lung, 365)

# (d) whole sessions: relief seen at session k lies in (k - 1, k]; censoring at a whole
# session c is (c, NA). Every Turnbull interval is then one session wide and survfit
# drops at k - 0.5; the whole-session curve drops at k, i.e. survfit's curve shifted
# by +0.5, whose area is stored as "turnbull_tight_right" (the sessions convention).
set.seed(20121)
sessions <- do.call(rbind, lapply(c("A", "B"), function(g) {
  n <- 60
  k <- rgeom(n, if (g == "A") 0.25 else 0.45) + 1
  cens <- sample(3:6, n, replace = TRUE)
  data.frame(group = g, lower = ifelse(k <= cens, k - 1, cens),
             upper = ifelse(k <= cens, k, NA))
}))
write.csv(sessions, file.path(dir, "sessions.csv"), row.names = FALSE, na = "")
for (g in c("A", "B")) for (tau in c(3, 6)) {
  d <- subset(sessions, group == g)
  add_ic("sessions", g, d, tau)
  fit <- fit_ic(d, TRUE)
  drop <- diff(c(1, fit$surv)) < 0        # survfit also lists censoring times (no drop)
  stopifnot(all(abs(fit$time[drop] %% 1 - 0.5) < 1e-12))
  rows[[length(rows) + 1]] <- data.frame(
    set = "sessions", group = g, method = "turnbull_tight_right", tau = tau,
    rmean = step_area(fit$time[drop] + 0.5, fit$surv[drop], tau), se_rmean = NA_real_)
}

# the whole-session curve S(k) = P(no relief seen by session k) at k = 1..6: survfit's
# curve read at whole sessions (its drops are at k - 0.5 here), summary(fit, times = k)
curve <- do.call(rbind, lapply(c("A", "B"), function(g) {
  fit <- fit_ic(subset(sessions, group == g), TRUE)
  data.frame(group = g, session = 1:6, surv = summary(fit, times = 1:6, extend = TRUE)$surv)
}))
write.csv(curve, file.path(dir, "sessions_curve.csv"), row.names = FALSE)

ref <- do.call(rbind, rows)
write.csv(ref, file.path(dir, "reference.csv"), row.names = FALSE)

# (d) breast cosmesis (Finkelstein & Wolfe 1985; R package interval's bcos), read from
# the shared external folder and NOT committed; its results are committed.
bcos_file <- "/work/shared/external/survival/bcos.csv"
if (file.exists(bcos_file)) {
  rows <- list()
  b <- read.csv(bcos_file)
  b <- data.frame(lower = b$left, upper = ifelse(is.finite(b$right), b$right, NA),
                  treatment = b$treatment)
  for (g in unique(b$treatment)) for (tau in c(24, 48)) add_ic("bcos", g, subset(b, treatment == g), tau)
  write.csv(do.call(rbind, rows), file.path(dir, "bcos_reference.csv"), row.names = FALSE)
}
