# Hedges' g (metafor::escalc(measure = "SMD", vtype = "LS")) and the pooled-variance mean
# difference (t.test(var.equal = TRUE)) of the improvement in first-step pain per visit,
# dry needling vs sham, observed cases, on the committed export of the sample cohort
# (tests/reference/responders/sample_cfb_first_step_pain.csv). From the repository root:
#     Rscript tests/reference/effect_sizes/make_reference.R
library(metafor)
cfb <- read.csv("tests/reference/responders/sample_cfb_first_step_pain.csv",
                stringsAsFactors = FALSE)
post <- cfb[cfb$visit >= 1 & !is.na(cfb$aval) & !is.na(cfb$base), ]
out <- NULL
for (v in sort(unique(post$visit))) {
  a <- post$improvement[post$visit == v & post$arm == "dry_needling"]
  b <- post$improvement[post$visit == v & post$arm == "sham"]
  es <- escalc(measure = "SMD", m1i = mean(a), sd1i = sd(a), n1i = length(a),
               m2i = mean(b), sd2i = sd(b), n2i = length(b), vtype = "LS")
  ci <- summary(es)                         # Wald CI: yi +/- qnorm(0.975) sqrt(vi)
  tt <- t.test(a, b, var.equal = TRUE)
  out <- rbind(out, data.frame(visit = v, n_arm = length(a), n_reference = length(b),
                               mean_difference = mean(a) - mean(b),
                               md_ci_lower = tt$conf.int[1], md_ci_upper = tt$conf.int[2],
                               yi = es$yi, vi = es$vi, ci_lb = ci$ci.lb, ci_ub = ci$ci.ub))
}
# a hand-sized case: means 10 vs 8, SDs 4 and 6, n 20 and 22
es <- escalc(measure = "SMD", m1i = 10, sd1i = 4, n1i = 20, m2i = 8, sd2i = 6, n2i = 22,
             vtype = "LS")
ci <- summary(es)
out <- rbind(out, data.frame(visit = NA, n_arm = 20, n_reference = 22, mean_difference = 2,
                             md_ci_lower = NA, md_ci_upper = NA, yi = es$yi, vi = es$vi,
                             ci_lb = ci$ci.lb, ci_ub = ci$ci.ub))
write.csv(out, "tests/reference/effect_sizes/reference.csv", row.names = FALSE)
print(out, digits = 10)
cat("metafor", as.character(packageVersion("metafor")), "\n")
