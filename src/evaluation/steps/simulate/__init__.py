"""The synthetic national registry: children's case histories in the real extract formats, with planted effects.

``simulate(out_dir, scale=..., seed=..., fmt=..., config=...)`` writes one file per
extract of :data:`evaluation.contract.EXTRACTS`, plus ``truth.json`` (the ground truth,
read by no analysis step), ``manifest.json`` and ``calibration.csv``. The model is
documented in ``docs/synthetic-registry.md``.

API page: Synthetic registry (`evaluation.steps.simulate`) and costs (`evaluation.methods.costs`)
-----------------------------------------------------------------------------------
```python
from evaluation.steps.simulate import simulate, default_config
res = simulate(out_dir, scale="demo", seed=20130101, fmt="parquet", config=None, progress=print)
res.files, res.truth, res.calibration

from evaluation.methods.costs import child_year_costs
child_year_costs(spells, prices, years)   # DataFrame person_id, year, cost (DKK per child-year)
```
"""

from evaluation.steps.simulate.core import SimulationResult, simulate
from evaluation.steps.simulate.settings import DEFAULTS, default_config, resolve_config

__all__ = ["DEFAULTS", "SimulationResult", "default_config", "resolve_config", "simulate"]
