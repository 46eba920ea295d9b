def report_inputs(wildcards):
    """What the reports display, for both releases: <release>_<name>, and the report sources."""
    inputs = {"documents": get_report_sources()}
    for release in RELEASES:
        named = release_results(release)
        named["disclosure"] = expand(
            rules.audit_disclosure.output.summary, release=release
        )
        inputs |= {f"{release}_{name}": paths for name, paths in named.items()}
    return inputs


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
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        design=config["report"] | config["disclosure"],  # rerun when these change
    run:
        pipeline.render_report(input, output, log, config)
