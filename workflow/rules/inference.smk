rule choose_inference:
    """Inference the policy picks (few treated municipalities) for the main analysis, beside the cluster-robust one."""
    input:
        panel=rules.build_panel.output.panel,
        matched=rules.match_children.output.matched,
    output:
        inference="results/{release}/estimate/inference.csv",
    log:
        "logs/{release}/choose_inference.log",
    benchmark:
        "benchmarks/{release}/choose_inference.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        # rerun when these change
        design=config["estimation"] | config["outcomes"] | config.get("inference", {}),
    run:
        pipeline.choose_inference(input, output, log, release_config(wildcards.release))


rule power_table:
    """Minimum detectable effect of the design (formula), with a grid of treated municipalities and ICCs."""
    input:
        panel=rules.build_panel.output.panel,
    output:
        table="results/{release}/power/mde.csv",
        figure="results/{release}/power/mde.png",
    log:
        "logs/{release}/power_table.log",
    benchmark:
        "benchmarks/{release}/power_table.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        # rerun when these change
        design=config["estimation"] | config["outcomes"] | config.get("power", {}),
    run:
        pipeline.power_table(input, output, log, release_config(wildcards.release))
