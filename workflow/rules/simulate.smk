rule simulate:
    """Write the synthetic registry (the embedded default) as extracts, with truth.json kept apart."""
    output:
        manifest=f"{RAW_DIR}/manifest.json",
    params:
        scale=config["synthetic"]["scale"],
        seed=config["synthetic"]["seed"],
        fmt=config["synthetic"]["format"],
    log:
        "logs/simulate.log",
    benchmark:
        "benchmarks/simulate.tsv"
    resources:
        mem_mb=8000,
    run:
        from evaluation.logs import step_log
        from evaluation.simulate import simulate

        with step_log(log[0], "simulate") as progress:
            simulate(RAW_DIR, scale=params.scale, seed=params.seed, fmt=params.fmt, config=config, progress=progress)
