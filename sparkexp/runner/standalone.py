"""Asking a standalone master itself what it has: its web UI and REST ports, its workers.

A shared cluster's web UI rarely listens on the default port 8080, so guessing its address is
not enough. The driver is already connected to the master over Spark's RPC, and the master
answers two messages on it: ``BoundPortsRequest`` (its RPC, web UI and REST ports) and
``RequestMasterState`` (every worker's cores, memory, GPUs and state, what its web UI's
``/json/`` shows). :func:`master_view` sends both, bounded by a timeout, through the session's
own RPC environment, and falls back to the web UI's ``/json/`` (conf
``spark.sparkexp.masterWebUi``, ``SPARK_MASTER_WEBUI_PORT`` or port 8080) when the RPC way is
not available. :func:`unreachable_masters` checks, with plain TCP and before Spark starts, that
a ``spark://`` master listens at all.

Example:
    >>> master_addresses("spark://a:7077,b:7078")
    [('a', 7077), ('b', 7078)]
    >>> master_addresses("spark://a")
    [('a', 7077)]
"""

from __future__ import annotations

import json
import logging
import os
import socket
import urllib.request
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MasterView", "master_addresses", "unreachable_masters", "master_view", "ask_master",
           "web_ui_view", "worker_gpus"]

log = logging.getLogger("sparkexp")

_BOUND_PORTS = "org.apache.spark.deploy.master.MasterMessages$BoundPortsRequest$"
_MASTER_STATE = "org.apache.spark.deploy.DeployMessages$RequestMasterState$"


@dataclass
class MasterView:
    """What a standalone master says about itself (see :func:`master_view`)."""

    #: the master's web UI, e.g. ``http://10.0.0.5:18080`` (None: not found)
    web_ui: str | None = None
    #: its REST submission server, e.g. ``spark://10.0.0.5:6066`` (None: disabled or not found)
    rest: str | None = None
    #: workers as the web UI's ``/json/`` lists them (``host``, ``cores``, ``coresused``,
    #: ``memory``, ``memoryused`` in MiB, ``state``, ``resources``); None: nobody answered
    workers: list[dict[str, Any]] | None = None
    #: how the workers were found (``"master RPC"``, ``"web UI http://..."``)
    source: str = ""
    #: what could not be reached, one sentence each
    unreachable: list[str] = field(default_factory=list)


def master_addresses(master: str) -> list[tuple[str, int]]:
    """``(host, port)`` of every master in a ``spark://`` URL (several with ZooKeeper HA)."""
    out = []
    for part in master[len("spark://"):].split(","):
        host, _, port = part.strip().rpartition(":")
        if not host:
            host, port = port, "7077"
        out.append((host.strip("[]"), int(port) if port.isdigit() else 7077))
    return out


def unreachable_masters(master: str, *, timeout: float = 3.0) -> list[str]:
    """For a ``spark://`` URL whose masters all refuse TCP connections: one line each, else []."""
    if not master.startswith("spark://"):
        return []
    failures = []
    for host, port in master_addresses(master):
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return []
        except OSError as exc:
            failures.append(f"cannot reach the master at {host}:{port} "
                            f"({exc.strerror or type(exc).__name__})")
    return failures


def worker_gpus(worker: dict[str, Any]) -> int:
    """GPUs a worker (as listed by :func:`master_view`) offers."""
    return len(((worker.get("resources") or {}).get("gpu") or {}).get("addresses") or [])


def master_view(sc: Any, *, timeout: float = 5.0) -> MasterView:
    """Ask the session's standalone master for its ports and workers, within ``timeout`` seconds.

    Never raises: what could not be reached is listed in :attr:`MasterView.unreachable`.
    """
    view = MasterView()
    master = str(sc.master)
    if not master.startswith("spark://"):
        return view
    conf = getattr(sc, "_conf", None) or sc.getConf()
    try:
        # the scheduler backend's RPC environment: the one the driver registered with the
        # master (SparkEnv cannot be used from Python: py4j fails listing its methods)
        _ask_by_rpc(sc._jvm, sc._jsc.sc().schedulerBackend().rpcEnv(), master, view, timeout)
    except Exception as exc:  # noqa: BLE001 - private JVM API: any failure means "use HTTP"
        _rpc_failed(view, exc, timeout)
    if view.workers is None:
        _ask_by_http(conf.get("spark.sparkexp.masterWebUi", None), master, view)
    return view


