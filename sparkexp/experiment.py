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
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sparkexp.errors import ConfigError, StorageError
from sparkexp.fs import filesystem_for
from sparkexp.options import OPTION_NAMES, RunOptions, UnknownOptionError
from sparkexp.progress import make_progress
from sparkexp.project import resolve_root
from sparkexp.result import Result
from sparkexp.result import load as load
from sparkexp.search import (
    DifferentialEvolution,
    FixedSearch,
    GridSearch,
    RandomSearch,
    Search,
    TPESearch,
    from_settings,
)
from sparkexp.search._registry import defaults
from sparkexp.search._util import as_any_space
from sparkexp.search.bohb import BOHBSearch
from sparkexp.search.pbt import PopulationBasedTraining
from sparkexp.search.stopping import ASHA, Hyperband, Stopper
from sparkexp.space import HyperoptSpace, Space
from sparkexp.status import ExperimentState
from sparkexp.store import ExperimentStore, json_safe, sanitize_name
from sparkexp.tracking import ENVIRONMENT, resolve_tracking, run_tracked

__all__ = [
    "Direction",
    "grid_search",
    "random_search",
    "evolutionary_search",
    "differential_evolution",
    "bayesian_search",
    "optuna_search",
    "asha_search",
    "hyperband_search",
    "bohb_search",
    "pbt_search",
    "launch",
    "resume",
    "run_search",
    "load",
    "list_experiments",
]

log = logging.getLogger("sparkexp")

# each strategy's defaults live in its class's signature; the entry points show the same
_GRID, _RANDOM, _DE, _TPE, _ASHA, _HYPERBAND, _BOHB, _PBT = (defaults(c) for c in (
    GridSearch, RandomSearch, DifferentialEvolution, TPESearch, ASHA, Hyperband, BOHBSearch,
    PopulationBasedTraining))

#: Argument names the runner may inject rather than take from the search space.
INJECTED = frozenset({"reporter"})


class Direction:
    """hops' names for the two directions: ``direction=experiment.Direction.MAX`` is ``"max"``."""

    MAX = "max"
    MIN = "min"


#: Keywords that hops-util-py's entry points take (some versions) and sparkexp does not, with
#: what to write instead. The ones that do work (``optimization_key``, ``metric_key``,
#: ``description``, ``local_logdir``, ``name``, the hops names of the space) are handled where
#: they are taken.
HOPS_ONLY_KEYWORDS = {
    "versioned_resources": "sparkexp does not copy resources into experiments; read them from "
                           "the project root (hdfs.project_path()) and record copies with "
                           "hdfs.copy_to_hdfs",
    "popsize": "write population= (sparkexp's and newer hops' name)",
    "maxiter": "write generations=",
    "mutationfactor": "write mutation=",
    "cleanup": "every trial keeps its folder; remove folders with hdfs.rmr() if needed",
    "evaluator": "distributed training (mirrored, parameter_server) is not part of sparkexp",
}


def _hops_metric(metric: str | None, options: dict[str, Any]) -> str | None:
    """``metric``, or hops' name for it (``optimization_key``, ``metric_key``), from ``options``."""
    for key in ("optimization_key", "metric_key"):
        alias = options.pop(key, None)
        if alias is None:
            continue
        if metric is not None and alias != metric:
            raise ConfigError(f"{key}={alias!r} and metric={metric!r} disagree; {key} is hops' "
                              "name for metric: pass one of them")
        metric = alias
    return metric


def _hops_space(value: Any, options: dict[str, Any], names: tuple[str, ...], what: str) -> Any:
    """The search space given positionally or under one of hops' keyword names."""
    given = [n for n in names if n in options]
    if len(given) > 1 or (given and value is not None):
        raise ConfigError(f"give the {what} once (positionally, or as one of {', '.join(names)})")
    if given:
        return options.pop(given[0])
    if value is None:
        raise ConfigError(f"the {what} is missing: pass it as the third argument")
    return value


def _check_options(options: Mapping[str, Any]) -> None:
    """Refuse hops keywords sparkexp does not have, naming what to write instead."""
    for key, value in options.items():
        if key == "cleanup_generations":
            if value:
                raise ConfigError("cleanup_generations=True: " + HOPS_ONLY_KEYWORDS["cleanup"])
            continue
        if key in HOPS_ONLY_KEYWORDS:
            raise ConfigError(f"{key}= is a hops keyword sparkexp does not take: "
                              f"{HOPS_ONLY_KEYWORDS[key]}")


def _fn_name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


