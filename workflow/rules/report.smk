rule render_report:
    """Render the interim report from results/interim/, the final reports and the factsheets from results/final/."""
    input:
        unpack(report_inputs),
    output:
        get_report_outputs(),
    log:
        "logs/render_report.log",
    benchmark:
        "benchmarks/render_report.tsv"
    threads: 2  # half the documents in a second process (evaluation.report.batch)
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        design=config["report"] | config["disclosure"],  # rerun when these change
        code=get_code_digest("render_report"),
    script:
        "../scripts/step.py"
