"""Grid helpers (Valohai-style parameter modes): each returns the list of values to try.

The result is a :class:`GridValues`, a plain ``list`` subclass: grid search takes it like any
list, and a random / evolutionary / Bayesian search reads it as a *choice* among the values
(never as a ``[low, high]`` range, even when it happens to hold two numbers).

Example:
    >>> linear(0.1, 0.5, 0.1)
    [0.1, 0.2, 0.3, 0.4, 0.5]
    >>> logspace(-4, -2, 3)
    [0.0001, 0.001, 0.01]
    >>> multiple("adam", "sgd")
    ['adam', 'sgd']
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sparkexp.errors import SearchSpaceError
from sparkexp.space._dists import _number, _positive

__all__ = ["GridValues", "multiple", "linear", "logspace", "random"]


class GridValues(list):  # type: ignore[type-arg]
    """A list of values produced by a grid helper: always a choice, never a range."""


def _tidy(x: float) -> float:
    # 0.1 + 2 * 0.1 is 0.30000000000000004; users expect to see 0.3 in the grid.
    return float(f"{x:.12g}")


def multiple(*values: Any) -> GridValues:
    """Exactly these values (Valohai's ``multiple`` mode).

    Example:
        >>> multiple(16, 32, 64)
        [16, 32, 64]
    """
    if not values:
        raise SearchSpaceError("multiple(): give at least one value")
    return GridValues(values)


def linear(start: float, stop: float, step: float) -> GridValues:
    """``start, start + step, ...`` up to and including ``stop`` when it is on the step.

    Ints stay ints when all three arguments are ints.

    Example:
        >>> linear(1, 10, 3)
        [1, 4, 7, 10]
    """
    a = _number("linear", "start", start)
    b = _number("linear", "stop", stop)
    s = _positive("linear", "step", step)
    if b < a:
        raise SearchSpaceError(f"linear: stop must be >= start, got start={a!r} stop={b!r}")
    n = math.floor((b - a) / s + 1e-9) + 1
    if all(isinstance(v, int) for v in (a, b, s)):
        return GridValues(int(a + i * s) for i in range(n))
    return GridValues(_tidy(a + i * s) for i in range(n))


def logspace(start: float, stop: float, count: int, base: float = 10) -> GridValues:
    """``count`` values ``base ** e`` for exponents ``e`` evenly spaced from start to stop.

    Example:
        >>> logspace(0, 3, 4, base=2)
        [1.0, 2.0, 4.0, 8.0]
    """
    a = _number("logspace", "start", start)
    b = _number("logspace", "stop", stop)
    n = _count("logspace", count)
    bs = _number("logspace", "base", base)
    if bs <= 0 or bs == 1:
        raise SearchSpaceError(f"logspace: base must be > 0 and != 1, got base={bs!r}")
    exps = [a] if n == 1 else [a + (b - a) * i / (n - 1) for i in range(n)]
    return GridValues(_tidy(bs**e) for e in exps)


def random(
    low: float,
    high: float,
    count: int,
    *,
    seed: int | None = None,
    log: bool = False,
    integer: bool = False,
) -> GridValues:
    """``count`` values drawn uniformly (or log-uniformly) from ``[low, high]``, sorted.

    The grid is fixed once drawn (it is recorded in the experiment manifest); pass ``seed``
    to draw the same values every time. ``integer=True`` draws ints from ``low..high``.

    Example:
        >>> random(0, 1, 3, seed=7) == random(0, 1, 3, seed=7)
        True
    """
    lo = _number("random", "low", low)
    hi = _number("random", "high", high)
    n = _count("random", count)
    if lo >= hi:
        raise SearchSpaceError(f"random: low must be below high, got low={lo!r} >= high={hi!r}")
    if log and lo <= 0:
        raise SearchSpaceError(f"random: low must be > 0 with log=True, got low={lo!r}")
    rng = np.random.default_rng(seed)
    if integer:
        return GridValues(sorted(int(v) for v in rng.integers(math.ceil(lo), math.floor(hi) + 1, n)))
    if log:
        draws = np.exp(rng.uniform(math.log(lo), math.log(hi), n))
    else:
        draws = rng.uniform(lo, hi, n)
    return GridValues(sorted(float(v) for v in draws))


def _count(method: str, count: Any) -> int:
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise SearchSpaceError(f"{method}: count must be an int >= 1, got {count!r}")
    return int(count)
