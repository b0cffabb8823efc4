"""Commands that read records: ``list``, ``show``, ``report`` and ``tensorboard``.

Example::

    $ sparkexp list sparkexp-project
    NAME     STATE     TRIALS  BEST                  CREATED
    demo_1   finished  9       accuracy=0.928 (max)  2024-05-02 10:41
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from typing import Any

from sparkexp.cli._common import (
    EXIT_ABORTED,
    EXIT_OK,
    CliError,
    find_experiment,
    first_error_line,
    format_time,
)

__all__ = ["list_command", "show_command", "report_command", "tensorboard_command",
           "export_mlflow_command", "table"]


def table(header: list[str], rows: list[list[str]]) -> str:
    """Left-aligned columns separated by two spaces.

    Example:
        >>> print(table(["A", "BB"], [["x", "y"], ["long", "z"]]))
        A     BB
        x     y
        long  z
    """
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()
             for row in [header, *rows]]
    return "\n".join(lines)


def _best(result: Any) -> str:
    best = result.best
    return "-" if best is None else f"{result.metric}={best.metric:.6g} ({result.direction})"


def list_command(args: argparse.Namespace) -> int:
    """One line per experiment under the project root."""
    from sparkexp.experiment import list_experiments
    from sparkexp.project import resolve_root

    root = resolve_root(None, args.root)
    if args.root and "://" not in args.root and not os.path.isdir(os.path.expanduser(args.root)):
        raise CliError(f"project root {args.root!r} does not exist or is not a directory")
    results = list_experiments(root)
    if not results:
        print(f"no experiments under {root}", file=sys.stderr)
        return EXIT_OK
    rows = [[r.name, r.state, str(len(r.trials)), _best(r), format_time(r.manifest.get("created"))]
            for r in results]
    print(table(["NAME", "STATE", "TRIALS", "BEST", "CREATED"], rows))
    return EXIT_OK


def show_command(args: argparse.Namespace) -> int:
    """Summary, settings, the best trial, and each failed trial with its error line."""
    from sparkexp.result import load

    result = load(find_experiment(args.path))
    manifest = result.manifest
    print(result.summary())
    print(f"state: {result.state}" + (f" ({manifest['abort_reason']})" if manifest.get("abort_reason") else ""))
    print(f"strategy: {manifest.get('strategy', '-')}, function: "
          f"{manifest.get('spec_function') or manifest.get('function_ref') or manifest.get('function', '-')}, "
          f"created: {format_time(manifest.get('created'))}, "
          f"finished: {format_time(manifest.get('finished'))}")
    if manifest.get("spec"):
        print(f"spec: {manifest['spec']}")
    best = result.best
    if best is not None:
        print()
        print(f"best trial {best.id}:")
        print(f"  params:  {best.params}")
        print(f"  outputs: {best.outputs}")
        duration = f"{best.duration:.1f}s" if best.duration is not None else "-"
        print(f"  host: {best.host or '-'}, duration: {duration}")
        print(f"  logdir:  {best.logdir}")
    failed = result.failed
    if failed:
        print()
        print(f"failed trials ({len(failed)}):")
        rows = [[t.id, t.status, str(t.params), first_error_line(t.error)] for t in failed]
        print(table(["ID", "STATUS", "PARAMS", "ERROR"], rows))
    return EXIT_OK


def report_command(args: argparse.Namespace) -> int:
    """CSV/JSON to stdout (or ``--out``); HTML to ``./<experiment>.html`` (or ``--out``)."""
    from sparkexp import report
    from sparkexp.result import load

    result = load(find_experiment(args.path))
    out = args.out
    if args.format == "html" and out is None:
        out = f"{result.name}.html"
    if out in (None, "-"):
        text = {"csv": report.to_csv, "json": report.to_json, "html": report.to_html}[args.format](result)
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return EXIT_OK
    writer = {"csv": report.to_csv, "json": report.to_json, "html": report.to_html}[args.format]
    try:
        writer(result, out)
    except OSError as exc:
        raise CliError(f"cannot write {out!r}: {exc.strerror or exc}") from exc
    print(f"wrote {out}", file=sys.stderr)
    return EXIT_OK


def tensorboard_command(args: argparse.Namespace) -> int:
    """Serve the experiment's trial logdirs with TensorBoard until Ctrl-C."""
    path = find_experiment(args.path)
    from sparkexp import tensorboard

    start = getattr(tensorboard, "start", None)
    if start is None:
        print("sparkexp tensorboard: error: this sparkexp has no sparkexp.tensorboard.start(); "
              "update sparkexp, or run: tensorboard --logdir " + path, file=sys.stderr)
        return EXIT_ABORTED
    server = start(path, host=args.host, port=args.port)
    print(f"TensorBoard for {path}: {server.url}  (Ctrl-C to stop)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return EXIT_OK


def export_mlflow_command(args: argparse.Namespace) -> int:
    """Mirror one experiment into MLflow; exit 1 (one line) when MLflow cannot be reached."""
    from sparkexp.errors import SparkexpError
    from sparkexp.tracking import check_tracking_uri, export, resolve_tracking

    if args.tracking_uri is not None:
        check_tracking_uri(args.tracking_uri)
    resolve_tracking(True)  # the package check, before reading anything
    path = find_experiment(args.path)
    try:
        written = export(path, args.tracking_uri, experiment_name=args.experiment_name)
    except SparkexpError:
        raise
    except Exception as exc:  # noqa: BLE001 - MLflow's errors, for the terminal
        print(f"sparkexp export-mlflow: error: MLflow: {first_error_line(str(exc))}", file=sys.stderr)
        return EXIT_ABORTED
    print(f"{path}: {written} MLflow run(s) written"
          + (" (MLflow held everything already)" if not written else ""))
    return EXIT_OK