def ask_master(jvm: Any, master: str, conf: dict[str, str], *, timeout: float = 5.0) -> MasterView:
    """Ask a standalone master for its ports and workers without a SparkContext.

    Uses a client-only RPC environment in the py4j gateway's JVM (what ``spark-submit`` and
    the workers use to reach a master): no application is registered, so it answers even when
    a context would wait. ``conf`` supplies authentication settings (``spark.authenticate``).
    Never raises.
    """
    view = MasterView()
    rpc_env = None
    try:
        spark_conf = jvm.org.apache.spark.SparkConf(False)
        for key, value in conf.items():
            spark_conf.set(key, value)
        config = _module(jvm, "org.apache.spark.internal.config.package$")
        security = jvm.org.apache.spark.SecurityManager(spark_conf, jvm.scala.Option.empty(),
                                                        config.AUTH_SECRET_FILE())
        host = conf.get("spark.driver.host", os.environ.get("SPARK_LOCAL_IP", "127.0.0.1"))
        rpc_env = _module(jvm, "org.apache.spark.rpc.RpcEnv$").create(
            "sparkexp-doctor", host, 0, spark_conf, security, True)
        _ask_by_rpc(jvm, rpc_env, master, view, timeout)
    except Exception as exc:  # noqa: BLE001 - private JVM API: any failure means "use HTTP"
        _rpc_failed(view, exc, timeout)
    finally:
        if rpc_env is not None:
            try:
                rpc_env.shutdown()
            except Exception:  # noqa: BLE001, S110 - best effort: the JVM ends with the process
                pass
    if view.workers is None:
        _ask_by_http(conf.get("spark.sparkexp.masterWebUi"), master, view)
    return view


def web_ui_view(master: str, conf: Any) -> MasterView:
    """A standalone master's workers from its web UI's ``/json/`` only: for a Spark Connect
    client, which has neither a JVM nor the server's RPC environment to ask the master with.

    ``conf`` is read for ``spark.sparkexp.masterWebUi`` (``.get(key, default)``: a classic conf
    or a Connect session's ``spark.conf``). Never raises.
    """
    view = MasterView()
    if master.startswith("spark://"):
        _ask_by_http(conf.get("spark.sparkexp.masterWebUi", None), master, view)
    return view


def _rpc_failed(view: MasterView, exc: Exception, timeout: float) -> None:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    view.unreachable.append(f"the master did not answer over RPC within {timeout:g} s "
                            f"({first[:200]})")


def _ask_by_rpc(jvm: Any, rpc_env: Any, master: str, view: MasterView, timeout: float) -> None:
    duration = jvm.scala.concurrent.duration.FiniteDuration.apply(int(timeout * 1000), "ms")
    rpc_timeout = jvm.org.apache.spark.rpc.RpcTimeout(duration, "spark.sparkexp.masterTimeout")
    any_class = jvm.scala.reflect.ClassTag.apply(jvm.java.lang.Class.forName("java.lang.Object"))
    errors: list[Exception] = []
    answers = []
    for host, port in master_addresses(master):
        try:
            future = rpc_env.asyncSetupEndpointRefByURI(f"spark://Master@{host}:{port}")
            ref = jvm.org.apache.spark.util.ThreadUtils.awaitResult(future, duration)
            ports = ref.askSync(_module(jvm, _BOUND_PORTS), rpc_timeout, any_class)
            state = ref.askSync(_module(jvm, _MASTER_STATE), rpc_timeout, any_class)
        except Exception as exc:  # noqa: BLE001 - one master of an HA list: try the next
            errors.append(exc)
            continue
        answers.append((host, ports, state))
        if str(state.status().toString()) == "ALIVE":
            break  # the active master (with ZooKeeper HA the others are standbys, no workers)
    if not answers:
        raise errors[-1]
    host, ports, state = answers[-1]
    view.web_ui = f"http://{host}:{int(ports.webUIPort())}"
    rest = ports.restPort()
    view.rest = f"spark://{host}:{int(rest.get())}" if rest.isDefined() else None
    view.workers = [_worker(w) for w in state.workers()]
    view.source = "master RPC"


def _module(jvm: Any, name: str) -> Any:
    """A Scala ``object`` (its ``MODULE$``) by class name."""
    return jvm.java.lang.Class.forName(name).getField("MODULE$").get(None)


def _worker(w: Any) -> dict[str, Any]:
    gpu = w.resourcesInfo().get("gpu")
    addresses = [str(a) for a in gpu.get().addresses()] if gpu.isDefined() else []
    return {"id": str(w.id()), "host": str(w.host()), "port": int(w.port()),
            "cores": int(w.cores()), "coresused": int(w.coresUsed()),
            "memory": int(w.memory()), "memoryused": int(w.memoryUsed()),
            "state": str(w.state().toString()), "webuiaddress": str(w.webUiAddress()),
            "resources": {"gpu": {"addresses": addresses}} if addresses else {}}


def _ask_by_http(conf_url: str | None, master: str, view: MasterView) -> None:
    """The web UI's ``/json/`` at the conf's address, the one RPC found, or the default port."""
    first = master_addresses(master)[0]
    urls = [conf_url, view.web_ui,
            f"http://{first[0]}:{os.environ.get('SPARK_MASTER_WEBUI_PORT', '8080')}"]
    for url in dict.fromkeys(u for u in urls if u):
        try:
            with urllib.request.urlopen(url.rstrip("/") + "/json/", timeout=2) as resp:
                state = json.load(resp)
        except (OSError, ValueError) as exc:
            view.unreachable.append(f"the master's web UI {url} did not answer ({exc})")
            continue
        urls_of_master = {f"spark://{h}:{p}" for h, p in master_addresses(master)}
        if not isinstance(state, dict) or state.get("url") not in urls_of_master:
            view.unreachable.append(f"{url} is the web UI of {state.get('url') if isinstance(state, dict) else '?'}"
                                    f", not of {master}")
            continue
        view.web_ui = url
        view.workers = list(state.get("workers") or [])
        view.source = f"web UI {url}"
        return
