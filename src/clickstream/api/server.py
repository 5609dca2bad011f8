"""`clickstream api`: gunicorn with uvicorn workers, each building the app itself."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication
from uvicorn_worker import UvicornWorker

from clickstream.api.protocol import guarded_protocol
from clickstream.config import Settings


def _child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


AppFactory = Callable[[Settings], Any]


class Worker(UvicornWorker):  # type: ignore[misc]
    """uvicorn's gunicorn worker with bounded request heads (see api/protocol.py).

    A connection must deliver each request head within `keepalive` seconds.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config.http = guarded_protocol(head_timeout_s=float(self.cfg.keepalive))


def _create_app(settings: Settings) -> Any:
    from clickstream.api.app import create_app

    return create_app(settings)


class Gunicorn(BaseApplication):  # type: ignore[misc]
    """Gunicorn configured from ApiSettings; `factory` builds the app in each worker."""

    def __init__(self, settings: Settings, factory: AppFactory = _create_app) -> None:
        self.settings = settings
        self.factory = factory
        super().__init__()

    def load_config(self) -> None:
        api = self.settings.api
        options = {
            "bind": f"{api.host}:{api.port}",
            "workers": api.workers,
            "worker_class": "clickstream.api.server.Worker",
            "timeout": api.worker_timeout_s,
            "graceful_timeout": api.graceful_timeout_s,
            "keepalive": api.keepalive_s,
            "backlog": 2048,
            "accesslog": None,
            "child_exit": _child_exit,
            # gunicorn's control socket sits at one path per user
            # (~/.gunicorn/gunicorn.ctl), shared by every gunicorn on the
            # machine; nothing here uses it.
            "control_socket_disable": True,
            # The app (and its Kafka producer and telemetry) is built after the
            # fork, in each worker.
            "preload_app": False,
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.factory(self.settings)


def serve(settings: Settings, factory: AppFactory = _create_app) -> int:
    # Prometheus' multiprocess mode: every worker writes its series here and
    # /metrics on any worker reads them all. Set before prometheus_client loads.
    metrics_dir = tempfile.mkdtemp(prefix="clickstream-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        Gunicorn(settings, factory).run()
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0
