"""Differential evolution (DE) on the unit hypercube of a search space, ask/tell style.

DE keeps a population of ``population`` points. Each new candidate is a *trial vector* for one
*target* member: a mutant built from other members (``strategy``), mixed with the target by
binomial crossover (probability ``crossover``). The trial replaces its target when its loss is
lower or equal. Integer and categorical hyperparameters are decoded from continuous coordinates
(:meth:`sparkexp.space.Space.from_unit`), so the algorithm itself only sees floats in [0, 1].

Budget: ``(generations + 1) * population`` evaluation slots: the initial population, then
``generations`` rounds of ``population`` trial vectors. A slot whose point (after int /
categorical rounding) was already evaluated, or is being evaluated, reuses that loss instead of
running a trial again (a *memoised repeat*): it uses its slot but no trial, so the number of
trials is at most the budget (:attr:`DifferentialEvolution.max_trials`) and :attr:`memo_hits`
says how many slots were served from memory.

Modes:

* ``"generational"`` (classic DE): a whole generation is proposed; ``ask`` returns ``[]`` until
  all of it is told; then every target is compared with its trial vector at once.
* ``"async"`` (steady state): every ``ask`` makes a new trial vector from the population as it
  is now, for the next target (round robin) whose own loss is known; each result is compared
  with its target as soon as it arrives. ``ask`` only waits before the first result is in.

Failed trials (loss ``None``) and NaN losses rank last; a stopped trial counts with the last
loss it reported.

Example:
    >>> de = DifferentialEvolution({"x": [-5.0, 5.0], "y": [-5.0, 5.0]},
    ...                            generations=10, population=8, seed=0)
    >>> while not de.is_finished():
    ...     for c in de.ask(4):
    ...         de.tell(c.key, c.params["x"] ** 2 + c.params["y"] ** 2)
    >>> de.best_loss < 0.5
    True
"""

from __future__ import annotations

import numbers
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sparkexp.errors import ConfigError, SearchSpaceError
from sparkexp.search._base import Candidate, Search, TracksBest
from sparkexp.search._util import (
    as_loss,
    as_space,
    positive_int,
    resolve_seed,
    warm_points,
)
from sparkexp.space import Space

__all__ = ["DifferentialEvolution", "STRATEGIES", "INITS", "MODES"]

#: Mutation strategies and the smallest population each needs (target + distinct donors).
STRATEGIES: Mapping[str, int] = {
    "best1bin": 3,
    "rand1bin": 4,
    "currenttobest1bin": 3,
    "best2bin": 5,
    "rand2bin": 6,
}
INITS = ("latinhypercube", "random")
MODES = ("generational", "async")


@dataclass
class _Slot:
    """One evaluation of the budget: the initial member ``target`` or a trial vector for it."""

    target: int
    vector: np.ndarray
    init: bool


