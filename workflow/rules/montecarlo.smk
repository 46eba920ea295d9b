# Design validation by Monte Carlo (not part of `all`: run by `make montecarlo REPS=200`).
from evaluation.fewclusters import montecarlo_seeds

# Each replication regenerates the synthetic registry with its own seed, so a cluster spreads them.


rule montecarlo_replication:
    """One Monte Carlo replication: simulate, ingest, cohort, match, estimate, compare with the truth."""
    output:
        "results/montecarlo/replications/{seed}.json",
    log:
        "logs/montecarlo/{seed}.log",
    wildcard_constraints:
        seed=r"\d+",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=15,
    params:
        workdir=lambda wildcards: f"{INTERIM}/montecarlo/{wildcards.seed}",
    run:
        pipeline.montecarlo_replication(
            output, log, config, int(wildcards.seed), params.workdir
        )


rule montecarlo_summary:
    """Bias, RMSE and coverage per estimator and inference over the replications."""
    input:
        lambda wildcards: expand(
            "results/montecarlo/replications/{seed}.json",
            seed=montecarlo_seeds(config),
        ),
    output:
        table="results/montecarlo/summary.csv",
        markdown="results/montecarlo/summary.md",
    log:
        "logs/montecarlo_summary.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    run:
        pipeline.montecarlo_summary(input, output, log, config)
