rule build_panel:
    """The study cohort: children with an open case, as a child-year panel with treatment timing."""
    input:
        rules.cut_extracts.output.extracts,
    output:
        panel=f"{INTERIM}/{{release}}/cohort/panel.parquet",
        flow=f"{INTERIM}/{{release}}/cohort/sample_flow.csv",
    log:
        "logs/{release}/build_panel.log",
    benchmark:
        "benchmarks/{release}/build_panel.tsv"
    threads: 1
    resources:
        mem_mb=6000,
        runtime=20,
    params:
        # rerun when these change
        design=config["treatment"] | config["cohort"] | config["prices"],
        cutoff=release_cutoff,
        code=get_code_digest("build_panel"),
    script:
        "../scripts/step.py"


rule municipality_panel:
    """The municipality-year panel (children, outcomes, parents), computed once for the comparison municipalities, the synthetic control and the factsheets."""
    input:
        extracts=rules.cut_extracts.output.extracts,
    output:
        f"{INTERIM}/{{release}}/municipality/panel.parquet",
    log:
        "logs/{release}/municipality_panel.log",
    benchmark:
        "benchmarks/{release}/municipality_panel.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        # rerun when these change (the first adoption year bounds the years of the parents' figures)
        design={
            "cohort": config["cohort"],
            "prices": config["prices"],
            "adoptions": config["treatment"]["adoptions"],
        },
        code=get_code_digest("municipality_panel"),
    script:
        "../scripts/step.py"


rule write_study:
    """The study's design and provenance, for the report."""
    output:
        "results/{release}/study.json",
    log:
        "logs/{release}/write_study.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        design=config,  # rerun when these change
        code=get_code_digest("write_study"),
    script:
        "../scripts/step.py"
