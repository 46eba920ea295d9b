r"""Placebo in time: backdate the treatment and check that no effect appears before it.

Abadie, Diamond and Hainmueller (2015), "Comparative Politics and the Synthetic Control
Method", *American Journal of Political Science* 59(2), 495-510, section 4 ("in-time
placebos"): the synthetic control is refitted as if the treatment had started at an
earlier, fake date, using only data before the real treatment. If the design is sound,
the gap after the fake date stays small next to the real effect; a gap as large as the
real one means the method predicts effects where none can be, and casts doubt on it.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import pandas as pd

from evaluation.errors import EvaluationError
from evaluation.methods.synth.core import SyntheticControl, synthetic_control
from evaluation.methods.synth.predictors import PredictorSpec

__all__ = ["placebo_in_time"]


def placebo_in_time(
    df: pd.DataFrame,
    unit: str,
    time: str,
    outcome: str,
    treated: Hashable,
    treatment_time: Any,
    fake_treatment_time: Any,
    predictors: Sequence[PredictorSpec] | None = None,
    **kwargs: Any,
) -> SyntheticControl:
    """Placebo in time: pretend the treatment started at ``fake_treatment_time`` (ADH 2015, section 4).

    Only periods before the real ``treatment_time`` are used, so that the real effect
    cannot leak into the placebo; a gap after the fake date that is as large as the real
    one casts doubt on the design. Predictor periods at or after the fake date are dropped.

    Parameters
    ----------
    df, unit, time, outcome, treated, treatment_time
        As in :func:`synthetic_control`.
    fake_treatment_time
        The pretended first treated period (before ``treatment_time``).
    predictors
        As in :func:`synthetic_control`.
    **kwargs
        Passed on to :func:`synthetic_control` (``placebo``, ``donors``, ``optimisation_periods``,
        ``predictor_periods``, ``custom_v``, ``placebo_pool``); optimisation and predictor
        periods at or after the fake date are dropped.

    Returns
    -------
    SyntheticControl
        Fitted on the truncated panel with ``fake_treatment_time``.
    """
    if not fake_treatment_time < treatment_time:
        raise EvaluationError(
            f"placebo_in_time: the fake date {fake_treatment_time!r} must precede the treatment {treatment_time!r}."
        )
    truncated = df.loc[df[time] < treatment_time]
    for key in ("optimisation_periods", "predictor_periods"):
        if kwargs.get(key) is not None:
            kwargs[key] = [p for p in kwargs[key] if p < fake_treatment_time]
    specs = None
    if predictors is not None:
        specs = []
        for spec in predictors:
            if isinstance(spec, str):
                specs.append(spec)
                continue
            kept = [p for p in spec[1] if p < fake_treatment_time]
            if not kept:
                raise EvaluationError(f"placebo_in_time: predictor {spec!r} has no period before the fake date.")
            specs.append((spec[0], kept))
    return synthetic_control(truncated, unit, time, outcome, treated, fake_treatment_time, specs, **kwargs)
