"""Several objectives and constraints: validation, losses, feasibility and the Pareto front.

An experiment optimises one metric (``metric="accuracy"``, ``direction="max"``) or several
(``metric=["accuracy", "latency"]``, ``direction=["max", "min"]``). With several there is no
single best trial: the result is the Pareto front, the feasible trials no other feasible trial
beats on every objective.

Constraints are a function of a trial's outputs returning a number or a list of numbers (each
``<= 0`` when satisfied, Optuna's convention), or thresholds on outputs
(``{"latency": {"max": 120}, "accuracy": {"min": 0.8}}``). A trial violating one is recorded as
infeasible and never becomes the best or part of the front.

Example:
    >>> obj = Objectives.parse(["accuracy", "latency"], ["max", "min"])
    >>> obj.losses({"accuracy": 0.9, "latency": 12.0})
    [-0.9, 12.0]
    >>> Constraints.parse({"latency": {"max": 10}}).evaluate({"latency": 12.0})
    [2.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sparkexp import validate
from sparkexp._refs import function_ref, import_ref
from sparkexp.errors import ConfigError
from sparkexp.outputs import as_number

if TYPE_CHECKING:
    from sparkexp.trial import Trial

__all__ = ["Objectives", "Constraints", "pareto_front", "dominates"]

@dataclass(frozen=True)
class Objectives:
    """Several optimised outputs, each maximised or minimised."""

    metrics: tuple[str, ...]
    directions: tuple[str, ...]

    @classmethod
    def parse(cls, metric: Any, direction: Any) -> Objectives:
        """Validate ``metric`` (a list of output names) and ``direction`` (one, or one each).

        Raises:
            ConfigError: a one-line message naming the bad input.
        """
        names = validate.metrics(metric)
        directions = validate.directions(direction, names)
        return cls(tuple(names), directions)

    def losses(self, outputs: Mapping[str, Any]) -> list[float] | None:
        """The values to minimise, in order, or None when an objective is missing or not finite."""
        out = []
        for name, direction in zip(self.metrics, self.directions):
            number = as_number(outputs.get(name))
            if number is None or not math.isfinite(number):
                return None
            out.append(-number if direction == "max" else number)
        return out

    def settings(self) -> list[dict[str, str]]:
        """JSON-compatible record for the manifest."""
        return [{"metric": m, "direction": d} for m, d in zip(self.metrics, self.directions)]

    @classmethod
    def from_settings(cls, recorded: Any) -> Objectives | None:
        """The objectives :meth:`settings` recorded (None for a single-objective record)."""
        if not isinstance(recorded, list) or len(recorded) < 2:
            return None
        return cls(tuple(str(o["metric"]) for o in recorded),
                   tuple(str(o["direction"]) for o in recorded))


class Constraints:
    """Constraints on a trial's outputs; :meth:`evaluate` gives values ``<= 0`` when satisfied.

    Args:
        spec: A function ``outputs -> number | list of numbers``, or thresholds
            ``{output: {"min": low, "max": high}}`` (either bound may be left out).
    """

    def __init__(self, spec: Callable[[dict[str, Any]], Any] | Mapping[str, Any]) -> None:
        self.function: Callable[[dict[str, Any]], Any] | None = None
        self.thresholds: dict[str, dict[str, float]] = {}
        if callable(spec):
            self.function = spec
            return
        if not isinstance(spec, Mapping) or not spec:
            raise ConfigError(f"constraints must be a function of the outputs or a dict of "
                              f"output -> {{'min': ..., 'max': ...}}, got {spec!r}")
        for name, bounds in spec.items():
            if not isinstance(bounds, Mapping) or not bounds or set(bounds) - {"min", "max"}:
                raise ConfigError(f"constraint on {name!r} must be a dict with 'min' and/or 'max', "
                                  f"got {bounds!r}")
            checked = {}
            for key, value in bounds.items():
                number = as_number(value)
                if number is None or not math.isfinite(number):
                    raise ConfigError(f"constraint {name!r} {key} must be a finite number, got {value!r}")
                checked[str(key)] = number
            self.thresholds[str(name)] = checked

    @classmethod
    def parse(cls, spec: Any) -> Constraints | None:
        """None for None, else :class:`Constraints` (an existing one is returned as is)."""
        if spec is None or isinstance(spec, Constraints):
            return spec
        return cls(spec)

    def evaluate(self, outputs: Mapping[str, Any]) -> list[float]:
        """Constraint values for ``outputs`` (each ``<= 0`` when satisfied).

        Raises:
            ValueError: the function returned something other than numbers, or an output a
                threshold names is missing or not a number.
        """
        if self.function is not None:
            raw = self.function(dict(outputs))
            items = raw if isinstance(raw, (list, tuple)) else [raw]
            values = [as_number(v) for v in items]
            if not values or any(v is None or math.isnan(v) for v in values):
                raise ValueError(f"the constraints function returned {raw!r}; return a number or a "
                                 "list of numbers (each <= 0 when the constraint holds)")
            return [float(v) for v in values]  # type: ignore[arg-type]
        out = []
        for name, bounds in self.thresholds.items():
            value = as_number(outputs.get(name))
            if value is None or math.isnan(value):
                raise ValueError(f"constraint on output {name!r}: the trial returned "
                                 f"{outputs.get(name)!r} (outputs: {', '.join(outputs) or 'none'})")
            if "min" in bounds:
                out.append(bounds["min"] - value)
            if "max" in bounds:
                out.append(value - bounds["max"])
        return out

    def settings(self) -> dict[str, Any]:
        """JSON-compatible record: the thresholds, or the function's name."""
        if self.function is not None:
            return {"function": function_ref(self.function)}
        return {"thresholds": self.thresholds}

    @staticmethod
    def from_settings(recorded: Any) -> Any:
        """What :meth:`settings` recorded as a ``constraints=`` value: the thresholds, the
        function imported again, or (when it cannot be imported) the record itself, which
        :class:`~sparkexp.options.RunOptions` refuses with a message asking for ``constraints=``.
        """
        if not isinstance(recorded, Mapping):
            return recorded
        if "thresholds" in recorded:
            return dict(recorded["thresholds"])
        try:
            return import_ref(str(recorded.get("function")))
        except (ImportError, ValueError):
            return {"function": recorded.get("function")}


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """True when losses ``a`` are no worse than ``b`` everywhere and better somewhere.

    >>> dominates([1, 2], [1, 3]), dominates([1, 2], [2, 1])
    (True, False)
    """
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


def pareto_front(trials: Sequence[Trial], objectives: Objectives) -> list[Trial]:
    """Completed, feasible trials that no other such trial dominates, in index order."""
    scored = []
    for t in trials:
        if t.status != "complete" or t.feasible is False:
            continue
        losses = objectives.losses(t.outputs)
        if losses is not None:
            scored.append((t, losses))
    return [t for t, losses in scored
            if not any(dominates(other, losses) for _, other in scored)]
