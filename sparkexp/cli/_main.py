"""The ``sparkexp`` argument parser and the error handling every command shares.

Exit codes: 0 done, 1 the experiment was aborted (or a check found problems), 2 bad input or
usage (one line on stderr, nothing started), 130 interrupted with Ctrl-C.

Example:
    >>> main(["list", "/nonexistent-root"])
    2
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sparkexp.cli._common import EXIT_ABORTED, EXIT_INTERRUPTED, EXIT_USAGE

__all__ = ["main", "build_parser"]

_DESCRIPTION = """\
Run and inspect hyperparameter experiments on Apache Spark.

exit codes: 0 done, 1 experiment aborted / problems found, 2 bad input, 130 Ctrl-C
"""

_EXAMPLES = {
    "run": """\
examples:
  sparkexp run spec.yaml --master 'local[2]'
  spark-submit --master yarn $(python -c 'import sparkexp.cli as c; print(c.__file__)') run spec.yaml

spec (JSON, or YAML for .yaml/.yml):
  function: train.py:train          # or module:function; paths are relative to the spec
  strategy: random                  # grid, random, evolutionary, bayesian, asha
  space: {lr: [1.0e-4, 1.0e-1], layers: [1, 4], optimizer: [adam, sgd]}
  direction: max                    # or min
  metric: accuracy                  # when the function returns a dict
  name: mnist
  resources: {executor_memory: 4g, executor_gpus: 1, task_gpus: 1}   # sparkexp.session(...)
  options: {samples: 20, seed: 1, trial_timeout: 600}                # the strategy's settings

exit: 0 finished, 1 aborted, 2 bad spec, 130 Ctrl-C""",
    "list": """\
examples:
  sparkexp list
  sparkexp list hdfs:///Projects/demo/""",
    "show": """\
examples:
  sparkexp show sparkexp-project/Experiments/mnist_1
  sparkexp show mnist_1            # a name under the project root""",
    "report": """\
examples:
  sparkexp report mnist_1 --format csv > trials.csv
  sparkexp report mnist_1 --format json --out trials.json
  sparkexp report mnist_1 --format html            # writes ./mnist_1.html""",
    "tensorboard": """\
examples:
  sparkexp tensorboard mnist_1 --port 6006""",
    "serve": """\
examples:
  sparkexp serve                                  # ./sparkexp-project on 127.0.0.1, a free port
  sparkexp serve hdfs:///Projects/demo --port 8765
  sparkexp serve --host 0.0.0.0 --port 8765       # other machines: they need the printed token""",
    "doctor": """\
examples:
  sparkexp doctor --master spark://10.0.0.5:7077
  sparkexp doctor --master spark://10.0.0.5:7077 --executor-memory 2g --executor-cores 2 --timeout 60
  sparkexp doctor --master sc://10.0.0.5:15002     # a Spark Connect server (a DataFrame probe job)
exit: 0 no problems found, 1 problems found (answers within --timeout seconds)""",
    "status": """\
examples:
  sparkexp status mnist_1""",
    "kill": """\
examples:
  sparkexp kill mnist_1 --timeout 30
exit: 0 stopped, 1 not confirmed within the timeout""",
    "export-mlflow": """\
examples:
  sparkexp export-mlflow mnist_1 --tracking-uri http://mlflow.example:5000
  MLFLOW_TRACKING_URI=sqlite:///mlflow.db sparkexp export-mlflow sparkexp-project/Experiments/mnist_1
exporting again writes only what MLflow does not hold yet""",
    "retry": """\
examples:
  sparkexp retry mnist_1                      # failed trials
  sparkexp retry mnist_1 --stopped --failed   # stopped and failed trials
exit: 0 finished, 1 aborted, 130 Ctrl-C""",
    "pause": """\
examples:
  sparkexp pause mnist_1 trial_00003          # stopped now, continues from its checkpoint
exit: 0 paused, 1 not confirmed within the timeout, 2 no driver or no such running trial""",
    "resume": """\
examples:
  sparkexp resume mnist_1 --trial trial_00003  # queue a paused trial of a running experiment
  sparkexp resume mnist_1                      # run an interrupted or paused experiment again
exit: 0 finished (or queued), 1 aborted, 130 Ctrl-C""",
}


def _sub(subs: argparse._SubParsersAction, name: str, help_text: str, *,
         experiment: bool = False) -> argparse.ArgumentParser:
    """A subcommand; ``experiment=True`` gives it the PATH of one experiment as first argument."""
    p = subs.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".",
                        epilog=_EXAMPLES[name], formatter_class=argparse.RawDescriptionHelpFormatter)
    if experiment:
        p.add_argument("path", metavar="PATH", help="experiment directory, or its name under the root")
    return p


