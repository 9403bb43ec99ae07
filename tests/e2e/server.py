"""Start the real ASGI server in a subprocess on a free loopback port.

The server process uses the test database (a file for SQLite, the test
database on PostgreSQL) and, when REDIS_URL is set, the Redis channel layer.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_env() -> dict[str, str]:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return {"CSMS_SQLITE_PATH": str(db["NAME"])}
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return {"DATABASE_URL": f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"}


class Server:
    def __init__(self, server: str = "uvicorn", extra_env: dict | None = None):
        self.server = server
        self.port = free_port()
        self.http_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "CSMS_SQLITE_PATH", "PYTEST_CURRENT_TEST")
        }
        env.update(database_env())
        env.update(
            CSMS_SECRET_KEY=settings.SECRET_KEY,
            CSMS_RUN_PERIODIC_IN_PROCESS="false",
            CSMS_JOURNAL_FLUSH_MS="50",
            # Between tests the suite empties the database with TRUNCATE, which
            # deadlocks with a server batch still writing (journal, stamps) now
            # and then; one worker makes that rarer. Two are tested on their own
            # (tests/ocpp/test_group_commit.py) and in the benchmark.
            CSMS_GROUP_COMMIT_THREADS="1",
            CSMS_LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra_env or {})
        self.env = env
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        if self.server == "daphne":
            return [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "csms.asgi:application",
            ]
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "csms.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-access-log",
            "--ws-ping-interval",
            self.env.get("CSMS_WS_PING_INTERVAL", "20"),
            "--ws-ping-timeout",
            self.env.get("CSMS_WS_PING_TIMEOUT", "20"),
        ]

    def start(self) -> Server:
        self.log = open(ROOT / "var" / f"e2e-server-{self.port}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()}")
            try:
                httpx.get(f"{self.http_url}/health/", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start: {self.output()}")

    def wait_quiet(self, timeout: float = 5.0) -> None:
        """Until no station is connected and their disconnects are written.

        The suite empties the database with TRUNCATE after each test; a
        disconnect the server is still writing then deadlocks with it.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                text = httpx.get(f"{self.http_url}/metrics", timeout=1).text
            except httpx.HTTPError:
                return
            connected = sum(
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("csms_stations_connected{")
            )
            if connected == 0:
                time.sleep(0.1)  # the last disconnects' batch and journal flush
                return
            time.sleep(0.05)

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()[-5000:]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        if not os.environ.get("CSMS_KEEP_E2E_LOGS"):
            Path(self.log.name).unlink(missing_ok=True)
