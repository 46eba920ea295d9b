rule build_panel:
    """The study cohort: children with an open case, as a child-year panel with treatment timing."""
    input:
        rules.cut_extracts.output.extracts,
    output:
        panel=f"{INTERIM}/cohort/panel.parquet",
        flow=f"{INTERIM}/cohort/sample_flow.csv",
    log:
        "logs/build_panel.log",
    benchmark:
        "benchmarks/build_panel.tsv"
    resources:
        mem_mb=8000,
    params:
        # rerun when these change
        design=config["treatment"]
        | config["cohort"]
        | config["prices"]
        | {"cutoff": config["report"]["cutoff_date"]},
    run:
        pipeline.build_panel(input, output, log, config)


rule write_study:
    """The study's design and provenance, for the report."""
    output:
        "results/study.json",
    log:
        "logs/write_study.log",
    params:
        design=config,  # rerun when these change
    run:
        pipeline.write_study(output, log, config)
