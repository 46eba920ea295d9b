"""Lookups of identifiers: which values of a column are among a set of identifiers.

The extracts' identifiers are strings held by Arrow (pandas' ``str`` dtype). Arrow's hash lookup of
them is several times quicker than :meth:`pandas.Series.isin`, which passes each value through Python.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["among"]


def among(values: pd.Series, wanted: pd.Series | np.ndarray | pd.Index) -> np.ndarray:
    """Return whether each of ``values`` is one of ``wanted``; a missing value never is.

    Parameters
    ----------
    values
        The column looked up (identifiers, usually strings).
    wanted
        The identifiers looked for; missing ones are ignored.

    Returns
    -------
    numpy.ndarray
        Booleans aligned with ``values``: :meth:`pandas.Series.isin` for the values that are not missing.
    """
    wanted = pd.Series(np.asarray(wanted, dtype=object) if not isinstance(wanted, pd.Series) else wanted)
    unique = wanted.dropna().unique()
    try:
        data = pa.array(values, from_pandas=True)
        value_set = pa.array(unique, from_pandas=True).cast(data.type)
        found = pc.is_in(data, value_set=value_set, skip_nulls=True).fill_null(False)
        return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):  # values Arrow cannot hash as one type
        return (values.isin(unique) & values.notna()).to_numpy(dtype=bool)
