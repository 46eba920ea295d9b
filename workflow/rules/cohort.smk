rule build_panel:
    """The study cohort: children with an open case, as a child-year panel with treatment timing."""
    input:
        rules.ingest.output.extracts,
    output:
        panel=f"{INTERIM}/cohort/panel.parquet",
        flow=f"{INTERIM}/cohort/sample_flow.csv",
    log:
        "logs/build_panel.log",
    benchmark:
        "benchmarks/build_panel.tsv"
    resources:
        mem_mb=8000,
    run:
        from evaluation.cohort import build_panel
        from evaluation.logs import step_log

        with step_log(log[0], "build_panel") as progress:
            build_panel(Path(INTERIM) / "ingest", config, Path(output.panel), Path(output.flow), progress=progress)


rule write_study:
    """The study's design and provenance, for the report."""
    output:
        "results/study.json",
    log:
        "logs/write_study.log",
    run:
        from evaluation.logs import step_log
        from evaluation.study import write_study

        with step_log(log[0], "write_study") as progress:
            write_study(config, output[0])
            progress(f"wrote {output[0]}")
