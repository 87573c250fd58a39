"""A live stream's wake-ups survive a Redis restart: a Redis server of the test's own (never
the shared one) is stopped while a stream listens and started again on the same port; the
listener subscribes again by itself and is back in push mode within 5 s of Redis returning."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI, free_port
from threadline.jobs.bus import RedisBus
from threadline.web.events_stream import listen

REDIS = shutil.which("redis-server")


class OwnRedis:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.tmp = tmp
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert REDIS is not None
        self.process = subprocess.Popen(
            [REDIS, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not RedisBus(self.url).ping():
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    if REDIS is None:
        if IN_CI:
            pytest.fail("redis-server is missing (Debian's redis-server package)")
        pytest.skip("redis-server is not installed")
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_the_listener_subscribes_again_after_redis_returns(own_redis: OwnRedis) -> None:
    bus = RedisBus(own_redis.url)
    topic = "stream:restart-test"

    async def scenario() -> dict[str, float]:
        wake = asyncio.Event()
        listener = asyncio.create_task(listen(bus, topic, wake))
        try:
            async def woken_by_publish(limit: float) -> float:
                """Seconds until a published wake-up reaches the listener."""
                started = time.monotonic()
                while time.monotonic() - started < limit:
                    wake.clear()
                    await asyncio.to_thread(bus.publish, topic)
                    try:
                        await asyncio.wait_for(wake.wait(), 0.2)
                        return time.monotonic() - started
                    except TimeoutError:
                        continue
                raise AssertionError(f"no wake-up within {limit} s")

            before = await woken_by_publish(5)
            await asyncio.to_thread(own_redis.stop)
            await asyncio.sleep(3)  # down: the listener fails and keeps trying
            await asyncio.to_thread(own_redis.start)
            after = await woken_by_publish(5)
            return {"before": before, "after": after}
        finally:
            listener.cancel()

    found: dict[str, float] = {}
    failed: list[BaseException] = []

    def run() -> None:  # a loop of its own: Playwright's sync API may hold this thread's
        try:
            found.update(asyncio.run(scenario()))
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    if failed:
        raise failed[0]
    assert found["before"] < 1
    assert found["after"] < 5, found
