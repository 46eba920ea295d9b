"""Planted effects that change with time and life phase, and the interim truth, of the synthetic registry.

Every run is at the ``tiny`` scale with one seed. The checks of the planted amounts are
exact up to clipping: an effect ``k`` that is a whole number of SDQ points (or of tenths
of absence points) is added to the latent outcome before rounding, so a treated
child-year's difference on - off is ``VAERDI - clip(VAERDI - k)`` whenever the observed
value ``VAERDI`` (the reform-on world) lies strictly inside the scale; only child-years at
the bounds (0, 40 or 100) are uncertain, within ``[min(k, 0), max(k, 0)]``. The truth must
lie in the interval these bounds give.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from evaluation.errors import ConfigError
from evaluation.steps.simulate import resolve_config, simulate
from evaluation.steps.simulate.settings import interim_last_year
from evaluation.steps.simulate.truth import build_truth

SEED = 7
ESTIMANDS = (
    "att_sdq",
    "att_school_absence",
    "att_cost_per_child",
    "att_placement_rate",
    "network_foster_share_change",
    "breakdown_rate_change",
    "caseload_change",
)
# Top-level truth and the outcome extract of the tiny registry (seed 7, default config), as written by
# the generator at commit 82c7c2e, before absence_change_per_year, sdq_change_by_life_phase and the
# interim truth existed: the defaults of the new keys must reproduce them exactly.
MAIN_TRUTH = {
    "att_cost_per_child": (-16812.262972, 4325),
    "att_placement_rate": (-0.008786, 4325),
    "att_school_absence": (-0.996122, 2759),
    "att_sdq": (-1.512175, 3696),
    "breakdown_rate_change": (-0.216995, 659),
    "caseload_change": (-15.75753, 1212),  # target plus the contract mix shift since 2026-12-07 (was -17.564317)
    "network_foster_share_change": (0.087052, 136),
}
MAIN_UDFALD_SHA256 = "1f3a0c42e8186cd9c98807153792abba3fdb6f53841653914a699723e4ff4ac0"
GROWING = {"sdq_change": -1.0, "sdq_change_per_year": -1.0, "absence_change_per_year": 0.5}
PHASES = {"0-6": -1.0, "7-13": -2.0, "14-17": -3.0}


def _run(out, config=None):
    return simulate(out, scale="tiny", seed=SEED, fmt="parquet", config=config, progress=None)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The default registry: the new keys and report.cutoff_date absent from config."""
    return _run(tmp_path_factory.mktemp("base"))


@pytest.fixture(scope="module")
def growing(tmp_path_factory):
    """Effects growing with time since adoption; default cut-off 2019-12-31."""
    return _run(tmp_path_factory.mktemp("growing"), {"synthetic": {"effects": GROWING}})


@pytest.fixture(scope="module")
def phased(tmp_path_factory):
    """SDQ effects by life phase, a growing absence effect, and no cut-off."""
    config = {
        "synthetic": {"effects": {"sdq_change_by_life_phase": PHASES, "absence_change_per_year": 0.5}},
        "report": {"cutoff_date": None},
    }
    return _run(tmp_path_factory.mktemp("phased"), config)


def _treated_outcomes(result, measure: str) -> pd.DataFrame:
    """Treated case-open child-years of ``measure``: ``AAR, VAERDI, age, exposure`` (years since adoption)."""
    outcomes = pq.read_table(result.files["udfald"]).to_pandas().query("MAAL == @measure")
    pop = pq.read_table(result.files["befolkning"], columns=["AAR", "PNR", "KOM", "FOED_DAG"]).to_pandas()
    df = outcomes.merge(pop, on=["AAR", "PNR"], how="left", validate="one_to_one")
    adoption = df["KOM"].astype(str).map(result.truth["adoptions"])
    df = df.assign(
        adoption=adoption,
        age=df["AAR"] - pd.to_datetime(df["FOED_DAG"]).dt.year - 1,
        exposure=df["AAR"] - adoption,
    )
    return df[df["adoption"].notna() & (df["AAR"] >= df["adoption"])].reset_index(drop=True)


def _bounds(observed: pd.Series, effect: np.ndarray, top: float) -> tuple[float, float]:
    """Interval of the mean of on - off, from the observed (reform-on) values and whole-step effects."""
    on = observed.to_numpy(dtype=float)
    inside = (on > 0) & (on < top)
    exact = on - np.clip(on - effect, 0, top)
    low = np.where(inside, exact, np.minimum(effect, 0.0))
    high = np.where(inside, exact, np.maximum(effect, 0.0))
    return float(low.mean()), float(high.mean())


def _assert_within(value: float, bounds: tuple[float, float]) -> None:
    low, high = bounds
    assert low - 1e-6 <= value <= high + 1e-6, (value, bounds)


