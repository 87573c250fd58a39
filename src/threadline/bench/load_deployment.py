"""The load bench's deployment: a fresh PostgreSQL database at head with a workspace, an X
account and a token; web and worker processes started, killed and restarted; how busy the
machine is (/proc/stat)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import Engine, create_engine, text

from threadline.config import Settings
from threadline.db.migrate import upgrade
from threadline.jobs.runtime import Runtime
from threadline.workspace.service import create_channel_account, create_token, create_workspace

OWN_ID = "9000000001"
X_CONFIG = {"consumer_key": "ck", "consumer_secret": "load-bench-secret",
            "access_token": f"{OWN_ID}-token", "access_token_secret": "ats", "user_id": OWN_ID}


def engine(url: str, **options: Any) -> Engine:
    """An engine on `url` (a plain postgresql:// URL gets the psycopg driver)."""
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), **options)


# --- the deployment ---------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


@dataclass
class Deployment:
    database_url: str
    redis_url: str
    env: dict[str, str]
    logs: Path
    webs: list[tuple[int, subprocess.Popen[bytes]]] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_web(self, port: int | None = None) -> int:
        port = port or free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "threadline.cli", "serve", "--web", "--no-migrate",
             "--port", str(port)], env=self.env, stdout=subprocess.DEVNULL,
            stderr=self._log(f"web-{port}"))
        self.webs.append((port, proc))
        return port

    def _log(self, name: str) -> Any:
        """The process's standard error, kept for the run (printed paths on failure)."""
        return (self.logs / f"{name}.log").open("ab")

    def start_worker(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "threadline.cli", "worker"], env=self.env,
            stdout=subprocess.DEVNULL, stderr=self._log("worker"))
        self.workers.append(proc)
        return proc

    def stop_workers(self) -> None:
        for proc in self.workers:
            proc.terminate()
        for proc in self.workers:
            with suppress(subprocess.TimeoutExpired):
                proc.wait(10)
            if proc.poll() is None:
                proc.kill()
        self.workers.clear()

    def kill_web(self, index: int) -> None:
        port, proc = self.webs.pop(index)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.start_web(port)

    def kill_worker(self, index: int) -> None:
        proc = self.workers.pop(index)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.start_worker()

    def close(self) -> None:
        self.stop_workers()
        for _, proc in self.webs:
            proc.terminate()
        for _, proc in self.webs:
            with suppress(subprocess.TimeoutExpired):
                proc.wait(10)
            if proc.poll() is None:
                proc.kill()
        if os.environ.get("THREADLINE_BENCH_KEEP_LOGS"):
            sys.stderr.write(f"process logs: {self.logs}\n")
        else:
            shutil.rmtree(self.logs, ignore_errors=True)


def wait_ready(dep: Deployment, seconds: float = 300) -> None:
    """Every web process answers /healthz (a process that exits fails the run at once, with
    the end of its log)."""
    deadline = time.monotonic() + seconds
    for port, proc in dep.webs:
        while True:
            if proc.poll() is not None:
                tail = (dep.logs / f"web-{port}.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the web process on port {port} exited:\n{tail}")
            with suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the web process on port {port} did not start")
            time.sleep(0.2)


def prepare(admin_url: str, redis_url: str) -> tuple[Deployment, str, str, str]:
    """A fresh database at head, a workspace with an X account and an API token."""
    name = f"threadline_load_{uuid.uuid4().hex[:10]}"
    admin = engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = with_database(admin_url, name)
    secret = secrets.token_urlsafe(48)
    settings = Settings(database_url=url, redis_url=redis_url, secret_key=secret)
    runtime = Runtime.create(settings, database_url=url, redis_url="")
    try:
        upgrade(runtime.db)
        with runtime.db.session() as session:
            ws = create_workspace(session, "load", f"load-{uuid.uuid4().hex[:6]}")
            account = create_channel_account(session, ws.id, kind="x", name="load",
                                             config=dict(X_CONFIG))
            _, token = create_token(session, ws.id, role="admin", name="load-bench")
            account_id = str(account.id)
    finally:
        runtime.close()
    # processes restarted by a fault start from compiled bytecode, as an installed package does
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env = {**env, "THREADLINE_DATABASE_URL": url, "THREADLINE_REDIS_URL": redis_url,
           "THREADLINE_SECRET_KEY": secret, "THREADLINE_LOG_LEVEL": "WARNING"}
    logs = Path(tempfile.mkdtemp(prefix="threadline-load-"))
    return Deployment(url, redis_url, env, logs), name, account_id, token


def drop(admin_url: str, name: str) -> None:
    admin = engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# --- the machine ------------------------------------------------------------------------------

def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[1] - before[1]
    return round((after[0] - before[0]) / total, 3) if total else 0.0
