"""The command line run in-process against the suite's database (the same environment a
user gives it: THREADLINE_DATABASE_URL, THREADLINE_SECRET_KEY, ...)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from threadline.cli import app
from threadline.config import Settings, get_settings
from threadline.jobs.runtime import Runtime
from threadline.workspace.service import create_workspace


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        assert self.code == 0, self.out + self.err
        return json.loads(self.out)


Cli = Callable[..., Ran]


@pytest.fixture
def cli(settings: Settings, runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    monkeypatch.setenv("THREADLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("THREADLINE_SECRET_KEY", settings.secret_key or "")
    monkeypatch.setenv("THREADLINE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("THREADLINE_ALLOW_CUSTOM_PROVIDER_URLS",  # the sandbox on 127.0.0.1
                       str(settings.allow_custom_provider_urls).lower())
    if settings.redis_url:
        monkeypatch.setenv("THREADLINE_REDIS_URL", settings.redis_url)
    else:
        monkeypatch.delenv("THREADLINE_REDIS_URL", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str) -> Ran:
        result: Result = runner.invoke(app, list(args))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Ran(result.exit_code, result.stdout, result.stderr)

    yield run
    get_settings.cache_clear()


@dataclass
class Ws:
    id: uuid.UUID
    slug: str


def new_workspace(runtime: Runtime) -> Ws:
    with runtime.db.session() as session:
        ws = create_workspace(session, "CLI", f"cli-{uuid.uuid4().hex[:10]}")
        return Ws(ws.id, ws.slug)


@pytest.fixture
def ws(runtime: Runtime, workspace_id: uuid.UUID) -> Ws:
    from threadline.workspace.models import Workspace

    with runtime.db.session(write=False) as session:
        workspace = session.get(Workspace, workspace_id)
        assert workspace is not None
        return Ws(workspace.id, workspace.slug)
