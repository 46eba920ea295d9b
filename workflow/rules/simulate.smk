rule simulate:
    """Write the synthetic registry (the embedded default) as extracts, with truth.json kept apart."""
    output:
        manifest=f"{RAW_DIR}/manifest.json",
    log:
        "logs/simulate.log",
    benchmark:
        "benchmarks/simulate.tsv"
    threads: 2  # a second process simulates about half of the municipalities (evaluation.steps.simulate.world)
    resources:
        mem_mb=8000,
        runtime=30,
    params:
        design=config["synthetic"] | {"adoptions": config["treatment"]["adoptions"]},  # rerun when these change
        code=get_code_digest("simulate"),
    script:
        "../scripts/step.py"