def build_parser() -> argparse.ArgumentParser:
    """The ``sparkexp`` parser; each subcommand's ``handler`` runs it."""
    from sparkexp import __version__
    from sparkexp._session import SESSION_OPTIONS
    from sparkexp.cli import _ops, _records, _run, _serve

    parser = argparse.ArgumentParser(prog="sparkexp", description=_DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"sparkexp {__version__}")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = _sub(subs, "run", "run the experiment a JSON or YAML spec describes")
    p.add_argument("spec", metavar="SPEC", help="the spec file (.json, .yaml or .yml)")
    p.add_argument("--master", metavar="URL", help="Spark master, or a Spark Connect server "
                   "(sc://host:15002) (default: spark-submit's, the spec's resources.master, "
                   "$SPARK_REMOTE, or local[*])")
    p.add_argument("--name", metavar="N", help="experiment name (overrides the spec's)")
    p.add_argument("--root", metavar="R", help="project root (default: spark.sparkexp.projectRoot, "
                   "$SPARKEXP_PROJECT_ROOT, ./sparkexp-project)")
    p.add_argument("--mlflow", metavar="URI", help="log to this MLflow tracking URI as it runs "
                   "(overrides the spec's options.mlflow)")
    p.set_defaults(handler=_run.run_command)

    p = _sub(subs, "list", "list the experiments under a project root")
    p.add_argument("root", metavar="ROOT", nargs="?", help="project root (default: "
                   "$SPARKEXP_PROJECT_ROOT or ./sparkexp-project)")
    p.set_defaults(handler=_records.list_command)

    p = _sub(subs, "show", "summary, best trial and failures of one experiment", experiment=True)
    p.set_defaults(handler=_records.show_command)

    p = _sub(subs, "report", "CSV, JSON or HTML report of one experiment", experiment=True)
    p.add_argument("--format", required=True, choices=("csv", "json", "html"))
    p.add_argument("--out", metavar="FILE", help="where to write (default: stdout for csv and "
                   "json, ./<experiment>.html for html; '-' for stdout)")
    p.set_defaults(handler=_records.report_command)

    p = _sub(subs, "tensorboard", "serve an experiment's TensorBoard logs", experiment=True)
    p.add_argument("--host", metavar="H", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", metavar="P", type=int, default=0, help="port (default: a free one)")
    p.set_defaults(handler=_records.tensorboard_command)

    p = _sub(subs, "serve", "live dashboard and REST API over a project's experiments")
    p.add_argument("root", metavar="ROOT", nargs="?", help="project root (default: "
                   "$SPARKEXP_PROJECT_ROOT or ./sparkexp-project)")
    p.add_argument("--host", metavar="H", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; any other address needs the token)")
    p.add_argument("--port", metavar="P", type=int, default=0, help="port (default: a free one)")
    p.add_argument("--no-token", action="store_true",
                   help="serve without a token (only on 127.0.0.1 / localhost)")
    p.add_argument("--master", metavar="URL", help="Spark master for retries started from the "
                   "page (default: the one the experiment recorded)")
    p.set_defaults(handler=_serve.serve_command)

    p = _sub(subs, "doctor", "check what experiments would get on a Spark master")
    p.add_argument("--master", metavar="URL", help="Spark master, or a Spark Connect server "
                   "(sc://host:15002) (default: $SPARK_REMOTE, or local[*])")
    p.add_argument("--root", metavar="R", help="project root to check for write access")
    p.add_argument("--timeout", metavar="S", type=float, default=30.0,
                   help="answer within this many seconds, whatever happens (default 30)")
    for option in SESSION_OPTIONS:  # the same options as sparkexp.session(...)
        p.add_argument(option.flag, dest=option.name, metavar=option.name.split("_")[-1].upper(),
                       type=option.kind, help=option.help)
    p.add_argument("--conf", metavar="KEY=VALUE", action="append", default=[],
                   help="a Spark setting, as spark-submit's --conf (repeatable)")
    p.set_defaults(handler=_ops.doctor_command)

    p = _sub(subs, "status", "live status of an experiment", experiment=True)
    p.set_defaults(handler=_ops.status_command)

    p = _sub(subs, "kill", "stop a running experiment", experiment=True)
    p.add_argument("--timeout", metavar="S", type=float, default=10.0,
                   help="seconds to wait for the driver to confirm (default 10)")
    p.set_defaults(handler=_ops.kill_command)

    p = _sub(subs, "export-mlflow", "copy an experiment's runs into MLflow (idempotent)",
             experiment=True)
    p.add_argument("--tracking-uri", metavar="URI", help="MLflow tracking URI (default: "
                   "$MLFLOW_TRACKING_URI or MLflow's default)")
    p.add_argument("--experiment-name", metavar="N", help="MLflow experiment (default: "
                   "$MLFLOW_EXPERIMENT_NAME or the experiment's name without its run number)")
    p.set_defaults(handler=_records.export_mlflow_command)

    p = _sub(subs, "retry", "run an experiment's failed or stopped trials again", experiment=True)
    p.add_argument("--failed", action="store_true", help="retry failed trials (the default)")
    p.add_argument("--stopped", action="store_true", help="retry stopped trials")
    p.add_argument("--master", metavar="URL", help="Spark master (default: local[*])")
    p.set_defaults(handler=_ops.retry_command)

    p = _sub(subs, "pause", "pause one running trial (it continues from its checkpoint when "
             "resumed)", experiment=True)
    p.add_argument("trial", metavar="TRIAL", help="the trial's id, e.g. trial_00003")
    p.add_argument("--timeout", metavar="S", type=float, default=10.0,
                   help="seconds to wait for the trial to be recorded paused (default 10)")
    p.set_defaults(handler=_ops.pause_command)

    p = _sub(subs, "resume", "queue a paused trial again, or run an interrupted experiment "
             "again", experiment=True)
    p.add_argument("--trial", metavar="TRIAL", help="a paused trial of the running experiment")
    p.add_argument("--master", metavar="URL", help="Spark master (default: local[*])")
    p.set_defaults(handler=_ops.resume_command)
    return parser


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``sparkexp`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    from sparkexp.errors import ConfigError, SparkexpError, StorageError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.handler(args))
    except (ConfigError, StorageError) as exc:  # CliError and SpecError are ConfigError-like
        print(f"sparkexp {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except SparkexpError as exc:
        print(f"sparkexp {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_ABORTED
    except KeyboardInterrupt:
        print(f"sparkexp {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
