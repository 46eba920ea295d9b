"""The common result interface: every result object has ``tidy()`` and ``summary()`` (``evaluation.results``).

Each case fits a small model, reads the numbers through the accessors the class had before ``tidy()``
(``estimate()``, ``to_estimate()``, ``att()``, ``.table``, ``.overall``, ...) and checks that ``tidy()`` has the
same numbers in the same rows, with :data:`~evaluation.results.TIDY_COLUMNS` first.
"""

from __future__ import annotations

import importlib
import inspect
import math
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest

import evaluation
from evaluation.methods.did import att_gt, bacon_decomposition
from evaluation.methods.did.imputation import did_imputation
from evaluation.methods.did.imputation_inference import restricted_wild_bootstrap
from evaluation.methods.dose import dose_response
from evaluation.methods.economics.resample import BootstrapResult as ClusterBootstrapResult
from evaluation.methods.eventstudy import event_study, pretrend_test
from evaluation.methods.inference import randomization_inference, wild_cluster_bootstrap
from evaluation.methods.matching import match
from evaluation.methods.panel import fixed_effects
from evaluation.methods.synth import staggered_synthetic_control, synthetic_control, synthetic_did
from evaluation.results import (
    TIDY_COLUMNS,
    Estimate,
    format_table,
    term_label,
    tidy_estimates,
    tidy_frame,
    tidy_rows,
)
from evaluation.steps.compare import ComparisonResult
from evaluation.steps.economics.pipeline import EconomicsResult
from evaluation.steps.staggered.analyses import CsAnalysis

#: Classes named like results that estimate nothing, and why they have no ``tidy()``.
NOT_ESTIMATES = {
    "evaluation.steps.cohort.build.CohortResult": "the cohort panel and its sample flow",
    "evaluation.steps.simulate.core.SimulationResult": "the files of a synthetic registry and its planted truth",
    "evaluation.methods.did.bootstrap.MultiplierBootstrapResult": (
        "the draws behind AttGtResult's SEs, which its tidy() has"
    ),
}
#: Result classes whose names do not end in ``Result``.
OTHER_RESULTS = {
    "evaluation.results.Estimate",
    "evaluation.methods.did.bacon.BaconResult",
    "evaluation.methods.did.imputation_inference.FewClusterInterval",
    "evaluation.methods.eventstudy.PretrendTest",
    "evaluation.steps.staggered.analyses.CsAnalysis",
    "evaluation.methods.synth.core.SyntheticControl",
    "evaluation.methods.synth.sdid.SyntheticDiD",
    "evaluation.methods.synth.staggered.StaggeredSynth",
}


def _classes() -> dict[str, type]:
    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(evaluation.__path__, "evaluation."):
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if inspect.isclass(obj) and obj.__module__ == module.__name__ and not obj.__name__.startswith("_"):
                found[f"{obj.__module__}.{obj.__name__}"] = obj
    return found


def test_every_result_class_has_tidy_and_summary() -> None:
    classes = _classes()
    results = {name for name in classes if name.endswith("Result")} | OTHER_RESULTS
    assert OTHER_RESULTS <= set(classes) and set(NOT_ESTIMATES) <= set(classes)
    missing = [
        name
        for name in sorted(results - set(NOT_ESTIMATES))
        if not (callable(getattr(classes[name], "tidy", None)) and callable(getattr(classes[name], "summary", None)))
    ]
    assert not missing, f"result classes without tidy() and summary(): {missing}"
    # the two BootstrapResult classes: the multiplier bootstrap's was renamed, its old name stays importable
    from evaluation.methods.did.bootstrap import BootstrapResult, MultiplierBootstrapResult

    assert BootstrapResult is MultiplierBootstrapResult and BootstrapResult is not ClusterBootstrapResult


# --- small data -----------------------------------------------------------------------------------------------


