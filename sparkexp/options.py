"""How an experiment runs: every run option declared once, validated once, recorded whole.

:class:`RunOptions` is frozen and checks itself on construction, so an invalid value is a
one-line :class:`~sparkexp.errors.ConfigError` before Spark starts. The entry points of
:mod:`sparkexp.experiment` take these options as keywords and build one; the manifest records
every field (:meth:`RunOptions.to_manifest`), and ``resume`` rebuilds it from there
(:meth:`RunOptions.from_manifest`), so a resumed experiment runs with every option it had.

Example:
    >>> o = RunOptions(timeout=60, fail_fast=True)
    >>> o.max_failures, o.kill_grace
    (1, 3.0)
    >>> RunOptions.from_manifest(o.to_manifest()) == o
    True
    >>> RunOptions(max_parallel=0)
    Traceback (most recent call last):
    ...
    sparkexp.errors.ConfigError: max_parallel must be a positive whole number, got 0
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sparkexp import validate
from sparkexp.checkpoint import DEFAULT_KEEP
from sparkexp.errors import ConfigError
from sparkexp.objectives import Constraints, Objectives
from sparkexp.search.stopping import Stopper, make_stopper, names_search_pruner
from sparkexp.tracking._options import check_option, recordable

__all__ = ["RunOptions", "OPTION_NAMES", "UnknownOptionError", "check_names"]


class UnknownOptionError(ConfigError, TypeError):
    """An option name no entry point takes (a TypeError too, as Python's own for a keyword)."""


@dataclass(frozen=True)
class RunOptions:
    """The run options every entry point accepts (``grid_search(..., timeout=60)``).

    Attributes:
        direction: ``"max"`` or ``"min"``; with several metrics one for all, or a list of one
            each (kept as a tuple).
        metric: Name of the output to optimise when the function returns a dict, or a list of
            2 or more names for several objectives (kept as a tuple; the result then gives the
            Pareto front, and ``target`` and ``early_stopping`` are refused).
        max_parallel: Trials at once (None: the session's task slots).
        root: Project root (None: Spark conf, ``SPARKEXP_PROJECT_ROOT``, ``./sparkexp-project``).
        target: Stop proposing trials once a metric this good is reached.
        timeout: Seconds for the whole experiment; then running trials are stopped (recorded
            as ``timeout``) and the experiment returns (state ``timeout`` if the search had more).
        trial_timeout: Seconds for one trial; a trial over it is stopped (``timeout``) and
            counts as a failure.
        early_stopping: ``"median"``, ``"asha"`` (rungs 1, 3, 9... for as long as trials
            report), a dict with ``name`` and options (``{"name": "asha", "max_steps": 27}``),
            or a :class:`~sparkexp.search.stopping.Stopper`; ``"optuna"``: the pruner of the
            :func:`~sparkexp.experiment.optuna_search` being run.
        max_trial_retries: Re-run a trial whose function raised up to this many times.
        max_failures: End the experiment (everything recorded) once this many trials failed
            (error, or over ``trial_timeout``); raises
            :class:`~sparkexp.errors.ExperimentAborted` with ``.result``. Trials stopped by the
            experiment's ``timeout``, a kill or an interrupt are not failures.
        fail_fast: Same as ``max_failures=1``.
        kill_grace: Seconds a stopped trial gets to end before its Spark task is killed.
        echo_output: Also print trial output to the executor's own stdout/stderr: ``True``
            as it comes, ``"tail"`` the last lines of each trial when it ends (all of stderr
            for a failed one), ``False`` not at all. ``"auto"``: ``"tail"`` in a notebook on
            local Spark (where executor output lands in the cell), else ``True``. The full
            logs are always in the trial's ``stdout.log``/``stderr.log``.
        gpus_per_trial: GPUs each trial gets (pinned through ``CUDA_VISIBLE_DEVICES``); None:
            the session's ``spark.task.resource.gpu.amount``.
        cpus_per_trial: CPU cores each trial gets; None: the session's ``spark.task.cpus``.
        local_logdir: ``tensorboard.logdir()`` is a local directory on the executor, copied
            into the trial folder every 30 s and when the trial ends.
        description: A longer description, recorded in the manifest (as hops records it).
        constraints: A function of a trial's outputs returning a number or a list of numbers
            (each ``<= 0`` when satisfied), or thresholds ``{"latency": {"max": 120}}``;
            infeasible trials are recorded as such and never become the best. Thresholds are
            recorded and kept by resume; a function is recorded as its importable reference
            (``module:qualname``) and imported again by resume; a lambda or a function defined
            in ``__main__`` cannot be, and resume then asks for ``constraints=``.
        mlflow: Log the experiment to MLflow as it runs: a tracking URI, ``True`` for the
            environment's MLflow, ``False`` for off; None: the Spark conf
            ``spark.sparkexp.mlflow.trackingUri`` when set (see docs/mlflow.md). A URI with
            credentials in it is not recorded in the manifest.
        keep_checkpoints: Checkpoints kept per trial (``reporter.checkpoint``; see
            docs/checkpoints.md).
    """

    direction: str | tuple[str, ...] = "max"
    metric: str | tuple[str, ...] | None = None
    max_parallel: int | None = None
    root: str | None = None
    target: float | None = None
    timeout: float | None = None
    trial_timeout: float | None = None
    early_stopping: Any = None
    max_trial_retries: int = 0
    max_failures: int | None = None
    fail_fast: bool = False
    kill_grace: float = 3.0
    echo_output: bool | str = "auto"
    gpus_per_trial: int | None = None
    cpus_per_trial: int | None = None
    local_logdir: bool = False
    description: str | None = None
    constraints: Any = None
    mlflow: str | bool | None = None
    keep_checkpoints: int = DEFAULT_KEEP

    def __post_init__(self) -> None:
        put = object.__setattr__  # frozen: normalise in place once, here
        if isinstance(self.metric, (list, tuple)) and len(self.metric) > 1:
            names = validate.metrics(self.metric)
            put(self, "metric", names)
            put(self, "direction", validate.directions(self.direction, names))
        elif isinstance(self.direction, (list, tuple)):
            raise ConfigError(f"direction={list(self.direction)!r} is a list but metric="
                              f"{self.metric!r} is not; give metric=[...] with one name per direction")
        else:  # a one-element list gets the one-metric error
            put(self, "direction", validate.direction(self.direction))
            put(self, "metric", validate.metric(self.metric))
        put(self, "max_parallel", validate.optional_whole_number("max_parallel", self.max_parallel))
        if self.root is not None and not isinstance(self.root, str):
            raise ConfigError(f"root must be a path or URL (a string), got {self.root!r}")
        put(self, "target", validate.number("target", self.target))
        put(self, "timeout", validate.seconds("timeout", self.timeout))
        put(self, "trial_timeout", validate.seconds("trial_timeout", self.trial_timeout))
        if not names_search_pruner(self.early_stopping):
            make_stopper(self.early_stopping)  # refuses what it cannot build
        put(self, "max_trial_retries",
            validate.whole_number("max_trial_retries", self.max_trial_retries, minimum=0))
        put(self, "max_failures", validate.optional_whole_number("max_failures", self.max_failures))
        put(self, "fail_fast", validate.flag("fail_fast", self.fail_fast))
        if self.fail_fast:
            put(self, "max_failures", 1)
        put(self, "kill_grace", validate.seconds("kill_grace", self.kill_grace) or 0.0)
        if not (isinstance(self.echo_output, bool) or self.echo_output in ("tail", "auto")):
            raise ConfigError(f"echo_output must be True, False, 'tail' or 'auto', got {self.echo_output!r}")
        put(self, "gpus_per_trial",
            validate.optional_whole_number("gpus_per_trial", self.gpus_per_trial, minimum=0))
        put(self, "cpus_per_trial", validate.optional_whole_number("cpus_per_trial", self.cpus_per_trial))
        put(self, "local_logdir", validate.flag("local_logdir", self.local_logdir))
        put(self, "keep_checkpoints", validate.whole_number("keep_checkpoints", self.keep_checkpoints))
        if self.description is not None and not isinstance(self.description, str):
            raise ConfigError(f"description must be a string, got {self.description!r}")
        put(self, "constraints", _constraints(self.constraints))
        check_option(self.mlflow)
        if isinstance(self.metric, tuple):
            for key in ("target", "early_stopping"):
                if getattr(self, key) is not None:
                    raise ConfigError(f"{key} needs one objective; got metric={list(self.metric)!r}")

    @property
    def objectives(self) -> Objectives | None:
        """The objectives when ``metric`` names several, else None."""
        if not isinstance(self.metric, tuple):
            return None
        return Objectives(self.metric, tuple(self.direction))

    @property
    def main_direction(self) -> str:
        """``direction``, or the first objective's with several."""
        return self.direction if isinstance(self.direction, str) else self.direction[0]

    @property
    def main_metric(self) -> str | None:
        """``metric``, or the first objective's with several."""
        return self.metric[0] if isinstance(self.metric, tuple) else self.metric

    @property
    def constraint_rule(self) -> Constraints | None:
        """The ``constraints`` as a :class:`~sparkexp.objectives.Constraints`, or None."""
        return None if self.constraints is None else Constraints(self.constraints)

    @property
    def prunes_with_search(self) -> bool:
        """``early_stopping`` names the search's own pruner (``"optuna"``)."""
        return names_search_pruner(self.early_stopping)

    def stopper(self) -> Stopper | None:
        """A fresh early-stopping rule (a given :class:`Stopper` object is used as it is).

        None when the rule is the search's own pruner: the entry point binds it to the search.
        """
        if names_search_pruner(self.early_stopping) and not isinstance(self.early_stopping, Stopper):
            return None
        return make_stopper(self.early_stopping)

    def replace(self, **changes: Any) -> RunOptions:
        """A copy with ``changes`` (validated like any new options).

        Raises:
            UnknownOptionError: an unknown option name (the message lists the accepted ones).
        """
        check_names(changes)
        return dataclasses.replace(self, **changes)

    def to_manifest(self, stopper: Stopper | None = None) -> dict[str, Any]:
        """Every field for ``experiment.json``; ``early_stopping`` as the stopper's settings.

        With several objectives ``metric`` and ``direction`` hold the first one's (what readers
        of one metric show) and ``objectives`` lists them all; ``constraints`` as thresholds or
        a function's reference.
        """
        data = {name: getattr(self, name) for name in OPTION_NAMES}
        rule = stopper if stopper is not None else self.stopper()
        if rule is None and self.prunes_with_search:
            rule_settings: Any = {"name": "optuna"}
        else:
            rule_settings = None if rule is None else rule.settings()
        data["early_stopping"] = rule_settings
        objectives = self.objectives
        if objectives is not None:
            data.update(metric=objectives.metrics[0], direction=objectives.directions[0],
                        objectives=objectives.settings())
        rule_c = self.constraint_rule
        data["constraints"] = None if rule_c is None else rule_c.settings()
        data["mlflow"] = recordable(self.mlflow)
        return data

    @staticmethod
    def recorded(manifest: Mapping[str, Any]) -> dict[str, Any]:
        """The option values a manifest recorded, as keywords (older manifests lack some).

        ``root`` is the recorded ``project_root`` when no ``root`` was recorded; several
        ``objectives`` become ``metric`` and ``direction`` lists; recorded ``constraints``
        thresholds are used as they are, a function's reference is imported again.
        """
        given = {name: manifest[name] for name in OPTION_NAMES if name in manifest}
        objectives = Objectives.from_settings(manifest.get("objectives"))
        if objectives is not None:
            given.update(metric=list(objectives.metrics), direction=list(objectives.directions))
        if given.get("constraints") is not None:
            given["constraints"] = Constraints.from_settings(given["constraints"])
        if given.get("root") is None and manifest.get("project_root"):
            given["root"] = manifest["project_root"]
        if given.get("max_trial_retries") is None:
            given.pop("max_trial_retries", None)
        return given

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any]) -> RunOptions:
        """The options a manifest recorded (see :meth:`recorded`)."""
        return cls(**cls.recorded(manifest))


def _constraints(spec: Any) -> Any:
    """``constraints`` checked: None, a function, or thresholds normalised to floats."""
    if spec is None or callable(spec):
        return spec
    if isinstance(spec, Constraints):
        return spec.function if spec.function is not None else spec.thresholds
    if isinstance(spec, Mapping) and set(spec) == {"function"}:
        # a recorded function reference that could not be imported again (Constraints.from_settings)
        raise ConfigError(f"cannot resume with the constraints function {spec['function']}: it "
                          "cannot be imported (a lambda or defined in __main__); pass constraints= "
                          "to resume")
    return Constraints(spec).thresholds


#: every run option's name, in declaration order
OPTION_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(RunOptions))


def check_names(options: Mapping[str, Any]) -> None:
    """Refuse option names :class:`RunOptions` does not have.

    Raises:
        UnknownOptionError: naming the first unknown option and listing the accepted ones.
    """
    for key in options:
        if key not in OPTION_NAMES:
            raise UnknownOptionError(f"unknown option {key!r}; accepted: {', '.join(OPTION_NAMES)}")
