"""Early stopping rules: decide from intermediate reports whether a running trial should stop.

Pure Python, no Spark. The runner calls :meth:`Stopper.report` for every ``reporter.log`` of a
trial with the loss to minimise (the optimised metric, negated for ``direction="max"``) and
stops the trial cooperatively when it returns True; :meth:`Stopper.complete` tells the rule
how a trial ended.

Example:
    >>> asha = ASHA(min_steps=1, max_steps=9, reduction_factor=3)
    >>> asha.rungs
    [1, 3]
    >>> [asha.report(k, 1, loss) for k, loss in enumerate([0.5, 0.4, 0.9])]
    [False, False, True]
"""

from __future__ import annotations

import bisect
import inspect
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from sparkexp.errors import ConfigError
from sparkexp.validate import whole_number

__all__ = ["Stopper", "MedianStopping", "ASHA", "Hyperband", "make_stopper", "names_search_pruner",
           "DEFAULT_MIN_STEPS", "DEFAULT_REDUCTION_FACTOR"]

#: the first rung of ASHA, Hyperband's most aggressive bracket and BOHB (in reported steps)
DEFAULT_MIN_STEPS = 1
#: ``eta`` of ASHA, Hyperband and BOHB: one trial in ``eta`` goes on at each rung
DEFAULT_REDUCTION_FACTOR = 3


class Stopper(ABC):
    """Base class of early-stopping rules."""

    name = "stopper"

    @abstractmethod
    def report(self, key: int, step: int, loss: float) -> bool:
        """A running trial reported ``loss`` at ``step``; True means: stop it now."""

    def complete(self, key: int, loss: float | None, status: str) -> None:  # noqa: B027
        """The trial ended (``complete``, ``stopped``, ``error``, ``timeout``)."""

    def settings(self) -> dict[str, Any]:
        """JSON-compatible settings for the experiment manifest."""
        return {"name": self.name}


class MedianStopping(Stopper):
    """The median stopping rule (Golovin et al., Google Vizier).

    A trial is stopped at step ``s`` when its best loss so far is worse than the median, over
    the other trials that reached step ``s``, of their running-average loss up to ``s``.

    Args:
        grace_steps: No decision before this step (default 1: the first report is free).
        min_trials: Decide only when at least this many other trials reached the step
            (default 3).
    """

    name = "median"

    def __init__(self, *, grace_steps: int = 1, min_trials: int = 3) -> None:
        self.grace_steps = whole_number("grace_steps", grace_steps, minimum=0)
        self.min_trials = whole_number("min_trials", min_trials)
        # key -> (steps ascending, cumulative loss sums); a trial's reports arrive in order
        self._steps: dict[int, list[int]] = {}
        self._cumsum: dict[int, list[float]] = {}
        self._best: dict[int, float] = {}

    def _running_average(self, key: int, step: int) -> float | None:
        steps = self._steps[key]
        i = bisect.bisect_right(steps, step)
        if i == 0 or steps[-1] < step:
            return None  # this trial has not reached ``step``
        return self._cumsum[key][i - 1] / i

    def report(self, key: int, step: int, loss: float) -> bool:
        steps = self._steps.setdefault(key, [])
        sums = self._cumsum.setdefault(key, [])
        if steps and step <= steps[-1]:
            return False  # a repeated or out-of-order step: not new information
        steps.append(step)
        sums.append((sums[-1] if sums else 0.0) + loss)
        self._best[key] = min(loss, self._best.get(key, math.inf))
        if step < self.grace_steps:
            return False
        others = [a for k in self._steps if k != key
                  if (a := self._running_average(k, step)) is not None]
        if len(others) < self.min_trials:
            return False
        others.sort()
        mid = len(others) // 2
        median = others[mid] if len(others) % 2 else (others[mid - 1] + others[mid]) / 2
        return self._best[key] > median

    def settings(self) -> dict[str, Any]:
        return {"name": self.name, "grace_steps": self.grace_steps, "min_trials": self.min_trials}


