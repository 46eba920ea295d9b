"""Measure one estimator call in a fresh process: wall time and peak resident memory.

Every measurement runs in its own Python process (``python bench/measure.py worker ...``), so that no
run inherits caches, allocator state or JIT-compiled code from another. The worker

1. imports the bench module and the implementation's library, loads the benchmark data from disk;
2. runs the implementation once on a small slice of the data (warm-up: lazy imports, formula parsers,
   compiled kernels), so that one-time initialisation is not charged to the timed call;
3. collects garbage, returns freed heap pages to the system (glibc ``malloc_trim``, so that memory the
   warm-up freed is not counted as baseline), resets the kernel's peak-RSS counter
   (``/proc/self/clear_refs``, value 5) and reads the current RSS (``baseline``);
4. times the call with ``time.perf_counter`` and reads the peak RSS of the process during the call
   (``VmHWM`` from ``/proc/self/status``, kept by the kernel: no sampling, C, Rust and numpy
   allocations included, unlike ``tracemalloc``).

Reported per run: ``seconds``, ``peak_mb`` (peak RSS of the whole process during the call: interpreter,
libraries, input data and the call's own allocations) and ``added_mb`` (``peak_mb`` minus ``baseline``:
what the call itself needed at its peak). Where the peak counter cannot be reset, ``peak_mb`` is the
process's lifetime peak (``ru_maxrss``) and ``added_mb`` is left empty. Also ``kernel_s``, the system CPU
time of the call (``getrusage``): mostly the first touches of memory the process has not used before
(page faults and zeroing), whose cost depends on the machine (:func:`first_touch_cost`).

The parent side (:func:`run_bench`) runs a check run of every implementation first, compares its result
with the reference implementation's, and only then the ``repeat`` timed runs; it reports medians.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import importlib
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent
MARKER = "BENCH_MEASUREMENT "


@dataclass(frozen=True)
class Implementation:
    """One implementation of a benchmarked estimator.

    ``run(data, case)`` does the whole estimation and returns a tidy result (a DataFrame) that
    the bench module's ``compare`` can check against the reference; ``requires`` names the module
    that must be importable (None for this project's own code); ``cases`` limits the cases it
    takes part in (None: all); ``env`` holds environment variables set for its measurement
    processes (e.g. ``DIFF_DIFF_BACKEND=python``: a library that picks its backend at import);
    ``why_different`` says why its results can differ from the reference's (one text, or one per
    case), found by reading its source; it is added to the comparison's detail only when they do.
    """

    label: str
    run: Callable[[Any, str], pd.DataFrame]
    requires: str | None = None
    cases: tuple[str, ...] | None = None
    env: dict[str, str] | None = None
    why_different: str | dict[str, str] | None = None

    def reason(self, case: str) -> str | None:
        """The known reason why its results in ``case`` can differ from the reference's, if any."""
        why = self.why_different
        return why.get(case) if isinstance(why, dict) else why


def att_result(att: float, se: float) -> pd.DataFrame:
    """One overall ATT and its standard error as the tidy result of a bench (index ``"ATT"``)."""
    return pd.DataFrame({"estimate": [float(att)], "se": [float(se)]}, index=["ATT"])


