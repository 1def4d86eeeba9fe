"""Prediction intervals for regression by split conformal prediction on the validation rows.

For a level L (`intervals: 0.9`) the half-width q is the ceil((n + 1) L)-th smallest absolute error
|truth - prediction| of the n validation rows (out-of-fold with `folds:`); a new row's interval is
prediction +- q. When new rows are drawn like the validation rows, the interval holds the true value
at least L of the time, whatever the model: a guarantee about the method, not a hope about the
model (Vovk et al.; Lei et al. 2018). The validation rows also chose the tree count (early
stopping), which makes them a little optimistic; tests/test_decisions.py measures coverage on fresh
rows. Saved in schema.json as `interval`; every path that predicts applies it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from releaseml.common.errors import UserError


@dataclass(frozen=True)
class Interval:
    level: float
    half_width: float
    validation_coverage: float  # the share of validation rows inside their interval
    mean_width: float
    rows: int

    def as_dict(self) -> dict:
        return asdict(self)


def calibrate(truth: np.ndarray, predicted: np.ndarray, level: float) -> Interval:
    errors = np.abs(np.asarray(truth, dtype=float) - np.asarray(predicted, dtype=float))
    n = len(errors)
    rank = math.ceil((n + 1) * level)
    if rank > n:
        raise UserError(
            f"intervals: {level:g} needs at least {math.ceil(level / (1 - level))} validation rows to be calibrated, and there are {n}; "
            "give more data, a larger validation_fraction, or a lower level"
        )
    half_width = float(np.sort(errors)[rank - 1])
    return Interval(level, half_width, float(np.mean(errors <= half_width)), 2 * half_width, n)


def bounds(predicted: np.ndarray, half_width: float) -> np.ndarray:
    """rows x 2: each prediction's lower and upper bound."""
    values = np.asarray(predicted, dtype=float)
    return np.column_stack([values - half_width, values + half_width])
