"""Adapters between the Snakemake rules and the package.

Each function here serves one rule: it takes the rule's ``input``, ``output``,
``log`` and the config, opens the rule's log, and calls one function of the
package with explicit paths. The analysis lives in the modules these call; the
rules in ``workflow/rules/`` stay a few lines long: each runs ``workflow/scripts/step.py``, which
calls :func:`run_job`.
"""

from __future__ import annotations

import inspect
import shutil
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from evaluation.config import effective_cutoff, release_config
from evaluation.logs import step_log

Files = Any  # snakemake's named lists: attribute and index access to paths


def simulate(output: Files, log: Files, config: Mapping[str, Any], threads: int = 1) -> None:
    """Rule ``simulate``: write the synthetic registry into ``data.raw_dir``.

    With two threads about half of the municipalities are simulated in a second process.
    """
    from evaluation.steps.simulate import simulate as run

    syn = config["synthetic"]
    with step_log(log[0], "simulate") as progress:
        run(
            Path(output.manifest).parent,
            scale=syn["scale"],
            seed=syn["seed"],
            fmt=syn["format"],
            config=config,
            progress=progress,
            workers=threads,
        )


def ingest(output: Files, log: Files, config: Mapping[str, Any], threads: int = 1) -> None:
    """Rule ``ingest``: validate, pseudonymise and count the extracts of ``data.raw_dir``.

    With two threads the extracts after ``befolkning`` are ingested in a second process (see
    :mod:`evaluation.steps.ingest.parallel`).
    """
    from evaluation.steps.ingest import ingest_folder, load_key

    raw_dir = Path(config["data"]["raw_dir"])
    out_dir = Path(output.extracts[0]).parent
    with step_log(log[0], "ingest") as progress:
        key_file = config["ingest"]["key_file"]
        key = load_key(raw_dir, env_var=config["ingest"]["key_env"], key_file=Path(key_file) if key_file else None)
        ingest_folder(
            raw_dir,
            out_dir,
            on_invalid=config["data"]["on_invalid_row"],
            quarantine_dir=out_dir.parent / "quarantine",
            accounting_path=Path(output.accounting),
            key=key,
            progress=progress,
            delivery_date=config["data"]["delivery_date"],
            max_quarantined_share=config["data"]["max_quarantined_share"],
            workers=threads,
        )


def cut_extracts(input: Files, output: Files, log: Files, config: Mapping[str, Any]) -> None:
    """Rule ``cut_extracts``: one release's data cut-off (``report.cutoff_date``), applied once for every later step.

    The ingestion's row accounting is copied beside the cut-off's, so that each release's
    results folder holds everything its report displays.
    """
    from evaluation.steps.cohort import cut_extracts as run

    with step_log(log[0], "cut_extracts") as progress:
        Path(output.row_accounting).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(input.accounting, output.row_accounting)
        run(
            Path(input.extracts[0]).parent,
            effective_cutoff(config),
            Path(output.extracts[0]).parent,
            Path(output.accounting),
            progress=progress,
        )


def check_outputs(input: Files, output: Files, log: Files, config: Mapping[str, Any]) -> None:
    """Rule ``check_outputs``: the output guard over ``results/`` and the rendered reports."""
    from evaluation.steps.guard import check_outputs as guard

    folders = sorted({Path(p).parts[0] if Path(p).parts[0] == "results" else str(Path(p).parent) for p in input})
    with step_log(log[0], "check_outputs") as progress:
        guard([Path(f) for f in folders], min_cell=config["disclosure"]["min_cell"])
        progress(f"no person identifiers or small cells found in {', '.join(folders)}")
        Path(output[0]).write_text("ok\n", encoding="utf-8")


def build_panel(input: Files, output: Files, log: Files, config: Mapping[str, Any]) -> None:
    """Rule ``build_panel``: the child-year panel of children with an open case."""
    from evaluation.steps.cohort import build_panel as run

    with step_log(log[0], "build_panel") as progress:
        # the extracts were cut with the release's cut-off by the rule cut_extracts
        run(Path(input[0]).parent, config, Path(output.panel), Path(output.flow), progress=progress, cut=False)


def municipality_panel(input: Files, output: Files, log: Files, config: Mapping[str, Any]) -> None:
    """Rule ``municipality_panel``: the municipality-year panel, for the steps that describe municipalities."""
    from evaluation.steps.municipality_panel import write_municipality_panel

    with step_log(log[0], "municipality_panel") as progress:
        write_municipality_panel(Path(input.extracts[0]).parent, config, Path(output[0]), progress=progress)


