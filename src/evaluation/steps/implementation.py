"""Implementation monitoring: how far municipalities practise what the Herning model asks.

The process part of the evaluation (domain brief, "Related practice"): caseload
per caseworker, notifications screened within 24 hours, §50 assessments finished
within four months, child conversations before decisions, follow-up frequency,
management audits and caseworker turnover, by municipality and year, and pooled
for the adopting municipalities, the comparison municipalities and the country.

Every indicator is a ratio of sums over *records* (caseworker-months,
notifications, assessments, decisions, child-years): :func:`indicator_records`
builds one frame of records with a numerator and a denominator contribution and
the person each record concerns; :func:`aggregate` sums them at any level, so
that a pooled figure is the ratio of pooled sums (not a mean of municipal rates).

Disclosure control: a figure resting on fewer than ``min_cell`` distinct persons
(children or caseworkers) is suppressed. Municipal tables publish the ratio only,
never its numerator or denominator, so that a suppressed municipal figure cannot
be recovered by subtracting the published municipal figures from a pooled one.

API page: Implementation monitoring, factsheet figures, provenance
------------------------------------------------------------------
```python
from evaluation.steps.implementation import write_implementation, indicator_records, implementation_tables
write_implementation(ingest_dir, panel_path, out_dir, adoptions=..., first_year=2010, last_year=2023,
                     min_cell=5, conversation_window_days=180)   # municipality_year.csv, group_year.csv
from evaluation.steps.keyfigures import write_municipality_figures     # key figures for the factsheets
from evaluation.steps.provenance import write_provenance, write_run_info
write_provenance(config, extract_files, "results/provenance.json")  # input SHA-256s, versions, seeds, config digest
write_run_info("results/run_info.json")                            # the run date, kept apart
```

Implementation indicators (caseload per caseworker, notifications screened within 24 hours, §50
assessments within 4 months, child conversations before decisions, follow-ups, management audits,
caseworker turnover) are ratios of sums by municipality and year and by group (treated, comparison,
national); values resting on fewer than `min_cell` persons are suppressed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.contract.results import columns_of
from evaluation.errors import EvaluationError
from evaluation.io import read_extracts, write_csv
from evaluation.steps.cohort.cases import spell_years

#: indicator -> (what the ratio is, the persons it rests on); see :func:`indicator_records`
INDICATORS: dict[str, str] = {
    "caseload_per_worker": "open cases per full-time caseworker (sum of active cases / sum of FTE over months)",
    "screened_24h": "share of notifications screened (case event 1) at most one day after receipt",
    "assessment_4_months": "share of §50 assessments (events 2 -> 3) finished within four calendar months",
    "conversation_before_decision": "share of action plans (event 5) preceded by a child conversation (event 4)",
    "followups_per_child": "follow-ups (event 6) per child-year with a preventive measure or placement",
    "audit_share": "share of child-years with an open case with a management audit (event 7)",
    "caseworker_turnover": "caseworkers leaving in the year per average monthly head count",
}
GROUPS: tuple[str, ...] = ("treated", "comparison", "national")
_EVENT = {"screening": 1, "assessment_start": 2, "assessment_end": 3, "conversation": 4, "plan": 5}
_EVENT |= {"followup": 6, "audit": 7}
_COLUMNS = ["indicator", "municipality", "year", "numerator", "denominator", "person"]
_SPELL_COLUMNS = ["person_id", "municipality", "start_date", "end_date"]
#: The columns of each extract that the indicators are computed from (the other columns are never read).
MONITOR_COLUMNS: dict[str, list[str]] = {
    "sagsbehandlere": ["caseworker_id", "municipality", "month", "fte", "active_cases", "employed_to"],
    "sagshaendelser": ["person_id", "municipality", "date", "event_type", "notification_id"],
    "underretninger": ["notification_id", "person_id", "date", "municipality"],
    "forebyggende": _SPELL_COLUMNS,
    "anbringelser_forloeb": _SPELL_COLUMNS,
}


def _records(indicator: str, municipality, year, numerator, denominator, person) -> pd.DataFrame:  # noqa: ANN001
    return pd.DataFrame(
        {
            "indicator": indicator,
            "municipality": np.asarray(municipality, dtype="int64"),
            "year": np.asarray(year, dtype="int64"),
            "numerator": np.asarray(numerator, dtype="float64"),
            "denominator": np.asarray(denominator, dtype="float64"),
            "person": pd.array(np.asarray(person, dtype=object), dtype="string"),
        }
    )


def _check(frame: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise EvaluationError(
            f"the ingested extract {name} lacks the column(s) {', '.join(absent)}: rerun the ingest step"
        )


def caseload_records(caseworkers: pd.DataFrame) -> pd.DataFrame:
    """Caseworker-months: active cases over FTE, and leavers over average head count (turnover).

    Parameters
    ----------
    caseworkers : pandas.DataFrame
        Ingested ``sagsbehandlere`` (caseworker_id, municipality, month, fte, active_cases, employed_to).

    Returns
    -------
    pandas.DataFrame
        Records of ``caseload_per_worker`` and ``caseworker_turnover``. A caseworker
        leaves in the year of ``employed_to``, counted in the municipality of the last month worked.
    """
    _check(caseworkers, "sagsbehandlere", ("caseworker_id", "municipality", "month", "fte", "active_cases"))
    year = caseworkers["month"].dt.year
    load = _records(
        "caseload_per_worker",
        caseworkers["municipality"],
        year,
        caseworkers["active_cases"],
        caseworkers["fte"],
        caseworkers["caseworker_id"],
    )
    heads = _records(
        "caseworker_turnover", caseworkers["municipality"], year, 0.0, 1 / 12, caseworkers["caseworker_id"]
    )
    last = caseworkers.sort_values(["caseworker_id", "month"]).drop_duplicates("caseworker_id", keep="last")
    left = last[last["employed_to"].notna() & (last["employed_to"].dt.year >= last["month"].dt.year)]
    leavers = _records(
        "caseworker_turnover", left["municipality"], left["employed_to"].dt.year, 1.0, 0.0, left["caseworker_id"]
    )
    return pd.concat([load, heads, leavers], ignore_index=True)


def screening_records(notifications: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Notifications, and whether each was screened at most one day after it was received.

    Case-system dates have no time of day, so "within 24 hours" is read as on the
    day of receipt or the next day. A notification without a screening event counts as not screened in time.

    Parameters
    ----------
    notifications : pandas.DataFrame
        Ingested ``underretninger`` (notification_id, person_id, date, municipality).
    events : pandas.DataFrame
        Ingested ``sagshaendelser`` (event_type, date, notification_id).

    Returns
    -------
    pandas.DataFrame
        Records of ``screened_24h``, one per notification, in the year it was received.
    """
    _check(notifications, "underretninger", ("notification_id", "person_id", "date", "municipality"))
    screenings = events.loc[events["event_type"] == _EVENT["screening"], ["notification_id", "date"]]
    first = screenings.dropna(subset=["notification_id"]).groupby("notification_id", sort=False)["date"].min()
    screened = notifications["notification_id"].map(first)
    days = (screened - notifications["date"]).dt.days
    on_time = days.between(0, 1).fillna(False).astype(bool)
    return _records(
        "screened_24h",
        notifications["municipality"],
        notifications["date"].dt.year,
        on_time.astype(float),
        1.0,
        notifications["person_id"],
    )


