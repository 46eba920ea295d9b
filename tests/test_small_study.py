"""End to end: a researcher's own small study, Herning alone, on extracts as Statistics Denmark delivers them.

The synthetic registry (Herning the only adopter) is cut down to ten municipalities and the years
2011-2020 (:func:`evaluation.steps.simulate.study_extracts.study_extracts`): spells and employments open at the
end of 2020 keep their real, later end dates. A study file names the extracts and the one adopter; the
pipeline must run through rendering and the output guard.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from evaluation.config import load_config
from evaluation.steps.simulate import simulate
from evaluation.steps.simulate.study_extracts import study_extracts
from workspace import ROOT, SNAKEMAKE, TIMEOUT, make_workspace, snakemake_env

pytestmark = pytest.mark.e2e

#: Herning and nine municipalities around it, one of them a six-city factsheet municipality (Aarhus).
MUNICIPALITIES = (615, 621, 630, 657, 661, 671, 740, 751, 756, 760)
FIRST, LAST = 2011, 2020


@pytest.fixture(scope="module")
def herning_study(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    base = tmp_path_factory.mktemp("herning_alone")
    workdir = make_workspace(base / "workspace")
    config = load_config(ROOT / "config" / "config.yaml", {"treatment": {"adoptions": {657: 2013}}})
    full = base / "registry"
    simulate(full, scale="tiny", seed=config["synthetic"]["seed"], fmt="csv", config=config)
    study_extracts(full, workdir / "data" / "raw" / "study", MUNICIPALITIES, FIRST, LAST)
    study = {
        "data": {"source": "extracts", "raw_dir": "data/raw/study"},
        "treatment": {"adoptions": {657: 2013}},
    }
    (workdir / "study.yaml").write_text(yaml.safe_dump(study), encoding="utf-8")
    env = snakemake_env() | {"EVALUATION_PSEUDONYM_KEY": "a-test-key-that-is-not-secret"}
    done = subprocess.run(
        [SNAKEMAKE, "--cores", "2", "--configfile", "study.yaml"],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT,
    )
    return workdir, done


def test_the_study_runs_through_rendering_and_the_guard(herning_study):
    workdir, done = herning_study
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    assert (workdir / "logs" / "check_outputs.ok").is_file()


def test_open_spells_and_employments_are_valid_and_no_row_is_quarantined(herning_study):
    workdir, done = herning_study
    assert done.returncode == 0
    raw = workdir / "data" / "raw" / "study"
    spells = pd.read_csv(raw / "anbringelser_forloeb.csv", sep=";", dtype=str, keep_default_na=False)
    ends = pd.to_datetime(spells["SLUTDATO"].replace("", None), dayfirst=True)
    assert (ends > pd.Timestamp(f"{LAST}-12-31")).any()  # the test data hold spells open at the period end
    accounting = pd.read_csv(workdir / "results" / "ingest" / "row_accounting.csv")
    assert accounting["rows_quarantined"].sum() == 0, accounting.to_string()


def test_study_json_has_the_data_years_municipalities_and_the_one_adopter(herning_study):
    workdir, done = herning_study
    assert done.returncode == 0
    study = json.loads((workdir / "results" / "final" / "study.json").read_text(encoding="utf-8"))
    assert (study["first_year"], study["last_year"]) == (FIRST, LAST)
    assert study["municipalities"] == list(MUNICIPALITIES) and study["n_municipalities"] == 10
    assert study["whole_country"] is False
    assert [(t["municipality"], t["adoption_year"]) for t in study["treated"]] == [(657, 2013)]


def test_the_inference_fits_one_treated_municipality(herning_study):
    workdir, done = herning_study
    assert done.returncode == 0
    inference = pd.read_csv(workdir / "results" / "final" / "estimate" / "inference.csv")
    chosen = inference.loc[inference["chosen"].astype(bool)]
    assert len(chosen) and (chosen["n_treated_clusters"] == 1).all()
    assert set(chosen["method"]) == {"randomization_inference"}
    # the headline's rows carry the same interval: the matching redone for each of the ten reassignments
    estimates = pd.read_csv(workdir / "results" / "final" / "estimates.csv")
    main = estimates.loc[estimates["analysis"] == "main"].set_index("outcome")
    for row in chosen.itertuples():
        assert (row.ci_low, row.ci_high, row.p_value) == pytest.approx(
            tuple(main.loc[row.outcome, ["ci_low", "ci_high", "p_value"]]), rel=1e-6
        )
        assert row.draws == len(MUNICIPALITIES)
    log = (workdir / "logs" / "final" / "estimate_effects.log").read_text(encoding="utf-8")
    assert "randomization with the design redone: 10 every distinct reassignments" in log


def test_factsheets_only_for_municipalities_in_the_data(herning_study):
    workdir, done = herning_study
    assert done.returncode == 0
    rendered = {int(p.stem.split("-")[1]) for p in (workdir / "reports" / "_output").glob("factsheet-*.html")}
    assert rendered == {657, 751}  # Herning (the adopter) and Aarhus (a six-city factsheet in the data)
    assert "751 (Aarhus)" not in done.stderr and "101 (København) is not in the data" in done.stderr


def test_every_sample_flow_step_is_worded_in_both_languages(herning_study):
    # the English report words the selection steps from their codes (labels.yml), not from the file's Danish
    from evaluation.report.labels import labels

    workdir, done = herning_study
    assert done.returncode == 0
    steps = set(pd.read_csv(workdir / "results" / "final" / "cohort" / "sample_flow.csv")["step"])
    for language in ("da", "en"):
        assert steps <= set(labels(language)["sample_flow_step"]), language
    english = " ".join((workdir / "reports" / "_output" / "final-en.html").read_text(encoding="utf-8").split())
    assert "All children aged 0-17 in the population" in english and "Alle børn 0-17" not in english