def write_study(output: Files, log: Files, config: Mapping[str, Any]) -> None:
    """Rule ``write_study``: the study's design and provenance for the report."""
    from evaluation.steps.study import write_study as run

    with step_log(log[0], "write_study") as progress:
        run(config, output[0])
        progress(f"wrote {output[0]}")


def match_children(input: Files, output: Files, log: Files, config: Mapping[str, Any]) -> None:
    """Rule ``match_children``: the matched comparison children and their balance."""
    from evaluation.steps.compare import match_children as run

    with step_log(log[0], "match_children") as progress:
        run(
            Path(input.panel),
            config,
            Path(output.matched),
            Path(output.balance),
            Path(input.flow),
            Path(output.flow),
            progress=progress,
            love_plot_path=Path(output.love_plot),
            overlap_plot_paths={"da": Path(output.overlap_da), "en": Path(output.overlap_en)},
        )


def estimate_effects(input: Files, output: Files, log: Files, config: Mapping[str, Any]) -> None:
    """Rule ``estimate_effects``: the headline with the policy's inference, matched and unmatched DiD, the naive one."""
    from evaluation.steps.estimate import run_estimates

    with step_log(log[0], "estimate_effects") as progress:
        run_estimates(
            Path(input.panel),
            Path(input.matched),
            config,
            Path(output.estimates),
            Path(output.trends),
            progress=progress,
            caseworkers_path=Path(input.caseworkers),
            events_path=Path(output.events),
            pretrend_path=Path(output.pretrend),
            honest_path=Path(output.honest_did),
            inference_path=Path(output.inference),
        )


def prepare_economics(input: Files, output: Files, log: Files, config: Mapping[str, Any]) -> None:
    """Rule ``prepare_economics``: the effects' per-municipality sums that the bootstrap and the estimates read."""
    from evaluation.steps.economics import run_prepare_economics

    with step_log(log[0], "prepare_economics") as progress:
        run_prepare_economics(
            Path(input.extracts[0]).parent,
            Path(input.panel),
            Path(input.matched),
            config,
            Path(output.inputs),
            progress=progress,
        )


def estimate_economics(input: Files, output: Files, log: Files, config: Mapping[str, Any]) -> None:
    """Rule ``estimate_economics``: costs, net cost, payback and cost-effectiveness."""
    from evaluation.steps.economics import run_economics

    with step_log(log[0], "estimate_economics") as progress:
        run_economics(
            Path(input.extracts[0]).parent,
            Path(input.inputs),
            config,
            Path(output.economics),
            Path(output.ceac).parent,
            progress=progress,
            draws_paths=[Path(path) for path in input.draws],
        )


def economics_bootstrap(input: Files, output: Files, log: Files, config: Mapping[str, Any], part: int) -> None:
    """Rule ``economics_bootstrap``: one part of the economics bootstrap replications."""
    from evaluation.steps.economics import run_economics_bootstrap

    with step_log(log[0], f"economics_bootstrap {part}") as progress:
        run_economics_bootstrap(Path(input.inputs), config, part, Path(output.draws), progress=progress)


def monitor_implementation(input: Files, output: Files, log: Files, config: Mapping[str, Any]) -> None:
    """Rule ``monitor_implementation``: implementation indicators by municipality, group and year."""
    from evaluation.scope import read_scope
    from evaluation.steps.implementation import write_implementation
    from evaluation.steps.study import last_data_year

    with step_log(log[0], "monitor_implementation") as progress:
        written = write_implementation(
            Path(input.extracts[0]).parent,
            Path(input.panel),
            Path(output.municipality_year).parent,
            adoptions=config["treatment"]["adoptions"],
            first_year=read_scope(config).first_year,
            last_year=last_data_year(config),
            min_cell=config["disclosure"]["min_cell"],
            conversation_window_days=config["implementation"]["conversation_window_days"],
        )
        progress(f"wrote {', '.join(str(p) for p in written.values())}")


