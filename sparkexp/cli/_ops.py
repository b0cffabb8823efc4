"""Commands that act on sessions and live experiments: ``doctor``, ``status``, ``kill``, ``retry``.

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

__all__ = ["doctor_command", "status_command", "kill_command", "retry_command"]


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


def retry_command(args: argparse.Namespace) -> int:
    """Run an experiment's failed (and/or stopped) trials again, in the same records."""
    import sparkexp
    from sparkexp.cli._run import report_outcome
    from sparkexp.cli._spec import load_function
    from sparkexp.store import ExperimentStore

    control = _control()
    path = find_experiment(args.path)
    manifest = ExperimentStore(path).read_manifest()
    failed = args.failed or not args.stopped
    fn = ship = None
    ref = manifest.get("spec_function")
    if ref:
        # started by `sparkexp run`: import the function the way the spec named it, ship its file
        base = os.path.dirname(str(manifest.get("spec") or "")) or os.getcwd()
        fn, ship = load_function(ref, base_dir=base)
    # otherwise control.retry imports the manifest's function_ref (module:qualname)
    from sparkexp.runner.connect import add_py_file

    spark = sparkexp.session(args.master)
    try:
        if ship:
            add_py_file(spark, ship)
        return report_outcome(lambda: control.retry(spark, path, fn, failed=failed,
                                                     stopped=args.stopped))
    finally:
        spark.stop()
