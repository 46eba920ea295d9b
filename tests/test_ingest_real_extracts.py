"""Ingestion of a researcher's own extracts (issue 18): right-censored spells, the delivery date, the
quarantine budget, exact duplicate rows, messages that name the fix, and the verdict of ``validate``."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from evaluation.cli import main
from evaluation.contract.docs import render_markdown
from evaluation.contract.schemas import RULES as SCHEMA_RULES
from evaluation.errors import ConfigError, EvaluationError, ExtractValidationError
from evaluation.steps.ingest import ingest_folder, validate_folder
from evaluation.steps.ingest.accounting import accounting_row
from evaluation.steps.ingest.crossfield import delivery_bound
from evaluation.steps.ingest.messages import RULES, format_problems, rule_fix
from hostile import CASES, CHILD_IDS, valid_frames, write_csv, write_valid_folder

KEY = b"test-key-not-secret"
#: The valid folder's population covers 2013-2015: the extract period ends on 2015-12-31.
PERIOD_END = "2015-12-31"


def _ingest(raw, tmp_path, **options):
    base = tmp_path / "out"
    lines: list[str] = []
    settings = {"on_invalid": "quarantine", **options}
    table = ingest_folder(
        raw,
        base / "clean",
        quarantine_dir=base / "quarantine",
        accounting_path=base / "accounting.csv",
        key=KEY,
        progress=lines.append,
        **settings,
    )
    return base, table.set_index("extract"), lines


@pytest.fixture
def raw(tmp_path):
    folder = tmp_path / "raw"
    write_valid_folder(folder)
    return folder


def _set_values(folder, extract, changes, **csv_options):
    frame = valid_frames()[extract]
    for (row, column), value in changes.items():
        frame.loc[row - 1, column] = value
    write_csv(frame, folder / f"{extract}.csv", **csv_options)


def _open_at_period_end(folder):
    """Spells and an employment still open at the period end, carrying their real later last days."""
    _set_values(folder, "forebyggende", {(3, "SLUTDATO"): "2017-05-31"})
    _set_values(folder, "anbringelser_forloeb", {(1, "SLUTDATO"): "2016-08-14"})
    _set_values(folder, "sagsbehandlere", {(3, "ANSAT_SLUT"): "2019-06-30"})


# -- right-censoring and the delivery date ----------------------------------------------------------


def test_last_days_after_the_period_end_are_valid(raw, tmp_path):
    _open_at_period_end(raw)
    report = validate_folder(raw, delivery_date="2020-01-15", max_quarantined_share=0.001)
    assert report.ok, report.render()
    base, table, _ = _ingest(raw, tmp_path, delivery_date="2020-01-15", max_quarantined_share=0.001)
    assert (table["rows_quarantined"] == 0).all()
    spells = pd.read_parquet(base / "clean" / "forebyggende.parquet")
    assert pd.Timestamp("2017-05-31") in set(spells["end_date"])  # kept as delivered; the analysis censors it
    staff = pd.read_parquet(base / "clean" / "sagsbehandlere.parquet")
    assert pd.Timestamp("2019-06-30") in set(staff["employed_to"])


def test_a_last_day_after_the_delivery_date_is_a_future_date(raw):
    _set_values(raw, "anbringelser_forloeb", {(1, "SLUTDATO"): "2016-08-14"})
    rep = validate_folder(raw, delivery_date="2016-06-30")["anbringelser_forloeb"]
    assert list(rep.problems["rule"]) == ["future_date"]
    text = rep.render()
    assert "column SLUTDATO: the date 2016-08-14 is after the delivery date 2016-06-30 [future_date]" in text
    assert "; fix: correct the date; if the extract was delivered later than data.delivery_date" in text


@pytest.mark.parametrize(
    ("extract", "column", "row"),
    [
        ("forebyggende", "STARTDATO", 2),
        ("underretninger", "DATO", 1),
        ("sagshaendelser", "DATO", 1),
        ("anbringelser_haendelser", "HAENDDATO", 1),
    ],
)
def test_a_start_or_event_after_the_period_end_is_a_problem(raw, extract, column, row):
    _set_values(raw, extract, {(row, column): "2016-03-01"})
    rep = validate_folder(raw, delivery_date="2020-01-15")[extract]
    assert list(rep.problems["rule"]) == ["after_period"], rep.render()
    assert f"is after the end of the extract period ({PERIOD_END}, the last year of befolkning)" in rep.render()


def test_a_date_after_the_delivery_date_is_stated_once(raw):
    _set_values(raw, "underretninger", {(1, "DATO"): "2099-03-01"})
    rep = validate_folder(raw, delivery_date="2020-01-15")["underretninger"]
    assert list(rep.problems["rule"]) == ["future_date"]  # not also after_period


def test_without_a_delivery_date_the_run_date_bounds_the_dates(raw):
    today = dt.date.today()
    _set_values(raw, "forebyggende", {(3, "SLUTDATO"): (today - dt.timedelta(days=1)).isoformat()})
    _set_values(raw, "anbringelser_forloeb", {(1, "SLUTDATO"): (today + dt.timedelta(days=400)).isoformat()})
    report = validate_folder(raw)
    assert report["forebyggende"].ok
    assert list(report["anbringelser_forloeb"].problems["rule"]) == ["future_date"]


def test_delivery_bound():
    assert delivery_bound(None, today=dt.date(2024, 5, 1)) == pd.Timestamp("2024-05-01")
    assert delivery_bound("2021-03-15") == pd.Timestamp("2021-03-15")
    assert delivery_bound(dt.date(2021, 3, 15)) == pd.Timestamp("2021-03-15")
    with pytest.raises(ConfigError, match="data.delivery_date = '2021-02-30' is not a date"):
        delivery_bound("2021-02-30")


def test_a_birth_after_the_year_keeps_its_own_rule(raw):
    _set_values(raw, "befolkning", {(1, "FOED_DAG"): "2020-02-14"})
    assert list(validate_folder(raw)["befolkning"].problems["rule"]) == ["birth_after_year"]


# -- the quarantine budget --------------------------------------------------------------------------


def _many_notifications(folder, n, *, broken=0, switch_format_at=None):
    """Write ``n`` valid notifications; ``broken`` of them with an unknown notifier code, or dates that
    switch to another format from row ``switch_format_at`` on."""
    base = valid_frames()["underretninger"].iloc[[0]]
    frame = pd.concat([base] * n, ignore_index=True)
    frame["UNDERRETNING_ID"] = [f"U{i + 1:06d}" for i in range(n)]
    frame["PNR"] = [CHILD_IDS[i % 3] for i in range(n)]
    if broken:
        frame.loc[: broken - 1, "ANMELDER"] = 42
    if switch_format_at is not None:
        frame["DATO"] = ["2013-01-01" if i + 1 < switch_format_at else "01-01-2013" for i in range(n)]
    write_csv(frame, folder / "underretninger.csv")


def test_over_the_budget_ingestion_stops_with_counts_by_rule_and_column(raw, tmp_path):
    _many_notifications(raw, 2000, switch_format_at=1001)
    with pytest.raises(ExtractValidationError) as info:
        _ingest(raw, tmp_path, max_quarantined_share=0.001)
    message = str(info.value)
    assert "underretninger.csv: 1,000 of 2,000 rows (50.00%) would be quarantined" in message
    assert "data.max_quarantined_share = 0.001 (0.10%)" in message
    assert "[date] column DATO: 1,000 row(s); fix: write every date of DATO in one format" in message
    assert "underretninger.csv, row 1001, column DATO" in message  # the first problems, with their fix
    assert "raise data.max_quarantined_share" in message
    quarantine = tmp_path / "out" / "quarantine" / "underretninger.csv"
    assert f"The quarantined rows are in {quarantine}" in message
    assert len(pd.read_csv(quarantine)) == 1000  # written for inspection
    assert not (tmp_path / "out" / "accounting.csv").exists()


def test_within_the_budget_ingestion_goes_on(raw, tmp_path):
    _many_notifications(raw, 2000, broken=2)  # 0.1 %: at the budget, not over it
    _, table, _ = _ingest(raw, tmp_path, max_quarantined_share=0.001)
    assert table.loc["underretninger", "rows_quarantined"] == 2


def test_without_a_budget_ingestion_goes_on(raw, tmp_path):
    _many_notifications(raw, 2000, switch_format_at=1001)
    _, table, _ = _ingest(raw, tmp_path, max_quarantined_share=None)
    assert table.loc["underretninger", "rows_quarantined"] == 1000


@pytest.mark.parametrize("share", [-0.1, 1.5, "a lot", True])
def test_a_budget_outside_zero_to_one_is_refused(raw, tmp_path, share):
    with pytest.raises(ConfigError, match="data.max_quarantined_share"):
        _ingest(raw, tmp_path, max_quarantined_share=share)


def test_validate_says_whether_the_pipeline_would_stop(raw):
    _many_notifications(raw, 2000, broken=1)
    runs = validate_folder(raw, max_quarantined_share=0.001)
    assert not runs.ok and not runs.would_stop
    assert runs["underretninger"].status == "QUARANTINE"
    assert "Result: VALID WITH QUARANTINE (1 of 11 extracts with problems): the pipeline would run" in runs.render()
    stops = validate_folder(raw, on_invalid="stop", max_quarantined_share=0.001)
    assert stops.would_stop and stops["underretninger"].status == "STOP"
    assert "the pipeline would STOP at ingestion" in stops.render()
    _many_notifications(raw, 2000, switch_format_at=1001)
    over = validate_folder(raw, max_quarantined_share=0.001)
    assert over.would_stop
    text = over.render()
    assert "underretninger: STOP" in text
    assert "stop: underretninger.csv: 1,000 of 2,000 rows (50.00%) would be quarantined" in text
    assert "[date] column DATO: 1,000 row(s)" in text


def test_cli_validate_exits_0_when_the_pipeline_would_run_and_1_when_it_would_stop(raw, tmp_path, capsys):
    _many_notifications(raw, 2000, broken=1)
    study = tmp_path / "study.yaml"
    study.write_text("data:\n  max_quarantined_share: 0.001\n", encoding="utf-8")
    assert main(["validate", str(raw), "--config", str(study)]) == 0
    assert "the pipeline would run and set 1 row(s) aside" in capsys.readouterr().out
    study.write_text("data:\n  max_quarantined_share: 0.0001\n", encoding="utf-8")
    assert main(["validate", str(raw), "--config", str(study)]) == 1
    assert "the pipeline would STOP" in capsys.readouterr().out
    study.write_text(f"data:\n  raw_dir: {raw}\n  on_invalid_row: stop\n", encoding="utf-8")
    assert main(["validate", "--config", str(study)]) == 1  # the folder defaults to data.raw_dir
    assert "data.on_invalid_row is stop" in capsys.readouterr().out


# -- exact duplicate rows ---------------------------------------------------------------------------


def _with_copies(folder, extract, copies):
    frame = valid_frames()[extract]
    frame = pd.concat([frame, *(frame.iloc[[i]] for i in copies)], ignore_index=True)
    write_csv(frame, folder / f"{extract}.csv")
    return frame


@pytest.mark.parametrize("on_invalid", ["stop", "quarantine"])
def test_exact_duplicates_keep_one_copy_and_are_counted(raw, tmp_path, on_invalid):
    _with_copies(raw, "udfald", [1, 1, 0])  # rows 4 and 5 repeat row 2, row 6 repeats row 1
    base, table, lines = _ingest(raw, tmp_path, on_invalid=on_invalid)
    row = table.loc["udfald"]
    assert (row["rows_read"], row["rows_accepted"], row["rows_quarantined"], row["rows_duplicate_dropped"]) == (
        6,
        3,
        0,
        3,
    )
    assert len(pd.read_parquet(base / "clean" / "udfald.parquet")) == 3
    written = pd.read_csv(base / "accounting.csv")
    assert list(written.columns) == [
        "extract",
        "file",
        "rows_read",
        "rows_accepted",
        "rows_quarantined",
        "rows_duplicate_dropped",
    ]
    assert (
        written["rows_read"] == written[["rows_accepted", "rows_quarantined", "rows_duplicate_dropped"]].sum(axis=1)
    ).all()
    assert any("udfald: warning: 3 exact duplicate row(s) dropped" in line for line in lines)
    assert any("row 4 repeats row 2, row 5 repeats row 2, row 6 repeats row 1" in line for line in lines)
    assert any(line.endswith("0 quarantined, 3 exact duplicate(s) dropped") for line in lines)


def test_a_broken_row_and_its_copy_are_quarantined_once(raw, tmp_path):
    frame = valid_frames()["udfald"]
    frame.loc[1, "VAERDI"] = 500.0  # out of range
    frame = pd.concat([frame, frame.iloc[[1]]], ignore_index=True)
    write_csv(frame, raw / "udfald.csv")
    base, table, _ = _ingest(raw, tmp_path)
    assert tuple(table.loc["udfald", ["rows_accepted", "rows_quarantined", "rows_duplicate_dropped"]]) == (2, 1, 1)
    assert list(pd.read_csv(base / "quarantine" / "udfald.csv")["_row"]) == [2]


def test_rows_that_share_a_key_but_differ_are_all_quarantined(raw, tmp_path):
    frame = _with_copies(raw, "udfald", [1])
    frame.loc[3, "VAERDI"] = 9.0
    write_csv(frame, raw / "udfald.csv")
    _, table, _ = _ingest(raw, tmp_path)
    assert tuple(table.loc["udfald", ["rows_accepted", "rows_quarantined", "rows_duplicate_dropped"]]) == (2, 2, 0)


def test_validate_reports_exact_duplicates_as_a_warning(raw):
    _with_copies(raw, "kommuner", [2])
    report = validate_folder(raw)
    assert report.ok and not report.would_stop
    text = report["kommuner"].render()
    assert "1 exact duplicate(s) to drop" in text
    assert "warning: 1 exact duplicate row(s) dropped, one copy of each kept (row 4 repeats row 3)" in text


def test_the_accounting_identity_counts_dropped_duplicates():
    assert accounting_row("udfald", "udfald.csv", 6, 3, 0, 3)["rows_duplicate_dropped"] == 3
    with pytest.raises(EvaluationError, match="3 duplicate rows dropped"):
        accounting_row("udfald", "udfald.csv", 6, 3, 1, 3)


# -- messages and the rule table --------------------------------------------------------------------


def _problems_of_every_case(tmp_path):
    for case in CASES:
        if case.rows is None:
            continue
        folder = tmp_path / case.name
        write_valid_folder(folder)
        case.build(folder)
        rep = validate_folder(folder)[case.extract]
        yield case, rep


def test_every_row_message_names_a_known_rule_and_its_fix(tmp_path):
    seen = set()
    for case, rep in _problems_of_every_case(tmp_path):
        assert not rep.problems.empty, case.name
        lines = format_problems("f.csv", rep.problems)
        for rule, column, line in zip(rep.problems["rule"], rep.problems["column"], lines, strict=True):
            assert rule in RULES and RULES[rule].row_level, (case.name, rule)
            assert line.endswith(f"[{rule}]; fix: {rule_fix(rule, column)}"), line
            seen.add(rule)
    expected = {"fields", "type", "date", "missing", "code", "range", "person_id", "duplicate_key"}
    expected |= {"end_before_start", "overlap", "future_date", "after_period", "birth_after_year", "age"}
    assert expected | {"implausible_amount"} <= seen


def test_the_rule_table_lists_every_rule_with_its_fix():
    assert set(SCHEMA_RULES) <= set(RULES)
    text = render_markdown()
    for rule in RULES:
        assert f"| `{rule}` |" in text, rule
        assert rule_fix(rule) in text.replace("\\|", "|")


def test_a_missing_column_is_named_once(raw):
    frame = valid_frames()["befolkning"].drop(columns=["KOEN"])
    write_csv(frame, raw / "befolkning.csv")
    error = validate_folder(raw)["befolkning"].errors[0]
    sentence = error.split(" The contract for")[0]
    assert sentence == "befolkning.csv: required column(s) missing: KOEN."
    assert error.endswith("[missing_column]; fix: " + rule_fix("missing_column") + ".")


def test_a_renamed_column_is_suggested_not_listed_twice(raw):
    frame = valid_frames()["regnskab"].rename(columns={"KOM": "KOMMUNE"})
    write_csv(frame, raw / "regnskab.csv")
    error = validate_folder(raw)["regnskab"].errors[0]
    assert error.count("KOMMUNE") == 1
    assert "required column(s) missing: KOM (did you mean 'KOMMUNE'?)." in error