def _bytes(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# ----------------------------------------------------------------------------- (i) defaults change nothing


def test_defaults_reproduce_the_registry_before_the_new_effects(base, tmp_path):
    explicit = _run(
        tmp_path,
        {
            "synthetic": {"effects": {"absence_change_per_year": 0.0, "sdq_change_by_life_phase": None}},
            "report": {"cutoff_date": "2019-12-31"},
        },
    )
    assert _bytes(explicit.out_dir) == _bytes(base.out_dir)  # every extract, truth.json included
    for name, (value, n) in MAIN_TRUTH.items():
        assert (base.truth[name]["value"], base.truth[name]["n"]) == (value, n), name
    udfald = pq.read_table(base.files["udfald"]).to_pandas().to_csv(index=False, lineterminator="\n")
    assert hashlib.sha256(udfald.encode()).hexdigest() == MAIN_UDFALD_SHA256
    planted = base.truth["planted_effects"]
    assert planted["absence_change_per_year"] == 0.0 and planted["sdq_change_by_life_phase"] is None
    written = json.loads((base.out_dir / "truth.json").read_text(encoding="utf-8"))
    assert written["planted_effects"]["sdq_change_by_life_phase"] is None


def test_constant_defaults_are_recovered_up_to_clipping(base):
    sdq = _treated_outcomes(base, "SDQ")
    assert len(sdq) == base.truth["att_sdq"]["n"]
    absence = _treated_outcomes(base, "FRAVAER")
    assert len(absence) == base.truth["att_school_absence"]["n"]
    _assert_within(
        base.truth["att_school_absence"]["value"], _bounds(absence["VAERDI"], np.full(len(absence), -1.0), 100)
    )


# ----------------------------------------------------------------------------- (ii) absence grows per year


def test_growing_absence_effect_moves_the_truth_by_the_exposure(base, growing):
    absence = _treated_outcomes(growing, "FRAVAER")
    truth = growing.truth["att_school_absence"]
    assert truth["n"] == len(absence) == base.truth["att_school_absence"]["n"]
    mean_exposure = absence["exposure"].mean()
    assert mean_exposure > 1.0
    expected = -1.0 + 0.5 * mean_exposure
    assert truth["value"] > base.truth["att_school_absence"]["value"] + 0.4  # later years weigh in
    assert abs(truth["value"] - expected) < 0.05
    assert abs((truth["value"] - base.truth["att_school_absence"]["value"]) - 0.5 * mean_exposure) < 0.05
    _assert_within(truth["value"], _bounds(absence["VAERDI"], -1.0 + 0.5 * absence["exposure"].to_numpy(), 100))
    assert growing.truth["planted_effects"]["absence_change_per_year"] == 0.5


# ----------------------------------------------------------------------------- (iii) SDQ effects by life phase


def test_life_phase_effects_give_the_weighted_mean_of_the_phases(phased):
    sdq = _treated_outcomes(phased, "SDQ")
    truth = phased.truth["att_sdq"]
    assert truth["n"] == len(sdq)
    phase = pd.cut(sdq["age"], [-1, 6, 13, 17], labels=list(PHASES))
    assert phase.notna().all() and sdq["age"].min() >= 4
    weights = phase.value_counts(normalize=True)
    assert (weights > 0.05).all()  # every phase carries weight, so the test can tell them apart
    weighted = sum(weights[p] * effect for p, effect in PHASES.items())
    assert abs(truth["value"] - weighted) < 0.05
    assert abs(truth["value"] - (-1.5)) > 0.1  # not the default sdq_change
    effect = phase.map(PHASES).to_numpy(dtype=float)
    _assert_within(truth["value"], _bounds(sdq["VAERDI"], effect, 40))
    assert phased.truth["planted_effects"]["sdq_change_by_life_phase"] == PHASES


def test_life_phase_and_per_year_parts_add_up():
    from evaluation.steps.simulate.outcomes import sdq_constant_effect

    eff = resolve_config({"synthetic": {"effects": {"sdq_change_by_life_phase": PHASES}}})["synthetic"]["effects"]
    ages = np.array([0, 4, 6, 7, 13, 14, 17])
    assert sdq_constant_effect(ages, eff).tolist() == [-1.0, -1.0, -1.0, -2.0, -2.0, -3.0, -3.0]
    assert sdq_constant_effect(ages, resolve_config(None)["synthetic"]["effects"]) == -1.5


# ----------------------------------------------------------------------------- (iv) the interim truth


def test_interim_truth_differs_when_effects_grow(growing):
    truth, interim = growing.truth, growing.truth["interim"]
    assert (interim["cutoff_date"], interim["last_year"]) == ("2019-12-31", 2019)
    assert set(interim) == {*ESTIMANDS, "cutoff_date", "last_year"}
    for name in ESTIMANDS:
        assert set(interim[name]) == {"value", "n", "definition"}
        assert 0 < interim[name]["n"] < truth[name]["n"], name
        assert interim[name]["definition"] == truth[name]["definition"]
    sdq = _treated_outcomes(growing, "SDQ")
    early = sdq[sdq["AAR"] <= 2019]
    assert interim["att_sdq"]["n"] == len(early)
    assert interim["att_sdq"]["value"] > truth["att_sdq"]["value"] + 0.5  # fewer years of the growing effect
    _assert_within(interim["att_sdq"]["value"], _bounds(early["VAERDI"], -1.0 - early["exposure"].to_numpy(), 40))
    _assert_within(truth["att_sdq"]["value"], _bounds(sdq["VAERDI"], -1.0 - sdq["exposure"].to_numpy(), 40))
    absence = _treated_outcomes(growing, "FRAVAER").query("AAR <= 2019")
    assert interim["att_school_absence"]["n"] == len(absence)
    effect = -1.0 + 0.5 * absence["exposure"].to_numpy()
    _assert_within(interim["att_school_absence"]["value"], _bounds(absence["VAERDI"], effect, 100))
    # 17 adopters: 13 of them by 2019, for 7 + 2 * 5 + 5 * 3 + 5 * 1 = 37 treated municipality-years.
    assert interim["caseload_change"]["n"] == 37 * 12


def test_interim_truth_equals_the_final_without_a_cutoff(phased):
    interim = phased.truth["interim"]
    assert interim["cutoff_date"] is None and interim["last_year"] == 2023
    for name in ESTIMANDS:
        assert interim[name] == phased.truth[name], name


def test_interim_is_null_before_the_first_adoption(tmp_path):
    config = {"synthetic": {"first_year": 2010, "last_year": 2014}, "report": {"cutoff_date": "2012-12-31"}}
    res = _run(tmp_path, config)
    written = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))["interim"]
    assert written["last_year"] == 2012  # Herning, the first adopter, starts in 2013
    for name in ESTIMANDS:
        assert written[name]["value"] is None and written[name]["n"] == 0, name
        assert res.truth[name]["n"] > 0  # the final truth has the 2013-2014 years