def assessment_records(events: pd.DataFrame, data_end: pd.Timestamp, *, months: int = 4) -> pd.DataFrame:
    """§50 assessments, and whether each was finished within ``months`` calendar months of its start.

    Each start (event 2) is paired with the child's first completion (event 3) on or
    after it. A start whose deadline lies after ``data_end`` and that is not yet
    finished is left out (censored), as its outcome is unknown.

    Parameters
    ----------
    events : pandas.DataFrame
        Ingested ``sagshaendelser``.
    data_end : pandas.Timestamp
        Last day covered by the data.
    months : int, default 4
        The deadline (Serviceloven §50 stk. 7: four months).

    Returns
    -------
    pandas.DataFrame
        Records of ``assessment_4_months``, in the year the assessment started.
    """
    cols = ["person_id", "municipality", "date"]
    starts = events.loc[events["event_type"] == _EVENT["assessment_start"], cols].sort_values("date")
    ends = events.loc[events["event_type"] == _EVENT["assessment_end"], ["person_id", "date"]].sort_values("date")
    ends = ends.rename(columns={"date": "finished"})
    paired = pd.merge_asof(starts, ends, left_on="date", right_on="finished", by="person_id", direction="forward")
    deadline = paired["date"] + pd.DateOffset(months=months)
    on_time = paired["finished"].notna() & (paired["finished"] <= deadline)
    known = on_time | (deadline <= data_end)
    paired, on_time = paired[known], on_time[known]
    return _records(
        "assessment_4_months",
        paired["municipality"],
        paired["date"].dt.year,
        on_time.astype(float),
        1.0,
        paired["person_id"],
    )


