"""Commands that act on sessions and live experiments: ``doctor``, ``status``, ``kill``, ``retry``,
``pause``, ``resume``.

``status``, ``kill`` and ``retry`` use :mod:`sparkexp.control`, imported when the command runs.

Example::

    $ sparkexp doctor --master 'local[2]'
    master: local[2] (local)
    ...
    problems: none found
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from sparkexp.cli._common import EXIT_ABORTED, EXIT_OK, CliError, find_experiment

__all__ = ["doctor_command", "status_command", "kill_command", "retry_command", "pause_command",
           "resume_command"]


def _control() -> Any:
    try:
        from sparkexp import control
    except ImportError as exc:
        if exc.name != "sparkexp.control":
            raise
        raise CliError("this sparkexp has no sparkexp.control module (status, kill and retry need "
                       "it); update sparkexp") from exc
    return control


def doctor_command(args: argparse.Namespace) -> int:
    """Start a session, inspect it, print what an experiment would get and what is wrong."""
    import sparkexp
    from sparkexp.runner.resources import doctor_report

    spark = sparkexp.session(args.master)
    try:
        report = doctor_report(spark, root=args.root)
    finally:
        spark.stop()
    print(report)
    return EXIT_OK if not report.problems else EXIT_ABORTED


def status_command(args: argparse.Namespace) -> int:
    """Print the experiment's live status (running trials, counts, best so far)."""
    control = _control()
    print(control.format_status(control.status(find_experiment(args.path))))
    return EXIT_OK


def kill_command(args: argparse.Namespace) -> int:
    """Ask the experiment's driver to stop; wait up to ``--timeout`` seconds for it."""
    control = _control()
    path = find_experiment(args.path)
    if control.kill(path, timeout=args.timeout):
        print(f"stopped {path}")
        return EXIT_OK
    print(f"sparkexp kill: {path} did not confirm it stopped within {args.timeout:g}s",
          file=sys.stderr)
    return EXIT_ABORTED


def _rerun(args: argparse.Namespace, path: str, run: Any) -> int:
    """Run ``run(spark, fn)`` on a new session with the experiment's function: the one its
    spec named (``sparkexp run``; its file shipped to executors), else None (the caller imports
    the manifest's ``function_ref``)."""
    import sparkexp
    from sparkexp.cli._run import report_outcome
    from sparkexp.cli._spec import load_function
    from sparkexp.store import ExperimentStore

    manifest = ExperimentStore(path).read_manifest()
    fn = ship = None
    ref = manifest.get("spec_function")
    if ref:
        base = os.path.dirname(str(manifest.get("spec") or "")) or os.getcwd()
        fn, ship = load_function(ref, base_dir=base)
    from sparkexp.runner.connect import add_py_file

    spark = sparkexp.session(args.master)
    try:
        if ship:
            add_py_file(spark, ship)
        return report_outcome(lambda: run(spark, fn))
    finally:
        spark.stop()


def retry_command(args: argparse.Namespace) -> int:
    """Run an experiment's failed (and/or stopped) trials again, in the same records."""
    control = _control()
    path = find_experiment(args.path)
    failed = args.failed or not args.stopped
    return _rerun(args, path, lambda spark, fn: control.retry(spark, path, fn, failed=failed,
                                                                stopped=args.stopped))


def pause_command(args: argparse.Namespace) -> int:
    """Pause one running trial of a running experiment."""
    control = _control()
    path = find_experiment(args.path)
    if control.pause(path, args.trial, timeout=args.timeout):
        print(f"paused {args.trial} of {path}")
        return EXIT_OK
    print(f"sparkexp pause: {args.trial} was not recorded paused within {args.timeout:g}s",
          file=sys.stderr)
    return EXIT_ABORTED


def resume_command(args: argparse.Namespace) -> int:
    """Queue a paused trial (``--trial``) of a running experiment, or run an interrupted or
    paused experiment again (its paused and unfinished trials continue from checkpoints)."""
    control = _control()
    path = find_experiment(args.path)
    if args.trial:
        control.resume_trial(path, args.trial)
        print(f"queued {args.trial} of {path} again")
        return EXIT_OK

    def run(spark: Any, fn: Any) -> Any:
        from sparkexp import experiment

        if fn is None:
            from sparkexp.store import ExperimentStore

            ref = ExperimentStore(path).read_manifest().get("function_ref")
            if not ref:
                raise CliError(f"{path} does not record an importable function")
            fn = control.resolve_function(str(ref))
        return experiment.resume(spark, path, fn)

    return _rerun(args, path, run)
