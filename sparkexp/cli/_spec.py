"""Experiment specs for ``sparkexp run``: read a JSON or YAML file and validate all of it.

Everything is checked before Spark starts: keys, strategy, function (importable, callable,
taking the space's names), space, direction, metric, resources and options. A problem raises
:class:`SpecError` with one line naming the offending input and what is accepted.

Example:
    >>> import json, pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "model.py").write_text("def train(lr):\\n    return -lr\\n")
    >>> _ = (d / "spec.json").write_text(json.dumps({
    ...     "function": "model.py:train", "strategy": "grid",
    ...     "space": {"lr": [0.1, 0.01]}, "direction": "max"}))
    >>> spec = load_spec(str(d / "spec.json"))
    >>> spec.strategy, spec.param_names, spec.ship_file.endswith("model.py")
    ('grid', ['lr'], True)
    >>> load_spec(str(d / "missing.json"))
    Traceback (most recent call last):
    ...
    sparkexp.cli._spec.SpecError: spec file not found: ...missing.json
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sparkexp.errors import ConfigError
from sparkexp.search._registry import Strategy, lookup, spec_names

__all__ = ["SpecError", "Spec", "load_spec", "read_spec_file", "load_function", "SPEC_KEYS"]

#: every key a spec may have
SPEC_KEYS = ("function", "strategy", "space", "direction", "metric", "name", "resources", "options")

#: entry points that stop trials themselves (no ``early_stopping`` option)
_STOP_THEMSELVES = frozenset({"asha_search", "hyperband_search", "bohb_search", "pbt_search"})
#: keyword arguments of an entry point that are top-level spec keys, not options
_TOP_LEVEL = frozenset({"direction", "metric", "name"})
#: run_search keywords a spec's options may give besides the run options
_RUN_KEYWORDS = frozenset({"progress", "resume"})


class SpecError(ConfigError):
    """A spec that cannot be run; the message is one line for the terminal."""


@dataclass
class Spec:
    """A validated experiment spec, ready to run.

    Attributes:
        path: Absolute path of the spec file.
        function_ref: The ``function`` entry as written.
        fn: The imported training function.
        ship_file: For ``file.py:function``, the file to send to executors (``addPyFile``).
        strategy: A name of :mod:`sparkexp.search._registry` as written (``grid``,
            ``random``, ``evolutionary``/``differential_evolution``, ``bayesian``/``tpe``,
            ``optuna``, ``asha``, ``hyperband``, ``bohb``, ``pbt``; hpogrid's ``hyperopt`` runs
            ``tpe``, ``tune`` ``asha`` and ``bohbhyperband`` ``bohb``).
        entry: The :mod:`sparkexp.experiment` function that runs it.
        space: The search space as written.
        param_names: Hyperparameter names the space gives.
        direction: ``max`` or ``min`` (a list, one per metric, with several objectives).
        metric: Output to optimise, a list of outputs (several objectives), or None.
        name: Experiment name, or None (the Spark application id).
        resources: Keyword arguments for :func:`sparkexp.session`.
        options: Strategy settings and run options for the entry point.
    """

    path: str
    function_ref: str
    fn: Callable[..., Any]
    ship_file: str | None
    strategy: str
    entry: str
    space: Any
    param_names: list[str]
    direction: str | list[str] = "max"
    metric: str | list[str] | None = None
    name: str | None = None
    resources: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


def _yaml_loader() -> Any:
    try:
        import yaml
    except ImportError as exc:
        raise SpecError("YAML specs need PyYAML: pip install 'sparkexp[yaml]' "
                        "(or write the spec as JSON)") from exc

    class Loader(yaml.SafeLoader):
        """SafeLoader that reads ``1e-4`` as a float (YAML 1.1 wants ``1.0e-4``) and refuses
        a key given twice in one mapping (PyYAML keeps the last silently)."""

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _value in node.value:
                key = self.construct_object(key_node, deep=deep)
                try:
                    hash(key)
                except TypeError:
                    continue  # PyYAML's own error names the unhashable key
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r}", key_node.start_mark)
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
                    |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
                    |[-+]?\.(?:inf|Inf|INF)
                    |\.(?:nan|NaN|NAN))$""", re.X),
        list("-+0123456789."),
    )
    return yaml, Loader


