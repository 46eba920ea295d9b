rule inference_outcome:
    """The policy's inference for one outcome: its bootstrap or permutation draws run in a job of their own."""
    input:
        panel=rules.build_panel.output.panel,
        matched=rules.match_children.output.matched,
    output:
        part=f"{INTERIM}/{{release}}/inference/{{outcome}}.parquet",
    log:
        "logs/{release}/inference/{outcome}.log",
    benchmark:
        "benchmarks/{release}/inference_outcome/{outcome}.tsv"
    wildcard_constraints:
        outcome=r"\w+",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        # rerun when these change
        design=config["estimation"] | config["matching"] | config.get("inference", {}),
        code=get_code_digest("inference_outcome"),
    script:
        "../scripts/step.py"


rule choose_inference:
    """Inference the policy picks (few treated municipalities) for the main analysis, beside the cluster-robust one."""
    input:
        parts=inference_outcome_parts,
    output:
        inference="results/{release}/estimate/inference.csv",
    log:
        "logs/{release}/choose_inference.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        code=get_code_digest("choose_inference"),
    script:
        "../scripts/step.py"


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