def check_function(fn: Any, names: Iterable[str], optional: Iterable[str] = ()) -> None:
    """Check that ``fn`` can be called with exactly these hyperparameter names.

    ``optional`` names (conditional parameters, names of some branches of a hyperopt
    ``hp.choice``) are given to some trials only: ``fn`` must accept them and give them a default.

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
    some = [n for n in optional if n not in names]
    names = [*names, *some]
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
                and p.default is inspect.Parameter.empty and p.name in some):
            raise ConfigError(f"{fname}() needs '{p.name}' in every trial, but the search space "
                              f"gives it only in some (it is conditional): give it a default, "
                              f"e.g. {p.name}=None")
        if (p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
                and p.default is inspect.Parameter.empty and p.name not in names
                and p.name not in INJECTED):
            given = ", ".join(names) or "none"
            raise ConfigError(f"{fname}() needs a value for '{p.name}', which the search space "
                              f"does not give (it gives: {given})")


def _check_spark(spark: Any) -> None:
    from sparkexp.runner.connect import check_connect, is_connect, slot_jobs

    if is_connect(spark):
        check_connect(spark)
        return
    sc = getattr(spark, "sparkContext", spark)
    if not hasattr(sc, "parallelize") or not hasattr(sc, "defaultParallelism"):
        raise ConfigError(f"spark must be a SparkSession (classic or Spark Connect) or SparkContext, "
                          f"got {type(spark).__name__}")
    slot_jobs(spark)  # a bad spark.sparkexp.slotJobs: refused before the experiment folder exists


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
    optional_names: Iterable[str] = (),
    name: str | None = None,
    progress: Any = "auto",
    manifest_extra: Mapping[str, Any] | None = None,
    resume: bool | str = False,
    options: RunOptions | None = None,
    optimization_key: str | None = None,
    _rerun: Iterable[str] = (),
    _metric_optional: bool = False,
    **option_values: Any,
) -> Result:
    """Validate the common arguments, create the experiment directory and run ``search``.

    This is the one path every entry point takes; use it directly for a custom
    :class:`~sparkexp.search.Search`.

    Args:
        spark: The SparkSession (or SparkContext) to run trials on.
        fn: The training function; its arguments are the hyperparameters, by name.
        search: The strategy proposing trials.
        param_names: The hyperparameter names the search gives (checked against ``fn``).
        optional_names: Names the search gives to some trials only (conditional parameters).
        name: Experiment name (default: the Spark application id).
        progress: ``"auto"`` (a live table in notebooks, a progress line in terminals),
            ``True``, ``False``, or a :class:`~sparkexp.progress.Progress`.
        manifest_extra: More keys for the manifest (the CLI records its spec).
        resume: ``True`` continues the latest unfinished experiment of the same ``name`` (or
            starts a new one if there is none); a path continues that experiment. Completed
            trials are not run again, trials that were running are; the search continues
            from the state it had (it is rebuilt from the recorded settings and seed).
        options: A :class:`~sparkexp.options.RunOptions`; ``option_values`` change it.
        optimization_key: hops' name for ``metric`` (so is ``metric_key``). Without either, a
            dict holding several numbers is optimised on its ``"metric"`` key, as in hops.
        **option_values: Any run option by name: ``direction``, ``metric``,
            ``max_parallel``, ``root``, ``target``, ``timeout``, ``trial_timeout``,
            ``early_stopping``, ``max_trial_retries``, ``max_failures``, ``fail_fast``,
            ``kill_grace``, ``echo_output``, ``gpus_per_trial``, ``cpus_per_trial``,
            ``local_logdir``, ``description``, ``constraints``, ``mlflow``; ``metric`` and ``direction``
            may be lists for several objectives (each explained in
            :class:`~sparkexp.options.RunOptions` and docs/configuration.md); and hops-util-py
            keywords: ``metric_key``, ``cleanup_generations=False`` is accepted; the others
            sparkexp does not have raise
            :class:`ConfigError` naming what to write instead (see :data:`HOPS_ONLY_KEYWORDS`).
    """
    from sparkexp.runner import ExperimentRunner, RunSettings
    from sparkexp.runner.resources import check_picklable, plan_trials

    hops = {k: option_values.pop(k) for k in list(option_values) if k not in OPTION_NAMES}
    hops["optimization_key"] = optimization_key
    given_metric = option_values.get("metric", options.metric if options is not None else None)
    metric = _hops_metric(given_metric, hops)
    if metric is not None:
        option_values["metric"] = metric
    _check_options(hops)
    unknown = sorted(set(hops) - set(HOPS_ONLY_KEYWORDS) - {"cleanup_generations"})
    if unknown:
        accepted = ", ".join(sorted({*OPTION_NAMES, "name", "progress", "resume", "description",
                                     "optimization_key", "metric_key"}))
        raise UnknownOptionError(f"unknown option '{unknown[0]}'; accepted: {accepted}")
    opts = (options or RunOptions()).replace(**option_values)
    objectives = opts.objectives
    if objectives is not None:
        search.check_objectives(len(objectives.metrics))
    stopper = _stopper_for(search, opts)
    reporter_display = make_progress(progress)
    _check_spark(spark)
    echo_output = _echo_mode(spark, opts.echo_output)
    tracking_uri = resolve_tracking(opts.mlflow, spark)
    if tracking_uri is not None:  # recorded as resolved, so resume and retry keep tracking
        opts = opts.replace(mlflow=True if tracking_uri == ENVIRONMENT else tracking_uri)
    check_function(fn, param_names, optional_names)
    check_picklable(fn)
    if name is not None and not isinstance(name, str):
        raise ConfigError(f"name must be a string, got {name!r}")
    exp_name = sanitize_name(name or spark_app_id(spark))
    # reads the session's real executors; fails here on requests that could never start
    resources = plan_trials(spark, max_parallel=opts.max_parallel, gpus_per_trial=opts.gpus_per_trial,
                            cpus_per_trial=opts.cpus_per_trial)
    log.info("sparkexp: %s", resources.summary)
    need = getattr(search, "min_parallel", None)
    if isinstance(need, int) and resources.max_parallel < need:
        raise ConfigError(f"the '{search.name}' search trains {need} trials at once, but only "
                          f"{resources.max_parallel} can run (max_parallel or the session's slots): "
                          f"lower its population or give the session more task slots")
    project_root = _resolve_project_root(spark, opts.root)
    previous = None
    store = None
    if resume:
        found = resume if isinstance(resume, str) else _latest_unfinished(project_root, exp_name)
        if found:
            store = ExperimentStore(found)
            manifest = store.read_manifest()
            if manifest.get("strategy") != search.name:
                raise ConfigError(f"cannot resume {found}: it ran a '{manifest.get('strategy')}' search, "
                                  f"not '{search.name}'")
            recorded = manifest.get("search") or {}
            if json_safe(search.settings()) != json_safe(recorded):
                # a different seed (seed=None) or settings: the recorded search, not the given one
                search = from_settings(search.name, recorded)
            if isinstance(search, Stopper):  # the rebuilt search replays its own stops
                stopper = search
            previous = {"manifest": manifest, "events": list(store.read_events()),
                        "rerun": set(_rerun)}
    if store is None:
        store = ExperimentStore.create(project_root, exp_name)
    if opts.prunes_with_search and stopper is None:
        stopper = _pruner_of(search)  # the search is final only now (resume may rebuild it)
    settings = RunSettings(
        # max_parallel given (or the session's): a hard ceiling; else slots follow the cluster
        options=opts.replace(max_parallel=resources.ceiling or resources.max_parallel),
        max_slots=resources.ceiling,
        project_root=project_root,
        fn_name=_fn_name(fn),
        stopper=stopper,
        progress=reporter_display,
        manifest_extra={"resources": resources.summary, **dict(manifest_extra or {})},
        resources=resources,
        echo_output=echo_output,
        metric_optional=_metric_optional,
    )

    def start(on_events: Callable[[list[dict[str, Any]]], None] | None = None) -> Result:
        settings.on_events = on_events
        return ExperimentRunner(spark, fn, search, store, settings, previous=previous).run()

    if tracking_uri is None:
        return start()
    return run_tracked(start, store.path, tracking_uri, replay=len(previous["events"]) if previous else 0)


def _pruner_of(search: Search) -> Any:
    from sparkexp.search.optuna_search import OptunaSearch

    if not isinstance(search, OptunaSearch) or search.pruner is None:
        raise ConfigError("early_stopping='optuna' needs optuna_search(..., pruner='median') (or "
                          "another Optuna pruner)")
    return search.stopper()


def _echo_mode(spark: Any, echo: bool | str) -> bool | str:
    """``echo_output`` (already checked by :class:`RunOptions`) with ``"auto"`` resolved for this
    session: ``"tail"`` in a notebook on local Spark, else ``True``."""
    if echo != "auto":
        return echo
    from sparkexp.progress import _in_notebook
    from sparkexp.runner.connect import session_master

    local = session_master(spark).startswith("local")  # a Connect session has no sparkContext
    return "tail" if local and _in_notebook() else True


def _latest_unfinished(root: str, name: str) -> str | None:
    """The newest run of experiment ``name`` under ``root`` that did not finish."""
    for path in reversed(ExperimentStore.experiments(root)):
        head, _, run = path.rstrip("/").rsplit("/", 1)[-1].rpartition("_")
        if head != name or not run.isdigit():
            continue
        state = ExperimentStore(path).read_manifest().get("state")
        return path if state != ExperimentState.FINISHED else None
    return None


def resume(spark: Any, path: str, fn: Callable[..., Any], *, _rerun: Iterable[str] = (),
           **options: Any) -> Result:
    """Continue an interrupted experiment (driver killed, Ctrl-C, timeout) from its records.

    Completed trials are kept and not run again; trials that were running are run again; the
    search is rebuilt from its recorded settings and seed and replays the journal, so it
    proposes exactly what it would have. Settings (direction, metric, max_parallel, timeouts,
    early stopping) come from the manifest unless given in ``options``. A finished experiment
    is returned as it is.

    Example:
        >>> res = experiment.resume(spark, "sparkexp-project/Experiments/mnist_2", train)  # doctest: +SKIP
    """
    store = ExperimentStore(str(path).rstrip("/"))
    manifest = store.read_manifest()
    if manifest.get("state") == ExperimentState.FINISHED and not _rerun:
        log.info("sparkexp: %s already finished; nothing to resume", store.path)
        return load(store.path)
    search = from_settings(str(manifest.get("strategy")), manifest.get("search") or {})
    names, optional = _param_names(manifest)
    recorded = {**RunOptions.recorded(manifest), **options}
    head = store.path.rsplit("/", 1)[-1].rpartition("_")[0]
    return run_search(spark, fn, search, param_names=names, optional_names=optional, name=head,
                      resume=store.path, _rerun=_rerun, **recorded)


def _param_names(manifest: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(names every trial gets, names only some trials get) of the recorded search."""
    settings = manifest.get("search") or {}
    if "grid" in settings:
        grid = settings["grid"]
        optional = [str(k) for k, v in grid.items() if isinstance(v, Mapping) and "when" in v]
        return [str(k) for k in grid if str(k) not in optional], optional
    if settings.get("define"):  # an Optuna define-by-run function: probe it again
        from sparkexp.search.optuna_search import OptunaSearch

        return OptunaSearch.from_settings(settings).names()
    if "space" in settings:
        return _names_of(as_any_space(settings["space"]))
    points = settings.get("points") or [{}]
    return [str(k) for k in points[0]], []


