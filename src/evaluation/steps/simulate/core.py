"""The entry point :func:`simulate`: run the generator and write the registry."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from evaluation import __version__
from evaluation.contract import EXTRACTS
from evaluation.errors import ConfigError
from evaluation.steps.simulate.assemble import assemble_each
from evaluation.steps.simulate.calibration import calibration_table, parameters_note, render_calibration
from evaluation.steps.simulate.settings import resolve_config
from evaluation.steps.simulate.truth import build_truth
from evaluation.steps.simulate.world import simulate_world
from evaluation.steps.simulate.writer import write_csv, write_json, write_parquet

FORMATS = ("parquet", "csv")
#: The extracts whose row counts the log reports.
COUNTED = ("underretninger", "forebyggende", "anbringelser_forloeb", "sagshaendelser", "sagsbehandlere", "udfald")


@dataclass(frozen=True)
class SimulationResult:
    """What :func:`simulate` wrote.

    Attributes
    ----------
    out_dir
        The output folder.
    files
        Extract name to file path.
    truth
        The content of ``truth.json``.
    calibration
        The calibration table (``quantity, target, achieved, unit, source``).
    """

    out_dir: Path
    files: dict[str, Path]
    truth: dict[str, Any]
    calibration: pd.DataFrame


def load_municipalities() -> pd.DataFrame:
    """Return the packaged municipality table (``KOM, KOMNAVN, REGION, INDBYGGERE``), sorted by code."""
    text = resources.files("evaluation.data").joinpath("municipalities.csv").open(encoding="utf-8")
    with text as fh:
        df = pd.read_csv(fh, dtype={"KOM": "int64", "REGION": "int64", "INDBYGGERE": "int64", "KOMNAVN": "str"})
    return df.sort_values("KOM").reset_index(drop=True)


def simulate(
    out_dir: str | Path,
    *,
    scale: str = "demo",
    seed: int = 20130101,
    fmt: str = "parquet",
    config: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = print,
    workers: int = 1,
) -> SimulationResult:
    """Simulate the synthetic national registry and write it as extracts.

    Parameters
    ----------
    out_dir
        Folder to write into (created if needed).
    scale
        ``tiny``, ``demo`` or ``national`` (keys of ``synthetic.population_share``).
    seed
        Root seed: the same arguments give byte-identical files.
    fmt
        ``parquet`` or ``csv`` (registry style: ``;``, decimal comma, latin-1, ``DD-MM-YYYY``).
    config
        The parsed ``config/config.yaml``; merged over :func:`evaluation.steps.simulate.default_config`.
    progress
        Called with a message at each stage; None for silence.
    workers
        1, or 2 to simulate about half of the municipalities in a second process and to write each
        extract in a thread while the next is built (the same bytes).

    Returns
    -------
    SimulationResult
        Paths, truth and calibration.

    Raises
    ------
    ConfigError
        For an unknown scale or format or a bad adoption table.
    """
    say = progress or (lambda _msg: None)
    cfg = resolve_config(config)
    syn = cfg["synthetic"]
    shares = syn["population_share"]
    if scale not in shares:
        raise ConfigError(f"unknown synthetic scale {scale!r}; use one of {', '.join(sorted(shares))}.")
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}.")
    first_year, last_year = int(syn["first_year"]), int(syn["last_year"])
    if first_year > last_year:
        raise ConfigError(f"synthetic.first_year {first_year} is after synthetic.last_year {last_year}.")
    munis = load_municipalities()
    unknown = sorted(set(cfg["treatment"]["adoptions"]) - set(munis["KOM"]))
    if unknown:
        raise ConfigError(f"config treatment.adoptions: {unknown} are not municipality codes; see kommuner.")
    share = float(shares[scale])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    say(f"simulate: scale {scale} (population share {share}), seed {seed}, years {first_year}-{last_year}")
    world = simulate_world(cfg, munis, share, int(seed), say, workers=workers)
    n_years = last_year - first_year + 1
    say(
        f"population: {len(world.table('population')['year']) // n_years:,} children a year x {n_years} years "
        f"({world.n_children:,} children simulated, burn-in included)"
    )
    written: dict[str, Path] = {}
    write = write_parquet if fmt == "parquet" else write_csv
    # With two workers each extract is written in a thread while the next is built (Arrow's writer leaves
    # Python's lock); at most one extract waits to be written, so memory grows by one extract at most.
    with ThreadPoolExecutor(max_workers=1) if workers > 1 else nullcontext() as pool:
        pending: Future | None = None
        for name, table in assemble_each(world, munis, cfg, int(seed)):  # each extract written and freed in turn
            if name in COUNTED:
                say(f"{name}: {table.num_rows:,} rows")
            path = out / f"{EXTRACTS[name].name}.{'parquet' if fmt == 'parquet' else 'csv'}"
            if pool is None:
                write(table, path)
            else:
                if pending is not None:
                    pending.result()
                pending = pool.submit(write, table, path)
            written[name] = path
            del table
        if pending is not None:
            pending.result()
    files = {name: written[name] for name in EXTRACTS}
    say(f"wrote {len(files)} extracts as {fmt} to {out}")
    truth = build_truth(world.tally, cfg, interim=world.interim_tally)
    truth["notes"]["calibration_assumptions"] = parameters_note(cfg)
    write_json(truth, out / "truth.json")
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))  # the rounded values, as written
    calib = calibration_table(
        {
            k: world.table(k)
            for k in (
                "population",
                "children",
                "notifications",
                "placements",
                "placement_events",
                "preventive",
                "worker_months",
            )
        },
        share,
        range(first_year, last_year + 1),
    )
    calib.to_csv(out / "calibration.csv", index=False, lineterminator="\n", float_format="%.4f")
    manifest = {
        "synthetic": True,
        "generator": "evaluation.steps.simulate",
        "version": __version__,
        "scale": scale,
        "seed": int(seed),
        "format": fmt,
        "first_year": first_year,
        "last_year": last_year,
        "files": {k: v.name for k, v in files.items()},
    }
    write_json(manifest, out / "manifest.json")
    say("calibration (targets scaled to the simulated population):\n" + render_calibration(calib))
    say(
        "truth: "
        + ", ".join(f"{k} = {v['value']:.3f}" for k, v in truth.items() if isinstance(v, dict) and "value" in v)
    )
    say(f"simulate: done in {time.perf_counter() - t0:.1f} s")
    return SimulationResult(out_dir=out, files=files, truth=truth, calibration=calib)
