"""A small TCP proxy put in front of the shared PostgreSQL to simulate its restart without
touching it: `cut()` closes every open connection and refuses new ones (the port stops
listening, as a stopped server does), `restore()` listens again on the same port.
`cut(silent=True)` is the nastier outage (a network partition, a frozen server): the port
still accepts connections but nothing ever answers, so only the client's connect_timeout
ends the wait.

Also usable from bench/db_outage. Threads only; nothing outside the loopback."""

import contextlib
import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

BUFFER = 65536
REPO = Path(__file__).resolve().parent.parent.parent


class TcpProxy:
    def __init__(self, target_host: str = "127.0.0.1", target_port: int = 5432, port: int = 0):
        self.target = (target_host, target_port)
        self.host = "127.0.0.1"
        self.port = port
        self._listener: socket.socket | None = None
        self._accepting = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._thread: threading.Thread | None = None
        self._silent = False
        self.accepted = 0

    # --- lifecycle --------------------------------------------------------------------

    def start(self) -> "TcpProxy":
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._accepting.set()
        self._thread = threading.Thread(target=self._accept_loop, args=(listener,), daemon=True)
        self._thread.start()
        return self

    def cut(self, *, silent: bool = False) -> None:
        """The database "goes down": every connection closed; new ones refused (the port
        stops listening) or, `silent`, accepted and left unanswered."""
        if silent:
            with self._lock:
                self._silent = True
                sockets, self._open = self._open, set()
            for sock in sockets:
                _close(sock)
            return
        self._accepting.clear()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets, self._open = self._open, set()
        for sock in sockets:
            _close(sock)

    def restore(self) -> None:
        """The database is back, on the same address."""
        if self._silent:
            with self._lock:
                self._silent = False
                sockets, self._open = self._open, set()
            for sock in sockets:  # the connections left hanging fail now
                _close(sock)
            return
        self.start()

    def stop(self) -> None:
        self._silent = False
        self.cut()

    def __enter__(self) -> "TcpProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def url(self, database: str, user: str = "postgres") -> str:
        return f"postgres://{user}@{self.host}:{self.port}/{database}"

    # --- plumbing ---------------------------------------------------------------------

    def _accept_loop(self, listener: socket.socket) -> None:
        while self._accepting.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                if self._silent:
                    self._open.add(client)
                    continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                if not self._accepting.is_set():
                    _close(client)
                    _close(upstream)
                    return
                self._open.update((client, upstream))
                self.accepted += 1
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(BUFFER):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(source)
                self._open.discard(sink)
            _close(source)
            _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


# --- The application behind the proxy -------------------------------------------------


class AppServer:
    """The application in its own gunicorn processes (as deployed), on a database reached
    through the proxy; DEBUG off. Nothing is restarted during a test: recovery must come
    from the running processes."""

    def __init__(self, database_url: str, *, workers: int = 2, connect_timeout: int = 2):
        self.database_url = database_url
        self.workers = workers
        self.connect_timeout = connect_timeout
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    def start(self, ready_timeout: float = 60) -> "AppServer":
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "CELERY_", "PYTEST", "CACHE_URL"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="cil.settings",
            DJANGO_ENV="development",
            DEBUG="false",
            DATABASE_URL=self.database_url,
            CIL_DB_CONNECT_TIMEOUT=str(self.connect_timeout),
            LOG_LEVEL="CRITICAL",
        )
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "cil.wsgi",
                "-b",
                f"127.0.0.1:{self.port}",
                "-w",
                str(self.workers),
                "--timeout",
                "60",
                "--log-level",
                "warning",
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn s'est arrêté au démarrage.")
            with contextlib.suppress(OSError):
                if HttpSession(self.port, timeout=5).get("/sante/").status == 200:
                    return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn ne répond pas.")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "AppServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    text: str
    seconds: float


class HttpSession:
    """A browser reduced to what these tests need: cookies, the CSRF token, no redirects
    followed."""

    def __init__(self, port: int, timeout: float = 30):
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        return self._request("GET", path, None, headers or {})

    def post(self, path: str, data: dict[str, str]) -> Answer:
        data = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **data}
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"http://127.0.0.1:{self.port}{path}",
        }
        return self._request("POST", path, urlencode(data), headers)

    def login(self, email: str, password: str) -> Answer:
        page = self.get("/connexion/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        answer = self._request(
            "POST",
            "/connexion/",
            urlencode({"csrfmiddlewaretoken": token[1], "username": email, "password": password}),
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"http://127.0.0.1:{self.port}/connexion/",
            },
        )
        if answer.status != 302:
            raise RuntimeError(f"Connexion refusée ({answer.status}).")
        return answer

    def _request(self, method, path, body, headers) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        if self.cookies:
            headers = {**headers, "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        started = time.monotonic()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        return Answer(response.status, dict(response.headers), text, time.monotonic() - started)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
