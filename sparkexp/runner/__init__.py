"""Execution on Spark: the only package that imports pyspark."""

from __future__ import annotations

from sparkexp.runner.driver import ExperimentRunner, RunSettings, default_parallelism, spark_context

__all__ = ["ExperimentRunner", "RunSettings", "default_parallelism", "spark_context"]
