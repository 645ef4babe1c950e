"""Fault injection for tests/faults and bench/faults: a private Redis server that can be
stopped, real Celery workers in subprocesses that can be killed, the platform switched from
eager tasks to that broker, and what the scenarios count.

Never the shared Redis on 6379: each run starts its own server on a free port, without
persistence (stopping it loses whatever it held, as a crash would).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection

REPO = Path(__file__).resolve().parents[2]
QUEUE = "celery"
# How long a dead worker's messages stay invisible (kombu's Redis transport), in the tests.
VISIBILITY_TIMEOUT = 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate: Callable[[], object], *, timeout: float, interval: float = 0.2):
    """Poll `predicate` until it returns something true; its last value otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


class RedisServer:
    """A private `redis-server` subprocess (no persistence) on its own port."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=2)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_for(self._answers, timeout=10):
            raise RuntimeError(f"redis-server ne répond pas sur le port {self.port}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def backlog(self) -> int:
        """Messages waiting in the queue or taken by a worker and not acknowledged."""
        client = self.client()
        return client.llen(QUEUE) + client.hlen("unacked")

    def _answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False


def database_url() -> str:
    """The database this process uses (the test database under pytest), for the workers."""
    params = connection.settings_dict
    credentials = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    host = params["HOST"] or "127.0.0.1"
    return f"postgres://{credentials}@{host}:{params['PORT'] or 5432}/{params['NAME']}"


class Worker:
    """`celery -A cil worker` (prefork) in its own process group, on the test database."""

    def __init__(self, *, broker_url: str, workdir: Path, concurrency: int = 2):
        self.workdir = workdir
        self.concurrency = concurrency
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.faults.worker_settings",
            "DJANGO_ENV": "development",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": broker_url,
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "MEDIA_ROOT": str(workdir / "media"),
            # django-environ drops the path's first "/": four slashes for an absolute one.
            "EMAIL_URL": f"filemail:///{workdir / 'mail'}",
            "CIL_SEAL_PKCS12_PATH": str(settings.CIL_SEAL_PKCS12_PATH),
            "CIL_SEAL_PKCS12_PASSPHRASE": settings.CIL_SEAL_PKCS12_PASSPHRASE or "",
            "CIL_SEAL_NAME": settings.CIL_SEAL_NAME,
            "PYTHONPATH": str(REPO),
        }
        for name in ("CELERY_RESULT_BACKEND", "CACHE_URL", "TEST_DATABASE_URL"):
            self.env.pop(name, None)
        self.process: subprocess.Popen | None = None
        self.started = 0

    def start(self) -> None:
        self.started += 1
        log = (self.workdir / f"worker-{self.started}.log").open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "cil",
                "worker",
                "--pool=prefork",
                f"--concurrency={self.concurrency}",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname=faults{self.started}@%h",
            ],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed with its children
        )
        log.close()

    def kill(self) -> None:
        """SIGKILL to the whole group: the main process and its pool die mid-task."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        self._signal(signal.SIGTERM, grace=15)

    def log(self) -> str:
        return "\n".join(
            path.read_text(errors="replace") for path in sorted(self.workdir.glob("worker-*.log"))
        )

    def _signal(self, sig: int, grace: float = 5) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=grace)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None


@contextmanager
def broker_mode(broker_url: str):
    """Switch this process from eager tasks to the broker (the Celery app reads the Django
    settings once, at import): tasks go through the outbox. Restored afterwards."""
    from cil import outbox
    from cil.celery import app

    changes = app.conf.changes  # the layer above the Django settings, which it reads live
    saved = {key: changes[key] for key in ("broker_url", "task_always_eager") if key in changes}
    changes.update(broker_url=broker_url, task_always_eager=False)
    outbox._broker_down_until = 0.0
    try:
        yield
    finally:
        for key in ("broker_url", "task_always_eager"):
            changes.pop(key, None)
        changes.update(saved)
        outbox._broker_down_until = 0.0


def outbox_statuses() -> Counter:
    """Outbox rows by status, every conference (a test fixture's unscoped look)."""
    from cil.models import OutboxMessage
    from cil.tenancy import unscoped

    with unscoped():
        return Counter(OutboxMessage.objects.values_list("status", flat=True))


def mails_to(folder: Path, address: str) -> int:
    """E-mails written by the file backend (one file per connection) to `address`."""
    if not folder.exists():
        return 0
    return sum(
        line.strip() == f"To: {address}"
        for path in folder.iterdir()
        for line in path.read_text(errors="replace").splitlines()
    )


def timed(call: Callable[[], object]) -> tuple[object, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def record(figures: dict) -> None:
    """Figures for bench/faults (CIL_FAULTS_FIGURES names a JSON lines file); nothing in
    a plain test run."""
    path = os.environ.get("CIL_FAULTS_FIGURES")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(figures, ensure_ascii=False) + "\n")


def media_on_disk(settings, tmp_path):
    """Uploaded files on disk under tmp_path, where the worker subprocess reads them too."""
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = str(media)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(media)},
        },
    }
    return media