def staggered_panel(seed: int = 0, n_units: int = 12) -> pd.DataFrame:
    """Balanced panel 2008-2015: units 0-1 adopt in 2011, 2-3 in 2013, the rest never; effect 1 from adoption."""
    rng = np.random.default_rng(seed)
    rows = []
    for unit in range(n_units):
        first = 2011 if unit < 2 else 2013 if unit < 4 else 0
        level = rng.normal()
        for year in range(2008, 2016):
            treated = int(first > 0 and year >= first)
            x = rng.normal()
            y = level + 0.3 * (year - 2008) + 0.5 * x + treated + 0.3 * rng.normal()
            rows.append({"unit": unit, "year": year, "first_treat": first, "treated": treated, "x": x, "y": y})
    return pd.DataFrame(rows)


def cross_section(seed: int = 1, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.integers(0, 2, n).astype(float)})
    df["treat"] = (rng.random(n) < 1 / (1 + np.exp(-df["x1"]))).astype(int)
    df["y"] = df["x1"] + df["treat"] + rng.normal(size=n)
    df["y2"] = df["x2"] - 0.5 * df["treat"] + rng.normal(size=n)
    return df


# --- the cases: a result and what its old accessors say about each tidy row ---------------------------------------


@dataclass(frozen=True)
class Case:
    """A result object and the expected values of its tidy rows, by term, from the accessors that predate tidy()."""

    result: Any
    expected: dict[str, dict[str, Any]]
    tidy_args: tuple[Any, ...] = ()
    tidy_kwargs: dict[str, Any] = field(default_factory=dict)


def _row(e: Estimate, **extra: Any) -> dict[str, Any]:
    return {**e.to_dict(), **extra}


def fixed_effects_case() -> Case:
    fe = fixed_effects(staggered_panel(), "y", ["treated", "x"], "unit", "year", cluster="unit")
    expected = {x: _row(fe.estimate(x), t=fe.table.loc[x, "t"]) for x in ("treated", "x")}
    for row in expected.values():
        del row["n_treated"], row["n_control"]
    return Case(fe, expected)


def wild_bootstrap_case() -> Case:
    res = wild_cluster_bootstrap(staggered_panel(), "y", "treated", cluster="unit", unit="unit", time="year")
    extra = {"t_stat": res.t_stat, "null": res.null, "n_clusters": res.n_clusters, "nobs": res.nobs}
    row = {k: v for k, v in res.to_estimate().to_dict().items() if not k.startswith("n_")}
    return Case(res, {"treated": {**row, **extra, "n_boot": res.n_boot}})


def randomization_case() -> Case:
    def stat(df: pd.DataFrame) -> float:
        return float(df.loc[df["treated"] == 1, "y"].mean() - df.loc[df["treated"] == 0, "y"].mean())

    res = randomization_inference(staggered_panel(), stat, unit="unit", n_permutations=50, seed=3)
    row = {"estimate": res.statistic, "p_value": res.p_value, "se": math.nan, "n_permutations": res.n_permutations}
    return Case(res, {"statistic": {**row, "exact": res.exact}})


def synthetic_control_case() -> Case:
    sc = synthetic_control(staggered_panel(), "unit", "year", "y", 0, 2011)
    old = sc.to_dict()
    keys = ("pre_rmspe", "post_rmspe", "ratio", "n_donors", "n_placebos")
    return Case(sc, {"ATT": {"estimate": old["att"], "p_value": old["p_value"], **{k: old[k] for k in keys}}})


def staggered_synth_case() -> Case:
    fit = staggered_synthetic_control(staggered_panel(), "unit", "year", "y", {0: 2011, 2: 2013})
    expected = {"ATT": {"estimate": fit.att, "se": math.nan}}
    for _, row in fit.table.iterrows():
        expected[f"ATT(unit={row['unit']})"] = {"estimate": row["att"], "pre_rmspe": row["pre_rmspe"]}
    return Case(fit, expected)


def synthetic_did_case() -> Case:
    df = staggered_panel().assign(d=lambda d: (d["unit"] == 0).astype(int))
    fit = synthetic_did(df.loc[df["first_treat"].isin([0, 2011]) & (df["unit"] != 1)], "unit", "year", "y", "d", 2011,
                        replications=20, seed=1)  # fmt: skip
    return Case(fit, {"ATT": _row(fit.estimate())})


