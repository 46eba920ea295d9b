# Reference outputs of R (MatchIt, sandwich, lmtest, stats::glm) on MatchIt's lalonde data,
# for tests/test_matching_lalonde.py. Run from the repository root:
#
#   Rscript tests/reference/matching/generate_r_reference.R
#
# Reads  tests/reference/matching/lalonde.csv and matchit_nearest_snapshots.json
# Writes tests/reference/matching/r_reference.json and matchit451_weights.csv
#
# Versions used (Debian 12 packages): R 4.2.2, MatchIt 4.5.1, sandwich 3.0-2, lmtest 0.9-40,
# jsonlite 1.8.4. MatchIt 4.5.1 is older than the MatchIt whose snapshots and vignettes the
# tests use; it is used here only where its results do not depend on the version:
# exact and coarsened exact matching weights, the glm propensity score, and (through
# lm + sandwich, which do not involve MatchIt) the standard errors of effect estimates.
suppressPackageStartupMessages({
  library(MatchIt)
  library(sandwich)
  library(lmtest)
  library(jsonlite)
})

dir <- "tests/reference/matching"
lalonde <- read.csv(file.path(dir, "lalonde.csv"), stringsAsFactors = FALSE)
rownames(lalonde) <- lalonde$id
lalonde$race <- factor(lalonde$race, levels = c("black", "hispan", "white"))
f <- treat ~ age + educ + race + married + nodegree + re74 + re75

# --- propensity score: logistic regression as MatchIt's distance = "glm" -------------
ps_fit <- glm(f, data = lalonde, family = binomial())

# --- weights of exact and coarsened exact matching ----------------------------------
m_exact <- matchit(treat ~ race + married + nodegree, data = lalonde, method = "exact")
m_exact_ate <- matchit(treat ~ race + married + nodegree, data = lalonde, method = "exact", estimand = "ATE")
m_cem <- matchit(f, data = lalonde, method = "cem")
m_cem3 <- matchit(f, data = lalonde, method = "cem", cutpoints = 3)
m_cemq <- matchit(f, data = lalonde, method = "cem", cutpoints = list(age = 4, re74 = "q5"))
# MatchIt's README example; its printed output was made with this tie rule (MatchIt <= 4.5.x),
# so these weights serve to check balance statistics against the README, not the matching.
m_mah <- matchit(f, data = lalonde, distance = "mahalanobis", replace = TRUE)
weights <- data.frame(id = lalonde$id, exact = m_exact$weights, exact_ate = m_exact_ate$weights,
                      cem = m_cem$weights, cem_cut3 = m_cem3$weights, cem_age4_re74q5 = m_cemq$weights,
                      mahalanobis_replace_451 = m_mah$weights)
write.csv(weights, file.path(dir, "matchit451_weights.csv"), row.names = FALSE, quote = FALSE)

# --- effect estimates: lm(re78 ~ treat, weights) with MatchIt's recommended SEs -------
effect <- function(w, vcov_fun) {
  d <- lalonde
  d$w <- w
  d <- d[d$w > 0, ]
  fit <- lm(re78 ~ treat, data = d, weights = w)
  ct <- coeftest(fit, vcov. = vcov_fun(fit, d))
  list(estimate = unname(ct["treat", 1]), se = unname(ct["treat", 2]), n = nrow(d))
}
hc3 <- function(fit, d) vcovHC(fit, type = "HC3")
by_subclass <- function(fit, d) vcovCL(fit, cluster = d$subclass)  # sandwich default: HC1, G/(G-1)

# nearest-neighbour matches from MatchIt's own snapshot tests (current MatchIt), turned into
# MatchIt's weights: a control gets sum over its treated units of 1 / (number of matches).
snap <- fromJSON(file.path(dir, "matchit_nearest_snapshots.json"), simplifyVector = FALSE)$scenarios
mm_weights <- function(matches) {
  w <- setNames(rep(0, nrow(lalonde)), lalonde$id)
  sub <- setNames(rep(NA_integer_, nrow(lalonde)), lalonde$id)
  s <- 0L
  for (t in names(matches)) {
    cs <- unlist(matches[[t]])
    if (length(cs) == 0) next
    s <- s + 1L
    w[t] <- 1
    sub[t] <- s
    w[cs] <- w[cs] + 1 / length(cs)
    sub[cs] <- s
  }
  ctrl <- lalonde$treat == 0 & w > 0
  w[ctrl] <- w[ctrl] * sum(ctrl) / sum(w[ctrl])
  list(w = unname(w), subclass = unname(sub))
}
nn1 <- mm_weights(snap$baseline_largest$matches)
lalonde$subclass <- nn1$subclass
eff_nn1 <- effect(nn1$w, by_subclass)
nn3r <- mm_weights(snap$ratio3_with_replacement$matches)
eff_nn3r <- effect(nn3r$w, hc3)
eff_cem <- effect(m_cem$weights, hc3)
eff_exact_ate <- effect(m_exact_ate$weights, hc3)

out <- list(
  versions = list(R = R.version.string, MatchIt = as.character(packageVersion("MatchIt")),
                  sandwich = as.character(packageVersion("sandwich")),
                  lmtest = as.character(packageVersion("lmtest"))),
  propensity = list(
    call = "glm(treat ~ age + educ + race + married + nodegree + re74 + re75, family = binomial)",
    coefficients = as.list(coef(ps_fit)),
    fitted = unname(fitted(ps_fit)),
    glm_convergence_epsilon = glm.control()$epsilon
  ),
  effects = list(
    nearest_1to1_cluster_subclass = eff_nn1,
    nearest_ratio3_replace_hc3 = eff_nn3r,
    cem_default_hc3 = eff_cem,
    exact_ate_hc3 = eff_exact_ate
  )
)
write_json(out, file.path(dir, "r_reference.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("written", file.path(dir, "r_reference.json"), "\n")