def test_build_truth_nulls_only_empty_interim_entries():
    cfg = resolve_config(None)
    tally = {"sdq_diff": -3.0, "sdq_n": 2.0}
    truth = build_truth(tally, cfg, interim={})
    assert (truth["att_sdq"]["value"], truth["att_sdq"]["n"]) == (-1.5, 2)
    assert truth["att_school_absence"]["value"] == 0.0  # the final entries keep today's 0.0 for no data
    assert all(truth["interim"][name]["value"] is None and truth["interim"][name]["n"] == 0 for name in ESTIMANDS)
    assert "interim" not in build_truth(tally, cfg)


@pytest.mark.parametrize(
    ("cutoff", "last_year"),
    [(None, 2023), ("2030-01-01", 2023), ("2023-06-30", 2023), ("2019-06-30", 2019), ("2005-12-31", 2005)],
)
def test_interim_last_year_is_the_cutoff_year_within_the_data(cutoff, last_year):
    assert interim_last_year(resolve_config({"report": {"cutoff_date": cutoff}})) == last_year


# ----------------------------------------------------------------------------- (v) bad configuration


@pytest.mark.parametrize(
    ("phases", "fragment"),
    [
        ({"0-6": -1.0, "7-13": -2.0}, "missing '14-17'"),
        ({"0-6": -1.0, "7-13": -2.0, "14-17": -3.0, "18-22": 0.0}, "unknown '18-22'"),
        ({"0-5": -1.0, "6-13": -2.0, "14-17": -3.0}, "missing '0-6', '7-13'; unknown '0-5', '6-13'"),
        ({"0-6": -1.0, "7-13": "large", "14-17": -3.0}, "phase '7-13' is 'large', not a number"),
        ({"0-6": -1.0, "7-13": True, "14-17": -3.0}, "not a number"),
        ([-1.0, -2.0, -3.0], "is not a mapping"),
    ],
)
def test_bad_life_phases_are_config_errors(tmp_path, phases, fragment):
    config = {"synthetic": {"effects": {"sdq_change_by_life_phase": phases}}}
    with pytest.raises(ConfigError, match="synthetic.effects.sdq_change_by_life_phase") as info:
        simulate(tmp_path, scale="tiny", seed=SEED, config=config, progress=None)
    assert fragment in str(info.value)
    assert not any(tmp_path.iterdir())  # refused before anything is simulated


def test_bad_cutoff_date_is_a_config_error():
    with pytest.raises(ConfigError, match="report.cutoff_date = '31-12-2019' is not a date"):
        resolve_config({"report": {"cutoff_date": "31-12-2019"}})
