# Reference intervals of R HonestDiD for tests/test_honest_did.py.
#
#   Rscript generate_honestdid_reference.R <this folder> [dataset ...]
#
# Reads <name>_betahat.csv and <name>_sigma.csv from this folder (written by generate_honestdid_inputs.R and
# medicaid_event_study.py), runs HonestDiD's defaults for the first post-period effect
#   relative magnitudes: createSensitivityResults_relativeMagnitudes(..., Mbarvec = mbar)  (C-LF, 1000 grid points)
#   smoothness:          createSensitivityResults(..., Mvec = m)                             (FLCI)
#   original:            constructOriginalCS(...)
# one value of Mbar / M per call, and writes r_honestdid_<dataset>.csv (combined into r_honestdid_0.2.6.csv by
# hand, see README.md). With no dataset names it runs all of them (about 30 minutes).
suppressPackageStartupMessages(library(HonestDiD))
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
designs <- list(
  bc = list(pre = 4, post = 4, mbar = c(0, 0.5, 1, 1.5, 2), m = c(0, 0.02, 0.05, 0.1, 0.2, 0.3)),
  lw = list(pre = 9, post = 23, mbar = c(0, 0.5, 1, 1.5, 2), m = c(0, 0.01, 0.02, 0.05, 0.1, 0.2)),
  bc_post1 = list(pre = 4, post = 1, mbar = c(0, 0.5, 1, 2), m = c(0, 0.05, 0.1)),
  bc_pre1 = list(pre = 1, post = 4, mbar = c(0, 0.5, 1, 2), m = c(0, 0.05, 0.1)),
  medicaid_controls = list(pre = 5, post = 2, mbar = c(0, 0.5, 1, 1.5, 2), m = c(0, 0.01, 0.02, 0.03, 0.04, 0.05)),
  medicaid = list(pre = 5, post = 2, mbar = c(0, 0.5, 1, 1.5, 2), m = c(0, 0.01, 0.02, 0.03, 0.04, 0.05))
)
num17 <- function(x) ifelse(is.na(x), NA, sprintf("%.17g", x))
wanted <- if (length(args) > 1) args[-1] else names(designs)

for (name in wanted) {
  d <- designs[[name]]
  betahat <- scan(file.path(dir, paste0(name, "_betahat.csv")), sep = ",", quiet = TRUE)
  sigma <- unname(as.matrix(read.csv(file.path(dir, paste0(name, "_sigma.csv")), header = FALSE)))
  rows <- list()
  orig <- constructOriginalCS(betahat = betahat, sigma = sigma, numPrePeriods = d$pre, numPostPeriods = d$post)
  rows[[1]] <- data.frame(dataset = name, method = "original", l_index = 1, m = NA,
                          ci_low = orig$lb, ci_high = orig$ub, seconds = NA)
  for (mbar in d$mbar) {
    t0 <- Sys.time()
    r <- suppressWarnings(createSensitivityResults_relativeMagnitudes(
      betahat = betahat, sigma = sigma, numPrePeriods = d$pre, numPostPeriods = d$post, Mbarvec = mbar))
    rows[[length(rows) + 1]] <- data.frame(dataset = name, method = "relative_magnitudes", l_index = 1, m = mbar,
                                           ci_low = r$lb, ci_high = r$ub,
                                           seconds = as.numeric(difftime(Sys.time(), t0, units = "secs")))
  }
  for (m in d$m) {
    t0 <- Sys.time()
    # With one pre-period and M > 0, HonestDiD 0.2.6 stops ("missing value where TRUE/FALSE needed": its bisection
    # on h gets an interval of length zero); such rows are written with empty bounds.
    r <- tryCatch(suppressWarnings(createSensitivityResults(
      betahat = betahat, sigma = sigma, numPrePeriods = d$pre, numPostPeriods = d$post, Mvec = m)),
      error = function(e) data.frame(lb = NA, ub = NA))
    rows[[length(rows) + 1]] <- data.frame(dataset = name, method = "smoothness", l_index = 1, m = m,
                                           ci_low = r$lb, ci_high = r$ub,
                                           seconds = as.numeric(difftime(Sys.time(), t0, units = "secs")))
  }
  if (name == "lw") {
    # The vignette's Delta^SD example: 15 years of exposure, l_vec = e_17 (HonestDiD_Example.Rmd, precompute.R).
    r <- createSensitivityResults(betahat = betahat, sigma = sigma, numPrePeriods = 9, numPostPeriods = 23,
                                  l_vec = basisVector(17, 23), Mvec = seq(from = 0, to = 0.04, by = 0.005))
    rows[[length(rows) + 1]] <- data.frame(dataset = name, method = "smoothness", l_index = 17, m = r$M,
                                           ci_low = r$lb, ci_high = r$ub, seconds = NA)
  }
  out <- do.call(rbind, rows)
  for (column in c("m", "ci_low", "ci_high", "seconds")) out[[column]] <- num17(out[[column]])
  write.csv(out, file.path(dir, paste0("r_honestdid_", name, ".csv")),
            row.names = FALSE, quote = FALSE, na = "")
}
writeLines(c(paste("HonestDiD", packageVersion("HonestDiD")), paste("CVXR", packageVersion("CVXR")),
             paste("ECOSolveR", packageVersion("ECOSolveR")), paste("osqp", packageVersion("osqp")),
             paste("scs", packageVersion("scs")), paste("lpSolveAPI", packageVersion("lpSolveAPI")),
             paste("Rglpk", packageVersion("Rglpk")), paste("TruncatedNormal", packageVersion("TruncatedNormal")),
             paste("mvtnorm", packageVersion("mvtnorm")), paste("Matrix", packageVersion("Matrix")),
             "", capture.output(sessionInfo())),
           file.path(dir, "r_session.txt"))
