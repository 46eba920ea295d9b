rule prepare_economics:
    """The economics' inputs, once per release: every effect fitted, kept as per-municipality sums (no person rows)."""
    input:
        extracts=rules.cut_extracts.output.extracts,
        panel=rules.build_panel.output.panel,
        matched=rules.match_children.output.matched,
    output:
        inputs=f"{INTERIM}/{{release}}/economics/inputs.npz",
    log:
        "logs/{release}/prepare_economics.log",
    benchmark:
        "benchmarks/{release}/prepare_economics.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        # rerun when these change (the effects use the headline's covariates)
        design={
            "economics": config["economics"],
            "prices": config["prices"],
            "covariates": config["matching"]["covariates"],
        },
        code=get_code_digest("prepare_economics"),
    script:
        "../scripts/step.py"


rule economics_bootstrap:
    """One part of the municipality-cluster bootstrap of the economics step (a separate job per part)."""
    input:
        inputs=rules.prepare_economics.output.inputs,
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
        mem_mb=2000,
        runtime=30,
    params:
        # rerun when these change (the replications, the seed and the split into parts)
        design={"economics": config["economics"], "prices": config["prices"]},
        code=get_code_digest("economics_bootstrap"),
    script:
        "../scripts/step.py"


rule estimate_economics:
    """Costs, staff cost, net cost, payback and cost-effectiveness by the headline's estimator, from the gathered bootstrap."""
    input:
        extracts=rules.cut_extracts.output.extracts,
        inputs=rules.prepare_economics.output.inputs,
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
        # rerun when these change (the population's ages are the cohort's)
        design={
            "economics": config["economics"],
            "prices": config["prices"],
            "alpha": config["estimation"]["alpha"],
            "ages": [config["cohort"]["min_age"], config["cohort"]["max_age"]],
            "min_cell": config["disclosure"]["min_cell"],
        },
        code=get_code_digest("estimate_economics"),
    script:
        "../scripts/step.py"
