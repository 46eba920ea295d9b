rule estimate_effects:
    """Difference-in-differences estimates: matched, unmatched and the naive comparison."""
    input:
        panel=rules.build_panel.output.panel,
        matched=rules.match_children.output.matched,
    output:
        estimates="results/{release}/estimates.csv",
        trends="results/{release}/estimate/trends.csv",
    log:
        "logs/{release}/estimate_effects.log",
    benchmark:
        "benchmarks/{release}/estimate_effects.tsv"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=30,
    params:
        design=config["estimation"] | config["outcomes"] | config["prices"],  # rerun when these change
    run:
        pipeline.estimate_effects(input, output, log, release_config(wildcards.release))
