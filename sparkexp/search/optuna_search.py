"""Optuna's samplers (TPE, CMA-ES, NSGA-II, GP, QMC ...) driven through Optuna's ask/tell.

:class:`OptunaSearch` keeps an in-memory Optuna study. ``ask`` calls ``study.ask()`` and
suggests the parameters of a sparkexp space (or calls your define-by-run function on the
Optuna trial); ``tell`` calls ``study.tell``. Candidates not told yet are ``RUNNING`` trials of
the study, as in Optuna's own parallel use, so as many trials run at once as there are slots,
with no barrier (TPE's ``constant_liar`` is on by default to keep concurrent proposals apart).

Determinism: the sampler is seeded and sees only the sequence of asks, intermediate reports
and tells, so replaying the journal rebuilds the same study (resume checks it).

How a sparkexp space maps onto Optuna's distributions: choices -> categorical (weights are
ignored: Optuna has none), ``uniform``/``loguniform``/``uniformint`` -> float / log float / int,
``quniform``/``qloguniform`` -> an int ``k`` with value ``k * q`` (inside the bounds, as random
search draws them), normals and lognormals -> their quantile in (0, 1) (Optuna has no unbounded
distributions); conditional parameters are suggested only when active. A trial's stopped state
maps to ``PRUNED``, errors and timeouts to ``FAIL``.

Example:
    >>> s = OptunaSearch({"x": [-3.0, 3.0], "opt": ["a", "b"]}, trials=25, sampler="tpe", seed=0)
    >>> while not s.is_finished():
    ...     for c in s.ask(2):
    ...         s.tell(c.key, (c.params["x"] - 1) ** 2 + (c.params["opt"] == "b"))
    >>> s.best_loss < 0.2
    True
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sparkexp._refs import function_ref, import_ref
from sparkexp.errors import ConfigError, SearchSpaceError
from sparkexp.search._base import Candidate, Search, TracksBest
from sparkexp.search._util import as_space, positive_int, resolve_seed
from sparkexp.search.stopping import Stopper
from sparkexp.space import Space
from sparkexp.space import _dists as d
from sparkexp.space._conditional import holds

__all__ = ["OptunaSearch", "OptunaPruning", "SAMPLERS", "PRUNERS", "recorded_constraints"]

#: sampler name -> Optuna class name (under ``optuna.samplers``)
SAMPLERS: Mapping[str, str] = {
    "tpe": "TPESampler",
    "cmaes": "CmaEsSampler",
    "nsga2": "NSGAIISampler",
    "nsga3": "NSGAIIISampler",
    "gp": "GPSampler",
    "qmc": "QMCSampler",
    "random": "RandomSampler",
}
#: pruner name -> Optuna class name (under ``optuna.pruners``)
PRUNERS: Mapping[str, str] = {
    "median": "MedianPruner",
    "percentile": "PercentilePruner",
    "successive_halving": "SuccessiveHalvingPruner",
    "hyperband": "HyperbandPruner",
    "threshold": "ThresholdPruner",
    "wilcoxon": "WilcoxonPruner",
    "nop": "NopPruner",
}
#: samplers that optimise a single objective only
_SINGLE_OBJECTIVE = frozenset({"cmaes"})
#: the user attribute holding a trial's constraint values (read by :func:`recorded_constraints`)
_CONSTRAINTS_ATTR = "sparkexp_constraints"
# Optuna's normal-family stand-in: the quantile, kept off 0 and 1 (the inverse CDF is infinite)
_U_EPS = 1e-9


def recorded_constraints(trial: Any) -> Sequence[float]:
    """An Optuna ``constraints_func`` reading the constraint values sparkexp recorded.

    Pass it to a sampler you build yourself: ``TPESampler(constraints_func=recorded_constraints)``.
    A trial without recorded values (pruned before its outputs) counts as feasible.
    """
    return tuple(trial.user_attrs.get(_CONSTRAINTS_ATTR, ()))


def _build(kind: str, names: Mapping[str, str], spec: Any, options: Mapping[str, Any],
           extra: Mapping[str, Any]) -> Any:
    import optuna

    module = optuna.samplers if kind == "sampler" else optuna.pruners
    if spec not in names:
        raise ConfigError(f"unknown {kind} {spec!r}; accepted: {', '.join(names)}, or an Optuna "
                          f"{kind} object")
    cls = getattr(module, names[spec])
    accepted = inspect.signature(cls).parameters
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ConfigError(f"{kind} {spec!r} ({cls.__name__}) does not take {unknown}; it takes "
                          f"{sorted(accepted)}")
    kwargs = {**{k: v for k, v in extra.items() if k in accepted}, **options}
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{kind} {spec!r}: {exc}") from None


class OptunaSearch(TracksBest, Search):
    """A search over Optuna's ask/tell with any Optuna sampler (see the module docstring).

    Args:
        space: A sparkexp :class:`~sparkexp.space.Space` or dict (conditional parameters
            included), or a define-by-run function ``space(trial)`` calling ``trial.suggest_*``;
            it may return the hyperparameters as a dict (else ``trial.params`` are used).
        trials: Number of trials in all.
        sampler: ``"tpe"`` (default), ``"cmaes"``, ``"nsga2"``, ``"nsga3"``, ``"gp"``, ``"qmc"``,
            ``"random"``, or an Optuna sampler object (then resume needs the same object again).
        sampler_options: Keyword arguments of the named sampler (``{"n_startup_trials": 10}``);
            ``seed`` is set from ``seed``, ``constant_liar`` defaults to True for TPE.
        seed: Seed of the sampler; None draws one from the OS (recorded in :meth:`settings`).
        objectives: How many values each trial is told (several objectives, e.g. with NSGA-II).
        pruner: An Optuna pruner (``"median"``, ``"successive_halving"``, ``"hyperband"``,
            ``"percentile"``, ``"threshold"``, ``"wilcoxon"``, ``"nop"`` or an object) deciding
            from ``reporter.log`` reports whether to stop a trial; see :meth:`stopper`.
        pruner_options: Keyword arguments of the named pruner.
        constraints: True when the runner evaluates constraints: the named sampler (if it takes
            them) gets a ``constraints_func`` reading them.
    """

    name = "optuna"

    def __init__(
        self,
        space: Space | Mapping[str, Any] | Callable[[Any], Any],
        *,
        trials: int,
        sampler: Any = "tpe",
        sampler_options: Mapping[str, Any] | None = None,
        seed: int | None = None,
        objectives: int = 1,
        pruner: Any = None,
        pruner_options: Mapping[str, Any] | None = None,
        constraints: bool = False,
    ) -> None:
        try:
            import optuna
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise ConfigError("OptunaSearch needs Optuna: pip install 'sparkexp[optuna]'") from exc

        self.define: Callable[[Any], Any] | None = None
        self.space: Space | None = None
        if callable(space) and not isinstance(space, (Space, Mapping)):
            self.define = space
        else:
            self.space = as_space(space, owner="optuna_search")  # type: ignore[arg-type]
        self.trials = positive_int("OptunaSearch", "trials", trials)
        self.objectives = positive_int("OptunaSearch", "objectives", objectives)
        self.seed = resolve_seed(seed)
        self.constraints = bool(constraints)
        self._sampler_name = sampler if isinstance(sampler, str) else None
        self._sampler_options = dict(sampler_options or {})
        self._pruner_name = pruner if isinstance(pruner, str) or pruner is None else None
        self._pruner_options = dict(pruner_options or {})
        if self._sampler_name is None and sampler_options:
            raise ConfigError("sampler_options go with a sampler name; configure a sampler object "
                              "yourself")
        if isinstance(sampler, str):
            extra: dict[str, Any] = {"seed": self.seed % 2**32}  # Optuna takes 32-bit seeds
            if sampler == "tpe":
                extra["constant_liar"] = True
            if self.constraints:
                extra["constraints_func"] = recorded_constraints
            sampler = _build("sampler", SAMPLERS, sampler, self._sampler_options, extra)
        elif not isinstance(sampler, optuna.samplers.BaseSampler):
            raise ConfigError(f"sampler must be one of {', '.join(SAMPLERS)} or an Optuna sampler, "
                              f"got {sampler!r}")
        if isinstance(pruner, str):
            pruner = _build("pruner", PRUNERS, pruner, self._pruner_options, {})
        elif pruner is not None and not isinstance(pruner, optuna.pruners.BasePruner):
            raise ConfigError(f"pruner must be one of {', '.join(PRUNERS)}, an Optuna pruner or None, "
                              f"got {pruner!r}")
        if pruner is not None and self.objectives > 1:
            raise ConfigError("Optuna prunes single-objective studies only; drop pruner= or use "
                              "one objective")
        self.max_objectives = 1 if self._sampler_name in _SINGLE_OBJECTIVE else None
        self.pruner = pruner
        self._sampler_label = (self._sampler_name if self._sampler_name is not None
                               else f"object:{type(sampler).__module__}.{type(sampler).__qualname__}")
        optuna.logging.set_verbosity(max(optuna.logging.get_verbosity(), logging.WARNING))
        self.study = optuna.create_study(
            directions=["minimize"] * self.objectives, sampler=sampler,
            pruner=pruner if pruner is not None else optuna.pruners.NopPruner())
        self._running: dict[int, Any] = {}
        self._params: dict[int, dict[str, Any]] = {}
        self._reported: dict[int, set[int]] = {}  # steps told to Optuna (no study.trials copies)
        self._constraint_values: dict[int, list[float]] = {}
        self._next = 0

    # -- proposing ------------------------------------------------------------------------
    @property
    def total(self) -> int:
        return self.trials

    def ask(self, n: int) -> list[Candidate]:
        out: list[Candidate] = []
        while len(out) < n and self._next < self.trials:
            trial = self.study.ask()
            key = self._next
            if trial.number != key:  # pragma: no cover - the study is ours alone
                raise RuntimeError(f"Optuna trial number {trial.number} != key {key}")
            params = self._suggest(trial)
            self._running[key] = trial
            self._params[key] = params
            out.append(Candidate(key, params))
            self._next += 1
        return out

    def _suggest(self, trial: Any) -> dict[str, Any]:
        if self.define is not None:
            returned = self.define(trial)
            if returned is None:
                return dict(trial.params)
            if not isinstance(returned, Mapping):
                raise SearchSpaceError(
                    f"the define-by-run function returned {returned!r}; return None (the trial's "
                    "suggested params are used) or a dict of hyperparameters"
                )
            return dict(returned)
        assert self.space is not None
        params: dict[str, Any] = {}
        conditions = self.space.conditions
        for name, dist in self.space.items():
            if name in conditions and not holds(conditions[name], params):
                continue  # absent: not suggested, so Optuna models it only where it exists
            params[name] = _suggest_one(trial, name, dist)
        return params

    # -- results ------------------------------------------------------------------------------
    def tell_constraints(self, key: int, values: Sequence[float]) -> None:
        self._constraint_values[key] = [float(v) for v in values]

    def tell(self, key: int, loss: float | None, status: str = "complete") -> None:
        self._finish(key, None if loss is None else [float(loss)], status)
        if loss is not None and math.isfinite(loss) and status == "complete" and self._feasible(key):
            self._offer_best(float(loss), lambda: dict(self._params[key]))

    def tell_objectives(self, key: int, losses: Sequence[float] | None,
                        status: str = "complete") -> None:
        if losses is not None and len(losses) != self.objectives:
            raise ValueError(f"OptunaSearch.tell_objectives: {len(losses)} losses for a study of "
                             f"{self.objectives} objectives")
        self._finish(key, None if losses is None else [float(v) for v in losses], status)

    def _feasible(self, key: int) -> bool:
        return all(v <= 0 for v in self._constraint_values.get(key, ()))

    def _finish(self, key: int, values: list[float] | None, status: str) -> None:
        from optuna.trial import TrialState

        trial = self._running.pop(key, None)
        if trial is None:
            raise ValueError(f"OptunaSearch.tell: key {key!r} is not an asked, untold candidate")
        self._reported.pop(key, None)
        if key in self._constraint_values:
            trial.set_user_attr(_CONSTRAINTS_ATTR, self._constraint_values[key])
        usable = values is not None and all(math.isfinite(v) for v in values)
        if status == "complete" and usable:
            self.study.tell(trial, values)
        elif status == "stopped":
            if values is not None and usable and len(values) == 1 and not self._reported.get(key):
                trial.report(values[0], 0)  # so TPE can rank the pruned trial
            self.study.tell(trial, state=TrialState.PRUNED)
        else:
            self.study.tell(trial, state=TrialState.FAIL)

    def report(self, key: int, step: int, loss: float) -> bool:
        """An intermediate loss of a running trial; True when the pruner says stop."""
        trial = self._running.get(key)
        if trial is None or self.pruner is None:
            return False
        steps = self._reported.setdefault(key, set())
        if step not in steps:
            steps.add(int(step))
            trial.report(float(loss), int(step))
        return bool(trial.should_prune())

    def stopper(self) -> OptunaPruning:
        """The early-stopping rule asking this search's pruner (pass as ``early_stopping=``)."""
        if self.pruner is None:
            raise ConfigError("this OptunaSearch has no pruner: pass pruner='median' (or another)")
        return OptunaPruning(self)

    def is_finished(self) -> bool:
        return self._next >= self.trials

    def names(self, *, probes: int = 32) -> tuple[list[str], list[str]]:
        """(names every trial gets, names only some get). A define-by-run function is probed
        on a throwaway random-sampled study ``probes`` times to find them."""
        if self.space is not None:
            optional = self.space.optional_names
            return [n for n in self.space.names if n not in optional], optional
        import optuna

        probe = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        seen: list[set[str]] = []
        for _ in range(probes):
            trial = probe.ask()
            returned = self.define(trial)  # type: ignore[misc]
            seen.append(set(returned if isinstance(returned, Mapping) else trial.params))
            probe.tell(trial, state=optuna.trial.TrialState.FAIL)
        union = sorted(set().union(*seen))
        always = [n for n in union if all(n in s for s in seen)]
        return always, [n for n in union if n not in always]

    def settings(self) -> dict[str, Any]:
        return {
            "space": None if self.space is None else self.space.to_dict(),
            "define": None if self.define is None else function_ref(self.define),
            "trials": self.trials,
            "sampler": self._sampler_label,
            "sampler_options": self._sampler_options,
            "seed": self.seed,
            "objectives": self.objectives,
            "pruner": (self._pruner_name if self.pruner is None or self._pruner_name is not None
                       else f"object:{type(self.pruner).__qualname__}"),
            "pruner_options": self._pruner_options,
            "constraints": self.constraints,
        }

    @classmethod
    def from_settings(cls, s: Mapping[str, Any]) -> OptunaSearch:
        """The search :meth:`settings` recorded (for resume)."""
        for key in ("sampler", "pruner"):
            if str(s.get(key) or "").startswith("object:"):
                raise ConfigError(
                    f"cannot rebuild this Optuna search: its {key} was an object "
                    f"({s[key][7:]}); resume by calling optuna_search again with the same "
                    f"{key}, seed and resume=True"
                )
        space: Any = s.get("space")
        if space is None:
            ref = s.get("define")
            if not ref:
                raise ConfigError(
                    "cannot rebuild this Optuna search: its define-by-run function cannot be "
                    "imported (a lambda or defined in __main__); resume by calling optuna_search "
                    "again with the same function, seed and resume=True"
                )
            space = import_ref(str(ref))
        return cls(space, trials=s["trials"], sampler=s["sampler"],
                   sampler_options=s.get("sampler_options") or None, seed=s["seed"],
                   objectives=s.get("objectives", 1), pruner=s.get("pruner"),
                   pruner_options=s.get("pruner_options") or None,
                   constraints=bool(s.get("constraints")))