def factsheet_figures(input: Files, output: Files, log: Files, config: Mapping[str, Any]) -> None:
    """Rule ``factsheet_figures``: key figures for the municipal factsheets."""
    from evaluation.scope import factsheet_municipalities, read_scope
    from evaluation.steps.keyfigures import write_municipality_figures
    from evaluation.steps.study import last_data_year

    scope = read_scope(config)
    with step_log(log[0], "factsheet_figures") as progress:
        write_municipality_figures(
            Path(input.extracts[0]).parent,
            Path(input.panel),
            Path(output[0]),
            municipality_panel=Path(input.municipality_panel),
            adoptions=config["treatment"]["adoptions"],
            first_year=scope.first_year,
            last_year=last_data_year(config),
            min_cell=config["disclosure"]["min_cell"],
            extra_municipalities=factsheet_municipalities(config, scope),
            municipalities=scope.municipalities,
        )
        progress(f"wrote {output[0]}")


def write_provenance(output: Files, log: Files, config: Mapping[str, Any]) -> None:
    """Rule ``write_provenance``: hashes of the extracts, versions, seeds and the run date."""
    from evaluation.contract import EXTRACTS
    from evaluation.steps.ingest.readers import find_extract_files
    from evaluation.steps.provenance import write_config, write_run_info
    from evaluation.steps.provenance import write_provenance as write

    with step_log(log[0], "write_provenance") as progress:
        found, _ = find_extract_files(Path(config["data"]["raw_dir"]), EXTRACTS)
        files = sorted(path for paths in found.values() for path in paths)
        write(config, files, Path(output.provenance), root=Path("."))
        write_config(config, Path(output.config))
        write_run_info(Path(output.run_info))
        progress(f"hashed {len(files)} extract files")


def render_report(input: Files, output: Files, log: Files, config: Mapping[str, Any], threads: int = 1) -> None:
    """Rule ``render_report``: render each release's documents from its results only.

    The interim report is rendered from ``results/interim/`` (the folder of ``input.interim_study``),
    the final reports and the factsheets from ``results/final/`` (see :func:`evaluation.config.release_config`),
    then the landing pages and the accessibility statement (:func:`evaluation.report.landing.write_site`).
    With two threads, half the documents are rendered in a second process (:mod:`evaluation.report.batch`).
    """
    from evaluation.config import RELEASES
    from evaluation.report.batch import Document, render_documents
    from evaluation.report.documents import planned_documents
    from evaluation.report.landing import write_site

    reports_dir = Path(input.documents[0]).parent
    documents = [
        Document(Path(getattr(input, f"{release}_study")).parent, document, language, params or None)
        for release in RELEASES
        for document, language, params in planned_documents(config, release)
    ]
    with step_log(log[0], "render_report") as progress:
        formats = tuple(config["report"]["formats"])
        render_documents(documents, reports_dir, formats, workers=threads, progress=progress)
        write_site(config, Path(input.final_study).parent, reports_dir, Path(input.statement), progress=progress)


def estimate_staggered(input: Files, output: Files, log: Files, config: Mapping[str, Any]) -> None:
    """Rule ``estimate_staggered``: CS ATT(g,t), event study, naive vs robust, Bacon, heterogeneity, dose, p-values."""
    from evaluation.steps.staggered import run_staggered

    with step_log(log[0], "estimate_staggered") as progress:
        run_staggered(
            Path(input.panel),
            Path(input.extracts[0]).parent,
            dict(config),
            Path(output.att_gt).parent,
            matched_path=Path(input.matched),
            estimates_path=Path(input.estimates),
            progress=progress,
        )


def power_table(input: Files, output: Files, log: Files, config: Mapping[str, Any]) -> None:
    """Rule ``power_table``: minimum detectable effects of the design and over the configured grid."""
    from evaluation.steps.fewclusters import write_power

    with step_log(log[0], "power_table") as progress:
        table = write_power(Path(input.panel), config, Path(output.table), Path(output.figure))
        progress(f"wrote {output.table} ({len(table)} rows) and {output.figure}")


def montecarlo_replication(
    output: Files, log: Files, config: Mapping[str, Any], seed: int, workdir: str | Path, scenario: str = "constant"
) -> None:
    """Rule ``montecarlo_replication``: one replication; its microdata live in ``workdir`` and are removed."""
    from evaluation.steps.fewclusters import run_replication_job

    with step_log(log[0], f"montecarlo_replication {scenario} {seed}") as progress:
        result = run_replication_job(
            int(seed), config, Path(output[0]), Path(workdir), scenario=scenario, progress=progress
        )
        progress(f"replication {seed}: {len(result['rows'])} rows")


def montecarlo_summary(input: Files, output: Files, log: Files, config: Mapping[str, Any]) -> None:
    """Rule ``montecarlo_summary``: bias, RMSE and coverage per estimator and inference."""
    from evaluation.steps.fewclusters import write_summary

    with step_log(log[0], "montecarlo_summary") as progress:
        table = write_summary(
            [Path(p) for p in input],
            Path(output.table),
            Path(output.markdown),
            scale=config.get("montecarlo", {}).get("scale"),
        )
        progress(f"summarised {len(input)} replications into {len(table)} rows")


