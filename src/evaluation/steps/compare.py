"""The matched comparison: comparison children for the children of adopting municipalities.

Each child of the cohort panel is one row with its baseline covariates, fixed
in its entry year (its first year with an open case, see
:mod:`evaluation.steps.cohort`): these are pre-determined with respect to the reform
in the sense that they describe the child when it first came to the services.
Children of adopting municipalities (``treat = 1``) are matched on the
propensity score to children of never-adopting municipalities (``treat = 0``)
with :func:`evaluation.methods.matching.match`, as configured in ``matching``.

Covariates
----------
``matching.covariates`` names panel columns. Categorical covariates are expanded
to indicator columns before the propensity score is fitted: ``origin`` (codes
1 dansk, 2 indvandrer, 3 efterkommer) becomes ``origin_2`` and ``origin_3``
with Danish origin as reference. Imputed covariates bring their missing
indicators with them: ``parent_income`` adds ``parent_income_missing`` and
``parent_basic_education`` adds ``parent_missing``. Indicator columns that are
constant in the cohort are left out (a constant column cannot enter a logit
beside its intercept), and the log says so.

Entry year matters because the confounder (the growing risk of children of
parents with basic schooling only) is time-varying; it is a covariate of the
score as config says (exact matching on it is a design choice for config).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from evaluation.config import setting
from evaluation.contract.codes import ORIGIN
from evaluation.contract.results import columns_of
from evaluation.disclosure.rules import below_threshold
from evaluation.errors import ConfigError
from evaluation.io import write_csv, write_table
from evaluation.methods.matching.balance import BALANCE_COLUMNS as MATCHING_BALANCE_COLUMNS
from evaluation.methods.matching.balance import balance_text, tidy_balance
from evaluation.results import TidyResult, format_table

#: Categorical covariates and their codes; the first code is the reference category.
CATEGORICAL = {"origin": tuple(sorted(int(k) for k in ORIGIN))}

#: Imputed covariates and the missing indicator that goes with each.
MISSING_INDICATORS = {"parent_income": "parent_income_missing", "parent_basic_education": "parent_missing"}

#: Child-level columns taken from the child's entry-year row of the panel.
CHILD_COLUMNS = {
    "person_id": "person_id",
    "entry_municipality": "municipality",
    "treated_unit": "treat",
    "sex": "sex",
    "age_at_entry": "age_at_entry",
    "entry_year": "entry_year",
    "parent_basic_education": "parent_basic_education",
    "parent_missing": "parent_missing",
    "parent_income": "parent_income",
    "parent_income_missing": "parent_income_missing",
    "entry_origin": "origin",
    "prior_notifications": "prior_notifications",
}

#: Columns of the sample flow (``results/<release>/cohort/sample_flow.csv``), whose rows the match adds to.
FLOW_COLUMNS = columns_of("results/{release}/cohort/sample_flow.csv")
#: Columns of the balance table in ``results/compare/balance.csv``.
BALANCE_COLUMNS = ["covariate", *MATCHING_BALANCE_COLUMNS]


@dataclass(frozen=True)
class ComparisonResult(TidyResult):
    """The outcome of :func:`match_cohort`; ``tidy()`` has one row per covariate, its balance after matching.

    Attributes
    ----------
    matched
        ``person_id, municipality, treat, weight, subclass``: the matched children, sorted.
    balance
        :data:`BALANCE_COLUMNS`, one row per covariate of the score.
    flow_rows
        Rows to append to the sample flow (``step, n_treated, n_control``: a code, not words).
    covariates
        The columns the propensity score was fitted on (after expansion).
    scores
        ``treat, propensity, weight`` of every child (weight 0 when not matched), for the
        overlap plot; microdata, never written.
    """

    matched: pd.DataFrame
    balance: pd.DataFrame
    flow_rows: pd.DataFrame
    covariates: list[str]
    scores: pd.DataFrame | None = None

    def tidy(self) -> pd.DataFrame:
        """Return the balance as tidy rows: one per covariate, the mean difference after matching as ``estimate``.

        The step estimates no effect; its estimated quantities are the balance statistics
        (:func:`evaluation.methods.matching.balance.tidy_balance`).

        Returns
        -------
        pandas.DataFrame
            ``term`` (the covariate), ``estimate`` (``smd_after``), ``se, ci_low, ci_high, p_value`` (NaN), then
            the other columns of :attr:`balance`.
        """
        return tidy_balance(self.balance)

    def summary(self) -> str:
        """Return the sample flow and the balance as text.

        Returns
        -------
        str
        """
        flow = format_table(self.flow_rows, heading="Matched comparison")
        return flow + "\n\n" + balance_text(self.balance)


def child_table(panel: pd.DataFrame) -> pd.DataFrame:
    """One row per child: its entry-year row of the panel with the baseline covariates.

    Parameters
    ----------
    panel
        The cohort panel (:data:`evaluation.steps.cohort.PANEL_COLUMNS`).

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`CHILD_COLUMNS` (renamed), ``treat`` being the entry year's
        ``treated_unit``; sorted by person_id, default index.
    """
    entry = panel.loc[panel["year"] == panel["entry_year"], list(CHILD_COLUMNS)]
    return entry.rename(columns=CHILD_COLUMNS).sort_values("person_id").reset_index(drop=True)


def expand_covariates(
    children: pd.DataFrame, covariates: list[str], progress: Callable[[str], None] = print
) -> tuple[pd.DataFrame, list[str]]:
    """Expand categorical covariates to indicators and add missing indicators.

    Parameters
    ----------
    children
        Output of :func:`child_table`.
    covariates
        Covariate names from ``matching.covariates``.
    progress
        Told which indicator columns are left out as constant.

    Returns
    -------
    (pandas.DataFrame, list of str)
        ``children`` with the indicator columns added, and the columns to fit the score on.

    Raises
    ------
    ConfigError
        When a covariate is not a column of the cohort.
    """
    out = children.copy()
    columns: list[str] = []
    for name in covariates:
        if name not in out.columns:
            allowed = ", ".join(c for c in CHILD_COLUMNS.values() if c not in ("person_id", "municipality", "treat"))
            raise ConfigError(
                f"matching.covariates: '{name}' is not a baseline covariate of the cohort; use one of {allowed}."
            )
        if name in CATEGORICAL:
            for code in CATEGORICAL[name][1:]:
                out[f"{name}_{code}"] = (out[name] == code).astype("int64")
                columns.append(f"{name}_{code}")
        elif name not in columns:
            columns.append(name)
        if name in MISSING_INDICATORS and MISSING_INDICATORS[name] not in columns:
            columns.append(MISSING_INDICATORS[name])
    kept = []
    for col in columns:
        if col not in covariates and out[col].nunique() < 2:
            progress(f"compare: indicator {col} is constant in the cohort and is left out of the score")
        else:
            kept.append(col)
    return out, kept


def matching_seed(config: Mapping[str, Any]) -> int:
    """Seed of the matching's random numbers: ``matching.seed``, else ``synthetic.seed``.

    Raises
    ------
    ConfigError
        When neither is set.
    """
    seed = (config.get("matching") or {}).get("seed")
    if seed is None:
        seed = (config.get("synthetic") or {}).get("seed")
    if seed is None:
        raise ConfigError("matching.seed is not set: give the matching a seed in config so that reruns agree.")
    return int(seed)


def match_cohort(
    panel: pd.DataFrame,
    config: Mapping[str, Any],
    progress: Callable[[str], None] = print,
    *,
    score_solver: Literal["irls", "newton"] = "irls",
    balance: bool = True,
) -> ComparisonResult:
    """Match the children of adopting municipalities to children of never-adopting ones.

    Parameters
    ----------
    panel
        The cohort panel.
    config
        Study configuration; uses ``matching`` (method, distance (or the older name link), ratio, replace,
        caliper, exact, covariates, seed).
    progress
        Called with counts.
    score_solver
        How the logit propensity score is fitted (:func:`evaluation.methods.matching.match`): ``"irls"`` as R's ``glm``
        (the pipeline's matching), ``"newton"`` the same maximum faster (the placebo designs of
        :mod:`evaluation.steps.design_randomization`).
    balance
        Compute the balance table (default); False leaves it empty (the placebo designs read only the matches).

    Returns
    -------
    ComparisonResult
    """
    from evaluation.methods.matching import match

    cfg = config["matching"]
    children, covariates = expand_covariates(child_table(panel), list(cfg["covariates"]), progress)
    n_treat = int(children["treat"].sum())
    progress(f"compare: {n_treat:,} treated and {len(children) - n_treat:,} control children; score on {covariates}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = match(
            children,
            treatment="treat",
            covariates=covariates,
            method=setting(config, "matching", "method"),
            distance=setting(config, "matching", "distance"),
            ratio=int(setting(config, "matching", "ratio")),
            replace=bool(setting(config, "matching", "replace")),
            caliper=cfg.get("caliper"),
            exact=list(cfg.get("exact") or []) or None,
            estimand="ATT",
            random_state=matching_seed(config),
            discard=setting(config, "matching", "discard"),
            mahvars=cfg.get("mahvars"),
            cutpoints=None if setting(config, "matching", "cutpoints") == "sturges" else cfg["cutpoints"],
            score_solver=score_solver,
            balance=balance,
        )
    for w in caught:
        progress(f"compare: warning: {w.message}")
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)

    m = result.matched
    subclass = m["subclass"] if "subclass" in m.columns else pd.Series(pd.NA, index=m.index, dtype="Int64")
    matched = (
        pd.DataFrame(
            {
                "person_id": m["person_id"],
                "municipality": m["municipality"],
                "treat": m["treat"].astype("int64"),
                "weight": m["weight"].astype("float64"),
                "subclass": subclass,
            }
        )
        .sort_values("person_id")
        .reset_index(drop=True)
    )
    balance_rows = result.balance.rename_axis("covariate").reset_index()[BALANCE_COLUMNS]

    n_t = int((matched["treat"] == 1).sum())
    n_c = int((matched["treat"] == 0).sum())
    rows = [("matched", n_t, n_c)]
    rows += [(f"dropped_{reason}", int(count), 0) for reason, count in sorted(result.n_dropped.items())]
    unexplained = n_treat - n_t - sum(int(c) for c in result.n_dropped.values())
    if unexplained:
        rows.append(("dropped_other", unexplained, 0))
    progress(f"compare: matched {n_t:,} treated children to {n_c:,} distinct controls; dropped {result.n_dropped}")
    flow_rows = pd.DataFrame(rows, columns=FLOW_COLUMNS)
    scores = None
    if result.propensity is not None:  # exact, CEM and Mahalanobis matching fit no score
        scores = pd.DataFrame(
            {
                "treat": children["treat"].astype("int64"),
                "propensity": pd.Series(result.propensity, index=children.index).astype(float),
                "weight": m["weight"].reindex(children.index).fillna(0.0).astype(float),
            }
        )
    return ComparisonResult(
        matched=matched, balance=balance_rows, flow_rows=flow_rows, covariates=covariates, scores=scores
    )


def publishable_flow(flow: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Return the sample flow with counts of fewer than ``min_cell`` children left empty.

    Counts from 1 to ``min_cell - 1`` are removed (primary suppression). The
    children dropped by matching add up to the step before minus the matched
    step, so when a ``dropped_*`` count is removed the ``matched`` count of the
    same column is removed too (complementary suppression); otherwise the
    difference would give it away. Zero counts rest on no child and stay.

    Parameters
    ----------
    flow
        ``step, n_treated, n_control``.
    min_cell
        Smallest number of persons a published count may rest on.

    Returns
    -------
    DataFrame
        The same rows, counts as nullable integers.
    """
    out = flow.copy()
    dropped = out["step"].astype(str).str.startswith("dropped_")
    for column in ("n_treated", "n_control"):
        counts = pd.to_numeric(out[column], errors="coerce").astype("Int64")
        small = below_threshold(counts, min_cell)
        if (small & dropped).any():
            small |= out["step"].eq("matched")
        out[column] = counts.mask(small)
    return out


