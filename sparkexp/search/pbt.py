"""Population based training (Jaderberg et al., 2017), asynchronous, on sparkexp's slots.

``population`` trials start from random points of the space and train at once. Every
``interval`` reported steps a trial is ranked against the other members (running or finished)
by the loss each reported at that step or the last one before it, so members that started late
or run slower are compared at equal training (on a tie, the member being decided ranks below
the others); one in the worst ``quantile`` is stopped
(**exploit**: its slot goes to a copy of a member of the best ``quantile``, running or
finished) and a new trial starts from that member's newest checkpoint
with perturbed hyperparameters (**explore**: each is resampled from the space with probability
``resample_probability``, else a number is multiplied by one of ``perturb_factors`` and kept in
its range, a choice moves to a neighbouring option, the only one at an end of the list). The
population keeps its size; a member's
line ends when a trial reaches ``max_steps``, and the search ends when every line has.

The search is also the experiment's stopping rule, and the runner starts a candidate that names
a ``parent`` from that trial's newest checkpoint (``Trial.origin`` records the lineage: parent,
step, checkpoint, changed values). Trials must checkpoint (``reporter.checkpoint``) and restore
(``reporter.restore``); one that reports twice without a checkpoint ends the experiment with a
clear error. Proposals depend only on the seed and the order of reports and results, which
resume replays.

Example:
    >>> pbt = PopulationBasedTraining({"lr": [0.01, 0.1]}, population=2, max_steps=10,
    ...                               interval=2, seed=0)
    >>> a, b = pbt.ask(2)
    >>> pbt.report(a.key, 2, 0.5), pbt.report(b.key, 2, 0.9)   # b is worse at its first check
    (False, True)
    >>> pbt.tell(b.key, 0.9, "stopped")
    >>> c, = pbt.ask(1)
    >>> c.parent == a.key and c.params != a.params
    True
"""

from __future__ import annotations

import collections
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sparkexp.errors import ConfigError
from sparkexp.search._base import Candidate, Search, TracksBest
from sparkexp.search._util import as_space, positive_int, resolve_seed, rng_for
from sparkexp.search.stopping import Stopper
from sparkexp.space import Choice, Space

__all__ = ["PopulationBasedTraining"]