def _names_of(space: Space | HyperoptSpace) -> tuple[list[str], list[str]]:
    optional = space.optional_names
    return [n for n in space.names if n not in optional], optional


def _stopper_for(search: Search, opts: RunOptions) -> Stopper | None:
    """The early-stopping rule: the search itself when it decides stops (Hyperband, BOHB,
    population based training), else the ``early_stopping`` option's."""
    if isinstance(search, Stopper):
        if opts.early_stopping is not None and opts.early_stopping is not search:
            raise ConfigError(f"the '{search.name}' search stops trials itself; "
                              "do not pass early_stopping= with it")
        return search
    return opts.stopper()


def spark_app_id(spark: Any) -> str:
    """The application id of the session (the default experiment name)."""
    from sparkexp.runner.connect import session_app_id

    return session_app_id(spark)


def grid_search(
    spark: Any,
    fn: Callable[..., Any],
    grid: Mapping[str, Any] | None = None,
    *,
    direction: str | list[str] = "max",
    metric: str | list[str] | None = None,
    name: str | None = None,
    max_parallel: int | None = None,
    max_grid: int = _GRID["max_grid"],
    **options: Any,
) -> Result:
    """Evaluate ``fn`` at every combination of the grid's values, in cartesian order.

    The first key varies slowest: ``{"lr": [0.001, 0.0005], "dropout": [0.45, 0.7]}`` runs
    (0.001, 0.45), (0.001, 0.7), (0.0005, 0.45), (0.0005, 0.7).

    Args:
        spark: The SparkSession to run on.
        fn: Training function; returns a number or a dict of outputs.
        grid: Hyperparameter name -> list of values to try (hops' ``grid_dict``/``args_dict``
            keywords are accepted for it).
        direction: ``"max"`` or ``"min"``.
        metric: Output to optimise when ``fn`` returns a dict with several numbers.
        name: Experiment name; its records go to ``<root>/Experiments/<name>_<run>/``.
        max_parallel: Trials at once (default: all task slots).
        max_grid: Refuse grids larger than this.
        **options: Any option of :func:`run_search` (``root``, ``target``, ``timeout``,
            ``trial_timeout``, ``early_stopping``, ``max_failures``, ``fail_fast``,
            ``max_trial_retries``, ``echo_output``, ``progress``, ``gpus_per_trial``,
            ``cpus_per_trial``, ``local_logdir``).

    Returns:
        The :class:`~sparkexp.result.Result` with every trial.

    Example:
        >>> res = grid_search(spark, train, {"learning_rate": [0.001, 0.0005],   # doctest: +SKIP
        ...                                  "dropout": [0.45, 0.7]}, direction="max")
    """
    grid = _hops_space(grid, options, ("grid_dict", "args_dict"), "grid")
    search = GridSearch(grid, max_grid=max_grid)
    optional = search.optional_names
    return run_search(spark, fn, search, param_names=[str(k) for k in grid if k not in optional],
                      optional_names=optional, direction=direction, metric=metric,
                      name=name, max_parallel=max_parallel, **options)


