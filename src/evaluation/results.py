"""The result type every estimator of the package returns, and the interface all result objects share.

An :class:`Estimate` is one number with its uncertainty and the sample sizes
behind it. It is the unit of ``results/estimates.csv`` (one row per analysis)
and of the report's tables, so every estimator (matching, fixed effects,
difference-in-differences, ...) returns one, or a table whose rows convert to
one.

Every result object has ``tidy()``, a table with one row per estimated quantity
whose leading columns are :data:`TIDY_COLUMNS` (``term``, what the row
estimates, then the :class:`Estimate` numbers), and ``summary()``, that table
as readable text (pyfixest's ``tidy()``, linearmodels' ``summary``). The pieces
they share live here: :func:`tidy_frame` orders the columns, :func:`tidy_estimates`
turns :class:`Estimate` objects into rows, :func:`tidy_attributes` a result's
attributes, :func:`tidy_rows` an estimator's table (rows named by :func:`term_label`),
:func:`format_table` writes the text, and :class:`TidyResult` gives a result class
``summary()`` from its ``tidy()``.

API page: Shared result type
----------------------------
```python
from evaluation.results import Estimate
Estimate(estimate, se, ci_low, ci_high, n_treated, n_control, p_value=None)  # frozen dataclass
est.to_dict(); est.covers(value); est.ci_width
est.tidy("ATT"); est.summary()   # one row: term, estimate, se, ci_low, ci_high, p_value, n_treated, n_control

from evaluation.results import TIDY_COLUMNS, TidyResult, tidy_frame, tidy_estimates, tidy_rows, format_table
r.tidy()      # every result object: one row per estimated quantity, columns TIDY_COLUMNS first, then its own
r.summary()   # the same as readable text under a line that describes the result
```

**One result interface.** Every result object has `tidy()` and `summary()`, whatever its other accessors
(`fe.estimate("x")`, `m.att("y")`, `r.to_estimate()`, `r.table`, `agg.overall`, which all stay). `tidy()` returns a
pandas DataFrame with one row per estimated quantity; its leading columns are
`TIDY_COLUMNS = ["term", "estimate", "se", "ci_low", "ci_high", "p_value"]`, where `term` says what the row
estimates (a regressor, `"ATT"`, `"ATT(e=2)"`, `"ATT(g=2013,t=2015)"`, `"ATT(unit=657)"`, an outcome, a
covariate), the statistics a method does not give are NaN, and further columns follow as they apply (`n_treated`,
`n_control`, `t`, `event_time`, ...). `summary()` returns that table as text (`str`). The classes: `Estimate`,
`FixedEffectsResult`, `MatchResult` (`m.tidy(["y1", "y2"])`: one row per outcome; `m.summary()` adds the
balance), `ComparisonResult` (balance rows: `estimate` is `smd_after`), `AttGtResult`, `AggregateResult`,
`ImputationResult` (`r.tidy(event_study=True)` adds the event study), `FewClusterInterval`, `WildBootstrapResult`,
`RandomizationResult`, `SyntheticControl`, `StaggeredSynth`, `SyntheticDiD`, `DoseResult`, `PretrendTest`,
`CsAnalysis`, `EconomicsResult` and the economics `BootstrapResult`. The exception is `BaconResult`, whose
`tidy()` and `summary()` keep R bacondecomp's shapes (the 2x2 table, and `bacon_summary` as a table). The
multiplier bootstrap's result (`evaluation.methods.did.bootstrap`) is `MultiplierBootstrapResult`; `BootstrapResult`
stays as its alias. Steps write results files from `tidy()` where the file's bytes allow it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from evaluation.contract.results import columns_of

__all__ = [
    "ESTIMATE_COLUMNS",
    "TIDY_COLUMNS",
    "Estimate",
    "TidyResult",
    "format_table",
    "term_label",
    "tidy_attributes",
    "tidy_estimates",
    "tidy_frame",
    "tidy_rows",
]

#: Leading columns of every ``tidy()`` table: what the row estimates, then the numbers of an :class:`Estimate`.
TIDY_COLUMNS = ["term", "estimate", "se", "ci_low", "ci_high", "p_value"]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its standard error, confidence interval and sample sizes.

    Parameters
    ----------
    estimate : float
        The point estimate.
    se : float
        Its standard error.
    ci_low, ci_high : float
        The bounds of the confidence interval (95 % unless the estimator says otherwise).
    n_treated, n_control : int
        Units (children, municipalities, child-years: the estimator says which) in
        the treated and the comparison group that carry weight in the estimate.
    p_value : float or None
        Two-sided p-value of the hypothesis that the estimand is zero, where the
        estimator provides one.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    n_treated: int
    n_control: int
    p_value: float | None = None

    def __post_init__(self) -> None:
        """Coerce numbers to plain Python types, so that results serialise cleanly."""
        for name in ("estimate", "se", "ci_low", "ci_high"):
            object.__setattr__(self, name, float(getattr(self, name)))
        for name in ("n_treated", "n_control"):
            object.__setattr__(self, name, int(getattr(self, name)))
        if self.p_value is not None:
            object.__setattr__(self, "p_value", float(self.p_value))

    def tidy(self, term: str = "estimate") -> pd.DataFrame:
        """Return the estimate as a one-row tidy table.

        Parameters
        ----------
        term : str
            What the estimate is (for example ``"ATT"`` or a regressor's name).

        Returns
        -------
        pandas.DataFrame
            :data:`TIDY_COLUMNS`, then ``n_treated, n_control`` (``p_value`` NaN when there is none).
        """
        return tidy_estimates({term: self})

    def summary(self, term: str = "estimate") -> str:
        """Return :meth:`tidy` as text.

        Parameters
        ----------
        term : str
            As for :meth:`tidy`.

        Returns
        -------
        str
        """
        return format_table(self.tidy(term), heading="Estimate")

    def to_dict(self) -> dict[str, float | int | None]:
        """Return the fields as a plain dictionary (the columns of ``results/estimates.csv``).

        Returns
        -------
        dict
            ``estimate, se, ci_low, ci_high, p_value, n_treated, n_control``.
        """
        return asdict(self)

    @property
    def ci_width(self) -> float:
        """Width of the confidence interval."""
        return self.ci_high - self.ci_low

    def covers(self, value: float) -> bool:
        """Tell whether ``value`` lies inside the closed confidence interval.

        Parameters
        ----------
        value : float
            The value to check (for example a planted true effect).

        Returns
        -------
        bool
            True when ``ci_low <= value <= ci_high``.
        """
        if math.isnan(self.ci_low) or math.isnan(self.ci_high):
            return False
        return self.ci_low <= value <= self.ci_high


#: Columns of ``results/estimates.csv``, one row per analysis (the pipeline's contract with the report).
ESTIMATE_COLUMNS = columns_of("results/{release}/estimates.csv")


def tidy_frame(rows: pd.DataFrame | Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Return rows as a tidy table: :data:`TIDY_COLUMNS` first, then the other columns in their order.

    Parameters
    ----------
    rows : pandas.DataFrame or sequence of mappings
        One row per estimated quantity, with a column ``term``. Missing statistics (a method without a
        standard error or a p-value) become NaN columns; ``None`` becomes NaN.

    Returns
    -------
    pandas.DataFrame
        A new frame with a default index; ``term`` as text, the statistics as floats.
    """
    frame = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if "term" not in frame.columns:
        if len(frame):
            raise ValueError(f"tidy_frame: the rows need a column 'term'; they have {list(frame.columns)}.")
        frame["term"] = pd.Series(dtype=object)
    frame["term"] = frame["term"].astype(str)
    for column in TIDY_COLUMNS[1:]:
        frame[column] = frame[column].astype(float) if column in frame.columns else np.nan
    rest = [c for c in frame.columns if c not in TIDY_COLUMNS]
    return frame[[*TIDY_COLUMNS, *rest]].reset_index(drop=True)


def tidy_estimates(estimates: Mapping[str, Estimate], **columns: Any) -> pd.DataFrame:
    """Return :class:`Estimate` objects as tidy rows, one per term.

    Parameters
    ----------
    estimates : mapping of str to Estimate
        Term -> its estimate, in the order of the rows.
    **columns
        Further columns, a value for every row or a sequence with one value per row.

    Returns
    -------
    pandas.DataFrame
        :data:`TIDY_COLUMNS`, ``n_treated, n_control``, then ``columns``.
    """
    rows = [{"term": term, **estimate.to_dict()} for term, estimate in estimates.items()]
    frame = tidy_frame(rows)
    for name, value in columns.items():
        frame[name] = value
    return frame


def tidy_attributes(result: object, term: str, names: Sequence[str], **columns: Any) -> pd.DataFrame:
    """Return one tidy row ``term`` made of attributes of a result object.

    Parameters
    ----------
    result : object
        The result object.
    term : str
        What the row estimates.
    names : sequence of str
        Attributes of ``result`` that become columns of the same name (``estimate``, ``se``, ...).
    **columns
        Further columns and their values.

    Returns
    -------
    pandas.DataFrame
        One row: :data:`TIDY_COLUMNS` (NaN for those not among ``names``), then the other columns in order.
    """
    return tidy_frame([{"term": term, **{name: getattr(result, name) for name in names}, **columns}])


def tidy_rows(
    table: pd.DataFrame,
    keys: Mapping[str, str],
    *,
    estimate: str = "estimate",
    what: str = "ATT",
    first: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return the rows of an estimator's table as tidy rows named by their cell, event time or unit.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per estimate, with ``se, ci_low, ci_high`` and the columns named in ``keys``.
    keys : mapping of str to str
        Key in the term -> column of ``table``: ``{"e": "event_time"}`` names a row ``"ATT(e=2)"``.
    estimate : str
        The column of the estimates (``"att"`` in the DiD tables); it becomes ``estimate``.
    what : str
        The estimand, the start of every term.
    first : pandas.DataFrame or None
        Tidy rows that come before (an overall summary).

    Returns
    -------
    pandas.DataFrame
        :data:`TIDY_COLUMNS`, then the other columns of ``first`` and ``table``.
    """
    rows = table.rename(columns={estimate: "estimate"})
    columns = [rows[column] for column in keys.values()]
    terms = [term_label(what, **dict(zip(keys, values, strict=True))) for values in zip(*columns, strict=True)]
    rows = rows.assign(term=terms)
    return tidy_frame(rows if first is None else pd.concat([first, rows], ignore_index=True))


def term_label(what: str, **keys: Any) -> str:
    """Name what a tidy row estimates, for example ``term_label("ATT", g=2004, t=2006)`` is ``"ATT(g=2004,t=2006)"``.

    Parameters
    ----------
    what : str
        The estimand.
    **keys
        The cell, event time or unit the row belongs to; a whole float is written without ``.0``.

    Returns
    -------
    str
    """
    if not keys:
        return what

    def text(value: Any) -> str:
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)

    return f"{what}(" + ",".join(f"{key}={text(value)}" for key, value in keys.items()) + ")"


def _number(value: Any, digits: int) -> str:
    """Format one number of a text table: ``digits`` significant digits, whole numbers from ``10**digits`` on."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and math.isfinite(value) and 10**digits <= abs(value) < 1e15:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def format_table(table: pd.DataFrame, *, heading: str = "", digits: int = 4) -> str:
    """Render a table as aligned text under a heading: the body of every ``summary()``.

    Parameters
    ----------
    table : pandas.DataFrame
        Usually a ``tidy()`` table; the index is not shown.
    heading : str
        Lines above the table (nothing when empty).
    digits : int
        Significant digits of the floats; missing values are left blank.

    Returns
    -------
    str
    """
    if table.empty:
        body = "(no rows)"
    else:
        body = table.to_string(index=False, float_format=lambda v: _number(v, digits), na_rep="")
    return f"{heading}\n{body}" if heading else body


class TidyResult:
    """The interface every result object shares: ``tidy()`` and ``summary()``.

    A result class derives from it and defines :meth:`tidy`; :meth:`summary` is that table as text under the
    heading of :meth:`_heading` (the first line of the class docstring unless the class says more).
    """

    def tidy(self) -> pd.DataFrame:
        """Return one row per estimated quantity: :data:`TIDY_COLUMNS`, then columns that apply to the result.

        Returns
        -------
        pandas.DataFrame
        """
        raise NotImplementedError(f"{type(self).__name__} does not define tidy()")

    def summary(self) -> str:
        """Return a readable text table of :meth:`tidy` under a heading that describes the result.

        Returns
        -------
        str
        """
        return format_table(self.tidy(), heading=self._heading())

    def _heading(self) -> str:
        first = (type(self).__doc__ or type(self).__name__).strip().splitlines()[0]
        return re.sub(r":\w+:`~?([^`]+)`", r"\1", first).replace("``", "")  # without reST roles and literals
