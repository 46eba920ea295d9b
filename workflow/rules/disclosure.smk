rule audit_disclosure:
    """Check every published table of a release against the disclosure rules and count the suppressed cells."""
    input:
        unpack(lambda wildcards: release_results(wildcards.release)),
    output:
        summary="results/{release}/disclosure/summary.csv",
    log:
        "logs/{release}/audit_disclosure.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        min_cell=config["disclosure"]["min_cell"],  # rerun when it changes
        code=get_code_digest("audit_disclosure"),
    script:
        "../scripts/step.py"
