rule economics_bootstrap:
    """One part of the municipality-cluster bootstrap of the economics step (a separate job per part)."""
    input:
        extracts=rules.cut_extracts.output.extracts,
        panel=rules.build_panel.output.panel,
        matched=rules.match_children.output.matched,
    output:
        draws=f"{INTERIM}/{{release}}/economics_bootstrap/{{part}}.parquet",
    log:
        "logs/{release}/economics_bootstrap/{part}.log",
    benchmark:
        "benchmarks/{release}/economics_bootstrap/{part}.tsv"
    wildcard_constraints:
        part=r"\d+",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        # rerun when these change (the effects use the headline's covariates)
        design=config["economics"]
        | config["prices"]
        | {"covariates": config["matching"]["covariates"]},
        code=get_code_digest("economics_bootstrap"),
    run:
        pipeline.economics_bootstrap(
            input,
            output,
            log,
            release_config(wildcards.release),
            int(wildcards.part),
        )


rule estimate_economics:
    """Costs, staff cost, net cost, payback and cost-effectiveness by the headline's estimator, from the gathered bootstrap."""
    input:
        extracts=rules.cut_extracts.output.extracts,
        panel=rules.build_panel.output.panel,
        matched=rules.match_children.output.matched,
        draws=economics_bootstrap_parts,
    output:
        economics="results/{release}/economics.csv",
        ceac="results/{release}/economics/ceac.csv",
        by_year="results/{release}/economics/costs_by_year.csv",
        reconciliation="results/{release}/economics/reconciliation.csv",
        budget="results/{release}/economics/budget.csv",
    log:
        "logs/{release}/estimate_economics.log",
    benchmark:
        "benchmarks/{release}/estimate_economics.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        # rerun when these change (the effects use the headline's covariates)
        design=config["economics"]
        | config["prices"]
        | {
            "alpha": config["estimation"]["alpha"],
            "covariates": config["matching"]["covariates"],
            "min_cell": config["disclosure"]["min_cell"],
        },
        code=get_code_digest("estimate_economics"),
    run:
        pipeline.estimate_economics(
            input, output, log, release_config(wildcards.release)
        )
