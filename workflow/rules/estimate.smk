rule estimate_effects:
    """Difference-in-differences estimates: matched, unmatched and the naive comparison."""
    input:
        panel=rules.build_panel.output.panel,
        matched=rules.match_children.output.matched,
    output:
        estimates="results/estimates.csv",
        trends="results/estimate/trends.csv",
    log:
        "logs/estimate_effects.log",
    benchmark:
        "benchmarks/estimate_effects.tsv"
    resources:
        mem_mb=8000,
    params:
        design=config["estimation"] | config["outcomes"] | config["prices"],  # rerun when these change
    run:
        pipeline.estimate_effects(input, output, log, config)
