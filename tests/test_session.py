"""sparkexp.session(...): the Spark conf it builds and the inputs it refuses (no Spark started)."""

from __future__ import annotations

import pytest

import sparkexp
from sparkexp._session import session_conf
from sparkexp.errors import ConfigError


def test_cluster_settings():
    conf = session_conf("spark://10.0.0.5:7077", executor_memory="2g", executor_cores=2,
                        executor_gpus=2, task_gpus=1, max_parallel=8, app_name="tune")
    assert conf["spark.master"] == "spark://10.0.0.5:7077" and conf["spark.app.name"] == "tune"
    assert conf["spark.executor.memory"] == "2g" and conf["spark.executor.cores"] == "2"
    assert conf["spark.executor.resource.gpu.amount"] == "2"
    assert conf["spark.task.resource.gpu.amount"] == "1"
    # 8 trials at once, 2 per executor (2 cores, 2 GPUs / 1 per task)
    assert conf["spark.dynamicAllocation.maxExecutors"] == "4"
    assert conf["spark.sparkexp.maxParallel"] == "8"
    assert conf["spark.ui.showConsoleProgress"] == "false"


def test_local_mode_never_asks_spark_for_task_gpus():
    conf = session_conf("local[4]", executor_memory=2048, executor_gpus=2, task_gpus=1,
                        gpu_discovery_script="/opt/gpus.sh")
    assert conf["spark.driver.memory"] == "2048m" and "spark.executor.memory" not in conf
    assert "spark.task.resource.gpu.amount" not in conf  # would make local tasks wait forever
    assert conf["spark.sparkexp.gpusPerTrial"] == "1" and conf["spark.sparkexp.gpus"] == "2"
    assert conf["spark.driver.resource.gpu.amount"] == "2"
    assert conf["spark.driver.resource.gpu.discoveryScript"] == "/opt/gpus.sh"


def test_extra_spark_settings_by_full_key():
    conf = session_conf("local[2]", **{"spark.sql.shuffle.partitions": 4,
                                       "spark.dynamicAllocation.enabled": False})
    assert conf["spark.sql.shuffle.partitions"] == "4"
    assert conf["spark.dynamicAllocation.enabled"] == "false"


@pytest.mark.parametrize("kwargs, message", [
    ({"executor_memory": "4gb"}, "executor_memory must be a whole number with an optional unit k, m, g or t (like '512m' or '4g'), got '4gb'"),
    ({"executor_memory": "-1"}, "got '-1'"),
    ({"executor_memory": "lots"}, "got 'lots'"),
    ({"executor_memory": 0}, "got 0"),
    ({"executor_gpus": -1}, "executor_gpus must be a whole number >= 0 or None, got -1"),
    ({"executor_cores": 0}, "executor_cores must be a positive whole number or None, got 0"),
    ({"task_gpus": 1.5}, "task_gpus must be a whole number >= 0 or None, got 1.5"),
    ({"max_parallel": 0}, "max_parallel must be a positive whole number or None, got 0"),
    ({"executor_gpus": 1, "task_gpus": 2}, "task_gpus=2 is more than executor_gpus=1"),
    ({"shuffle_partitions": 4}, "unknown option 'shuffle_partitions': session() takes master"),
])
def test_bad_inputs_name_the_value_and_what_is_accepted(kwargs, message):
    with pytest.raises(ConfigError) as info:
        sparkexp.session("spark://h:7077", **kwargs)  # fails before any Spark starts
    assert message in str(info.value)


def test_yarn_gpus_need_a_discovery_script():
    with pytest.raises(ConfigError, match="needs gpu_discovery_script"):
        session_conf("yarn", executor_gpus=1)
    assert session_conf("yarn", executor_gpus=1, gpu_discovery_script="./gpus.sh")[
        "spark.executor.resource.gpu.discoveryScript"] == "./gpus.sh"


def test_bad_master():
    with pytest.raises(ConfigError, match="master must be a Spark master URL"):
        session_conf("")


def test_session_keeps_what_spark_submit_gave(tmp_path):
    """Under spark-submit, session() without a master keeps --master and --executor-memory."""
    import os
    import subprocess
    import sys

    import pyspark

    script = tmp_path / "check.py"
    script.write_text(
        "from sparkexp._session import session_conf\n"
        "conf = session_conf()\n"
        "print('CONF', conf.get('spark.master'), conf.get('spark.executor.memory'))\n"
    )
    submit = os.path.join(os.path.dirname(pyspark.__file__), "bin", "spark-submit")
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    out = subprocess.run([submit, "--master", "spark://127.0.0.1:7999", "--executor-memory", "3g",
                          str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert "CONF spark://127.0.0.1:7999 3g" in out.stdout, out.stderr[-2000:]
