"""The sample flow of a match: how many treated and comparison units were kept or dropped, and why."""

from __future__ import annotations

import pandas as pd

from evaluation.methods.matching.result import MatchResult

__all__ = ["FLOW_COLUMNS", "sample_flow"]

#: Columns of :func:`sample_flow`: the step's code, its description in words, and the units of each group.
FLOW_COLUMNS = ["step", "description", "n_treated", "n_control"]

_DESCRIPTIONS = {
    "en": {
        "input": "Units before matching",
        "discarded": "Dropped: outside common support of the score",
        "no_exact_match": "Dropped: no unit of the other group in the same exact cell or stratum",
        "no_match_within_caliper": "Dropped: no match within the caliper",
        "no_control_left": "Dropped: no unit of the other group left (matching without replacement)",
        "not_selected": "Not selected as a match",
        "matched": "Matched (weight > 0)",
    },
    "da": {
        "input": "Enheder før matchning",
        "discarded": "Fravalgt: uden for fælles støtte for scoren",
        "no_exact_match": "Fravalgt: ingen enhed fra den anden gruppe i samme celle eller stratum",
        "no_match_within_caliper": "Fravalgt: intet match inden for caliper",
        "no_control_left": "Fravalgt: ingen enheder tilbage i den anden gruppe (matchning uden tilbagelægning)",
        "not_selected": "Ikke valgt som match",
        "matched": "Matchet (vægt > 0)",
    },
}


def sample_flow(result: MatchResult, *, language: str = "en") -> pd.DataFrame:
    """Count treated and comparison units at each step of a match (a CONSORT-style flow).

    Every unit of the input is counted once per group: ``input = discarded +
    dropped for a reason + not_selected + matched``. Reasons of being left
    unmatched are those of :attr:`MatchResult.n_dropped` for the focal group;
    units of the other group that were not chosen are ``not_selected``. For
    the ATE (exact and coarsened exact matching) both groups are focal.

    Parameters
    ----------
    result : MatchResult
        The match.
    language : {"en", "da"}
        Language of the descriptions.

    Returns
    -------
    pandas.DataFrame
        :data:`FLOW_COLUMNS`, steps in the order input, discarded, reasons, not_selected, matched;
        steps with no units in either group are left out (except input and matched).
    """
    text = _DESCRIPTIONS.get(language, _DESCRIPTIONS["en"])
    n_in = dict(result.info.get("n_input", {}))  # type: ignore[call-overload]
    discarded = dict(result.info.get("discarded", {"treated": 0, "control": 0}))  # type: ignore[call-overload]
    treat = result.matched[result.treatment].astype(float)
    matched = {"treated": int((treat == 1).sum()), "control": int((treat == 0).sum())}
    estimand = result.estimand
    groups = ("treated", "control")
    focal = {"ATT": ("treated",), "ATC": ("control",), "ATE": groups}[estimand]
    rows = [("input", n_in.get("treated", 0), n_in.get("control", 0))]
    rows.append(("discarded", discarded.get("treated", 0), discarded.get("control", 0)))
    unmatched = {g: n_in.get(g, 0) - discarded.get(g, 0) - matched[g] for g in groups}
    reasons = [r for r in ("no_exact_match", "no_match_within_caliper", "no_control_left")]
    for reason in reasons:
        if estimand == "ATE":
            counts = {g: unmatched[g] if reason == "no_exact_match" else 0 for g in groups}
        else:
            counts = {g: result.n_dropped.get(reason, 0) if g in focal else 0 for g in groups}
        rows.append((reason, counts["treated"], counts["control"]))
    other = [g for g in groups if g not in focal]
    rows.append(("not_selected", *(unmatched[g] if g in other else 0 for g in groups)))
    rows.append(("matched", matched["treated"], matched["control"]))
    out = pd.DataFrame([(step, text[step], int(a), int(b)) for step, a, b in rows], columns=FLOW_COLUMNS)
    keep = out["step"].isin(["input", "matched"]) | (out["n_treated"] + out["n_control"] > 0)
    return out[keep].reset_index(drop=True)
