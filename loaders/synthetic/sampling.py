"""Random draws shaped like a marketplace: heavy tails, popularity, times within its life."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from loaders.synthetic.keys import Ints

Floats = npt.NDArray[np.float64]

START = 1_672_531_200  # 2023-01-01T00:00:00Z: the marketplace opens
END = 1_772_323_200  # 2026-03-01T00:00:00Z: the export is taken
DAY = 86_400
HOUR = 3_600


def popularity(size: int, exponent: float, rng: np.random.Generator) -> Floats:
    """Cumulative weights of ``size`` items ranked at random, weight 1/rank^exponent (Zipf)."""
    ranks = rng.permutation(size) + 1
    return np.cumsum(1.0 / ranks.astype(np.float64) ** exponent)


def draw(cumulative: Floats, count: int, rng: np.random.Generator) -> Ints:
    """``count`` item indices drawn with the weights behind ``cumulative``."""
    picks = rng.random(count) * cumulative[-1]
    return np.searchsorted(cumulative, picks, side="right").astype(np.int64)


def shares(rng: np.random.Generator, weights: np.ndarray, size: int) -> Ints:
    """``size`` category indices drawn with the given (unnormalised) weights."""
    return draw(np.cumsum(weights, dtype=np.float64), size, rng)


def heavy_counts(
    rng: np.random.Generator, size: int, *, low: float, alpha: float, cap: int
) -> Ints:
    """Pareto-tailed counts: most near ``low``, a few up to ``cap``."""
    raw = low * (1.0 - rng.random(size)) ** (-1.0 / alpha)
    return np.minimum(np.floor(raw), cap).astype(np.int64)


def later(start: Ints, rng: np.random.Generator, *, within: float | None = None) -> Ints:
    """A time after each ``start``: within ``within`` seconds, never after the export."""
    width = END - start if within is None else np.minimum(within, END - start)
    return start + (rng.random(len(start)) * np.maximum(width, 0)).astype(np.int64)


def rank_within(groups: Ints) -> Ints:
    """0, 1, 2... inside each run of equal values of a sorted array."""
    if len(groups) == 0:
        return groups
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    return np.arange(len(groups)) - np.repeat(starts, np.diff(np.r_[starts, len(groups)]))
