r"""Municipality-cluster bootstrap of the difference-in-differences, for costs and wellbeing jointly.

One replication draws municipalities with replacement, separately among
adopting and never-adopting municipalities (stratified, so every replication
keeps the design's number of treated clusters), takes *all* rows of the drawn
municipalities from every data set (child-years of the matched children,
municipality-years of staff), treats a municipality drawn twice as two
clusters (each copy with its own municipality effect), and re-estimates every effect on
that one resample. Effects on cost, SDQ, placements and staff therefore come
from the same draws, and their joint distribution carries their correlation
into net costs, cost-effectiveness ratios and the acceptability curve
(the non-parametric bootstrap of incremental cost and effect, Briggs, Wonderling
and Mooney 1997, *Health Economics* 6(4), 327-340; cluster resampling as in
Cameron, Gelbach and Miller 2008, *REStat* 90(3), 414-427, section IIIA).

The matching is held fixed (children keep their matching weights); the
bootstrap is conditional on the matched sample. Abadie and Imbens (2008,
*Econometrica* 76(6)) show that the bootstrap need not be valid for matching
estimators with replacement at the child level; resampling whole
municipalities, with the matched sample fixed, is the pragmatic choice here
and is stated as a limitation in the report.

Each replication re-estimates every effect with the imputation estimator of the point estimate
(:mod:`evaluation.methods.economics.effects`): the untreated model's normal equations and the treated sums are
added up over the drawn municipalities from per-municipality sufficient statistics
(:class:`~evaluation.methods.economics.effects.ClusterMoments`), so a replication costs the same whatever the
number of child-years. A municipality drawn twice counts twice, each copy with its own municipality
effect, exactly as a stacked resample with relabelled copies (tested).

:func:`twfe_coefficients` is the two-way fixed-effects regression with child effects that the economics
used before (kept to compare with, in the tests; it is biased for the average effect over treated
child-years when effects grow with time since adoption, :mod:`evaluation.methods.economics.effects`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.errors import EvaluationError
from evaluation.methods.economics.effects import ClusterMoments, EffectSpec
from evaluation.methods.within import demean, demeaned_dummies
from evaluation.results import TidyResult, tidy_frame

__all__ = [
    "BootstrapResult",
    "EffectSpec",
    "bootstrap_parts",
    "cluster_bootstrap",
    "draw_clusters",
    "twfe_coefficients",
]


@dataclass(frozen=True)
class BootstrapResult(TidyResult):
    """Coefficients of every replication of the municipality-cluster bootstrap; ``tidy()`` has one row per column.

    Attributes
    ----------
    draws
        One row per replication, one column per ``<name>:<outcome>:<statistic>`` (``att``,
        ``followup_<k>``); NaN where a replication could not identify an effect.
    n_failed
        Replications whose ATT is NaN, by ``<name>:<outcome>``.
    seed
        The seed the draws came from.
    """

    draws: pd.DataFrame
    n_failed: dict[str, int]
    seed: int

    def interval(self, column: str, *, alpha: float = 0.05) -> tuple[float, float]:
        """Percentile interval of a column (replications with NaN left out)."""
        return percentile_interval(self.draws[column].to_numpy(), alpha=alpha)

    def tidy(self, *, alpha: float = 0.05) -> pd.DataFrame:
        """Return one row per column of :attr:`draws`: the bootstrap standard error and percentile interval.

        Parameters
        ----------
        alpha : float
            One minus the confidence level of the intervals (:meth:`interval`).

        Returns
        -------
        pandas.DataFrame
            ``term`` (the column), ``estimate`` (NaN: the point estimates come from the fit on the data, not from
            the draws), ``se`` (standard deviation of the finite draws), ``ci_low, ci_high`` (:meth:`interval`),
            ``p_value`` (NaN) and ``n_draws`` (finite draws).
        """
        rows = []
        for column in self.draws.columns:
            finite = self.draws[column].dropna()
            low, high = self.interval(column, alpha=alpha)
            se = float(finite.std(ddof=1)) if len(finite) > 1 else float("nan")
            rows.append({"term": column, "se": se, "ci_low": low, "ci_high": high, "n_draws": len(finite)})
        return tidy_frame(rows)

    def _heading(self) -> str:
        return f"Municipality-cluster bootstrap: {len(self.draws)} replications (seed {self.seed})"


def percentile_interval(values: np.ndarray, *, alpha: float = 0.05) -> tuple[float, float]:
    """Percentile bootstrap interval ``(q_{alpha/2}, q_{1-alpha/2})`` of the finite values.

    Parameters
    ----------
    values
        Draws; NaN are left out.
    alpha
        One minus the confidence level.

    Returns
    -------
    tuple of float
        NaN bounds when no draw is finite.
    """
    v = np.asarray(values, dtype="float64")
    v = v[~np.isnan(v)]
    if v.size == 0:
        return float("nan"), float("nan")
    lo, hi = np.quantile(v, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def twfe_coefficients(
    y: np.ndarray, x: np.ndarray, unit: np.ndarray, time: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    r"""Weighted least-squares coefficients of ``x`` in :math:`y = x\beta + a_{unit} + l_{time} + e`.

    Parameters
    ----------
    y
        Outcomes, shape ``(n, q)`` (several outcomes share the design).
    x
        Regressors, shape ``(n, p)``.
    unit, time
        Integer codes ``0 .. L-1`` of the two fixed effects.
    weights
        Analytic weights (positive), or None for equal weights.

    Returns
    -------
    numpy.ndarray
        Coefficients, shape ``(p, q)``; all NaN when the regressors are collinear with the fixed
        effects (not identified in this sample).
    """
    y = np.asarray(y, dtype="float64").reshape(len(y), -1)
    x = np.asarray(x, dtype="float64").reshape(len(x), -1)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype="float64")
    n_units = int(unit.max()) + 1
    n_times = int(time.max()) + 1
    design = np.column_stack([demean(x, unit, n_units, w), demeaned_dummies(time, n_times, unit, n_units, w)])
    resp = demean(y, unit, n_units, w)
    sw = np.sqrt(w)[:, None]
    a, b = design * sw, resp * sw
    p = x.shape[1]
    # Normal equations, with the time dummies partialled out of x (Frisch-Waugh-Lovell); a pseudo-inverse
    # copes with dummies that are collinear after demeaning (years seen only by single-year units).
    gram, cross = a.T @ a, a.T @ b
    g_xd, g_dd = gram[:p, p:], gram[p:, p:]
    proj = np.linalg.pinv(g_dd, hermitian=True) if g_dd.size else np.zeros((0, 0))
    schur = gram[:p, :p] - g_xd @ proj @ g_xd.T
    rhs = cross[:p] - g_xd @ proj @ cross[p:]
    scale = np.diag(gram[:p, :p])
    if (scale <= 0).any() or np.linalg.eigvalsh(schur / np.sqrt(np.outer(scale, scale))).min() < 1e-10:
        return np.full((p, y.shape[1]), np.nan)
    coef = np.linalg.solve(schur, rhs)
    return coef


def draw_clusters(strata: pd.Series, *, replications: int, rng: np.random.Generator) -> np.ndarray:
    """Draw clusters with replacement within strata, for every replication at once.

    Parameters
    ----------
    strata
        Stratum of each cluster (index: cluster labels), e.g. 1 for adopting municipalities.
    replications
        Number of replications :math:`B`.
    rng
        The random generator.

    Returns
    -------
    numpy.ndarray
        ``(B, G)`` positions into ``strata`` (each stratum keeps its number of clusters).
    """
    if int(replications) < 1:
        raise EvaluationError(f"the bootstrap needs at least one replication, not {replications}.")
    values = strata.to_numpy()
    out = np.empty((int(replications), len(values)), dtype=np.int64)
    for s in sorted(pd.unique(values)):
        members = np.flatnonzero(values == s)
        out[:, members] = rng.choice(members, size=(int(replications), len(members)), replace=True)
    return out


def cluster_bootstrap(
    moments: Sequence[ClusterMoments],
    strata: pd.Series,
    *,
    replications: int,
    seed: int,
    progress: Callable[[str], None] = print,
    part: tuple[int, int] | None = None,
) -> BootstrapResult:
    """Stratified cluster bootstrap of several imputation estimates on shared draws.

    Parameters
    ----------
    moments
        Per-cluster sufficient statistics of each effect (:func:`evaluation.methods.economics.effects.cluster_moments`),
        built with ``clusters`` equal to the index of ``strata``.
    strata
        Stratum of each cluster (index: cluster labels); clusters absent from an effect's data have zero
        moments and contribute nothing to it.
    replications
        Number of replications.
    seed
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same draws.
    progress
        Told the progress every tenth of the replications.
    part
        ``(start, stop)``: run only replications ``start .. stop - 1`` of the ``replications`` (the
        clusters of all are drawn, so a replication gets the same draw whichever part runs it, and the
        parts of :func:`bootstrap_parts` concatenated equal the whole run). None runs all.

    Returns
    -------
    BootstrapResult
        ``draws`` indexed by replication number, one column per :meth:`ClusterMoments.columns`.
    """
    labels = pd.Index(strata.index)
    for m in moments:
        if not m.clusters.equals(labels):
            raise EvaluationError(f"bootstrap: the moments of {m.columns()[0]!r} are not over the strata's clusters.")
    rng = np.random.default_rng(int(seed))
    draws = draw_clusters(strata, replications=replications, rng=rng)
    start, stop = (0, len(draws)) if part is None else (int(part[0]), int(part[1]))
    if not 0 <= start < stop <= len(draws):
        raise EvaluationError(f"bootstrap: part {part} is not a range of replications within 0..{len(draws)}.")
    draws = draws[start:stop]
    columns = [c for m in moments for c in m.columns()]
    out = np.full((len(draws), len(columns)), np.nan)
    n_failed = {c.rsplit(":", 1)[0]: 0 for c in columns}
    step = max(len(draws) // 10, 1)
    for b, draw in enumerate(draws):
        counts = np.bincount(draw, minlength=len(labels)).astype("float64")
        solved: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # one solve per shared design
        col = 0
        for m in moments:
            key = id(m.zwz)
            if key not in solved:
                solved[key] = m.solve(counts)
            est = m.estimates(counts, solved[key])
            out[b, col : col + len(est)] = est
            if np.isnan(est[0]):
                n_failed[m.columns()[0].rsplit(":", 1)[0]] += 1
            col += len(est)
        if (b + 1) % step == 0:
            progress(f"bootstrap: {b + 1} of {len(draws)} replications ({start + b + 1} of {replications})")
    index = pd.RangeIndex(start, stop, name="replication")
    return BootstrapResult(draws=pd.DataFrame(out, columns=columns, index=index), n_failed=n_failed, seed=int(seed))


def bootstrap_parts(replications: int, jobs: int) -> list[tuple[int, int]]:
    """Split ``replications`` into at most ``jobs`` consecutive ``(start, stop)`` parts of near-equal size."""
    if int(replications) < 1 or int(jobs) < 1:
        raise EvaluationError(f"bootstrap: replications ({replications}) and jobs ({jobs}) must be at least 1.")
    edges = np.linspace(0, int(replications), min(int(jobs), int(replications)) + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]
