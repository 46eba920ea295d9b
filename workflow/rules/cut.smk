rule cut_extracts:
    """One release's data: the interim report's cut-off (report.cutoff_date) or all data for the final report."""
    input:
        extracts=rules.ingest.output.extracts,
        accounting=rules.ingest.output.accounting,
    output:
        extracts=expand(
            f"{INTERIM}/{{release}}/cut/{{extract}}.parquet",
            extract=EXTRACT_NAMES,
            allow_missing=True,
        ),
        accounting="results/{release}/ingest/cutoff_accounting.csv",
        row_accounting="results/{release}/ingest/row_accounting.csv",
    log:
        "logs/{release}/cut_extracts.log",
    benchmark:
        "benchmarks/{release}/cut_extracts.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        cutoff=release_cutoff,  # rerun when it changes
        code=get_code_digest("cut_extracts"),
    script:
        "../scripts/step.py"