class PopulationBasedTraining(TracksBest, Search, Stopper):
    """Asynchronous PBT as a search that also stops trials (see the module docstring).

    Args:
        space: A :class:`~sparkexp.space.Space` or a dict; the initial population is drawn
            from it and explore resamples from it.
        population: Members training at once (the experiment needs that many slots).
        max_steps: A member's full training length in reported steps.
        interval: Reported steps between a member's exploit/explore decisions.
        quantile: Share of the population that is "worst" (copies) and "best" (is copied).
        resample_probability: Chance that explore redraws a value from the space.
        perturb_factors: Factors explore multiplies numbers by (one drawn per value).
        seed: Seed; None draws one (recorded).
    """

    name = "pbt"
    #: the runner refuses trials that never checkpoint
    needs_checkpoints = True

    def __init__(self, space: Space | Mapping[str, Any], *, population: int = 4, max_steps: int,
                 interval: int, quantile: float = 0.25, resample_probability: float = 0.25,
                 perturb_factors: Sequence[float] = (0.8, 1.2), seed: int | None = None) -> None:
        self.space = as_space(space)
        self.population = positive_int("PopulationBasedTraining", "population", population, minimum=2)
        self.max_steps = positive_int("PopulationBasedTraining", "max_steps", max_steps)
        self.interval = positive_int("PopulationBasedTraining", "interval", interval)
        if self.interval >= self.max_steps:
            raise ConfigError(f"PopulationBasedTraining: interval ({interval}) must be below "
                              f"max_steps ({max_steps}), or no member is ever perturbed")
        if isinstance(quantile, bool) or not isinstance(quantile, (int, float)) or not 0 < quantile <= 0.5:
            raise ConfigError(f"PopulationBasedTraining: quantile must be in (0, 0.5], got {quantile!r}")
        if (isinstance(resample_probability, bool) or not isinstance(resample_probability, (int, float))
                or not 0 <= resample_probability <= 1):
            raise ConfigError("PopulationBasedTraining: resample_probability must be in [0, 1], "
                              f"got {resample_probability!r}")
        factors = list(perturb_factors) if isinstance(perturb_factors, (list, tuple)) else []
        if not factors or any(isinstance(f, bool) or not isinstance(f, (int, float)) or f <= 0
                              for f in factors):
            raise ConfigError("PopulationBasedTraining: perturb_factors must be a list of positive "
                              f"numbers, got {perturb_factors!r}")
        self.quantile = float(quantile)
        self.resample_probability = float(resample_probability)
        self.perturb_factors = [float(f) for f in factors]
        self.seed = resolve_seed(seed)
        self._next = 0
        self._params: dict[int, dict[str, Any]] = {}
        self._last: dict[int, tuple[int, float]] = {}
        self._curves: dict[int, list[tuple[int, float]]] = {}  # (step, loss) as reported
        self._checked: dict[int, int] = {}  # step of a member's last decision
        self._alive: set[int] = set()
        self._replaced: set[int] = set()  # members stopped by an exploit: no longer ranked
        self._exploit: dict[int, int] = {}  # stopped member -> the member it copies
        self._queue: collections.deque[int] = collections.deque()  # donors of replacements
        #: ``(step, stopped key, donor key)`` of every exploit decision, in order
        self.exploits: list[tuple[int, int, int]] = []

    @property
    def min_parallel(self) -> int:
        """Slots the experiment needs: the whole population trains at once."""
        return self.population

    # -- proposals -------------------------------------------------------------------------
    def ask(self, n: int) -> list[Candidate]:
        out: list[Candidate] = []
        while len(out) < n:
            key = self._next
            rng = rng_for(self.seed, key)
            if key < self.population:
                params, parent = self.space.sample(rng), None
                self._checked[key] = 0
            elif self._queue:
                parent = self._queue.popleft()
                params = self._explore(self._params[parent], rng)
                self._checked[key] = self._last.get(parent, (0, math.inf))[0]
            else:
                break
            self._params[key] = params
            self._alive.add(key)
            out.append(Candidate(key, params, parent=parent))
            self._next += 1
        return out

    def _explore(self, params: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
        fresh = self.space.sample(rng)
        out = dict(params)
        for name in self.space.unit_names:
            dist = self.space[name]
            if rng.random() < self.resample_probability:
                out[name] = fresh[name]
            elif isinstance(dist, Choice):
                # a neighbouring option, always a different one (at an end: the only neighbour)
                i, last = dist.index(params[name]), len(dist.options) - 1
                step = 1 if rng.random() < 0.5 else -1
                j = i + step if 0 <= i + step <= last else i - step
                out[name] = dist.options[min(max(j, 0), last)]
            else:
                factor = self.perturb_factors[int(rng.integers(len(self.perturb_factors)))]
                value = float(params[name]) * factor
                low, high = getattr(dist, "low", None), getattr(dist, "high", None)
                if low is not None and high is not None:
                    value = min(max(value, float(low)), float(high))
                out[name] = dist.from_unit(dist.to_unit(value))
        return out

    # -- the stopping side -------------------------------------------------------------------
    def _loss_at(self, key: int, step: int) -> float | None:
        """``key``'s loss reported at ``step`` or the last step before it."""
        found = None
        for s, loss in self._curves.get(key, ()):
            if s > step:
                break
            found = loss
        return found

    def report(self, key: int, step: int, loss: float) -> bool:
        self._last[key] = (step, loss)
        curve = self._curves.setdefault(key, [])
        if not curve or step > curve[-1][0]:
            curve.append((step, loss if math.isfinite(loss) else math.inf))
        if key not in self._alive or step >= self.max_steps:
            return False
        if step - self._checked.get(key, 0) < self.interval:
            return False
        self._checked[key] = step
        # among equal losses the member being decided ranks last: equal is not better
        ranked = sorted((at, k == key, k) for k in self._curves if k not in self._replaced
                        if (at := self._loss_at(k, step)) is not None)
        if len(ranked) < 2:
            return False
        q = max(1, int(len(ranked) * self.quantile))
        top = [k for _, _, k in ranked[:q]]
        bottom = {k for _, _, k in ranked[-q:]}
        if key not in bottom or key in top:
            return False
        donor = top[int(rng_for(self.seed, key, step).integers(len(top)))]
        self._exploit[key] = donor
        self.exploits.append((step, key, donor))
        return True

    def tell(self, key: int, loss: float | None, status: str = "complete") -> None:
        if key not in self._params:
            raise ValueError(f"PopulationBasedTraining.tell: key {key!r} was never asked")
        self._alive.discard(key)
        donor = self._exploit.pop(key, None)
        if donor is not None and status == "stopped":
            self._replaced.add(key)
            self._queue.append(donor)  # the member goes on as a perturbed copy of the donor
        elif loss is not None and math.isfinite(loss) and status == "complete":
            self._offer_best(loss, lambda: dict(self._params[key]))

    def is_finished(self) -> bool:
        return self._next >= self.population and not self._queue and not self._alive

    def settings(self) -> dict[str, Any]:
        return {"name": self.name, "space": self.space.to_dict(), "population": self.population,
                "max_steps": self.max_steps, "interval": self.interval, "quantile": self.quantile,
                "resample_probability": self.resample_probability,
                "perturb_factors": self.perturb_factors, "seed": self.seed}
