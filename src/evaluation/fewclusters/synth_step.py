r"""Synthetic control for the municipality-level outcomes, as a pipeline step.

From the cut extracts the step builds a municipality-year panel of three outcomes,

* ``spending_per_child``: the micro-costed spending on placement and preventive spells
  (:func:`evaluation.costs.spell_year_costs`, the per-spell form of
  :func:`evaluation.costs.child_year_costs`, so the same price definition) of spells the
  municipality holds, divided by the number of children aged ``cohort.min_age``-``cohort.max_age``
  (age on 1 January) living in the municipality that year (``befolkning``), in DKK;
* ``placement_rate``: children of those ages with a placement spell of the municipality
  overlapping the year, per 1,000 children of those ages living there;
* ``family_care_share``: among those placed children, the share in family or network care
  (``PLACEMENT_GROUP`` ``network`` or ``foster``); a child placed in several ways in the year
  counts by the share of its placement days spent in family or network care, so that
  :math:`s_{mt} = \frac{1}{P_{mt}} \sum_i d^{fam}_{it} / d_{it}` with :math:`P_{mt}` placed children;

then fits one synthetic control per adopter and outcome from the never-adopting municipalities
(:func:`evaluation.synth.staggered_synthetic_control`; Abadie, Diamond and Hainmueller 2010,
*JASA* 105(490); the separate SCM of Ben-Michael, Feller and Rothstein 2022), with placebo-in-space
inference (ADH 2010 section 2.4) for Herning (657) only, and writes ``table.csv``, ``average.csv``
and ``gaps.csv``.

Disclosure: the outcomes are municipality-year aggregates of whole municipal child populations,
the kind of figure Statistics Denmark itself publishes by municipality (the rates are rates of a
public population, not of a sample), and the files hold no count of persons. A rate whose numerator
is small can still hint at few children, so every municipality-year with fewer than
``disclosure.min_cell`` children in a rate's numerator is named in the step's log; the step carries on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation.cohort.cases import age_on_january_first
from evaluation.costs import spell_year_costs
from evaluation.errors import EvaluationError
from evaluation.synth import staggered_synthetic_control

__all__ = [
    "SYNTH_DEFAULTS",
    "SYNTH_OUTCOMES",
    "municipality_outcomes",
    "synth_tables",
    "write_synth",
]

SYNTH_OUTCOMES = ("spending_per_child", "placement_rate", "family_care_share")
SYNTH_DEFAULTS: dict[str, Any] = {"activate": True, "outcomes": list(SYNTH_OUTCOMES), "placebo": True}
HERNING = 657
TABLE_COLUMNS = ("adopter", "outcome", "adoption_year", "att", "pre_rmspe", "post_rmspe", "ratio", "p_value")
FAMILY_GROUPS = ("network", "foster")


def _children(population: pd.DataFrame, min_age: int, max_age: int) -> pd.DataFrame:
    """Child-years of ``min_age``-``max_age`` (age on 1 January): ``person_id, year, municipality``."""
    age = age_on_january_first(pd.to_datetime(population["birth_date"]), population["year"])
    keep = (age >= min_age) & (age <= max_age)
    return population.loc[keep, ["person_id", "year", "municipality"]].drop_duplicates(["person_id", "year"])


def municipality_outcomes(
    population: pd.DataFrame,
    placements: pd.DataFrame,
    preventive: pd.DataFrame,
    prices: Mapping[str, Any],
    *,
    min_age: int = 0,
    max_age: int = 17,
    min_cell: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Build the municipality-year outcomes of the synthetic control (module docstring gives the definitions).

    Parameters
    ----------
    population
        ``befolkning``: ``year, person_id, birth_date, municipality``.
    placements
        ``anbringelser_forloeb``: ``person_id, municipality, placement_type, start_date, end_date``.
    preventive
        ``forebyggende``: ``person_id, municipality, measure, start_date, end_date``.
    prices
        The config's ``prices`` section.
    min_age, max_age
        Ages (on 1 January) of the children counted.
    min_cell
        When given, municipality-years with fewer placed children than this are named through ``progress``.
    progress
        Callback for log lines.

    Returns
    -------
    pandas.DataFrame
        ``municipality, year, children, placed, spending_per_child, placement_rate, family_care_share``,
        one row per municipality-year of ``population``; ``family_care_share`` is NaN without placed children.
    """
    children = _children(population, min_age, max_age)
    years = sorted(children["year"].unique().tolist())
    denom = children.groupby(["municipality", "year"]).size().rename("children")
    ages = children.set_index(["person_id", "year"]).index

    cols = ["person_id", "municipality", "start_date", "end_date"]
    spells = pd.concat(
        [
            placements[[*cols, "placement_type"]].assign(measure=pd.NA),
            preventive[[*cols, "measure"]].assign(placement_type=pd.NA),
        ],
        ignore_index=True,
    )
    spells["placement_type"] = spells["placement_type"].astype("Int64")
    spells["measure"] = spells["measure"].astype("Int64")
    per = spell_year_costs(spells, prices, years)
    per["municipality"] = spells["municipality"].to_numpy()[per["spell"].to_numpy()]
    spend = per.groupby(["municipality", "year"])["cost"].sum().rename("spending")

    # placed children of the counted ages: days in placement and in family or network care by child-year
    placed = per.loc[per["group"].isin(["network", "foster", "institution", "residential", "other"])].copy()
    placed = placed.loc[pd.MultiIndex.from_arrays([placed["person_id"], placed["year"]]).isin(ages)]
    placed["family_days"] = np.where(placed["group"].isin(FAMILY_GROUPS), placed["days"], 0.0)
    child = placed.groupby(["municipality", "year", "person_id"])[["days", "family_days"]].sum()
    child["share"] = child["family_days"] / child["days"]
    by_mun = child.groupby(level=["municipality", "year"]).agg(placed=("share", "size"), family=("share", "sum"))

    out = pd.concat([denom, spend, by_mun], axis=1).loc[denom.index]
    out[["spending", "placed", "family"]] = out[["spending", "placed", "family"]].fillna(0.0)
    out["spending_per_child"] = out["spending"] / out["children"]
    out["placement_rate"] = 1000.0 * out["placed"] / out["children"]
    out["family_care_share"] = (out["family"] / out["placed"]).where(out["placed"] > 0)
    out = out.reset_index()[["municipality", "year", "children", "placed", *SYNTH_OUTCOMES]].sort_values(
        ["municipality", "year"], ignore_index=True
    )
    out["placed"] = out["placed"].astype(int)
    if min_cell is not None and progress is not None:
        small = out.loc[out["placed"] < min_cell]
        if len(small):
            cells = ", ".join(f"{m}/{y}" for m, y in zip(small["municipality"][:20], small["year"][:20], strict=True))
            progress(
                f"note: {len(small)} municipality-years have fewer than {min_cell} placed children in the numerator "
                f"of placement_rate and family_care_share (e.g. {cells}); these are rates of whole municipal "
                "populations, kept as computed"
            )
    return out


