# Golden values for responders(): counts, Wilson CIs, Newcombe RD CIs and p-values.
#
#   python tests/reference/responders/export_tables.py     (from the repository root)
#   Rscript tests/reference/responders/make_reference.R
#
# Data: "sample" is the bundled sample cohort; "gappy" the same with three baselines
# removed (export_tables.py). R counts the responders itself from the exported change-from-baseline tables (it
# recomputes the improvement from aval and base), so the counting is checked, not only
# the intervals. Each number is stored under the R expression that produced it.
# R 4.2.2, base stats only (+ jsonlite to write the JSON).
suppressPackageStartupMessages(library(jsonlite))
here <- "tests/reference/responders"
tol <- 1e-9      # the responders() comparison tolerance: cut-offs are inclusive

arms <- c("dry_needling", "sham")          # arm, then the reference (sham)

# Newcombe (1998) method 10, straight from its definition: Wilson limits (l_i, u_i) of
# each proportion, then  d - sqrt((p1 - l1)^2 + (u2 - p2)^2),  d + sqrt((u1 - p1)^2 + (p2 - l2)^2)
newcombe <- function(x1, n1, x2, n2, conf.level = 0.95) {
  w1 <- prop.test(x1, n1, correct = FALSE, conf.level = conf.level)$conf.int
  w2 <- prop.test(x2, n2, correct = FALSE, conf.level = conf.level)$conf.int
  p1 <- x1 / n1; p2 <- x2 / n2; d <- p1 - p2
  c(d - sqrt((p1 - w1[1])^2 + (w2[2] - p2)^2), d + sqrt((w1[2] - p1)^2 + (p2 - w2[1])^2))
}

responder_case <- function(outcome, kind, cut, missing, conf.level = 0.95, data = "sample") {
  patients <- read.csv(file.path(here, paste0(data, "_patients.csv")), stringsAsFactors = FALSE)
  cfb <- read.csv(file.path(here, paste0(data, "_cfb_", outcome, ".csv")),
                  stringsAsFactors = FALSE)
  direction <- -1                            # both exported outcomes: higher is worse
  improvement <- (cfb$aval - cfb$base) * direction
  stopifnot(isTRUE(all.equal(improvement, cfb$improvement)))
  cfb$improvement <- improvement
  has_base <- unique(cfb$patient_id[cfb$visit == 0 & !is.na(cfb$aval)])
  n_arm <- sapply(arms, function(a)
    sum(patients$arm == a & patients$patient_id %in% has_base))
  post <- cfb[cfb$visit >= 1 & !is.na(cfb$aval) & !is.na(cfb$base), ]
  post$responder <- switch(kind,
    mcid = post$improvement >= cut - tol,
    percent_reduction = post$base != 0 & post$improvement >= cut / 100 * abs(post$base) - tol,
    threshold = post$aval <= cut + tol)
  visits <- sort(unique(post$visit))
  out <- list(arm = character(), visit = numeric(), n_responders = numeric(),
              denominator = numeric(), estimate = numeric(), ci_lower = numeric(),
              ci_upper = numeric())
  diff <- list(visit = numeric(), estimate = numeric(), ci_lower = numeric(),
               ci_upper = numeric(), fisher = numeric(), chisq = numeric())
  for (v in visits) {
    x <- n <- c()
    for (a in arms) {
      rows <- post[post$visit == v & post$arm == a, ]
      x[a] <- sum(rows$responder)
      n[a] <- if (missing == "observed") nrow(rows) else n_arm[[a]]
      ci <- suppressWarnings(prop.test(x[a], n[a], correct = FALSE,
                                       conf.level = conf.level)$conf.int)
      out$arm <- c(out$arm, a); out$visit <- c(out$visit, v)
      out$n_responders <- c(out$n_responders, x[a]); out$denominator <- c(out$denominator, n[a])
      out$estimate <- c(out$estimate, x[a] / n[a])
      out$ci_lower <- c(out$ci_lower, ci[1]); out$ci_upper <- c(out$ci_upper, ci[2])
    }
    tab <- matrix(c(x[1], n[1] - x[1], x[2], n[2] - x[2]), 2, byrow = TRUE)
    nc <- suppressWarnings(newcombe(x[1], n[1], x[2], n[2], conf.level))
    chi <- suppressWarnings(chisq.test(tab, correct = FALSE)$p.value)
    diff$visit <- c(diff$visit, v); diff$estimate <- c(diff$estimate, x[1] / n[1] - x[2] / n[2])
    diff$ci_lower <- c(diff$ci_lower, nc[1]); diff$ci_upper <- c(diff$ci_upper, nc[2])
    diff$fisher <- c(diff$fisher, fisher.test(tab)$p.value)
    diff$chisq <- c(diff$chisq, if (is.nan(chi)) NA else chi)
  }
  names(out)[names(out) == "ci_lower"] <- "prop.test(x, n, correct = FALSE)$conf.int[1]"
  names(out)[names(out) == "ci_upper"] <- "prop.test(x, n, correct = FALSE)$conf.int[2]"
  names(out)[names(out) == "n_responders"] <- "sum(responder)"
  names(diff)[names(diff) == "ci_lower"] <- "newcombe(x1, n1, x2, n2)[1]"
  names(diff)[names(diff) == "ci_upper"] <- "newcombe(x1, n1, x2, n2)[2]"
  names(diff)[names(diff) == "fisher"] <- "fisher.test(tab)$p.value"
  names(diff)[names(diff) == "chisq"] <- "chisq.test(tab, correct = FALSE)$p.value"
  list(call = list(data = data, outcome = outcome, kind = kind, cut = cut, missing = missing,
                   conf_level = conf.level),
       `sum(!patients$patient_id %in% has_base)` = sum(!patients$patient_id %in% has_base),
       proportions = out, difference = diff)
}

