# Reference values for dno.immediate_cumulative, from nlme::gls + emmeans.
#
#   Rscript tests/reference/immediate_cumulative/make_reference.R   (from the repository root)
#
# Reads within_session.csv (written by export_data.py) and writes reference.csv: one number
# per row (`statistic` = estimate, std_error or df; `value`) with the R expression that
# produced it in `source`, and versions.json.
# Model: the MMRM of immediate_cumulative,
#   gls(y ~ baseline + arm * occ, correlation = corSymm(form = ~ occn | patient_id),
#       weights = varIdent(form = ~ 1 | occ), method = "REML")
# i.e. an unstructured covariance over the 5 occasions (visit x timing) within patient.
# LS-means at the mean baseline over the rows (emmeans' default); effects and their arm
# differences are linear contrasts of the LS-means (contrast(..., adjust = "none")).
# Degrees of freedom: emmeans' Satterthwaite for gls (mode = "satterthwaite", from
# nlme's apVar); nlme has no Kenward-Roger.
suppressPackageStartupMessages({library(nlme); library(emmeans)})
here <- "tests/reference/immediate_cumulative"
d <- read.csv(file.path(here, "within_session.csv"), stringsAsFactors = FALSE)
d$arm <- factor(d$arm, levels = c("sham", "dry_needling"))    # reference arm first
occ_levels <- sort(unique(d$occasion))
d$occ <- factor(d$occasion, levels = occ_levels)
d$occn <- as.integer(d$occ)
d <- d[order(d$patient_id, d$occn), ]
m <- gls(y ~ baseline + arm * occ, data = d,
         correlation = corSymm(form = ~ occn | patient_id),
         weights = varIdent(form = ~ 1 | occ), method = "REML",
         control = glsControl(maxIter = 500, msMaxIter = 500, tolerance = 1e-8,
                              msTol = 1e-10))
emm <- emmeans(m, ~ occ | arm, mode = "satterthwaite")
s <- as.data.frame(summary(emm))
occ_info <- unique(d[, c("occasion", "visit", "timing")])
occ_info <- occ_info[order(occ_info$occasion), ]
mean_base <- mean(d$baseline)

out <- data.frame(quantity = "logLik", effect = "", arm = "", session = NA, visit = NA,
                  timing = "", estimate = as.numeric(logLik(m)), std_error = NA, df = NA,
                  source = "logLik(m)", stringsAsFactors = FALSE)
for (a in levels(d$arm)) {
  r <- s[s$arm == a, ]
  out <- rbind(out, data.frame(
    quantity = "marginal_mean", effect = "", arm = a, session = NA,
    visit = occ_info$visit, timing = occ_info$timing, estimate = r$emmean,
    std_error = r$SE, df = r$df, source = "summary(emmeans(m, ~ occ | arm))",
    stringsAsFactors = FALSE))
}
# the effects: (name, session, end occasion, start occasion or NA), as in the module docstring
n_occ <- length(occ_levels)
pre <- which(occ_info$timing == "pre_session")
spec <- list()
for (i in pre) {
  k <- sum(occ_info$timing[seq_len(i)] == "pre_session")
  post <- which(occ_info$visit == occ_info$visit[i] & occ_info$timing == "post_session")
  if (length(post)) spec[[length(spec) + 1]] <- list("immediate", k, post[1], i)
  later <- which(occ_info$visit > occ_info$visit[i] & occ_info$timing != "post_session")
  if (length(later)) spec[[length(spec) + 1]] <- list("carry_over", k, later[1], i)
}
for (i in which(occ_info$timing != "post_session")) {
  received <- sum(occ_info$timing[seq_len(i)] == "post_session")
  spec[[length(spec) + 1]] <- list("cumulative", received, i, NA)
}
emm_all <- update(emm, by = NULL)                    # occ fastest, then arm
cell <- function(arm_index, occ_index) {
  v <- numeric(2 * n_occ); v[(arm_index - 1) * n_occ + occ_index] <- 1; v
}
for (e in spec) {
  name <- e[[1]]; end <- e[[3]]; start <- e[[4]]
  per_arm <- lapply(1:2, function(j) cell(j, end) - (if (is.na(start)) 0 else cell(j, start)))
  vecs <- c(setNames(per_arm, levels(d$arm)), list(difference = per_arm[[2]] - per_arm[[1]]))
  con <- tryCatch(as.data.frame(summary(contrast(emm_all, method = vecs, adjust = "none"))),
                  error = function(e) {   # emmeans' approximate Satterthwaite can fail
                    x <- as.data.frame(summary(contrast(update(emm_all, df = Inf),
                                                        method = vecs, adjust = "none")))
                    x$df <- NA_real_; x })
  shift <- if (name == "cumulative") c(mean_base, mean_base, 0) else c(0, 0, 0)
  out <- rbind(out, data.frame(
    quantity = c("effect", "effect", "difference"), effect = name,
    arm = c(levels(d$arm), "dry_needling"), session = e[[2]], visit = occ_info$visit[end],
    timing = occ_info$timing[end], estimate = con$estimate - shift, std_error = con$SE,
    df = con$df, source = paste0("contrast(update(emmeans(m, ~ occ | arm, mode = \"satterthwaite\"), by = NULL),",
                                 " method = <", name, ">)"),
    stringsAsFactors = FALSE))
}
# long form: one number per row, with the R expression that produced it
long <- do.call(rbind, lapply(c("estimate", "std_error", "df"), function(col) {
  x <- out[!is.na(out[[col]]), c("quantity", "effect", "arm", "session", "visit", "timing",
                                 "source")]
  x$statistic <- col; x$value <- out[[col]][!is.na(out[[col]])]; x
}))
write.csv(long[, c("quantity", "effect", "arm", "session", "visit", "timing", "statistic",
                   "value", "source")], file.path(here, "reference.csv"), row.names = FALSE)
jsonlite::write_json(list(R = R.version.string,
                          nlme_version = as.character(packageVersion("nlme")),
                          emmeans_version = as.character(packageVersion("emmeans"))),
                     file.path(here, "versions.json"), auto_unbox = TRUE, pretty = TRUE)
