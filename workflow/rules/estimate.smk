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
    run:
        from evaluation.estimate import run_estimates
        from evaluation.logs import step_log

        with step_log(log[0], "estimate_effects") as progress:
            run_estimates(
                Path(input.panel),
                Path(input.matched),
                config,
                Path(output.estimates),
                Path(output.trends),
                progress=progress,
            )
