"""The ``sparkexp`` command line, run as a shell user runs it: a subprocess per command.

Two real experiments on ``local[2]`` (a JSON spec through ``python -m sparkexp``, a YAML spec
through ``spark-submit`` with the CLI file as the application) feed the list/show/report
tests; malformed specs must fail fast with exit 2, one line on stderr, and no Spark.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest
from support.cli import cli_env, sparkexp

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

MODEL = textwrap.dedent("""\
    import time

    def train(lr, layers):
        time.sleep(0.1)
        print(f"training lr={lr} layers={layers}")
        if layers == 3 and lr > 0.5:
            raise ValueError("diverged at lr=%s" % lr)
        return {"accuracy": 1 - abs(lr - 0.1) - layers / 100, "loss": lr}

    not_a_function = 42
    """)

SPEC_JSON = {
    "function": "model.py:train",
    "strategy": "grid",
    "space": {"lr": [0.1, 0.9], "layers": [1, 3]},
    "direction": "max",
    "metric": "accuracy",
    "name": "gridcli",
    "resources": {"executor_memory": "1g", "spark.ui.enabled": "false"},
    "options": {"max_parallel": 2},
}

SPEC_YAML = textwrap.dedent("""\
    # a random search; 1e-3 is read as a number (plain YAML 1.1 would read a string)
    function: model.py:train
    strategy: random
    space:
      lr: [1e-3, 1e-1]
      layers: [1, 3]
    direction: max
    metric: accuracy
    name: randomcli
    resources:
      executor_memory: 1g
      spark.ui.enabled: "false"
    options:
      samples: 3
      seed: 7
    """)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    (d / "model.py").write_text(MODEL)
    (d / "spec.json").write_text(json.dumps(SPEC_JSON, indent=2))
    (d / "spec.yaml").write_text(SPEC_YAML)
    (d / "allfail.json").write_text(json.dumps({**SPEC_JSON, "name": "allfail",
                                                "space": {"lr": [0.9], "layers": [3]}}))
    (d / "project").mkdir()
    return d


@pytest.fixture(scope="module")
def runs(workdir):
    """Both experiments, started together (each mostly waits on its own JVM).

    ``sparkexp run spec.json --master local[2]``: a 2x2 grid where one trial raises; and the CLI
    file as a spark-submit application with the YAML spec.
    """
    cli_file = os.path.join(REPO, "sparkexp", "cli", "__init__.py")
    submit = shutil.which("spark-submit", path=os.path.dirname(sys.executable))
    commands = {
        "json": [sys.executable, "-m", "sparkexp", "run", "spec.json", "--master", "local[2]",
                 "--root", "project"],
        "yaml": [submit or "spark-submit", "--master", "local[2]", cli_file, "run", "spec.yaml",
                 "--root", "project"],
        "allfail": [sys.executable, "-m", "sparkexp", "run", "allfail.json", "--master", "local[1]",
                    "--root", "project"],
    }
    procs = {k: subprocess.Popen(c, cwd=str(workdir), env=cli_env(), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
             for k, c in commands.items() if k != "yaml" or submit}
    done = {}
    for key, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        done[key] = subprocess.CompletedProcess(commands[key], proc.returncode, out, err)
    return done


@pytest.fixture(scope="module")
def json_run(runs):
    return runs["json"]


@pytest.fixture(scope="module")
def yaml_run(runs):
    if "yaml" not in runs:
        pytest.skip("spark-submit is not installed next to this Python")
    return runs["yaml"]


def test_run_where_no_trial_completed_exits_1(runs):
    done = runs["allfail"]
    assert done.returncode == 1, done.stderr[-2000:]
    assert "no trial completed (1 failed)" in done.stderr
    assert "Traceback" not in done.stderr.split("no trial completed")[-1]


def test_run_json_spec_end_to_end(json_run, workdir):
    assert json_run.returncode == 0, json_run.stderr[-3000:]
    assert "experiment gridcli_1: 4 trials (3 complete, 1 error)" in json_run.stdout
    assert "best accuracy=0.99 (max) at trial_00000: {'lr': 0.1, 'layers': 1}" in json_run.stdout
    manifest = json.loads((workdir / "project/Experiments/gridcli_1/experiment.json").read_text())
    assert manifest["state"] == "finished"
    assert manifest["spec"] == str(workdir / "spec.json")
    assert manifest["spec_function"] == "model.py:train"
    assert manifest["function_ref"] == "model:train"  # what the runner records for retry
    # the trial ran model.py shipped to the executor; its print went to the trial's log
    log = (workdir / "project/Experiments/gridcli_1/trial_00000/stdout.log").read_text()
    assert "training lr=0.1 layers=1" in log


def test_run_yaml_spec_under_spark_submit(yaml_run, workdir):
    assert yaml_run.returncode == 0, yaml_run.stderr[-3000:]
    assert "experiment randomcli_1: 3 trials (3 complete)" in yaml_run.stdout
    manifest = json.loads((workdir / "project/Experiments/randomcli_1/experiment.json").read_text())
    assert manifest["strategy"] == "random" and manifest["search"]["samples"] == 3
    trial = json.loads((workdir / "project/Experiments/randomcli_1/trial_00000/trial.json").read_text())
    assert isinstance(trial["params"]["lr"], float) and 1e-3 <= trial["params"]["lr"] <= 1e-1


def test_run_from_a_spark_connect_client(workdir, connect_url):
    # the CLI process is a pure Connect client of the test JVM's server; model.py reaches the
    # executors only as an artifact the CLI adds to its session
    spec = {**SPEC_JSON, "name": "connectcli", "resources": {"spark.ui.enabled": "false"}}
    (workdir / "connect.json").write_text(json.dumps(spec))
    out = sparkexp("run", "connect.json", "--master", connect_url, "--root", "project",
                   cwd=str(workdir), timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "experiment connectcli_1: 4 trials (3 complete, 1 error)" in out.stdout
    manifest = json.loads((workdir / "project/Experiments/connectcli_1/experiment.json").read_text())
    assert manifest["master"] == "local[2]"  # the Connect server's own master
    log = (workdir / "project/Experiments/connectcli_1/trial_00000/stdout.log").read_text()
    assert "training lr=0.1 layers=1" in log
    # executor settings belong to the server: one line, before any connection
    bad = {**SPEC_JSON, "name": "connectbad"}
    (workdir / "connectbad.json").write_text(json.dumps(bad))
    out = sparkexp("run", "connectbad.json", "--master", connect_url, cwd=str(workdir))
    assert out.returncode == 2, out.stderr[-2000:]
    assert out.stderr.strip().splitlines()[-1].endswith(
        f"executor_memory: settings of the Spark Connect server at {connect_url}, not of a client "
        "session; give them to the server (start-connect-server.sh --conf ...) and leave them out here")


def test_list_shows_both_experiments(json_run, yaml_run, workdir):
    out = sparkexp("list", "project", cwd=str(workdir))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["NAME", "STATE", "TRIALS", "BEST", "CREATED"]
    grid = next(line for line in lines if line.startswith("gridcli_1"))
    assert grid.split()[1:4] == ["finished", "4", "accuracy=0.99"]
    assert any(line.startswith("randomcli_1") for line in lines)
    # ROOT defaults to $SPARKEXP_PROJECT_ROOT
    same = sparkexp("list", cwd=str(workdir), SPARKEXP_PROJECT_ROOT=str(workdir / "project"))
    assert same.stdout == out.stdout


def test_show_prints_best_and_failures(json_run, workdir):
    out = sparkexp("show", "project/Experiments/gridcli_1", cwd=str(workdir))
    assert out.returncode == 0, out.stderr
    assert "best trial trial_00000:" in out.stdout
    assert "outputs: {'accuracy': 0.99, 'loss': 0.1}" in out.stdout
    failure = next(line for line in out.stdout.splitlines() if line.startswith("trial_00003"))
    assert failure.split()[1] == "error" and failure.endswith("ValueError: diverged at lr=0.9")
    # a bare name is looked up under the project root
    by_name = sparkexp("show", "gridcli_1", cwd=str(workdir),
                       SPARKEXP_PROJECT_ROOT=str(workdir / "project"))
    assert by_name.returncode == 0 and "best trial trial_00000:" in by_name.stdout


def test_reports_csv_json_html(json_run, workdir):
    exp = "project/Experiments/gridcli_1"
    out = sparkexp("report", exp, "--format", "csv", cwd=str(workdir))
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [r["status"] for r in rows] == ["complete", "complete", "complete", "error"]
    assert rows[0]["param.lr"] == "0.1" and rows[0]["output.accuracy"] == "0.99"

    out = sparkexp("report", exp, "--format", "json", "--out", "r.json", cwd=str(workdir))
    assert out.returncode == 0, out.stderr
    data = json.loads((workdir / "r.json").read_text())
    assert data["summary"]["by_status"] == {"complete": 3, "error": 1}

    out = sparkexp("report", exp, "--format", "html", cwd=str(workdir))
    assert out.returncode == 0, out.stderr
    html = (workdir / "gridcli_1.html").read_text()
    assert html.lstrip().lower().startswith("<!doctype html") and "gridcli_1" in html


def test_missing_experiment_is_a_usage_error(workdir):
    for command in (["show", "nope_1"], ["report", "nope_1", "--format", "csv"],
                    ["list", str(workdir / "no-such-root")]):
        out = sparkexp(*command, cwd=str(workdir))
        assert out.returncode == 2, (command, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


# -- bad specs: exit 2, one line, no Spark --------------------------------------------------

BAD_SPECS = {
    "unknown strategy": ({**SPEC_JSON, "strategy": "hillclimb"}, "unknown strategy 'hillclimb'"),
    "missing function": ({k: v for k, v in SPEC_JSON.items() if k != "function"}, "no 'function'"),
    "function file not found": ({**SPEC_JSON, "function": "nofile.py:train"}, "function file not found"),
    "no such function": ({**SPEC_JSON, "function": "model.py:trian"}, "has no function 'trian'"),
    "not callable": ({**SPEC_JSON, "function": "model.py:not_a_function"}, "is not callable"),
    "module not importable": ({**SPEC_JSON, "function": "no_such_mod:train"}, "cannot import module"),
    "malformed function": ({**SPEC_JSON, "function": "model.py"}, "function must be 'module:function'"),
    "unknown key": ({**SPEC_JSON, "epochs": 3}, "unknown key 'epochs'"),
    "unknown option": ({**SPEC_JSON, "options": {"samples": 3}}, "unknown option 'samples'"),
    "bad space": ({**SPEC_JSON, "strategy": "random", "space": {"lr": {"method": "zigzag"}}}, "lr"),
    "space not a mapping": ({**SPEC_JSON, "space": [1, 2]}, "must be a mapping"),
    "space vs function": ({**SPEC_JSON, "space": {"lr": [0.1], "depth": [2]}},
                          "unknown hyperparameter 'depth'"),
    "bad direction": ({**SPEC_JSON, "direction": "maximize"}, "direction must be 'max' or 'min'"),
    "bad option value": ({**SPEC_JSON, "options": {"timeout": -5}}, "timeout"),
    "bad resources": ({**SPEC_JSON, "resources": {"executor_memory": "4gb"}}, "executor_memory"),
    "asha without max_steps": ({**SPEC_JSON, "strategy": "asha", "space": {"lr": [0.1, 0.9]},
                                "options": {"samples": 3}}, "needs options max_steps"),
}


@pytest.mark.parametrize("case", sorted(BAD_SPECS))
def test_bad_spec_exits_2_with_one_line_and_no_spark(case, workdir):
    spec, expected = BAD_SPECS[case]
    path = workdir / f"bad_{case.replace(' ', '_')}.json"
    path.write_text(json.dumps(spec))
    started = time.monotonic()
    # a broken Java would make any Spark start fail loudly: these must never get that far
    out = sparkexp("run", path.name, "--master", "local[2]", cwd=str(workdir),
                   JAVA_HOME="/nonexistent-java")
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sparkexp run: error: "), out.stderr
    assert expected in lines[0]
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("name,text,expected", [
    ("broken.json", '{"function": "model.py:train",', "invalid JSON in"),
    ("broken.yaml", "function: [model.py:train\nstrategy: grid\n", "invalid YAML in"),
    ("list.yaml", "- function\n- strategy\n", "must hold a mapping"),
    ("missing.json", None, "spec file not found"),
    ("spec.txt", '{"function": "model.py:train"}', "must be JSON (.json) or YAML (.yaml, .yml)"),
    ("twice.json", '{"function": "model.py:train", "strategy": "grid", "strategy": "random"}',
     "duplicate key 'strategy'"),
    ("twice.yaml", "function: model.py:train\nspace:\n  lr: [0.1]\n  lr: [0.2]\n",
     "duplicate key 'lr'"),
])
def test_unreadable_spec_files(name, text, expected, workdir):
    if text is not None:
        (workdir / name).write_text(text)
    out = sparkexp("run", name, cwd=str(workdir), JAVA_HOME="/nonexistent-java")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], out.stderr


def test_unknown_options_and_commands_are_usage_errors(workdir):
    for args in (["run", "spec.json", "--bogus"], ["frobnicate"], ["report", "x", "--format", "pdf"],
                 ["report", "x"], []):
        out = sparkexp(*args, cwd=str(workdir))
        assert out.returncode == 2, (args, out.stderr)
        assert "usage: sparkexp" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("command", ["run", "list", "show", "report", "tensorboard", "doctor",
                                     "status", "kill", "retry", "serve", "export-mlflow"])
def test_help_shows_an_example(command, workdir):
    out = sparkexp(command, "--help", cwd=str(workdir))
    assert out.returncode == 0
    assert out.stdout.startswith(f"usage: sparkexp {command}")
    assert "examples:" in out.stdout and f"sparkexp {command} " in out.stdout.split("examples:")[1]


def test_top_level_help_and_version(workdir):
    out = sparkexp("--help", cwd=str(workdir))
    assert out.returncode == 0 and "exit codes:" in out.stdout
    assert all(c in out.stdout for c in ("run", "list", "show", "report", "doctor", "retry"))
    version = sparkexp("--version", cwd=str(workdir))
    assert version.returncode == 0 and version.stdout.startswith("sparkexp ")


# -- operating a live experiment: status, kill, retry ---------------------------------------

LIVE = textwrap.dedent("""\
    import os
    import time

    def held(x, hold):
        # runs until the test removes the hold file (or the trial is stopped)
        step = 0
        while os.path.exists(hold):
            step += 1
            print('{"step": %d, "score": %d}' % (step, x))
            time.sleep(0.1)
        return {"score": x}
    """)


def test_status_kill_and_retry_a_live_experiment(workdir):
    hold = workdir / "hold"
    hold.write_text("")
    (workdir / "live.py").write_text(LIVE)
    spec = {"function": "live.py:held", "strategy": "grid", "name": "livecli", "metric": "score",
            "space": {"x": [1, 2], "hold": [str(hold)]},
            "resources": {"executor_memory": "1g", "spark.ui.enabled": "false"},
            "options": {"max_parallel": 2, "progress": False}}
    (workdir / "live.json").write_text(json.dumps(spec))
    run = subprocess.Popen([sys.executable, "-m", "sparkexp", "run", "live.json", "--master",
                            "local[2]", "--root", "project"], cwd=str(workdir), env=cli_env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    exp = workdir / "project/Experiments/livecli_1"
    try:
        deadline = time.monotonic() + 180
        status = None
        while time.monotonic() < deadline and run.poll() is None:
            if (exp / "control.json").exists():
                status = sparkexp("status", str(exp), cwd=str(workdir))
                if status.stdout.count("  running trial_") == 2 and "no report yet" not in status.stdout:
                    break
            time.sleep(0.5)
        assert status is not None and status.returncode == 0, run.stderr.read() if run.poll() else ""
        assert "livecli_1: running (driver running), grid search" in status.stdout
        assert "score=" in status.stdout  # the trials' last JSON-line reports

        kill = sparkexp("kill", str(exp), "--timeout", "30", cwd=str(workdir))
        assert kill.returncode == 0, kill.stderr
        assert kill.stdout.strip() == f"stopped {exp}"
        out, err = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 1, err[-2000:]  # killed is not finished
    assert "experiment livecli_1: 2 trials (2 stopped)" in out
    assert "ended in state 'killed'" in err

    # nothing runs it any more: kill says so; retry the stopped trials, which now finish
    again = sparkexp("kill", str(exp), "--timeout", "1", cwd=str(workdir))
    assert again.returncode == 1 and "did not confirm" in again.stderr
    hold.unlink()
    retry = sparkexp("retry", str(exp), "--stopped", "--master", "local[2]", cwd=str(workdir),
                     timeout=300)
    assert retry.returncode == 0, retry.stderr[-2000:]
    assert "experiment livecli_1: 2 trials (2 complete)" in retry.stdout
    final = sparkexp("status", str(exp), cwd=str(workdir))
    assert "livecli_1: finished, grid search" in final.stdout
    assert "best score=2 at trial_00001" in final.stdout
