"""Children, families and parents of the synthetic registry.

Every municipality gets a stable child population: families are founded at a
constant rate, have one to four children spaced one to five years apart, and stay
in their municipality (nobody moves; see ``docs/synthetic-registry.md``). A child
is in the population (``befolkning``) in the years in which it is aged 0-17 on
1 January, so a child born in year ``b`` is present in years ``b + 1`` to ``b + 18``
(nobody is born on 1 January, which keeps that rule exact).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from evaluation.steps.simulate.rng import stream

#: Children per family and their probabilities.
KIDS_PER_FAMILY = np.array([1, 2, 3, 4])
KIDS_PROBS = np.array([0.30, 0.47, 0.18, 0.05])
#: Education levels above basic schooling (HFAUDD_NIV) and their shares among other parents.
OTHER_EDUCATION = np.array([20, 30, 40, 50, 60])
OTHER_EDUCATION_PROBS = np.array([0.12, 0.35, 0.07, 0.29, 0.17])
#: Median income in first_year (DKK) by education level.
BASE_INCOME = {10: 215_000.0, 20: 270_000.0, 30: 320_000.0, 40: 370_000.0, 50: 390_000.0, 60: 530_000.0}
MAX_GAP = 5


@dataclass
class Municipality:
    """One municipality's population, with local (0-based) indices.

    Attributes
    ----------
    kom
        Municipality code.
    birth_date
        Children's dates of birth (``datetime64[D]``).
    sex, origin
        Children's sex (1/2) and origin (1-3) codes.
    family
        Local family index of each child.
    child_effect
        Time-constant part of each child's latent risk (SD units).
    low_education
        Per family: the parents have basic schooling only (HFAUDD level 10).
    immigrant
        Per family: immigrant family.
    mother_birth, father_birth
        Per family: parents' dates of birth (father's is NaT when unknown).
    mother_education, father_education
        Per family: education level codes (father's 0 when unknown).
    mother_income, father_income
        Per family: income in ``first_year`` (DKK).
    """

    kom: int
    birth_date: np.ndarray
    sex: np.ndarray
    origin: np.ndarray
    family: np.ndarray
    child_effect: np.ndarray
    low_education: np.ndarray
    immigrant: np.ndarray
    mother_birth: np.ndarray
    father_birth: np.ndarray
    mother_education: np.ndarray
    father_education: np.ndarray
    mother_income: np.ndarray
    father_income: np.ndarray

    @property
    def n_children(self) -> int:
        """Number of children."""
        return len(self.birth_date)

    @property
    def birth_year(self) -> np.ndarray:
        """Children's years of birth."""
        return self.birth_date.astype("datetime64[Y]").astype(np.int64) + 1970


def random_dates(rng: np.random.Generator, years: np.ndarray, *, avoid_jan1: bool = False) -> np.ndarray:
    """Draw one uniform date in each of ``years``.

    Parameters
    ----------
    rng
        Random generator.
    years
        Calendar years (ints).
    avoid_jan1
        Never draw 1 January (children are then a whole number of years old on every 1 January).

    Returns
    -------
    numpy.ndarray
        ``datetime64[D]`` dates.
    """
    years = np.asarray(years, dtype=np.int64)
    start = (years - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    n_days = ((years + 1 - 1970).astype("datetime64[Y]").astype("datetime64[D]") - start).astype(np.int64)
    low = 1 if avoid_jan1 else 0
    offset = low + np.floor(rng.random(len(years)) * (n_days - low)).astype(np.int64)
    return start + offset


def children_per_year(inhabitants: int, kom: int, model: Mapping[str, Any], share: float) -> float:
    """Return the expected number of children aged 0-17 in a municipality in a year.

    Parameters
    ----------
    inhabitants
        Inhabitants (2022).
    kom
        Municipality code (for municipality-specific child shares).
    model
        ``synthetic.model`` parameters.
    share
        Population share of the scale.

    Returns
    -------
    float
        Children aged 0-17.
    """
    child_share = model["child_share_overrides"].get(kom, model["child_share"])
    return inhabitants * child_share * share


def build_municipality(
    kom: int,
    n_children_year: float,
    birth_years: tuple[int, int],
    low_education_share: float,
    model: Mapping[str, Any],
    first_year: int,
    seed: int,
) -> Municipality:
    """Simulate the families and children of one municipality.

    Parameters
    ----------
    kom
        Municipality code.
    n_children_year
        Expected children aged 0-17 in a year.
    birth_years
        First and last birth year of children to keep.
    low_education_share
        Share of families whose parents have basic schooling only.
    model
        ``synthetic.model`` parameters.
    first_year
        First year of the data (incomes are for this year).
    seed
        Root seed of the run.

    Returns
    -------
    Municipality
        The municipality's children and families.
    """
    rng = stream(seed, "population", kom)
    b_min, b_max = birth_years
    span = (b_max - b_min + 1) + 3 * MAX_GAP
    mean_kids = float(KIDS_PER_FAMILY @ KIDS_PROBS)
    n_fam = int(rng.poisson(n_children_year / 18.0 * span / mean_kids))
    first_birth = rng.integers(b_min - 3 * MAX_GAP, b_max + 1, n_fam)
    kids = rng.choice(KIDS_PER_FAMILY, n_fam, p=KIDS_PROBS)
    gaps = rng.integers(1, MAX_GAP + 1, (n_fam, KIDS_PER_FAMILY.max() - 1))
    offsets = np.concatenate([np.zeros((n_fam, 1), dtype=np.int64), np.cumsum(gaps, axis=1)], axis=1)
    child_years = first_birth[:, None] + offsets
    exists = (
        (np.arange(KIDS_PER_FAMILY.max())[None, :] < kids[:, None]) & (child_years >= b_min) & (child_years <= b_max)
    )
    fam_idx, _ = np.nonzero(exists)
    keep_fam, family = np.unique(fam_idx, return_inverse=True)
    years = child_years[exists]
    n_f, n_c = len(keep_fam), len(years)

    low = rng.random(n_f) < low_education_share
    immigrant = rng.random(n_f) < model["immigrant_family_share"]
    has_father = rng.random(n_f) < model["father_known_share"]
    mother_age = np.clip(np.round(rng.normal(29.0, 4.5, n_f)), 17, 44).astype(np.int64)
    mother_year = first_birth[keep_fam] - mother_age
    father_year = mother_year - np.clip(np.round(rng.normal(2.5, 3.5, n_f)), -8, 15).astype(np.int64)
    mother_birth = random_dates(rng, mother_year)
    father_birth = np.where(has_father, random_dates(rng, father_year), np.datetime64("NaT"))
    mother_edu = np.where(low, 10, rng.choice(OTHER_EDUCATION, n_f, p=OTHER_EDUCATION_PROBS))
    father_edu = np.where(has_father, np.where(low, 10, rng.choice(OTHER_EDUCATION, n_f, p=OTHER_EDUCATION_PROBS)), 0)
    base = np.vectorize(lambda lv: BASE_INCOME.get(int(lv), 0.0), otypes=[float])
    mother_income = base(mother_edu) * 0.9 * np.exp(rng.normal(0.0, 0.35, n_f))
    father_income = np.where(has_father, base(father_edu) * 1.1 * np.exp(rng.normal(0.0, 0.35, n_f)), 0.0)

    family_effect = rng.normal(0.0, 1.0, n_f)
    child_effect = np.sqrt(0.5) * family_effect[family] + np.sqrt(0.5) * rng.normal(0.0, 1.0, n_c)
    sex = np.where(rng.random(n_c) < model["boys_share"], 1, 2).astype(np.int64)
    origin = np.where(immigrant[family], np.where(rng.random(n_c) < 0.75, 3, 2), 1).astype(np.int64)
    birth_date = random_dates(rng, years, avoid_jan1=True)
    order = np.lexsort((family, birth_date))
    return Municipality(
        kom=kom,
        birth_date=birth_date[order],
        sex=sex[order],
        origin=origin[order],
        family=family[order],
        child_effect=child_effect[order],
        low_education=low,
        immigrant=immigrant,
        mother_birth=mother_birth,
        father_birth=father_birth,
        mother_education=mother_edu.astype(np.int64),
        father_education=father_edu.astype(np.int64),
        mother_income=mother_income,
        father_income=father_income,
    )
