"""Rate limits: sliding-window counters, one interface, two backends.

`MemoryRateLimiter` counts in this process (embedded mode: one process is the deployment).
`RedisRateLimiter` counts in Redis, so every web process and host of a scaled deployment
shares one count per key (a Lua script: atomic, on Redis's clock). When Redis cannot be
reached the process falls back to its own counters rather than to no limit at all.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from typing import Any, Protocol

from threadline.errors import RateLimited

log = logging.getLogger("threadline.ratelimit")


class RateLimiter(Protocol):
    def hit(self, key: str, limit: int, window: float = 60.0) -> None:
        """Count one request for `key`; RateLimited (429, retry_after) when over `limit`
        requests in the last `window` seconds. Refused requests are not counted."""
        ...

    def close(self) -> None: ...


def _refuse(limit: int, window: float, retry_after: float) -> RateLimited:
    return RateLimited("too many requests; slow down",
                       details={"retry_after": max(1, int(retry_after) + 1), "limit": limit,
                                "window_seconds": int(window)})


class MemoryRateLimiter:
    """Sliding-window counters in this process."""

    def __init__(self, max_keys: int = 50_000) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def hit(self, key: str, limit: int, window: float = 60.0) -> None:
        now = time.monotonic()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= self._max_keys:
                    self._prune(now, window)
                hits = self._hits[key] = deque()
            while hits and now - hits[0] >= window:
                hits.popleft()
            if len(hits) >= limit:
                raise _refuse(limit, window, window - (now - hits[0]))
            hits.append(now)

    def _prune(self, now: float, window: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or now - v[-1] >= window]:
            del self._hits[key]
        while len(self._hits) >= self._max_keys:
            self._hits.pop(next(iter(self._hits)))

    def close(self) -> None:
        return None


# KEYS[1] the counter; ARGV: limit, window in ms, a unique member. Returns {allowed, wait_ms}.
SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, window - (now - tonumber(oldest[2]))}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return {1, 0}
"""


class RedisRateLimiter:
    """Sliding-window counters in Redis, shared by every process using the same Redis."""

    PREFIX = "threadline:ratelimit:"

    def __init__(self, url: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script: Any = self._client.register_script(SLIDING_WINDOW)
        self._fallback = MemoryRateLimiter()
        self._warned = 0.0

    def hit(self, key: str, limit: int, window: float = 60.0) -> None:
        try:
            allowed, wait_ms = self._script(keys=[self.PREFIX + key],
                                            args=[limit, int(window * 1000),
                                                  secrets.token_hex(8)])
        except Exception as exc:
            self._warn(exc)
            self._fallback.hit(key, limit, window)
            return
        if not int(allowed):
            raise _refuse(limit, window, int(wait_ms) / 1000)

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned > 60:
            self._warned = now
            log.warning("rate limits counted in this process only: Redis failed (%s)",
                        type(exc).__name__)

    def close(self) -> None:
        self._client.close()


def make_limiter(redis_url: str | None) -> RateLimiter:
    return RedisRateLimiter(redis_url) if redis_url else MemoryRateLimiter()
