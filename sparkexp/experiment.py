"""hops-style entry points: each validates its input, builds a search and hands it to the runner.

Every argument is checked before any Spark job starts and before anything is written; errors
name the offending input and what would be accepted.

Example:
    >>> from sparkexp import experiment                                   # doctest: +SKIP
    >>> def train(learning_rate, dropout):                                # doctest: +SKIP
    ...     return 1 - abs(learning_rate - 0.0005) * 100 - dropout / 10
    >>> res = experiment.grid_search(spark, train,                        # doctest: +SKIP
    ...     {"learning_rate": [0.001, 0.0005], "dropout": [0.45, 0.7]}, direction="max")
    >>> res.best_params                                                   # doctest: +SKIP
    {'learning_rate': 0.0005, 'dropout': 0.45}
"""

from __future__ import annotations

import inspect
import logging
import numbers
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sparkexp.errors import ConfigError, StorageError
from sparkexp.fs import filesystem_for
from sparkexp.project import resolve_root
from sparkexp.result import Result
from sparkexp.result import load as load
from sparkexp.search import DEFAULT_MAX_GRID, FixedSearch, GridSearch, Search
from sparkexp.store import ExperimentStore, sanitize_name

__all__ = ["grid_search", "launch", "run_search", "load", "list_experiments"]

log = logging.getLogger("sparkexp")

#: Argument names the runner may inject rather than take from the search space.
INJECTED = frozenset({"reporter"})


def _fn_name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


def check_function(fn: Any, names: Iterable[str]) -> None:
    """Check that ``fn`` can be called with exactly these hyperparameter names.

    Raises:
        ConfigError: unknown names, missing required arguments, or ``fn`` not callable.
    """
    if not callable(fn):
        raise ConfigError(f"the training function must be callable, got {fn!r}")
    fname = _fn_name(fn)
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return  # builtins and some C callables have no signature: nothing to check
    params = sig.parameters.values()
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    named = [p.name for p in params if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                  inspect.Parameter.KEYWORD_ONLY)]
    takes = ", ".join(n for n in named if n not in INJECTED) or "no arguments"
    names = list(names)
    for p in params:
        if p.kind is inspect.Parameter.POSITIONAL_ONLY and p.default is inspect.Parameter.empty:
            raise ConfigError(f"{fname}() has a positional-only argument '{p.name}'; "
                              "hyperparameters are passed by name")
    if not accepts_any:
        for n in names:
            if n not in named:
                raise ConfigError(f"unknown hyperparameter '{n}': {fname}() takes {takes}")
    for p in params:
        if (p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
                and p.default is inspect.Parameter.empty and p.name not in names
                and p.name not in INJECTED):
            given = ", ".join(names) or "none"
            raise ConfigError(f"{fname}() needs a value for '{p.name}', which the search space "
                              f"does not give (it gives: {given})")


def _check_direction(direction: Any) -> str:
    value = str(getattr(direction, "value", direction)).lower() if direction is not None else ""
    if value not in ("max", "min"):
        raise ConfigError(f"direction must be 'max' or 'min', got {direction!r}")
    return value


def _check_metric(metric: Any) -> str | None:
    if metric is None:
        return None
    if not isinstance(metric, str) or not metric.strip():
        raise ConfigError(f"metric must be the name of an output (a non-empty string) or None, got {metric!r}")
    return metric


def _check_positive_int(name: str, value: Any, *, allow_none: bool = True) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 1:
        raise ConfigError(f"{name} must be a positive whole number, got {value!r}")
    return int(value)


