"""Synthetic controls for staggered adopters: one per adopter, and their average.

With several units adopting at different dates (as the Herning-model
municipalities do) each adopter gets its own synthetic control built from the
never-adopting units, fitted on the periods before its own adoption; the
average effect is the mean of the adopters' ATTs, and the event-time path is
the mean gap ``e = t - T_g`` periods after adoption over the adopters observed
at ``e`` (the "separate synthetic controls" estimator that Ben-Michael, Feller
and Rothstein 2022, *JRSS-B* 84(2), call the separate SCM; its average is their
eq. 6 with equal weights on adopters).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from evaluation.errors import EvaluationError
from evaluation.methods.synth.core import PredictorSpec, SyntheticControl, synthetic_control
from evaluation.results import TidyResult, tidy_frame, tidy_rows

__all__ = ["StaggeredSynth", "staggered_synthetic_control"]


@dataclass(frozen=True)
class StaggeredSynth(TidyResult):
    """Result of :func:`staggered_synthetic_control`; ``tidy()`` has the average ATT, then one row per adopter.

    Attributes
    ----------
    fits : dict
        Adopter -> its :class:`~evaluation.methods.synth.core.SyntheticControl`.
    table : pandas.DataFrame
        One row per adopter: ``unit, treatment_time, att, pre_rmspe, post_rmspe, p_value``.
    att : float
        Mean of the adopters' ATTs.
    event_time : pandas.DataFrame
        ``event_time, gap, n_adopters``: mean gap by periods since adoption.
    """

    fits: dict[Hashable, SyntheticControl]
    table: pd.DataFrame
    att: float
    event_time: pd.DataFrame

    def tidy(self) -> pd.DataFrame:
        """Return the mean ATT (``"ATT"``), then each adopter's (``"ATT(unit=<unit>)"``) with its fit and p-value.

        Returns
        -------
        pandas.DataFrame
            ``term, estimate, se, ci_low, ci_high, p_value, unit, treatment_time, pre_rmspe, post_rmspe``; no SE
            or interval (NaN); the average has no unit.
        """
        average = tidy_frame([{"term": "ATT", "estimate": self.att}])
        return tidy_rows(self.table, {"unit": "unit"}, estimate="att", first=average)

    def _heading(self) -> str:
        return f"Synthetic controls of {len(self.fits)} adopters from the never-adopters (separate SCM), and their mean"


def staggered_synthetic_control(
    df: pd.DataFrame,
    unit: str,
    time: str,
    outcome: str,
    adoption: Mapping[Hashable, Any],
    predictors: Sequence[PredictorSpec] | None = None,
    placebo: bool = False,
    *,
    donors: Sequence[Hashable] | None = None,
) -> StaggeredSynth:
    """Fit one synthetic control per adopter from the never-adopters and average them.

    Parameters
    ----------
    df, unit, time, outcome
        As in :func:`~evaluation.methods.synth.synthetic_control`.
    adoption
        Adopting unit -> first treated period.
    predictors
        As in :func:`~evaluation.methods.synth.synthetic_control`.
    placebo
        Run the placebo-in-space analysis for every adopter (slow with many adopters).
    donors
        Donor pool (default: every unit not in ``adoption``).

    Returns
    -------
    StaggeredSynth
    """
    if not adoption:
        raise EvaluationError("staggered synthetic control: no adopters given.")
    pool = [u for u in (df[unit].unique() if donors is None else donors) if u not in adoption]
    fits: dict[Hashable, SyntheticControl] = {}
    rows, paths = [], []
    for adopter, start in sorted(adoption.items(), key=lambda kv: (kv[1], str(kv[0]))):
        sub = df.loc[df[unit].isin([adopter, *pool])]
        sc = synthetic_control(sub, unit, time, outcome, adopter, start, predictors, placebo, donors=pool)
        fits[adopter] = sc
        rows.append(
            {
                "unit": adopter,
                "treatment_time": start,
                "att": sc.att,
                "pre_rmspe": sc.pre_rmspe,
                "post_rmspe": sc.post_rmspe,
                "p_value": sc.p_value,
            }
        )
        paths.append(pd.DataFrame({"event_time": sc.gap.index - start, "gap": sc.gap.to_numpy()}))
    table = pd.DataFrame(rows)
    event = (
        pd.concat(paths, ignore_index=True)
        .groupby("event_time", sort=True)["gap"]
        .agg(gap="mean", n_adopters="size")
        .reset_index()
    )
    return StaggeredSynth(fits=fits, table=table, att=float(table["att"].mean()), event_time=event)
