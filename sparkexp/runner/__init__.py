"""Execution on Spark: the only package that imports pyspark.

The runner is split so each part can be read (and tested) alone; data flows one way::

    experiment.run_search --RunOptions--> driver.ExperimentRunner  (wires the parts below)
        server.TrialServer   <- channel (HMAC-authenticated JSON) <-  worker.run_task on executors
        scheduler.Scheduler  pure: trials, slots, deadlines, failure policy, one Phase enum
            trials.TrialBook     what happened to each trial; asks and tells the search
            policy.FailurePolicy retries, lost workers, max_failures, slot restarts
        backend.Backend      the Spark side: slots as jobs, kill a task, capacity, cancel all
            spark_backend.SparkContextBackend   the classic (py4j SparkContext) backend
        recorder.Recorder    single writer of the journal and trial records (group commit)
        replay.replay        resume: the journal's fold, replaying asks and tells
        messages / channel   the channel's typed messages and framing

Inside ``runner/`` only :mod:`.spark_backend`, :mod:`.worker` (the task's side),
:mod:`.resources` (reading the session's executors) and :mod:`.manifest` (pyspark's version)
import pyspark. Two modules outside ``runner/`` touch Spark, and are right to: ``sparkexp._session`` builds
the SparkSession (``sparkexp.session()``, the user's entry to Spark: it must import pyspark)
and ``sparkexp.hdfs`` reads Hadoop's configuration through the session's JVM for the hops
``hdfs`` helpers; both import pyspark only inside the functions that need it, so importing
sparkexp never imports pyspark.
"""

from __future__ import annotations

from sparkexp.runner.driver import ExperimentRunner
from sparkexp.runner.manifest import RunSettings
from sparkexp.runner.spark_backend import default_parallelism, spark_context

__all__ = ["ExperimentRunner", "RunSettings", "default_parallelism", "spark_context"]
