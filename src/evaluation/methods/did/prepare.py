"""Checks and reshaping of long data before :func:`evaluation.methods.did.att_gt` (R ``did::pre_process_did``).

Rules copied from R ``did`` (version 2.x), each announced by a warning so nothing is dropped silently:

- rows with a missing outcome, time, group, covariate, weight or cluster are dropped;
- a group later than the last period is recoded as never treated (0);
- observations already treated in the first period (``0 < g <= first period + anticipation``) are dropped;
- without never-treated units, ``"never_treated"`` uses the last-treated cohort as the comparison group
  and ``"not_yet_treated"`` keeps only periods before it is treated (``t < max(g) - anticipation``);
- a panel (``panel=True``) is balanced: units not observed in every period are dropped, unless
  ``allow_unbalanced_panel=True``, when an unbalanced panel is kept whole and handed on as repeated cross
  sections whose observations carry their unit (:class:`CrossSectionArrays`); a panel that turns out
  balanced stays a panel (R ``did`` 2.x does the same);
- repeated cross sections (``panel=False``) make every row its own unit; a ``unit`` column, if given, must
  then identify rows.

In a panel the group, the weight and the cluster must be constant within a unit, and a unit observed twice
in one period is an error.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from evaluation.errors import EvaluationError, ModelNotIdentifiedError

__all__ = ["CrossSectionArrays", "PanelArrays", "prepare"]

_STACK = 4  # warnings point at the caller of att_gt


@dataclass(frozen=True)
class PanelArrays:
    """A balanced panel as arrays: ``outcome[i, t]``, ``covariates[t, i, :]`` (without the intercept)."""

    units: np.ndarray
    periods: np.ndarray
    outcome: np.ndarray
    covariates: np.ndarray
    group: np.ndarray
    weights: np.ndarray
    cluster_codes: np.ndarray | None
    n_clusters: int

    def design(self, period: int, rows: np.ndarray) -> np.ndarray:
        """Return the design matrix of units ``rows`` in period ``period``: intercept, then covariates (row-major)."""
        x = np.empty((len(rows), 1 + self.covariates.shape[2]))
        x[:, 0] = 1.0
        if x.shape[1] > 1:
            x[:, 1:] = self.covariates[period].take(rows, axis=0)
        return x


@dataclass(frozen=True)
class CrossSectionArrays:
    """Repeated cross sections (or an unbalanced panel) as one row per observation.

    ``period[r]`` indexes ``periods``; ``covariates[r, :]`` are the observation's own (intercept first);
    ``unit[r]`` is the code ``0..n_units-1`` of the unit the observation belongs to (its own row for true
    repeated cross sections, the panel unit for an unbalanced panel). ``unit_group``, ``unit_weights`` and
    ``cluster_codes`` describe units, on which influence functions live.
    """

    periods: np.ndarray
    period: np.ndarray
    outcome: np.ndarray
    covariates: np.ndarray
    group: np.ndarray
    weights: np.ndarray
    unit: np.ndarray
    unit_group: np.ndarray
    unit_weights: np.ndarray
    cluster_codes: np.ndarray | None
    n_clusters: int

    @property
    def n_units(self) -> int:
        """Number of units (observations for true repeated cross sections)."""
        return len(self.unit_group)


@dataclass(frozen=True)
class _PanelCodes:
    """Each row's unit and period as codes into the sorted distinct ``units`` and ``periods``.

    ``grid`` notes rows that already form the balanced grid in one of the two usual orders (``"time_major"``:
    row ``t * n + i`` holds unit ``i`` in period ``t``, as years stacked one after another; ``"unit_major"``:
    row ``i * T + t``, as data sorted by unit and period). The checks and the reshaping then need no scatter.
    """

    unit: np.ndarray
    units: np.ndarray
    time: np.ndarray
    periods: np.ndarray
    grid: str | None = None

    @staticmethod
    def of(unit: np.ndarray, units: np.ndarray, time: np.ndarray, periods: np.ndarray) -> _PanelCodes:
        """Return the codes, with ``grid`` found from them."""
        n, n_t = len(units), len(periods)
        grid = None
        if len(unit) == n * n_t:
            by_time, by_unit = (n_t, n), (n, n_t)
            if _is(unit.reshape(by_time), np.arange(n)) and _is(time.reshape(by_time), np.arange(n_t)[:, None]):
                grid = "time_major"
            elif _is(unit.reshape(by_unit), np.arange(n)[:, None]) and _is(time.reshape(by_unit), np.arange(n_t)):
                grid = "unit_major"
        return _PanelCodes(unit, units, time, periods, grid)

    def subset(self, keep: np.ndarray) -> _PanelCodes:
        """Return the codes of the rows ``keep`` (a mask), renumbered over the units and periods that remain."""
        unit, units = _renumber(self.unit[keep], self.units)
        time, periods = _renumber(self.time[keep], self.periods)
        return _PanelCodes.of(unit, units, time, periods)

    def repeated(self) -> bool:
        """Whether some unit has two rows in one period."""
        if self.grid is not None:
            return False
        return bool(np.bincount(self.unit * len(self.periods) + self.time).max(initial=0) > 1)

    @cached_property
    def first_rows(self) -> np.ndarray:
        """Position of each unit's first row (found once: the checks and the reshaping read it)."""
        if self.grid == "time_major":
            return np.arange(len(self.units))
        if self.grid == "unit_major":
            return np.arange(len(self.units)) * len(self.periods)
        return _first_rows(self.unit, len(self.units))

    def varying_rows(self, values: np.ndarray) -> np.ndarray:
        """Positions of the rows whose value differs from their unit's first row."""
        n, n_t = len(self.units), len(self.periods)
        if self.grid == "time_major":
            return np.flatnonzero(values.reshape(n_t, n) != values[:n])
        if self.grid == "unit_major":
            return np.flatnonzero(values.reshape(n, n_t) != values[::n_t, None])
        return np.flatnonzero(values != values[self.first_rows][self.unit])

    def fill(self, out: np.ndarray, values: np.ndarray, *, time_first: bool = False) -> None:
        """Write row ``r``'s ``values[r]`` to ``out[unit, period]`` (``out[period, unit]`` with ``time_first``)."""
        if self.grid is None:
            out[(self.time, self.unit) if time_first else (self.unit, self.time)] = values
            return
        n, n_t, rest = len(self.units), len(self.periods), values.shape[1:]
        by_time = self.grid == "time_major"
        grid = values.reshape(((n_t, n) if by_time else (n, n_t)) + rest)
        out[...] = grid if by_time == time_first else grid.swapaxes(0, 1)


