# Golden values for dryneedle_outcomes.harms, from base R (stats) and geepack.
#
#   python tests/reference/harms/export_harms_tables.py      (from the repository root)
#   Rscript tests/reference/harms/make_reference.R
#
# For each data set (sample, edge) R
#   1. recounts every adverse-event count from the canonical tables (<name>_*.csv),
#      with its own code and the rules of harms/events.py written out again here;
#   2. computes the intervals on the counts adverse_event_rates exported
#      (<name>_counts_<per>.csv): binom.test, prop.test(correct = FALSE), poisson.test;
#   3. compares the arms on its own counts: fisher.test, Newcombe's method 10 from
#      prop.test's Wilson limits, the risk ratio with the stated zero-cell rule;
#   4. fits the dose-response GEE with geepack::geeglm;
#   5. recounts the harms table (terms as rows, arms as columns) with the soreness rule
#      "lasted at least 48 h" (soreness_lower_h of the same patient and visit >= 48)
#      and computes its intervals: binom.test for participants, poisson.test for events
#      per 100 appointments; and again with from_sessions (soreness AEs also derived
#      from the session records: an appointment 1..k with no recorded soreness event
#      and soreness_lower_h >= 48 gets one; "possibly" = lower < 48 <= upper and
#      "unrecorded" = no interval are counted).
# Plus grids of edge cases for the interval functions and Newcombe's (1998) examples.
# Each number is stored under the R expression that produced it. Writes reference.json.
suppressPackageStartupMessages({ library(geepack); library(jsonlite) })
here <- "tests/reference/harms"

TERMS <- c("post_needling_soreness", "bruising", "bleeding", "vasovagal", "infection",
           "needle_site_pain", "aggravation_of_symptoms", "paraesthesia", "drowsiness",
           "headache", "nausea", "dizziness", "fainting", "other")
SEVERITIES <- c("mild", "moderate", "severe")
REFERENCE <- "sham"

read <- function(name, table) read.csv(file.path(here, sprintf("%s_%s.csv", name, table)),
                                       stringsAsFactors = FALSE)
ci <- function(x) list(lower = unname(x[1]), upper = unname(x[2]))
stack_ci <- function(l) list(lower = vapply(l, function(x) x$lower, 0),
                             upper = vapply(l, function(x) x$upper, 0))

# ------------------------------------------------------------------ recounting
categories <- function(ev) {
  out <- list(list(group = "any", term = "any", hit = rep(TRUE, nrow(ev))))
  for (t in TERMS) out[[length(out) + 1]] <- list(group = "term", term = t, hit = ev$term == t)
  for (s in SEVERITIES)
    out[[length(out) + 1]] <- list(group = "severity", term = s, hit = ev$severity == s)
  out[[length(out) + 1]] <- list(group = "serious", term = "serious", hit = ev$serious == 1)
  out[[length(out) + 1]] <- list(group = "withdrawal", term = "withdrawal",
                                 hit = ev$withdrawal == 1)
  out
}

recount <- function(name) {
  pts <- read(name, "patients"); a <- read(name, "assessments"); ev <- read(name, "adverse_events")
  ev <- ev[ev$visit >= 1 & ev$patient_id %in% pts$patient_id, ]     # treatment-emergent
  ev$arm <- pts$arm[match(ev$patient_id, pts$patient_id)]
  k <- max(a$visit[(a$needled == 1 | a$needles > 0) & a$visit >= 1])  # last session
  appts <- a[a$visit >= 1 & a$visit <= k, ]
  appts$arm <- pts$arm[match(appts$patient_id, pts$patient_id)]
  key <- function(d) paste(d$patient_id, d$visit, sep = "|")
  ev_in <- ev[key(ev) %in% key(appts), ]
  rows <- list(patient = list(), session = list(), `100_needles` = list())
  for (arm in unique(pts$arm)) {
    e_p <- ev[ev$arm == arm, ]; e_s <- ev_in[ev_in$arm == arm, ]
    ap <- appts[appts$arm == arm, ]
    cp <- categories(e_p); cs <- categories(e_s)
    for (i in seq_along(cp)) {
      sp <- e_p[cp[[i]]$hit, ]; ss <- e_s[cs[[i]]$hit, ]
      id <- list(arm = arm, group = cp[[i]]$group, term = cp[[i]]$term)
      rows$patient[[length(rows$patient) + 1]] <- c(id, list(
        count = length(unique(sp$patient_id)), denominator = sum(pts$arm == arm),
        n_events = nrow(sp), n_with_event = length(unique(sp$patient_id))))
      appts_with <- length(unique(key(ss)))
      rows$session[[length(rows$session) + 1]] <- c(id, list(
        count = appts_with, denominator = nrow(ap), n_events = nrow(ss),
        n_with_event = appts_with))
      rows$`100_needles`[[length(rows$`100_needles`) + 1]] <- c(id, list(
        count = nrow(ss), denominator = sum(ap$needles, na.rm = TRUE), n_events = nrow(ss),
        n_with_event = appts_with))
    }
  }
  to_df <- function(l) do.call(rbind, lapply(l, as.data.frame, stringsAsFactors = FALSE))
  list(k = k, tables = lapply(rows, to_df), ev_in = ev_in, appts = appts)
}

