"""Few-treated-clusters inference in the pipeline: inference choice, power, synthetic control, Monte Carlo.

The functions here are what the rules of ``workflow/rules/power.smk``, ``workflow/rules/synth.smk`` and
``workflow/rules/montecarlo.smk`` call (through :mod:`evaluation.steps.pipeline`). The
methods themselves live in :mod:`evaluation.methods.inference`, :mod:`evaluation.methods.power`,
:mod:`evaluation.methods.synth` and :mod:`evaluation.steps.montecarlo`; this package reads the
pipeline's files, applies the config and writes the results tables.

API page: Few treated clusters (`evaluation.methods.synth`, `evaluation.methods.inference`, `evaluation.methods.power`, `evaluation.steps.fewclusters`)
-------------------------------------------------------------------------------------------------------------------------
```python
from evaluation.methods.synth import synthetic_control, placebo_in_time, staggered_synthetic_control, plot_gaps
sc = synthetic_control(df, unit="municipality", time="year", outcome="y", treated=657, treatment_time=2013,
                       predictors=None, placebo=True)   # .weights .v .v_loss .gap .att .pre_rmspe .post_rmspe .p_value .placebos
sc = synthetic_control(smoking, "state", "year", "cigsale", "California", 1989,
                       predictors=["lnincome", ("beer", range(1984, 1989)), ("cigsale", [1975])],
                       predictor_periods=range(1980, 1989),     # R time.predictors.prior (plain column names)
                       optimisation_periods=range(1970, 1989),  # R time.optimize.ssr (the outcome fit V minimises)
                       custom_v=None,                           # R custom.v: fixed V, by position or predictor label
                       placebo_pool="donors")                   # "all": treated unit joins placebo pools (ADH 2010)
placebo_in_time(smoking, "state", "year", "cigsale", "California", 1989, fake_treatment_time=1980,
                predictors=["lnincome", ("cigsale", [1975])], placebo=False)  # data before 1989 only
from evaluation.methods.inference import wild_cluster_bootstrap, randomization_inference, choose_inference, effective_clusters_from_data
wild_cluster_bootstrap(df, "y", "treated", cluster="municipality", unit="person_id", time="year",
                       weights="weight", weight_type="webb")   # restricted (WCR); p-value and CI by test inversion
randomization_inference(panel, stat)        # permutes the adoption schedule across municipalities
sc.tidy(); sc.summary(); sc.to_dict()       # "ATT" with the placebo p-value; text; the scalars (summary() before)
# wild_cluster_bootstrap, randomization_inference and staggered_synthetic_control results also have tidy(), summary()
choose_inference(n_treated, n_clusters, config) # InferenceChoice(method, reason, effective_clusters, weight_type)
from evaluation.methods.power import mde_formula, power_by_simulation, power_table
from evaluation.steps.fewclusters import inference_table, icc_anova, power_design_table, run_replication_job, write_summary
from evaluation.steps.fewclusters import inference_outcomes, inference_rows, write_inference
# inference_table(panel, matched, config, outcomes=["sdq"]); the pipeline's estimate step writes the same rows
from evaluation.steps.montecarlo import run_replication, replication_frame, summarise
```

Synthetic control follows Abadie, Diamond and Hainmueller (2010): the placebo p-value is the rank of
the post/pre RMSPE ratio among all units. With predictors it follows R `Synth` (predictors averaged with
missing values skipped and divided by their SD across units; V minimises the outcome MSPE over
`optimisation_periods`, reported as `v_loss`). The V search is multi-start and can find a smaller loss
than `Synth`: it reproduces ADH 2010 Table 2 and p = 1/39 on Prop 99. On the Basque data it finds loss
0.0043 with weights other than the published Cataluna 0.851 / Madrid 0.149 (loss 0.0089), which it
returns when Spain is in the pool; `custom_v` reproduces a published V
(`tests/test_synth_published.py`, `tests/reference/synth/README.md`). `placebo_in_time` backdates the
treatment (ADH 2015), using only data before the real date and predictor periods before the fake one. The wild
bootstrap follows boottest: restricted by default,
symmetric p-value, all 2^G Rademacher draws when G <= 12. G* follows Carter, Schnepel and
Steigerwald (2017). The pipeline's `estimate_effects` step writes `results/estimate/inference.csv` (the chosen
method beside cluster-robust errors, with G*) from the headline's own fits and intervals
(`inference_rows`), so it and `estimates.csv` agree and the bootstrap or permutation draws run once; `power_table` writes
`results/power/mde.csv`;
`make montecarlo REPS=200` runs the design validation (one Snakemake job per replication).

`evaluation.steps.fewclusters.write_synth(panel_path, config, table_path, average_path, gaps_path, sdid_path=None)` reads
municipality-year outcomes (spending per child aged 0-17 in DKK, placements per 1,000 children, share of
placed children in family or network care) from the municipality-year panel (rule `municipality_panel`,
`evaluation.steps.municipality_panel`), fits one synthetic control per adopter
and outcome with the never-adopters as donors, with a placebo-in-space p-value for Herning, and writes
`results/synth/{table,average,gaps}.csv` (rule `synthetic_control`, config `synth`), and with `sdid_path`
the synthetic DiD of each adopter against the never-adopters and their mean (`results/synth/sdid.csv`,
placebo standard errors; `synth.sdid`). With only three
pre-reform years in the synthetic registry, the pre-period fit is exact and the placebo p-values say little;
the report says so.
"""  # noqa: E501

from evaluation.steps.fewclusters.choice import (
    INFERENCE_COLUMNS,
    INFERENCE_DEFAULTS,
    inference_outcomes,
    inference_rows,
    inference_table,
    randomization_ci,
    write_inference,
)
from evaluation.steps.fewclusters.design_power import (
    POWER_COLUMNS,
    POWER_DEFAULTS,
    design_numbers,
    icc_anova,
    power_design_table,
    write_power,
)
from evaluation.steps.fewclusters.mc import (
    MONTECARLO_DEFAULTS,
    montecarlo_scenarios,
    montecarlo_seeds,
    montecarlo_settings,
    run_replication_job,
    write_summary,
)
from evaluation.steps.fewclusters.synth_step import (
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
    "inference_outcomes",
    "inference_rows",
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
    "write_power",
    "write_synth",
]
