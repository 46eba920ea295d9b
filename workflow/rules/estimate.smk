rule estimate_effects:
    """The headline (imputation DiD on the matched children, with the few-cluster policy's inference) and its comparisons."""
    input:
        panel=rules.build_panel.output.panel,
        matched=rules.match_children.output.matched,
        caseworkers=f"{INTERIM}/{{release}}/cut/sagsbehandlere.parquet",
    output:
        estimates="results/{release}/estimates.csv",
        trends="results/{release}/estimate/trends.csv",
        events="results/{release}/estimate/event_study_main.csv",
        pretrend="results/{release}/estimate/pretrend_main.csv",
        honest_did="results/{release}/estimate/honest_did.csv",
        inference="results/{release}/estimate/inference.csv",
    log:
        "logs/{release}/estimate_effects.log",
    benchmark:
        "benchmarks/{release}/estimate_effects.tsv"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=30,
    params:
        # rerun when these change
        design=config["estimation"]
        | config["outcomes"]
        | config["prices"]
        | config["matching"]
        | config["inference"]
        | config["disclosure"],
        code=get_code_digest("estimate_effects"),
    script:
        "../scripts/step.py"