# ------------------------------------------------------------------ intervals on our counts
intervals <- function(name) {
  out <- list()
  for (per in c("patient", "session")) {
    d <- read(name, paste0("counts_", per))
    out[[per]] <- list(
      `binom.test(x, n)$conf.int` = stack_ci(Map(function(x, n) ci(binom.test(x, n)$conf.int),
                                                 d$count, d$denominator)),
      `binom.test(x, n, conf.level = 0.9)$conf.int` = stack_ci(Map(function(x, n)
        ci(binom.test(x, n, conf.level = 0.9)$conf.int), d$count, d$denominator)),
      `prop.test(x, n, correct = FALSE)$conf.int` = stack_ci(Map(function(x, n)
        ci(suppressWarnings(prop.test(x, n, correct = FALSE))$conf.int), d$count, d$denominator)))
  }
  d <- read(name, "counts_100_needles")
  pois <- Map(function(x, t) if (t > 0) ci(poisson.test(x, t)$conf.int)
              else list(lower = NA_real_, upper = NA_real_), d$count, d$denominator)
  out$`100_needles` <- list(`poisson.test(x, T)$conf.int` = stack_ci(pois))
  out
}

# ------------------------------------------------------------------ comparisons
newcombe <- function(x1, n1, x2, n2) {          # Newcombe (1998) method 10, from Wilson
  w1 <- suppressWarnings(prop.test(x1, n1, correct = FALSE))$conf.int
  w2 <- suppressWarnings(prop.test(x2, n2, correct = FALSE))$conf.int
  p1 <- x1 / n1; p2 <- x2 / n2
  c(p1 - p2 - sqrt((p1 - w1[1])^2 + (w2[2] - p2)^2),
    p1 - p2 + sqrt((w1[2] - p1)^2 + (p2 - w2[1])^2))
}
risk_ratio <- function(x1, n1, x2, n2) {        # Katz log CI; Haldane 0.5 if one zero cell
  if (x1 == 0 && x2 == 0) return(c(NA, NA, NA))
  c0 <- if (x1 == 0 || x2 == 0) 0.5 else 0
  a <- x1 + c0; b <- x2 + c0; m1 <- n1 + 2 * c0; m2 <- n2 + 2 * c0
  est <- (a / m1) / (b / m2); se <- sqrt(1 / a - 1 / m1 + 1 / b - 1 / m2)
  c(est, exp(log(est) + c(-1, 1) * qnorm(0.975) * se))
}
comparisons <- function(tab) {
  ref <- tab[tab$arm == REFERENCE, ]; oth <- tab[tab$arm != REFERENCE, ]
  r <- ref[match(paste(oth$group, oth$term), paste(ref$group, ref$term)), ]
  nc <- t(mapply(newcombe, oth$count, oth$denominator, r$count, r$denominator))
  rr <- t(mapply(risk_ratio, oth$count, oth$denominator, r$count, r$denominator))
  list(arm = oth$arm, group = oth$group, term = oth$term,
       `fisher.test(matrix(c(x1, x2, n1 - x1, n2 - x2), 2))$p.value` =
         unname(mapply(function(x1, n1, x2, n2)
           fisher.test(matrix(c(x1, x2, n1 - x1, n2 - x2), 2))$p.value,
           oth$count, oth$denominator, r$count, r$denominator)),
       newcombe = list(lower = nc[, 1], upper = nc[, 2]),
       risk_ratio = list(estimate = rr[, 1], lower = rr[, 2], upper = rr[, 3]))
}