def launch(
    spark: Any,
    fn: Callable[..., Any],
    params: Mapping[str, Any] | None = None,
    *,
    direction: str = "max",
    metric: str | None = None,
    name: str | None = None,
    **options: Any,
) -> Result:
    """Run ``fn`` once with ``params`` on an executor, recorded like any experiment.

    hops' ``args_dict=`` keyword keeps hops' meaning: each value is a list, and the function
    runs once per position (``{"a": [1, 2], "b": [5, 3]}`` runs ``(1, 5)`` then ``(2, 3)``).
    As in hops, the function may return nothing (the trial completes without a metric).

    Example:
        >>> res = launch(spark, train, {"learning_rate": 0.001, "dropout": 0.5})  # doctest: +SKIP
        >>> res.trials[0].outputs                                                # doctest: +SKIP
        >>> logdir, return_dict = launch(spark, train)                           # doctest: +SKIP
    """
    args_dict = options.pop("args_dict", None)
    points = _launch_points(params, args_dict)
    # hops runs args_dict's runs in parallel; a plain launch is one run
    parallel = options.pop("max_parallel", None) if args_dict is not None else 1
    search = FixedSearch(points, name="launch")
    return run_search(spark, fn, search, param_names=list(points[0]), direction=direction,
                      metric=metric, name=name, max_parallel=parallel, _metric_optional=True,
                      **options)