def conversation_records(events: pd.DataFrame, *, window_days: int = 180) -> pd.DataFrame:
    """Decisions on a measure (action plans, event 5), and whether a child conversation came first.

    Parameters
    ----------
    events : pandas.DataFrame
        Ingested ``sagshaendelser``.
    window_days : int, default 180
        A conversation (event 4) counts when it is on the day of the decision or at
        most this many days before it.

    Returns
    -------
    pandas.DataFrame
        Records of ``conversation_before_decision``, one per action plan.
    """
    cols = ["person_id", "municipality", "date"]
    plans = events.loc[events["event_type"] == _EVENT["plan"], cols].sort_values("date")
    talks = events.loc[events["event_type"] == _EVENT["conversation"], ["person_id", "date"]].sort_values("date")
    talks = talks.assign(talked=talks["date"])
    paired = pd.merge_asof(plans, talks, on="date", by="person_id", direction="backward")
    before = paired["talked"].notna() & ((paired["date"] - paired["talked"]).dt.days <= window_days)
    return _records(
        "conversation_before_decision",
        paired["municipality"],
        paired["date"].dt.year,
        before.astype(float),
        1.0,
        paired["person_id"],
    )


def followup_records(events: pd.DataFrame, spells: pd.DataFrame, data_end: pd.Timestamp) -> pd.DataFrame:
    """Follow-ups (event 6) per child-year with a measure (a preventive or placement spell in the year).

    Parameters
    ----------
    events : pandas.DataFrame
        Ingested ``sagshaendelser``.
    spells : pandas.DataFrame
        Preventive and placement spells together (person_id, municipality, start_date, end_date).
    data_end : pandas.Timestamp
        Where an ongoing spell is taken to end.

    Returns
    -------
    pandas.DataFrame
        Records of ``followups_per_child``: follow-ups add to the numerator,
        distinct child-municipality-years with a measure to the denominator.
    """
    years = spell_years(spells, data_end, source="spells")
    years["municipality"] = np.repeat(
        spells["municipality"].to_numpy(),
        (spells["end_date"].fillna(data_end).dt.year - spells["start_date"].dt.year + 1).to_numpy(),
    )
    years = years.drop_duplicates()
    follow = events[events["event_type"] == _EVENT["followup"]]
    return pd.concat(
        [
            _records("followups_per_child", years["municipality"], years["year"], 0.0, 1.0, years["person_id"]),
            _records(
                "followups_per_child",
                follow["municipality"],
                follow["date"].dt.year,
                1.0,
                0.0,
                follow["person_id"],
            ),
        ],
        ignore_index=True,
    )


