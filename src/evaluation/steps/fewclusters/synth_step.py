r"""Synthetic control for the municipality-level outcomes, as a pipeline step.

The step reads three outcomes of the release's municipality-year panel (:mod:`evaluation.steps.municipality_panel`,
which the rule ``municipality_panel`` computes once from the cut extracts for this step, the comparison
municipalities and the factsheets):

* ``spending_per_child``: the micro-costed spending on placement and preventive spells
  (:func:`evaluation.methods.costs.spell_year_costs`, the per-spell form of
  :func:`evaluation.methods.costs.child_year_costs`, so the same price definition) of spells the
  municipality holds, divided by the number of children aged ``cohort.min_age``-``cohort.max_age``
  (age on 1 January) living in the municipality that year (``befolkning``), in DKK;
* ``placement_rate``: children of those ages with a placement spell of the municipality
  overlapping the year, per 1,000 children of those ages living there;
* ``family_care_share``: among those placed children, the share in family or network care
  (``PLACEMENT_GROUP`` ``network`` or ``foster``); a child placed in several ways in the year
  counts by the share of its placement days spent in family or network care, so that
  :math:`s_{mt} = \frac{1}{P_{mt}} \sum_i d^{fam}_{it} / d_{it}` with :math:`P_{mt}` placed children;

then fits one synthetic control per adopter and outcome from the never-adopting municipalities
(:func:`evaluation.methods.synth.staggered_synthetic_control`; Abadie, Diamond and Hainmueller 2010,
*JASA* 105(490); the separate SCM of Ben-Michael, Feller and Rothstein 2022), with placebo-in-space
inference (ADH 2010 section 2.4) for Herning (657) only, and writes ``table.csv``, ``average.csv``
and ``gaps.csv``. Beside it, :func:`sdid_table` fits synthetic difference-in-differences per adopter
(:func:`evaluation.methods.synth.synthetic_did`; Arkhangelsky et al. 2021) with placebo standard errors, and
their average over adopters, into ``sdid.csv``.

Disclosure: the outcomes are municipality-year aggregates of whole municipal child populations,
the kind of figure Statistics Denmark itself publishes by municipality (the rates are rates of a
public population, not of a sample), and the files hold no count of persons (the ``n_*`` columns of
``sdid.csv`` count years and municipalities, and ``disclosure.min_cell`` does not apply to them). A
rate whose numerator is small can still hint at few children, so every municipality-year with fewer
than ``disclosure.min_cell`` children in a rate's numerator is named in the step's log; the step
carries on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.config import schema_defaults, section, setting
from evaluation.contract.results import columns_of
from evaluation.errors import EvaluationError, ModelNotIdentifiedError
from evaluation.io import write_csv
from evaluation.methods.synth import SyntheticDiD, staggered_synthetic_control, synthetic_did
from evaluation.methods.synth.sdid_solver import fit_weights, sum_normalize
from evaluation.steps.municipality_panel import (
    MUNICIPAL_OUTCOMES,
    municipality_outcomes,
    read_municipality_panel,
    small_cell_note,
)

__all__ = [
    "SDID_COLUMNS",
    "SYNTH_DEFAULTS",
    "SYNTH_OUTCOMES",
    "municipality_outcomes",
    "sdid_table",
    "synth_tables",
    "write_synth",
]

SYNTH_OUTCOMES = MUNICIPAL_OUTCOMES
#: the defaults of the ``synth`` section, read from the schema (their one source)
SYNTH_DEFAULTS: dict[str, Any] = schema_defaults("synth")


def first_adopter(adoptions: Mapping[int, int]) -> int:
    """Return the adopter with placebo inference: the earliest (the lowest code among ties); Herning by default."""
    return min((int(y), int(m)) for m, y in adoptions.items())[1]


TABLE_COLUMNS = tuple(columns_of("results/{release}/synth/table.csv"))
AVERAGE_COLUMNS = columns_of("results/{release}/synth/average.csv")
GAPS_COLUMNS = columns_of("results/{release}/synth/gaps.csv")
SDID_COLUMNS = tuple(columns_of("results/{release}/synth/sdid.csv"))
#: ``municipality`` of the row holding the average over adopters in ``sdid.csv``
AVERAGE = "average"
#: ``synthdid_estimate``'s ``min.decrease`` per unit of noise level, as in :mod:`evaluation.methods.synth.sdid`
_SDID_MIN_DECREASE = 1e-5


def _adopters(
    panel: pd.DataFrame, adoptions: Mapping[int, int], say: Callable[[str], None], method: str
) -> tuple[dict[int, int], set[int]]:
    """Adopters to fit (in the panel, adopting by its last year) and every adopter in the panel (never a control)."""
    present = set(panel["municipality"].astype(int))
    adopt = {int(m): int(y) for m, y in adoptions.items() if int(m) in present}
    if not adopt:
        raise EvaluationError(f"{method}: no adopting municipality (treatment.adoptions) is in the panel")
    adopters = set(adopt)  # none of them is a donor, fitted or not
    last_year = int(panel["year"].max())
    later = sorted(m for m, y in adopt.items() if y > last_year)
    if later:
        say(f"{method}: {len(later)} adopters adopt after the data's last year {last_year}, not fitted: {later}")
    return {m: y for m, y in adopt.items() if y <= last_year}, adopters


def synth_tables(
    panel: pd.DataFrame,
    adoptions: Mapping[int, int],
    *,
    outcomes: Sequence[str] = SYNTH_OUTCOMES,
    placebo: bool = True,
    placebo_unit: int | None = None,
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
        The adopter whose p-value and gap figure are reported (default :func:`first_adopter`: Herning in the
        default design).
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
    if placebo_unit is None:
        placebo_unit = first_adopter(adoptions)
    adopt, adopters = _adopters(panel, adoptions, say, "synthetic control")
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
            gaps.append(g.assign(outcome=outcome)[GAPS_COLUMNS])
        atts = []
        for m, sc in fits.items():
            row = sc.tidy().iloc[0]
            atts.append(row["estimate"])
            rows.append(
                {
                    "adopter": m,
                    "outcome": outcome,
                    "adoption_year": fit_adopt[m],
                    "att": row["estimate"],
                    **row[["pre_rmspe", "post_rmspe", "ratio"]].to_dict(),
                    "p_value": row["p_value"] if m == placebo_unit else np.nan,
                }
            )
        averages.append({"outcome": outcome, "att_average": float(np.mean(atts)), "n_adopters": len(atts)})
        say(f"{outcome}: {len(fits)} synthetic controls from {len(donors)} donors")
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    table = table.sort_values(["outcome", "adoption_year", "adopter"], ignore_index=True)
    average = pd.DataFrame(averages, columns=AVERAGE_COLUMNS)
    gap = pd.concat(gaps, ignore_index=True) if gaps else pd.DataFrame(columns=GAPS_COLUMNS)
    return table, average, gap


def _placebo_average(
    controls: pd.DataFrame, fits: Sequence[tuple[SyntheticDiD, int]], replications: int, rng: np.random.Generator
) -> np.ndarray:
    """Placebo draws of the mean SDID estimate over adopters (see :func:`sdid_table`, "Average").

    ``controls`` holds the never-adopters' outcomes (one row per municipality, one column per year);
    ``fits`` the adopters' fits with their adoption years. In each draw the last ``len(fits)``
    never-adopters of a random permutation stand in for the adopters, one each, and the rest are their
    controls; each stand-in is refitted as ``synthdid``'s placebo refits (AAHIW 2021 Algorithm 4):
    weights restarted from the adopter's fitted weights (the stand-ins' unit weights dropped, the rest
    rescaled), with the adopter's regularisation. Adopters of one year share the controls and so the
    regularisation, and their stand-ins are solved as one batch.
    """
    y, years = controls.to_numpy(dtype=float), controls.columns.to_numpy()
    n0, k = y.shape[0], len(fits)
    perms = np.stack([rng.permutation(n0) for _ in range(replications)])
    donors, stand_ins = perms[:, : n0 - k], perms[:, n0 - k :]
    draws = np.empty((replications, k))
    batches: dict[tuple[int, float, float, float], list[int]] = {}
    for j, (fit, year) in enumerate(fits):
        batches.setdefault((year, fit.zeta_omega, fit.zeta_lambda, fit.noise_level), []).append(j)
    for (year, zeta_omega, zeta_lambda, noise), members in batches.items():
        omega = np.stack([fits[j][0].unit_weights.reindex(controls.index).to_numpy() for j in members])
        lam = np.stack([fits[j][0].time_weights.to_numpy() for j in members])
        att = fit_weights(
            np.tile(y[donors], (len(members), 1, 1)),
            np.concatenate([y[stand_ins[:, j]] for j in members]),
            int((years < year).sum()),
            zeta_omega=zeta_omega,
            zeta_lambda=zeta_lambda,
            min_decrease=_SDID_MIN_DECREASE * noise,
            omega0=np.concatenate([sum_normalize(w[donors]) for w in omega]),
            lambda0=np.repeat(lam, replications, axis=0),
        )[0]
        draws[:, members] = att.reshape(len(members), replications).T
    return draws.mean(axis=1)


def _sdid_row(outcome: str, municipality: int | str, adoption_year: float, att: float, se: float, level: float,
              **counts: float) -> dict[str, Any]:  # fmt: skip
    """One row of ``sdid.csv``: normal-approximation interval and p-value at ``level``, as :meth:`SyntheticDiD.tidy`."""
    z = float(stats.norm.ppf(0.5 + level / 2))
    ok = np.isfinite(se) and se > 0
    return {
        "outcome": outcome,
        "municipality": municipality,
        "adoption_year": adoption_year,
        "att": att,
        "se": se,
        "ci_low": att - z * se if ok else np.nan,
        "ci_high": att + z * se if ok else np.nan,
        "p_value": float(2 * stats.norm.sf(abs(att / se))) if ok else np.nan,
        "level": level,
        **counts,
    }


def sdid_table(
    panel: pd.DataFrame,
    adoptions: Mapping[int, int],
    *,
    outcomes: Sequence[str] = SYNTH_OUTCOMES,
    replications: int = 200,
    seed: int = 20211201,
    level: float = 0.95,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    r"""Synthetic difference-in-differences per adopting municipality and outcome, and the average over adopters.

    Per adopter. Each adopting municipality :math:`m` with adoption year :math:`g_m` is fitted on its own
    against the never-adopting municipalities (:func:`evaluation.methods.synth.synthetic_did`: Arkhangelsky,
    Athey, Hirshberg, Imbens and Wager 2021, *AER* 111(12), Algorithm 1, eq. 1-5, with R ``synthdid``'s
    defaults) over every year of the panel: pre-period the years before :math:`g_m`, post-period
    :math:`g_m` and later. The panel is made balanced for each outcome by leaving out the
    municipalities with a year without a value (logged with their number), as the synthetic control
    does. Adopters are never controls, also those adopting after the panel's last year (not fitted),
    and an adopter with fewer than two years before adoption is logged and not fitted. The standard
    error is the placebo SE (AAHIW 2021 Algorithm 4, ``replications`` draws): the standard deviation
    of the estimates with a randomly chosen never-adopter in the adopter's place.

    Average. The row ``municipality = "average"`` holds the unweighted mean of the adopters' estimates,
    :math:`\bar\tau = K^{-1}\sum_m \hat\tau_m` over the :math:`K` adopters fitted. Its SE is the standard
    deviation (divisor ``replications``, as ``synthdid``) of the placebo distribution of that mean: in
    each draw :math:`K` distinct never-adopters, chosen at random, stand in for the :math:`K` adopters,
    each "adopting" in the year of the adopter it replaces, each is refitted by SDID against the
    remaining never-adopters, and the :math:`K` placebo estimates are averaged. This is AAHIW 2021
    Algorithm 4 with :math:`N_{tr} = K`, each placebo unit keeping its adopter's adoption year (the
    placebo of the Stata ``sdid`` for staggered adoption: Clarke, Pailañir, Athey and Imbens 2023,
    IZA DP 16437). Unlike :math:`\sqrt{\sum_m se_m^2}/K`, it keeps the correlation the adopters'
    estimates have through their common controls. It needs more never-adopters than adopters.

    Intervals and p-values use the normal approximation :math:`\hat\tau \pm z_{(1+level)/2}\,se` (as
    :meth:`evaluation.methods.synth.SyntheticDiD.tidy`). Each fit's draws come from a generator seeded with
    ``(seed, outcome, municipality)``, the average's with ``(seed, outcome, 0)``, so that a row does not
    depend on which other outcomes or adopters are fitted.

    Parameters
    ----------
    panel
        ``municipality, year`` and the outcome columns (from :func:`municipality_outcomes`).
    adoptions
        Adopting municipality -> first year under the model.
    outcomes
        Outcome columns to fit.
    replications
        Placebo draws, for each adopter's SE and for the average's.
    seed
        Seed of the placebo draws (config ``synth.sdid.seed``).
    level
        Confidence level of ``ci_low, ci_high`` (1 - ``estimation.alpha``).
    progress
        Callback for log lines.

    Returns
    -------
    pandas.DataFrame
        :data:`SDID_COLUMNS`: ``outcome, municipality`` (a municipality code, or ``"average"``),
        ``adoption_year`` (empty on the average), ``att, se, ci_low, ci_high, p_value, level``, and counts
        that are not persons: ``pre_years`` and ``post_years`` (years before and from adoption; empty
        on the average, where they differ by adopter), ``n_controls`` (never-adopting municipalities in
        the balanced panel) and ``adopters`` (adopting municipalities in the estimate: 1, or :math:`K`).
        Sorted by outcome (in :data:`SYNTH_OUTCOMES` order), then adoption year and municipality, each
        outcome's average last.
    """
    bad = sorted(set(outcomes) - set(SYNTH_OUTCOMES))
    if bad:
        raise EvaluationError(f"synth.outcomes: unknown outcome(s) {bad}; choose from {list(SYNTH_OUTCOMES)}")
    say = progress or (lambda _msg: None)
    adopt, adopters = _adopters(panel, adoptions, say, "synthetic DiD")
    rows: list[dict[str, Any]] = []
    for outcome in [o for o in SYNTH_OUTCOMES if o in outcomes]:
        key = SYNTH_OUTCOMES.index(outcome)
        wide = panel.pivot(index="municipality", columns="year", values=outcome).sort_index().sort_index(axis=1)
        complete = wide.dropna()
        controls = [int(m) for m in complete.index if int(m) not in adopters]
        fit_adopt = {m: y for m, y in sorted(adopt.items(), key=lambda a: (a[1], a[0])) if m in complete.index}
        say(
            f"{outcome}: synthetic DiD on a balanced panel of {len(complete)} municipalities and "
            f"{complete.shape[1]} years ({len(wide) - len(complete)} left out with a year without a value)"
        )
        if not fit_adopt or len(controls) < 2:
            say(f"{outcome}: synthetic DiD skipped (adopters {len(fit_adopt)}, never-adopters {len(controls)})")
            continue
        fits: dict[int, SyntheticDiD] = {}
        for m, year in fit_adopt.items():
            one = complete.loc[[*controls, m]].stack().rename(outcome).reset_index()
            one["treated"] = (one["municipality"] == m).astype(int)
            try:
                fits[m] = synthetic_did(one, "municipality", "year", outcome, "treated", year, method="placebo",
                                        replications=replications, seed=np.random.default_rng([seed, key, m]),
                                        level=level)  # fmt: skip
            except ModelNotIdentifiedError as err:
                say(f"{outcome}: municipality {m} (adopting {year}) not fitted by synthetic DiD: {err}")
        for m, fit in fits.items():
            rows.append(
                _sdid_row(outcome, m, fit_adopt[m], fit.att, fit.se, level, pre_years=len(fit.time_weights),
                          post_years=len(fit.effect_curve), n_controls=fit.n_control, adopters=1)
            )  # fmt: skip
        if not fits:
            continue
        att = float(np.mean([fit.att for fit in fits.values()]))
        se = np.nan
        if len(controls) > len(fits):
            draws = _placebo_average(
                complete.loc[controls],
                [(fit, fit_adopt[m]) for m, fit in fits.items()],
                replications,
                np.random.default_rng([seed, key, 0]),
            )
            se = float(np.std(draws))
        else:
            say(f"{outcome}: no SE for the average: {len(fits)} adopters and only {len(controls)} never-adopters")
        rows.append(_sdid_row(outcome, AVERAGE, np.nan, att, se, level, pre_years=np.nan, post_years=np.nan,
                              n_controls=len(controls), adopters=len(fits)))  # fmt: skip
        say(f"{outcome}: synthetic DiD for {len(fits)} adopters against {len(controls)} never-adopters")
    return pd.DataFrame(rows, columns=list(SDID_COLUMNS))


def write_synth(
    panel_path: Path,
    config: Mapping[str, Any],
    table_path: Path,
    average_path: Path,
    gaps_path: Path,
    *,
    sdid_path: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Pipeline step ``synthetic_control``: the outcomes of the municipality-year panel, fits, and the CSV files.

    Parameters
    ----------
    panel_path
        The municipality-year panel of the release
        (:func:`evaluation.steps.municipality_panel.write_municipality_panel`: the outcomes,
        :func:`municipality_outcomes`).
    config
        The pipeline config (``synth``, ``treatment.adoptions``, ``disclosure``, ``estimation.alpha``).
    table_path, average_path, gaps_path
        Output CSV files of the synthetic control.
    sdid_path
        Output CSV file of the synthetic DiD (:func:`sdid_table`); not fitted when None. Without rows
        when ``synth.activate`` or ``synth.sdid.activate`` is false.
    progress
        Callback for log lines.

    Returns
    -------
    pandas.DataFrame
        The per-adopter table written to ``table_path``.
    """
    settings = section(config, "synth")
    sdid = settings["sdid"]
    for path in (table_path, average_path, gaps_path, *([sdid_path] if sdid_path else [])):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    if sdid_path and not (settings["activate"] and sdid["activate"]):
        write_csv(pd.DataFrame(columns=list(SDID_COLUMNS)), sdid_path)
    if not settings["activate"]:
        table = pd.DataFrame(columns=list(TABLE_COLUMNS))
        write_csv(table, table_path)
        write_csv(pd.DataFrame(columns=AVERAGE_COLUMNS), average_path)
        write_csv(pd.DataFrame(columns=GAPS_COLUMNS), gaps_path)
        return table
    panel = read_municipality_panel(Path(panel_path))[["municipality", "year", "children", "placed", *SYNTH_OUTCOMES]]
    if progress is not None and (note := small_cell_note(panel, int(setting(config, "disclosure", "min_cell")))):
        progress(note)
    table, average, gaps = synth_tables(
        panel,
        config["treatment"]["adoptions"],
        outcomes=settings["outcomes"],
        placebo=bool(settings["placebo"]),
        progress=progress,
    )
    written = [(table, table_path), (average, average_path), (gaps, gaps_path)]
    if sdid_path and sdid["activate"]:
        alpha = float(setting(config, "estimation", "alpha"))
        sdid_rows = sdid_table(
            panel,
            config["treatment"]["adoptions"],
            outcomes=settings["outcomes"],
            replications=int(sdid["replications"]),
            seed=int(sdid["seed"]),
            level=1 - alpha,
            progress=progress,
        )
        written.append((sdid_rows, sdid_path))
    for frame, path in written:  # a huge ratio (an exact pre-period fit) is written as 1.1e+15 (CSV_FLOAT_FORMAT)
        write_csv(frame, path)
    return table