def _launch_points(params: Any, args_dict: Any) -> list[dict[str, Any]]:
    if params is not None and args_dict is not None:
        raise ConfigError("give params or hops' args_dict, not both")
    if args_dict is None:
        if params is None:
            params = {}
        if not isinstance(params, Mapping):
            raise ConfigError(f"params must be a dict of hyperparameter values, got {params!r}")
        return [dict(params)]
    if not isinstance(args_dict, Mapping) or not args_dict:
        raise ConfigError(f"args_dict must be a non-empty dict of name -> list of values, got {args_dict!r}")
    lengths = set()
    for key, values in args_dict.items():
        if not isinstance(values, (list, tuple)):
            raise ConfigError(f"args_dict['{key}'] must be a list (one value per run), got {values!r}")
        lengths.add(len(values))
    if len(lengths) != 1 or 0 in lengths:
        raise ConfigError(f"the lists of args_dict must have one common, non-zero length, got "
                          f"{ {k: len(v) for k, v in args_dict.items()} }")
    return [{k: v[i] for k, v in args_dict.items()} for i in range(lengths.pop())]


def _space(space: Any, what: str) -> Space:
    if not isinstance(space, (Mapping, Space)):
        raise ConfigError(f"{what} must be a dict of hyperparameter name -> range, choice or "
                          f"distribution, got {type(space).__name__}")
    return Space(space)


def _any_space(space: Any, what: str) -> Space | HyperoptSpace:
    """A sparkexp space, or a hyperopt space as written (``hp.*``, nested ``hp.choice``)."""
    from sparkexp.space import is_hyperopt_space

    if is_hyperopt_space(space):
        return as_any_space(space)
    return _space(space, what)


def random_search(
    spark: Any,
    fn: Callable[..., Any],
    space: Mapping[str, Any] | Space,
    *,
    samples: int = _RANDOM["samples"],
    seed: int | None = None,
    warm_start: list[Mapping[str, Any]] | None = None,
    direction: str | list[str] = "max",
    metric: str | list[str] | None = None,
    name: str | None = None,
    max_parallel: int | None = None,
    **options: Any,
) -> Result:
    """Evaluate ``fn`` at ``samples`` random points of ``space``.

    In a plain dict, a list of two numbers is a range (integers if both are ints), any other
    list a choice, a scalar a fixed value; distributions from :mod:`sparkexp.space` and the
    hpogrid JSON form work too. Trial ``k``'s draw derives from ``seed`` and ``k`` only, so the
    same seed gives the same trials whatever the parallelism.

    Example:
        >>> res = random_search(spark, train, {"lr": loguniform(1e-4, 1e-1), "dropout": [0.1, 0.6]},
        ...                     samples=20, seed=1)                         # doctest: +SKIP
    """
    sp = _any_space(space, "space")
    search = RandomSearch(sp, samples=samples, seed=seed, warm_start=warm_start)
    names, optional = _names_of(sp)
    return run_search(spark, fn, search, param_names=names, optional_names=optional,
                      direction=direction, metric=metric, name=name, max_parallel=max_parallel,
                      **options)


