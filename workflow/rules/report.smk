rule render_report:
    """Render the interim report (HTML and PDF) from results/ only."""
    input:
        study=rules.write_study.output[0],
        accounting=rules.ingest.output.accounting,
        flow=rules.match_children.output.flow,
        balance=rules.match_children.output.balance,
        estimates=rules.estimate_effects.output.estimates,
        trends=rules.estimate_effects.output.trends,
        qmd="reports/interim.qmd",
    output:
        get_report_outputs(),
    log:
        "logs/render_report.log",
    benchmark:
        "benchmarks/render_report.tsv"
    run:
        from evaluation.logs import step_log
        from evaluation.report import build_report

        with step_log(log[0], "render_report") as progress:
            build_report(
                Path("results"),
                Path("reports"),
                document="interim",
                formats=tuple(config["report"]["formats"]),
                progress=progress,
            )
