# Golden values for dryneedle_outcomes.stats.survival.turnbull.
# Run from the repository root, after make_turnbull_data.py has written the CSVs:
#   Rscript tests/reference/survival_turnbull/make_reference.R
# survival 3.5-3. Every fit is survfit(Surv(lower, upper, type = "interval2") ~ 1)
# with upper = NA for right-censored observations.
#
# For each data set two fits are stored:
# - "stock": survfit as shipped. Its EM stops when the survival values change by less
#   than 5e-5 between iterations, which can leave it ~1e-4 from the NPMLE.
# - "tight": the same code with that threshold set to 1e-12 (a patched copy of
#   survival:::survfitTurnbull put in the namespace for the call), the survfit
#   estimate converged to the NPMLE; survfit has no control argument for it.
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})
dir <- "tests/reference/survival_turnbull"
stopifnot(packageVersion("survival") == "3.5.3")

stock_turnbull <- survival:::survfitTurnbull
tight_turnbull <- stock_turnbull
src <- deparse(body(stock_turnbull))
stopifnot(sum(grepl("eps > 5e-05", src, fixed = TRUE)) == 1)
body(tight_turnbull) <- parse(text = sub("eps > 5e-05", "eps > 1e-12", src, fixed = TRUE))[[1]]

fit_interval2 <- function(d, tight = FALSE) {
  if (tight) assignInNamespace("survfitTurnbull", tight_turnbull, "survival")
  on.exit(assignInNamespace("survfitTurnbull", stock_turnbull, "survival"))
  survfit(Surv(lower, upper, type = "interval2") ~ 1, data = d)
}

describe <- function(fit) {
  list(
    time = fit$time,                               # fit$time
    surv = fit$surv,                               # fit$surv
    n.risk = fit$n.risk,                           # fit$n.risk
    n.event = fit$n.event,                         # fit$n.event
    median = unname(summary(fit)$table["median"])  # print(fit)'s median
  )
}

both <- function(d) {
  list(n = nrow(d), stock = describe(fit_interval2(d)),
       tight = describe(fit_interval2(d, tight = TRUE)))
}

read <- function(name) read.csv(file.path(dir, name))

ref <- list(survival_version = as.character(packageVersion("survival")))

# (a) hand example
ref$hand <- both(read("hand.csv"))

# (b) survival::lung, time binned to 30-day intervals: an event at t is known to
# lie in (floor(t/30)*30, ceiling(t/30)*30] (exact when t is a multiple of 30);
# a censored time is right-censored at floor(t/30)*30.
lung_binned <- with(survival::lung, data.frame(
  lower = floor(time / 30) * 30,
  upper = ifelse(status == 2, ceiling(time / 30) * 30, NA)
))
write.csv(lung_binned, file.path(dir, "lung_binned.csv"), row.names = FALSE)
ref$lung <- both(lung_binned)

# (c) simulated time to relief (days), each group and pooled
relief <- read("relief.csv")
ref$relief_A <- both(subset(relief, group == "A"))
ref$relief_B <- both(subset(relief, group == "B"))
ref$relief_all <- both(relief)

# (d) simulated soreness (hours): exact values, exact zeros, intervals, ongoing
ref$soreness <- both(read("soreness.csv"))

# Exact and right-censored only: the NPMLE is Kaplan-Meier,
# survfit(Surv(lower, !is.na(upper)) ~ 1). survfit's interval2 code differs here (it
# adds one artificial observation); stored to document the difference.
km_only <- read("km_only.csv")
ref$km_only <- list(
  n = nrow(km_only),
  kaplan_meier = describe(survfit(Surv(lower, !is.na(upper)) ~ 1, data = km_only)),
  stock = describe(fit_interval2(km_only))
)

# The same on six observations, where the artificial observation matters:
# survfit(Surv(time, status) ~ 1) gives 0.8333, 0.625; the interval2 fit 0.796, 0.522.
km_small <- data.frame(lower = c(1, 2, 3, 4, 5, 6), upper = c(1, NA, 3, NA, NA, NA))
ref$km_small <- list(
  n = nrow(km_small),
  kaplan_meier = describe(survfit(Surv(lower, !is.na(upper)) ~ 1, data = km_small)),
  stock = describe(fit_interval2(km_small))
)

writeLines(toJSON(ref, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"),
           file.path(dir, "reference.json"))
