"""Shared fixtures: paths of the project, and the one tiny pipeline run that the end-to-end tests share."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workspace import finish_run, make_workspace, start_run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def config_path() -> Path:
    return ROOT / "config" / "config.yaml"


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """The whole pipeline, rendering and the output guard included, on the tiny synthetic registry.

    Run once per test session in a fresh workspace (what a clone holds of the workflow) and shared by
    ``test_pipeline.py`` and ``test_browser.py``; tests read it and put back anything they plant.
    ``EVALUATION_TINY_RUN=<folder>`` reads a finished run of the same kind instead (a quicker loop while
    working on the reports; CI never sets it).
    """
    reuse = os.environ.get("EVALUATION_TINY_RUN")
    if reuse:
        return Path(reuse)
    workdir = make_workspace(tmp_path_factory.mktemp("study"))
    finish_run(start_run(workdir, 2))
    return workdir