def match_case() -> Case:
    m = match(cross_section(), "treat", ["x1", "x2"])
    return Case(m, {y: _row(m.att(y), estimand="ATT") for y in ("y", "y2")}, (["y", "y2"],))


def comparison_case() -> Case:
    m = match(cross_section(), "treat", ["x1", "x2"])
    balance = m.balance.rename_axis("covariate").reset_index()
    flow = pd.DataFrame([("matched", 10, 10)], columns=["step", "n_treated", "n_control"])
    result = ComparisonResult(matched=m.matched, balance=balance, flow_rows=flow, covariates=["x1", "x2"])
    expected = {
        row["covariate"]: {"estimate": row["smd_after"], "smd_before": row["smd_before"], "p_value": math.nan}
        for _, row in balance.iterrows()
    }
    return Case(result, expected)


def _att_gt():  # noqa: ANN202
    return att_gt(staggered_panel(), "y", "unit", "year", "first_treat")


def att_gt_case() -> Case:
    r = _att_gt()
    expected = {
        f"ATT(g={int(row['group'])},t={int(row['time'])})": {
            "estimate": row["att"],
            "se": row["se"],
            "ci_low": row["ci_low"],
            "ci_high": row["ci_high"],
            "p_value": math.nan,
            "n_treated": row["n_treated"],
            "n_control": row["n_control"],
        }
        for _, row in r.table.iterrows()
    }
    return Case(r, expected)


def aggregate_case(kind: str) -> Callable[[], Case]:
    def case() -> Case:
        agg = _att_gt().aggregate(kind)
        expected = {"ATT": _row(agg.overall)}
        key = {"dynamic": ("e", "event_time"), "group": ("g", "group"), "calendar": ("t", "time")}.get(kind)
        if key is not None:
            for _, row in agg.table.iterrows():
                term = term_label("ATT", **{key[0]: row[key[1]]})
                expected[term] = {"estimate": row["att"], "se": row["se"], "ci_high": row["ci_high"]}
        return Case(agg, expected)

    return case


def _imputation():  # noqa: ANN202
    return did_imputation(staggered_panel(), "y", unit="unit", time="year", cohort="first_treat", leads=2)


def imputation_case() -> Case:
    r = _imputation()
    att = _row(r.to_estimate(), n_treated_obs=r.n_treated_obs, n_clusters=r.n_clusters)
    del att["n_treated"], att["n_control"]
    return Case(r, {"ATT": att})


def imputation_event_study_case() -> Case:
    r = _imputation()
    expected = {"ATT": {"estimate": r.estimate, "n_treated_clusters": r.n_treated_clusters}}
    for _, row in r.event_study.iterrows():
        expected[f"ATT(e={int(row['event_time'])})"] = {
            "estimate": row["estimate"],
            "se": row["se"],
            "p_value": row["p_value"],
            "n_treated_obs": row["n_obs"],
            "pre": row["pre"],
        }
    return Case(r, expected, tidy_kwargs={"event_study": True})


def few_cluster_case() -> Case:
    res = restricted_wild_bootstrap(_imputation(), n_boot=99)
    row = {"estimate": res.estimate, "p_value": res.p_value, "ci_low": res.ci_low, "ci_high": res.ci_high}
    return Case(res, {"ATT": {**row, "se": math.nan, "method": res.method, "draws": res.draws}})


def dose_case() -> Case:
    df = staggered_panel().assign(caseload=lambda d: 30 + d["x"] * 3)
    res = dose_response(df, "y", "caseload", unit="unit", per=10)
    return Case(res, {"caseload": _row(res.estimate, per=10, nobs=res.model.nobs)})


def pretrend_case() -> Case:
    test = pretrend_test(_att_gt())
    return Case(test, {"pretrend": {"estimate": test.statistic, "p_value": test.p_value, "df": test.df}})


