"""The bus: wake-ups for workers and real-time fan-out for desktops.

The bus carries no data that matters: every event is already durable in the database (the
outbox, the inbox, stream_events). Losing a wake-up only delays work until the next poll.
`MemoryBus` serves one process (embedded mode); `RedisBus` serves many processes and hosts.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from threadline.db.engine import Database


class Bus(Protocol):
    def publish(self, topic: str) -> None:
        """Wake everyone waiting on `topic` (thread-safe, never raises)."""
        ...

    def wait(self, topic: str, timeout: float) -> bool:
        """Block the calling thread until `topic` is published or `timeout` passes."""
        ...

    def subscribe(self, topic: str) -> AsyncIterator[None]:
        """Async iterator yielding once per wake-up on `topic` (for SSE)."""
        ...

    def ping(self) -> bool: ...

    def close(self) -> None: ...


class MemoryBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._versions: dict[str, int] = defaultdict(int)
        self._cond = threading.Condition(self._lock)
        self._async: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = (
            defaultdict(set))

    def publish(self, topic: str) -> None:
        with self._cond:
            self._versions[topic] += 1
            self._cond.notify_all()
            waiters = list(self._async.get(topic, ()))
        for loop, ev in waiters:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(ev.set)

    def wait(self, topic: str, timeout: float) -> bool:
        with self._cond:
            start = self._versions[topic]
            return self._cond.wait_for(lambda: self._versions[topic] != start, timeout)

    async def subscribe(self, topic: str) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        ev = asyncio.Event()
        entry = (loop, ev)
        with self._lock:
            self._async[topic].add(entry)
        try:
            while True:
                await ev.wait()
                ev.clear()
                yield None
        finally:
            with self._lock:
                self._async[topic].discard(entry)

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        return None


class RedisBus:
    """Redis pub/sub. Publishing failures are swallowed: the database stays the truth."""

    def __init__(self, url: str) -> None:
        import redis

        self.url = url
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)

    def publish(self, topic: str) -> None:
        with contextlib.suppress(Exception):
            self._client.publish(topic, b"1")

    def wait(self, topic: str, timeout: float) -> bool:
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(topic)
            message = pubsub.get_message(timeout=timeout)
            return message is not None
        except Exception:
            threading.Event().wait(timeout)
            return False
        finally:
            with contextlib.suppress(Exception):
                pubsub.close()

    async def subscribe(self, topic: str) -> AsyncIterator[None]:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(self.url)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(topic)
        try:
            async for _message in pubsub.listen():
                yield None
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[attr-defined]
                await client.aclose()  # type: ignore[attr-defined]

    def ping(self) -> bool:
        try:
            return bool(self._client.ping())
        except Exception:
            return False

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client.close()


class PersistentWaiter:
    """A worker's standing subscription (Redis) so no wake-up is missed between polls."""

    def __init__(self, bus: Bus, topic: str) -> None:
        self.bus = bus
        self.topic = topic
        self._pubsub: Any = None
        if isinstance(bus, RedisBus):
            try:
                self._pubsub = bus._client.pubsub(ignore_subscribe_messages=True)
                self._pubsub.subscribe(topic)
            except Exception:
                self._pubsub = None

    def wait(self, timeout: float) -> bool:
        if self._pubsub is None:
            return self.bus.wait(self.topic, timeout)
        try:
            got = self._pubsub.get_message(timeout=timeout) is not None
            while self._pubsub.get_message(timeout=0) is not None:  # drain the burst
                got = True
            return got
        except Exception:
            threading.Event().wait(timeout)
            return False

    def close(self) -> None:
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                self._pubsub.close()


def make_bus(redis_url: str | None) -> Bus:
    return RedisBus(redis_url) if redis_url else MemoryBus()


def install_bus(db: Database, bus: Bus) -> None:
    """Publish the topics a transaction asked for (events.service.notify_after_commit)
    once it commits; drop them if it rolls back."""

    def _after_commit(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint committed; the outer transaction has not yet
        topics = session.info.pop("bus_topics", None)
        if topics:
            for topic in topics:
                bus.publish(topic)

    def _after_rollback(session: Session) -> None:
        session.info.pop("bus_topics", None)

    for factory in (db._read, db._write):
        _listen(factory, _after_commit, _after_rollback)


def _listen(factory: sessionmaker[Session], on_commit: Any, on_rollback: Any) -> None:
    event.listen(factory, "after_commit", on_commit)
    event.listen(factory, "after_soft_rollback",
                 lambda s, t: None if t.nested else on_rollback(s))
