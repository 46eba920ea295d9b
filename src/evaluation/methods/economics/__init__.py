"""The economic arithmetic: prices, discounting, staff costs, effects' sums, resampling, net cost, CEAC, budget.

The economics step (:mod:`evaluation.steps.economics`) reads the study's files and calls these.
"""
