"""What a process needs to run: settings, database, bus and an HTTP client for providers."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from threadline.config import Settings, get_settings
from threadline.db.crypto import bind_keyring
from threadline.db.engine import Database
from threadline.jobs.bus import Bus, install_bus, make_bus
from threadline.jobs.ratelimit import MemoryRateLimiter, RateLimiter, make_limiter


@dataclass
class Runtime:
    settings: Settings
    db: Database
    bus: Bus
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=15.0))
    limiter: RateLimiter = field(default_factory=MemoryRateLimiter)

    @classmethod
    def create(cls, settings: Settings | None = None, *, database_url: str | None = None,
               redis_url: str | None = None) -> Runtime:
        settings = settings or get_settings()
        db = Database(database_url or settings.database_url)
        bind_keyring(db.engine, settings)
        redis = redis_url if redis_url is not None else settings.redis_url
        bus = make_bus(redis)
        install_bus(db, bus)
        return cls(settings=settings, db=db, bus=bus, limiter=make_limiter(redis))

    def close(self) -> None:
        self.http.close()
        self.bus.close()
        self.limiter.close()
        self.db.dispose()