def _is(codes: np.ndarray, expected: np.ndarray) -> bool:
    """Whether ``codes`` equal ``expected`` broadcast to their shape."""
    return bool(np.array_equal(codes, np.broadcast_to(expected, codes.shape)))


def _renumber(codes: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes and levels without the levels no row has any more."""
    present = np.bincount(codes, minlength=len(levels)) > 0
    if present.all():
        return codes, levels
    return (np.cumsum(present) - 1)[codes], levels[present]


def _require(df: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise EvaluationError(f"att_gt: column(s) {', '.join(missing)} not in the data; available: {list(df.columns)}")


def _first_rows(codes: np.ndarray, n_levels: int) -> np.ndarray:
    """Position of the first row of every level of ``codes``."""
    first = np.empty(n_levels, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return first


def _codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes ``0..L-1`` of the values, numbered in the sorted order of the ``L`` distinct values (returned too).

    Integer ids in a range not much wider than their number are coded by direct indexing, which is several
    times faster than hashing; anything else goes through :func:`pandas.factorize`.
    """
    v = values.to_numpy()
    if v.dtype.kind in "iu" and v.size:
        lo, hi = int(v.min()), int(v.max())
        if hi - lo <= 4 * v.size:
            offset = v.astype(np.int64, copy=False) - lo
            present = np.zeros(hi - lo + 1, dtype=bool)
            present[offset] = True
            levels = (np.flatnonzero(present) + lo).astype(v.dtype)
            if len(levels) == len(present):  # every value in the range occurs: the offsets are the codes
                return offset, levels
            return (np.cumsum(present) - 1)[offset], levels
    codes, levels = pd.factorize(values, sort=True)
    return codes.astype(np.int64), np.asarray(levels)


def _missing_rows(frame: pd.DataFrame) -> np.ndarray | None:
    """Rows with a missing value in any column (None when there are none); integer and bool columns have none."""
    missing = None
    for column in frame.columns:
        series = frame[column]
        kind = series.dtype.kind if isinstance(series.dtype, np.dtype) else None
        if kind in ("i", "u", "b"):
            continue
        rows = np.isnan(series.to_numpy()) if kind == "f" else series.isna().to_numpy()
        if rows.any():
            missing = rows if missing is None else missing | rows
    return missing


def _check_panel_rows(frame: pd.DataFrame, unit: str, time: str, constant: Sequence[str]) -> _PanelCodes:
    """Fail on a unit seen twice in one period, or on a column of ``constant`` that varies within a unit.

    Returns the rows' unit and period codes, which the rest of the preparation reuses.
    """
    codes = _PanelCodes.of(*_codes(frame[unit]), *_codes(frame[time]))
    if codes.repeated():
        raise EvaluationError(f"att_gt: a unit appears twice in one period (columns {unit!r}, {time!r})")
    for column in constant:
        values = frame[column].to_numpy()
        if values.dtype.kind not in "biuf":  # rows with missing values are gone; others compare by code
            values = pd.factorize(frame[column])[0]
        varying = codes.varying_rows(values)
        if varying.size:
            example = codes.units[codes.unit[varying[0]]]
            example = example.item() if isinstance(example, np.generic) else example
            raise EvaluationError(
                f"att_gt: column {column!r} must be constant within each unit, but unit {example!r} has several "
                f"values; fix the data (a unit's first treatment period, weight and cluster do not change)"
            )
    return codes


def _clean(
    df: pd.DataFrame,
    *,
    outcome: str,
    unit: str | None,
    time: str,
    group: str,
    covariates: Sequence[str],
    control_group: str,
    anticipation: int,
    weights: str | None,
    cluster: str | None,
    panel: bool,
) -> tuple[pd.DataFrame, _PanelCodes | None]:
    """Run the checks and drops shared by panels and repeated cross sections (module docstring).

    Returns the rows that remain and, for a panel, their unit and period codes.
    """
    if panel and unit is None:
        raise EvaluationError("att_gt: a panel needs the `unit` column; pass unit=... or panel=False")
    extra = [c for c in (weights, cluster) if c is not None and c != unit]
    columns = list(dict.fromkeys([c for c in (unit, time, group, outcome) if c is not None] + [*covariates, *extra]))
    _require(df, columns)
    frame = df[columns]
    missing = _missing_rows(frame)
    if missing is not None:
        warnings.warn(f"att_gt: dropped {int(missing.sum())} rows with missing values", stacklevel=_STACK)
        frame = frame[~missing]
    for column in [time, group, outcome, *covariates] + ([weights] if weights else []):
        if not pd.api.types.is_numeric_dtype(frame[column]):
            raise EvaluationError(f"att_gt: column {column!r} must be numeric")
    if unit is not None and not panel and frame[unit].duplicated().any():
        raise EvaluationError(
            f"att_gt: with panel=False every row is its own observation, but column {unit!r} repeats ids; "
            f"pass unit=None to treat the rows as independent cross sections, or panel=True (with "
            f"allow_unbalanced_panel=True if units are missing in some periods)"
        )
    codes = _check_panel_rows(frame, str(unit), time, [group, *extra]) if panel else None
    if weights is not None and (frame[weights] < 0).any():
        raise EvaluationError(f"att_gt: weights in column {weights!r} must be non-negative")

    periods = codes.periods if codes is not None else np.sort(frame[time].unique())
    g = frame[group].to_numpy()
    if g.dtype.kind not in "iuf":  # nullable or other numeric extension types
        g = frame[group].to_numpy(dtype=float)
    late = g > periods[-1]  # first treated after the last period: never treated here
    if late.any():  # copy the frame only when a group is recoded
        g = np.where(late, 0.0, g)
        frame = frame.assign(**{group: g})
    if (g < 0).any():
        raise EvaluationError(f"att_gt: column {group!r} must be 0 (never treated) or a period; found negatives")
    early = (g > 0) & (g <= periods[0] + anticipation)
    if early.any():
        n_early = frame.loc[early, unit].nunique() if panel else int(early.sum())
        what = "units" if panel else "observations"
        warnings.warn(f"att_gt: dropped {n_early} {what} already treated in the first period", stacklevel=_STACK)
    keep = ~early
    if keep.any() and not (g == 0).any():  # the rows dropped as early are all treated, so no copy of g[keep]
        last = g[keep].max()
        keep &= frame[time].to_numpy() < last - anticipation
        if control_group == "never_treated":
            warnings.warn(
                "att_gt: no never-treated units; the last-treated cohort is used as the never-treated group",
                stacklevel=_STACK,
            )
            frame = frame.assign(**{group: np.where(g == last, 0.0, g)})
    if not keep.all():
        frame = frame[keep]
        codes = codes.subset(keep) if codes is not None else None
    n_periods = len(codes.periods) if codes is not None else frame[time].nunique()
    if frame.empty or n_periods < 2:
        raise ModelNotIdentifiedError("att_gt: fewer than two periods or no units remain after the checks")
    return frame, codes


def _weights_and_clusters(
    first: pd.DataFrame, weights: str | None, cluster: str | None, unit: str | None
) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Return unit weights (mean one) and cluster codes from one row per unit."""
    n = len(first)
    w = first[weights].to_numpy(dtype=float) if weights else np.ones(n)
    if weights and not w.sum() > 0:
        raise EvaluationError(f"att_gt: weights in column {weights!r} sum to zero")
    codes, n_clusters = None, n
    if cluster is not None and cluster != unit:
        codes_raw, uniques = pd.factorize(first[cluster], sort=True)
        codes, n_clusters = codes_raw.astype(np.int64), len(uniques)
    return w / w.mean(), codes, n_clusters


def _to_panel(
    frame: pd.DataFrame,
    codes: _PanelCodes,
    outcome: str,
    group: str,
    covariates: Sequence[str],
    weights: str | None,
    cluster: str | None,
    unit: str,
) -> PanelArrays:
    periods, units = codes.periods, codes.units
    complete = (
        np.ones(len(units), dtype=bool)
        if codes.grid is not None
        else np.bincount(codes.unit, minlength=len(units)) == len(periods)
    )
    if not complete.all():
        warnings.warn(
            f"att_gt: dropped {int((~complete).sum())} units not observed in every period (balanced panel; pass "
            f"allow_unbalanced_panel=True to keep them)",
            stacklevel=_STACK,
        )
        rows = complete[codes.unit]
        frame, units = frame[rows], units[complete]
        codes = _PanelCodes((np.cumsum(complete) - 1)[codes.unit[rows]], units, codes.time[rows], periods)
    if frame.empty:
        raise ModelNotIdentifiedError("att_gt: no unit is observed in every period; try allow_unbalanced_panel=True")
    n, n_t = len(units), len(periods)
    y = np.empty((n, n_t))
    codes.fill(y, frame[outcome].to_numpy(dtype=float))
    x = np.empty((n_t, n, len(covariates)))
    if covariates:
        codes.fill(x, frame[list(covariates)].to_numpy(dtype=float), time_first=True)
    first = frame.iloc[codes.first_rows]
    w, cluster_codes, n_clusters = _weights_and_clusters(first, weights, cluster, unit)
    return PanelArrays(
        units=np.asarray(units),
        periods=periods,
        outcome=y,
        covariates=x,
        group=first[group].to_numpy(dtype=float),
        weights=w,
        cluster_codes=cluster_codes,
        n_clusters=n_clusters,
    )


def _to_cross_sections(
    frame: pd.DataFrame,
    outcome: str,
    unit: str | None,
    time: str,
    group: str,
    covariates: Sequence[str],
    weights: str | None,
    cluster: str | None,
) -> CrossSectionArrays:
    periods = np.sort(frame[time].unique())
    n_rows = len(frame)
    if unit is None:
        codes_unit = np.arange(n_rows, dtype=np.int64)
        first = frame
    else:
        codes_unit = pd.factorize(frame[unit], sort=True)[0].astype(np.int64)
        first = frame.drop_duplicates(unit).sort_values(unit)
    x = np.ones((n_rows, 1 + len(covariates)))
    if covariates:
        x[:, 1:] = frame[list(covariates)].to_numpy(dtype=float)
    w_units, codes, n_clusters = _weights_and_clusters(first, weights, cluster, unit)
    w_rows = frame[weights].to_numpy(dtype=float) if weights else np.ones(n_rows)
    return CrossSectionArrays(
        periods=periods,
        period=np.searchsorted(periods, frame[time].to_numpy()),
        outcome=frame[outcome].to_numpy(dtype=float),
        covariates=x,
        group=frame[group].to_numpy(dtype=float),
        weights=w_rows / w_rows.mean(),
        unit=codes_unit,
        unit_group=first[group].to_numpy(dtype=float),
        unit_weights=w_units,
        cluster_codes=codes,
        n_clusters=n_clusters,
    )


def prepare(
    df: pd.DataFrame,
    *,
    outcome: str,
    unit: str | None,
    time: str,
    group: str,
    covariates: Sequence[str],
    control_group: str,
    anticipation: int,
    weights: str | None,
    cluster: str | None,
    panel: bool = True,
    allow_unbalanced_panel: bool = False,
) -> PanelArrays | CrossSectionArrays:
    """Validate ``df`` and return a balanced panel or repeated cross sections (module docstring for the rules).

    Returns
    -------
    PanelArrays or CrossSectionArrays
        :class:`PanelArrays` for a panel (balanced here, or balanced already when
        ``allow_unbalanced_panel``); :class:`CrossSectionArrays` for ``panel=False`` (units are rows) and for
        an unbalanced panel with ``allow_unbalanced_panel=True`` (units are the panel's units).
    """
    frame, codes = _clean(
        df,
        outcome=outcome,
        unit=unit,
        time=time,
        group=group,
        covariates=covariates,
        control_group=control_group,
        anticipation=anticipation,
        weights=weights,
        cluster=cluster,
        panel=panel,
    )
    if codes is None:  # repeated cross sections (a panel without ``unit`` stopped in _clean)
        return _to_cross_sections(frame, outcome, None, time, group, covariates, weights, cluster)
    balanced = len(frame) == len(codes.units) * len(codes.periods)
    if allow_unbalanced_panel and not balanced:
        return _to_cross_sections(frame, outcome, unit, time, group, covariates, weights, cluster)
    return _to_panel(frame, codes, outcome, group, covariates, weights, cluster, unit)
