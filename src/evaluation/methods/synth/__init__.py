"""Synthetic control method for municipality-level outcomes (Abadie, Diamond and Hainmueller 2010).

``synthetic_control`` fits one treated unit with placebo-in-space inference,
``placebo_in_time`` backdates the treatment, ``staggered_synthetic_control`` fits
one synthetic control per adopter and averages them, and ``plot_gaps`` draws
the gap figure with the placebo lines. ``synthetic_did`` is synthetic
difference-in-differences (Arkhangelsky et al. 2021) for a block of treated units.
"""

from evaluation.methods.synth.core import SyntheticControl, synthetic_control
from evaluation.methods.synth.placebo import placebo_in_time
from evaluation.methods.synth.plot import plot_gaps
from evaluation.methods.synth.predictors import PredictorSpec
from evaluation.methods.synth.sdid import SyntheticDiD, synthetic_did
from evaluation.methods.synth.solver import optimise_v, simplex_weights
from evaluation.methods.synth.staggered import StaggeredSynth, staggered_synthetic_control

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