def cs_analysis_case() -> Case:
    r = _att_gt()
    simple, dynamic = r.aggregate("simple").overall, r.aggregate("dynamic").overall
    cs = CsAnalysis("y", r, simple, dynamic, event_study(r), pretrend_test(r))
    expected = {"ATT(simple)": _row(simple), "ATT(dynamic)": _row(dynamic)}
    for _, row in cs.event_study.iterrows():
        expected[f"ATT(e={int(row['event_time'])})"] = {"estimate": row["att"], "ci_low": row["ci_low"]}
    return Case(cs, expected)


def economics_case() -> Case:
    table = pd.DataFrame(
        [
            ("net_cost", -1200.5, -3000.0, 400.0, "DKK", 2019),
            ("payback_probability", 0.4, np.nan, np.nan, "share", 2019),
        ],
        columns=["item", "estimate", "ci_low", "ci_high", "unit", "price_year"],
    )
    empty = pd.DataFrame()
    res = EconomicsResult(table, empty, empty, empty, empty, pd.DataFrame({"a": [1.0, 2.0]}))
    expected = {row["item"]: {**row.drop("item").to_dict(), "se": math.nan} for _, row in table.iterrows()}
    return Case(res, expected)


def cluster_bootstrap_case() -> Case:
    draws = pd.DataFrame({"child:cost:att": np.arange(40.0), "staff:fte:att": [np.nan, *np.linspace(0, 1, 39)]})
    res = ClusterBootstrapResult(draws, {"child:cost": 0, "staff:fte": 1}, seed=1)
    expected = {}
    for column in draws:
        low, high = res.interval(column)
        finite = draws[column].dropna()
        expected[column] = {
            "estimate": math.nan,
            "ci_low": low,
            "ci_high": high,
            "se": finite.std(),
            "n_draws": 40 - int(column.startswith("staff")),
        }
    return Case(res, expected)


def estimate_case() -> Case:
    e = Estimate(1.5, 0.5, 0.52, 2.48, 10, 20)
    return Case(e, {"ATT": _row(e, p_value=math.nan)}, ("ATT",))


CASES: dict[str, Callable[[], Case]] = {
    "FixedEffectsResult": fixed_effects_case,
    "WildBootstrapResult": wild_bootstrap_case,
    "RandomizationResult": randomization_case,
    "SyntheticControl": synthetic_control_case,
    "StaggeredSynth": staggered_synth_case,
    "SyntheticDiD": synthetic_did_case,
    "MatchResult": match_case,
    "ComparisonResult": comparison_case,
    "AttGtResult": att_gt_case,
    **{f"AggregateResult-{kind}": aggregate_case(kind) for kind in ("simple", "dynamic", "group", "calendar")},
    "ImputationResult": imputation_case,
    "ImputationResult-event_study": imputation_event_study_case,
    "FewClusterInterval": few_cluster_case,
    "DoseResult": dose_case,
    "PretrendTest": pretrend_case,
    "CsAnalysis": cs_analysis_case,
    "EconomicsResult": economics_case,
    "economics.BootstrapResult": cluster_bootstrap_case,
    "Estimate": estimate_case,
}


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, float | np.floating) and math.isnan(want):
        return isinstance(got, float | np.floating) and math.isnan(got)
    if isinstance(want, float | np.floating):
        return bool(got == pytest.approx(float(want), rel=1e-12, abs=1e-15))
    return bool(got == want)


@pytest.mark.parametrize("name", list(CASES))
def test_tidy_has_the_numbers_of_the_old_accessors(name: str) -> None:
    case = CASES[name]()
    tidy = case.result.tidy(*case.tidy_args, **case.tidy_kwargs)
    assert isinstance(tidy, pd.DataFrame)
    assert list(tidy.columns[: len(TIDY_COLUMNS)]) == TIDY_COLUMNS
    assert list(tidy["term"]) == list(case.expected), "one row per estimated quantity, in order"
    rows = tidy.set_index("term")
    wrong = {
        (term, column): (rows.loc[term, column], want)
        for term, values in case.expected.items()
        for column, want in values.items()
        if not _same(rows.loc[term, column], want)
    }
    assert not wrong, f"tidy() differs from the accessors at (term, column): (tidy, accessor) {wrong}"


