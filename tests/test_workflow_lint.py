"""Snakemake's linter (``snakemake --lint``) finds nothing in the workflow but one lint that does not apply.

The one lint let through asks every rule with a ``script:`` for a conda environment or a container. The
software of this workflow is the pinned virtual environment of ``make setup`` (``requirements.lock``): every
job runs in the environment Snakemake runs in. A ``conda:`` directive cannot name it: an environment file
with the lock's relative paths does not build from the copy Snakemake makes of it, and a named environment
makes Snakemake call ``conda`` after every job, on machines without conda too.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
#: The lint this project answers with its pinned environment instead (see the module docstring).
NOT_APPLICABLE = {"Specify a conda environment or container for each rule."}


def lints(text: str) -> list[tuple[str, str]]:
    """``(where, lint)`` for every lint in ``snakemake --lint``'s text output."""
    found, where = [], ""
    for line in text.splitlines():
        if line.startswith("Lints for "):
            where = line.removeprefix("Lints for ").rstrip(":")
        match = re.match(r"^    \* (.+?):$", line)
        if match:
            found.append((where, match.group(1)))
    return found


def test_lints_are_read_from_snakemakes_text() -> None:
    text = (
        "Lints for rule simulate (line 1, workflow/rules/simulate.smk):\n"
        "    * Specify a conda environment or container for each rule.:\n"
        "      This way, the used software for each specific step is documented, and the\n"
        "Lints for snakefile workflow/rules/common.smk:\n"
        "    * Mixed rules and functions in same snakefile.:\n"
    )
    assert lints(text) == [
        (
            "rule simulate (line 1, workflow/rules/simulate.smk)",
            "Specify a conda environment or container for each rule.",
        ),
        ("snakefile workflow/rules/common.smk", "Mixed rules and functions in same snakefile."),
    ]


def test_the_workflow_has_no_lint_but_the_environment_one() -> None:
    run = subprocess.run(
        [SNAKEMAKE, "--lint", "--config", "synthetic={scale: tiny}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if run.returncode == 0:
        return
    found = lints(run.stdout + run.stderr)
    assert found, f"snakemake --lint failed without a lint (exit {run.returncode}):\n{run.stderr[-2000:]}"
    other = [f"{where}: {lint}" for where, lint in found if lint not in NOT_APPLICABLE]
    assert other == [], "snakemake --lint:\n" + "\n".join(other)
