"""``sparkexp run SPEC``: run the experiment a spec file describes, on a new or given session.

Example::

    $ sparkexp run spec.yaml --master 'local[2]'
    experiment mnist_1: 20 trials (20 complete)
    best accuracy=0.981 (max) at trial_00013: {'lr': 0.0012, 'dropout': 0.3}
    records: /home/me/sparkexp-project/Experiments/mnist_1
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from sparkexp.cli._common import EXIT_ABORTED, EXIT_INTERRUPTED, EXIT_OK, CliError
from sparkexp.cli._spec import Spec, load_spec

__all__ = ["run_command", "run_spec", "exit_code_for"]


def exit_code_for(state: str) -> int:
    """0 when the experiment ran to its end (``finished``, or the ``timeout`` it was given)."""
    return EXIT_OK if state in ("finished", "timeout") else EXIT_ABORTED


def _check_root(root: str | None) -> None:
    """A local project root given on the command line must exist before Spark starts."""
    from sparkexp.fs import scheme_of

    if root and scheme_of(root) == "file" and not root.startswith("file:") \
            and not os.path.isdir(os.path.expanduser(root)):
        raise CliError(f"project root {root!r} does not exist or is not a directory; create it first")


def run_spec(spark: Any, spec: Spec, *, root: str | None = None, mlflow: str | None = None) -> Any:
    """Run a validated spec on ``spark`` and return its :class:`~sparkexp.result.Result`.

    Raises:
        ExperimentAborted: as the experiment entry points do (``.result`` holds the records).
    """
    from sparkexp import experiment
    from sparkexp.runner.connect import add_py_file

    if spec.ship_file:
        # executors import the function's module by name, from this file
        add_py_file(spark, spec.ship_file)
    options = dict(spec.options)
    if root:
        options["root"] = root
    if mlflow:
        options["mlflow"] = mlflow
    entry = getattr(experiment, spec.entry)
    # not "function_ref": the runner records that itself as module:qualname for control.retry
    extra = {"spec": spec.path, "spec_function": spec.function_ref}
    return entry(spark, spec.fn, spec.space, direction=spec.direction, metric=spec.metric,
                 name=spec.name, manifest_extra=extra, **options)


def _report_tracking(result: Any, timeout: float = 30.0) -> None:
    """Give live MLflow tracking up to ``timeout`` seconds to catch up before the command
    exits (the experiment is recorded already; the sync goes on in the background after)."""
    tracking = getattr(result, "tracking", None)
    if tracking is None:
        return
    if tracking.wait(timeout):
        print(f"mlflow: every run logged to {tracking.tracking_uri or 'the environment MLflow'}")
    else:
        print(f"sparkexp: MLflow is still catching up in the background (process {tracking.pid}); "
              f"`sparkexp export-mlflow {result.path}` completes it later", file=sys.stderr)


def report_outcome(run: Any) -> int:
    """Call ``run()`` (which returns a Result); print the summary; map the outcome to an exit code."""
    from sparkexp.errors import ExperimentAborted

    try:
        result = run()
    except ExperimentAborted as exc:
        partial = getattr(exc, "result", None)
        if partial is not None:
            print(partial.summary())
        print(f"sparkexp: aborted: {str(exc).splitlines()[0]}", file=sys.stderr)
        return EXIT_ABORTED
    except KeyboardInterrupt:
        print("sparkexp: interrupted; running trials were stopped and everything so far is "
              "recorded (continue with experiment.resume)", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(result.summary())
    _report_tracking(result)
    code = exit_code_for(result.state)
    if code != EXIT_OK:
        print(f"sparkexp: the experiment ended in state '{result.state}'", file=sys.stderr)
    elif result.trials and not result.completed:
        # a batch job whose every trial failed must not look like a success to its scheduler
        failed = len(result.failed)
        print(f"sparkexp: no trial completed ({failed} failed); see `sparkexp show {result.path}`",
              file=sys.stderr)
        code = EXIT_ABORTED
    return code


def run_command(args: argparse.Namespace) -> int:
    """Validate the spec, start Spark, run the experiment, print its summary."""
    import sparkexp

    spec = load_spec(args.spec, name=args.name)
    _check_root(args.root)
    if args.mlflow:
        from sparkexp.tracking import resolve_tracking

        resolve_tracking(args.mlflow)
    resources = dict(spec.resources)
    master = args.master or resources.pop("master", None)
    resources.pop("master", None)
    spark = sparkexp.session(master, **resources)
    try:
        return report_outcome(lambda: run_spec(spark, spec, root=args.root, mlflow=args.mlflow))
    finally:
        spark.stop()
