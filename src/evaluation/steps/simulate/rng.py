"""Named, independent random streams derived from the run's seed.

Each part of the generator draws from its own stream, keyed by a name and, where
the work is split by municipality, the municipality code. Results therefore do not
depend on the order in which parts run or on how the work is chunked.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, name: str, *keys: int) -> np.random.Generator:
    """Return the generator of stream ``name`` (and ``keys``) for run ``seed``.

    Parameters
    ----------
    seed
        Root seed of the run.
    name
        Name of the stream (e.g. ``"population"``).
    *keys
        Further integer keys, such as a municipality code.

    Returns
    -------
    numpy.random.Generator
        A PCG64 generator seeded from ``(seed, crc32(name), *keys)``.
    """
    entropy = [int(seed), zlib.crc32(name.encode("ascii")), *(int(k) for k in keys)]
    return np.random.default_rng(np.random.SeedSequence(entropy))
