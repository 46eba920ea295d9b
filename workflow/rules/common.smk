# Shared helpers of the rules. Anything that needs a test lives in the package.
import sys
from pathlib import Path

from evaluation.config import (
    RELEASES,
    apply_study_file,
    effective_cutoff,
    release_config as _release_config,
    validate_config,
)
from evaluation.contract import EXTRACTS
from evaluation.errors import ConfigError, EvaluationError

# A study file's adopters replace the demo's instead of merging into them (evaluation.config).
apply_study_file(config, workflow.config_settings.overwrite_config)
try:
    validate_config(
        config, Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"
    )
except ConfigError as err:
    sys.exit(f"ERROR in the configuration: {err}")

# The study's years and municipalities come from the data (evaluation.scope); the design must fit them.
from evaluation.scope import check_design, study_scope

try:
    SCOPE = study_scope(config)
    for note in check_design(config, SCOPE):
        print(f"NOTE: {note}", file=sys.stderr)
except EvaluationError as err:
    sys.exit(f"ERROR: {err}")
config["scope"] = SCOPE.to_dict()

RAW_DIR = config["data"]["raw_dir"]
INTERIM = "data/interim"
EXTRACT_NAMES = sorted(EXTRACTS)

# Every analysis step runs once per release: results/interim/ (data up to report.cutoff_date)
# for the interim report and results/final/ (all data) for the final report and the factsheets.


wildcard_constraints:
    release="|".join(RELEASES),


def release_config(release):
    """The configuration of one release (evaluation.config.release_config)."""
    return _release_config(config, release)


def release_cutoff(wildcards):
    """The data cut-off of the job's release (None: all data)."""
    return effective_cutoff(release_config(wildcards.release))


def get_code_digest(step):
    """The digest of the package code a step runs (evaluation.code_digest): a rule's params, so an edit reruns it."""
    from evaluation.code_digest import step_code_digest

    try:
        return step_code_digest(step)
    except EvaluationError as err:
        sys.exit(f"ERROR: {err}")


def is_synthetic():
    """Whether the study runs on the embedded synthetic registry."""
    return config["data"]["source"] == "synthetic"


def get_raw_inputs():
    """The inputs of ingestion: the simulator's manifest, or the real extract files."""
    if is_synthetic():
        return [f"{RAW_DIR}/manifest.json"]
    from evaluation.steps.ingest.readers import find_extract_files

    try:
        found, _ = find_extract_files(Path(RAW_DIR), EXTRACTS)
    except EvaluationError as err:
        sys.exit(f"ERROR: {err}")
    return sorted(str(path) for paths in found.values() for path in paths)


def get_report_outputs():
    """The rendered reports and factsheets, one file per configured format, and the landing pages."""
    from evaluation.report.documents import planned_outputs
    from evaluation.report.landing import site_outputs

    return planned_outputs(config) + site_outputs(config)


def montecarlo_replications():
    """The files of the Monte Carlo replications: one per scenario and seed (imported here, not at parse time)."""
    from evaluation.steps.fewclusters.mc import montecarlo_scenarios, montecarlo_seeds

    return expand(
        "results/montecarlo/{scenario}/replications/{seed}.json",
        scenario=list(montecarlo_scenarios(config)),
        seed=montecarlo_seeds(config),
    )


def release_inputs(release, **named):
    """Named rule outputs (patterns with {release}) filled in for one release."""
    filled = {name: expand(pattern, release=release) for name, pattern in named.items()}
    return {
        name: paths[0] if len(paths) == 1 else paths for name, paths in filled.items()
    }


def get_report_sources():
    """The Quarto sources of the reports: documents and their text parts (Markdown, and the YAML of coded sentences)."""
    return sorted(str(p) for p in Path("reports").glob("*.qmd")) + sorted(
        str(p) for p in Path("reports/_text").rglob("*") if p.suffix in (".md", ".yml")
    )


def get_guarded_outputs():
    """Everything the output guard scans: the rendered reports (results/ is scanned as a folder)."""
    return get_report_outputs() + [
        f"results/{release}/study.json" for release in RELEASES
    ]


# The results of a release, named (defined here, used by the rules audit_disclosure and render_report).
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
        overlap_da=rules.match_children.output.overlap_da,
        overlap_en=rules.match_children.output.overlap_en,
        municipalities=rules.compare_municipalities.output,
        estimates=rules.estimate_effects.output.estimates,
        trends=rules.estimate_effects.output.trends,
        economics=rules.estimate_economics.output,
        staggered=rules.estimate_staggered.output,
        inference=rules.estimate_effects.output.inference,
        power=rules.power_table.output,
        synth=rules.synthetic_control.output,
        implementation=rules.monitor_implementation.output,
        factsheets=rules.factsheet_figures.output,
        provenance=rules.write_provenance.output,
    )


def report_inputs(wildcards):
    """What the reports display, for both releases: <release>_<name>, and the report sources."""
    inputs = {"documents": get_report_sources(), "statement": "docs/accessibility.md"}
    for release in RELEASES:
        named = release_results(release)
        named["disclosure"] = expand(
            rules.audit_disclosure.output.summary, release=release
        )
        inputs |= {f"{release}_{name}": paths for name, paths in named.items()}
    return inputs


def economics_bootstrap_parts(wildcards):
    """The files of the bootstrap parts of one release, in order (economics.bootstrap.jobs of them)."""
    from evaluation.methods.economics.resample import bootstrap_parts

    boot = config["economics"]["bootstrap"]
    n_parts = len(bootstrap_parts(boot["replications"], boot["jobs"]))
    return expand(
        f"{INTERIM}/{wildcards.release}/economics_bootstrap/{{part}}.parquet",
        part=range(n_parts),
    )
