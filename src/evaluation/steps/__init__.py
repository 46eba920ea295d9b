"""The steps: read the study's files and the config, call the methods, write the results files.

Each Snakemake rule runs one function of :mod:`evaluation.steps.pipeline` (named as the rule), which calls the
step's module here; ``simulate`` and ``ingest`` are the data steps. Only steps read or write the study's files.
"""
