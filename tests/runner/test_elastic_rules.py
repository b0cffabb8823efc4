"""The pure rules of elastic slots and of asking a standalone master (no Spark needed)."""

from __future__ import annotations

import pytest

from sparkexp.errors import ConfigError
from sparkexp.runner.elastic import capacity_of, wanted_slots, yields
from sparkexp.runner.resources import check_workers, worker_offers
from sparkexp.runner.standalone import master_addresses, unreachable_masters

WORKER = {"host": "10.0.0.6", "port": 42541, "state": "ALIVE", "memory": 3072, "cores": 8,
          "coresused": 2, "memoryused": 1024, "resources": {"gpu": {"addresses": ["0", "1"]}}}


def test_static_executors_cap_the_slots_and_dynamic_allocation_does_not():
    assert wanted_slots(ceiling=None, work=float("inf"), capacity=6, dynamic=False) == 6
    assert wanted_slots(ceiling=4, work=100, capacity=6, dynamic=False) == 4  # max_parallel
    assert wanted_slots(ceiling=8, work=100, capacity=0, dynamic=True) == 8   # ask for executors
    assert wanted_slots(ceiling=8, work=2, capacity=6, dynamic=True) == 2     # release the rest
    assert wanted_slots(ceiling=None, work=0, capacity=6, dynamic=False) == 0


def test_an_experiment_keeps_its_fair_share_while_others_wait():
    assert yields(running=4, capacity=4, contenders=0) == 0
    assert yields(running=4, capacity=4, contenders=1) == 2
    assert yields(running=4, capacity=6, contenders=2) == 2
    assert yields(running=1, capacity=8, contenders=1) == 0
    assert yields(running=3, capacity=2, contenders=5) == 2  # at least one slot each


def test_capacity_counts_trials_that_fit_each_executor():
    executors = [{"id": "1", "cores": 4, "gpus": ["0", "1"]}, {"id": "2", "cores": 2, "gpus": []}]
    assert capacity_of(executors, 1, 0.0) == 6
    assert capacity_of(executors, 2, 0.0) == 3
    assert capacity_of(executors, 1, 1.0) == 2  # GPUs: only the first, two one-GPU trials


def test_master_urls_and_a_master_that_does_not_listen():
    assert master_addresses("spark://a:7077,b:7078") == [("a", 7077), ("b", 7078)]
    assert master_addresses("spark://[::1]:7077") == [("::1", 7077)]
    assert unreachable_masters("local[2]") == []
    [line] = unreachable_masters("spark://127.0.0.1:1", timeout=2)
    assert line.startswith("cannot reach the master at 127.0.0.1:1")


def test_each_worker_offer_is_set_against_one_executor():
    [line] = worker_offers([WORKER], "4g", 2, 0)
    assert line == ("10.0.0.6:42541 offers 3072 MiB, 8 cores, 2 GPUs; in use 1024 MiB, 2 cores "
                    "-> cannot host one: not enough memory")
    assert worker_offers([WORKER], "2g", 8, 2)[0].endswith("-> fits one executor")
    assert worker_offers([WORKER], "4g", 16, 4)[0].endswith("not enough memory or cores or GPUs")
    check_workers("spark://m:7077", [WORKER], "3g", 8, 2)  # fits: no error
    with pytest.raises(ConfigError, match=r"no worker of spark://m:7077 can start an executor "
                       r"with spark.executor.memory=4g \(4096 MiB\), spark.executor.cores=1"):
        check_workers("spark://m:7077", [WORKER], "4g", None, 0)
    with pytest.raises(ConfigError, match="no worker registered"):
        check_workers("spark://m:7077", [], "1g", None, 0)