cases <- list(
  fsp_mcid_observed = responder_case("first_step_pain", "mcid", 19, "observed"),
  fsp_mcid_non_responder = responder_case("first_step_pain", "mcid", 19, "non_responder"),
  fsp_pct30_observed = responder_case("first_step_pain", "percent_reduction", 30, "observed"),
  fsp_pct50_non_responder = responder_case("first_step_pain", "percent_reduction", 50,
                                           "non_responder"),
  fsp_threshold20_observed = responder_case("first_step_pain", "threshold", 20, "observed"),
  vas_mcid_observed_90 = responder_case("vas_pain", "mcid", 8, "observed", 0.90),
  gappy_fsp_mcid_observed = responder_case("first_step_pain", "mcid", 19, "observed",
                                           data = "gappy"),
  gappy_fsp_mcid_non_responder = responder_case("first_step_pain", "mcid", 19,
                                                "non_responder", data = "gappy")
)

# Newcombe (1998) Table II, the eight worked examples; the published method-10 limits
# (4 decimals) beside the ones R computes from the definition above.
ex <- data.frame(x1 = c(56, 9, 6, 5, 0, 0, 10, 10), n1 = c(70, 10, 7, 56, 10, 10, 10, 10),
                 x2 = c(48, 3, 2, 0, 0, 0, 0, 0), n2 = c(80, 10, 7, 29, 20, 10, 20, 10))
nc <- suppressWarnings(t(mapply(newcombe, ex$x1, ex$n1, ex$x2, ex$n2)))
newcombe_table2 <- list(
  example = letters[1:8], x1 = ex$x1, n1 = ex$n1, x2 = ex$x2, n2 = ex$n2,
  `newcombe(x1, n1, x2, n2)[1]` = nc[, 1], `newcombe(x1, n1, x2, n2)[2]` = nc[, 2],
  published_lower = c(0.0524, 0.1705, 0.0582, -0.0381, -0.1611, -0.2775, 0.6791, 0.6075),
  published_upper = c(0.3339, 0.8090, 0.8062, 0.1926, 0.2775, 0.2775, 1.0000, 1.0000))
stopifnot(max(abs(round(nc[, 1], 4) - newcombe_table2$published_lower)) < 1e-9,
          max(abs(round(nc[, 2], 4) - newcombe_table2$published_upper)) < 1e-9)

out <- list(r_version = R.version.string, tolerance = tol, cases = cases,
            newcombe_table2 = newcombe_table2)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE),
           file.path(here, "reference.json"))
