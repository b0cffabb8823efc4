"""The ``mlflow=`` option: which tracking server an experiment logs to, checked up front.

``mlflow=`` takes a tracking URI, ``True`` (the environment's MLflow: ``MLFLOW_TRACKING_URI``
or MLflow's default), ``False`` (off, whatever the Spark conf says) or ``None`` (the default:
the Spark conf ``spark.sparkexp.mlflow.trackingUri`` when set, else off). A bad value or a
missing ``mlflow`` package is a one-line :class:`~sparkexp.errors.ConfigError` before any trial.
MLflow itself is never imported here: the driver stays light, the sync process imports it.

Example:
    >>> resolve_tracking(False)
    >>> resolve_tracking("ftp://host/x")
    Traceback (most recent call last):
    ...
    sparkexp.errors.ConfigError: mlflow tracking URI 'ftp://host/x' has an unknown scheme 'ftp'; accepted: http, https, file, sqlite, postgresql, mysql, mssql, databricks, or a local directory
"""

from __future__ import annotations

import importlib.util
import os
import re
from typing import Any

from sparkexp.errors import ConfigError

__all__ = ["CONF_KEY", "ENVIRONMENT", "resolve_tracking", "check_tracking_uri", "check_option",
           "recordable"]

#: Spark conf key read when ``mlflow=`` is not given
CONF_KEY = "spark.sparkexp.mlflow.trackingUri"
#: what ``mlflow=True`` resolves to: MLflow's own choice (``MLFLOW_TRACKING_URI`` or its default)
ENVIRONMENT = ""

_SCHEMES = ("http", "https", "file", "sqlite", "postgresql", "mysql", "mssql", "databricks")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def _plugin_schemes() -> set[str]:
    """Schemes that installed MLflow plugins register as tracking stores."""
    from importlib.metadata import entry_points

    try:
        return {ep.name for ep in entry_points(group="mlflow.tracking_store")}
    except Exception:  # noqa: BLE001 - broken metadata must not block a run
        return set()


def check_tracking_uri(uri: str) -> str:
    """Return ``uri`` if MLflow can log to it, else raise a one-line ConfigError.

    >>> check_tracking_uri("sqlite:///mlflow.db")
    'sqlite:///mlflow.db'
    """
    if not uri.strip():
        raise ConfigError("mlflow tracking URI is empty; give e.g. http://host:5000, "
                          "sqlite:///mlflow.db or True for the environment's MLflow")
    found = _SCHEME.match(uri)
    # a Windows drive letter ("C:\\runs") is a path, not a scheme
    if found and len(found.group(1)) > 1:
        scheme = found.group(1).lower().split("+", 1)[0]
        if scheme not in _SCHEMES and scheme not in _plugin_schemes():
            raise ConfigError(f"mlflow tracking URI {uri!r} has an unknown scheme {scheme!r}; "
                              f"accepted: {', '.join(_SCHEMES)}, or a local directory")
    return uri


def check_option(option: Any) -> None:
    """Refuse an ``mlflow=`` value that is not None, a bool or a usable URI (no package check).

    >>> check_option("sqlite:///mlflow.db"); check_option(None); check_option(True)
    """
    if option is None or isinstance(option, bool):
        return
    if not isinstance(option, str):
        raise ConfigError(f"mlflow must be a tracking URI (e.g. 'http://host:5000'), True for "
                          f"the environment's MLflow, or False; got {option!r}")
    check_tracking_uri(option)


def resolve_tracking(option: Any, spark: Any = None) -> str | None:
    """The tracking URI an experiment logs to, :data:`ENVIRONMENT` for MLflow's own, or None.

    Raises:
        ConfigError: not a URI/bool, an unknown scheme, or ``mlflow`` is not installed.
    """
    from sparkexp.project import conf_value

    if option is None:
        option = conf_value(spark, CONF_KEY)
        if option is None:
            return None
        source = f"Spark conf {CONF_KEY}"
    else:
        source = "mlflow="
    check_option(option)
    if option is False:
        return None
    if option is True:
        uri = ENVIRONMENT
        if os.environ.get("MLFLOW_TRACKING_URI"):
            check_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    else:
        uri = str(option)
    if importlib.util.find_spec("mlflow") is None:
        raise ConfigError(f"{source} needs the mlflow package on the driver: "
                          "pip install 'sparkexp[mlflow]'")
    return uri


def recordable(option: str | bool | None) -> str | bool | None:
    """The ``mlflow`` option as the manifest records it: None for a URI with credentials in it
    (records are not the place for secrets; resume then falls back to the Spark conf).

    >>> recordable("http://h:5000"), recordable(True), recordable("http://u:p@h")
    ('http://h:5000', True, None)
    """
    if not isinstance(option, str):
        return option
    from urllib.parse import urlsplit

    try:
        return None if "@" in urlsplit(option).netloc else option
    except ValueError:
        return None
