# Covariate-adjusted responders: logistic regression + standardisation (g-computation)
# + delta method, in base R (no margins/beeca/RobinCar here), on the committed exports of
# the sample cohort (tests/reference/responders/sample_cfb_first_step_pain.csv and
# sample_patients_baseline.csv). Run from the repository root:
#     Rscript tests/reference/responders_adjusted/make_reference.R
# Writes tests/reference/responders_adjusted/reference.csv.
cfb <- read.csv("tests/reference/responders/sample_cfb_first_step_pain.csv",
                stringsAsFactors = FALSE)
pts <- read.csv("tests/reference/responders/sample_patients_baseline.csv",
                stringsAsFactors = FALSE)
MCID <- 19                  # first-step pain MCID (Landorf 2010), responder: improvement >= 19
base <- cfb[cfb$visit == 0 & !is.na(cfb$aval), c("patient_id", "aval")]
names(base)[2] <- "base"

make_data <- function(visit, missing) {
  d <- merge(pts[, c("patient_id", "arm", "site")], base, by = "patient_id")
  v <- cfb[cfb$visit == visit & !is.na(cfb$aval), c("patient_id", "improvement")]
  d <- merge(d, v, by = "patient_id", all.x = TRUE)
  d$responder <- as.integer(!is.na(d$improvement) & d$improvement >= MCID - 1e-9)
  if (missing == "observed") d <- d[!is.na(d$improvement), ]
  d$arm <- factor(d$arm, levels = c("sham", "dry_needling"))   # sham = reference
  d$site <- factor(d$site)
  d
}

standardise <- function(d, formula) {
  fit <- glm(formula, family = binomial, data = d,
             control = glm.control(epsilon = 1e-12, maxit = 100))
  X <- model.matrix(fit)
  p <- fitted(fit)
  # model-based covariance (X'WX)^-1 with W at the final estimates (vcov(fit) uses the
  # weights of glm's last IRLS iteration and differs from it by ~1e-6 relative)
  B <- solve(crossprod(X, X * (p * (1 - p))))
  V_model <- B
  print(max(abs(V_model / vcov(fit) - 1)))
  # robust HC0 sandwich, by hand: B M B with M = sum (y - p)^2 x x'
  M <- crossprod(X, X * (d$responder - p)^2)
  V_robust <- B %*% M %*% B
  # counterfactual designs: everyone sham, everyone dry needling
  d0 <- d; d0$arm <- factor("sham", levels = levels(d$arm))
  d1 <- d; d1$arm <- factor("dry_needling", levels = levels(d$arm))
  X0 <- model.matrix(formula[-2], d0); X1 <- model.matrix(formula[-2], d1)
  p0 <- plogis(X0 %*% coef(fit)); p1 <- plogis(X1 %*% coef(fit))
  r0 <- mean(p0); r1 <- mean(p1)
  g0 <- colMeans(X0 * as.vector(p0 * (1 - p0)))     # d r0 / d beta
  g1 <- colMeans(X1 * as.vector(p1 * (1 - p1)))
  out <- NULL
  for (vname in c("robust", "model")) {
    V <- if (vname == "robust") V_robust else V_model
    se_rd <- sqrt(drop(t(g1 - g0) %*% V %*% (g1 - g0)))
    gl <- g1 / r1 - g0 / r0                          # d log(r1/r0) / d beta
    se_lrr <- sqrt(drop(t(gl) %*% V %*% gl))
    z <- qnorm(0.975)
    out <- rbind(out, data.frame(
      variance = vname, n = nrow(d), risk_arm = r1, risk_reference = r0,
      rd = r1 - r0, rd_se = se_rd, rd_lower = r1 - r0 - z * se_rd,
      rd_upper = r1 - r0 + z * se_rd, rd_p = 2 * pnorm(-abs((r1 - r0) / se_rd)),
      rr = r1 / r0, log_rr_se = se_lrr, rr_lower = exp(log(r1 / r0) - z * se_lrr),
      rr_upper = exp(log(r1 / r0) + z * se_lrr),
      rr_p = 2 * pnorm(-abs(log(r1 / r0) / se_lrr))))
  }
  # cross-check of the hand-written HC0 against the sandwich package when present (it
  # evaluates the weights at the last IRLS iteration: agreement ~1e-6 relative)
  if (requireNamespace("sandwich", quietly = TRUE)) {
    print(max(abs(V_robust / sandwich::vcovHC(fit, type = "HC0") - 1)))
  }
  out
}

cases <- list(
  list(name = "visit6_non_responder_baseline_site", visit = 6, missing = "non_responder",
       adjust = "baseline + site", formula = responder ~ arm + base + site),
  list(name = "visit3_observed_baseline", visit = 3, missing = "observed",
       adjust = "baseline", formula = responder ~ arm + base))
res <- NULL
for (cs in cases) {
  d <- make_data(cs$visit, cs$missing)
  r <- standardise(d, cs$formula)
  res <- rbind(res, data.frame(case = cs$name, visit = cs$visit, missing = cs$missing,
                               adjust = cs$adjust, r))
}
write.csv(res, "tests/reference/responders_adjusted/reference.csv", row.names = FALSE)
print(res, digits = 10)
