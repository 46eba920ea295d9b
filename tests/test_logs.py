"""Pipeline step logs: messages to the log file and the thread pools held to the rule's threads."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from evaluation.errors import EvaluationError
from evaluation.logs import RESOURCES, step_log


def _pool_sizes() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info()]


def test_step_log_writes_progress_and_errors(tmp_path):
    log = tmp_path / "logs" / "step.log"
    with pytest.raises(EvaluationError, match="broken"), step_log(log, "demo") as progress:
        progress("read 3 rows")
        raise EvaluationError("broken input")
    assert log.read_text(encoding="utf-8").splitlines() == ["[demo] read 3 rows", "[demo] ERROR: broken input"]


def test_a_finished_step_ends_its_log_with_what_it_used(tmp_path):
    log = tmp_path / "step.log"
    with step_log(log, "demo") as progress:
        block = np.ones(40 * 2**20)  # 320 MB, touched
        progress(f"made {block.size:,} ones")
        del block
    last = log.read_text(encoding="utf-8").splitlines()[-1]
    assert last.startswith("[demo] resources: ")
    used = RESOURCES.search(last)
    assert used is not None
    assert float(used["seconds"]) <= float(used["cpu"]) + 1.0
    assert int(used["mb"].replace(",", "")) >= 320


def test_step_log_holds_linear_algebra_pools_to_the_rule_threads(tmp_path):
    before = _pool_sizes()
    assert before, "numpy's BLAS pool should be visible to threadpoolctl"
    with step_log(tmp_path / "a.log", "a"):
        assert set(_pool_sizes()) == {1}
    with step_log(tmp_path / "b.log", "b", threads=2):
        assert max(_pool_sizes()) <= 2
    assert _pool_sizes() == before
