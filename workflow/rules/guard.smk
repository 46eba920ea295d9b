rule check_outputs:
    """The output guard: no person identifiers or small cells in what leaves the machine."""
    input:
        get_guarded_outputs(),
    output:
        "logs/check_outputs.ok",
    log:
        "logs/check_outputs.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        # rerun when these change
        min_cell=config["disclosure"]["min_cell"],
        code=get_code_digest("check_outputs"),
    script:
        "../scripts/step.py"
