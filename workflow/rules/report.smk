rule render_report:
    """Render the interim and final reports and the factsheets (HTML and PDF) from results/ only."""
    input:
        study=rules.write_study.output[0],
        accounting=rules.ingest.output.accounting,
        cutoff=rules.cut_extracts.output.accounting,
        flow=rules.match_children.output.flow,
        balance=rules.match_children.output.balance,
        love_plot=rules.match_children.output.love_plot,
        estimates=rules.estimate_effects.output.estimates,
        trends=rules.estimate_effects.output.trends,
        economics=rules.estimate_economics.output,
        staggered=rules.estimate_staggered.output,
        inference=rules.choose_inference.output,
        power=rules.power_table.output,
        synth=rules.synthetic_control.output,
        implementation=rules.monitor_implementation.output,
        factsheets=rules.factsheet_figures.output,
        provenance=rules.write_provenance.output,
        documents=get_report_sources(),
    output:
        get_report_outputs(),
    log:
        "logs/render_report.log",
    benchmark:
        "benchmarks/render_report.tsv"
    params:
        design=config["report"] | config["disclosure"],  # rerun when these change
    run:
        pipeline.render_report(input, output, log, config)
