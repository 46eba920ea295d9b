"""Run the pipeline step of a rule: every rule's ``script:`` (see evaluation.steps.pipeline.run_job)."""

from evaluation.steps.pipeline import run_job

run_job(snakemake)  # noqa: F821 (Snakemake defines ``snakemake`` in a script job)