def evolutionary_search(
    spark: Any,
    fn: Callable[..., Any],
    bounds: Mapping[str, Any] | Space | None = None,
    *,
    direction: str = "max",
    generations: int = _DE["generations"],
    population: int = _DE["population"],
    mutation: float | tuple[float, float] = _DE["mutation"],
    crossover: float = _DE["crossover"],
    strategy: str = _DE["strategy"],
    init: str = _DE["init"],
    mode: str = _DE["mode"],
    seed: int | None = None,
    warm_start: list[Mapping[str, Any]] | None = None,
    metric: str | None = None,
    name: str | None = None,
    max_parallel: int | None = None,
    **options: Any,
) -> Result:
    """Differential evolution over ``bounds`` (hops' parameter names).

    Runs at most ``(generations + 1) * population`` trials (a repeated point reuses its known
    result). ``mode="async"`` (default) makes a new candidate the moment a trial finishes, so
    slow trials never hold the others; ``mode="generational"`` evaluates whole generations
    (trials then do not depend on parallelism). The defaults (``best1bin``, dithered mutation
    in [0.5, 1), Latin-hypercube start) won at equal budgets against plain DE/rand/1/bin; see
    ``docs/search.md``.

    Example:
        >>> res = evolutionary_search(spark, train, {"learning_rate": [0.0001, 0.001],
        ...                           "dropout": [0.45, 0.7]}, direction="max")  # doctest: +SKIP
    """
    sp = _space(_hops_space(bounds, options, ("boundary_dict", "search_dict"), "bounds"), "bounds")
    names, optional = _names_of(sp)
    search = DifferentialEvolution(sp, generations=generations, population=population,
                                   mutation=mutation, crossover=crossover, strategy=strategy,
                                   init=init, mode=mode, seed=seed, warm_start=warm_start)
    return run_search(spark, fn, search, param_names=names, optional_names=optional,
                      direction=direction, metric=metric, name=name, max_parallel=max_parallel,
                      **options)


#: hops' other name for :func:`evolutionary_search`.
differential_evolution = evolutionary_search


#: :class:`~sparkexp.search.BOHBSearch`'s model settings, which ``bohb_search`` takes in ``options``
_BOHB_MODEL = ("random_fraction", "top_fraction", "n_samples", "bandwidth_factor", "min_bandwidth",
               "min_points", "prior_weight")


def _random_of(samples: int, seed: int | None,
               options: dict[str, Any]) -> Callable[[Space | HyperoptSpace], Search]:
    """How ``random_search`` builds its search, for the entry points that add a stopper to it;
    takes ``warm_start`` out of ``options`` (they pass it on as ``random_search`` would)."""
    warm_start = options.pop("warm_start", None)
    return lambda sp: RandomSearch(sp, samples=samples, seed=seed, warm_start=warm_start)


def _scheduled(
    entry: str,
    spark: Any,
    fn: Callable[..., Any],
    space: Any,
    options: dict[str, Any],
    *,
    search: Callable[[Any], Search],
    stopper: Callable[[], Stopper] | None = None,
) -> Result:
    """The body of the entry points whose trials a schedule stops (ASHA, Hyperband, BOHB, PBT).

    With ``stopper`` (random search plus a stopping rule: ASHA, Hyperband) the entry point sets
    ``early_stopping`` itself and refuses one given in ``options``; the space may then be a
    hyperopt space, as in :func:`random_search`. Without it the search stops its own trials
    (BOHB, PBT; :func:`run_search` refuses ``early_stopping`` with them) and takes a sparkexp
    space. ``search`` builds the search from the parsed space; ``options`` are
    :func:`run_search`'s.
    """
    if stopper is not None:
        if "early_stopping" in options:
            raise ConfigError(f"{entry} sets early stopping itself; use random_search(early_stopping=...)")
        options = dict(options, early_stopping=stopper())
        sp: Space | HyperoptSpace = _any_space(space, "space")
    else:
        sp = _space(space, "space")
    names, optional = _names_of(sp)
    return run_search(spark, fn, search(sp), param_names=names, optional_names=optional, **options)