def read_spec_file(path: str) -> dict[str, Any]:
    """The spec file's contents as a dict (JSON, or YAML for ``.yaml``/``.yml``).

    Raises:
        SpecError: not a .json/.yaml/.yml name, a missing or unreadable file, a syntax error,
            a key given twice, or not a mapping at the top.
    """
    if not path.lower().endswith((".json", ".yaml", ".yml")):
        raise SpecError(f"spec file {path} must be JSON (.json) or YAML (.yaml, .yml)")
    if not os.path.isfile(path):
        raise SpecError(f"spec file not found: {path}")
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise SpecError(f"cannot read spec file {path}: {exc.strerror or exc}") from exc
    if path.lower().endswith((".yaml", ".yml")):
        yaml, loader = _yaml_loader()
        try:
            data = yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise SpecError(f"invalid YAML in {path}{where}: {problem}") from exc
    else:
        try:
            data = json.loads(text, object_pairs_hook=_unique_keys)
        except SpecError as exc:
            raise SpecError(f"invalid JSON in {path}: {exc}") from None
        except json.JSONDecodeError as exc:
            raise SpecError(f"invalid JSON in {path} at line {exc.lineno}, column {exc.colno}: "
                            f"{exc.msg} (YAML specs need a .yaml or .yml name)") from exc
    if not isinstance(data, dict):
        raise SpecError(f"{path} must hold a mapping with keys {', '.join(SPEC_KEYS)}; "
                        f"got {type(data).__name__}")
    return data


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a key given twice (``json`` keeps the last silently)."""
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise SpecError(f"duplicate key {key!r} in the spec")
        data[key] = value
    return data


def _import_file(path: str) -> Any:
    module_name = os.path.splitext(os.path.basename(path))[0]
    if not module_name.isidentifier():
        raise SpecError(f"function file {path}: {module_name!r} is not a valid Python module name "
                        "(executors import it by name); rename it, e.g. to train_model.py")
    loaded = sys.modules.get(module_name)
    if loaded is not None:
        loaded_file = getattr(loaded, "__file__", None)
        if loaded_file is None or os.path.realpath(loaded_file) != os.path.realpath(path):
            raise SpecError(f"function file {path}: a module named {module_name!r} is already "
                            f"imported from {loaded_file or 'the standard library'}; rename the file")
        return loaded
    directory = os.path.dirname(path)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    return _import(module_name, shown=path)


def _import(module_name: str, *, shown: str) -> Any:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise SpecError(f"cannot import module {module_name!r}: not found on the Python path "
                            "(write 'path/to/file.py:function' for a file)") from exc
        raise SpecError(f"cannot import {shown}: {type(exc).__name__}: {exc}") from exc
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - user code may raise anything
        detail = str(exc).splitlines()[0] if str(exc) else ""
        raise SpecError(f"cannot import {shown}: {type(exc).__name__}: {detail}") from exc


def load_function(ref: Any, *, base_dir: str) -> tuple[Callable[..., Any], str | None]:
    """Import the training function named by ``ref``.

    ``ref`` is ``module:function`` (a module on the Python path, shipped to executors by you,
    e.g. with ``--py-files``) or ``path/to/file.py:function`` (relative to ``base_dir``, the
    spec's directory; the file is sent to executors by ``sparkexp run``).

    Returns:
        The function and, for the file form, the absolute path to ship.

    Raises:
        SpecError: a malformed reference, a missing file, an import error, or no such callable.
    """
    if not isinstance(ref, str) or ":" not in ref:
        raise SpecError(f"function must be 'module:function' or 'path/to/file.py:function', got {ref!r}")
    target, _, attr = ref.rpartition(":")
    if not target or not attr:
        raise SpecError(f"function must be 'module:function' or 'path/to/file.py:function', got {ref!r}")
    ship: str | None = None
    if target.endswith(".py"):
        path = os.path.abspath(os.path.join(base_dir, os.path.expanduser(target)))
        if not os.path.isfile(path):
            raise SpecError(f"function file not found: {path} (from function {ref!r}; "
                            "relative paths are read from the spec's directory)")
        module = _import_file(path)
        ship = path
        shown = target
    else:
        if os.getcwd() not in sys.path:
            sys.path.append(os.getcwd())
        module = _import(target, shown=target)
        shown = target
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            defined = sorted(n for n, v in vars(module).items()
                             if inspect.isfunction(v) and not n.startswith("_"))
            raise SpecError(f"{shown} has no function {attr!r} (it defines: "
                            f"{', '.join(defined) or 'no functions'})")
        obj = getattr(obj, part)
    if not callable(obj):
        raise SpecError(f"{shown}:{attr} is not callable: it is a {type(obj).__name__}")
    return obj, ship


def _option_names(entry: Callable[..., Any]) -> tuple[set[str], dict[str, Any], set[str]]:
    """(allowed option names, defaults, required) for an entry point plus run_search's options."""
    from sparkexp.options import OPTION_NAMES

    own = inspect.signature(entry).parameters.values()
    names: set[str] = set()
    defaults: dict[str, Any] = {}
    required: set[str] = set()
    for p in own:
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in _TOP_LEVEL:
            names.add(p.name)
            if p.default is inspect.Parameter.empty:
                required.add(p.name)
            else:
                defaults[p.name] = p.default
    names.update(n for n in (*OPTION_NAMES, *_RUN_KEYWORDS) if n not in _TOP_LEVEL)
    if entry.__name__ in _STOP_THEMSELVES:
        names.discard("early_stopping")
    if entry.__name__ == "bohb_search":  # the model's options travel in **options
        from sparkexp.search import BOHBSearch

        names |= {p for p in inspect.signature(BOHBSearch).parameters if p != "space"}
    return names, defaults, required


def _check_options(strategy: Strategy, entry: Callable[..., Any], space: Any,
                   options: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Build the search the entry point would build (it validates itself) and the run options;
    return the hyperparameter names (every trial's, some trials')."""
    from sparkexp.options import OPTION_NAMES, RunOptions
    from sparkexp.search.stopping import ASHA, Hyperband
    from sparkexp.space import Space

    allowed, defaults, required = _option_names(entry)
    for key in options:
        if key not in allowed:
            hint = (f"; '{key}' is a top-level key of the spec" if key in _TOP_LEVEL else "")
            raise SpecError(f"unknown option {key!r} for strategy '{strategy}'{hint}; "
                            f"accepted: {', '.join(sorted(allowed))}")
    missing = sorted(required - set(options))
    if missing:
        raise SpecError(f"strategy '{strategy}' needs options {', '.join(missing)}")
    given = {**defaults, **options}

    def pick(cls: Any) -> dict[str, Any]:
        params = inspect.signature(cls).parameters
        return {k: v for k, v in given.items() if k in params}

    try:
        cls = strategy.search_class()
        if strategy.name == "grid":
            if not isinstance(space, Mapping):
                raise SpecError("space for strategy 'grid' must be a mapping of hyperparameter "
                                f"name -> list of values, got {type(space).__name__}")
            grid = cls(space, **pick(cls))
            optional = list(getattr(grid, "optional_names", []))
            names = [str(k) for k in space if str(k) not in optional]
        else:
            if not isinstance(space, Mapping):
                raise SpecError(f"space must be a mapping of hyperparameter name -> range, choice "
                                f"or distribution, got {type(space).__name__}")
            sp = Space(space)
            optional = sp.optional_names
            names = [n for n in sp.names if n not in optional]
            cls(sp, **pick(cls))
            if strategy.name == "asha":
                ASHA(**pick(ASHA))
            if strategy.name == "hyperband":
                Hyperband(**pick(Hyperband))
        RunOptions(**{k: v for k, v in given.items() if k in OPTION_NAMES})
        if given.get("mlflow") is not None:  # the package, before Spark starts
            from sparkexp.tracking import resolve_tracking

            resolve_tracking(given["mlflow"])
    except TypeError as exc:
        raise SpecError(f"bad options for strategy '{strategy}': {exc}") from exc
    return names, optional


def load_spec(path: str, *, name: str | None = None) -> Spec:
    """Read and fully validate the spec at ``path`` (``name`` overrides the spec's name).

    Raises:
        SpecError: anything that would make the experiment fail before its first trial.
    """
    from sparkexp import experiment
    from sparkexp._session import SESSION_OPTIONS, session_conf
    from sparkexp.experiment import check_function
    from sparkexp.options import RunOptions

    path = os.path.abspath(path)
    data = read_spec_file(path)
    unknown = [k for k in data if k not in SPEC_KEYS]
    if unknown:
        raise SpecError(f"unknown key {unknown[0]!r} in {os.path.basename(path)}; "
                        f"a spec has: {', '.join(SPEC_KEYS)}")
    for key in ("function", "strategy", "space"):
        if key not in data:
            raise SpecError(f"{os.path.basename(path)} has no {key!r}; a spec needs function, "
                            "strategy and space")
    strategy = data["strategy"]
    try:
        row = lookup(strategy)
    except ConfigError as exc:
        raise SpecError(str(exc)) from None
    if not row.in_spec:
        raise SpecError(f"strategy {strategy!r} cannot be named in a spec; accepted: "
                        f"{', '.join(spec_names())}")
    entry = getattr(experiment, row.entry)
    options = data.get("options") or {}
    resources = data.get("resources") or {}
    for key, value in (("options", options), ("resources", resources)):
        if not isinstance(value, dict):
            raise SpecError(f"{key} must be a mapping, got {type(value).__name__}")
    spec_name = name if name is not None else data.get("name")
    try:
        # several objectives are lists (RunOptions checks them as the run would)
        top = RunOptions(direction=data.get("direction", "max"), metric=data.get("metric"))
        direction: Any = top.direction if isinstance(top.direction, str) else list(top.direction)
        metric: Any = top.metric if not isinstance(top.metric, tuple) else list(top.metric)
        if spec_name is not None and (not isinstance(spec_name, str) or not spec_name.strip()):
            raise SpecError(f"name must be a non-empty string, got {spec_name!r}")
        names, optional = _check_options(row, entry, data["space"], options)
        try:
            session_conf(resources.get("master"), **{k: v for k, v in resources.items()
                                                     if k != "master"})
        except TypeError as exc:
            raise SpecError(f"bad resources: {exc}; accepted: master, "
                            f"{', '.join(o.name for o in SESSION_OPTIONS)} and 'spark.*' "
                            "settings") from exc
        fn, ship = load_function(data["function"], base_dir=os.path.dirname(path))
        check_function(fn, names, optional)
    except SpecError:
        raise
    except ConfigError as exc:
        raise SpecError(str(exc)) from exc
    return Spec(path=path, function_ref=data["function"], fn=fn, ship_file=ship, strategy=strategy,
                entry=row.entry, space=data["space"], param_names=[*names, *optional],
                direction=direction, metric=metric, name=spec_name, resources=dict(resources),
                options=dict(options))
