"""Few-treated-clusters inference in the pipeline: inference choice, power, synthetic control, Monte Carlo.

The functions here are what the rules of ``workflow/rules/inference.smk`` and
``workflow/rules/montecarlo.smk`` call (through :mod:`evaluation.pipeline`). The
methods themselves live in :mod:`evaluation.inference`, :mod:`evaluation.power`,
:mod:`evaluation.synth` and :mod:`evaluation.montecarlo`; this package reads the
pipeline's files, applies the config and writes the results tables.
"""

from evaluation.fewclusters.choice import (
    INFERENCE_COLUMNS,
    INFERENCE_DEFAULTS,
    gather_inference,
    inference_outcomes,
    inference_table,
    randomization_ci,
    write_inference,
    write_inference_part,
)
from evaluation.fewclusters.design_power import (
    POWER_COLUMNS,
    POWER_DEFAULTS,
    design_numbers,
    icc_anova,
    power_design_table,
    write_power,
)
from evaluation.fewclusters.mc import (
    MONTECARLO_DEFAULTS,
    montecarlo_scenarios,
    montecarlo_seeds,
    montecarlo_settings,
    run_replication_job,
    write_summary,
)
from evaluation.fewclusters.synth_step import (
    SYNTH_DEFAULTS,
    SYNTH_OUTCOMES,
    municipality_outcomes,
    synth_tables,
    write_synth,
)

__all__ = [
    "INFERENCE_COLUMNS",
    "INFERENCE_DEFAULTS",
    "MONTECARLO_DEFAULTS",
    "POWER_COLUMNS",
    "POWER_DEFAULTS",
    "SYNTH_DEFAULTS",
    "SYNTH_OUTCOMES",
    "design_numbers",
    "icc_anova",
    "gather_inference",
    "inference_outcomes",
    "inference_table",
    "montecarlo_scenarios",
    "montecarlo_seeds",
    "municipality_outcomes",
    "montecarlo_settings",
    "power_design_table",
    "randomization_ci",
    "run_replication_job",
    "synth_tables",
    "write_summary",
    "write_inference",
    "write_inference_part",
    "write_power",
    "write_synth",
]
