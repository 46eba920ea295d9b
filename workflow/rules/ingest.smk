rule ingest:
    """Read and validate the extracts, pseudonymise identifiers, count every row."""
    input:
        get_raw_inputs(),
    output:
        extracts=expand(f"{INTERIM}/ingest/{{extract}}.parquet", extract=EXTRACT_NAMES),
        accounting="results/ingest/row_accounting.csv",
    params:
        on_invalid=config["data"]["on_invalid_row"],
    log:
        "logs/ingest.log",
    benchmark:
        "benchmarks/ingest.tsv"
    resources:
        mem_mb=8000,
    run:
        from evaluation.ingest import ingest_folder, load_key
        from evaluation.logs import step_log

        with step_log(log[0], "ingest") as progress:
            key = load_key(Path(RAW_DIR), env_var=config["ingest"]["key_env"], key_file=config["ingest"]["key_file"])
            ingest_folder(
                Path(RAW_DIR),
                Path(INTERIM) / "ingest",
                on_invalid=params.on_invalid,
                quarantine_dir=Path(INTERIM) / "quarantine",
                accounting_path=Path(output.accounting),
                key=key,
                progress=progress,
            )
