rule match_children:
    """Matched comparison children (propensity score on baseline covariates) and balance."""
    input:
        panel=rules.build_panel.output.panel,
        flow=rules.build_panel.output.flow,
    output:
        matched=f"{INTERIM}/compare/matched.parquet",
        balance="results/compare/balance.csv",
        flow="results/cohort/sample_flow.csv",
        love_plot="results/compare/love_plot.png",
    log:
        "logs/match_children.log",
    benchmark:
        "benchmarks/match_children.tsv"
    resources:
        mem_mb=8000,
    params:
        design=config["matching"],  # rerun when these change
    run:
        pipeline.match_children(input, output, log, config)
