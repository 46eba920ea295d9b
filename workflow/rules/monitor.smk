rule monitor_implementation:
    """Implementation monitoring: caseload, screening, assessments, conversations, follow-ups, audits, turnover."""
    input:
        extracts=rules.cut_extracts.output.extracts,
        panel=rules.build_panel.output.panel,
    output:
        municipality_year="results/{release}/implementation/municipality_year.csv",
        group_year="results/{release}/implementation/group_year.csv",
    log:
        "logs/{release}/monitor_implementation.log",
    benchmark:
        "benchmarks/{release}/monitor_implementation.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        # rerun when these change
        design=config["implementation"]
        | config["treatment"]
        | config["disclosure"]
        | config["cohort"],
        code=get_code_digest("monitor_implementation"),
    script:
        "../scripts/step.py"


rule factsheet_figures:
    """Key figures of each factsheet municipality, its comparison group and Denmark."""
    input:
        extracts=rules.cut_extracts.output.extracts,
        panel=rules.build_panel.output.panel,
        municipality_panel=rules.municipality_panel.output[0],
    output:
        "results/{release}/factsheets/municipality_figures.csv",
    log:
        "logs/{release}/factsheet_figures.log",
    benchmark:
        "benchmarks/{release}/factsheet_figures.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        # rerun when these change
        design=config["treatment"]
        | config["disclosure"]
        | {"factsheets": config["report"]["factsheets"]},
        code=get_code_digest("factsheet_figures"),
    script:
        "../scripts/step.py"


rule write_provenance:
    """What a reader needs to rerun the analysis: input hashes, versions, seeds, config digest."""
    input:
        get_raw_inputs(),
    output:
        provenance="results/{release}/provenance.json",
        run_info="results/{release}/run_info.json",
        config="results/{release}/config.yaml",
    log:
        "logs/{release}/write_provenance.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        # rerun when these change
        design=config,
        code=get_code_digest("write_provenance"),
    script:
        "../scripts/step.py"
