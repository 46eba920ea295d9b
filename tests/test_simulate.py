"""Tests of the synthetic registry (evaluation.steps.simulate) at the tiny scale."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from evaluation.contract import EXTRACTS
from evaluation.contract.extracts import CPR_PATTERN
from evaluation.errors import ConfigError
from evaluation.steps.simulate import default_config, resolve_config, simulate

SEED = 7


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny_a")
    return simulate(out, scale="tiny", seed=SEED, fmt="parquet", progress=None)


@pytest.fixture(scope="module")
def tables(tiny):
    return {name: pq.read_table(path) for name, path in tiny.files.items()}


def _bytes(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_arguments_give_identical_bytes_parquet_in_one_process_or_two(tiny, tmp_path):
    again = simulate(tmp_path, scale="tiny", seed=SEED, fmt="parquet", progress=None, workers=2)
    first, second = _bytes(tiny.out_dir), _bytes(again.out_dir)
    assert sorted(first) == sorted(second)
    assert len(first) == 14  # 11 extracts + truth, manifest, calibration
    for name in first:
        assert first[name] == second[name], name


def test_the_two_processes_share_the_inhabitants_about_evenly():
    from evaluation.steps.simulate.core import load_municipalities
    from evaluation.steps.simulate.world import split_by_size

    inhabitants = load_municipalities()["INDBYGGERE"].to_numpy()
    mine, theirs = split_by_size(inhabitants)
    assert sorted(mine + theirs) == list(range(len(inhabitants)))  # each municipality once
    assert abs(inhabitants[mine].sum() - inhabitants[theirs].sum()) <= inhabitants.max()
    assert split_by_size(np.array([5])) == ([0], [])


def test_other_seed_changes_the_data(tiny, tmp_path):
    other = simulate(tmp_path, scale="tiny", seed=SEED + 1, fmt="parquet", progress=None)
    assert other.files["befolkning"].read_bytes() != tiny.files["befolkning"].read_bytes()
    assert other.files["underretninger"].read_bytes() != tiny.files["underretninger"].read_bytes()


def test_same_arguments_give_identical_bytes_csv(tmp_path):
    a = simulate(tmp_path / "a", scale="tiny", seed=SEED, fmt="csv", progress=None)
    b = simulate(tmp_path / "b", scale="tiny", seed=SEED, fmt="csv", progress=None)
    assert _bytes(a.out_dir) == _bytes(b.out_dir)
    _check_csv(a)


def _check_csv(res):
    kommuner = res.files["kommuner"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        kommuner.decode("utf-8")  # æøå written in latin-1, not UTF-8
    text = kommuner.decode("latin-1")
    assert "101;København;1084\n" in text
    assert "\r" not in text
    header = res.files["regnskab"].read_text(encoding="latin-1").splitlines()
    assert header[0] == "KOM;AAR;FUNKTION;BELOEB"
    assert any(re.fullmatch(r"\d+;\d{4};5\.28\.\d\d;-?\d+,\d", line) for line in header[1:50])
    spells = res.files["anbringelser_forloeb"].read_text(encoding="latin-1").splitlines()
    assert spells[0].split(";") == EXTRACTS["anbringelser_forloeb"].names
    fields = [line.split(";") for line in spells[1:]]
    assert all(re.fullmatch(r"\d\d-\d\d-\d{4}", f[5]) for f in fields)
    assert any(f[6] == "" for f in fields)  # ongoing spells: empty end date
    pop = pd.read_csv(res.files["befolkning"], sep=";", encoding="latin-1", dtype=str)
    assert pop["PNR"].str.fullmatch(CPR_PATTERN).all()
    assert pop["PNR"].str.startswith("0").any()  # leading zeros kept
    sb = res.files["sagsbehandlere"].read_text(encoding="latin-1")
    assert re.search(r";0,\d;", sb)  # decimal comma in FTE


def test_files_and_manifest(tiny):
    assert set(tiny.files) == set(EXTRACTS)
    for name, path in tiny.files.items():
        assert path.name == f"{name}.parquet" and path.exists()
    manifest = json.loads((tiny.out_dir / "manifest.json").read_text())
    assert manifest["synthetic"] is True and manifest["generator"] == "evaluation.steps.simulate"
    assert (manifest["scale"], manifest["seed"], manifest["format"]) == ("tiny", SEED, "parquet")
    assert manifest["files"] == {k: f"{k}.parquet" for k in EXTRACTS}
    assert (manifest["first_year"], manifest["last_year"]) == (2010, 2023)


@pytest.mark.parametrize("name", list(EXTRACTS))
def test_extract_follows_contract(tables, name):
    extract, table = EXTRACTS[name], tables[name]
    assert table.column_names == extract.names
    assert table.num_rows > 0
    df = table.to_pandas()
    for col in extract.columns:
        arrow_type = str(table.schema.field(col.name).type)
        values = df[col.name]
        if not col.nullable:
            assert values.notna().all(), col.name
        present = values.dropna()
        if col.dtype == "date":
            assert arrow_type == "date32[day]", col.name
        elif col.dtype in ("int",) or (col.dtype == "code" and not isinstance(next(iter(col.codes)), str)):
            assert arrow_type == "int64", col.name
        elif col.dtype == "float":
            assert arrow_type == "double", col.name
        else:
            assert arrow_type == "string", col.name
        if col.codes is not None:
            assert set(present.unique()) <= set(col.codes), col.name
        if col.minimum is not None:
            assert present.min() >= col.minimum, col.name
        if col.maximum is not None:
            assert present.max() <= col.maximum, col.name
        if col.identifier == "person":
            assert present.str.fullmatch(CPR_PATTERN).all(), col.name
    if extract.key:
        assert not df.duplicated(list(extract.key)).any(), name


def test_person_numbers_unique_and_children_match_birth_dates(tables):
    pop = tables["befolkning"].to_pandas()
    first = pop.drop_duplicates("PNR")
    ddmmyy = pd.to_datetime(first["FOED_DAG"]).dt.strftime("%d%m%y")
    assert (first["PNR"].str[:6] == ddmmyy).all()
    children = set(first["PNR"])
    parents = set(tables["foraeldre"].column("PNR").to_pylist())
    workers = set(tables["sagsbehandlere"].column("SAGSBEHANDLER_ID").to_pylist())
    assert not children & parents and not children & workers and not parents & workers
    # A child is in befolkning exactly in the years it is 0-17 on 1 January.
    age = pop["AAR"] - pd.to_datetime(pop["FOED_DAG"]).dt.year - 1
    assert age.between(0, 17).all()


def test_parents_have_rows_in_every_year_of_their_children(tables):
    pop = tables["befolkning"].to_pandas()
    par = tables["foraeldre"].to_pandas()
    need = (
        pd.concat(
            [
                pop[["AAR", "MOR_ID"]].rename(columns={"MOR_ID": "PNR"}),
                pop[["AAR", "FAR_ID"]].rename(columns={"FAR_ID": "PNR"}),
            ]
        )
        .dropna()
        .drop_duplicates()
    )
    merged = need.merge(par[["AAR", "PNR"]], how="left", indicator=True)
    assert (merged["_merge"] == "both").all()


def _open_years(tables):
    nt = tables["underretninger"].to_pandas()
    parts = [pd.DataFrame({"PNR": nt["PNR"], "AAR": pd.to_datetime(nt["DATO"]).dt.year})]
    for name in ("forebyggende", "anbringelser_forloeb"):
        sp = tables[name].to_pandas()
        start = pd.to_datetime(sp["STARTDATO"]).dt.year
        end = pd.to_datetime(sp["SLUTDATO"]).dt.year.fillna(2023).astype(int)
        n = (end - start + 1).to_numpy()
        parts.append(
            pd.DataFrame(
                {
                    "PNR": np.repeat(sp["PNR"].to_numpy(), n),
                    "AAR": np.repeat(start.to_numpy(), n) + np.concatenate([np.arange(k) for k in n]),
                }
            )
        )
    return pd.concat(parts).drop_duplicates()


def test_no_record_outside_the_population_years(tables):
    pop = tables["befolkning"].to_pandas()[["PNR", "AAR"]]
    years = _open_years(tables)
    in_window = years[years["AAR"].between(2010, 2023)]
    merged = in_window.merge(pop, how="left", indicator=True)
    assert (merged["_merge"] == "both").all()
    # Spells end before the 18th birthday; notifications are of children aged 0-17.
    births = pop.merge(tables["befolkning"].to_pandas()[["PNR", "FOED_DAG"]].drop_duplicates(), on="PNR")
    birth = births.drop_duplicates("PNR").set_index("PNR")["FOED_DAG"]
    for name, col in (("anbringelser_forloeb", "SLUTDATO"), ("forebyggende", "SLUTDATO"), ("underretninger", "DATO")):
        df = tables[name].to_pandas().dropna(subset=[col])
        b = pd.to_datetime(df["PNR"].map(birth))
        assert (pd.to_datetime(df[col]) < b + pd.DateOffset(years=18)).all(), name


def test_case_open_rule_reproduces_the_internal_state():
    """(b): records of a child-year exist iff the simulated case is open; (a): the reform does not change it."""
    from evaluation.steps.simulate.cases import ON, simulate_states
    from evaluation.steps.simulate.population import build_municipality
    from evaluation.steps.simulate.rng import stream
    from evaluation.steps.simulate.services import (
        birthday18,
        notification_records,
        placement_records,
        preventive_records,
    )

    cfg = resolve_config(None)
    m = cfg["synthetic"]["model"]
    years = np.arange(2004, 2025)
    mun = build_municipality(657, 4000.0, (1986, 2022), 0.3, m, 2010, SEED)
    low = mun.low_education[mun.family]
    on = simulate_states(mun, years, low, 2013, cfg, SEED)
    never = simulate_states(mun, years, low, None, cfg, SEED)
    assert np.array_equal(on.case, never.case)
    assert not np.array_equal(on.placed[ON], never.placed[ON])  # the reform does change placements
    b18 = birthday18(mun.birth_date)
    rng = stream(SEED, "test")
    spells, _ = placement_records(on, ON, b18, (2010, 2023), rng)
    prev = preventive_records(on, ON, b18, (2010, 2023), rng)
    notes = notification_records(on, b18, (2010, 2023), 0.4, 0.7, rng)
    found = np.zeros_like(on.case)
    y0 = years[0]
    found[notes["child"], notes["year"] - y0] = True
    for sp in (spells, prev):
        s = sp["start"].astype("datetime64[Y]").astype(int) + 1970
        e = np.where(np.isnat(sp["end"]), 2023, sp["end"].astype("datetime64[Y]").astype(int) + 1970)
        for c, a, b in zip(sp["child"], s, e, strict=True):
            found[c, max(a, y0) - y0 : b - y0 + 1] = True
    window = (years >= 2010) & (years <= 2023)
    assert np.array_equal(found[:, window], on.case[:, window])


def test_calibration_within_tolerance(tiny):
    cal = tiny.calibration.set_index("quantity")
    assert list(tiny.calibration.columns) == ["quantity", "target", "achieved", "unit", "source"]
    rel = {
        "children_0_17_per_year": 0.03,
        "notified_children_2018": 0.15,
        "notified_children_2022": 0.15,
        "notifications_per_notified_child_2018": 0.10,
        "placed_end_2011": 0.25,
        "placed_end_2018": 0.25,
        "placed_end_2023": 0.25,
        "new_placements_2016": 0.30,
        "new_placements_2023": 0.30,
        "preventive_recipients_2017": 0.20,
        "preventive_recipients_2023": 0.20,
        "herning_children_0_17_per_year": 0.10,
    }
    for q, tol in rel.items():
        target, achieved = cal.loc[q, "target"], cal.loc[q, "achieved"]
        assert abs(achieved - target) <= tol * target, (q, target, achieved)
    for q in (
        "share_foster_family_end_2018",
        "share_institution_end_2018",
        "share_opholdssted_end_2018",
        "breakdown_share_per_year",
    ):
        assert abs(cal.loc[q, "achieved"] - cal.loc[q, "target"]) <= 0.08, q
    assert cal.loc["municipalities", "achieved"] == 98


def test_caseload_falls_and_is_lower_under_the_model(tables):
    w = tables["sagsbehandlere"].to_pandas()
    w["year"] = pd.to_datetime(w["MAANED"]).dt.year
    big = w[w["KOM"] == 101]  # København never adopts; large enough for whole caseworkers at tiny scale
    load = big.groupby("year")["AKTIVE_SAGER"].mean()
    assert 35 <= load[2014] <= 52 and load[2023] < load[2014]
    herning = w[w["KOM"] == 657].groupby("year")["AKTIVE_SAGER"].sum() / w[w["KOM"] == 657].groupby("year").size()
    assert herning[2020] < load[2020]


@pytest.mark.parametrize("cases", [3.0, 12.0, 50.0, 130.0, 900.0])
def test_cases_per_worked_fte_follow_the_target_plus_the_mix_shift_at_every_size(cases):
    """One caseworker for three cases or twenty for 900: cases per worked FTE are the target plus the
    contract mix's shift, so the reform lowers them by its share of the target everywhere, while the
    head count moves in whole steps (or not at all)."""
    from evaluation.steps.simulate.casework import FTE_VALUES, MIX_CASES, workforce

    years = 6
    target = np.full(years, 40.0)
    reformed = target * np.r_[np.ones(3), np.full(3, 0.55)]
    net = {}
    for name, caseload in (("off", target), ("on", reformed)):
        w = workforce(np.full(years, cases), caseload, np.full(years, 0.0), 2014, np.random.default_rng(7))
        heads = np.bincount(w["month"])
        contract = np.bincount(w["month"], weights=w["worker_fte"][w["worker"]])
        worked = np.bincount(w["month"], weights=w["fte"])
        assert np.array_equal(heads, np.repeat(np.maximum(1, np.round(cases / caseload)), 12))
        shift = MIX_CASES * (heads / contract - 1)
        assert np.all(shift >= 0) and np.all(shift <= MIX_CASES * (1 / FTE_VALUES.min() - 1) + 1e-9)
        # worked FTE: the cases' need at target + shift, shared by contract, three decimals per worker
        assert np.allclose(worked, cases / (np.repeat(caseload, 12) + shift), atol=0.0005 * heads)
        net[name] = cases / worked - shift
    assert np.allclose(net["off"], 40.0, rtol=0.01)
    assert np.allclose(net["on"][36:], 0.55 * 40.0, rtol=0.01)


def test_worked_fte_stays_within_the_contract_range_when_targets_are_high():
    """Caseload points ten times today's (400) with 998 cases: of two caseworkers, a full-timer beside one
    on 0.6 would work more than 1.5 FTE (1.52 without the limit in these draws); the worked FTE stops at
    the contract's maximum instead of failing validation."""
    from evaluation.steps.simulate.casework import MAX_WORKED_FTE, workforce

    hit = False
    for seed in range(20):
        w = workforce(np.full(4, 998.0), np.full(4, 400.0), np.full(4, 0.02), 2014, np.random.default_rng(seed))
        assert w["fte"].min() >= 0.001 and w["fte"].max() <= MAX_WORKED_FTE
        hit = hit or w["fte"].max() == MAX_WORKED_FTE
    assert hit


