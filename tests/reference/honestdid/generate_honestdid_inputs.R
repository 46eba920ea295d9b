# Inputs and published intervals for tests/test_honest_did.py, from a clone of github.com/asheshrambachan/HonestDiD.
#
#   git clone https://github.com/asheshrambachan/HonestDiD /tmp/HonestDiD
#   git -C /tmp/HonestDiD show fdadae3:data/VignetteResults.rda > /tmp/HonestDiD/VignetteResults.rda
#   Rscript generate_honestdid_inputs.R /tmp/HonestDiD <this folder>
#
# Writes <name>_betahat.csv / <name>_sigma.csv (17 significant digits) for
#   bc, bc_post1, bc_pre1  BCdata_EventStudy (data/BCdata_EventStudy.rda): all of it, its first 5 coefficients
#                          (4 pre, 1 post) and its coefficients 4-8 (1 pre, 4 post)
#   lw                     LWdata_EventStudy (data/LWdata_EventStudy.rda)
#   medicaid_controls      the README's "regressions with controls" event study, from the knitr cache
#                          README_cache/gfm/unnamed-chunk-8_* (betahat and sigma, control dropped)
# plus medicaid_panel.csv (the README's df_nonstaggered, same cache; input of medicaid_event_study.py) and
# published.csv: intervals the HonestDiD repository itself stores (vignette results, README knitr cache).
args <- commandArgs(trailingOnly = TRUE)
repo <- args[1]
out <- args[2]
num17 <- function(x) ifelse(is.na(x), NA, sprintf("%.17g", x))
write_design <- function(name, betahat, sigma) {
  write.table(matrix(num17(unname(betahat)), nrow = 1), file.path(out, paste0(name, "_betahat.csv")),
              sep = ",", row.names = FALSE, col.names = FALSE, quote = FALSE)
  write.table(apply(unname(sigma), 2, num17), file.path(out, paste0(name, "_sigma.csv")),
              sep = ",", row.names = FALSE, col.names = FALSE, quote = FALSE)
}
load(file.path(repo, "data", "BCdata_EventStudy.rda"))
load(file.path(repo, "data", "LWdata_EventStudy.rda"))
bc <- BCdata_EventStudy
write_design("bc", bc$betahat, bc$sigma)
write_design("bc_post1", bc$betahat[1:5], bc$sigma[1:5, 1:5])
write_design("bc_pre1", bc$betahat[4:8], bc$sigma[4:8, 4:8])
write_design("lw", LWdata_EventStudy$betahat, LWdata_EventStudy$sigma)

cache <- file.path(repo, "README_cache", "gfm")
from_cache <- function(chunk) {
  rdx <- list.files(cache, pattern = paste0("^unnamed-chunk-", chunk, "_.*\\.rdx$"), full.names = TRUE)
  env <- new.env()
  lazyLoad(sub("\\.rdx$", "", rdx), envir = env)
  env
}
controls <- from_cache(8)
write_design("medicaid_controls", controls$betahat, controls$sigma)
panel <- as.data.frame(controls$df_nonstaggered)[, c("stfips", "year", "dins", "yexp2", "D", "control")]
panel$dins <- num17(panel$dins)
panel$control <- num17(panel$control)
write.csv(panel, file.path(out, "medicaid_panel.csv"), row.names = FALSE, quote = FALSE, na = "")

published <- list()
add <- function(dataset, method, l_index, source, m, lb, ub) {
  published[[length(published) + 1]] <<- data.frame(dataset = dataset, method = method, l_index = l_index,
                                                     m = num17(m), ci_low = num17(lb), ci_high = num17(ub),
                                                     source = source)
}
load(file.path(repo, "VignetteResults.rda"))
v <- VignetteResults$LW_DeltaSD_RobustResults
add("lw", "smoothness", 17, "vignette VignetteResults.rda (commit fdadae3), LW_DeltaSD_RobustResults", v$M, v$lb, v$ub)
v <- VignetteResults$BC_OriginalResults
add("bc", "original", 1, "vignette VignetteResults.rda (commit fdadae3), BC_OriginalResults", NA, v$lb, v$ub)
rm5 <- from_cache(5)$delta_rm_results
add("medicaid", "relative_magnitudes", 1, "README_cache unnamed-chunk-5 delta_rm_results", rm5$Mbar, rm5$lb, rm5$ub)
rm4 <- from_cache(4)$delta_rm_results
add("medicaid", "relative_magnitudes", 1, "README_cache unnamed-chunk-4 delta_rm_results (printed in README.md)",
    rm4$Mbar, rm4$lb, rm4$ub)
sd6 <- from_cache(6)$delta_sd_results
add("medicaid", "smoothness", 1, "README_cache unnamed-chunk-6 delta_sd_results (printed in README.md)",
    sd6$M, sd6$lb, sd6$ub)
write.csv(do.call(rbind, published), file.path(out, "published.csv"), row.names = FALSE, na = "")
