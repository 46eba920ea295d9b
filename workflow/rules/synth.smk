rule synthetic_control:
    """Synthetic control and synthetic DiD per adopting municipality and outcome (municipality-year outcomes)."""
    input:
        municipality_panel=rules.municipality_panel.output[0],
    output:
        table="results/{release}/synth/table.csv",
        average="results/{release}/synth/average.csv",
        gaps="results/{release}/synth/gaps.csv",
        sdid="results/{release}/synth/sdid.csv",
    log:
        "logs/{release}/synthetic_control.log",
    benchmark:
        "benchmarks/{release}/synthetic_control.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        # rerun when these change
        design=config.get("synth", {})
        | {
            "adoptions": config["treatment"]["adoptions"],
            "alpha": config["estimation"]["alpha"],
            "min_cell": config["disclosure"]["min_cell"],
        },
        code=get_code_digest("synthetic_control"),
    script:
        "../scripts/step.py"
