"""``evaluation.steps.pipeline.run_job``: a rule's ``script:`` job calls the step named as the rule, with its
arguments.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from snakemake.iocontainers import InputFiles, Log, OutputFiles, Params, Wildcards

from evaluation.steps import pipeline
from workspace import rule_blocks


def _job(rule: str, wildcards: dict[str, str], params: dict[str, Any] | None = None) -> SimpleNamespace:
    """A stand-in for Snakemake's ``snakemake`` object of a script job, built from Snakemake's own named lists."""
    return SimpleNamespace(
        rule=rule,
        input=InputFiles(fromdict={"inputs": "in.npz"}),
        output=OutputFiles(fromdict={"draws": "out.parquet"}),
        log=Log(["job.log"]),
        config={"report": {"cutoff_date": "2019-12-31"}, "economics": {"replications": 10}},
        wildcards=Wildcards(fromdict=wildcards),
        params=Params(fromdict=params or {}),
    )


def test_a_step_gets_its_files_the_release_config_and_typed_wildcards(monkeypatch) -> None:
    seen: dict[str, Any] = {}

    def economics_bootstrap(input: Any, output: Any, log: Any, config: dict[str, Any], part: int) -> None:
        seen.update(input=input, output=output, log=log, config=config, part=part)

    monkeypatch.setattr(pipeline, "economics_bootstrap", economics_bootstrap)
    job = _job("economics_bootstrap", {"release": "interim", "part": "3"})
    pipeline.run_job(job)
    assert seen["input"].inputs == "in.npz" and seen["output"].draws == "out.parquet" and seen["log"][0] == "job.log"
    assert seen["part"] == 3 and isinstance(seen["part"], int)
    assert seen["config"]["report"] == {"cutoff_date": "2019-12-31", "release": "interim"}
    assert "release" not in job.config["report"], "the job's own config must stay as it was"


def test_without_a_release_the_step_gets_the_whole_config_and_params_by_name(monkeypatch) -> None:
    seen: dict[str, Any] = {}

    def montecarlo_replication(output: Any, log: Any, config: Any, seed: int, workdir: str, scenario: str = "") -> None:
        seen.update(config=config, seed=seed, workdir=workdir, scenario=scenario)

    monkeypatch.setattr(pipeline, "montecarlo_replication", montecarlo_replication)
    params = {"workdir": "data/interim/mc", "code": "ab"}
    job = _job("montecarlo_replication", {"scenario": "none", "seed": "12"}, params)
    pipeline.run_job(job)
    assert seen == {"config": job.config, "seed": 12, "workdir": "data/interim/mc", "scenario": "none"}


def test_every_rule_of_the_workflow_has_a_step_whose_arguments_it_can_fill() -> None:
    """Each rule file's rules: a step of the same name whose extra arguments are the rule's wildcards or params."""
    import inspect

    found = 0
    for name, (file, block) in rule_blocks().items():
        if "script:" not in block:
            continue
        found += 1
        step = getattr(pipeline, name, None)
        assert inspect.isfunction(step), f"{file}: rule {name} has no step evaluation.steps.pipeline.{name}"
        for arg, parameter in inspect.signature(step).parameters.items():
            if arg in ("input", "output", "log", "config") or parameter.default is not inspect.Parameter.empty:
                continue
            assert "{" + arg + "}" in block or f"{arg}=" in block, f"rule {name} gives no {arg!r} to its step"
    assert found >= 20


@pytest.mark.parametrize("rule", ["no_such_step", "run_job", "release_config"])
def test_a_rule_without_a_step_is_an_error_naming_it(rule: str) -> None:
    with pytest.raises(KeyError, match=rule):
        pipeline.run_job(_job(rule, {}))
