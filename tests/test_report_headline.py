"""The words of the event-study text's placebo tests and HonestDiD breakdown values (reports/_text/*/headline.yml)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.report.headline_parts import WORDS, headline_sensitivity_variables
from evaluation.report.sentences import read_sentences

REPORTS = Path(__file__).resolve().parents[1] / "reports"
PRETREND = pd.DataFrame(
    {
        "outcome": ["sdq", "school_absence", "cost_per_child"],
        "p_value": [0.01, 0.4, np.nan],
        "statistic": [3.2, 1.1, np.nan],
        "df_num": [3, 3, np.nan],
        "df_den": [20, 20, np.nan],
    }
)
HONEST = pd.DataFrame(
    {
        "outcome": ["sdq"] * 4 + ["school_absence"] * 2,
        "method": ["relative_magnitudes"] * 2 + ["smoothness"] * 2 + ["relative_magnitudes"] * 2,
        "m": [0, 1, 0, 0.1, 0, 1],
        "breakdown_m": [np.nan, np.nan, 0.0, 0.0, 0.5, 0.5],
        "original_low": [-1.0] * 6,
        "original_high": [1.0] * 6,
    }
)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("da", {
            "placebo_sdq_verdict": "testet afviser parallelle forløb før indførelsen på 5 %-niveau",
            "placebo_school_absence_verdict": "testet afviser ikke parallelle forløb før indførelsen på 5 %-niveau",
            "placebo_cost_per_child_verdict": "testet kan ikke beregnes (for få år før indførelsen)",
            "honest_sdq_rm_breakdown": "over 1,00",
            "honest_sdq_sd_breakdown": "allerede ved 0,00: effekten kan ikke skelnes fra nul selv uden brud",
            "honest_school_absence_rm_breakdown": "0,50",
        }),
        ("en", {
            "placebo_sdq_verdict": "the test rejects parallel trends before adoption at the 5% level",
            "placebo_school_absence_verdict":
                "the test does not reject parallel trends before adoption at the 5% level",
            "placebo_cost_per_child_verdict": "the test cannot be computed (too few years before adoption)",
            "honest_sdq_rm_breakdown": "above 1.00",
            "honest_sdq_sd_breakdown": "already at 0.00: the effect cannot be told from zero even without a violation",
            "honest_school_absence_rm_breakdown": "0.50",
        }),
    ],
)  # fmt: skip
def test_verdicts_and_breakdowns_are_worded_from_the_text_files(language: str, expected: dict[str, str]) -> None:
    words = read_sentences(REPORTS, language, WORDS)
    values = headline_sensitivity_variables(PRETREND, HONEST, min_treated=3, sentences=words, language=language)
    assert {key: values[key] for key in expected} == expected
    assert values["honest_school_absence_sd_breakdown"] == "–"  # no smoothness rows for that outcome
