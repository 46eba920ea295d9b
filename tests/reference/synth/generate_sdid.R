# Reference outputs of R synthdid for tests/test_synthetic_did.py (see README.md in this folder).
#
# Usage (synthdid built from its source, mvtnorm from Debian's r-cran-mvtnorm):
#   R CMD INSTALL -l /tmp/Rlib path/to/synthdid
#   cd tests/reference/synth && R_LIBS=/tmp/Rlib Rscript generate_sdid.R
#
# Writes prop99_sdid_reference.json, sdid_simulated_panel.csv and sdid_simulated_reference.json.
# Index vectors in the JSON files are 0-based positions in the control (or all-unit) order of the
# estimate: units sorted by name, controls first, as panel.matrices orders them.

library(synthdid)

num = function(x) {
  ifelse(is.na(x), "null", sprintf("%.17g", x))
}
json_vec = function(x) paste0("[", paste(num(x), collapse = ", "), "]")
json_int = function(x) paste0("[", paste(x, collapse = ", "), "]")
json_named = function(x, nm) paste0("{", paste(sprintf('"%s": %s', nm, num(x)), collapse = ", "), "}")
write_json = function(fields, path) {
  body = paste(sprintf('  "%s": %s', names(fields), unlist(fields)), collapse = ",\n")
  writeLines(paste0("{\n", body, "\n}"), path)
}

# the replication functions inside vcov.R, evaluated at given draws instead of random ones
placebo_theta = function(est, ind) {
  setup = attr(est, "setup"); opts = attr(est, "opts"); weights = attr(est, "weights")
  N1 = nrow(setup$Y) - setup$N0
  N0 = length(ind) - N1
  weights$omega = synthdid:::sum_normalize(weights$omega[ind[1:N0]])
  c(do.call(synthdid_estimate, c(list(Y = setup$Y[ind, ], N0 = N0, T0 = setup$T0, X = setup$X[ind, , ],
                                      weights = weights), opts)))
}
bootstrap_theta = function(est, ind) {
  setup = attr(est, "setup"); opts = attr(est, "opts"); weights = attr(est, "weights")
  ind = sort(ind)
  weights$omega = synthdid:::sum_normalize(weights$omega[ind[ind <= setup$N0]])
  c(do.call(synthdid_estimate, c(list(Y = setup$Y[ind, ], N0 = sum(ind <= setup$N0), T0 = setup$T0,
                                      X = setup$X[ind, , ], weights = weights), opts)))
}
opts_fields = function(est) {
  Y = attr(est, "setup")$Y; N0 = attr(est, "setup")$N0; T0 = attr(est, "setup")$T0
  o = attr(est, "opts")
  list(noise_level = num(sd(apply(Y[1:N0, 1:T0], 1, diff))), zeta_omega = num(o$zeta.omega),
       zeta_lambda = num(o$zeta.lambda), min_decrease = num(o$min.decrease))
}
weight_fields = function(est) {
  Y = attr(est, "setup")$Y; N0 = attr(est, "setup")$N0; T0 = attr(est, "setup")$T0
  w = attr(est, "weights")
  list(omega = json_named(w$omega, rownames(Y)[1:N0]), lambda = json_named(w$lambda, colnames(Y)[1:T0]),
       effect_curve = json_named(c(synthdid_effect_curve(est)), colnames(Y)[(T0 + 1):ncol(Y)]))
}

# 1. California Proposition 99 on the project's copy of the data (prop99_smoking.csv)
smoking = read.csv("prop99_smoking.csv")
panel = data.frame(state = smoking$state, year = smoking$year, cigsale = smoking$cigsale,
                   treated = as.integer(smoking$state == "California" & smoking$year >= 1989))
setup = panel.matrices(panel)
est = synthdid_estimate(setup$Y, setup$N0, setup$T0)
N0 = setup$N0
placebo_each = sapply(1:N0, function(j) placebo_theta(est, c(setdiff(1:N0, j), j)))
set.seed(12345)
se_placebo = sqrt(vcov(est, method = "placebo"))

