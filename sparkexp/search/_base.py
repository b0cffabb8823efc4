"""The seam between a search strategy and the runner: ask for candidates, tell results.

Every strategy is pure Python (no Spark) and implements :class:`Search`. The runner owns the
loop; a search never knows how or where trials run.

Contract (the runner and resume rely on it):

* ``ask(n)`` returns at most ``n`` new :class:`Candidate` objects, possibly fewer (even none)
  when the strategy must wait for results first. Keys are ``0, 1, 2, ...`` in ask order.
* ``ask(n)`` gives exactly the candidates ``n`` successive ``ask(1)`` calls would give, and a
  search's proposals depend only on its seed and the sequence of ``ask``/``tell`` calls. Resume
  rebuilds a search by replaying the journal's asks and tells in their recorded order.
* ``tell(key, loss, status)`` reports a finished candidate. ``loss`` is the number to
  *minimise* (the runner negates it for ``direction="max"``); ``None`` when the trial produced
  no metric (error, timeout). ``status`` is the trial's final status (``complete``, ``error``,
  ``stopped``, ``timeout``); a stopped trial carries its last reported loss.
* ``is_finished()`` is true when the search will never propose another candidate.
* Several objectives: the runner calls ``tell_objectives(key, losses, status)`` instead, with
  one value to minimise per objective (``None`` when the trial has none). A strategy states how
  many objectives it handles in :attr:`Search.max_objectives`.
* Constraints: before ``tell(key, ...)`` the runner calls ``tell_constraints(key, values)``
  (each value ``<= 0`` when satisfied) for a trial whose outputs it evaluated; strategies that
  do not model constraints ignore it.

Example:
    >>> from sparkexp.search import GridSearch
    >>> s = GridSearch({"a": [1, 2], "b": ["x"]})
    >>> [c.params for c in s.ask(5)]
    [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'x'}]
    >>> s.is_finished()
    True
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sparkexp.errors import ConfigError

__all__ = ["Candidate", "Search", "IndexedSearch", "TracksBest"]


@dataclass(frozen=True)
class Candidate:
    """A point a search wants evaluated. ``key`` becomes the trial's index.

    ``parent``: the key of a trial whose newest checkpoint this one starts from (population
    based training copies a better trial's state this way), or None to start from scratch.
    """

    key: int
    params: dict[str, Any]
    parent: int | None = None


class Search(ABC):
    """Base class of all strategies; see the module docstring for the contract."""

    #: Short name recorded in the experiment manifest (``grid``, ``random`` ...).
    name: str = "search"
    #: Objectives the strategy can optimise at once; None when it never looks at results.
    max_objectives: int | None = 1

    @abstractmethod
    def ask(self, n: int) -> list[Candidate]:
        """Up to ``n`` new candidates; fewer (or none) while waiting for results."""

    @abstractmethod
    def tell(self, key: int, loss: float | None, status: str = "complete") -> None:
        """Report the result of candidate ``key`` (loss to minimise, None if no metric)."""

    def tell_objectives(self, key: int, losses: Sequence[float] | None,
                        status: str = "complete") -> None:
        """Report candidate ``key`` of a several-objective run (one loss per objective)."""
        raise NotImplementedError(f"the '{self.name}' search optimises one objective")

    def tell_constraints(self, key: int, values: Sequence[float]) -> None:  # noqa: B027
        """Constraint values of candidate ``key`` (``<= 0`` when satisfied), before its tell."""

    def check_objectives(self, count: int) -> None:
        """Raise a one-line ConfigError unless this search can optimise ``count`` objectives."""
        if self.max_objectives is not None and count > self.max_objectives:
            raise ConfigError(
                f"the '{self.name}' search optimises {self.max_objectives} objective(s), not "
                f"{count}; for several use random_search or optuna_search (sampler 'nsga2', "
                "'tpe', 'random', 'qmc' or 'gp')"
            )

    @abstractmethod
    def is_finished(self) -> bool:
        """True when no candidate will ever be proposed again."""

    @property
    def total(self) -> int | None:
        """Number of candidates this search will propose in all, when known in advance."""
        return None

    def settings(self) -> dict[str, Any]:
        """JSON-compatible settings recorded in the experiment manifest."""
        return {}


class IndexedSearch(Search):
    """A search whose ``i``-th candidate depends only on ``i`` (grid, random, fixed lists):
    subclasses give :meth:`point` and :attr:`total`; asking walks the indices in order and
    results change nothing."""

    _next = 0
    max_objectives: int | None = None

    @property
    @abstractmethod
    def total(self) -> int:
        """Number of candidates."""

    @abstractmethod
    def point(self, index: int) -> dict[str, Any]:
        """The candidate at ``index``."""

    def ask(self, n: int) -> list[Candidate]:
        out: list[Candidate] = []
        while len(out) < n and self._next < self.total:
            out.append(Candidate(self._next, self.point(self._next)))
            self._next += 1
        return out

    def tell(self, key: int, loss: float | None, status: str = "complete") -> None:
        return None

    def tell_objectives(self, key: int, losses: Sequence[float] | None,
                        status: str = "complete") -> None:
        return None

    def is_finished(self) -> bool:
        return self._next >= self.total


class TracksBest:
    """Mixin: the lowest loss a search was told and its hyperparameters.

    Example:
        >>> class S(TracksBest):
        ...     pass
        >>> s = S()
        >>> s._offer_best(0.5, lambda: {"lr": 0.1}); s._offer_best(0.7, lambda: {"lr": 1.0})
        >>> s.best_loss, s.best_params
        (0.5, {'lr': 0.1})
    """

    _best_loss: float = math.inf
    _best_params: dict[str, Any] | None = None

    @property
    def best_loss(self) -> float:
        """Lowest loss told so far (inf before any)."""
        return self._best_loss

    @property
    def best_params(self) -> dict[str, Any] | None:
        """Hyperparameters of :attr:`best_loss` (None before any result)."""
        return None if self._best_params is None else dict(self._best_params)

    def _offer_best(self, loss: float, params: Callable[[], dict[str, Any]]) -> None:
        """Keep ``loss`` if it is the lowest so far (``params`` is called only then)."""
        if loss < self._best_loss:
            self._best_loss, self._best_params = loss, params()

