# Design validation by Monte Carlo (not part of `all`: run by `make montecarlo REPS=200`).

# Each replication regenerates the synthetic registry with its own seed, so a cluster spreads them.


rule montecarlo_replication:
    """One Monte Carlo replication: simulate, ingest, cohort, match, estimate, compare with the truth."""
    output:
        "results/montecarlo/{scenario}/replications/{seed}.json",
    log:
        "logs/montecarlo/{scenario}/{seed}.log",
    wildcard_constraints:
        seed=r"\d+",
        scenario=r"[A-Za-z0-9_-]+",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=15,
    params:
        workdir=lambda wildcards: f"{INTERIM}/montecarlo/{wildcards.scenario}/{wildcards.seed}",
        code=get_code_digest("montecarlo_replication"),
    script:
        "../scripts/step.py"


rule montecarlo_summary:
    """Bias, RMSE and coverage per estimator and inference over the replications."""
    input:
        lambda wildcards: montecarlo_replications(),
    output:
        table="results/montecarlo/summary.csv",
        markdown="results/montecarlo/summary.md",
    log:
        "logs/montecarlo_summary.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        code=get_code_digest("montecarlo_summary"),
    script:
        "../scripts/step.py"
