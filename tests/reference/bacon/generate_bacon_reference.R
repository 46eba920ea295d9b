# Reference outputs of R bacondecomp::bacon() (Goodman-Bacon decomposition, no covariates) for
# tests/test_bacon.py, and the data sets they use (from bacondecomp's data/, MIT licence).
# Run from the repository root:
#
#   Rscript tests/reference/bacon/generate_bacon_reference.R [path/to/bacondecomp-source]
#
# Writes, in tests/reference/bacon/:
#   castle.csv, divorce.csv, math_reform.csv, figure2.csv   the data (doubles printed with 17 digits)
#   bacon_r_reference.csv                                     bacon()'s two_by_twos for every data set
#   bacon_r_twfe.csv                                          the TWFE coefficient (lm with unit and time dummies)
#
# If bacondecomp is not installed, the script installs it from the source folder given as first
# argument (bacondecomp 0.1.3, github evanjflack/bacondecomp commit ec99dd079d00b0b94174c0519a00e5d4285e248b)
# into a temporary library. fixest (bacondecomp's only dependency) is not in Debian 12 and CRAN was
# not reachable, so in that case a stand-in package named fixest is installed too: its feols(y ~ x |
# fe1 + fe2) is lm(y ~ x + factor(fe1) + factor(fe2)). Without covariates bacon() calls feols only for
# the coefficient of each 2x2 regression, which is the same least-squares number either way; the
# weights are computed by bacondecomp's own code. With the real fixest installed the script uses it.
#
# Versions used for the stored files: R 4.2.2 (Debian 12), bacondecomp 0.1.3 (commit above), the
# fixest stand-in described above.

dir <- "tests/reference/bacon"
args <- commandArgs(trailingOnly = TRUE)

if (!requireNamespace("bacondecomp", quietly = TRUE)) {
  if (length(args) < 1) stop("bacondecomp is not installed: pass the path of its source as first argument")
  lib <- file.path(tempdir(), "rlib")
  dir.create(lib, showWarnings = FALSE)
  if (!requireNamespace("fixest", quietly = TRUE)) {
    shim <- file.path(tempdir(), "fixest")
    dir.create(file.path(shim, "R"), recursive = TRUE, showWarnings = FALSE)
    writeLines(c(
      "Package: fixest", "Type: Package", "Title: Stand-in for fixest::feols", "Version: 0.0.0.9000",
      "Description: feols(y ~ x | fe1 + fe2) computed by lm() with factor dummies.", "License: MIT"
    ), file.path(shim, "DESCRIPTION"))
    writeLines("export(feols)", file.path(shim, "NAMESPACE"))
    writeLines(c(
      "feols <- function(fml, data, ...) {",
      "  parts <- strsplit(paste(deparse(fml), collapse = ''), '\\\\|')[[1]]",
      "  if (length(parts) != 2) stop('fixest stand-in: only y ~ x | fe1 + fe2 is supported')",
      "  fes <- trimws(strsplit(parts[2], '\\\\+')[[1]])",
      "  f <- as.formula(paste(parts[1], '+', paste0('factor(', fes, ')', collapse = ' + ')))",
      "  fit <- stats::lm(f, data = data)",
      "  rhs <- attr(terms(as.formula(parts[1])), 'term.labels')",
      "  list(coefficients = stats::coef(fit)[rhs], residuals = stats::resid(fit))",
      "}"
    ), file.path(shim, "R", "feols.R"))
    install.packages(shim, lib = lib, repos = NULL, type = "source", quiet = TRUE)
  }
  .libPaths(c(lib, .libPaths()))
  install.packages(args[1], lib = lib, repos = NULL, type = "source", quiet = TRUE)
}
library(bacondecomp)
stopifnot(packageVersion("bacondecomp") == "0.1.3")

full <- function(x) ifelse(is.na(x), NA, sprintf("%.17g", x))
write_data <- function(df, file) {
  for (col in names(df)) {
    if (is.factor(df[[col]])) df[[col]] <- as.character(df[[col]])
    if (is.double(df[[col]])) df[[col]] <- full(df[[col]])
  }
  write.csv(df, file.path(dir, file), row.names = FALSE, na = "", quote = FALSE)
}

# Paper's Figure 2 design: 100 periods, one never-treated unit, unit 2 treated from period 34 and
# unit 3 from period 85 (weights 0.365, 0.222, 0.278, 0.135 in Goodman-Bacon 2021, as bacondecomp's
# test_bacon_weights.R); a deterministic outcome instead of rnorm().
figure2 <- data.frame(id = rep(1:3, each = 100), time = rep(1:100, 3))
figure2$first_treat <- c(0, 34, 85)[figure2$id]
figure2$treated <- as.integer(figure2$first_treat > 0 & figure2$time >= figure2$first_treat)
figure2$y <- sin(figure2$id * figure2$time / 7) + 0.01 * figure2$time * figure2$id + 0.5 * figure2$treated

specs <- list(
  castle = list(
    data = bacondecomp::castle[, c("state", "year", "effyear", "post", "l_homicide")],
    y = "l_homicide", d = "post", id = "state", t = "year", g = "effyear"
  ),
  divorce = list(
    data = subset(bacondecomp::divorce, sex == 2, c("st", "year", "divyear", "unilateral", "suiciderate_elast_jag")),
    y = "suiciderate_elast_jag", d = "unilateral", id = "st", t = "year", g = "divyear"
  ),
  math_reform = list(
    data = bacondecomp::math_reform[, c("state", "class", "reformyr_math", "reform_math", "incearn_ln")],
    y = "incearn_ln", d = "reform_math", id = "state", t = "class", g = "reformyr_math"
  ),
  figure2 = list(data = figure2, y = "y", d = "treated", id = "id", t = "time", g = "first_treat")
)

two_by_twos <- list()
twfe <- list()
for (name in names(specs)) {
  s <- specs[[name]]
  df <- s$data
  rownames(df) <- NULL
  # the treatment dummy is 1[t >= cohort]; cohort missing, 0 or after the last period = never treated
  g <- df[[s$g]]
  stopifnot(all(df[[s$d]] == as.integer(!is.na(g) & g > 0 & df[[s$t]] >= g)))
  write_data(df, paste0(name, ".csv"))
  fml <- as.formula(paste(s$y, "~", s$d))
  b <- bacon(fml, data = df, id_var = s$id, time_var = s$t)
  two_by_twos[[name]] <- data.frame(
    dataset = name, type = b$type, treated = b$treated, untreated = b$untreated,
    estimate = full(b$estimate), weight = full(b$weight)
  )
  fit <- lm(as.formula(paste(s$y, "~", s$d, "+ factor(", s$id, ") + factor(", s$t, ")")), data = df)
  twfe[[name]] <- data.frame(
    dataset = name, twfe = full(unname(coef(fit)[s$d])),
    bacon_sum = full(sum(b$estimate * b$weight)),
    n_units = length(unique(df[[s$id]])), n_periods = length(unique(df[[s$t]]))
  )
}
write.csv(do.call(rbind, two_by_twos), file.path(dir, "bacon_r_reference.csv"), row.names = FALSE, quote = FALSE)
write.csv(do.call(rbind, twfe), file.path(dir, "bacon_r_twfe.csv"), row.names = FALSE, quote = FALSE)
print(do.call(rbind, twfe))
for (name in names(two_by_twos)) {
  cat("\n", name, "\n")
  b <- two_by_twos[[name]]
  b$estimate <- as.numeric(b$estimate)
  b$weight <- as.numeric(b$weight)
  invisible(bacon_summary(b))
}
