"""Where the project root is: Spark conf, environment, or a local default.

Resolution order: the Spark conf key ``spark.sparkexp.projectRoot``, the environment variable
``SPARKEXP_PROJECT_ROOT``, then ``./sparkexp-project/`` (made absolute on the driver, so
local-mode executors write to the same place).

Example:
    >>> import os
    >>> os.environ["SPARKEXP_PROJECT_ROOT"] = "/tmp/proj"
    >>> resolve_root()
    '/tmp/proj/'
"""

from __future__ import annotations

import os
from typing import Any

from sparkexp.fs import scheme_of

__all__ = ["CONF_KEY", "ENV_KEY", "DEFAULT_ROOT", "resolve_root", "normalize_root", "conf_value"]

CONF_KEY = "spark.sparkexp.projectRoot"
ENV_KEY = "SPARKEXP_PROJECT_ROOT"
DEFAULT_ROOT = "sparkexp-project"


def normalize_root(root: str) -> str:
    """Absolute (for local paths) with exactly one trailing ``/``; a filesystem's own root
    keeps its empty authority (``hdfs:///``, not ``hdfs:/``).

    >>> normalize_root("hdfs://nn:8020/user/me//"), normalize_root("hdfs:///")
    ('hdfs://nn:8020/user/me/', 'hdfs:///')
    """
    root = str(root)
    if scheme_of(root) == "file" and not root.startswith("file:"):
        root = os.path.abspath(os.path.expanduser(root))
    stripped = root.rstrip("/")
    return stripped + ("///" if stripped.endswith(":") else "/")


def conf_value(spark: Any, key: str) -> str | None:
    """The Spark conf value of ``key`` for a SparkSession or SparkContext (None when unset)."""
    if spark is None:
        return None
    value = None
    try:
        value = spark.conf.get(key, None)
    except Exception:  # a SparkContext rather than a SparkSession
        getconf = getattr(spark, "getConf", None)
        if getconf is not None:
            value = getconf().get(key, None)
    return str(value) if value else None


def resolve_root(spark: Any = None, root: str | None = None) -> str:
    """The project root for an experiment (explicit ``root`` wins, then conf, env, default)."""
    if root:
        return normalize_root(root)
    configured = conf_value(spark, CONF_KEY)
    if configured:
        return normalize_root(configured)
    env_value = os.environ.get(ENV_KEY)
    if env_value:
        return normalize_root(env_value)
    return normalize_root(DEFAULT_ROOT)