def synthetic_control(input: Files, output: Files, log: Files, config: Mapping[str, Any]) -> None:
    """Rule ``synthetic_control``: municipality-year outcomes, synthetic control and synthetic DiD per adopter."""
    from evaluation.steps.fewclusters import write_synth

    with step_log(log[0], "synthetic_control") as progress:
        table = write_synth(
            Path(input.municipality_panel),
            config,
            Path(output.table),
            Path(output.average),
            Path(output.gaps),
            sdid_path=Path(output.sdid),
            progress=progress,
        )
        progress(f"wrote {output.table} ({len(table)} rows), {output.average}, {output.gaps} and {output.sdid}")


def compare_municipalities(input: Files, output: Files, log: Files, config: Mapping[str, Any]) -> None:
    """Rule ``compare_municipalities``: comparison municipalities by pre-reform similarity, with distances."""
    from evaluation.steps.municipality_comparison import write_municipality_comparison

    with step_log(log[0], "compare_municipalities") as progress:
        write_municipality_comparison(
            Path(input.municipality_panel),
            config,
            Path(output.distances),
            Path(output.balance),
            progress=progress,
        )


def audit_disclosure(input: Files, output: Files, log: Files, config: Mapping[str, Any]) -> None:
    """Rule ``audit_disclosure``: check every published table of a release and count the suppressed cells.

    The release folder is the parent of ``input.study``; the summary goes to ``output.summary``.
    """
    from evaluation.disclosure import write_audit

    results_dir = Path(input.study).parent
    min_cell = config["disclosure"]["min_cell"]
    with step_log(log[0], "audit_disclosure") as progress:
        summary = write_audit(results_dir, min_cell, Path(output.summary))
        checked = summary.loc[summary["cells_total"] > 0, "table"].nunique()
        progress(
            f"{summary['table'].nunique()} tables under {results_dir} pass the disclosure rules (min_cell = "
            f"{min_cell}); {checked} hold person-level cells, {int(summary['cells_suppressed'].sum())} cells "
            f"suppressed; wrote {output.summary}"
        )


def run_job(job: Any) -> None:
    """Run the step of a Snakemake job: the function of this module named as the job's rule.

    The rules run ``workflow/scripts/step.py`` as a ``script:`` job, which passes Snakemake's ``snakemake``
    object here. A ``script:`` job is a plain Python process that receives the job's files and settings
    from the main Snakemake process; a ``run:`` job would start a new Snakemake process that parses the
    whole workflow again, about 2 CPU-seconds per job.

    Parameters
    ----------
    job
        The ``snakemake`` object of the script: ``rule``, ``input``, ``output``, ``log``, ``threads``,
        ``config``, ``wildcards`` and ``params``.

    Notes
    -----
    The step receives its arguments by name: ``input``, ``output``, ``log`` and ``threads`` are the job's;
    ``config`` is the configuration of the job's release (:func:`evaluation.config.release_config`) when
    the job has a ``release`` wildcard, else the whole configuration; any other argument is the wildcard or
    the param of that name, converted to ``int`` where the step declares it so.

    Raises
    ------
    KeyError
        The rule has no step of its name, or a step's argument is neither a wildcard nor a param.
    """
    step = globals().get(job.rule)
    if not inspect.isfunction(step) or job.rule == "run_job":
        raise KeyError(f"no pipeline step for rule {job.rule!r}")
    hints = typing.get_type_hints(step)
    wildcards, params = dict(job.wildcards.items()), dict(job.params.items())
    arguments: dict[str, Any] = {}
    for name, parameter in inspect.signature(step).parameters.items():
        if name in ("input", "output", "log"):
            arguments[name] = getattr(job, name)
        elif name == "config":
            release = wildcards.get("release")
            arguments[name] = release_config(job.config, release) if release else job.config
        elif name == "threads":
            arguments[name] = int(job.threads)
        elif name in wildcards or name in params:
            value = wildcards[name] if name in wildcards else params[name]
            arguments[name] = int(value) if hints.get(name) is int else value
        elif parameter.default is inspect.Parameter.empty:
            raise KeyError(f"rule {job.rule}: the step's argument {name!r} is neither a wildcard nor a param")
    step(**arguments)
