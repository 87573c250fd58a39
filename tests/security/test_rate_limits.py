"""Rate limits: a client cannot pick its own address with X-Forwarded-For unless it is a
trusted proxy (THREADLINE_TRUSTED_PROXIES), and in scaled mode every process counts in Redis,
so N web processes do not give N times the limit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer, free_port
from threadline.errors import RateLimited
from threadline.jobs.ratelimit import MemoryRateLimiter, RedisRateLimiter
from threadline.jobs.runtime import Runtime
from threadline.web.app import create_app
from threadline.workspace.service import create_channel_account

SRC = str(Path(__file__).resolve().parents[2] / "src")
REDIS_URL = os.environ.get("THREADLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SESSIONS_PER_MINUTE = 20  # the web chat's default
LINK_FORM_POSTS = 10  # THREADLINE_LINK_FORM_POSTS_PER_MINUTE's default


@dataclass
class Served:
    url: str
    chat_account: str


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREADLINE_")}
    env.update({"PYTHONPATH": SRC, "THREADLINE_DATA_DIR": str(tmp_path),
                "THREADLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'rl.db'}", **extra})
    return env


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    """`threadline serve` as an operator starts it, with a web chat account."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(**extra: str) -> Served:
        folder = tmp_path / uuid.uuid4().hex[:8]
        folder.mkdir()
        env = _env(folder, **extra)
        made = subprocess.run([sys.executable, "-m", "threadline.cli", "accounts", "create",
                               "--kind", "webchat", "--name", "chat"], env=env,
                              capture_output=True, timeout=120, check=True)
        account = json.loads(made.stdout)["id"]
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "threadline.cli", "serve", "--port",
                                 str(port), "--workers", "0"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()[1]
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    return Served(url, account)
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)

    yield start
    for proc in procs:
        proc.terminate()
        proc.communicate(timeout=30)


def _sessions(served: Served, forwarded: list[str]) -> list[int]:
    with httpx.Client(base_url=served.url, timeout=10) as client:
        return [client.post(f"/webchat/{served.chat_account}/session", json={},
                            headers={"x-forwarded-for": ip}).status_code for ip in forwarded]


def _link_posts(served: Served, forwarded: list[str]) -> list[int]:
    with httpx.Client(base_url=served.url, timeout=10) as client:
        return [client.post("/s/SomeLinkCode123", data={"consent": "yes"},
                            headers={"x-forwarded-for": ip}).status_code for ip in forwarded]


def _login_cookie_secure(served: Served) -> bool:
    """Whether the login page's cookie is marked Secure for a client claiming https."""
    answer = httpx.get(f"{served.url}/login", headers={"x-forwarded-proto": "https"})
    assert answer.status_code == 200
    return "secure" in answer.headers["set-cookie"].lower()


def _rotating(n: int) -> list[str]:
    return [f"203.0.113.{i % 250 + 1}" for i in range(n)]


