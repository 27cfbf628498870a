# Reference 2SLS fits by AER::ivreg (closed form) for tests/test_cace.py.
# Run from this folder: Rscript make_reference.R
suppressPackageStartupMessages(library(AER))
out <- list()
add <- function(case, fit, fs) {
  s <- summary(fit)$coefficients
  f <- summary(fs)$coefficients
  data.frame(case = case, term = rownames(s), estimate = s[, 1], std_error = s[, 2],
             first_stage_z = f[2, 1], first_stage_se = f[2, 2],
             df_resid = fit$df.residual, row.names = NULL)
}
for (name in c("binary", "sessions")) {
  d <- read.csv(sprintf("cace_data_%s.csv", name))
  out[[length(out) + 1]] <- add(paste0(name, "_baseline"),
    ivreg(y ~ received + baseline | z + baseline, data = d),
    lm(received ~ z + baseline, data = d))
  out[[length(out) + 1]] <- add(paste0(name, "_none"),
    ivreg(y ~ received | z, data = d), lm(received ~ z, data = d))
}
# published worked example: AER's ?CigarettesSW (Stock & Watson 2007, ch. 12)
data("CigarettesSW", package = "AER")
cig <- subset(CigarettesSW, year == "1995")
cig$rprice <- cig$price / cig$cpi
cig$rincome <- cig$income / cig$population / cig$cpi
cig$tdiff <- (cig$taxs - cig$tax) / cig$cpi
cig$lpacks <- log(cig$packs); cig$lrprice <- log(cig$rprice); cig$lrincome <- log(cig$rincome)
write.csv(cig[, c("state", "lpacks", "lrprice", "lrincome", "tdiff")], "cigarettes_sw_1995.csv",
          row.names = FALSE)
out[[length(out) + 1]] <- add("cigarettes",
  ivreg(lpacks ~ lrprice + lrincome | tdiff + lrincome, data = cig),
  lm(lrprice ~ tdiff + lrincome, data = cig))
res <- do.call(rbind, out)
write.csv(format(res, digits = 17), "reference.csv", row.names = FALSE)
writeLines(c(R.version.string, paste("AER", packageVersion("AER"))), "versions.txt")
