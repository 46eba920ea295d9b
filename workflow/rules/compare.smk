rule match_children:
    """Matched comparison children (propensity score on baseline covariates) and balance."""
    input:
        panel=rules.build_panel.output.panel,
        flow=rules.build_panel.output.flow,
    output:
        matched=f"{INTERIM}/compare/matched.parquet",
        balance="results/compare/balance.csv",
        flow="results/cohort/sample_flow.csv",
    log:
        "logs/match_children.log",
    benchmark:
        "benchmarks/match_children.tsv"
    resources:
        mem_mb=8000,
    run:
        from evaluation.compare import match_children
        from evaluation.logs import step_log

        with step_log(log[0], "match_children") as progress:
            match_children(
                Path(input.panel),
                config,
                Path(output.matched),
                Path(output.balance),
                Path(input.flow),
                Path(output.flow),
                progress=progress,
            )
