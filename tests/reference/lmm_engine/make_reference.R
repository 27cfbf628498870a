# Golden values for tests/test_lmm_engine.py: lme4 / lmerTest fits of the datasets in
# this folder, written to reference.json with the R call next to every number.
#
# Run from the repository root (needs lme4, lmerTest, nlme, jsonlite):
#
#     python tests/reference/lmm_engine/make_simulated.py   # simulated*.csv (committed)
#     Rscript tests/reference/lmm_engine/make_reference.R
#
# The script also exports lme4's sleepstudy and nlme's Orthodont to CSV so the Python
# tests read exactly the data R fitted. Each fit is done twice: with lme4's default
# control (what users see; recorded as `default`) and with the optimiser's tolerances
# tightened so that the optimum is exact to ~1e-10 in the deviance (the golden values the
# tests compare against; see the module docstring of the tests).

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(nlme)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(file_arg)) dirname(normalizePath(file_arg)) else "tests/reference/lmm_engine"

# ---------------------------------------------------------------- data
data("sleepstudy", package = "lme4")
sleep <- data.frame(Reaction = sleepstudy$Reaction, Days = sleepstudy$Days,
                    Subject = as.character(sleepstudy$Subject))
write.csv(sleep, file.path(here, "sleepstudy.csv"), row.names = FALSE)
# read back what the tests read (CSV round trip is exact: 15+ significant digits)
sleepstudy <- read.csv(file.path(here, "sleepstudy.csv"))
sleepstudy$Subject <- factor(sleepstudy$Subject)

data("Orthodont", package = "nlme")
orth <- data.frame(distance = Orthodont$distance, age = Orthodont$age,
                   Subject = as.character(Orthodont$Subject),
                   Sex = as.character(Orthodont$Sex))
write.csv(orth, file.path(here, "orthodont.csv"), row.names = FALSE)
Orthodont <- read.csv(file.path(here, "orthodont.csv"))
Orthodont$Subject <- factor(Orthodont$Subject)
Orthodont$Sex <- factor(Orthodont$Sex, levels = c("Male", "Female"))

simulated <- read.csv(file.path(here, "simulated.csv"))
simulated$g <- factor(simulated$g)
simulated$arm <- factor(simulated$arm, levels = c("control", "needling"))

simulated_singular <- read.csv(file.path(here, "simulated_singular.csv"))
simulated_singular$g <- factor(simulated_singular$g)
simulated_singular$arm <- factor(simulated_singular$arm, levels = c("control", "needling"))

# ---------------------------------------------------------------- fits
tight <- "lmerControl(optimizer = 'nloptwrap', optCtrl = list(xtol_abs = 1e-14, ftol_abs = 1e-14, xtol_rel = 0, ftol_rel = 1e-15, maxeval = 1e5))"

fits <- list(
  sleepstudy_slope = list(data = "sleepstudy", csv = "sleepstudy.csv",
    formula = "Reaction ~ Days + (Days | Subject)", reml = TRUE, L = "c(1, 1)"),
  sleepstudy_intercept = list(data = "sleepstudy", csv = "sleepstudy.csv",
    formula = "Reaction ~ Days + (1 | Subject)", reml = TRUE, L = "c(1, 1)"),
  sleepstudy_slope_ml = list(data = "sleepstudy", csv = "sleepstudy.csv",
    formula = "Reaction ~ Days + (Days | Subject)", reml = FALSE, L = "c(1, 1)"),
  orthodont_slope = list(data = "Orthodont", csv = "orthodont.csv",
    formula = "distance ~ age * Sex + (age | Subject)", reml = TRUE, L = "c(0, 1, 0, 1)"),
  orthodont_intercept = list(data = "Orthodont", csv = "orthodont.csv",
    formula = "distance ~ age * Sex + (1 | Subject)", reml = TRUE, L = "c(0, 1, 0, 1)"),
  simulated_slope = list(data = "simulated", csv = "simulated.csv",
    formula = "y ~ arm * t + (1 + t | g)", reml = TRUE, L = "c(0, 0, 1, 1)"),
  simulated_singular = list(data = "simulated_singular", csv = "simulated_singular.csv",
    formula = "y ~ arm * t + (1 + t | g)", reml = TRUE, L = "c(0, 0, 1, 1)")
)

rec <- function(call, env) {
  value <- eval(parse(text = call), envir = env)
  list(call = call, value = value)
}

fit_one <- function(spec, control) {
  env <- new.env(parent = globalenv())
  ctrl <- if (is.null(control)) "" else paste0(", control = ", control)
  m_call <- sprintf("lme4::lmer(%s, data = %s, REML = %s%s)", spec$formula, spec$data,
                    spec$reml, ctrl)
  t_call <- sprintf("lmerTest::lmer(%s, data = %s, REML = %s%s)", spec$formula, spec$data,
                    spec$reml, ctrl)
  env$m <- eval(parse(text = m_call))
  env$mt <- eval(parse(text = t_call))
  env$L <- eval(parse(text = spec$L))
  grp <- names(getME(env$m, "flist"))[1]
  out <- list(
    call = m_call,
    lmerTest_call = t_call,
    fixef_names = I(names(fixef(env$m))),
    ranef_names = I(colnames(ranef(env$m)[[1]])),
    fixef = rec("unname(fixef(m))", env),
    se = rec("unname(sqrt(diag(vcov(m))))", env),
    vcov = rec("unname(as.matrix(vcov(m)))", env),
    loglik = rec("as.numeric(logLik(m))", env),
    loglik_df = rec("attr(logLik(m), 'df')", env),
    aic = rec("AIC(m)", env),
    deviance_criterion = rec("unname(if (isREML(m)) REMLcrit(m) else deviance(m))", env),
    theta = rec("unname(getME(m, 'theta'))", env),
    G = rec("unname(matrix(VarCorr(m)[[1]], nrow = nrow(VarCorr(m)[[1]])))", env),
    sigma = rec("sigma(m)", env),
    ranef_groups = rec("rownames(ranef(m)[[1]])[1:5]", env),
    ranef = rec("unname(as.matrix(ranef(m)[[1]][1:5, , drop = FALSE]))", env),
    is_singular = rec("isSingular(m)", env),
    optimizer_messages = rec("as.character(unlist(m@optinfo$conv$lme4$messages))", env),
    satterthwaite_df = rec("unname(summary(mt)$coefficients[, 'df'])", env),
    contrast_L = rec("L", env),
    contrast = rec("as.list(lmerTest::contest1D(mt, L, ddf = 'Satterthwaite'))", env)
  )
  out$grouping = grp
  out
}

result <- list(
  meta = list(
    generated_by = "tests/reference/lmm_engine/make_reference.R",
    R = R.version.string,
    lme4 = as.character(packageVersion("lme4")),
    lmerTest = as.character(packageVersion("lmerTest")),
    Matrix = as.character(packageVersion("Matrix")),
    nlme = as.character(packageVersion("nlme")),
    tight_control = tight,
    note = paste("'tight' fits use lme4's default optimiser (nloptwrap BOBYQA) with tightened",
                 "tolerances; 'default' fits use lmerControl() defaults.")
  ),
  fits = list()
)

for (name in names(fits)) {
  spec <- fits[[name]]
  result$fits[[name]] <- list(
    csv = spec$csv, formula = spec$formula, reml = spec$reml,
    tight = fit_one(spec, tight),
    default = fit_one(spec, NULL)
  )
}

writeLines(toJSON(result, digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null"),
           file.path(here, "reference.json"))
cat("wrote", file.path(here, "reference.json"), "\n")