def bayesian_search(
    spark: Any,
    fn: Callable[..., Any],
    space: Mapping[str, Any] | Space,
    *,
    trials: int = _TPE["trials"],
    n_startup: int = _TPE["n_startup"],
    seed: int | None = None,
    warm_start: list[Mapping[str, Any]] | None = None,
    direction: str = "max",
    metric: str | None = None,
    name: str | None = None,
    max_parallel: int | None = None,
    **options: Any,
) -> Result:
    """Bayesian optimisation with hyperopt's TPE: ``n_startup`` random trials, then TPE.

    Keeps ``max_parallel`` slots busy: trials still running count as pending in TPE's history,
    as in hyperopt's own parallel use.

    Example:
        >>> res = bayesian_search(spark, train, {"lr": loguniform(1e-4, 1e-1)}, trials=40,
        ...                       early_stopping="median")                 # doctest: +SKIP
    """
    sp = _any_space(space, "space")
    search = TPESearch(sp, trials=trials, n_startup=n_startup, seed=seed, warm_start=warm_start)
    names, optional = _names_of(sp)
    return run_search(spark, fn, search, param_names=names, optional_names=optional,
                      direction=direction, metric=metric, name=name, max_parallel=max_parallel,
                      **options)


def optuna_search(
    spark: Any,
    fn: Callable[..., Any],
    space: Mapping[str, Any] | Space | Callable[[Any], Any],
    *,
    trials: int = 50,
    sampler: Any = "tpe",
    sampler_options: Mapping[str, Any] | None = None,
    seed: int | None = None,
    pruner: Any = None,
    pruner_options: Mapping[str, Any] | None = None,
    direction: str | list[str] = "max",
    metric: str | list[str] | None = None,
    name: str | None = None,
    max_parallel: int | None = None,
    constraints: Any = None,
    **options: Any,
) -> Result:
    """Optuna's samplers on sparkexp's runner: TPE, CMA-ES, NSGA-II, GP, QMC or any sampler.

    ``space`` is a sparkexp space (conditional parameters included) or a define-by-run
    function ``space(trial)`` calling ``trial.suggest_*``. As many trials run at once as there
    are slots. ``pruner`` (``"median"``, ``"successive_halving"``, ``"hyperband"`` ...) stops
    trials from their ``reporter.log`` reports. Several objectives (``metric=[...]``) work with
    ``"nsga2"``, ``"tpe"``, ``"gp"``, ``"qmc"`` and ``"random"``; ``constraints`` reach samplers
    that take a ``constraints_func``. Needs ``pip install 'sparkexp[optuna]'``.

    Example:
        >>> res = optuna_search(spark, train, {"lr": loguniform(1e-4, 1e-1), "layers": [1, 4]},
        ...                     trials=40, sampler="cmaes", seed=1)          # doctest: +SKIP
    """
    from sparkexp.search.optuna_search import OptunaSearch

    if pruner is not None and "early_stopping" in options:
        raise ConfigError("optuna_search: give pruner= or early_stopping=, not both")
    if not callable(space) or isinstance(space, (Space, Mapping)):
        space = _space(space, "space")
    search = OptunaSearch(space, trials=trials, sampler=sampler, sampler_options=sampler_options,
                          seed=seed, pruner=pruner, pruner_options=pruner_options,
                          objectives=len(metric) if isinstance(metric, (list, tuple)) else 1,
                          constraints=constraints is not None)
    names, optional = search.names()
    if pruner is not None:
        options["early_stopping"] = "optuna"
    return run_search(spark, fn, search, param_names=names, optional_names=optional,
                      direction=direction, metric=metric, name=name, max_parallel=max_parallel,
                      constraints=constraints, **options)


def asha_search(
    spark: Any,
    fn: Callable[..., Any],
    space: Mapping[str, Any] | Space,
    *,
    samples: int,
    max_steps: int,
    min_steps: int = _ASHA["min_steps"],
    reduction_factor: int = _ASHA["reduction_factor"],
    seed: int | None = None,
    direction: str = "max",
    metric: str | None = None,
    name: str | None = None,
    max_parallel: int | None = None,
    **options: Any,
) -> Result:
    """Random search with asynchronous successive halving (ASHA) stopping weak trials early.

    ``fn`` reports progress with ``reporter.log(step=..., metric=...)`` for steps up to
    ``max_steps``; at rungs ``min_steps * reduction_factor**k`` a trial continues only if it is
    in the best ``1/reduction_factor`` of the trials that reached that rung so far (its loss
    within the rung's ``1/reduction_factor`` quantile). With noisy early reports, or good
    configurations that start slowly, put the first rung later (``min_steps``).

    Example:
        >>> res = asha_search(spark, train, {"lr": loguniform(1e-4, 1e-1)}, samples=27,
        ...                   max_steps=27)                                  # doctest: +SKIP
    """
    options.update(direction=direction, metric=metric, name=name, max_parallel=max_parallel)
    return _scheduled(
        "asha_search", spark, fn, space, options, search=_random_of(samples, seed, options),
        stopper=lambda: ASHA(max_steps=max_steps, min_steps=min_steps, reduction_factor=reduction_factor))


