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
        code=get_code_digest("power_table"),
    script:
        "../scripts/step.py"
