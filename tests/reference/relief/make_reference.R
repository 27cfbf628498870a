# Golden values for dryneedle_outcomes.time_to_relief, from the survival package.
#
#   python tests/reference/relief/export_relief_events.py   (from the repository root)
#   Rscript tests/reference/relief/make_reference.R
#
# For each case (<name>.csv: one row per patient, interval (lower, upper], upper NA when
# right-censored; time/event the right-censored view) R computes
#   - survfit(Surv(time, event) ~ arm) with conf.type "log-log", "log" and "plain":
#     every row of summary(), the median and its CI (quantile), rmean and se(rmean)
#     (print(fit, rmean = tau) with tau = the smallest per-arm maximum time);
#   - survdiff (stratified by site for the dropout case);
#   - coxph(ties = "efron"), cox.zph(transform = "km");
#   - survreg(Surv(lower, upper, type = "interval2")) Weibull and log-logistic, leaving out
#     patients censored at time 0 (they carry no information; Python leaves them out too)
#     and writing (0, u] as lower = NA (left-censored at u, the same likelihood);
#   - survfit(Surv(lower, upper, type = "interval2") ~ arm): the Turnbull estimate, both
#     as shipped ("stock": its EM stops when S changes by < 5e-5, up to ~5e-3 away from
#     the NPMLE on these data) and converged ("tight": the same code with the threshold
#     patched to 1e-10; cf. tests/reference/survival_turnbull/make_reference.R);
#   - on the sessions case, glm(binomial("cloglog")) on person-session rows that R builds
#     itself from time/event.
# Arms are ordered with sham (the reference) first. Writes reference.json.
suppressPackageStartupMessages({ library(survival); library(jsonlite) })
here <- "tests/reference/relief"

cases <- list(
  sample_days_mcid = list(covariates = character(0), strata = NULL),
  sample_sessions_pct50 = list(covariates = character(0), strata = NULL),
  dropout_days_thr20s = list(covariates = "baseline", strata = "site")
)

km_tables <- function(d) {
  out <- list()
  for (ct in c("log-log", "log", "plain")) {
    fit <- survfit(Surv(time, event) ~ arm, data = d, conf.type = ct)
    s <- summary(fit, censored = TRUE)
    arm <- sub("arm=", "", as.character(s$strata))
    q <- quantile(fit, probs = 0.5)
    med <- list(arm = sub("arm=", "", rownames(q$quantile)), estimate = unname(q$quantile[, 1]),
                ci_lower = unname(q$lower[, 1]), ci_upper = unname(q$upper[, 1]))
    out[[ct]] <- list(table = list(arm = arm, time = s$time, n_risk = s$n.risk,
                                   n_event = s$n.event, n_censor = s$n.censor,
                                   estimate = s$surv, std_error = s$std.err,
                                   ci_lower = s$lower, ci_upper = s$upper),
                      median = med)
  }
  out
}

stock_turnbull <- survival:::survfitTurnbull
tight_turnbull <- stock_turnbull
src <- deparse(body(stock_turnbull))
stopifnot(sum(grepl("eps > 5e-05", src, fixed = TRUE)) == 1)
body(tight_turnbull) <- parse(text = sub("eps > 5e-05", "eps > 1e-10", src, fixed = TRUE))[[1]]

turnbull_by_arm <- function(d, tight) {
  if (tight) assignInNamespace("survfitTurnbull", tight_turnbull, "survival")
  on.exit(assignInNamespace("survfitTurnbull", stock_turnbull, "survival"))
  tb <- survfit(Surv(lower, upper, type = "interval2") ~ arm, data = d)
  s <- summary(tb)
  keep <- s$n.event > 1e-8        # drops of the estimate (tight: masses off the support are 0)
  q <- quantile(tb, probs = 0.5)$quantile[, 1]
  list(arm = sub("arm=", "", as.character(s$strata))[keep], time = s$time[keep],
       estimate = s$surv[keep], median = unname(q), median_arm = sub("arm=", "", names(q)))
}

