r"""Randomization inference over municipalities: permute who adopts, keep the adoption years.

Under the sharp null of no effect for any municipality, the outcomes would have
been the same whichever municipalities had adopted. Reassigning the observed
multiset of adoption years (never-adopters included, as year 0) across the
municipalities and recomputing the estimator gives its distribution under the
null (Fisher 1935; for DiD with few treated clusters, MacKinnon and Webb 2020,
"Randomization inference for difference-in-differences with few treated
clusters", *Journal of Econometrics* 218(2), 435-450).

p-value: :math:`(1 + \#\{b: |S_b| \ge |S_{obs}|\}) / (1 + B)` with B random
reassignments, or, when the number of distinct reassignments
:math:`G! / \prod_k n_k!` is at most ``n_permutations``, the exact share of all
distinct reassignments (the observed one among them) with :math:`|S| \ge |S_{obs}|`.
Comparisons allow a relative tolerance of 1e-10 for ties.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.errors import EvaluationError
from evaluation.results import TidyResult, tidy_frame

__all__ = ["RandomizationResult", "randomization_inference", "reassign_adoption"]

_TIE_TOL = 1e-10


@dataclass(frozen=True)
class RandomizationResult(TidyResult):
    """Result of :func:`randomization_inference`; ``tidy()`` has one row, the observed statistic.

    Attributes
    ----------
    statistic : float
        The statistic on the observed assignment.
    p_value : float
        Randomization p-value (two-sided: absolute values are compared).
    null_distribution : numpy.ndarray
        The statistic under each reassignment (the observed one included when exact).
    exact : bool
        Whether all distinct reassignments were enumerated.
    n_permutations : int
        Reassignments evaluated.
    """

    statistic: float
    p_value: float
    null_distribution: np.ndarray
    exact: bool
    n_permutations: int

    def tidy(self) -> pd.DataFrame:
        """Return one row ``"statistic"``: the observed statistic as ``estimate`` and the randomization p-value.

        Returns
        -------
        pandas.DataFrame
            ``term, estimate, se, ci_low, ci_high, p_value, n_permutations, exact`` (no SE or interval: NaN).
        """
        return tidy_frame(
            [
                {
                    "term": "statistic",
                    "estimate": self.statistic,
                    "p_value": self.p_value,
                    "n_permutations": self.n_permutations,
                    "exact": self.exact,
                }
            ]
        )

    def _heading(self) -> str:
        how = "all distinct reassignments" if self.exact else "random reassignments"
        return f"Randomization inference over {self.n_permutations} {how} of the adoption schedule"


def reassign_adoption(
    df: pd.DataFrame, mapping: dict, *, unit: str, first_treat: str, time: str | None
) -> pd.DataFrame:
    """Give each unit the adoption year of ``mapping`` and update the derived columns.

    ``first_treat`` (0 = never) is replaced; ``treated_unit``, ``post`` and ``treated`` are
    recomputed when present (``post`` and ``treated`` need ``time``), as :mod:`evaluation.steps.cohort` defines them.

    Parameters
    ----------
    df
        The data.
    mapping
        Unit -> adoption year (0 for never).
    unit, first_treat, time
        Column names.

    Returns
    -------
    pandas.DataFrame
        A copy with the new assignment.
    """
    ft = df[unit].map(mapping).astype("int64")
    out = df.assign(**{first_treat: ft})
    if "treated_unit" in out.columns:
        out["treated_unit"] = (ft > 0).astype("int64")
    if time is not None and ("post" in out.columns or "treated" in out.columns):
        post = ((ft > 0) & (out[time] >= ft)).astype("int64")
        if "post" in out.columns:
            out["post"] = post
        if "treated" in out.columns:
            out["treated"] = post
    return out


def randomization_inference(
    df: pd.DataFrame,
    stat: Callable[[pd.DataFrame], float],
    *,
    unit: str = "municipality",
    first_treat: str = "first_treat",
    time: str | None = "year",
    n_permutations: int = 999,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> RandomizationResult:
    """Randomization p-value of ``stat`` under reassignment of the adoption schedule across units.

    Parameters
    ----------
    df
        Data with a unit column and a first-treatment column constant within unit (0 = never).
    stat
        Any estimator: ``stat(df_reassigned) -> float`` (e.g. a DiD coefficient).
    unit, first_treat, time
        Column names (``time`` is used to recompute ``post`` and ``treated``).
    n_permutations
        Random reassignments; enumeration is used when the distinct reassignments are fewer.
    seed
        Seed of the ``numpy.random.Generator``.
    progress
        Called every 100 reassignments with a count.

    Returns
    -------
    RandomizationResult
    """
    per_unit = df.groupby(unit, sort=True)[first_treat].nunique()
    if (per_unit > 1).any():
        raise EvaluationError(
            f"randomization inference: '{first_treat}' varies within {unit} {per_unit[per_unit > 1].index[0]!r}."
        )
    schedule = df.groupby(unit, sort=True)[first_treat].first().astype("int64")
    units = schedule.index.to_list()
    years = schedule.to_numpy()
    observed = float(stat(df))
    counts = Counter(years.tolist())
    n_distinct = math.factorial(len(units)) // math.prod(math.factorial(c) for c in counts.values())
    exact = n_distinct <= n_permutations
    if exact:
        assignments = _distinct_assignments(years)
    else:
        rng = np.random.default_rng(seed)
        assignments = (rng.permutation(years) for _ in range(n_permutations))
    values = []
    for i, assignment in enumerate(assignments, 1):
        values.append(
            float(
                stat(
                    reassign_adoption(
                        df, dict(zip(units, assignment, strict=True)), unit=unit, first_treat=first_treat, time=time
                    )
                )
            )
        )
        if progress is not None and i % 100 == 0:
            progress(f"randomization inference: {i:,} reassignments done")
    dist = np.asarray(values)
    extreme = np.abs(dist) >= abs(observed) * (1 - _TIE_TOL)
    p = float(extreme.mean()) if exact else float((1 + extreme.sum()) / (1 + len(dist)))
    return RandomizationResult(observed, p, dist, exact, len(dist))


def _distinct_assignments(years: np.ndarray) -> list[np.ndarray]:
    """Every distinct arrangement of the multiset ``years`` over the units (small cases only)."""
    levels = sorted(set(years.tolist()))
    n = len(years)
    out: list[np.ndarray] = []

    def place(free: list[int], remaining: list[tuple[int, int]], current: np.ndarray) -> None:
        if not remaining:
            out.append(current.copy())
            return
        (value, count), rest = remaining[0], remaining[1:]
        for chosen in itertools.combinations(free, count):
            current[list(chosen)] = value
            place([f for f in free if f not in chosen], rest, current)

    counts = Counter(years.tolist())
    place(list(range(n)), [(v, counts[v]) for v in levels], np.zeros(n, dtype=years.dtype))
    return out