class DifferentialEvolution(TracksBest, Search):
    """Differential evolution with hops-style parameters (see the module docstring).

    Args:
        space: A :class:`~sparkexp.space.Space` or a dict; hops' ``{"lr": [0.001, 0.1]}`` is a
            range, ``["adam", "sgd"]`` a choice.
        generations: Rounds of trial vectors after the initial population.
        population: Population size (at least 3 to 6 depending on ``strategy``).
        mutation: Differential weight F: a float in (0, 2], or ``(low, high)`` to draw F
            uniformly per trial vector (dither).
        crossover: Probability CR in [0, 1] that a coordinate comes from the mutant.
        strategy: ``best1bin`` (default), ``rand1bin``, ``currenttobest1bin``, ``best2bin``,
            ``rand2bin``.
        init: ``latinhypercube`` (default; one point per stratum in every dimension) or
            ``random`` (uniform in the unit hypercube).
        mode: ``async`` (default, as :func:`sparkexp.experiment.evolutionary_search`: steady
            state, no slot waits for a generation to finish) or ``generational``.
        seed: Seed; None draws one from the OS (recorded in :meth:`settings`).
        warm_start: Points that replace the first members of the initial population.

    Defaults (``best1bin``, ``mutation=(0.5, 1.0)``, Latin hypercube) are the ones that won at
    equal budgets in ``benchmarks/search_quality.py``; figures in ``docs/search.md``.
    """

    name = "evolutionary"

    def __init__(
        self,
        space: Space | Mapping[str, Any],
        *,
        generations: int = 4,
        population: int = 6,
        mutation: float | tuple[float, float] = (0.5, 1.0),
        crossover: float = 0.7,
        strategy: str = "best1bin",
        init: str = "latinhypercube",
        mode: str = "async",
        seed: int | None = None,
        warm_start: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        self.space = as_space(space, owner="evolutionary_search")
        if self.space.ndim == 0:
            raise SearchSpaceError(
                f"nothing to evolve: every hyperparameter of {self.space.names} is fixed"
            )
        self.generations = positive_int("DifferentialEvolution", "generations", generations, minimum=0)
        self.population = positive_int("DifferentialEvolution", "population", population)
        self.strategy = _one_of("strategy", strategy, tuple(STRATEGIES))
        self.init = _one_of("init", "random" if init == "uniform" else init, INITS)
        self.mode = _one_of("mode", mode, MODES)
        if self.population < STRATEGIES[self.strategy]:
            raise ConfigError(
                f"DifferentialEvolution: strategy {self.strategy!r} needs population >= "
                f"{STRATEGIES[self.strategy]}, got population={self.population}"
            )
        self.mutation = _mutation(mutation)
        self.crossover = _unit_float("crossover", crossover)
        self.seed = resolve_seed(seed)
        self._warm = warm_points(self.space, warm_start)
        if len(self._warm) > self.population:
            raise ConfigError(
                f"DifferentialEvolution: {len(self._warm)} warm_start points exceed "
                f"population={self.population}"
            )

        self._rng = np.random.default_rng(np.random.SeedSequence(self.seed))
        self._pop = self._initial_population()
        self._fit = np.full(self.population, np.nan)
        self._queue: deque[_Slot] = deque(
            _Slot(i, self._pop[i].copy(), True) for i in range(self.population)
        )
        self._generation = 0
        self._gen_loss = np.full(self.population, np.nan)
        self._gen_open = self.population  # slots of this generation not resolved yet
        self._trial_vectors = self._pop.copy()
        self._issued = 0  # slots taken from the budget (trials + memoised repeats)
        self._rr = 0  # async: next target to consider
        self._next_key = 0
        self._memo: dict[tuple[Any, ...], float] = {}
        self._in_flight: dict[int, tuple[tuple[Any, ...], dict[str, Any]]] = {}
        self._waiting: dict[tuple[Any, ...], list[_Slot]] = {}
        self._memo_hits = 0

    # -- public state ---------------------------------------------------------------------
    @property
    def budget(self) -> int:
        """Evaluation slots in all: ``(generations + 1) * population``."""
        return (self.generations + 1) * self.population

    @property
    def max_trials(self) -> int:
        """Upper bound on trials; fewer when memoised repeats serve some slots."""
        return self.budget

    @property
    def memo_hits(self) -> int:
        """Slots served from an earlier (or in-flight) evaluation of the same point."""
        return self._memo_hits

    # -- ask / tell -----------------------------------------------------------------------
    def ask(self, n: int) -> list[Candidate]:
        out: list[Candidate] = []
        while len(out) < n:
            c = self._next_candidate()
            if c is None:
                break
            out.append(c)
        return out

    def tell(self, key: int, loss: float | None, status: str = "complete") -> None:
        if key not in self._in_flight:
            raise ValueError(
                f"DifferentialEvolution.tell: key {key!r} is not an asked, untold candidate"
            )
        point, params = self._in_flight.pop(key)
        value = as_loss(loss)
        self._memo[point] = value
        self._offer_best(value, lambda: params)
        for slot in self._waiting.pop(point):
            self._resolve(slot, value)

    def is_finished(self) -> bool:
        if self.mode == "async":
            return self._issued >= self.budget
        return self._generation >= self.generations and not self._queue

    # -- internals ------------------------------------------------------------------------
    def _next_candidate(self) -> Candidate | None:
        while True:
            slot = self._next_slot()
            if slot is None:
                return None
            self._issued += 1
            params = self.space.from_unit(slot.vector)
            point = self.space.key(params)
            if point in self._memo:
                self._memo_hits += 1
                self._resolve(slot, self._memo[point])
                continue
            if point in self._waiting:
                self._memo_hits += 1
                self._waiting[point].append(slot)
                continue
            key = self._next_key
            self._next_key += 1
            self._in_flight[key] = (point, params)
            self._waiting[point] = [slot]
            return Candidate(key, params)

    def _next_slot(self) -> _Slot | None:
        if self.mode == "generational" or self._queue:
            return self._queue.popleft() if self._queue else None
        if self._issued >= self.budget:
            return None
        for step in range(self.population):
            i = (self._rr + step) % self.population
            if not np.isnan(self._fit[i]):
                self._rr = (i + 1) % self.population
                return _Slot(i, self._trial_vector(i), False)
        return None  # no member's loss known yet: wait for the first result

    def _resolve(self, slot: _Slot, loss: float) -> None:
        i = slot.target
        if self.mode == "async":
            if slot.init:
                self._fit[i] = loss
            elif loss <= self._fit[i]:
                self._pop[i], self._fit[i] = slot.vector, loss
            return
        self._gen_loss[i] = loss
        self._gen_open -= 1
        if self._gen_open == 0:
            self._end_generation()

    def _end_generation(self) -> None:
        if self._generation == 0:
            self._fit = self._gen_loss.copy()
        else:
            better = self._gen_loss <= self._fit
            self._pop[better] = self._trial_vectors[better]
            self._fit[better] = self._gen_loss[better]
        if self._generation >= self.generations:
            return
        self._generation += 1
        self._trial_vectors = np.array([self._trial_vector(i) for i in range(self.population)])
        self._queue.extend(
            _Slot(i, self._trial_vectors[i], False) for i in range(self.population)
        )
        self._gen_loss = np.full(self.population, np.nan)
        self._gen_open = self.population

    def _initial_population(self) -> np.ndarray:
        n, d = self.population, self.space.ndim
        if self.init == "latinhypercube":
            strata = np.array([self._rng.permutation(n) for _ in range(d)]).T
            pop = (strata + self._rng.random((n, d))) / n
        else:
            pop = self._rng.random((n, d))
        for i, point in enumerate(self._warm):
            pop[i] = self.space.to_unit(point)
        return pop

    def _trial_vector(self, i: int) -> np.ndarray:
        rng, pop = self._rng, self._pop
        known = np.flatnonzero(~np.isnan(self._fit))
        best = int(known[np.argmin(self._fit[known])])
        f = self.mutation if isinstance(self.mutation, float) else rng.uniform(*self.mutation)
        donors = [j for j in range(self.population) if j != i]
        k = {"best1bin": 2, "rand1bin": 3, "currenttobest1bin": 2, "best2bin": 4, "rand2bin": 5}
        r = rng.choice(donors, size=k[self.strategy], replace=False)
        if self.strategy == "best1bin":
            mutant = pop[best] + f * (pop[r[0]] - pop[r[1]])
        elif self.strategy == "rand1bin":
            mutant = pop[r[0]] + f * (pop[r[1]] - pop[r[2]])
        elif self.strategy == "currenttobest1bin":
            mutant = pop[i] + f * (pop[best] - pop[i]) + f * (pop[r[0]] - pop[r[1]])
        elif self.strategy == "best2bin":
            mutant = pop[best] + f * (pop[r[0]] + pop[r[1]] - pop[r[2]] - pop[r[3]])
        else:
            mutant = pop[r[0]] + f * (pop[r[1]] + pop[r[2]] - pop[r[3]] - pop[r[4]])
        d = self.space.ndim
        take = rng.random(d) < self.crossover
        take[rng.integers(d)] = True  # at least one coordinate from the mutant
        trial = np.where(take, mutant, pop[i])
        # Out-of-range coordinates are redrawn uniformly, as scipy does.
        outside = (trial < 0) | (trial > 1)
        if outside.any():
            trial[outside] = rng.random(int(outside.sum()))
        return trial

    def settings(self) -> dict[str, Any]:
        return {
            "space": self.space.to_dict(),
            "generations": self.generations,
            "population": self.population,
            "mutation": list(self.mutation) if isinstance(self.mutation, tuple) else self.mutation,
            "crossover": self.crossover,
            "strategy": self.strategy,
            "init": self.init,
            "mode": self.mode,
            "seed": self.seed,
            "warm_start": [dict(p) for p in self._warm],
            "budget": self.budget,
        }


def _one_of(name: str, value: Any, accepted: tuple[str, ...]) -> str:
    if value not in accepted:
        raise ConfigError(
            f"DifferentialEvolution: unknown {name} {value!r}; accepted: {', '.join(accepted)}"
        )
    return str(value)


def _unit_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= float(value) <= 1:
        raise ConfigError(f"DifferentialEvolution: {name} must be in [0, 1], got {value!r}")
    return float(value)


def _mutation(value: Any) -> float | tuple[float, float]:
    def ok(x: Any) -> bool:
        return not isinstance(x, bool) and isinstance(x, numbers.Real) and 0 < float(x) <= 2

    if isinstance(value, (tuple, list)):
        if len(value) == 2 and ok(value[0]) and ok(value[1]) and value[0] < value[1]:
            return (float(value[0]), float(value[1]))
    elif ok(value):
        return float(value)
    raise ConfigError(
        "DifferentialEvolution: mutation must be a float in (0, 2] or a (low, high) range "
        f"with 0 < low < high <= 2 for dither, got {value!r}"
    )