def match_children(
    panel_path: Path,
    config: Mapping[str, Any],
    matched_path: Path,
    balance_path: Path,
    flow_path_in: Path,
    flow_path_out: Path,
    progress: Callable[[str], None] = print,
    *,
    love_plot_path: Path | None = None,
    overlap_plot_paths: Mapping[str, Path] | None = None,
) -> None:
    """Pipeline step: match children and write matched ids and weights, balance and the sample flow.

    Parameters
    ----------
    panel_path
        The cohort panel (Parquet).
    config
        The validated study configuration.
    matched_path
        Output Parquet of matched children (microdata: under ``data/interim``).
    balance_path
        Output CSV of the balance table.
    flow_path_in, flow_path_out
        The sample flow from the cohort step, and the flow with the matching steps appended.
    progress
        Called with progress messages.
    love_plot_path
        Where to draw the love plot (PNG) of the balance table, in the report's
        language; its alt text goes beside it with the suffix ``.txt``. None draws none.
    overlap_plot_paths
        Language (``"da"``, ``"en"``) -> where to draw the propensity-score overlap plot
        (PNG; before and after matching) in that language, with bars resting on fewer than
        ``disclosure.min_cell`` children left out; alt text beside it as for the love plot.
        The scores are microdata, so the reports copy these figures rather than draw them.
    """
    panel = pd.read_parquet(panel_path)
    res = match_cohort(panel, config, progress)
    write_table(res.matched, Path(matched_path))
    for path in (balance_path, flow_path_out):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_csv(res.balance, balance_path)
    flow = pd.concat([pd.read_csv(flow_path_in), res.flow_rows], ignore_index=True)
    min_cell = int(setting(config, "disclosure", "min_cell"))
    write_csv(publishable_flow(flow, min_cell), flow_path_out)
    if love_plot_path is not None:
        from evaluation.methods.matching.plots import love_plot

        language = setting(config, "report", "language")
        alt = love_plot(res.balance.set_index("covariate"), love_plot_path, language=language)
        Path(love_plot_path).with_suffix(".txt").write_text(alt + "\n", encoding="utf-8")
    for language, path in (overlap_plot_paths or {}).items():
        from evaluation.methods.matching.plots import overlap_plot

        if res.scores is None or not res.scores["propensity"].notna().all():
            progress(f"compare: no propensity score to draw {path} from (method {config['matching']['method']})")
            Path(path).write_bytes(b"")
            Path(path).with_suffix(".txt").write_text("", encoding="utf-8")
            continue
        alt = overlap_plot(
            res.scores["propensity"],
            res.scores["treat"],
            path,
            weights=res.scores["weight"],
            bins=20,
            language=language,
            min_cell=min_cell,
        )
        Path(path).with_suffix(".txt").write_text(alt + "\n", encoding="utf-8")
    progress(f"compare: wrote {matched_path}, {balance_path} and {flow_path_out}")