def hyperband_search(
    spark: Any,
    fn: Callable[..., Any],
    space: Mapping[str, Any] | Space,
    *,
    samples: int,
    max_steps: int,
    min_steps: int = _HYPERBAND["min_steps"],
    reduction_factor: int = _HYPERBAND["reduction_factor"],
    brackets: int | None = _HYPERBAND["brackets"],
    seed: int | None = None,
    **options: Any,
) -> Result:
    """Random search with asynchronous Hyperband: ASHA brackets whose first rungs are
    ``min_steps * reduction_factor**b``, trials spread over them in Hyperband's proportions
    (see :class:`~sparkexp.search.stopping.Hyperband`). Options as :func:`random_search`.

    Example:
        >>> res = hyperband_search(spark, train, {"lr": loguniform(1e-4, 1e-1)}, samples=34,
        ...                        max_steps=27, min_steps=3)               # doctest: +SKIP
    """
    return _scheduled(
        "hyperband_search", spark, fn, space, options, search=_random_of(samples, seed, options),
        stopper=lambda: Hyperband(max_steps=max_steps, min_steps=min_steps,
                                  reduction_factor=reduction_factor, brackets=brackets))


def bohb_search(
    spark: Any,
    fn: Callable[..., Any],
    space: Mapping[str, Any] | Space,
    *,
    trials: int,
    max_steps: int,
    min_steps: int = _BOHB["min_steps"],
    reduction_factor: int = _BOHB["reduction_factor"],
    brackets: int | None = _BOHB["brackets"],
    seed: int | None = None,
    **options: Any,
) -> Result:
    """BOHB: Hyperband's brackets stop trials, a model of good and bad configurations per
    budget proposes them (see :class:`~sparkexp.search.BOHBSearch` for its options, which
    ``options`` may also carry: ``random_fraction``, ``top_fraction``, ``n_samples``...).

    Example:
        >>> res = bohb_search(spark, train, {"lr": loguniform(1e-4, 1e-1)}, trials=34,
        ...                   max_steps=27, min_steps=3)                     # doctest: +SKIP
    """
    model = {k: options.pop(k) for k in _BOHB_MODEL if k in options}
    return _scheduled(
        "bohb_search", spark, fn, space, options,
        search=lambda sp: BOHBSearch(sp, trials=trials, max_steps=max_steps, min_steps=min_steps,
                                     reduction_factor=reduction_factor, brackets=brackets, seed=seed,
                                     **model))


def pbt_search(
    spark: Any,
    fn: Callable[..., Any],
    space: Mapping[str, Any] | Space,
    *,
    population: int,
    max_steps: int,
    interval: int,
    quantile: float = _PBT["quantile"],
    resample_probability: float = _PBT["resample_probability"],
    perturb_factors: tuple[float, ...] = _PBT["perturb_factors"],
    seed: int | None = None,
    **options: Any,
) -> Result:
    """Population based training: ``population`` trials train at once; every ``interval``
    steps one of the worst ``quantile`` is replaced by a copy of one of the best (its
    checkpoint) with perturbed hyperparameters. ``fn`` must ``reporter.restore()`` and
    ``reporter.checkpoint(...)``; see :class:`~sparkexp.search.PopulationBasedTraining` and
    ``docs/checkpoints.md``. Every trial's ``origin`` records whom it copied.

    Example:
        >>> res = pbt_search(spark, train, {"lr": loguniform(1e-4, 1e-1)}, population=4,
        ...                  max_steps=40, interval=5)                       # doctest: +SKIP
    """
    options.setdefault("max_parallel", population)
    return _scheduled(
        "pbt_search", spark, fn, space, options,
        search=lambda sp: PopulationBasedTraining(
            sp, population=population, max_steps=max_steps, interval=interval, quantile=quantile,
            resample_probability=resample_probability, perturb_factors=perturb_factors, seed=seed))


def list_experiments(root: str | None = None) -> list[Result]:
    """Every experiment recorded under the project root, oldest first within a name."""
    return [load(path) for path in ExperimentStore.experiments(resolve_root(None, root))]


def __getattr__(name: str) -> Any:
    # ``experiment.list(root)`` as hops users write it, without shadowing the builtin ``list``
    # inside this module (module attribute lookup falls back here; global lookup does not).
    if name == "list":
        return list_experiments
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
