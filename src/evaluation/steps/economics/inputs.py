"""The economics step's inputs, prepared once per release: the effects' per-municipality sums and the strata.

Every job of the economics step used to read the panel and the matched sample, build the child-year and
staff data sets and fit every effect before it could draw a single replication: the bootstrap parts and
the estimates each repeated that preparation. :func:`evaluation.steps.economics.pipeline.prepare_economics` now
does it once (rule ``prepare_economics``) and keeps what the rest of the step needs, an
:class:`EconomicsInputs`: the per-municipality sufficient statistics of every effect
(:class:`~evaluation.methods.economics.effects.ClusterMoments`), which give the point estimates (every
municipality once) and every bootstrap replication (:func:`~evaluation.methods.economics.resample.cluster_bootstrap`),
the bootstrap strata, and the two facts of the panel the budget and the reconciliation use.

The file (:meth:`EconomicsInputs.write`) is an ``.npz`` archive of float64 and int64 arrays: sums and
counts by municipality and follow-up year, no person-level rows and no identifiers. It stores the arrays
exactly (no rounding), so what is computed from the file equals what is computed from freshly prepared
inputs, bit for bit; the arrays that effects with the same untreated design share are stored once and
shared again when read, so the bootstrap still solves each design once per replication. The archive's
bytes depend only on its arrays (fixed member dates, members in a fixed order), so identical inputs give
identical files.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation.errors import EvaluationError
from evaluation.methods.economics.effects import ClusterMoments, EffectSpec
from evaluation.methods.economics.resample import cluster_bootstrap
from evaluation.steps.economics.settings import economics_settings

__all__ = ["FORMAT_VERSION", "EconomicsInputs"]

#: version of the archive's layout; :meth:`EconomicsInputs.read` refuses another
FORMAT_VERSION = 1

_DESIGN_ARRAYS = ("untreated_weight", "zw", "zwz")  # shared between effects with the same untreated design
_EFFECT_ARRAYS = ("yw", "zwy", "treated_weight", "treated_yw", "treated_zw", "treated_rows")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip member can carry: the bytes do not depend on the time


@dataclass(frozen=True)
class EconomicsInputs:
    """What the economics step needs from the data, prepared once (module docstring).

    Attributes
    ----------
    moments
        Per-municipality sufficient statistics of every effect of
        :func:`evaluation.steps.economics.pipeline.effect_specs`, in that order, over the clusters of ``strata``.
    strata
        1 for adopting, 0 for never-adopting municipalities (index: municipality), the strata of the
        cluster bootstrap.
    years
        The calendar years of the panel, ascending (the reconciliation's years; the last is the budget's).
    last_year_cases
        Child-years with an open case in the panel's last year (the budget's national share of children with
        an open case).
    """

    moments: tuple[ClusterMoments, ...]
    strata: pd.Series
    years: tuple[int, ...]
    last_year_cases: int

    def columns(self) -> list[str]:
        """Return the columns of :meth:`point_estimates` and :meth:`bootstrap`, ``<name>:<outcome>:<statistic>``."""
        return [c for m in self.moments for c in m.columns()]

    def point_estimates(self) -> dict[str, float]:
        """Return every effect of the full sample (each municipality once), by column of :meth:`columns`."""
        ones = np.ones(len(self.strata))
        return {c: float(v) for m in self.moments for c, v in zip(m.columns(), m.estimates(ones), strict=True)}

    def bootstrap(
        self,
        config: Mapping[str, Any],
        *,
        part: tuple[int, int] | None = None,
        progress: Callable[[str], None] = print,
    ) -> pd.DataFrame:
        """Return the effects of the bootstrap replications (all, or replications ``part[0] .. part[1] - 1``).

        Parameters
        ----------
        config
            The study configuration (``economics.bootstrap``: replications and seed).
        part
            ``(start, stop)`` of :func:`evaluation.methods.economics.resample.bootstrap_parts`; None runs all.
        progress
            Called with progress messages.

        Returns
        -------
        pandas.DataFrame
            One row per replication (index ``replication``), one column per :meth:`columns`.
        """
        s = economics_settings(config)
        where = "" if part is None else f", replications {part[0] + 1}-{part[1]}"
        progress(
            f"economics: bootstrap of {s.replications} replications over {len(self.strata)} municipalities "
            f"({int(self.strata.sum())} adopting), seed {s.seed}{where}"
        )
        boot = cluster_bootstrap(
            self.moments, self.strata, replications=s.replications, seed=s.seed, progress=progress, part=part
        )
        return boot.draws

    def write(self, path: Path) -> None:
        """Write the inputs to ``path`` (an ``.npz`` archive; parent folders are created)."""
        arrays: dict[str, np.ndarray] = {
            "strata_index": self.strata.index.to_numpy(),
            "strata": self.strata.to_numpy(),
            "years": np.asarray(self.years, dtype=np.int64),
        }
        owners: list[int] = []  # for each effect, the first effect with the same design arrays
        for i, m in enumerate(self.moments):
            if not m.clusters.equals(self.strata.index):
                raise EvaluationError(f"economics: the sums of {m.columns()[0]!r} are not over the strata's clusters.")
            owner = next(j for j, other in enumerate(self.moments[: i + 1]) if other.zwz is m.zwz)
            owners.append(owner)
            names = (_DESIGN_ARRAYS if owner == i else ()) + _EFFECT_ARRAYS
            arrays |= {f"effect{i}_{name}": np.asarray(getattr(m, name)) for name in names}
        meta = {
            "format_version": FORMAT_VERSION,
            "strata_index_name": self.strata.index.name,
            "strata_name": self.strata.name,
            "last_year_cases": int(self.last_year_cases),
            "effects": [
                {"name": m.spec.name, "data": m.spec.data, "outcome": m.spec.outcome, "horizon": m.spec.horizon}
                for m in self.moments
            ],
            "design_of": owners,
        }
        arrays["meta"] = np.asarray(json.dumps(meta, sort_keys=True))
        for name, values in arrays.items():
            if values.dtype.hasobject:
                raise EvaluationError(f"economics: the prepared {name!r} has no fixed-width type ({values.dtype}).")
        _write_npz(Path(path), arrays)

    @classmethod
    def read(cls, path: Path) -> EconomicsInputs:
        """Read inputs written by :meth:`write`.

        Raises
        ------
        EvaluationError
            When the file is missing or was written in another layout (rerun the rule ``prepare_economics``).
        """
        path = Path(path)
        if not path.is_file():
            raise EvaluationError(f"{path} not found: run the rule prepare_economics first.")
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        meta = json.loads(arrays["meta"].item())
        if meta.get("format_version") != FORMAT_VERSION:
            raise EvaluationError(
                f"{path} holds economics inputs of layout {meta.get('format_version')!r}, this code reads layout "
                f"{FORMAT_VERSION}; rerun the rule prepare_economics."
            )
        clusters = pd.Index(arrays["strata_index"], name=meta["strata_index_name"])
        strata = pd.Series(arrays["strata"], index=clusters, name=meta["strata_name"])
        moments: list[ClusterMoments] = []
        for i, (effect, owner) in enumerate(zip(meta["effects"], meta["design_of"], strict=True)):
            design = (
                {name: arrays[f"effect{i}_{name}"] for name in _DESIGN_ARRAYS}
                if owner == i
                else {name: getattr(moments[owner], name) for name in _DESIGN_ARRAYS}  # the same arrays again
            )
            moments.append(
                ClusterMoments(
                    spec=EffectSpec(**effect),
                    clusters=pd.Index(clusters),
                    **design,
                    **{name: arrays[f"effect{i}_{name}"] for name in _EFFECT_ARRAYS},
                )
            )
        years = tuple(int(y) for y in arrays["years"])
        return cls(tuple(moments), strata, years, int(meta["last_year_cases"]))


def _write_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` as an uncompressed ``.npz`` whose bytes depend only on the arrays (sorted, fixed dates)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            member = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_DATE)
            with archive.open(member, "w", force_zip64=True) as out:
                np.lib.format.write_array(out, np.asarray(arrays[name]), allow_pickle=False)
