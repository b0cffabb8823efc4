"""Helpers shared by the strategies: seeds, per-key generators, warm-start points, budgets.

Example:
    >>> a = rng_for(42, 3).random()
    >>> a == rng_for(42, 3).random() != rng_for(42, 4).random()
    True
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sparkexp.errors import ConfigError, SearchSpaceError
from sparkexp.space import Space
from sparkexp.space._hyperopt_space import HYPEROPT_KEY, HyperoptSpace, is_hyperopt_space
from sparkexp.status import FINISHED, TrialStatus
from sparkexp.validate import whole_number

__all__ = [
    "resolve_seed",
    "rng_for",
    "as_space",
    "as_any_space",
    "warm_points",
    "positive_int",
    "as_loss",
    "TELL_STATUSES",
]

#: Statuses a trial may end with (see :mod:`sparkexp.search._base`).
TELL_STATUSES: tuple[str, ...] = tuple(s for s in TrialStatus if s in FINISHED)


def resolve_seed(seed: int | None) -> int:
    """``seed``, or fresh OS entropy when None; record the result so a resume can reuse it."""
    if seed is None:
        return int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ConfigError(f"seed must be a non-negative int or None, got {seed!r}")
    return int(seed)


def rng_for(seed: int, *key: int) -> np.random.Generator:
    """An independent generator for ``(seed, *key)``: trial k's draws never depend on others.

    numpy's ``SeedSequence`` ignores trailing zeros (``(seed, k, 0)`` is ``(seed, k)``'s
    stream): give sub-keys >= 1. Changing that would change every recorded seed's proposals.
    """
    return np.random.default_rng(np.random.SeedSequence([seed, *key]))


def as_space(space: Space | Mapping[str, Any], *, owner: str = "this search") -> Space:
    """A :class:`Space` from a space or a dict (plain-dict rules, hpogrid form, primitives)."""
    if is_hyperopt_space(space):
        raise SearchSpaceError(
            f"{owner} takes a sparkexp space (ranges, choices, sparkexp.space primitives); "
            "hyperopt spaces (hp.*) work with random_search, bayesian_search and optuna_search"
        )
    return space if isinstance(space, Space) else Space(space)


def as_any_space(space: Any) -> Space | HyperoptSpace:
    """A :class:`Space`, or a :class:`HyperoptSpace` for ``hp.*`` expressions (or their record)."""
    if isinstance(space, (Space, HyperoptSpace)):
        return space
    if isinstance(space, Mapping) and set(space) == {HYPEROPT_KEY}:
        return HyperoptSpace.from_dict(space)
    if is_hyperopt_space(space):
        return HyperoptSpace(space)
    return Space(space)


def warm_points(
    space: Space | HyperoptSpace, warm_start: Sequence[Mapping[str, Any]] | None
) -> list[dict[str, Any]]:
    """Validated warm-start points (fixed hyperparameters may be left out of each point)."""
    if warm_start is None:
        return []
    # a string is a sequence too (of characters): refuse it here, not as its first letter
    if isinstance(warm_start, (Mapping, str, bytes)) or not isinstance(warm_start, Sequence):
        raise SearchSpaceError(
            f"warm_start must be a list of points (dicts of hyperparameters), got {warm_start!r}"
        )
    out = []
    for i, point in enumerate(warm_start):
        try:
            out.append(space.check(point))
        except SearchSpaceError as exc:
            raise SearchSpaceError(f"warm_start[{i}]: {exc}") from None
    return out


def positive_int(owner: str, name: str, value: Any, *, minimum: int = 1) -> int:
    """``value`` if it is an int >= ``minimum``, else a ConfigError naming it."""
    return whole_number(name, value, minimum=minimum, owner=owner)


def as_loss(loss: float | None) -> float:
    """The loss used for ranking: None (no metric) and NaN rank last."""
    if loss is None:
        return float("inf")
    value = float(loss)
    return float("inf") if value != value else value