@pytest.mark.parametrize("name", list(CASES))
def test_summary_is_text_naming_every_term(name: str) -> None:
    case = CASES[name]()
    text = case.result.summary(*case.tidy_args)
    assert isinstance(text, str) and text.strip()
    if not name.startswith(("ImputationResult", "SyntheticDiD")):  # their summary() is a sentence about the ATT
        missing = [term for term in case.expected if term not in text]
        assert not missing, f"{name}.summary() does not show {missing}:\n{text}"


def test_bacon_keeps_its_documented_shapes() -> None:
    # The one exception (BaconResult's Notes): tidy() is the table of 2x2 comparisons, summary() R's bacon_summary.
    df = staggered_panel()
    b = bacon_decomposition(df, "y", "unit", "year", "first_treat")
    pd.testing.assert_frame_equal(b.tidy(), b.table)
    assert list(b.summary()["comparison"])[-1] == "twfe"


def test_synthetic_control_to_dict_is_the_former_summary() -> None:
    sc = synthetic_control(staggered_panel(), "unit", "year", "y", 0, 2011, placebo=False)
    assert sc.to_dict() == {
        "treated": 0,
        "treatment_time": 2011,
        "att": sc.att,
        "pre_rmspe": sc.pre_rmspe,
        "post_rmspe": sc.post_rmspe,
        "ratio": sc.ratio,
        "p_value": None,
        "n_donors": 11,
        "n_placebos": 0,
        "v_loss": sc.v_loss,
    }
    assert "Synthetic control of 0 from 2011" in sc.summary()


# --- the shared pieces -------------------------------------------------------------------------------------------


def test_tidy_frame_orders_columns_and_fills_missing_statistics() -> None:
    out = tidy_frame([{"n": 3, "p_value": None, "estimate": 1, "term": 7}])
    assert list(out.columns) == [*TIDY_COLUMNS, "n"]
    assert out.loc[0, "term"] == "7" and out.loc[0, "estimate"] == 1.0
    assert out[["se", "ci_low", "ci_high", "p_value"]].isna().all(axis=None)
    assert list(tidy_frame([]).columns) == TIDY_COLUMNS
    with pytest.raises(ValueError, match="term"):
        tidy_frame([{"estimate": 1.0}])


def test_tidy_estimates_and_rows() -> None:
    a, b = Estimate(1.0, 0.1, 0.8, 1.2, 5, 6, 0.01), Estimate(2.0, 0.2, 1.6, 2.4, 7, 8)
    out = tidy_estimates({"a": a, "b": b}, kind="x")
    assert list(out.columns) == [*TIDY_COLUMNS, "n_treated", "n_control", "kind"]
    assert out["p_value"].iloc[0] == 0.01 and math.isnan(out["p_value"].iloc[1])
    table = pd.DataFrame({"event_time": [-1, 0], "att": [0.1, 0.2], "se": [1.0, 1.0]})
    rows = tidy_rows(table, {"e": "event_time"}, estimate="att", first=out.iloc[:1])
    assert list(rows["term"]) == ["a", "ATT(e=-1)", "ATT(e=0)"] and list(rows["estimate"]) == [1.0, 0.1, 0.2]


def test_term_label_and_text_table() -> None:
    assert term_label("ATT") == "ATT"
    assert term_label("ATT", g=2004.0, t=2006) == "ATT(g=2004,t=2006)"
    assert term_label("ATT", e=0.5) == "ATT(e=0.5)"
    frame = tidy_frame([{"term": "big", "estimate": 1234567.0, "se": 0.000123456}, {"term": "small", "estimate": 0.5}])
    text = format_table(frame, heading="Heading")
    lines = text.splitlines()
    assert lines[0] == "Heading" and lines[1].split() == TIDY_COLUMNS
    assert "1,234,567" in text and "0.0001235" in text and "nan" not in text.lower()
    assert format_table(frame.iloc[:0]) == "(no rows)"