class ASHA(Stopper):
    """Asynchronous successive halving (Li et al., 2020), as a stopping rule.

    Rungs sit at ``min_steps * reduction_factor**k`` below ``max_steps`` (every such step when
    ``max_steps`` is None). When a trial first reports at or past a rung, its loss is recorded
    there; the trial continues only if that loss is no worse than the ``1/reduction_factor``
    quantile of all ``n`` losses recorded at the rung so far, its own included: only if it ranks
    among the best ``floor((n - 1) / reduction_factor) + 1``. So about one trial in
    ``reduction_factor`` reaches the next rung and only a few train to the end. Decisions never
    wait for other trials (asynchronous).

    The quantile rather than "the best ``n // reduction_factor``": with few trials at a rung
    the integer cut is harsher (the third of 8 trials would stop), and early rungs, where few
    trials have reported, decide most stops. Ray Tune's ASHA takes the quantile of the *other*
    trials' losses, interpolated, which is a little more lenient while few trials have reported
    (the third trial at a rung of eta 3 goes on there if it is within a third of the way from
    the best to the second; here only if it is the best).

    Example:
        >>> asha = ASHA(max_steps=27, min_steps=3)
        >>> asha.rungs
        [3, 9]
        >>> [asha.report(k, 3, loss) for k, loss in enumerate([0.5, 0.4, 0.6])]
        [False, False, True]
        >>> ASHA().rung(4)      # no max_steps (early_stopping="asha"): rungs 1, 3, 9, 27, 81...
        81

    Args:
        max_steps: The full training length in reported steps; None (the default, and what
            ``early_stopping="asha"`` uses): rungs go on as long as trials report.
        min_steps: The first rung (default 1).
        reduction_factor: ``eta``, the fraction kept at each rung is ``1/eta`` (default 3).
    """

    name = "asha"

    def __init__(self, *, max_steps: int | None = None, min_steps: int = DEFAULT_MIN_STEPS,
                 reduction_factor: int = DEFAULT_REDUCTION_FACTOR) -> None:
        self.max_steps = None if max_steps is None else whole_number("max_steps", max_steps)
        self.min_steps = whole_number("min_steps", min_steps)
        self.reduction_factor = whole_number("reduction_factor", reduction_factor, minimum=2)
        if self.max_steps is not None and self.min_steps >= self.max_steps:
            raise ConfigError(f"min_steps ({min_steps}) must be below max_steps ({max_steps})")
        self._recorded: list[list[float]] = []  # sorted losses per rung, grown on first use
        self._next_rung: dict[int, int] = {}

    def rung(self, i: int) -> int | None:
        """The step of rung ``i`` (0-based), or None past the last one."""
        step = self.min_steps * self.reduction_factor ** i
        return step if self.max_steps is None or step < self.max_steps else None

    @property
    def rungs(self) -> list[int]:
        """The rungs below ``max_steps``; with no ``max_steps``, those reached so far (at least the first)."""
        found: list[int] = []
        while (step := self.rung(len(found))) is not None and (
                self.max_steps is not None or len(found) <= max(len(self._recorded) - 1, 0)):
            found.append(step)
        return found

    def report(self, key: int, step: int, loss: float) -> bool:
        i = self._next_rung.get(key, 0)
        stop = False
        while (rung := self.rung(i)) is not None and step >= rung:
            if i == len(self._recorded):
                self._recorded.append([])
            recorded = self._recorded[i]
            bisect.insort(recorded, loss)
            cutoff = recorded[(len(recorded) - 1) // self.reduction_factor]
            i += 1
            if loss > cutoff:
                stop = True
                break
        self._next_rung[key] = i
        return stop

    def settings(self) -> dict[str, Any]:
        return {"name": self.name, "max_steps": self.max_steps, "min_steps": self.min_steps,
                "reduction_factor": self.reduction_factor, "rungs": self.rungs}


class Hyperband(Stopper):
    """Asynchronous Hyperband (Li et al.): several ASHA brackets, each with its first rung one
    ``reduction_factor`` later than the one before, so some trials are judged early and others
    late (the last bracket never stops a trial). A trial's bracket depends only on its key,
    in Hyperband's proportions: bracket ``b`` of ``R + 1`` (``R`` rungs in the first) gets
    ``ceil((R + 1) / (R - b + 1) * eta ** (R - b))`` trials of every round.

    Example:
        >>> hb = Hyperband(max_steps=27, min_steps=3)
        >>> [a.rungs if a else [] for a in hb.brackets]
        [[3, 9], [9], []]
        >>> hb.counts            # trials per round of 17: Hyperband's n_i for eta=3, R=2
        [9, 5, 3]
        >>> [hb.bracket(k) for k in range(8)]
        [0, 1, 0, 2, 0, 1, 0, 2]

    Args:
        max_steps: The full training length in reported steps (required).
        min_steps: The first rung of the most aggressive bracket (default 1).
        reduction_factor: ``eta`` (default 3).
        brackets: How many brackets, most aggressive first (default: all, ``R + 1``).
    """

    name = "hyperband"

    def __init__(self, *, max_steps: int, min_steps: int = DEFAULT_MIN_STEPS,
                 reduction_factor: int = DEFAULT_REDUCTION_FACTOR, brackets: int | None = None) -> None:
        first = ASHA(max_steps=max_steps, min_steps=min_steps, reduction_factor=reduction_factor)
        eta = first.reduction_factor
        total = len(first.rungs) + 1
        n = total if brackets is None else whole_number("brackets", brackets)
        if n > total:
            raise ConfigError(f"brackets must be at most {total} for rungs {first.rungs}, got {brackets!r}")
        self.max_steps, self.min_steps, self.reduction_factor = first.max_steps, first.min_steps, eta
        self.n_brackets = n
        #: bracket ``b`` is ASHA with its first rung ``eta**b`` later; the last (no rung) is None
        self.brackets: list[ASHA | None] = [
            ASHA(max_steps=max_steps, min_steps=first.min_steps * eta ** b, reduction_factor=eta)
            if b < total - 1 else None for b in range(n)]
        r = total - 1
        self.counts = [math.ceil((r + 1) / (r - b + 1) * eta ** (r - b)) for b in range(n)]
        self._pattern = self._interleave(self.counts)

    @staticmethod
    def _interleave(counts: list[int]) -> list[int]:
        """One round of bracket numbers, each ``counts[b]`` times, spread evenly (smooth
        weighted round robin), so a short experiment still visits every bracket."""
        credit = [0] * len(counts)
        total = sum(counts)
        out = []
        for _ in range(total):
            credit = [c + w for c, w in zip(credit, counts)]
            b = max(range(len(counts)), key=lambda i: (credit[i], -i))
            credit[b] -= total
            out.append(b)
        return out

    def bracket(self, key: int) -> int:
        """The bracket of trial ``key``."""
        return self._pattern[key % len(self._pattern)]

    def report(self, key: int, step: int, loss: float) -> bool:
        bracket = self.brackets[self.bracket(key)]
        return bracket is not None and bracket.report(key, step, loss)

    def settings(self) -> dict[str, Any]:
        return {"name": self.name, "max_steps": self.max_steps, "min_steps": self.min_steps,
                "reduction_factor": self.reduction_factor, "brackets": self.n_brackets}


def names_search_pruner(spec: Any) -> bool:
    """True when ``spec`` asks for the search's own pruner (``"optuna"``, ``{"name": "optuna"}``
    or the stopper :meth:`OptunaSearch.stopper` returns), which only the search can build.

    >>> names_search_pruner("optuna"), names_search_pruner({"name": "asha"})
    (True, False)
    """
    if isinstance(spec, Mapping):
        spec = spec.get("name")
    elif isinstance(spec, Stopper):
        spec = spec.name
    return spec == "optuna"


def make_stopper(spec: Any) -> Stopper | None:
    """A stopper from ``None``, a :class:`Stopper`, a name or a dict with ``name`` and options.

    ``"median"`` is :class:`MedianStopping` with its defaults (``grace_steps=1``,
    ``min_trials=3``); ``"asha"`` is :class:`ASHA` with its defaults (rungs at 1, 3, 9, 27...
    for as long as trials report); ``{"name": "asha", "max_steps": 81, "min_steps": 3}`` sets
    options; ``{"name": "hyperband", "max_steps": 81}`` is :class:`Hyperband` (which needs
    ``max_steps``).

    >>> make_stopper("asha").settings()["reduction_factor"], make_stopper({"name": "asha", "max_steps": 9}).rungs
    (3, [1, 3])
    """
    if spec is None or isinstance(spec, Stopper):
        return spec
    options: dict[str, Any] = {}
    if isinstance(spec, dict):
        options = dict(spec)
        spec = options.pop("name", None)
    rules: dict[Any, type[Stopper]] = {"median": MedianStopping, "asha": ASHA, "hyperband": Hyperband}
    rule = rules.get(spec) if isinstance(spec, str) else None
    if rule is not None:
        if spec == "asha":
            options.pop("rungs", None)  # recorded in manifests, derived from the others
        accepted = list(inspect.signature(rule).parameters)
        unknown = [k for k in options if k not in accepted]
        if unknown:
            raise ConfigError(f"early_stopping {spec!r} takes {', '.join(accepted)}; got "
                              f"{', '.join(map(repr, unknown))}")
        if spec == "hyperband" and "max_steps" not in options:
            raise ConfigError("early_stopping='hyperband' needs max_steps: pass "
                              "early_stopping={'name': 'hyperband', 'max_steps': N} or a Hyperband(...)")
        return rule(**options)
    raise ConfigError("early_stopping must be 'median', 'asha', 'hyperband', a dict with 'name', "
                      f"or a Stopper; got {spec!r}")