# ... and on the package's own copy (float32 noise such as 89.80000305): the published -15.60383
data("california_prop99")
setup_pkg = panel.matrices(california_prop99)
est_pkg = synthdid_estimate(setup_pkg$Y, setup_pkg$N0, setup_pkg$T0)

write_json(c(
  list(source = sprintf('"R %s, synthdid %s (git %s)"', getRversion(), packageVersion("synthdid"),
                        Sys.getenv("SYNTHDID_COMMIT", "unknown")),
       att = num(c(est)), att_package_data = num(c(est_pkg))),
  opts_fields(est), weight_fields(est),
  list(placebo_estimates_by_pseudo_treated = json_named(placebo_each, rownames(setup$Y)[1:N0]),
       se_placebo_seed_12345 = num(c(se_placebo)), se_placebo_population = num(sqrt(mean((placebo_each - mean(placebo_each))^2))))
), "prop99_sdid_reference.json")

# 2. A simulated panel with several treated units: 40 units (the last 6 treated), 16 years (treated from 2011)
set.seed(20240601)
n = 40; tt = 16; n_tr = 6; t0 = 11
years = 2000 + 0:(tt - 1)
units = sprintf("u%02d", 1:n)
alpha = rnorm(n, 0, 2)
beta = cumsum(rnorm(tt))
load = matrix(rnorm(n * 2), n, 2); load[(n - n_tr + 1):n, 1] = load[(n - n_tr + 1):n, 1] + 1
fac = matrix(rnorm(tt * 2), tt, 2)
D = outer(1:n > n - n_tr, 1:tt > t0) * 1
Y = outer(alpha, rep(1, tt)) + outer(rep(1, n), beta) + load %*% t(fac) + 2 * D + matrix(rnorm(n * tt, 0, 0.5), n, tt)
sim = data.frame(unit = rep(units, each = tt), year = rep(years, n), y = round(c(t(Y)), 6), treated = c(t(D)))
write.csv(sim, "sdid_simulated_panel.csv", row.names = FALSE, quote = FALSE)

sim = read.csv("sdid_simulated_panel.csv")
setup = panel.matrices(sim)
est = synthdid_estimate(setup$Y, setup$N0, setup$T0)
N0 = setup$N0; N = nrow(setup$Y)
set.seed(7)
perms = lapply(1:3, function(i) sample(1:N0))
draws = list()
while (length(draws) < 3) {
  ind = sort(sample(1:N, replace = TRUE))
  if (any(ind <= N0) && any(ind > N0)) draws[[length(draws) + 1]] = ind
}
set.seed(12345)
se_placebo = sqrt(vcov(est, method = "placebo"))
set.seed(12345)
se_boot = sqrt(vcov(est, method = "bootstrap"))

write_json(c(
  list(source = sprintf('"R %s, synthdid %s (git %s)"', getRversion(), packageVersion("synthdid"),
                        Sys.getenv("SYNTHDID_COMMIT", "unknown")),
       treatment_time = num(years[t0 + 1]), att = num(c(est))),
  opts_fields(est), weight_fields(est),
  list(se_jackknife = num(c(sqrt(vcov(est, method = "jackknife")))),
       placebo_permutations = paste0("[", paste(sapply(perms, function(p) json_int(p - 1)), collapse = ", "), "]"),
       placebo_estimates = json_vec(sapply(perms, function(p) placebo_theta(est, p))),
       bootstrap_draws = paste0("[", paste(sapply(draws, function(d) json_int(d - 1)), collapse = ", "), "]"),
       bootstrap_estimates = json_vec(sapply(draws, function(d) bootstrap_theta(est, d))),
       se_placebo_seed_12345 = num(c(se_placebo)), se_bootstrap_seed_12345 = num(c(se_boot)))
), "sdid_simulated_reference.json")
