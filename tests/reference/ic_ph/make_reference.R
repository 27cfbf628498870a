# Reference values for dryneedle_outcomes.stats.survival.ic_ph (tests/test_ic_ph.py).
# Run from this folder:  Rscript make_reference.R   (R 4.x, survival; no icenReg needed)
#
# (a) grouped-time PH = binomial GLM with cloglog link on person-period rows
#     (Prentice & Gloeckler 1978), on a data set simulated here (grouped_data.csv).
# (b) likelihood lower bound: Weibull PH fits (survreg, interval2) on the breast
#     cosmesis data (bcos.csv, read from ../../../../shared/external/survival/).
suppressPackageStartupMessages(library(survival))
options(digits = 15)

## ---- (a) simulated data on a common visit grid ------------------------------------
set.seed(20261203)
n <- 400
grid <- c(0, 7, 14, 21, 28, 42, 56, 84)          # visit days; intervals (t[k-1], t[k]]
arm <- rbinom(n, 1, 0.5)
baseline <- round(rnorm(n, 70, 12), 1)
site <- sample(c("A", "B", "C"), n, replace = TRUE)
eta <- 0.7 * arm - 0.02 * (baseline - 70) + ifelse(site == "B", 0.3, ifelse(site == "C", -0.2, 0))
time <- (rexp(n) / (0.002 * exp(eta)))^(1 / 1.3)  # Weibull PH event times
last <- sample(3:8, n, replace = TRUE, prob = c(1, 1, 1, 1, 2, 6))  # last visit attended
k <- findInterval(time, grid, left.open = TRUE) + 1  # event in (grid[k-1], grid[k]]
event <- k <= last
lower <- ifelse(event, grid[pmax(k - 1, 1)], grid[last])
upper <- ifelse(event, grid[k], Inf)
dat <- data.frame(id = seq_len(n), lower = lower, upper = upper, arm = arm,
                  baseline = baseline, site = site)
write.csv(dat, "grouped_data.csv", row.names = FALSE)

# person-period rows: period j = (grid[j], grid[j+1]] for every period entered at risk
last_period <- ifelse(is.finite(dat$upper), match(dat$upper, grid) - 1, match(dat$lower, grid) - 1)
pp <- dat[rep(seq_len(n), last_period), ]
pp$period <- unlist(lapply(last_period, seq_len))
pp$y <- as.integer(is.finite(pp$upper) & pp$period == last_period[pp$id])
pp$period <- factor(pp$period)
pp$siteB <- as.numeric(pp$site == "B"); pp$siteC <- as.numeric(pp$site == "C")
fit <- glm(y ~ 0 + period + arm + baseline + siteB + siteC, data = pp,
           family = binomial(link = "cloglog"),
           control = glm.control(epsilon = 1e-15, maxit = 100))
# observed information of the Bernoulli cloglog likelihood (glm's vcov uses the
# expected information, which differs for a non-canonical link)
X <- model.matrix(fit); mu <- exp(drop(X %*% coef(fit))); y <- pp$y
g1 <- y / expm1(mu) - (1 - y)
g2 <- -y * exp(mu) / expm1(mu)^2
wobs <- -(mu * g1 + mu^2 * g2)
vobs <- solve(crossprod(X, wobs * X))
terms <- c("arm", "baseline", "siteB", "siteC")
out <- data.frame(term = terms, estimate = coef(fit)[terms],
                  std_error_observed = sqrt(diag(vobs))[match(terms, colnames(X))],
                  std_error_expected = sqrt(diag(vcov(fit)))[terms],
                  loglik = as.numeric(logLik(fit)),
                  log_increment_period1 = coef(fit)[["period1"]])
write.csv(out, "grouped_glm.csv", row.names = FALSE)

# the same without covariates other than arm (for the profile likelihood-ratio test)
fit0 <- glm(y ~ 0 + period + baseline + siteB + siteC, data = pp,
            family = binomial(link = "cloglog"),
            control = glm.control(epsilon = 1e-15, maxit = 100))
