# Shared helpers of the rules. Anything that needs a test lives in the package.
import sys
from pathlib import Path

from evaluation import pipeline
from evaluation.config import validate_config
from evaluation.contract import EXTRACTS
from evaluation.errors import ConfigError, EvaluationError

try:
    validate_config(
        config, Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"
    )
except ConfigError as err:
    sys.exit(f"ERROR in the configuration: {err}")

RAW_DIR = config["data"]["raw_dir"]
INTERIM = "data/interim"
EXTRACT_NAMES = sorted(EXTRACTS)


def is_synthetic():
    """Whether the study runs on the embedded synthetic registry."""
    return config["data"]["source"] == "synthetic"


def get_raw_inputs():
    """The inputs of ingestion: the simulator's manifest, or the real extract files."""
    if is_synthetic():
        return [f"{RAW_DIR}/manifest.json"]
    from evaluation.ingest.readers import find_extract_files

    try:
        found, _ = find_extract_files(Path(RAW_DIR), EXTRACTS)
    except EvaluationError as err:
        sys.exit(f"ERROR: {err}")
    return sorted(str(path) for paths in found.values() for path in paths)


def get_report_outputs():
    """The rendered reports and factsheets, one file per configured format."""
    from evaluation.report.documents import planned_outputs

    return planned_outputs(config)


def get_report_sources():
    """The Quarto sources of the reports: documents and their text parts."""
    return sorted(str(p) for p in Path("reports").glob("*.qmd")) + sorted(
        str(p) for p in Path("reports/_text").rglob("*.md")
    )


def get_guarded_outputs():
    """Everything the output guard scans: the rendered reports (results/ is scanned as a folder)."""
    return get_report_outputs() + ["results/study.json"]
