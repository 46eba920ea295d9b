"""The gap figure of a synthetic control: treated gap in black, placebo gaps in grey (ADH 2010 Fig. 4-7)."""

from __future__ import annotations

from pathlib import Path

from evaluation.methods.synth.core import SyntheticControl

__all__ = ["plot_gaps"]


def plot_gaps(
    sc: SyntheticControl,
    path: str | Path,
    *,
    max_pre_rmspe_ratio: float | None = None,
    ylabel: str = "Gap (treated - synthetic)",
    xlabel: str = "",
    dpi: int = 150,
) -> Path:
    """Draw the gap figure and write it as a PNG with fixed metadata (byte-identical reruns).

    Parameters
    ----------
    sc
        A fitted synthetic control (with placebos for the grey lines).
    path
        Output PNG file.
    max_pre_rmspe_ratio
        Leave out placebos whose pre-period RMSPE exceeds this multiple of the treated unit's.
    ylabel, xlabel
        Axis labels (the report passes them in its language).
    dpi
        Resolution.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = sc.gap_data(max_pre_rmspe_ratio=max_pre_rmspe_ratio)
    fig, ax = plt.subplots(figsize=(6.5, 4.0))
    for _, part in data.loc[data["role"] == "placebo"].groupby("unit", sort=True):
        ax.plot(part["time"], part["gap"], color="0.75", linewidth=0.8)
    treated = data.loc[data["role"] == "treated"]
    ax.plot(treated["time"], treated["gap"], color="black", linewidth=2.0)
    ax.axhline(0.0, color="0.3", linestyle=":", linewidth=0.8)
    ax.axvline(sc.treatment_time, color="0.3", linestyle="--", linewidth=0.8)
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi, format="png", metadata={"Software": None})
    plt.close(fig)
    return out
