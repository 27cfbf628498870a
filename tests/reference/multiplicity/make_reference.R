# Reference adjusted p-values for dryneedle_outcomes.stats.multiplicity.adjust_p.
#
#   Rscript tests/reference/multiplicity/make_reference.R   (from the repository root)
#
# Holm, Hochberg and Bonferroni: R's stats::p.adjust. Fixed sequence (hierarchical
# testing in the order given): the running maximum of the p-values in the testing
# order, cummax(p), the definition of Dmitrienko & D'Agostino (2013, Stat Med
# 32:5172-5218, section 3.3) as Dmitrienko's R package Mediana implements it
# (R/FixedSeqAdj.R: `result = cummax(p)`); Mediana is not installed here, so the
# definition is written out. Writes p_adjust.csv (one row per case and hypothesis).
here <- "tests/reference/multiplicity"
set.seed(2014)
cases <- list(
  two_both = c(0.012, 0.030),              # Hochberg rejects both at 0.05, Holm one
  two_one = c(0.030, 0.049),
  two_none = c(0.20, 0.04),
  ties = c(0.02, 0.02, 0.04, 0.5),
  three = c(0.01, 0.04, 0.03),
  near_one = c(0.9, 0.95, 0.4, 0.001),
  five = c(0.0001, 0.2, 0.011, 0.049, 0.7),
  random8 = signif(runif(8)^2, 6)
)
rows <- list()
for (name in names(cases)) {
  p <- cases[[name]]
  rows[[name]] <- data.frame(
    case = name, position = seq_along(p) - 1L, p = p,
    holm = p.adjust(p, "holm"), hochberg = p.adjust(p, "hochberg"),
    bonferroni = p.adjust(p, "bonferroni"), fixed_sequence = cummax(p))
}
out <- do.call(rbind, rows)
write.csv(out, file.path(here, "p_adjust.csv"), row.names = FALSE)
print(out, digits = 10)
cat(R.version.string, "\n")