# ------------------------------------------------------------------ dose-response GEE
gee_fits <- function(rc, min_events = 10) {
  ev_in <- rc$ev_in; key <- function(d) paste(d$patient_id, d$visit, sep = "|")
  fit <- function(d, term) {
    hit <- if (term == "any") ev_in else ev_in[ev_in$term == term, ]
    d$y <- as.integer(key(d) %in% key(hit))
    d <- d[order(d$patient_id, d$visit), ]
    m <- geeglm(y ~ needles + twitch_responses, family = binomial, data = d,
                id = factor(patient_id, levels = unique(d$patient_id)),
                corstr = "exchangeable", control = geese.control(epsilon = 1e-12, maxit = 200))
    s <- summary(m)
    list(call = "geeglm(y ~ needles + twitch_responses, family = binomial, id = patient_id, corstr = \"exchangeable\")",
         nobs = nrow(d), n_events = sum(d$y), n_patients = length(unique(d$patient_id)),
         `coef(m)` = unname(coef(m)),
         `summary(m)$coefficients[, "Std.err"]` = unname(s$coefficients[, "Std.err"]),
         `summary(m)$coefficients[, "Pr(>|W|)"]` = unname(s$coefficients[, "Pr(>|W|)"]),
         `summary(m)$corr$Estimate` = unname(s$corr$Estimate))
  }
  needled <- rc$appts[rc$appts$needled == 1, ]
  keep <- c("any", TERMS[vapply(TERMS, function(t)
    length(unique(key(merge(ev_in[ev_in$term == t, ], needled[, c("patient_id", "visit")])))) >=
      min_events, TRUE)])
  out <- list(needled_only = setNames(lapply(keep, function(t) fit(needled, t)), keep))
  out$all_appointments <- list(any = fit(rc$appts, "any"))
  out
}