class OptunaPruning(Stopper):
    """Early stopping by an :class:`OptunaSearch`'s pruner, fed by ``reporter.log``."""

    name = "optuna"

    def __init__(self, search: OptunaSearch) -> None:
        self.search = search

    def report(self, key: int, step: int, loss: float) -> bool:
        return self.search.report(key, step, loss)

    def settings(self) -> dict[str, Any]:
        return {"name": self.name, "pruner": self.search.settings()["pruner"]}


def _suggest_one(trial: Any, name: str, dist: d.Dist) -> Any:
    """Suggest one sparkexp primitive on an Optuna trial; returns the value the trial gets."""
    if isinstance(dist, d.Fixed):
        return dist.value
    if isinstance(dist, d.Choice):
        plain = all(o is None or isinstance(o, (bool, int, float, str)) for o in dist.options)
        if plain and len(set(map(repr, dist.options))) == len(dist.options):
            return trial.suggest_categorical(name, list(dist.options))
        return dist.options[trial.suggest_categorical(name, list(range(len(dist.options))))]
    if isinstance(dist, d.UniformInt):
        return trial.suggest_int(name, dist.low, dist.high)
    if isinstance(dist, (d.QUniform, d.QLogUniform)):
        lo = math.ceil(dist.low / dist.q - 1e-9)
        hi = math.floor(dist.high / dist.q + 1e-9)
        k = trial.suggest_int(name, lo, hi, log=isinstance(dist, d.QLogUniform) and lo >= 1)
        return d._clean(k * dist.q, dist.q)
    if isinstance(dist, d.LogUniform):
        return trial.suggest_float(name, dist.low, dist.high, log=True)
    if isinstance(dist, d.Uniform):
        return trial.suggest_float(name, dist.low, dist.high)
    # normal family: Optuna has no unbounded distribution; search the quantile instead
    return dist.from_unit(trial.suggest_float(name, _U_EPS, 1 - _U_EPS))
