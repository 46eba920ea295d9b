rule ingest:
    """Read and validate the extracts, pseudonymise identifiers, count every row."""
    input:
        get_raw_inputs(),
    output:
        extracts=expand(f"{INTERIM}/ingest/{{extract}}.parquet", extract=EXTRACT_NAMES),
        accounting="results/ingest/row_accounting.csv",
    log:
        "logs/ingest.log",
    benchmark:
        "benchmarks/ingest.tsv"
    threads: 2  # a second process ingests the other extracts beside befolkning (evaluation.steps.ingest.parallel)
    resources:
        mem_mb=8000,
        runtime=30,
    params:
        design=config["data"] | config["ingest"],  # rerun when these change
        code=get_code_digest("ingest"),
    script:
        "../scripts/step.py"