def _check_number(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    return float(value)


def _check_spark(spark: Any) -> None:
    sc = getattr(spark, "sparkContext", spark)
    if not hasattr(sc, "parallelize") or not hasattr(sc, "defaultParallelism"):
        raise ConfigError(f"spark must be a SparkSession or SparkContext, got {type(spark).__name__}")


def _resolve_project_root(spark: Any, root: str | None) -> str:
    from sparkexp.project import DEFAULT_ROOT, normalize_root

    resolved = resolve_root(spark, root)
    fs = filesystem_for(resolved)
    if resolved == normalize_root(DEFAULT_ROOT):
        try:
            fs.mkdirs(resolved)
        except OSError as exc:
            raise StorageError(f"cannot create the default project root {resolved!r}: {exc}") from exc
    try:
        is_dir = fs.isdir(resolved)
    except OSError as exc:
        raise StorageError(f"cannot reach the project root {resolved!r}: {exc}") from exc
    if not is_dir:
        raise StorageError(
            f"project root {resolved!r} does not exist or is not a directory; create it, or set "
            "spark.sparkexp.projectRoot / SPARKEXP_PROJECT_ROOT to an existing directory"
        )
    return resolved


def run_search(
    spark: Any,
    fn: Callable[..., Any],
    search: Search,
    *,
    param_names: Iterable[str],
    direction: str = "max",
    metric: str | None = None,
    name: str | None = None,
    max_parallel: int | None = None,
    root: str | None = None,
    target: float | None = None,
    echo_output: bool = True,
    manifest_extra: Mapping[str, Any] | None = None,
    gpus_per_trial: int | None = None,
    cpus_per_trial: int | None = None,
) -> Result:
    """Validate the common arguments, create the experiment directory and run ``search``.

    This is the one path every entry point takes; use it directly for a custom
    :class:`~sparkexp.search.Search`.

    Args:
        spark: The SparkSession (or SparkContext) to run trials on.
        fn: The training function; its arguments are the hyperparameters, by name.
        search: The strategy proposing trials.
        param_names: The hyperparameter names the search gives (checked against ``fn``).
        direction: ``"max"`` or ``"min"``.
        metric: Name of the output to optimise when ``fn`` returns a dict.
        name: Experiment name (default: the Spark application id).
        max_parallel: Trials at once (default: the session's task slots).
        root: Project root (default: Spark conf, ``SPARKEXP_PROJECT_ROOT``, ``./sparkexp-project``).
        target: Stop proposing trials once a metric this good is reached.
        echo_output: Also print trial output to the executor's own stdout/stderr.
        gpus_per_trial: GPUs each trial gets (pinned through ``CUDA_VISIBLE_DEVICES``); default:
            the session's ``spark.task.resource.gpu.amount``.
        cpus_per_trial: CPU cores each trial gets; default: the session's ``spark.task.cpus``.
    """
    from sparkexp.runner import ExperimentRunner, RunSettings
    from sparkexp.runner.resources import check_picklable, plan_trials

    direction = _check_direction(direction)
    metric = _check_metric(metric)
    parallel = _check_positive_int("max_parallel", max_parallel)
    target = _check_number("target", target)
    _check_spark(spark)
    check_function(fn, param_names)
    check_picklable(fn)
    if name is not None and not isinstance(name, str):
        raise ConfigError(f"name must be a string, got {name!r}")
    exp_name = sanitize_name(name or spark_app_id(spark))
    # reads the session's real executors; fails here on requests that could never start
    resources = plan_trials(spark, max_parallel=parallel, gpus_per_trial=gpus_per_trial,
                            cpus_per_trial=cpus_per_trial)
    log.info("sparkexp: %s", resources.summary)
    project_root = _resolve_project_root(spark, root)
    store = ExperimentStore.create(project_root, exp_name)
    settings = RunSettings(
        direction=direction,
        metric=metric,
        max_parallel=resources.max_parallel,
        project_root=project_root,
        fn_name=_fn_name(fn),
        target=target,
        echo_output=echo_output,
        manifest_extra={"resources": resources.summary, **dict(manifest_extra or {})},
        resources=resources,
    )
    return ExperimentRunner(spark, fn, search, store, settings).run()


def spark_app_id(spark: Any) -> str:
    """The application id of the session (the default experiment name)."""
    return str(getattr(spark, "sparkContext", spark).applicationId)


def grid_search(
    spark: Any,
    fn: Callable[..., Any],
    grid: Mapping[str, Any],
    *,
    direction: str = "max",
    metric: str | None = None,
    name: str | None = None,
    max_parallel: int | None = None,
    root: str | None = None,
    target: float | None = None,
    max_grid: int = DEFAULT_MAX_GRID,
    echo_output: bool = True,
    gpus_per_trial: int | None = None,
    cpus_per_trial: int | None = None,
) -> Result:
    """Evaluate ``fn`` at every combination of the grid's values, in cartesian order.

    The first key varies slowest: ``{"lr": [0.001, 0.0005], "dropout": [0.45, 0.7]}`` runs
    (0.001, 0.45), (0.001, 0.7), (0.0005, 0.45), (0.0005, 0.7).

    Args:
        spark: The SparkSession to run on.
        fn: Training function; returns a number or a dict of outputs.
        grid: Hyperparameter name -> list of values to try.
        direction: ``"max"`` or ``"min"``.
        metric: Output to optimise when ``fn`` returns a dict with several numbers.
        name: Experiment name; its records go to ``<root>/Experiments/<name>_<run>/``.
        max_parallel: Trials at once (default: all task slots).
        root: Project root override.
        target: Stop starting trials once this metric is reached.
        max_grid: Refuse grids larger than this.
        echo_output: Also print each trial's output to its executor's stdout/stderr (it is
            always captured into the trial's ``stdout.log``/``stderr.log``).
        gpus_per_trial: GPUs each trial gets (default: the session's task GPUs).
        cpus_per_trial: CPU cores each trial gets (default: ``spark.task.cpus``).

    Returns:
        The :class:`~sparkexp.result.Result` with every trial.

    Example:
        >>> res = grid_search(spark, train, {"learning_rate": [0.001, 0.0005],   # doctest: +SKIP
        ...                                  "dropout": [0.45, 0.7]}, direction="max")
    """
    search = GridSearch(grid, max_grid=max_grid)
    return run_search(spark, fn, search, param_names=list(grid), direction=direction, metric=metric,
                      name=name, max_parallel=max_parallel, root=root, target=target,
                      echo_output=echo_output, gpus_per_trial=gpus_per_trial,
                      cpus_per_trial=cpus_per_trial)


def launch(
    spark: Any,
    fn: Callable[..., Any],
    params: Mapping[str, Any] | None = None,
    *,
    direction: str = "max",
    metric: str | None = None,
    name: str | None = None,
    root: str | None = None,
    gpus_per_trial: int | None = None,
    cpus_per_trial: int | None = None,
) -> Result:
    """Run ``fn`` once with ``params`` on an executor, recorded like any experiment.

    Example:
        >>> res = launch(spark, train, {"learning_rate": 0.001, "dropout": 0.5})  # doctest: +SKIP
        >>> res.trials[0].outputs                                                # doctest: +SKIP
    """
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise ConfigError(f"params must be a dict of hyperparameter values, got {params!r}")
    search = FixedSearch([params], name="launch")
    return run_search(spark, fn, search, param_names=list(params), direction=direction,
                      metric=metric, name=name, max_parallel=1, root=root,
                      gpus_per_trial=gpus_per_trial, cpus_per_trial=cpus_per_trial)


def list_experiments(root: str | None = None) -> list[Result]:
    """Every experiment recorded under the project root, oldest first within a name."""
    return [load(path) for path in ExperimentStore.experiments(resolve_root(None, root))]
