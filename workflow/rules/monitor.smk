rule monitor_implementation:
    """Implementation monitoring: caseload, screening, assessments, conversations, follow-ups, audits, turnover."""
    input:
        extracts=rules.cut_extracts.output.extracts,
        panel=rules.build_panel.output.panel,
    output:
        municipality_year="results/implementation/municipality_year.csv",
        group_year="results/implementation/group_year.csv",
    log:
        "logs/monitor_implementation.log",
    benchmark:
        "benchmarks/monitor_implementation.tsv"
    resources:
        mem_mb=4000,
    params:
        # rerun when these change
        design=config["implementation"]
        | config["treatment"]
        | config["disclosure"]
        | config["cohort"],
    run:
        pipeline.monitor_implementation(input, output, log, config)


rule factsheet_figures:
    """Key figures of each factsheet municipality, its comparison group and Denmark."""
    input:
        extracts=rules.cut_extracts.output.extracts,
        panel=rules.build_panel.output.panel,
    output:
        "results/factsheets/municipality_figures.csv",
    log:
        "logs/factsheet_figures.log",
    benchmark:
        "benchmarks/factsheet_figures.tsv"
    resources:
        mem_mb=4000,
    params:
        # rerun when these change
        design=config["treatment"]
        | config["disclosure"]
        | config["cohort"]
        | {"factsheets": config["report"]["factsheets"]},
    run:
        pipeline.factsheet_figures(input, output, log, config)


rule write_provenance:
    """What a reader needs to rerun the analysis: input hashes, versions, seeds, config digest."""
    input:
        get_raw_inputs(),
    output:
        provenance="results/provenance.json",
        run_info="results/run_info.json",
    log:
        "logs/write_provenance.log",
    params:
        # rerun when these change
        design=config,
    run:
        pipeline.write_provenance(output, log, config)
