"""A study's own design: study files replace the demo's adopters, and the scope comes from the data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from evaluation.config import load_config
from evaluation.errors import ConfigError
from evaluation.report.documents import planned_documents
from evaluation.scope import StudyScope, check_design, read_scope, study_scope
from evaluation.steps.keyfigures import comparison_sets
from evaluation.steps.study import study_metadata

ROOT = Path(__file__).resolve().parents[1]
DEFAULTS = ROOT / "config" / "config.yaml"


def _study(tmp_path: Path, content: dict) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(content), encoding="utf-8")
    return path


def test_a_study_file_replaces_the_demo_adopters_instead_of_merging_into_them(tmp_path):
    study = _study(tmp_path, {"treatment": {"adoptions": {657: 2013}}})
    config = load_config(DEFAULTS, study_files=[study])
    assert config["treatment"]["adoptions"] == {657: 2013}
    # other settings still merge key by key
    study = _study(tmp_path, {"synthetic": {"scale": "tiny"}})
    config = load_config(DEFAULTS, study_files=[study])
    assert config["synthetic"]["scale"] == "tiny" and config["synthetic"]["seed"] == 20130101
    assert len(config["treatment"]["adoptions"]) == 17


def test_command_line_values_given_as_text_become_codes_and_years():
    # snakemake --config 'treatment={adoptions: {657: 2014}}' passes every value as text
    config = load_config(DEFAULTS, {"treatment": {"adoptions": {"657": "2014"}}})
    assert config["treatment"]["adoptions"] == {657: 2014}


def test_snakemake_study_file_and_config_give_only_the_study_adopters_factsheets(tmp_path):
    study = _study(tmp_path, {"treatment": {"adoptions": {657: 2013}}})
    snakemake = Path(sys.executable).parent / "snakemake"
    for extra in (["--configfile", str(study)], ["--config", "treatment={adoptions: {657: 2014}}"]):
        done = subprocess.run(
            [str(snakemake), "-n", "-F", "--quiet", "rules", *extra], cwd=ROOT, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-2000:]
        out = subprocess.run([str(snakemake), "-n", "-F", *extra], cwd=ROOT, capture_output=True, text=True).stdout
        factsheets = {
            int(p.split("-")[1].split(".")[0]) for p in out.split() if p.startswith("reports/_output/factsheet-")
        }
        assert factsheets == {657, 101, 751, 461, 851, 561, 730}


def _population(raw: Path, koms: list[int], years: range) -> None:
    raw.mkdir(parents=True, exist_ok=True)
    rows = [{"AAR": y, "KOM": k, "PNR": f"{i:010d}"} for i, (k, y) in enumerate((k, y) for k in koms for y in years)]
    pd.DataFrame(rows).to_csv(raw / "befolkning.csv", sep=";", index=False)


def test_the_scope_of_an_extracts_study_is_read_from_the_population_extract_and_cached(tmp_path):
    _population(tmp_path / "raw", [657, 661, 101], range(2011, 2021))
    config = {"data": {"source": "extracts", "raw_dir": "raw"}}
    scope = study_scope(config, root=tmp_path)
    assert scope == StudyScope(2011, 2020, (101, 657, 661), "extracts")
    assert not scope.whole_country
    assert (tmp_path / "data/interim/scope.json").is_file()
    assert study_scope(config, root=tmp_path) == scope
    # a new delivery replaces the cached scope
    _population(tmp_path / "raw", [657, 661], range(2012, 2020))
    assert study_scope(config, root=tmp_path) == StudyScope(2012, 2019, (657, 661), "extracts")


def _design(adoptions: dict, factsheets: list[int]) -> dict:
    return {"treatment": {"adoptions": adoptions}, "report": {"factsheets": factsheets}}


def test_adopters_and_factsheets_outside_the_data_stop_the_run_with_one_message():
    scope = StudyScope(2011, 2020, (101, 657, 661), "extracts")
    with pytest.raises(ConfigError) as err:
        check_design(_design({657: 2011, 167: 2015, 661: 2021}, [147]), scope)
    message = str(err.value)
    for part in ("167 (Hvidovre) is not in the data", "657 = 2011 is outside", "661 = 2021 is outside", "147"):
        assert part in message
    assert "2011-2020" in message and "101, 657, 661" in message
    # a six-city factsheet whose city is absent is skipped with a note
    notes = check_design(_design({657: 2013}, [101, 751]), scope)
    assert notes == ["report.factsheets: 751 (Aarhus) is not in the data; its factsheet is skipped"]


def test_documents_study_and_comparison_groups_cover_only_the_municipalities_in_the_data():
    config = load_config(DEFAULTS, {"treatment": {"adoptions": {657: 2013}}})
    scope = StudyScope(2011, 2020, (101, 657, 661, 671), "extracts")
    config["scope"] = scope.to_dict()
    codes = [p["municipality"] for d, _, p in planned_documents(config) if d == "factsheet"]
    assert codes == [101, 657]
    assert read_scope(config) == scope
    final = config | {
        "data": {**config["data"], "source": "extracts"},
        "report": {**config["report"], "release": "final"},
    }
    study = study_metadata(final)
    assert (study["first_year"], study["last_year"]) == (2011, 2020)
    assert study["municipalities"] == [101, 657, 661, 671] and study["n_municipalities"] == 4
    assert study["whole_country"] is False
    sets = comparison_sets([657, 101], [657], municipalities=scope.municipalities)
    assert sets[657] == ("non_adopters", [101, 661, 671])
    assert sets[101] == ("largest_cities", [])


@pytest.mark.parametrize("name", ["template", "herning_alone"])
def test_the_shipped_study_files_are_valid_studies_of_herning_alone(name):
    config = load_config(DEFAULTS, study_files=[ROOT / "config" / "studies" / f"{name}.yaml"])
    assert config["treatment"]["adoptions"] == {657: 2013}
    assert config["data"]["source"] == "extracts"


def test_check_config_layers_a_study_file_and_checks_it_against_the_data(tmp_path, monkeypatch, capsys):
    from evaluation.cli import main

    _population(tmp_path / "raw", [657, 661, 101], range(2011, 2021))
    monkeypatch.chdir(ROOT)
    good = _study(tmp_path, {"data": {"source": "extracts", "raw_dir": str(tmp_path / "raw")}})
    good.write_text(good.read_text() + "treatment:\n  adoptions:\n    657: 2013\n", encoding="utf-8")
    assert main(["check-config", str(good)]) == 0
    out = capsys.readouterr().out
    assert "years 2011-2020, 3 municipalities; adopters 657 (2013)." in out
    assert "751 (Aarhus) is not in the data; its factsheet is skipped" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text().replace("657: 2013", "167: 2013"), encoding="utf-8")
    assert main(["check-config", str(bad)]) == 1
    assert "167 (Hvidovre) is not in the data" in capsys.readouterr().err


def test_the_scope_reads_parquet_extracts_whose_column_names_differ_in_case(tmp_path):
    (tmp_path / "raw").mkdir()
    frame = pd.DataFrame({"aar": [2012, 2013, 2013], "kom": [657, 101, 999], "pnr": ["1", "2", "3"]})
    frame.to_parquet(tmp_path / "raw" / "befolkning.parquet")
    scope = study_scope({"data": {"source": "extracts", "raw_dir": "raw"}}, root=tmp_path, cache=False)
    assert scope == StudyScope(2012, 2013, (101, 657), "extracts")  # 999 is no municipality code


def test_an_extracts_study_is_not_tied_to_the_synthetic_registry_years():
    # the synthetic registry starts in 2010; a study of real extracts may adopt in 2008 (checked against its data)
    study = {"data": {"source": "extracts", "raw_dir": "raw"}, "treatment": {"adoptions": {657: 2008}}}
    config = load_config(DEFAULTS, study)
    assert config["treatment"]["adoptions"] == {657: 2008}
    check_design(config, StudyScope(2005, 2015, (657,), "extracts"))
    with pytest.raises(ConfigError, match="adoption year must be after 2010"):
        load_config(DEFAULTS, {"treatment": {"adoptions": {657: 2008}}})  # the synthetic registry: 2010-2023
