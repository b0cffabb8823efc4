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


def _process_age() -> float:
    """Seconds since this process started (Linux; 0 where /proc cannot tell)."""
    try:
        with open("/proc/self/stat") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])  # field 22: starttime
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


def doctor_command(args: argparse.Namespace) -> int:
    """Start a session, inspect it, print what an experiment would get and what is wrong.

    Answers within ``--timeout`` seconds; a session still starting then is abandoned with the
    process (its JVM exits with it).
    """
    from sparkexp._session import SESSION_OPTIONS
    from sparkexp.runner.doctor import check_master

    options: dict[str, Any] = {o.name: getattr(args, o.name) for o in SESSION_OPTIONS
                               if getattr(args, o.name) is not None}
    for item in args.conf:
        key, sep, value = item.partition("=")
        if not sep or not key.startswith("spark."):
            raise CliError(f"--conf takes KEY=VALUE with a Spark key like spark.executor.memoryOverhead=1g, "
                           f"got {item!r}")
        options[key] = value
    if not args.timeout > 0:
        raise CliError(f"--timeout must be a positive number of seconds, got {args.timeout:g}")
    # the bound counts from the command's start: Python and its imports took part of it
    budget = max(1.0, args.timeout - _process_age())
    report = check_master(args.master, timeout=budget, root=args.root, **options)
    print(report)
    print(f"(checked in {report.seconds:.1f} s)")
    code = EXIT_OK if not report.problems else EXIT_ABORTED
    if report.abandoned:
        # a context still starting (or stopping) would hold the interpreter's exit for as long
        # as it takes; the promise is an answer within --timeout: leave now (its JVM exits
        # when this process does)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


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