def audit_records(events: pd.DataFrame, panel: pd.DataFrame) -> pd.DataFrame:
    """Child-years with an open case, and whether the case had a management audit (event 7) that year.

    Parameters
    ----------
    events : pandas.DataFrame
        Ingested ``sagshaendelser``.
    panel : pandas.DataFrame
        The cohort panel (person_id, municipality, year): one row per child-year with an open case.

    Returns
    -------
    pandas.DataFrame
        Records of ``audit_share``.
    """
    audits = events.loc[events["event_type"] == _EVENT["audit"], ["person_id", "date"]]
    audited = pd.DataFrame({"person_id": audits["person_id"], "year": audits["date"].dt.year}).drop_duplicates()
    audited["hit"] = 1.0
    rows = panel[["person_id", "municipality", "year"]].merge(audited, on=["person_id", "year"], how="left")
    return _records("audit_share", rows["municipality"], rows["year"], rows["hit"].fillna(0.0), 1.0, rows["person_id"])


def indicator_records(
    extracts: Mapping[str, pd.DataFrame],
    panel: pd.DataFrame,
    *,
    first_year: int,
    last_year: int,
    conversation_window_days: int = 180,
    assessment_months: int = 4,
) -> pd.DataFrame:
    """All records of all indicators, inside the years of the study.

    Parameters
    ----------
    extracts : mapping of str to pandas.DataFrame
        Ingested ``sagsbehandlere``, ``sagshaendelser``, ``underretninger``,
        ``forebyggende`` and ``anbringelser_forloeb``.
    panel : pandas.DataFrame
        The cohort panel.
    first_year, last_year : int
        The years reported.
    conversation_window_days : int, default 180
        See :func:`conversation_records`.
    assessment_months : int, default 4
        See :func:`assessment_records`.

    Returns
    -------
    pandas.DataFrame
        ``indicator, municipality, year, numerator, denominator, person`` (microdata: never written to results).

    Raises
    ------
    EvaluationError
        If an extract is missing or the years are reversed.
    """
    needed = ("sagsbehandlere", "sagshaendelser", "underretninger", "forebyggende", "anbringelser_forloeb")
    absent = [name for name in needed if name not in extracts]
    if absent:
        raise EvaluationError(f"implementation monitoring needs the ingested extract(s) {', '.join(absent)}")
    if first_year > last_year:
        raise EvaluationError(f"first_year {first_year} is after last_year {last_year}")
    data_end = pd.Timestamp(f"{last_year}-12-31")
    events = extracts["sagshaendelser"]
    _check(events, "sagshaendelser", ("person_id", "municipality", "date", "event_type", "notification_id"))
    spell_cols = ["person_id", "municipality", "start_date", "end_date"]
    spells = pd.concat([extracts["forebyggende"][spell_cols], extracts["anbringelser_forloeb"][spell_cols]])
    spells = spells[spells["start_date"] <= data_end].reset_index(drop=True)
    parts = [
        caseload_records(extracts["sagsbehandlere"]),
        screening_records(extracts["underretninger"], events),
        assessment_records(events, data_end, months=assessment_months),
        conversation_records(events, window_days=conversation_window_days),
        followup_records(events, spells, data_end),
        audit_records(events, panel),
    ]
    records = pd.concat(parts, ignore_index=True)[_COLUMNS]
    inside = records["year"].between(first_year, last_year)
    return records if inside.all() else records[inside].reset_index(drop=True)


def aggregate(records: pd.DataFrame, by: list[str], min_cell: int) -> pd.DataFrame:
    """Sum records to figures at the level ``by`` and suppress small cells.

    Parameters
    ----------
    records : pandas.DataFrame
        Output of :func:`indicator_records`, possibly with a ``group`` column.
    by : list of str
        Columns of the level, besides ``indicator`` and ``year``.
    min_cell : int
        Smallest number of distinct persons a published figure may rest on.

    Returns
    -------
    pandas.DataFrame
        ``indicator, *by, year, value, n_persons, suppressed``; a suppressed row has
        no value and no person count. A figure with a zero denominator has no value.
    """
    keys = ["indicator", *by, "year"]
    sums = records.groupby(keys, sort=True).agg(
        numerator=("numerator", "sum"), denominator=("denominator", "sum"), n_persons=("person", "nunique")
    )
    sums = sums.reset_index()
    suppressed = sums["n_persons"] < min_cell
    value = (sums["numerator"] / sums["denominator"].where(sums["denominator"] > 0)).where(~suppressed)
    return pd.DataFrame(
        {
            **{key: sums[key] for key in keys},
            "value": value.round(6),
            "n_persons": sums["n_persons"].astype("Int64").where(~suppressed),
            "suppressed": suppressed.astype(int),
        }
    )


