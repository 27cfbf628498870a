# Golden values for tests/test_survival_cox.py (the Cox engine, dryneedle_outcomes.stats.survival.cox).
#
# Run from the repository root:
#   Rscript tests/reference/survival_cox/make_reference.R
# It writes the input CSVs (lung, veteran, ovarian, a seeded simulated heavily-tied data set
# and a small data set in which one arm has no events) and reference.json.
#
# R 4.2, survival 3.5-3. Every number is stored next to the R call that produced it;
# numbers are written with 15 significant digits (jsonlite digits = I(15)); matrices are
# row-major arrays. coxph.control() defaults (eps = 1e-9, iter.max = 20) are used except
# where the call says otherwise.
#
# Missing values: survival::lung has one row with ph.karno missing (and none missing time,
# status, sex or age). coxph would drop it through na.action; here it is excluded
# explicitly, before the fit, in R and in the CSV Python reads, so both fit 227 rows.
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})
stopifnot(packageVersion("survival") == "3.5.3")

args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))

# ---- data -------------------------------------------------------------------------------
lung_all <- survival::lung
keep <- complete.cases(lung_all[, c("time", "status", "sex", "age", "ph.karno")])
lung2 <- lung_all[keep, c("time", "status", "sex", "age", "ph.karno")]
lung2$event <- as.integer(lung2$status == 2)
write.csv(lung2[, c("time", "event", "sex", "age", "ph.karno")],
          file.path(here, "lung.csv"), row.names = FALSE)

vet <- survival::veteran
vet$trt2 <- as.integer(vet$trt == 2)
vet$celltype <- as.character(vet$celltype)
write.csv(vet[, c("time", "status", "trt2", "karno", "celltype")],
          file.path(here, "veteran.csv"), row.names = FALSE)
vet$celltype <- factor(vet$celltype, levels = c("squamous", "smallcell", "adeno", "large"))

ova <- survival::ovarian
ova$rx2 <- as.integer(ova$rx == 2)
write.csv(ova[, c("futime", "fustat", "age", "rx2", "ecog.ps")],
          file.path(here, "ovarian.csv"), row.names = FALSE)

# heavily tied: 400 patients, integer days 1..90, two arms and a continuous baseline
set.seed(20240611)
n <- 400
arm <- rbinom(n, 1, 0.5)
baseline <- round(rnorm(n, 6, 1.5), 1)
t_event <- rexp(n, rate = 0.02 * exp(-0.5 * arm + 0.15 * (baseline - 6)))
t_cens <- runif(n, 20, 120)
day <- pmin(ceiling(pmin(t_event, t_cens)), 90)
event <- as.integer(t_event <= t_cens & ceiling(t_event) <= 90)
site <- sample(c("A", "B", "C"), n, replace = TRUE)
w <- sample(1:3, n, replace = TRUE) * 0.5          # fractional: coxph uses a robust variance
# integer (frequency) case weights, stored as double: cox.zph() of survival 3.5-3 fails on
# integer-typed weights ("REAL() can only be applied to a 'numeric', not a 'integer'")
w_int <- as.numeric(sample(1:3, n, replace = TRUE))
tied <- data.frame(day = day, event = event, arm = arm, baseline = baseline,
                   site = site, w = w, w_int = w_int)
write.csv(tied, file.path(here, "tied.csv"), row.names = FALSE)

# one arm with no events at all (monotone likelihood)
set.seed(7)
m <- 60
noev <- data.frame(time = sample(1:30, m, replace = TRUE),
                   arm = rep(0:1, each = m / 2), x = round(rnorm(m), 2))
noev$event <- ifelse(noev$arm == 1, 0L, rbinom(m, 1, 0.7))
write.csv(noev, file.path(here, "no_events_arm.csv"), row.names = FALSE)

# ---- helpers ----------------------------------------------------------------------------
mat <- function(m) unname(as.matrix(m))

