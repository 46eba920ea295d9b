"""Evaluation of the Herning model: from registry extracts to rendered reports.

Data flow: simulate -> ingest -> cut-off (interim and final releases) -> cohort -> compare
-> estimate -> disclosure audit -> report -> output guard.
Each step is a rule file in workflow/rules/ whose rules run workflow/scripts/step.py, which
calls the function of evaluation.steps.pipeline named as the rule; the rules hold no analysis logic.
"""

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/cut.smk"
include: "workflow/rules/cohort.smk"
include: "workflow/rules/compare.smk"
include: "workflow/rules/estimate.smk"
include: "workflow/rules/staggered.smk"
include: "workflow/rules/economics.smk"
include: "workflow/rules/monitor.smk"
include: "workflow/rules/power.smk"
include: "workflow/rules/synth.smk"
include: "workflow/rules/montecarlo.smk"
include: "workflow/rules/disclosure.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/guard.smk"


rule all:
    default_target: True
    input:
        get_report_outputs(),
        "logs/check_outputs.ok",
