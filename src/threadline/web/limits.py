"""The web's rate limits: the process's limiter (shared through Redis in scaled mode), called
off the event loop because the Redis backend does network I/O."""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from threadline.jobs.runtime import Runtime
from threadline.web.proxies import client_address


async def rate_limit(request: Request, key: str, limit: int, window: float = 60.0) -> None:
    """Count one request for `key`; RateLimited (429 with retry_after) when over."""
    runtime: Runtime = request.app.state.runtime
    await run_in_threadpool(runtime.limiter.hit, key, limit, window)


async def rate_limit_client(request: Request, scope: str, limit: int,
                            window: float = 60.0) -> None:
    """Count one request from this client address (see web/proxies.py) under `scope`."""
    await rate_limit(request, f"{scope}:{client_address(request)}", limit, window)
