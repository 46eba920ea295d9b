"""The economics chapter's tables and numbers, from ``results/economics.csv`` and ``results/economics/``.

The economics step (:mod:`evaluation.steps.economics`) writes every amount in DKK per
treated child-year with an open case, in fixed prices of the price year, with
percentile intervals of one municipality-cluster bootstrap. This module only
formats them: an empty interval bound is shown as an en dash, and the tables'
notes say why a bound can be empty (an assumption or a price has no interval; a
ratio whose effect's interval includes zero is unbounded; a payback year beyond
the follow-up has no upper bound).

The text's sentences about a net cost, a change in costs, a payback year or a
budget effect carry their interval, and their words follow it
(:mod:`evaluation.report.economics_sentences`); :func:`economics_variables`
collects them with the chapter's other numbers. The shares of bootstrap
replications with a net cost below zero or with payback within the follow-up are
rows of the table too (:data:`PROBABILITY_ITEMS`).

The words of this module's tables and numbers ("to", the payback year, the willingness to pay, a net cost
or saving) are in ``reports/_text/<language>/economics.yml`` (:data:`WORDS`); :func:`economics_table`,
:func:`reconciliation_table` and :func:`economics_variables` take them as ``sentences``
(:func:`evaluation.report.sentences.read_sentences`).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from evaluation.report.economics_sentences import MILLION, budget_sentences, sentence_variables
from evaluation.report.labels import COST_ITEM_ORDER, ECONOMICS_FORMAT, ECONOMICS_ORDER, label, ordered
from evaluation.report.numbers import check_language, format_number, format_percent
from evaluation.report.tables import MISSING, suppress_small

#: the file of the words (interval words, payback, willingness to pay, direction), in ``reports/_text/<language>/``
WORDS = "economics.yml"
#: the economics step's probability items (economics.csv rows without an interval) -> the item each is shown
#: after; their label is ``probability_<item>`` of :data:`WORDS`, their unit ``probability_unit``
PROBABILITY_ITEMS: dict[str, str] = {
    "net_saving_probability": "net_cost_per_year",
    "cumulative_saving_probability": "cumulative_net_cost",
    "payback_probability": "payback_year",
}


def format_item(value: float, kind: str, *, language: str = "da") -> str:
    """Format one economic number by its kind: ``"dkk"``, ``"decimals:<n>"``, ``"percent"`` or ``"year"``.

    Parameters
    ----------
    value : float
        The number; missing is shown as an en dash.
    kind : str
        From :data:`~evaluation.report.labels.ECONOMICS_FORMAT`.
    language : {"da", "en"}, default "da"
        Number format.

    Returns
    -------
    str
        Whole kroner, fixed decimals, a percentage with one decimal, or a whole year.
    """
    if pd.isna(value):
        return MISSING
    if kind == "percent":
        return format_percent(value, 1, language=language)
    if kind.startswith("decimals:"):
        return format_number(value, int(kind.split(":")[1]), language=language)
    return format_number(value, 0, language=language)


def _interval(low: float, high: float, kind: str, to: str, language: str) -> str:
    if pd.isna(low) and pd.isna(high):
        return MISSING
    return f"{format_item(low, kind, language=language)} {to} {format_item(high, kind, language=language)}"


def horizon(costs_by_year: pd.DataFrame) -> int:
    """Return the number of follow-up years: the largest ``followup_year`` (the last one collects later years)."""
    return int(costs_by_year["followup_year"].max())


def economics_table(
    economics: pd.DataFrame, *, horizon_years: int, sentences: Mapping[str, str], language: str = "da"
) -> pd.DataFrame:
    """Every economic result with its 95 % interval and unit, in the chapter's order.

    Parameters
    ----------
    economics : pandas.DataFrame
        ``results/economics.csv`` (``item, estimate, ci_low, ci_high, unit, price_year``).
    horizon_years : int
        Follow-up years summed in the cumulative net cost (shown in its unit).
    sentences : mapping
        The words of :data:`WORDS` in ``language`` (:func:`evaluation.report.sentences.read_sentences`).
    language : {"da", "en"}, default "da"
        Labels and number format.

    Returns
    -------
    pandas.DataFrame
        Display strings; an item without a known format is shown with two decimals and the file's unit;
        the shares of bootstrap replications (:data:`PROBABILITY_ITEMS`) as percentages after their item.
    """
    language = check_language(language)
    rows = economics.set_index(economics["item"].astype(str))
    items = ordered([i for i in rows.index if i not in PROBABILITY_ITEMS], ECONOMICS_ORDER)
    for share, after in PROBABILITY_ITEMS.items():  # each share after the item it belongs to
        if share in rows.index:
            items.insert(items.index(after) + 1 if after in items else len(items), share)
    out: dict[str, list[str]] = {label("result_column", c, language): [] for c in ("item", "unit", "estimate", "ci")}
    columns = list(out)
    for item in items:
        row = rows.loc[item]
        if item in PROBABILITY_ITEMS:
            name, unit = sentences[f"probability_{item}"], sentences["probability_unit"]
            kind = "percent"
        else:
            unit_key, kind = ECONOMICS_FORMAT.get(item, ("", "decimals:2"))
            unit = (
                label("econ_unit", unit_key, language).format(horizon=horizon_years) if unit_key else str(row["unit"])
            )
            name = label("econ_item", item, language)
        out[columns[0]].append(name)
        out[columns[1]].append(unit)
        out[columns[2]].append(format_item(row["estimate"], kind, language=language))
        out[columns[3]].append(_interval(row["ci_low"], row["ci_high"], kind, sentences["to"], language))
    return pd.DataFrame(out)


def _with_ci(row: pd.Series, language: str, scale: float = 1.0, decimals: int = 0) -> str:
    def fmt(v: float) -> str:
        return MISSING if pd.isna(v) else format_number(v / scale, decimals, language=language)

    if pd.isna(row["ci_low"]) and pd.isna(row["ci_high"]):
        return fmt(row["estimate"])
    return f"{fmt(row['estimate'])} ({fmt(row['ci_low'])}; {fmt(row['ci_high'])})"


def net_cost_table(costs_by_year: pd.DataFrame, min_cell: int, *, language: str = "da") -> pd.DataFrame:
    """Staff cost, change in measure costs, net cost and cumulative net cost by follow-up year.

    Net cost and cumulative net cost carry their 95 % interval in brackets. The
    last follow-up year collects all later years and is shown as ``"5+"``.

    Parameters
    ----------
    costs_by_year : pandas.DataFrame
        ``results/economics/costs_by_year.csv``.
    min_cell : int
        Disclosure threshold for the number of treated child-years.
    language : {"da", "en"}, default "da"
        Labels and number format.

    Returns
    -------
    pandas.DataFrame
        Display strings, one row per follow-up year.
    """
    language = check_language(language)
    years = sorted(int(y) for y in costs_by_year["followup_year"].unique())
    wide = {(int(r["followup_year"]), str(r["item"])): r for _i, r in costs_by_year.iterrows()}
    items = ordered({str(i) for i in costs_by_year["item"]}, COST_ITEM_ORDER)
    out: dict[str, list[str]] = {
        label("result_column", "followup_year", language): [f"{y}+" if y == years[-1] else str(y) for y in years]
    }
    for item in items:
        cells = []
        for year in years:
            row = wide.get((year, item))
            if row is None:
                cells.append(MISSING)
            elif item in ("net_cost", "cumulative_net_cost"):
                cells.append(_with_ci(row, language))
            else:
                cells.append(format_number(row["estimate"], 0, language=language))
        out[label("cost_column", item, language)] = cells
    first = costs_by_year.sort_values(["followup_year", "item"]).drop_duplicates("followup_year")
    out[label("result_column", "child_years", language)] = suppress_small(
        first["n_treated_child_years"], min_cell, language=language
    )
    return pd.DataFrame(out)


def budget_table(budget: pd.DataFrame, *, language: str = "da") -> pd.DataFrame:
    """Budget consequences by budget year: extra FTE and amounts in millions of DKK (net with 95 % interval).

    Parameters
    ----------
    budget : pandas.DataFrame
        ``results/economics/budget.csv``.
    language : {"da", "en"}, default "da"
        Labels and number format.

    Returns
    -------
    pandas.DataFrame
        Display strings, one row per budget year.
    """
    language = check_language(language)
    years = sorted(int(y) for y in budget["budget_year"].unique())
    rows = {(int(r["budget_year"]), str(r["item"])): r for _i, r in budget.iterrows()}
    items = ordered({str(i) for i in budget["item"]}, ("extra_fte", *COST_ITEM_ORDER))
    out: dict[str, list[str]] = {label("result_column", "budget_year", language): [str(y) for y in years]}
    for item in items:
        name = label("cost_column", item, language)
        cells = []
        for year in years:
            row = rows.get((year, item))
            if row is None:
                cells.append(MISSING)
            elif item == "extra_fte":
                cells.append(format_number(row["estimate"], 1, language=language))
            elif item in ("net_cost", "cumulative_net_cost"):
                cells.append(_with_ci(row, language, MILLION, 1))
            else:
                cells.append(format_number(row["estimate"] / MILLION, 1, language=language))
        out[name] = cells
    return pd.DataFrame(out)


def reconciliation_table(
    reconciliation: pd.DataFrame, min_cell: int, *, sentences: Mapping[str, str], language: str = "da"
) -> pd.DataFrame:
    """Spending on function 5.28 in the accounts against the micro-costing, by year and in total.

    Parameters
    ----------
    reconciliation : pandas.DataFrame
        ``results/economics/reconciliation.csv``; the rows with ``function == "total"`` are shown,
        year 0 (all years) last as "I alt" / "Total".
    min_cell : int
        Disclosure threshold for the number of children.
    sentences : mapping
        The words of :data:`WORDS` in ``language`` (:func:`evaluation.report.sentences.read_sentences`).
    language : {"da", "en"}, default "da"
        Labels and number format.

    Returns
    -------
    pandas.DataFrame
        Display strings.
    """
    language = check_language(language)
    totals = reconciliation[reconciliation["function"].astype(str) == "total"]
    totals = pd.concat([totals[totals["year"] != 0].sort_values("year"), totals[totals["year"] == 0]])

    def mio(values: pd.Series) -> list[str]:
        return [MISSING if pd.isna(v) else format_number(v / MILLION, 1, language=language) for v in values]

    return pd.DataFrame(
        {
            label("result_column", "year", language): [
                sentences["total"] if y == 0 else str(int(y)) for y in totals["year"]
            ],
            label("result_column", "accounts", language): mio(totals["accounts_dkk"]),
            label("result_column", "micro", language): mio(totals["micro_dkk"]),
            label("result_column", "share_explained", language): [
                format_item(v, "percent", language=language) for v in totals["share_explained"]
            ],
            label("result_column", "children", language): suppress_small(
                totals["n_children"], min_cell, language=language
            ),
        }
    )


def _item(economics: pd.DataFrame, item: str) -> pd.Series | None:
    rows = economics[economics["item"].astype(str) == item]
    return None if rows.empty else rows.iloc[0]


def economics_variables(
    economics: pd.DataFrame,
    costs_by_year: pd.DataFrame,
    ceac: pd.DataFrame,
    reconciliation: pd.DataFrame,
    budget: pd.DataFrame,
    *,
    sentences: Mapping[str, str],
    language: str = "da",
) -> dict[str, str]:
    """Format the numbers and sentences of the economics chapter's text; ``"–"`` for an item the files lack.

    Keys: ``econ_<short>`` (estimate), ``econ_<short>_ci_low`` / ``_ci_high`` for the items
    of :data:`SHORT`, ``econ_price_year``, ``econ_horizon``, ``econ_n_draws``,
    ``econ_payback_text``, ``econ_payback_ci_text``, ``econ_measure_direction``, ``econ_measure_abs``,
    ``econ_ceac_at_zero``, ``econ_ceac_wtp_95``, ``econ_share_explained``,
    ``econ_accounts_first_year`` / ``_last_year`` and ``budget_*``.

    Sentences whose words follow the interval (:func:`verdict`, :func:`interval_sentence`), each with its
    95 % interval and, where the economics step wrote it, the share of bootstrap replications below zero:
    ``econ_net_cost_sentence``, ``econ_measure_sentence``, ``econ_cumulative_sentence``,
    ``econ_payback_sentence`` (:func:`payback_sentence`), ``budget_staff_sentence``,
    ``budget_net_cost_sentence`` (first and last budget year) and ``budget_cumulative_sentence``; the
    shares themselves are ``econ_net_saving_probability``, ``econ_cumulative_saving_probability`` and
    ``econ_payback_probability``.

    ``econ_net_cost_kind`` ("en nettoudgift" / "en nettobesparelse", from the sign of the estimate
    alone) with ``econ_net_cost_abs`` are kept for older texts; the text uses ``econ_net_cost_sentence``.

    The words of :data:`WORDS` (``sentences``, in ``language``) word the payback year, the intervals of the
    costs per unit of effect, the willingness to pay, ``econ_net_cost_kind`` and ``econ_measure_direction``;
    the sentences of :mod:`evaluation.report.economics_sentences` have their own words.
    """
    language = check_language(language)
    values: dict[str, str] = {}
    for short, item in SHORT.items():
        row = _item(economics, item)
        kind = ECONOMICS_FORMAT[item][1]
        for suffix, column in (("", "estimate"), ("_ci_low", "ci_low"), ("_ci_high", "ci_high")):
            values[f"econ_{short}{suffix}"] = (
                MISSING if row is None else format_item(row[column], kind, language=language)
            )
    for short in ("per_sdq", "per_placement"):
        row = _item(economics, SHORT[short])
        bounded = row is not None and not (pd.isna(row["ci_low"]) and pd.isna(row["ci_high"]))
        values[f"econ_{short}_ci_text"] = (
            sentences["ci"].format(low=values[f"econ_{short}_ci_low"], high=values[f"econ_{short}_ci_high"])
            if bounded
            else sentences["unbounded"]
        )
    years = horizon(costs_by_year)
    values["econ_horizon"] = str(years)
    prices = economics["price_year"].dropna()
    values["econ_price_year"] = str(int(prices.iloc[0])) if len(prices) else MISSING
    values["econ_n_draws"] = format_number(ceac["n_draws"].max(), 0, language=language) if len(ceac) else MISSING

    payback = _item(economics, "payback_year")
    if payback is None or pd.isna(payback["estimate"]):
        values["econ_payback_text"] = sentences["payback_never"].format(horizon=years)
    else:
        values["econ_payback_text"] = sentences["payback_in"].format(year=int(payback["estimate"]))
    bounds = []
    for suffix in ("ci_low", "ci_high"):
        bound = float("nan") if payback is None else payback[suffix]
        later = sentences["later_than"].format(horizon=years)
        bounds.append(later if pd.isna(bound) else sentences["year"].format(year=int(bound)))
    values["econ_payback_ci_text"] = f"{bounds[0]} {sentences['to']} {bounds[1]}"
    net = _item(economics, "net_cost_per_year")
    values["econ_net_cost_kind"] = sentences["saving"] if net is not None and net["estimate"] < 0 else sentences["cost"]
    values["econ_net_cost_abs"] = (
        MISSING if net is None else format_item(abs(net["estimate"]), "dkk", language=language)
    )
    measure = _item(economics, "measure_cost_change_per_year")
    change = float("nan") if measure is None else float(measure["estimate"])
    values["econ_measure_direction"] = sentences["fell"] if change < 0 else sentences["rose"]
    values["econ_measure_abs"] = format_item(abs(change), "dkk", language=language)

    curve = ceac.sort_values("wtp_dkk_per_unit")
    at_zero = curve[curve["wtp_dkk_per_unit"] == 0]["probability_cost_effective"]
    values["econ_ceac_at_zero"] = format_item(
        at_zero.iloc[0] if len(at_zero) else float("nan"), "percent", language=language
    )
    reached = curve[curve["probability_cost_effective"] >= 0.95]["wtp_dkk_per_unit"]
    values["econ_ceac_wtp_95"] = (
        sentences["wtp_at"].format(wtp=format_number(reached.iloc[0], 0, language=language))
        if len(reached)
        else sentences["wtp_never"].format(max=format_number(curve["wtp_dkk_per_unit"].max(), 0, language=language))
    )
    total = reconciliation[(reconciliation["year"] == 0) & (reconciliation["function"].astype(str) == "total")]
    values["econ_share_explained"] = format_item(
        total["share_explained"].iloc[0] if len(total) else float("nan"), "percent", language=language
    )
    calendar = reconciliation.loc[reconciliation["year"] != 0, "year"]
    values["econ_accounts_first_year"] = str(int(calendar.min())) if len(calendar) else MISSING
    values["econ_accounts_last_year"] = str(int(calendar.max())) if len(calendar) else MISSING
    values.update(sentence_variables(economics, years, language))
    # the budget is the per-child-year result times a positive number of cases: the same share below zero
    cumulative = _item(economics, "cumulative_saving_probability")
    share = float("nan") if cumulative is None else float(cumulative["estimate"])
    values.update(_budget_variables(budget, language, share))
    return values


def _budget_variables(budget: pd.DataFrame, language: str, share: float = float("nan")) -> dict[str, str]:
    values: dict[str, str] = {}
    years = sorted(int(y) for y in budget["budget_year"].unique())
    values.update(budget_sentences(budget, share, language=language))
    values["budget_last_year"] = str(years[-1]) if years else MISSING
    for key, item, year, scale, decimals in (
        ("budget_extra_fte", "extra_fte", years[0] if years else None, 1.0, 1),
        ("budget_staff_cost_first", "staff_cost", years[0] if years else None, MILLION, 1),
        ("budget_net_cost_first", "net_cost", years[0] if years else None, MILLION, 1),
        ("budget_net_cost_last", "net_cost", years[-1] if years else None, MILLION, 1),
        ("budget_cumulative_last", "cumulative_net_cost", years[-1] if years else None, MILLION, 1),
    ):
        rows = budget[(budget["item"].astype(str) == item) & (budget["budget_year"] == year)]
        for suffix, column in (("", "estimate"), ("_ci_low", "ci_low"), ("_ci_high", "ci_high")):
            value = rows[column].iloc[0] if len(rows) else float("nan")
            values[key + suffix] = (
                MISSING if pd.isna(value) else format_number(value / scale, decimals, language=language)
            )
    return values


#: short variable names of the economic items the text quotes
SHORT: dict[str, str] = {
    "staff_cost": "staff_cost_per_year",
    "measure_change": "measure_cost_change_per_year",
    "net_cost": "net_cost_per_year",
    "cumulative": "cumulative_net_cost",
    "per_sdq": "cost_per_sdq_point",
    "per_placement": "cost_per_avoided_placement",
    "sdq_change": "sdq_change",
    "extra_fte": "extra_fte_per_case_year",
    "per_fte": "cost_per_fte_year",
    "discount_rate": "discount_rate",
}
