# Observed first-step pain of the sample cohort per arm and visit, as R computes it.
# Input: first_step_pain.csv (the canonical values dno.load_cohort gives for data/sample,
# written by the command in README.md). Output: observed_r.csv.
x <- read.csv("first_step_pain.csv")
x <- x[!is.na(x$first_step_pain), ]   # observed values only (n counts them)
f <- function(v) c(n = length(v), mean = mean(v), sd = sd(v), median = median(v),
                   q1 = unname(quantile(v, 0.25, type = 7)),
                   q3 = unname(quantile(v, 0.75, type = 7)), min = min(v), max = max(v))
a <- aggregate(first_step_pain ~ arm + visit, data = x, FUN = f)
out <- data.frame(arm = a$arm, visit = a$visit, a$first_step_pain)
out <- out[order(out$arm, out$visit), ]
write.csv(format(out, digits = 10), "observed_r.csv", row.names = FALSE, quote = FALSE)
