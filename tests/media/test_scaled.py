"""Scaled mode: two web processes (`threadline serve --web`, real subprocesses) share the
database and an S3-compatible bucket (moto's server); a file uploaded through one is served
by the other, and neither keeps the bytes in its own data folder."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import free_port, make_token
from tests.media import samples
from tests.media.conftest import whatsapp_conversation
from threadline.config import Settings
from threadline.jobs.runtime import Runtime
from threadline.jobs.worker import Worker

pytestmark = pytest.mark.slow  # long: run first (tests/conftest.py)


def serve(settings: Settings, s3: str, data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "THREADLINE_DATABASE_URL": settings.database_url,
           "THREADLINE_SECRET_KEY": settings.resolved_secret_key(),
           "THREADLINE_DATA_DIR": str(data_dir), "THREADLINE_MEDIA_STORE": "s3",
           "THREADLINE_MEDIA_S3_ENDPOINT_URL": s3, "THREADLINE_MEDIA_S3_BUCKET": "scaled",
           "THREADLINE_MEDIA_S3_ACCESS_KEY_ID": "testing",
           "THREADLINE_MEDIA_S3_SECRET_ACCESS_KEY": "testing",
           "THREADLINE_MEDIA_S3_CREATE_BUCKET": "true", "THREADLINE_LOG_LEVEL": "WARNING"}
    if settings.redis_url:
        env["THREADLINE_REDIS_URL"] = settings.redis_url
    process = subprocess.Popen(
        [sys.executable, "-m", "threadline.cli", "serve", "--web", "--no-migrate",
         "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode()[-2000:] if process.stderr
                                 else "server exited")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code < 500:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("server did not start")


@pytest.fixture
def two_servers(settings: Settings, s3_endpoint: str,
                tmp_path: Path) -> Iterator[tuple[str, str, Path, Path]]:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    started = [serve(settings, s3_endpoint, one), serve(settings, s3_endpoint, two)]
    try:
        yield started[0][1], started[1][1], one, two
    finally:
        for process, _ in started:
            process.terminate()
            process.wait(timeout=15)


def test_two_web_processes_serve_the_same_attachment(
        two_servers: tuple[str, str, Path, Path], client: TestClient, worker: Worker,
        runtime: Runtime, workspace_id: uuid.UUID) -> None:
    first, second, one_dir, two_dir = two_servers
    conv, _ = whatsapp_conversation(client, worker)
    token = make_token(runtime, workspace_id)
    headers = {"Authorization": f"Bearer {token}"}
    photo = samples.jpeg(500, 400)
    answer = httpx.post(f"{first}/api/v1/conversations/{conv}/attachments", headers=headers,
                        files={"file": ("photo.jpg", photo, "image/jpeg")}, timeout=20)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    from_first = httpx.get(first + body["url"], timeout=10)
    from_second = httpx.get(second + body["url"], timeout=10)
    assert from_second.status_code == 200 and from_second.content == from_first.content
    assert from_second.headers["content-type"] == "image/jpeg"
    thumb = httpx.get(second + body["thumbnail_url"], timeout=10)
    assert thumb.status_code == 200 and thumb.content.startswith(b"\xff\xd8\xff")
    facts = httpx.get(f"{second}/api/v1/attachments/{body['id']}", headers=headers, timeout=10)
    assert facts.json()["size"] == body["size"]
    assert not (one_dir / "media").exists() and not (two_dir / "media").exists()