# ------------------------------------------------------------------ harms table
harms_table <- function(name, min_hours = 48, from_sessions = FALSE) {
  pts <- read(name, "patients"); a <- read(name, "assessments"); ev <- read(name, "adverse_events")
  ev <- ev[ev$visit >= 1 & ev$patient_id %in% pts$patient_id, ]
  key <- function(d) paste(d$patient_id, d$visit, sep = "|")
  recorded_sore <- key(ev)[ev$term == "post_needling_soreness"]   # before the rule
  # the event's own duration when recorded (the simulated sample records it since
  # issue 12), else the soreness interval of the same patient and visit
  sore_h <- a$soreness_lower_h[match(key(ev), key(a))]
  if (!is.null(ev$duration_h)) sore_h <- ifelse(is.na(ev$duration_h), sore_h, ev$duration_h)
  keep <- ev$term != "post_needling_soreness" | (!is.na(sore_h) & sore_h >= min_hours)
  n_dropped <- sum(!keep)
  ev <- ev[keep, ]
  ev$arm <- pts$arm[match(ev$patient_id, pts$patient_id)]
  k <- max(a$visit[(a$needled == 1 | a$needles > 0) & a$visit >= 1])
  appts <- a[a$visit >= 1 & a$visit <= k, ]
  appts$arm <- pts$arm[match(appts$patient_id, pts$patient_id)]
  derived <- list()
  if (from_sessions) {
    free <- !(key(appts) %in% recorded_sore)
    lo <- appts$soreness_lower_h; hi <- appts$soreness_upper_h
    certain <- free & !is.na(lo) & lo >= min_hours
    new <- ev[rep(NA_integer_, sum(certain)), ]           # same columns, all NA
    new$patient_id <- appts$patient_id[certain]; new$visit <- appts$visit[certain]
    new$term <- "post_needling_soreness"; new$serious <- 0; new$withdrawal <- 0
    new$arm <- appts$arm[certain]
    ev <- rbind(ev, new)
    derived <- list(n_soreness_derived = sum(certain),
                    n_soreness_possibly = sum(free & !certain & !is.na(hi) & hi >= min_hours),
                    n_soreness_unrecorded = sum(free & is.na(lo) & is.na(hi)),
                    n_soreness_already_recorded = sum(!free))
  }
  ev_in <- ev[key(ev) %in% key(appts), ]
  rows <- list()
  for (arm in unique(pts$arm)) {
    e_p <- ev[ev$arm == arm, ]; e_s <- ev_in[ev_in$arm == arm, ]
    cats <- categories(e_p); cs <- categories(e_s)
    for (i in seq_along(cats)) {
      if (cats[[i]]$group == "severity") next
      x <- length(unique(e_p$patient_id[cats[[i]]$hit])); n <- sum(pts$arm == arm)
      e <- sum(cs[[i]]$hit); t <- sum(appts$arm == arm)
      bt <- binom.test(x, n)$conf.int; pt <- poisson.test(e, t)$conf.int
      rows[[length(rows) + 1]] <- list(arm = arm, group = cats[[i]]$group,
        term = cats[[i]]$term, n_participants_with_event = x, n_participants = n,
        n_events = e, n_appointments = t, lower = bt[1], upper = bt[2],
        rate_lower = 100 * pt[1], rate_upper = 100 * pt[2])
    }
  }
  d <- do.call(rbind, lapply(rows, as.data.frame, stringsAsFactors = FALSE))
  c(derived, list(min_hours = min_hours, n_soreness_not_meeting_rule = n_dropped,
       arm = d$arm, group = d$group, term = d$term,
       n_participants_with_event = d$n_participants_with_event,
       n_participants = d$n_participants, n_events = d$n_events,
       n_appointments = d$n_appointments,
       `binom.test(x, n)$conf.int` = list(lower = d$lower, upper = d$upper),
       `100 * poisson.test(events, appointments)$conf.int` =
         list(lower = d$rate_lower, upper = d$rate_upper)))
}

# ------------------------------------------------------------------ assemble
out <- list(R = R.version.string, geepack = as.character(packageVersion("geepack")),
            geese_control = "geese.control(epsilon = 1e-12, maxit = 200)", datasets = list())
for (name in c("sample", "edge")) {
  rc <- recount(name)
  out$datasets[[name]] <- list(
    last_session = rc$k,
    recount = lapply(rc$tables, as.list),
    intervals = intervals(name),
    comparison = list(patient = comparisons(rc$tables$patient),
                      session = comparisons(rc$tables$session)),
    gee = gee_fits(rc),
    harms_table_soreness48 = harms_table(name),
    harms_table_soreness48_sessions = harms_table(name, from_sessions = TRUE))
}

# grids of edge cases
grid <- list()
for (n in c(1, 7, 42, 228, 1000)) for (x in unique(c(0, 1, 2, n %/% 3, n - 1, n)))
  if (x >= 0 && x <= n) grid[[length(grid) + 1]] <- c(x, n)
gx <- sapply(grid, `[`, 1); gn <- sapply(grid, `[`, 2)
out$binom_grid <- list(x = gx, n = gn,
  `binom.test(x, n)$conf.int` = stack_ci(Map(function(x, n) ci(binom.test(x, n)$conf.int), gx, gn)),
  `binom.test(x, n, conf.level = 0.99)$conf.int` = stack_ci(Map(function(x, n)
    ci(binom.test(x, n, conf.level = 0.99)$conf.int), gx, gn)),
  `prop.test(x, n, correct = FALSE)$conf.int` = stack_ci(Map(function(x, n)
    ci(suppressWarnings(prop.test(x, n, correct = FALSE))$conf.int), gx, gn)))
px <- rep(c(0, 1, 5, 85, 1000), each = 3); pt <- rep(c(1, 1390, 5056.5), 5)
out$poisson_grid <- list(x = px, T = pt,
  `poisson.test(x, T)$conf.int` = stack_ci(Map(function(x, t) ci(poisson.test(x, t)$conf.int), px, pt)))
