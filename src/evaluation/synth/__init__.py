"""Synthetic control method for municipality-level outcomes (Abadie, Diamond and Hainmueller 2010).

``synthetic_control`` fits one treated unit with placebo-in-space inference,
``placebo_in_time`` backdates the treatment, ``staggered_synthetic_control`` fits
one synthetic control per adopter and averages them, and ``plot_gaps`` draws
the gap figure with the placebo lines. ``synthetic_did`` is synthetic
difference-in-differences (Arkhangelsky et al. 2021) for a block of treated units.
"""

from evaluation.synth.core import SyntheticControl, synthetic_control
from evaluation.synth.placebo import placebo_in_time
from evaluation.synth.plot import plot_gaps
from evaluation.synth.predictors import PredictorSpec
from evaluation.synth.sdid import SyntheticDiD, synthetic_did
from evaluation.synth.solver import optimise_v, simplex_weights
from evaluation.synth.staggered import StaggeredSynth, staggered_synthetic_control

__all__ = [
    "PredictorSpec",
    "StaggeredSynth",
    "SyntheticControl",
    "SyntheticDiD",
    "optimise_v",
    "placebo_in_time",
    "plot_gaps",
    "simplex_weights",
    "staggered_synthetic_control",
    "synthetic_control",
    "synthetic_did",
]