def compare_att(ours: pd.DataFrame, theirs: pd.DataFrame, rtol: float) -> tuple[bool, str]:
    """Whether two :func:`att_result` tables agree: ATT and standard error within ``rtol`` relative."""
    d_att = abs(float(theirs.loc["ATT", "estimate"] / ours.loc["ATT", "estimate"]) - 1)
    d_se = abs(float(theirs.loc["ATT", "se"] / ours.loc["ATT", "se"]) - 1)
    detail = f"rel diff ATT {d_att:.1e}, SE {d_se:.1e}"
    return bool(d_att <= rtol and d_se <= rtol), detail


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def _release_free_memory() -> None:
    """Return freed heap pages to the system (glibc ``malloc_trim``), so that the baseline RSS holds live data only."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def worker(bench: str, impl: str, case: str, data_path: Path, out_path: Path | None) -> dict:
    """Run one measurement in this process (see the module docstring) and return it."""
    module = importlib.import_module(bench)
    implementation = module.IMPLEMENTATIONS[impl]
    if implementation.requires:
        importlib.import_module(implementation.requires)
    data = module.load_data(data_path)
    implementation.run(module.warmup_slice(data), case)
    gc.collect()
    _release_free_memory()
    resettable = _reset_peak()
    baseline_kb = _status_kb("VmRSS")
    kernel_before = resource.getrusage(resource.RUSAGE_SELF).ru_stime
    start = time.perf_counter()
    result = implementation.run(data, case)
    seconds = time.perf_counter() - start
    kernel_s = resource.getrusage(resource.RUSAGE_SELF).ru_stime - kernel_before
    peak_kb = _status_kb("VmHWM") if resettable else None
    if peak_kb is None:
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if out_path is not None:
        result.to_parquet(out_path)
    return {
        "seconds": seconds,
        "kernel_s": kernel_s,
        "peak_mb": peak_kb / 1024,
        "added_mb": (peak_kb - baseline_kb) / 1024 if resettable and baseline_kb is not None else None,
    }


def measure_once(
    bench: str,
    impl: str,
    case: str,
    data_path: Path,
    out_path: Path | None,
    timeout: float,
    env: dict[str, str] | None = None,
) -> dict:
    """Run :func:`worker` in a fresh interpreter (``env`` added to its environment); return the measurement or error."""
    arguments = [bench, impl, case, str(data_path)] + ([str(out_path)] if out_path is not None else [])
    return _in_fresh_process(arguments, timeout, env)


def _in_fresh_process(arguments: list[str], timeout: float, env: dict[str, str] | None = None) -> dict:
    """Run ``python measure.py <arguments>``; return the dict it prints after :data:`MARKER`, or ``{"error": ...}``."""
    command = [sys.executable, str(HERE / "measure.py"), *arguments]
    environ = None if not env else os.environ | env
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=HERE, env=environ)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])
    tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
    return {"error": tail[0][:300]}


def _available(requires: str | None) -> bool:
    return requires is None or importlib.util.find_spec(requires) is not None


def run_bench(
    bench: str,
    data_path: Path,
    cases: dict[str, str],
    *,
    repeat: int,
    timeout: float,
    work: Path,
    progress=print,
) -> list[dict]:
    """Check every implementation against the reference, then time it; one row per case and implementation.

    Parameters
    ----------
    bench
        Name of the bench module (``bench_att_gt``, ...). It defines ``IMPLEMENTATIONS`` (the first is the
        reference, this project's), ``load_data``, ``warmup_slice`` and ``compare``, and may define
        ``check_reference(result) -> (equal, detail)``, which checks the reference's own result against
        stored outputs of a third implementation (e.g. R's) where the equal-results check is against those.
    data_path
        The benchmark data, written once by the caller: every implementation reads the same file.
    cases
        Case name -> description.
    repeat
        Timed runs per implementation and case (medians are reported).
    timeout
        Seconds allowed to one run.
    work
        Folder for the results of the check runs.
    """
    module = importlib.import_module(bench)
    reference = next(iter(module.IMPLEMENTATIONS))
    rows = []
    for case, description in cases.items():
        ref_result: pd.DataFrame | None = None
        for name, implementation in module.IMPLEMENTATIONS.items():
            if implementation.cases is not None and case not in implementation.cases:
                continue
            row = {"bench": bench, "case": case, "description": description, "implementation": name}
            row["label"] = implementation.label
            if not _available(implementation.requires):
                rows.append(row | {"status": "not installed"})
                continue
            out = work / f"{bench}-{case}-{name}.parquet"
            progress(f"{bench} / {case} / {name}: check run")
            check = measure_once(bench, name, case, data_path, out, timeout, implementation.env)
            if "error" in check:
                rows.append(row | {"status": f"failed: {check['error']}"})
                continue
            result = pd.read_parquet(out)
            if name == reference:
                ref_result = result
                check_reference = getattr(module, "check_reference", None)
                equal, detail = (True, "reference") if check_reference is None else check_reference(result)
            elif ref_result is None:
                equal, detail = False, "no reference result to compare with"
            else:
                equal, detail = module.compare(ref_result, result)
                if not equal and implementation.reason(case):
                    detail += f". Why: {implementation.reason(case)}"
            runs = []
            for i in range(repeat):
                progress(f"{bench} / {case} / {name}: timed run {i + 1} of {repeat}")
                runs.append(measure_once(bench, name, case, data_path, None, timeout, implementation.env))
            failed = [r["error"] for r in runs if "error" in r]
            if failed:
                rows.append(row | {"status": f"failed: {failed[0]}", "equal": equal, "detail": detail})
                continue
            rows.append(row | {"status": "ok", "equal": equal, "detail": detail, **summarise(runs)})
    return rows


def summarise(runs: list[dict]) -> dict:
    """Medians (and the range of the times) over the timed runs."""
    seconds = [r["seconds"] for r in runs]
    added = [r["added_mb"] for r in runs if r.get("added_mb") is not None]
    return {
        "runs": len(runs),
        "seconds": statistics.median(seconds),
        "seconds_min": min(seconds),
        "seconds_max": max(seconds),
        "kernel_s": statistics.median(r["kernel_s"] for r in runs),
        "peak_mb": statistics.median(r["peak_mb"] for r in runs),
        "added_mb": statistics.median(added) if added else None,
    }


def _touch_seconds(megabytes: int) -> float:
    """Seconds to allocate and write ``megabytes`` of memory (one write per 4 KiB page), then free it."""
    import numpy as np

    start = time.perf_counter()
    block = np.empty(megabytes * 2**20, dtype=np.uint8)
    block[:: 2**12] = 1
    seconds = time.perf_counter() - start
    del block
    _release_free_memory()
    return seconds


def first_touch_cost(megabytes: int = 512) -> dict[str, float]:
    """Milliseconds per MB the first touch of memory costs this process: fresh from the system, then recycled.

    ``fresh``: memory the process has not used before (the kernel faults in and zeroes every page; in a
    virtual machine whose host backs guest memory lazily, or takes back freed guest memory, as a balloon
    with free page reporting does, the host's own fault comes on top). ``recycled``: the same amount again
    right after freeing the first (pages the kernel has just had back). An estimator call whose memory is
    fresh pays about ``fresh`` per MB it adds; the gap between the two is what the machine, not the code,
    adds to such a call. Measured in a fresh process by :func:`main` (``--first-touch``).
    """
    fresh = _touch_seconds(megabytes)
    recycled = _touch_seconds(megabytes)
    return {"fresh": 1e3 * fresh / megabytes, "recycled": 1e3 * recycled / megabytes, "megabytes": megabytes}


def first_touch_text(first_touch: dict[str, float]) -> str:
    """``first_touch_cost``'s two costs in words, as ``results.md`` and ``profile-att-gt.md`` show them."""
    return (
        f"{first_touch['fresh']:.2f} ms per MB of memory new to the process, "
        f"{first_touch['recycled']:.2f} ms per MB of memory just freed"
    )


def measure_first_touch(timeout: float = 120) -> dict[str, float] | None:
    """:func:`first_touch_cost` in a fresh interpreter (None when it fails)."""
    cost = _in_fresh_process(["--first-touch"], timeout)
    return None if "error" in cost else cost


def add_ratios(rows: list[dict]) -> list[dict]:
    """Add ``ratio`` = implementation's median time / the reference's (first implementation) in the same case."""
    reference: dict[tuple[str, str], float] = {}
    for row in rows:
        key = (row["bench"], row["case"])
        if row.get("status") == "ok" and key not in reference:
            reference[key] = row["seconds"]
    for row in rows:
        base = reference.get((row["bench"], row["case"]))
        if row.get("status") == "ok" and base:
            row["ratio"] = row["seconds"] / base
    return rows


def print_rows(rows: list[dict]) -> None:
    """Print bench rows as a markdown table (for running one bench script by hand)."""
    print("| case | implementation | equal results | median s (min-max) | time / ours | peak RSS MB | added MB |")
    print("|---|---|---|---:|---:|---:|---:|")
    for row in add_ratios(rows):
        if row.get("status") != "ok":
            print(f"| {row['case']} | {row['label']} | {row.get('status')} | | | | |")
            continue
        equal = "yes" if row["equal"] else "NO"
        added = "" if row["added_mb"] is None else f"{row['added_mb']:.0f}"
        print(
            f"| {row['case']} | {row['label']} | {equal} ({row['detail']}) | {row['seconds']:.3f} "
            f"({row['seconds_min']:.3f}-{row['seconds_max']:.3f}) | {row.get('ratio', float('nan')):.2f} "
            f"| {row['peak_mb']:.0f} | {added} |"
        )


def main() -> None:
    if sys.argv[1:] == ["--first-touch"]:
        print(MARKER + json.dumps(first_touch_cost()), flush=True)
        return
    parser = argparse.ArgumentParser(description="Worker: one measurement (used by run.py and the bench scripts).")
    parser.add_argument("bench")
    parser.add_argument("impl")
    parser.add_argument("case")
    parser.add_argument("data", type=Path)
    parser.add_argument("out", type=Path, nargs="?")
    args = parser.parse_args()
    try:
        measurement = worker(args.bench, args.impl, args.case, args.data, args.out)
    except Exception as exc:  # noqa: BLE001 - a failing implementation is reported, not fatal
        traceback.print_exc()
        measurement = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    print(MARKER + json.dumps(measurement), flush=True)


if __name__ == "__main__":
    main()