two <- list(c(20, 1000, 10, 1000), c(85, 1390, 3, 900), c(0, 500, 4, 700), c(5, 100, 0, 200),
            c(52, 1390, 40, 1200))
out$poisson_two_sample <- list(
  x1 = sapply(two, `[`, 1), T1 = sapply(two, `[`, 2), x2 = sapply(two, `[`, 3),
  T2 = sapply(two, `[`, 4),
  `poisson.test(c(x1, x2), c(T1, T2))$estimate` = sapply(two, function(v)
    unname(poisson.test(v[c(1, 3)], v[c(2, 4)])$estimate)),
  `poisson.test(c(x1, x2), c(T1, T2))$conf.int` = stack_ci(lapply(two, function(v)
    ci(poisson.test(v[c(1, 3)], v[c(2, 4)])$conf.int))),
  `poisson.test(c(x1, x2), c(T1, T2))$p.value` = sapply(two, function(v)
    poisson.test(v[c(1, 3)], v[c(2, 4)])$p.value))
ft <- list(c(7, 10, 1, 10), c(37, 42, 1, 42), c(3, 228, 1, 235), c(0, 42, 0, 42),
           c(10, 20, 10, 20), c(1, 2, 1, 2), c(5, 56, 0, 29), c(77, 228, 1, 235),
           c(4, 8, 4, 8), c(2, 9, 6, 11), c(12, 40, 3, 45))
out$fisher_grid <- list(
  x1 = sapply(ft, `[`, 1), n1 = sapply(ft, `[`, 2), x2 = sapply(ft, `[`, 3),
  n2 = sapply(ft, `[`, 4),
  `fisher.test(matrix(c(x1, x2, n1 - x1, n2 - x2), 2))$p.value` = sapply(ft, function(v)
    fisher.test(matrix(c(v[1], v[3], v[2] - v[1], v[4] - v[3]), 2))$p.value))
ex <- list(a = c(56, 70, 48, 80), b = c(9, 10, 3, 10), c = c(6, 7, 2, 7), d = c(5, 56, 0, 29),
           e = c(0, 10, 0, 20), f = c(0, 10, 0, 10))
out$newcombe_examples <- list(
  x1 = sapply(ex, `[`, 1), n1 = sapply(ex, `[`, 2), x2 = sapply(ex, `[`, 3),
  n2 = sapply(ex, `[`, 4),
  `newcombe(x1, n1, x2, n2) from prop.test(correct = FALSE)$conf.int` =
    stack_ci(lapply(ex, function(v) ci(newcombe(v[1], v[2], v[3], v[4])))),
  # Newcombe (1998) Table II, method 10, as quoted in issue 4 (4 decimals). Example (c)
  # as quoted, 0.0342 to 0.8210, is not what method 10 gives (0.0582 to 0.8062, by hand
  # and above; the quoted lower limit is the Miettinen-Nurminen one), so tests/test_harms.py
  # checks (c) against the computed interval only
  quoted = list(lower = c(0.0524, 0.1705, 0.0342, -0.0381, -0.1611, -0.2775),
                upper = c(0.3339, 0.8090, 0.8210, 0.1926, 0.2775, 0.2775)),
  not_reproduced = "c")

# the risk ratio with Haldane's 0.5 on a zero cell, by hand from its definition
# (31/42 vs 0/42: post-needling soreness per participant in the sample before the soreness
# rule, the "63, CI 4 to 997" of issue 12)
rr_cases <- list(c(31, 42, 0, 42), c(52, 229, 0, 235), c(5, 56, 0, 29), c(12, 40, 3, 45))
out$risk_ratio_haldane <- list(
  x1 = sapply(rr_cases, `[`, 1), n1 = sapply(rr_cases, `[`, 2),
  x2 = sapply(rr_cases, `[`, 3), n2 = sapply(rr_cases, `[`, 4),
  `risk_ratio(x1, n1, x2, n2): Katz log CI, 0.5 added to every cell on a zero cell` =
    lapply(rr_cases, function(v) risk_ratio(v[1], v[2], v[3], v[4])))

write_json(out, file.path(here, "reference.json"), auto_unbox = TRUE, digits = NA,
           pretty = TRUE, na = "null")
