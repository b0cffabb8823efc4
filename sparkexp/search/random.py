"""Random search: independent draws from the space, reproducible per trial key.

Trial ``k`` draws from ``numpy.random.SeedSequence([seed, k])``, so its hyperparameters depend
only on the seed and ``k``: not on parallelism, the order results arrive in, or a resume.

Example:
    >>> from sparkexp.space import loguniform
    >>> s = RandomSearch({"lr": loguniform(1e-5, 1e-1), "opt": ["adam", "sgd"]}, samples=3, seed=1)
    >>> [sorted(c.params) for c in s.ask(5)]
    [['lr', 'opt'], ['lr', 'opt'], ['lr', 'opt']]
    >>> s.is_finished()
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sparkexp.errors import ConfigError
from sparkexp.search._base import IndexedSearch
from sparkexp.search._util import as_any_space, positive_int, resolve_seed, rng_for, warm_points
from sparkexp.space import Space
from sparkexp.space._hyperopt_space import HyperoptSpace

__all__ = ["RandomSearch"]


class RandomSearch(IndexedSearch):
    """``samples`` independent random points of ``space``.

    Args:
        space: A :class:`~sparkexp.space.Space` or a dict (``[low, high]`` ranges, choices,
            primitives, hpogrid form; see ``docs/search-spaces.md``), or a hyperopt space as
            written (``hp.*``, nested ``hp.choice``): a trial then gets what
            ``pyll.stochastic.sample`` draws.
        samples: Number of trials in all, warm-start points included.
        seed: Seed of every draw; None draws one from the OS (recorded in :meth:`settings`).
        warm_start: Points evaluated first (trial keys ``0..len-1``), e.g. known good settings.
    """

    name = "random"

    def __init__(
        self,
        space: Space | HyperoptSpace | Mapping[str, Any],
        *,
        samples: int = 10,
        seed: int | None = None,
        warm_start: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        self.space = as_any_space(space)
        self.samples = positive_int("RandomSearch", "samples", samples)
        self.seed = resolve_seed(seed)
        self._warm = warm_points(self.space, warm_start)
        if len(self._warm) > self.samples:
            raise ConfigError(
                f"RandomSearch: {len(self._warm)} warm_start points exceed samples={self.samples}"
            )

    @property
    def total(self) -> int:
        return self.samples

    def point(self, key: int) -> dict[str, Any]:
        """The hyperparameters of trial ``key`` (pure function of seed and key)."""
        if key < len(self._warm):
            return dict(self._warm[key])
        return self.space.sample(rng_for(self.seed, key))

    def settings(self) -> dict[str, Any]:
        return {
            "space": self.space.to_dict(),
            "samples": self.samples,
            "seed": self.seed,
            "warm_start": [dict(p) for p in self._warm],
        }
