"""`clickstream api`: gunicorn with uvicorn workers, each building the app itself."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

from gunicorn.app.base import BaseApplication

from clickstream.config import Settings


def _child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        api = self.settings.api
        options = {
            "bind": f"{api.host}:{api.port}",
            "workers": api.workers,
            "worker_class": "uvicorn_worker.UvicornWorker",
            "timeout": api.worker_timeout_s,
            "graceful_timeout": api.graceful_timeout_s,
            "keepalive": api.keepalive_s,
            "backlog": 2048,
            "accesslog": None,
            "child_exit": _child_exit,
            # The app (and its Kafka producer and telemetry) is built after the
            # fork, in each worker.
            "preload_app": False,
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from clickstream.api.app import create_app

        return create_app(self.settings)


def serve(settings: Settings) -> int:
    # Prometheus' multiprocess mode: every worker writes its series here and
    # /metrics on any worker reads them all. Set before prometheus_client loads.
    metrics_dir = tempfile.mkdtemp(prefix="clickstream-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        _Gunicorn(settings).run()
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0
