rule cut_extracts:
    """Apply the data cut-off (report.cutoff_date) once, for every later step, and count what it leaves out."""
    input:
        extracts=rules.ingest.output.extracts,
    output:
        extracts=expand(f"{INTERIM}/cut/{{extract}}.parquet", extract=EXTRACT_NAMES),
        accounting="results/ingest/cutoff_accounting.csv",
    log:
        "logs/cut_extracts.log",
    benchmark:
        "benchmarks/cut_extracts.tsv"
    resources:
        mem_mb=8000,
    params:
        # rerun when these change
        cutoff=config["report"]["cutoff_date"],
    run:
        pipeline.cut_extracts(input, output, log, config)