def implementation_tables(
    records: pd.DataFrame, adoptions: Mapping[int, int], min_cell: int
) -> dict[str, pd.DataFrame]:
    """Build the published tables: figures by municipality and year, and by group and year.

    Parameters
    ----------
    records : pandas.DataFrame
        Output of :func:`indicator_records`.
    adoptions : mapping of int to int
        Adopting municipality -> first year under the model.
    min_cell : int
        Disclosure threshold (persons).

    Returns
    -------
    dict of str to pandas.DataFrame
        ``"municipality_year"`` (indicator, municipality, year, adopted, value, suppressed:
        no counts, see the module docstring) and ``"group_year"`` (indicator, group,
        year, value, n_persons, suppressed) for the groups of :data:`GROUPS`.
    """
    municipal = aggregate(records, ["municipality"], min_cell)
    first = municipal["municipality"].map({int(k): int(v) for k, v in adoptions.items()})
    municipal["adopted"] = (first.notna() & (municipal["year"] >= first.fillna(0))).astype(int)
    municipal = municipal[columns_of("results/{release}/implementation/municipality_year.csv")]
    treated = records["municipality"].isin([int(k) for k in adoptions])
    # each record counts in its group and in the national figure: two sums of the records, not one of two copies
    groups = pd.concat(
        [
            aggregate(records.assign(group=np.where(treated, "treated", "comparison")), ["group"], min_cell),
            aggregate(records.assign(group="national"), ["group"], min_cell),
        ],
        ignore_index=True,
    )
    groups["group"] = pd.Categorical(groups["group"], categories=list(GROUPS), ordered=True)
    groups = groups.sort_values(["indicator", "group", "year"]).reset_index(drop=True)
    groups["group"] = groups["group"].astype(str)
    return {"municipality_year": municipal.reset_index(drop=True), "group_year": groups}


def write_implementation(
    ingest_dir: Path,
    panel_path: Path,
    out_dir: Path,
    *,
    adoptions: Mapping[int, int],
    first_year: int,
    last_year: int,
    min_cell: int,
    conversation_window_days: int = 180,
) -> dict[str, Path]:
    """Pipeline step: read the ingested extracts and panel, write ``results/implementation/*.csv``.

    Parameters
    ----------
    ingest_dir : Path
        Folder of the ingested Parquet extracts.
    panel_path : Path
        The cohort panel (Parquet).
    out_dir : Path
        Usually ``results/implementation``; writes ``municipality_year.csv`` and ``group_year.csv``.
    adoptions : mapping of int to int
        ``treatment.adoptions`` from config.
    first_year, last_year : int
        Years reported.
    min_cell : int
        ``disclosure.min_cell``.
    conversation_window_days : int, default 180
        See :func:`conversation_records`.

    Returns
    -------
    dict of str to Path
        Table name -> file written.
    """
    ingest_dir, out_dir = Path(ingest_dir), Path(out_dir)
    extracts = read_extracts(
        ingest_dir, tuple(MONITOR_COLUMNS), step="implementation monitoring", columns=MONITOR_COLUMNS
    )
    panel = pd.read_parquet(panel_path, columns=["person_id", "municipality", "year"])
    records = indicator_records(
        extracts, panel, first_year=first_year, last_year=last_year, conversation_window_days=conversation_window_days
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, table in implementation_tables(records, adoptions, min_cell).items():
        path = out_dir / f"{name}.csv"
        write_csv(table, path)
        written[name] = path
    return written
