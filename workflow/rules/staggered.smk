rule estimate_staggered:
    """Staggered DiD (Callaway-Sant'Anna) on municipality-years, event study, naive vs robust, heterogeneity, caseload dose-response and adjusted p-values."""
    input:
        panel=rules.build_panel.output.panel,
        extracts=rules.cut_extracts.output.extracts,
        estimates=rules.estimate_effects.output.estimates,
    output:
        att_gt="results/estimate/att_gt.csv",
        event_study="results/estimate/event_study.csv",
        pretrend="results/estimate/pretrend.csv",
        naive_vs_robust="results/estimate/naive_vs_robust.csv",
        heterogeneity="results/estimate/heterogeneity.csv",
        dose_response="results/estimate/dose_response.csv",
        multiplicity="results/estimate/multiplicity.csv",
    log:
        "logs/estimate_staggered.log",
    benchmark:
        "benchmarks/estimate_staggered.tsv"
    resources:
        mem_mb=4000,
    params:
        # rerun when these change
        design=config["estimation"]
        | config["outcomes"]
        | {"min_cell": config["disclosure"]["min_cell"]},
    run:
        pipeline.estimate_staggered(input, output, log, config)
