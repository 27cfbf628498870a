# Reference blinding indices from the R package BI (Schwartz & Mercaldo, version 1.2.0,
# https://github.com/marcschwartz/BI, GPL-3), on the worked examples of its documentation:
# the CRISP trial of Bang et al. (2004, Table 7) and the three respondent groups of
# Houweling et al. (2014, Table 2). BI is not on CRAN's mirror here, so the script takes
# the package's R/BI.r as an argument (its code is not copied into this repository):
#     Rscript tests/reference/blinding/make_reference.R path/to/BI/R/BI.r
# or, with the package installed, no argument (library(BI)).
args <- commandArgs(trailingOnly = TRUE)
if (length(args)) source(args[1]) else library(BI)
examples <- list(
  crisp_bang2004_table7 = c(82, 27, 25, 29, 170, 83),
  houweling2014_investigators = c(48, 22, 4, 30, 330, 319),
  houweling2014_coordinators = c(94, 52, 11, 44, 289, 284),
  houweling2014_patients = c(143, 104, 14, 57, 188, 175))
out <- NULL
for (name in names(examples)) {
  x <- matrix(examples[[name]], nrow = 3, ncol = 2, byrow = TRUE)
  for (alt in c("two.sided", "greater", "less")) {
    r <- BI(x, alternative.J = alt, alternative.B = alt)
    j <- r$JamesBI; b <- r$BangBI
    cnt <- paste(examples[[name]], collapse = " ")
    out <- rbind(out, data.frame(row.names = NULL, example = name, counts = cnt, alternative = alt,
                                 index = c("james", "bang", "bang"),
                                 arm = c("overall", "active", "sham"),
                                 estimate = c(j[1], b[, 1]), std_error = c(j[2], b[, 2]),
                                 ci_lower = c(j[3], b[, 3]), ci_upper = c(j[4], b[, 4])))
  }
}
write.csv(out, "tests/reference/blinding/reference.csv", row.names = FALSE)
print(out, digits = 8)
