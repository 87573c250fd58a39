"""Helpers shared by the benchmark scripts: a fresh database and a drained worker."""

from __future__ import annotations

import resource
import tempfile
import uuid
from pathlib import Path

from threadline.config import Settings
from threadline.db.migrate import upgrade
from threadline.handlers import install
from threadline.jobs.runtime import Runtime
from threadline.jobs.worker import Worker
from threadline.workspace.service import create_workspace


def fresh_runtime(url: str | None = None, *, batch_size: int = 500) -> tuple[Runtime, Path | None]:
    install()
    tmp: Path | None = None
    if url is None:
        tmp = Path(tempfile.mkdtemp(prefix="threadline-bench-"))
        url = f"sqlite:///{tmp / 'bench.db'}"
    settings = Settings(database_url=url, worker_batch_size=batch_size)
    runtime = Runtime.create(settings, database_url=url, redis_url="")
    upgrade(runtime.db)
    return runtime, tmp


def new_workspace(runtime: Runtime, name: str) -> uuid.UUID:
    with runtime.db.session() as session:
        return create_workspace(session, name, f"{name}-{uuid.uuid4().hex[:6]}").id


def drain(runtime: Runtime) -> int:
    return Worker(runtime, name="bench").drain()


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