fit_record <- function(call_text) {
  f <- eval(parse(text = call_text), envir = globalenv())
  s <- summary(f, conf.int = 0.95)
  ci <- s$conf.int
  list(
    call = call_text,
    method = f$method,
    terms = names(coef(f)),
    coef = unname(coef(f)),                                 # coef(fit)
    std_error = unname(sqrt(diag(vcov(f)))),                # sqrt(diag(vcov(fit)))
    hazard_ratio = unname(exp(coef(f))),                    # exp(coef(fit))
    ci_lower = unname(ci[, "lower .95"]),                   # summary(fit)$conf.int
    ci_upper = unname(ci[, "upper .95"]),
    z = unname(s$coefficients[, "z"]),                      # summary(fit)$coefficients
    p_value = unname(s$coefficients[, "Pr(>|z|)"]),
    vcov = mat(vcov(f)),                                    # vcov(fit)
    loglik = unname(f$loglik),                              # fit$loglik
    iter = f$iter,                                          # fit$iter
    n = f$n, nevent = f$nevent,
    logtest = unname(s$logtest),                            # summary(fit)$logtest
    # summary(fit)$waldtest rounds the statistic to 2 decimals (its p-value is not rounded);
    # the unrounded statistic is fit$wald.test
    waldtest = c(unname(f$wald.test), s$waldtest[2:3]),     # fit$wald.test, summary df, p
    sctest = unname(s$sctest),                              # summary(fit)$sctest
    # only for robust fits (non-integer case weights): fit$naive.var, summary(fit)$robscore
    naive_vcov = if (is.null(f$naive.var)) NULL else mat(f$naive.var),
    robscore = if (is.null(s$robscore)) NULL else unname(s$robscore)
  )
}

zph_record <- function(fit_call, transform, terms = TRUE) {
  f <- eval(parse(text = fit_call), envir = globalenv())
  z <- cox.zph(f, transform = transform, terms = terms)
  list(call = sprintf("cox.zph(%s, transform = \"%s\", terms = %s)", fit_call, transform,
                      terms),
       rows = rownames(z$table),
       chisq = unname(z$table[, "chisq"]), df = unname(z$table[, "df"]),
       p = unname(z$table[, "p"]))
}

schoen_record <- function(fit_call) {
  f <- eval(parse(text = fit_call), envir = globalenv())
  r <- residuals(f, type = "schoenfeld")
  list(call = sprintf("residuals(%s, type = \"schoenfeld\")", fit_call),
       time = as.numeric(rownames(as.matrix(r))), resid = mat(r))
}

# ---- fits -------------------------------------------------------------------------------
fits <- list(
  lung = "coxph(Surv(time, event) ~ sex + age + ph.karno, data = lung2)",
  lung_breslow = "coxph(Surv(time, event) ~ sex + age + ph.karno, data = lung2, ties = \"breslow\")",
  veteran_strata = "coxph(Surv(time, status) ~ trt2 + karno + strata(celltype), data = vet)",
  veteran_celltype = "coxph(Surv(time, status) ~ trt2 + karno + celltype, data = vet)",
  ovarian = "coxph(Surv(futime, fustat) ~ age + rx2 + ecog.ps, data = ova)",
  tied_efron = "coxph(Surv(day, event) ~ arm + baseline, data = tied)",
  tied_breslow = "coxph(Surv(day, event) ~ arm + baseline, data = tied, ties = \"breslow\")",
  tied_weights = "coxph(Surv(day, event) ~ arm + baseline, data = tied, weights = w_int)",
  tied_weights_robust = "coxph(Surv(day, event) ~ arm + baseline, data = tied, weights = w)",
  tied_strata = "coxph(Surv(day, event) ~ arm + baseline + strata(site), data = tied)",
  lung_conf90 = "coxph(Surv(time, event) ~ sex + age + ph.karno, data = lung2)"
)
ref <- list(fits = lapply(fits, fit_record))
# 90% intervals: summary(fit, conf.int = 0.90)$conf.int
f90 <- eval(parse(text = fits$lung_conf90))
ci90 <- summary(f90, conf.int = 0.90)$conf.int
ref$fits$lung_conf90$ci_lower <- unname(ci90[, 3])
ref$fits$lung_conf90$ci_upper <- unname(ci90[, 4])
ref$fits$lung_conf90$call <- paste0("summary(", fits$lung_conf90, ", conf.int = 0.90)")