class TestForwardedFor:
    def test_rotating_x_forwarded_for_does_not_escape_the_limits(self, serve: Any) -> None:
        served = serve()
        answers = _sessions(served, _rotating(SESSIONS_PER_MINUTE + 5))
        assert answers == [201] * SESSIONS_PER_MINUTE + [429] * 5
        forms = _link_posts(served, _rotating(LINK_FORM_POSTS + 3))
        assert forms[:LINK_FORM_POSTS] == [404] * LINK_FORM_POSTS  # an unknown link's page
        assert forms[LINK_FORM_POSTS:] == [429] * 3
        assert not _login_cookie_secure(served)  # X-Forwarded-Proto is not believed either

    def test_a_trusted_proxy_is_believed(self, serve: Any) -> None:
        served = serve(THREADLINE_TRUSTED_PROXIES="127.0.0.1")
        # Each forwarded client has its own count...
        assert _sessions(served, _rotating(SESSIONS_PER_MINUTE + 5)) == (
            [201] * (SESSIONS_PER_MINUTE + 5))
        # ...and one forwarded client is held to the limit.
        answers = _sessions(served, ["198.51.100.7"] * (SESSIONS_PER_MINUTE + 1))
        assert answers == [201] * SESSIONS_PER_MINUTE + [429]
        assert _link_posts(served, _rotating(LINK_FORM_POSTS + 3)) == (
            [404] * (LINK_FORM_POSTS + 3))
        assert _login_cookie_secure(served)

    def test_the_link_form_limit_answers_a_page_with_retry_after(self, serve: Any) -> None:
        served = serve()
        with httpx.Client(base_url=served.url, timeout=10) as client:
            for _ in range(LINK_FORM_POSTS):
                client.post("/s/AnotherCode456", data={"consent": "yes"})
            over = client.post("/s/AnotherCode456", data={"consent": "yes"})
            other = client.post("/s/YetAnotherCode789", data={"consent": "yes"})
        assert over.status_code == 429
        assert 1 <= int(over.headers["retry-after"]) <= 61
        assert "Please wait a moment" in over.text
        assert "text/html" in over.headers["content-type"]
        assert other.status_code == 404  # the count is per link and address


def _redis_limiter() -> RedisRateLimiter:
    limiter = RedisRateLimiter(REDIS_URL)
    limiter._client.ping()  # a missing Redis fails the test, it is never skipped
    return limiter


class TestSharedCounts:
    def test_two_app_instances_share_one_count(self, runtime: Runtime,
                                               workspace_id: uuid.UUID) -> None:
        with runtime.db.session() as session:
            account = create_channel_account(session, workspace_id, kind="webchat",
                                             name="chat", config={"sessions_per_minute": 6})
            account_id = str(account.id)
        runtimes = [Runtime.create(runtime.settings, database_url=runtime.settings.database_url,
                                   redis_url=REDIS_URL) for _ in range(2)]
        servers = [LiveServer(create_app(rt, workers=0)).start() for rt in runtimes]
        try:
            answers = []
            for i in range(10):
                server = servers[i % 2]
                answers.append(httpx.post(f"{server.url}/webchat/{account_id}/session",
                                          json={}, timeout=10).status_code)
        finally:
            for server in servers:
                server.stop()
            for rt in runtimes:
                rt.close()
        assert answers == [201] * 6 + [429] * 4

    def test_redis_limiter_counts_across_instances(self) -> None:
        first, second = _redis_limiter(), _redis_limiter()
        key = f"test:{uuid.uuid4()}"
        for limiter in (first, second, first):
            limiter.hit(key, 3)
        with pytest.raises(RateLimited) as refused:
            second.hit(key, 3)
        assert 1 <= refused.value.details["retry_after"] <= 61
        assert refused.value.details["limit"] == 3
        second.hit(f"test:{uuid.uuid4()}", 3)  # other keys are not held back
        ttl = first._client.pttl(RedisRateLimiter.PREFIX + key)
        assert 0 < ttl <= 60_000  # nothing kept in Redis beyond the window
        first.close()
        second.close()

    def test_the_window_slides_and_refusals_are_not_counted(self) -> None:
        for limiter in (_redis_limiter(), MemoryRateLimiter()):
            key = f"test:{uuid.uuid4()}"
            limiter.hit(key, 2, window=1.0)
            limiter.hit(key, 2, window=1.0)
            for _ in range(5):
                with pytest.raises(RateLimited):
                    limiter.hit(key, 2, window=1.0)
            time.sleep(1.1)
            limiter.hit(key, 2, window=1.0)
            limiter.hit(key, 2, window=1.0)
            limiter.close()

    def test_without_redis_each_process_still_limits(self) -> None:
        limiter = RedisRateLimiter(f"redis://127.0.0.1:{free_port()}/0")
        key = f"test:{uuid.uuid4()}"
        limiter.hit(key, 1)
        with pytest.raises(RateLimited):
            limiter.hit(key, 1)
        limiter.close()
