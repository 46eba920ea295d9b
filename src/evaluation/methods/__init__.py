"""The methods: estimators, their inference, and the economic arithmetic.

Pure functions and result objects: every setting is an argument and every input a frame or an array, so a
method reads no file and no config (``tests/test_layers.py`` checks the imports). The steps
(:mod:`evaluation.steps`) call them; the report (:mod:`evaluation.report`) never does.
"""