lr <- data.frame(term = "arm", statistic = 2 * as.numeric(logLik(fit) - logLik(fit0)),
                 p_value = pchisq(2 * as.numeric(logLik(fit) - logLik(fit0)), 1,
                                  lower.tail = FALSE))
write.csv(lr, "grouped_lr.csv", row.names = FALSE)

# stratified by site: one baseline hazard per site = one intercept per period and site
fs <- glm(y ~ 0 + period:site + arm + baseline, data = pp,
          family = binomial(link = "cloglog"),
          control = glm.control(epsilon = 1e-15, maxit = 100))
X <- model.matrix(fs); mu <- exp(drop(X %*% coef(fs))); y <- pp$y
wobs <- -(mu * (y / expm1(mu) - (1 - y)) + mu^2 * (-y * exp(mu) / expm1(mu)^2))
vs <- solve(crossprod(X, wobs * X))
st <- c("arm", "baseline")
write.csv(data.frame(term = st, estimate = coef(fs)[st],
                     std_error_observed = sqrt(diag(vs))[match(st, colnames(X))],
                     loglik = as.numeric(logLik(fs))),
          "grouped_glm_strata.csv", row.names = FALSE)

## ---- (a2) exact and right-censored times: the same model with a jump at each event
## time (lung data of R's survival package, read from the shared copy). Each distinct
## event time is a period; a patient is at risk at every event time up to their own
## (censored at c: at risk at c, as in Kaplan-Meier).
ext <- file.path("..", "..", "..", "..", "shared", "external", "survival")
lung <- read.csv(file.path(ext, "lung.csv"))
lung$event <- as.integer(lung$status == 2)
et <- sort(unique(lung$time[lung$event == 1]))
nper <- findInterval(lung$time, et)                 # event times <= own time
lp <- lung[rep(seq_len(nrow(lung)), nper), ]
lp$period <- unlist(lapply(nper, seq_len))
lp$y <- as.integer(lp$event == 1 & et[lp$period] == lp$time)
lp$period <- factor(lp$period)
fl <- glm(y ~ 0 + period + age + sex, data = lp, family = binomial(link = "cloglog"),
          control = glm.control(epsilon = 1e-15, maxit = 100))
X <- model.matrix(fl); mu <- exp(drop(X %*% coef(fl))); y <- lp$y
wobs <- -(mu * (y / expm1(mu) - (1 - y)) + mu^2 * (-y * exp(mu) / expm1(mu)^2))
vl <- solve(crossprod(X, wobs * X))
lt <- c("age", "sex")
write.csv(data.frame(term = lt, estimate = coef(fl)[lt],
                     std_error_observed = sqrt(diag(vl))[match(lt, colnames(X))],
                     loglik = as.numeric(logLik(fl))),
          "lung_glm.csv", row.names = FALSE)

## ---- (b) Weibull PH fits: lower bounds of the semi-parametric log-likelihood ------
bcos <- read.csv(file.path(ext, "bcos.csv"))
bcos$right[!is.finite(bcos$right)] <- NA
bcos$left[bcos$left == 0] <- NA    # (0, R]: left-censored (survreg cannot take log 0)
bcos$rad_chemo <- as.numeric(bcos$treatment == "RadChem")
wb <- survreg(Surv(left, right, type = "interval2") ~ rad_chemo, data = bcos,
              dist = "weibull")
# a Weibull AFT model is a PH model: log hazard ratio = -coef / scale
res <- data.frame(data = "bcos", term = "rad_chemo",
                  weibull_log_hr = -coef(wb)[["rad_chemo"]] / wb$scale,
                  weibull_loglik = as.numeric(logLik(wb)),
                  n_exact = sum(bcos$left == bcos$right, na.rm = TRUE))
write.csv(res, "weibull_bounds.csv", row.names = FALSE)
print(out); print(lr); print(res); print(sessionInfo()$R.version$version.string)
