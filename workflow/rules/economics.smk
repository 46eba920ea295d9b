rule estimate_economics:
    """Costs, staff cost of lower caseloads, net cost, payback and cost-effectiveness, with one bootstrap."""
    input:
        extracts=rules.cut_extracts.output.extracts,
        panel=rules.build_panel.output.panel,
        matched=rules.match_children.output.matched,
    output:
        economics="results/economics.csv",
        ceac="results/economics/ceac.csv",
        by_year="results/economics/costs_by_year.csv",
        reconciliation="results/economics/reconciliation.csv",
        budget="results/economics/budget.csv",
    log:
        "logs/estimate_economics.log",
    benchmark:
        "benchmarks/estimate_economics.tsv"
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        # rerun when these change
        design=config["economics"]
        | config["prices"]
        | {"alpha": config["estimation"]["alpha"]},
    run:
        pipeline.estimate_economics(input, output, log, config)
