# Golden values for baseline_table(): summaries, normality rule inputs and p-values.
#
#   python tests/reference/responders/export_tables.py     (from the repository root)
#   Rscript tests/reference/responders/baseline_table.R
#
# Reads <data>_patients_baseline.csv (patients plus each instrument's visit-0 value) for
# the sample cohort and the "gappy" one (missing values), writes baseline_table.json.
# Each number is stored under the R expression that produced it (x: the non-missing
# values of the variable in the group; "overall" is every arm together).
# R 4.2.2, base stats only (+ jsonlite).
suppressPackageStartupMessages(library(jsonlite))
here <- "tests/reference/responders"
arms <- c("dry_needling", "sham")
continuous <- c("age", "bmi", "symptom_months", "first_step_pain", "vas_pain")
categorical <- c("sex", "site", "pregnant", "immunocompromised", "needle_fear")

skewness_g1 <- function(x) { m <- mean(x); mean((x - m)^3) / mean((x - m)^2)^1.5 }

one_data <- function(data) {
  d <- read.csv(file.path(here, paste0(data, "_patients_baseline.csv")),
                stringsAsFactors = FALSE, na.strings = "")
  groups <- c(arms, "overall")
  pick <- function(g) if (g == "overall") rep(TRUE, nrow(d)) else d$arm == g
  cont <- list()
  for (v in continuous) {
    res <- list(group = groups)
    for (g in groups) {
      x <- d[[v]][pick(g)]; miss <- sum(is.na(x)); x <- x[!is.na(x)]
      q <- quantile(x, c(0.25, 0.5, 0.75), type = 7, names = FALSE)
      res[["length(x)"]] <- c(res[["length(x)"]], length(x))
      res[["sum(is.na(x))"]] <- c(res[["sum(is.na(x))"]], miss)
      res[["mean(x)"]] <- c(res[["mean(x)"]], mean(x))
      res[["sd(x)"]] <- c(res[["sd(x)"]], sd(x))
      res[["median(x)"]] <- c(res[["median(x)"]], median(x))
      res[["quantile(x, 0.25, type = 7)"]] <- c(res[["quantile(x, 0.25, type = 7)"]], q[1])
      res[["quantile(x, 0.75, type = 7)"]] <- c(res[["quantile(x, 0.75, type = 7)"]], q[3])
    }
    x <- d[[v]][!is.na(d[[v]])]
    res[["skewness_g1(x_pooled)"]] <- skewness_g1(x)
    res[["shapiro.test(x_pooled)$p.value"]] <- shapiro.test(x)$p.value
    ok <- !is.na(d[[v]])
    res[["t.test(x ~ arm, var.equal = TRUE)$p.value"]] <-
      t.test(d[[v]][ok] ~ d$arm[ok], var.equal = TRUE)$p.value
    res[["oneway.test(x ~ arm, var.equal = TRUE)$p.value"]] <-
      oneway.test(d[[v]][ok] ~ d$arm[ok], var.equal = TRUE)$p.value
    res[["kruskal.test(x ~ arm)$p.value"]] <- kruskal.test(d[[v]][ok] ~ d$arm[ok])$p.value
    cont[[v]] <- res
  }
  cat_res <- list()
  for (v in categorical) {
    x <- d[[v]]
    if (is.logical(x) || all(x %in% c("True", "False", NA))) x <- x %in% c(TRUE, "True") &
                                                               !is.na(x)
    x[is.na(d[[v]])] <- NA
    tab <- table(d$arm, x)                      # rows: arms; NA left out, as in the table
    levels <- colnames(tab)
    res <- list(levels = levels,
                `table(arm, x)` = lapply(arms, function(a) unname(as.numeric(tab[a, ]))),
                `table(x)` = unname(as.numeric(table(x))),
                `tapply(is.na(x), arm, sum)` = unname(as.numeric(tapply(is.na(x), d$arm,
                                                                      sum)[arms])),
                `sum(is.na(x))` = sum(is.na(x)))
    names(res$`table(arm, x)`) <- arms
    tab2 <- tab[, colSums(tab) > 0, drop = FALSE]
    res[["chisq.test(table(arm, x), correct = FALSE)$p.value"]] <-
      if (ncol(tab2) > 1) suppressWarnings(chisq.test(tab2, correct = FALSE)$p.value) else NA
    res[["fisher.test(table(arm, x))$p.value"]] <-
      if (ncol(tab2) > 1) fisher.test(tab2)$p.value else NA
    res[["min(chisq.test(table(arm, x))$expected)"]] <-
      if (ncol(tab2) > 1) suppressWarnings(min(chisq.test(tab2)$expected)) else NA
    cat_res[[v]] <- res
  }
  list(n = unname(as.numeric(table(d$arm)[arms])), continuous = cont, categorical = cat_res)
}

out <- list(r_version = R.version.string, arms = arms,
            sample = one_data("sample"), gappy = one_data("gappy"))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE),
           file.path(here, "baseline_table.json"))
