rule match_children:
    """Matched comparison children (propensity score on baseline covariates) and balance."""
    input:
        panel=rules.build_panel.output.panel,
        flow=rules.build_panel.output.flow,
    output:
        matched=f"{INTERIM}/{{release}}/compare/matched.parquet",
        balance="results/{release}/compare/balance.csv",
        flow="results/{release}/cohort/sample_flow.csv",
        love_plot="results/{release}/compare/love_plot.png",
        overlap_da="results/{release}/compare/overlap_plot_da.png",
        overlap_en="results/{release}/compare/overlap_plot_en.png",
    log:
        "logs/{release}/match_children.log",
    benchmark:
        "benchmarks/{release}/match_children.tsv"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=30,
    params:
        # rerun when these change (the sample flow is suppressed; the figures' alt text is in report.language)
        design=config["matching"]
        | {
            "min_cell": config["disclosure"]["min_cell"],
            "language": config["report"]["language"],
        },
        code=get_code_digest("match_children"),
    script:
        "../scripts/step.py"


rule compare_municipalities:
    """Comparison municipalities: the nearest never-adopters of each adopter on pre-reform features, with distances."""
    input:
        municipality_panel=rules.municipality_panel.output[0],
    output:
        distances="results/{release}/compare/municipalities.csv",
        balance="results/{release}/compare/municipality_balance.csv",
    log:
        "logs/{release}/compare_municipalities.log",
    benchmark:
        "benchmarks/{release}/compare_municipalities.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=20,
    params:
        # rerun when these change
        design=config["matching"].get("municipalities", {})
        | {"adoptions": config["treatment"]["adoptions"]},
        code=get_code_digest("compare_municipalities"),
    script:
        "../scripts/step.py"
