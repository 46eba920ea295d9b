"""The command line: exit codes and messages, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from evaluation.cli import main

EVALUATION = str(Path(sys.executable).with_name("evaluation"))


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("registry")
    assert main(["simulate", "--scale", "tiny", "--out", str(out), "--format", "csv", "--seed", "7"]) == 0
    return out


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([EVALUATION, *args], capture_output=True, text=True, timeout=600)


def test_simulate_writes_every_extract_and_the_truth(registry):
    from evaluation.contract import EXTRACTS

    for name in EXTRACTS:
        assert (registry / f"{name}.csv").is_file(), name
    assert (registry / "truth.json").is_file()
    assert (registry / "manifest.json").is_file()


def test_validate_accepts_a_valid_registry(registry):
    proc = _run("validate", str(registry))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_validate_rejects_a_broken_extract_with_file_row_column(registry, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in registry.iterdir():
        (broken / path.name).write_bytes(path.read_bytes())
    frame = pd.read_csv(broken / "befolkning.csv", sep=";", dtype=str, encoding="latin-1", keep_default_na=False)
    frame.loc[2, "KOEN"] = "7"
    frame.to_csv(broken / "befolkning.csv", sep=";", index=False, encoding="latin-1")
    # the default quarantines one row of thousands, within the budget: the pipeline would run
    proc = _run("validate", str(broken))
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "the pipeline would run and set 1 row(s) aside" in output
    assert "befolkning" in output and "KOEN" in output and "'7'" in output
    assert "row 3" in output  # the third data row
    assert "Traceback" not in output
    # with data.on_invalid_row: stop the same row stops the pipeline
    study = tmp_path / "stop.yaml"
    study.write_text("data:\n  on_invalid_row: stop\n", encoding="utf-8")
    proc = _run("validate", str(broken), "--config", str(study))
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "the pipeline would STOP" in output and "data.on_invalid_row is stop" in output
    assert "Traceback" not in output


def test_validate_of_a_missing_folder_is_a_message_not_a_traceback(tmp_path):
    proc = _run("validate", str(tmp_path / "nowhere"))
    assert proc.returncode == 1
    assert "nowhere" in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr + proc.stdout


def test_unknown_scale_is_refused_by_the_parser():
    proc = _run("simulate", "--scale", "huge", "--out", "x")
    assert proc.returncode == 2
    assert "invalid choice: 'huge'" in proc.stderr


def test_check_config(config_path, tmp_path):
    assert _run("check-config", str(config_path)).returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("matching:\n  caliper: -1\n", encoding="utf-8")
    proc = _run("check-config", str(bad))
    assert proc.returncode == 1
    assert "matching.caliper = -1" in proc.stderr
    assert "Traceback" not in proc.stderr