def synth_tables(
    panel: pd.DataFrame,
    adoptions: Mapping[int, int],
    *,
    outcomes: Sequence[str] = SYNTH_OUTCOMES,
    placebo: bool = True,
    placebo_unit: int = HERNING,
    progress: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Fit the per-adopter synthetic controls and return the three result tables.

    Parameters
    ----------
    panel
        ``municipality, year`` and the outcome columns (from :func:`municipality_outcomes`).
    adoptions
        Adopting municipality -> first year under the model; adopters absent from ``panel``, or adopting
        after its last year (at an interim cut-off), are skipped; they stay out of the donor pools.
    outcomes
        Outcome columns to fit.
    placebo
        Run placebo-in-space inference for ``placebo_unit``.
    placebo_unit
        The adopter whose p-value and gap figure are reported (Herning, 657).
    progress
        Callback for log lines.

    Returns
    -------
    table, average, gaps : pandas.DataFrame
        ``table``: ``adopter, outcome, adoption_year, att, pre_rmspe, post_rmspe, ratio, p_value``
        (``p_value`` only for ``placebo_unit``); ``average``: ``outcome, att_average, n_adopters``;
        ``gaps``: ``outcome, unit, role, year, gap`` for ``placebo_unit`` and its placebo donors.
    """
    bad = sorted(set(outcomes) - set(SYNTH_OUTCOMES))
    if bad:
        raise EvaluationError(f"synth.outcomes: unknown outcome(s) {bad}; choose from {list(SYNTH_OUTCOMES)}")
    say = progress or (lambda _msg: None)
    present = set(panel["municipality"].astype(int))
    adopt = {int(m): int(y) for m, y in adoptions.items() if int(m) in present}
    if not adopt:
        raise EvaluationError("synthetic control: no adopting municipality (treatment.adoptions) is in the panel")
    adopters = set(adopt)  # none of them is a donor, fitted or not
    last_year = int(panel["year"].max())
    later = sorted(m for m, y in adopt.items() if y > last_year)
    if later:
        say(f"{len(later)} adopters adopt after the data's last year {last_year} and are not fitted: {later}")
        adopt = {m: y for m, y in adopt.items() if y <= last_year}
    rows, averages, gaps = [], [], []
    for outcome in outcomes:
        wide = panel.pivot(index="municipality", columns="year", values=outcome)
        complete = wide.dropna()
        if len(complete) < len(wide):
            say(f"{outcome}: left out {len(wide) - len(complete)} municipalities with a year without a value")
        long = complete.stack().rename(outcome).reset_index()
        fit_adopt = {m: y for m, y in adopt.items() if m in complete.index}
        donors = [m for m in complete.index if m not in adopters]
        if not fit_adopt or len(donors) < 2:
            say(f"{outcome}: skipped (adopters {len(fit_adopt)}, donors {len(donors)})")
            continue
        rest = {m: y for m, y in fit_adopt.items() if m != placebo_unit}
        fits = {}
        if rest:
            fits.update(staggered_synthetic_control(long, "municipality", "year", outcome, rest, donors=donors).fits)
        if placebo_unit in fit_adopt:
            one = {placebo_unit: fit_adopt[placebo_unit]}
            fits.update(
                staggered_synthetic_control(
                    long, "municipality", "year", outcome, one, placebo=placebo, donors=donors
                ).fits  # fmt: skip
            )
            sc = fits[placebo_unit]
            g = sc.gap_data().rename(columns={"time": "year"})
            gaps.append(g.assign(outcome=outcome)[["outcome", "unit", "role", "year", "gap"]])
        for m, sc in fits.items():
            rows.append(
                {
                    "adopter": m,
                    "outcome": outcome,
                    "adoption_year": fit_adopt[m],
                    "att": sc.att,
                    "pre_rmspe": sc.pre_rmspe,
                    "post_rmspe": sc.post_rmspe,
                    "ratio": sc.ratio,
                    "p_value": sc.p_value if m == placebo_unit else np.nan,
                }
            )
        atts = [sc.att for sc in fits.values()]
        averages.append({"outcome": outcome, "att_average": float(np.mean(atts)), "n_adopters": len(atts)})
        say(f"{outcome}: {len(fits)} synthetic controls from {len(donors)} donors")
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    table = table.sort_values(["outcome", "adoption_year", "adopter"], ignore_index=True)
    average = pd.DataFrame(averages, columns=["outcome", "att_average", "n_adopters"])
    gap = (
        pd.concat(gaps, ignore_index=True) if gaps else pd.DataFrame(columns=["outcome", "unit", "role", "year", "gap"])
    )
    return table, average, gap


def write_synth(
    extracts_dir: Path,
    config: Mapping[str, Any],
    table_path: Path,
    average_path: Path,
    gaps_path: Path,
    *,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Pipeline step ``synthetic_control``: outcomes from the cut extracts, fits, and the three CSV files.

    Parameters
    ----------
    extracts_dir
        Folder of the cut extracts (``befolkning``, ``anbringelser_forloeb``, ``forebyggende`` parquet files).
    config
        The pipeline config (``synth``, ``treatment.adoptions``, ``prices``, ``cohort``, ``disclosure``).
    table_path, average_path, gaps_path
        Output CSV files.
    progress
        Callback for log lines.

    Returns
    -------
    pandas.DataFrame
        The per-adopter table written to ``table_path``.
    """
    settings = {**SYNTH_DEFAULTS, **(config.get("synth") or {})}
    extracts_dir = Path(extracts_dir)
    for path in (table_path, average_path, gaps_path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    if not settings["activate"]:
        table = pd.DataFrame(columns=list(TABLE_COLUMNS))
        table.to_csv(table_path, index=False)
        pd.DataFrame(columns=["outcome", "att_average", "n_adopters"]).to_csv(average_path, index=False)
        pd.DataFrame(columns=["outcome", "unit", "role", "year", "gap"]).to_csv(gaps_path, index=False)
        return table
    read = {n: pd.read_parquet(extracts_dir / f"{n}.parquet") for n in ("befolkning", "anbringelser_forloeb",
                                                                         "forebyggende")}  # fmt: skip
    cohort = config.get("cohort", {})
    panel = municipality_outcomes(
        read["befolkning"],
        read["anbringelser_forloeb"],
        read["forebyggende"],
        config["prices"],
        min_age=int(cohort.get("min_age", 0)),
        max_age=int(cohort.get("max_age", 17)),
        min_cell=int(config.get("disclosure", {}).get("min_cell", 5)),
        progress=progress,
    )
    table, average, gaps = synth_tables(
        panel,
        config["treatment"]["adoptions"],
        outcomes=settings["outcomes"],
        placebo=bool(settings["placebo"]),
        progress=progress,
    )
    # Ten significant digits: a huge ratio (an exact pre-period fit) is written as 1.1e+15,
    # not as a run of digits that reads like an identifier.
    for frame, path in ((table, table_path), (average, average_path), (gaps, gaps_path)):
        frame.to_csv(path, index=False, float_format="%.10g", lineterminator="\n")
    return table