def test_truth_has_finite_values_with_planted_signs(tiny):
    truth = json.loads((tiny.out_dir / "truth.json").read_text())
    assert truth == json.loads(json.dumps(tiny.truth))
    signs = {
        "att_sdq": -1,
        "att_school_absence": -1,
        "att_cost_per_child": -1,
        "att_placement_rate": -1,
        "network_foster_share_change": 1,
        "breakdown_rate_change": -1,
        "caseload_change": -1,
    }
    for key, sign in signs.items():
        entry = truth[key]
        assert set(entry) == {"value", "definition", "n"}
        assert math.isfinite(entry["value"]) and entry["n"] > 0
        assert np.sign(entry["value"]) == sign, key
    effects = default_config()["synthetic"]["effects"]
    assert abs(truth["att_sdq"]["value"] - effects["sdq_change"]) < 0.15  # rounding and clipping only
    assert abs(truth["att_school_absence"]["value"] - effects["absence_change"]) < 0.15
    assert truth["adoptions"]["657"] == 2013 and "naive_bias" in truth["notes"]


def test_naive_comparison_is_biased_and_did_detects_the_effect(tables, tiny):
    """The design's central point: confounding biases the naive comparison upwards; a DiD recovers the effect."""
    statsmodels = pytest.importorskip("statsmodels.formula.api")
    from linearmodels.panel import PanelOLS

    pop = tables["befolkning"].to_pandas()
    sdq = tables["udfald"].to_pandas().query("MAAL == 'SDQ'").merge(pop[["AAR", "PNR", "KOM"]], on=["AAR", "PNR"])
    adoption = tiny.truth["adoptions"]
    sdq["first"] = sdq["KOM"].astype(str).map(adoption)
    sdq["D"] = (sdq["AAR"] >= sdq["first"]).fillna(False).astype(int)
    post = sdq[(sdq["AAR"] >= 2013) & ((sdq["D"] == 1) | sdq["first"].isna())]
    fit = statsmodels.ols("VAERDI ~ D", post).fit(cov_type="cluster", cov_kwds={"groups": post["KOM"]})
    truth = tiny.truth["att_sdq"]["value"]
    assert fit.params["D"] - truth > 3 * fit.bse["D"]
    panel = sdq[sdq.groupby("PNR")["PNR"].transform("size") > 1].set_index(["PNR", "AAR"])
    did = PanelOLS(panel["VAERDI"], panel[["D"]], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", clusters=panel["KOM"]
    )
    assert did.std_errors["D"] < abs(truth) / 2
    assert abs(did.params["D"] - truth) < 3 * did.std_errors["D"] + 0.3


def test_unknown_scale_and_format_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="demo, national, tiny"):
        simulate(tmp_path, scale="huge", progress=None)
    with pytest.raises(ConfigError, match="parquet"):
        simulate(tmp_path, scale="tiny", fmt="xlsx", progress=None)


def test_config_merge_accepts_string_codes_and_keeps_defaults():
    cfg = resolve_config({"treatment": {"adoptions": {"657": 2013}}, "synthetic": {"effects": {"sdq_change": -2.0}}})
    assert cfg["treatment"]["adoptions"] == {657: 2013}
    assert cfg["synthetic"]["effects"]["sdq_change"] == -2.0
    assert cfg["synthetic"]["effects"]["absence_change"] == default_config()["synthetic"]["effects"]["absence_change"]
    with pytest.raises(ConfigError):
        resolve_config({"treatment": {"adoptions": {"Herning": "soon"}}})
