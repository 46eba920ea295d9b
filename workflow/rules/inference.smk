rule choose_inference:
    """Inference the policy picks (few treated municipalities) for the main analysis, beside the cluster-robust one."""
    input:
        panel=rules.build_panel.output.panel,
        matched=rules.match_children.output.matched,
    output:
        inference="results/estimate/inference.csv",
    log:
        "logs/choose_inference.log",
    benchmark:
        "benchmarks/choose_inference.tsv"
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        # rerun when these change
        design=config["estimation"] | config["outcomes"] | config.get("inference", {}),
    run:
        pipeline.choose_inference(input, output, log, config)


rule power_table:
    """Minimum detectable effect of the design (formula), with a grid of treated municipalities and ICCs."""
    input:
        panel=rules.build_panel.output.panel,
    output:
        table="results/power/mde.csv",
        figure="results/power/mde.png",
    log:
        "logs/power_table.log",
    benchmark:
        "benchmarks/power_table.tsv"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        # rerun when these change
        design=config["estimation"] | config["outcomes"] | config.get("power", {}),
    run:
        pipeline.power_table(input, output, log, config)
