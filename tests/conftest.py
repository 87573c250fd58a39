"""Test fixtures: a real database built by the migrations (SQLite file by default; the
PostgreSQL of THREADLINE_TEST_DATABASE_URL in CI), the real bus (Redis when
THREADLINE_TEST_REDIS_URL is set), and real HTTP servers where a test needs them.

Isolation: every test gets its own workspace; threading and identity never cross workspaces,
so tests cannot see each other's data. With CI=true a configured service that cannot be
reached fails the run; it is never skipped.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, exists, inspect, select, text
from sqlalchemy.engine import make_url

from tests import log_scan
from tests.secrets_scan import KNOWN_SECRETS, account_secrets, checkpoint, scan
from threadline.config import Settings
from threadline.db.base import utcnow
from threadline.db.crypto import bind_keyring
from threadline.db.engine import Database, normalize_url
from threadline.db.migrate import upgrade
from threadline.events.models import InboundEvent, OutboxJob, WorkStatus
from threadline.handlers import install
from threadline.jobs.runtime import Runtime
from threadline.jobs.worker import Worker
from threadline.web.app import create_app
from threadline.workspace import service as workspace_service

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _worker_id() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _postgres_url(base: str) -> str:
    """A database of this xdist worker's own on the configured server, created fresh."""
    url = make_url(normalize_url(base))
    name = f"threadline_test_{_worker_id()}_{os.getpid()}"  # parallel runs never collide
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.exit(f"PostgreSQL at {url.host}:{url.port} is not reachable: {exc}", 3)
    finally:
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_postgres(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = os.environ.get("THREADLINE_TEST_DATABASE_URL")
    if base:
        url = _postgres_url(base)
        yield url
        _drop_postgres(url)
        return
    path = tmp_path_factory.mktemp("db") / "threadline.db"
    yield f"sqlite:///{path}"


@pytest.fixture(scope="session", autouse=True)
def no_secrets_in_clear(database_url: str, settings: Settings,
                        tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """After the session: no card number or channel credential in clear in the database
    (tests/secrets_scan.py), and none of them, no API token, password or secret key the
    tests used in the run's log records (tests/log_scan.py); the run fails naming them."""
    log_file = tmp_path_factory.mktemp("logs") / "run.jsonl"
    log_scan.remember(settings.resolved_secret_key())
    with log_scan.recording(log_file):
        yield
    found = scan_database(database_url, settings)
    if found:
        pytest.fail("stored in clear: " + "; ".join(found), pytrace=False)
    logged = log_scan.found_in(log_file, {*KNOWN_SECRETS, *log_scan.remembered(),
                                          *database_secrets(database_url, settings)})
    if logged:
        pytest.fail("logged: " + "; ".join(logged), pytrace=False)


def database_secrets(url: str, settings: Settings) -> set[str]:
    """Every channel account's secrets (decrypted), for the log scan."""
    db = Database(url)
    bind_keyring(db.engine, settings)
    try:
        with db.engine.connect() as conn:
            if not inspect(conn).has_table("channel_accounts"):
                return set()
            return account_secrets(conn)
    finally:
        db.dispose()


def scan_database(url: str, settings: Settings, extra: tuple[str, ...] = ()) -> list[str]:
    parsed = make_url(url)
    sqlite_file = Path(parsed.database or "") if parsed.get_backend_name() == "sqlite" else None
    if sqlite_file is not None:
        if not sqlite_file.exists():
            return []
        checkpoint(sqlite_file)
    db = Database(url)
    bind_keyring(db.engine, settings)
    try:
        with db.engine.connect() as conn:
            if not inspect(conn).has_table("channel_accounts"):
                return []
            return scan(conn, sqlite_file, extra)
    finally:
        db.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str | None:
    url = os.environ.get("THREADLINE_TEST_REDIS_URL")
    if url:
        import redis

        try:
            redis.Redis.from_url(url, socket_connect_timeout=3).ping()
        except Exception as exc:
            pytest.exit(f"Redis at {url} is not reachable: {exc}", 3)
    return url


@pytest.fixture(scope="session")
def settings(database_url: str, redis_url: str | None,
             tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(database_url=database_url, redis_url=redis_url,
                    secret_key="test-secret-key-not-for-production",
                    data_dir=tmp_path_factory.mktemp("data"), retry_base_seconds=0.05,
                    retry_max_seconds=0.2, max_attempts=3, worker_poll_seconds=0.2,
                    allow_custom_provider_urls=True)  # the provider sandbox on 127.0.0.1


@pytest.fixture(scope="session")
def runtime(settings: Settings) -> Iterator[Runtime]:
    install()
    workspace_service.set_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024,
                                                         parallelism=1))
    rt = Runtime.create(settings, database_url=settings.database_url,
                        redis_url=settings.redis_url or "")
    upgrade(rt.db)
    yield rt
    rt.close()


LIVE_WORKERS = [0]  # embedded workers of live servers running now (tests/conftest.py)


class DrainingWorker(Worker):
    """The test's own worker. While a live server's embedded worker runs too, either may
    claim a piece of work; `drain` then also waits (up to 15 s) until no work that is due
    is left with anyone, so that what the test drained is committed when it returns."""

    def drain(self, max_rounds: int = 10_000) -> int:
        total = super().drain(max_rounds)
        deadline = time.monotonic() + 15
        while LIVE_WORKERS[0] and self._work_due() and time.monotonic() < deadline:
            time.sleep(0.05)
            total += super().drain(max_rounds)
        return total

    def _work_due(self) -> bool:
        now = utcnow()
        with self.runtime.db.session(write=False) as session:
            return bool(session.scalar(select(
                exists().where(InboundEvent.status == WorkStatus.PENDING,
                               InboundEvent.next_attempt_at <= now)
                | exists().where(OutboxJob.status == WorkStatus.PENDING,
                                 OutboxJob.due_at <= now))))


@pytest.fixture
def worker(runtime: Runtime) -> Worker:
    return DrainingWorker(runtime, name="test")


@pytest.fixture
def workspace_id(runtime: Runtime) -> uuid.UUID:
    with runtime.db.session() as session:
        ws = workspace_service.create_workspace(session, "Test", f"t-{uuid.uuid4().hex[:12]}")
        return ws.id


def make_token(runtime: Runtime, workspace_id: uuid.UUID, role: str = "admin") -> str:
    with runtime.db.session() as session:
        _, plain = workspace_service.create_token(session, workspace_id, role=role)
    log_scan.remember(plain)
    return plain


@pytest.fixture
def token(runtime: Runtime, workspace_id: uuid.UUID) -> str:
    return make_token(runtime, workspace_id)


@pytest.fixture(scope="session")
def app(runtime: Runtime) -> Any:
    return create_app(runtime, workers=0)


@pytest.fixture
def client(app: Any, token: str) -> Iterator[TestClient]:
    with TestClient(app) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LiveServer:
    """A real uvicorn server in a thread, on a free loopback port."""

    def __init__(self, application: Any) -> None:
        self.application = application
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # a live stream left open (a web chat's, a desktop's) is cut after 2 s at shutdown
        config = uvicorn.Config(application, host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        if self.thread.is_alive():  # a connection that never ends (a live stream): cut it
            self.server.force_exit = True
            self.thread.join(timeout=10)
        # an embedded worker busy with a long job (a slow provider) ends it before the next
        # test starts: a worker that outlived its test would take the next tests' jobs
        for worker in getattr(getattr(self.application, "state", None), "worker_threads", []):
            worker.join(timeout=120)


class Serving:
    """A uvicorn server of the given config in a thread for a `with` block (production's
    options from `web.proxies.server_config`); yields its base URL."""

    def __init__(self, config: uvicorn.Config) -> None:
        self.config = config
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return f"http://{self.config.host}:{self.config.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


BROWSERS: list[Any] = []  # the session's Chromium, once started (its pages close with a server)


@pytest.fixture
def live_server(runtime: Runtime) -> Iterator[LiveServer]:
    """Threadline itself over real HTTP, with one embedded worker (per test, so that no
    background worker races the tests that drain work themselves). A browser test's pages
    are closed first, also when it failed half-way: an open desktop holds its live stream,
    and a server that cannot close it would outlive the test with its embedded worker taking
    the next tests' jobs."""
    server = LiveServer(create_app(runtime, workers=1)).start()
    LIVE_WORKERS[0] += 1
    yield server
    try:
        for browser in BROWSERS:
            for context in browser.contexts:
                context.close()
    finally:
        LIVE_WORKERS[0] -= 1
        server.stop()


@pytest.fixture(scope="session")
def sandbox() -> Iterator[LiveServer]:
    """The provider sandbox over real HTTP."""
    from threadline.sandbox.core import create_app as create_sandbox

    server = LiveServer(create_sandbox()).start()
    yield server
    server.stop()


def shared_data(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        if IN_CI:
            pytest.fail(f"shared data missing: {path}")
        pytest.skip(f"shared data not present: {path}")
    return path


CHROMIUM = Path(os.environ.get("THREADLINE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never `playwright install`). One Playwright
    instance per test process: its sync API cannot run twice in one process."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: scripts/install.sh --test installs Debian's chromium"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                     headless=True)
        BROWSERS.append(browser)
        yield browser
        BROWSERS.remove(browser)
        browser.close()


WORKER_FIGURES: list[str] = []


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """Figures a test computed in an xdist worker (the API contract run), shown at the end."""
    line = getattr(node, "workeroutput", {}).get("api_contract")
    if line:
        WORKER_FIGURES.append(line)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for line in WORKER_FIGURES:
        terminalreporter.write_line(line)


# What the PostgreSQL run repeats: tests that use the suite's database or bus (through the
# `runtime`, `settings`, `database_url` or `redis_url` fixtures, or by reading the
# THREADLINE_TEST_* variables themselves). The others (adapters against fixtures, triage,
# signatures, command lines on their own SQLite file) run the same on both passes; they ran
# on the SQLite pass and are deselected on the second, never skipped or counted.
SHARED_BACKENDS = frozenset({"runtime", "settings", "database_url", "redis_url"})
SESSION_SCAN = "no_secrets_in_clear"  # autouse: every test has it, it decides nothing


def uses_the_backends(item: Any) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return True
    pending = [name for name in info.initialnames if name != SESSION_SCAN]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        definitions = info.name2fixturedefs.get(name)
        if definitions:
            pending.extend(a for a in definitions[-1].argnames if a != "request")
    if seen & SHARED_BACKENDS:
        return True
    source = Path(str(item.fspath)).read_text(errors="replace")
    return "THREADLINE_TEST_" in source


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    # The long tests (marked slow: browsers, crashes, the API contract) first, so that the
    # test processes share them instead of one finishing alone with the longest at the end.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    if not os.environ.get("THREADLINE_TEST_DATABASE_URL"):
        return
    keep = [item for item in items if uses_the_backends(item)]
    dropped = [item for item in items if not uses_the_backends(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
