def release_results(release):
    """Every results file of one release that a report displays."""
    return release_inputs(
        release,
        study=rules.write_study.output[0],
        accounting=rules.cut_extracts.output.row_accounting,
        cutoff=rules.cut_extracts.output.accounting,
        flow=rules.match_children.output.flow,
        balance=rules.match_children.output.balance,
        love_plot=rules.match_children.output.love_plot,
        municipalities=rules.compare_municipalities.output,
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
    )


rule audit_disclosure:
    """Check every published table of a release against the disclosure rules and count the suppressed cells."""
    input:
        unpack(lambda wildcards: release_results(wildcards.release)),
    output:
        summary="results/{release}/disclosure/summary.csv",
    log:
        "logs/{release}/audit_disclosure.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        min_cell=config["disclosure"]["min_cell"],  # rerun when it changes
    run:
        pipeline.audit_disclosure(
            input, output, log, release_config(wildcards.release)
        )
