rule estimate_staggered:
    """Staggered DiD (Callaway-Sant'Anna) on the matched children's municipality-year means, event study, naive vs robust, Goodman-Bacon decomposition, heterogeneity, caseload dose-response and adjusted p-values."""
    input:
        panel=rules.build_panel.output.panel,
        matched=rules.match_children.output.matched,
        extracts=rules.cut_extracts.output.extracts,
        estimates=rules.estimate_effects.output.estimates,
    output:
        att_gt="results/{release}/estimate/att_gt.csv",
        event_study="results/{release}/estimate/event_study.csv",
        pretrend="results/{release}/estimate/pretrend.csv",
        naive_vs_robust="results/{release}/estimate/naive_vs_robust.csv",
        heterogeneity="results/{release}/estimate/heterogeneity.csv",
        dose_response="results/{release}/estimate/dose_response.csv",
        multiplicity="results/{release}/estimate/multiplicity.csv",
        bacon="results/{release}/estimate/bacon.csv",
    log:
        "logs/{release}/estimate_staggered.log",
    benchmark:
        "benchmarks/{release}/estimate_staggered.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        # rerun when these change
        design=config["estimation"]
        | config["outcomes"]
        | {"min_cell": config["disclosure"]["min_cell"]},
        code=get_code_digest("estimate_staggered"),
    script:
        "../scripts/step.py"