zph <- list()
for (tr in c("km", "identity", "rank")) {
  zph[[paste0("lung_", tr)]] <- zph_record(fits$lung, tr)
  zph[[paste0("veteran_strata_", tr)]] <- zph_record(fits$veteran_strata, tr)
}
zph$veteran_celltype_km_terms <- zph_record(fits$veteran_celltype, "km", TRUE)
zph$veteran_celltype_km_columns <- zph_record(fits$veteran_celltype, "km", FALSE)
zph$tied_breslow_km <- zph_record(fits$tied_breslow, "km")
zph$tied_efron_km <- zph_record(fits$tied_efron, "km")
zph$tied_weights_km <- zph_record(fits$tied_weights, "km")
zph$tied_weights_robust_km <- zph_record(fits$tied_weights_robust, "km")
zph$tied_strata_identity <- zph_record(fits$tied_strata, "identity")
ref$zph <- zph

ref$schoenfeld <- list(
  lung = schoen_record(fits$lung),
  tied_efron = schoen_record(fits$tied_efron),
  tied_breslow = schoen_record(fits$tied_breslow),
  veteran_strata = schoen_record(fits$veteran_strata),
  tied_weights = schoen_record(fits$tied_weights)
)

# ---- edge: one arm without events -------------------------------------------------------
edge_call <- "coxph(Surv(time, event) ~ arm + x, data = noev)"
msgs <- character(0)
fe <- withCallingHandlers(eval(parse(text = edge_call)),
                          warning = function(w) {
                            msgs <<- c(msgs, conditionMessage(w))
                            invokeRestart("muffleWarning")
                          })
ref$no_events_arm <- list(call = edge_call, warnings = msgs, coef = unname(coef(fe)),
                          iter = fe$iter, loglik = unname(fe$loglik))

# ---- edge: running out of iterations (ovarian needs 5) ----------------------------------
short_call <- paste0("coxph(Surv(futime, fustat) ~ age + rx2 + ecog.ps, data = ova, ",
                     "control = coxph.control(iter.max = 2))")
msgs <- character(0)
fs <- withCallingHandlers(eval(parse(text = short_call)),
                          warning = function(w) {
                            msgs <<- c(msgs, conditionMessage(w))
                            invokeRestart("muffleWarning")
                          })
# vcov(fs) of a fit that ran out of iterations is not the inverse information at coef(fs)
# (coxfit6 inverts the information of the last, rejected, Newton step); the inverse
# information at coef(fs) is vcov() of a fit started at coef(fs) with iter.max = 0
at_call <- paste0("coxph(Surv(futime, fustat) ~ age + rx2 + ecog.ps, data = ova, ",
                  "init = coef(fs), control = coxph.control(iter.max = 0))")
fa <- eval(parse(text = at_call))
ref$ran_out <- list(call = short_call, warnings = msgs, coef = unname(coef(fs)),
                    std_error_R = unname(sqrt(diag(vcov(fs)))), iter = fs$iter,
                    loglik = unname(fs$loglik), at_coef_call = at_call,
                    std_error_at_coef = unname(sqrt(diag(vcov(fa)))),
                    loglik_at_coef = unname(fa$loglik))

ref$meta <- list(R = R.version.string, survival = as.character(packageVersion("survival")))
writeLines(toJSON(ref, digits = I(15), auto_unbox = TRUE, pretty = TRUE, matrix = "rowmajor"),
           file.path(here, "reference.json"))
cat("wrote", file.path(here, "reference.json"), "\n")
