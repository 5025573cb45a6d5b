"""Seeded draws that stay identical across Python versions.

Python only promises that ``Random.random()`` gives the same sequence for the same integer seed
on every version; ``choices``, ``randint``, ``gauss``... may change. Every draw here is built on
``random()`` alone, so a seed gives the same warehouse on any Python.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import TypeVar

T = TypeVar("T")

# Streams: each person (or other unit) gets its own generator, so a person's rows depend only
# on (seed, stream, index), never on how the run was chunked.
STREAM_PERSON = 1
STREAM_REFERENCE = 2


def stream(seed: int, kind: int, index: int) -> Rng:
    if seed < 0 or index < 0:
        raise ValueError("seed and index must be non-negative")
    # Distinct integers seed unrelated Mersenne Twister states (init_by_array on their words).
    return Rng((seed << 40) | (kind << 34) | index)


class Weighted:
    """Items with weights, drawn in O(log n)."""

    __slots__ = ("cumulative", "items", "total")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        pairs = [(item, weight) for item, weight in pairs if weight > 0]
        if not pairs:
            raise ValueError("nothing to draw from")
        self.items = tuple(item for item, _ in pairs)
        self.cumulative = tuple(accumulate(weight for _, weight in pairs))
        self.total = self.cumulative[-1]


class Rng(random.Random):
    def chance(self, probability: float) -> bool:
        return self.random() < probability

    def below(self, n: int) -> int:
        """0 <= i < n."""
        return int(self.random() * n)

    def between(self, low: int, high: int) -> int:
        """low <= i <= high."""
        return low + int(self.random() * (high - low + 1))

    def real(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def pick(self, items: Sequence[T]) -> T:
        return items[int(self.random() * len(items))]

    def draw(self, weighted: Weighted):
        return weighted.items[bisect_right(weighted.cumulative, self.random() * weighted.total)]

    def draw_pairs(self, pairs: Sequence[tuple[T, float]]) -> T:
        """One item of (item, weight) pairs, for small lists built on the fly."""
        total = 0.0
        for _, weight in pairs:
            total += weight
        target = self.random() * total
        for item, weight in pairs:
            target -= weight
            if target < 0:
                return item
        return pairs[-1][0]

    def normal(self, mean: float, sd: float) -> float:
        # Box-Muller on random() alone; 1 - random() avoids log(0).
        u = 1.0 - self.random()
        v = self.random()
        return mean + sd * math.sqrt(-2.0 * math.log(u)) * math.cos(2.0 * math.pi * v)

    def clipped(self, mean: float, sd: float, low: float, high: float) -> float:
        return min(high, max(low, self.normal(mean, sd)))

    def poisson(self, lam: float) -> int:
        # Knuth's method: lam is small here (repeat visits).
        limit = math.exp(-lam)
        count = 0
        product = self.random()
        while product > limit:
            count += 1
            product *= self.random()
        return count