result <- list()
for (name in names(cases)) {
  cfg <- cases[[name]]
  d <- read.csv(file.path(here, paste0(name, ".csv")), stringsAsFactors = FALSE)
  d$arm <- factor(d$arm, levels = c("sham", setdiff(sort(unique(d$arm)), "sham")))
  r <- list(n = nrow(d), n_events = sum(d$event))
  r$km <- km_tables(d)

  tau <- min(tapply(d$time, d$arm, max))
  fit <- survfit(Surv(time, event) ~ arm, data = d)
  tab <- summary(fit, rmean = tau)$table
  r$rmst <- list(tau = tau, arm = sub("arm=", "", rownames(tab)),
                 estimate = unname(tab[, "rmean"]), std_error = unname(tab[, "se(rmean)"]))

  rhs <- paste(c("arm", cfg$covariates), collapse = " + ")
  lr_f <- if (is.null(cfg$strata)) Surv(time, event) ~ arm else
    as.formula(paste("Surv(time, event) ~ arm + strata(", cfg$strata, ")"))
  lr <- survdiff(lr_f, data = d)
  r$logrank <- list(statistic = unname(lr$chisq), df = length(lr$n) - 1,
                    p_value = pchisq(lr$chisq, length(lr$n) - 1, lower.tail = FALSE))
  if (!is.null(cfg$strata)) {   # the unstratified test as well
    lr0 <- survdiff(Surv(time, event) ~ arm, data = d)
    r$logrank_unstratified <- list(statistic = unname(lr0$chisq))
  }

  cox_f <- as.formula(paste("Surv(time, event) ~", rhs,
                            if (is.null(cfg$strata)) "" else paste("+ strata(", cfg$strata, ")")))
  cx <- coxph(cox_f, data = d, ties = "efron")
  sc <- summary(cx)
  r$cox <- list(term = rownames(sc$coefficients), coef = unname(sc$coefficients[, "coef"]),
                std_error = unname(sc$coefficients[, "se(coef)"]),
                estimate = unname(sc$conf.int[, "exp(coef)"]),
                ci_lower = unname(sc$conf.int[, "lower .95"]),
                ci_upper = unname(sc$conf.int[, "upper .95"]),
                p_value = unname(sc$coefficients[, "Pr(>|z|)"]))
  z <- cox.zph(cx, transform = "km")
  r$zph <- list(term = rownames(z$table), chisq = unname(z$table[, "chisq"]),
                df = unname(z$table[, "df"]), p_value = unname(z$table[, "p"]))

  di <- d[!(d$lower == 0 & is.na(d$upper)), ]
  # (0, u] is written with lower NA (left-censored at u): the same likelihood
  # 1 - S(u) = S(0) - S(u), and survreg rejects log(0)
  di$lower[di$lower == 0] <- NA
  r$aft_n <- nrow(di)
  r$aft <- list()
  for (dist in c("weibull", "loglogistic")) {
    f <- survreg(as.formula(paste("Surv(lower, upper, type = 'interval2') ~", rhs)), data = di,
                 dist = dist)
    r$aft[[dist]] <- list(term = names(coef(f)), coef = unname(coef(f)),
                          std_error = unname(sqrt(diag(vcov(f)))[seq_along(coef(f))]),
                          scale = f$scale, loglik = f$loglik[2])
  }

  r$turnbull <- turnbull_by_arm(d, tight = TRUE)
  r$turnbull_stock <- turnbull_by_arm(d, tight = FALSE)

  if (grepl("sessions", name)) {
    k <- as.integer(d$time)
    idx <- rep(seq_len(nrow(d)), k)
    session <- sequence(k)
    pp <- data.frame(session = factor(session), arm = d$arm[idx],
                     relief = as.integer(session == k[idx] & d$event[idx] == 1))
    g <- glm(relief ~ 0 + session + arm, family = binomial(link = "cloglog"), data = pp,
             control = glm.control(epsilon = 1e-14, maxit = 100))
    r$discrete <- list(term = names(coef(g)), coef = unname(coef(g)),
                       std_error = unname(sqrt(diag(vcov(g)))), n_rows = nrow(pp))
  }
  result[[name]] <- r
}
# soreness: Turnbull medians by arm and session number, and the Weibull AFT of durations
# > 0 h on session number and needles (coefficients and naive SE; survreg's robust SE for
# interval-censored rows has a sign error in survival 3.5-3, see tests/test_survival_aft.py)
s <- read.csv(file.path(here, "sample_soreness.csv"), stringsAsFactors = FALSE)
tight_fit <- function(d) {
  assignInNamespace("survfitTurnbull", tight_turnbull, "survival")
  on.exit(assignInNamespace("survfitTurnbull", stock_turnbull, "survival"))
  unname(summary(survfit(Surv(lower, upper, type = "interval2") ~ 1, data = d))$table["median"])
}
# since issue 12 the sample records soreness after sham sessions too (needles 0): the
# medians are the real-needling arm's, and the AFT has the arm as a covariate (reference
# dry_needling), as soreness_duration fits it
dn <- s[s$arm == "dry_needling", ]
by_session <- sapply(sort(unique(dn$session)), function(k) tight_fit(dn[dn$session == k, ]))
pos <- s[s$upper > 0 | is.na(s$upper), ]
pos <- pos[!is.na(pos$needles), ]
pos$lower[pos$lower == 0] <- NA
pos$arm <- factor(pos$arm, levels = c("dry_needling", "sham"))
sw <- survreg(Surv(lower, upper, type = "interval2") ~ session + needles + arm, data = pos,
              dist = "weibull")
result$soreness <- list(n = nrow(s), median = tight_fit(dn),
                        session = sort(unique(dn$session)), median_by_session = by_session,
                        aft_n = nrow(pos), aft_coef = unname(coef(sw)),
                        aft_naive_se = unname(sqrt(diag(vcov(sw)))[1:3]),
                        aft_scale = sw$scale, aft_loglik = sw$loglik[2])

result$R_version <- R.version.string
result$survival_version <- as.character(packageVersion("survival"))
write_json(result, file.path(here, "reference.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
cat("wrote", file.path(here, "reference.json"), "\n")
