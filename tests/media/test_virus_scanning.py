"""Virus scanning with a real clamd (tests/media/clamav.py starts one per session with a
signature the tests write): the INSTREAM client over the unix socket and TCP; uploads refused
with a typed 422 when infected and a typed 503 when clamd is unreachable, nothing stored in
either case; inbound media (an X DM photo through the sandbox) kept as a refused entry that the
agent sees, audited, or retried later while clamd is away and stored once it is back."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select

from tests.channels.x.dm_media import dm_with_photo, settled_attachment
from tests.desktop.conftest import desk_for
from tests.e2e.conftest import E2E, wait_for
from tests.media import clamav, samples
from tests.media.clamav import FOUND_AS, MARKER, STREAM_MAX_BYTES, Clamd
from tests.media.conftest import whatsapp_conversation
from threadline.config import Settings
from threadline.events.models import AuditEvent, OutboxJob
from threadline.jobs.runtime import Runtime
from threadline.jobs.worker import Worker
from threadline.media import scanning
from threadline.media.fetch import FETCH_JOB
from threadline.media.models import MediaFile

clamd = clamav.clamd  # the session's clamd fixture, for this module
INFECTED_PHOTO = samples.jpeg(64, 48) + MARKER  # a real JPEG carrying the test signature


def scanning_at(address: str, timeout: float = 10.0) -> Settings:
    return Settings(media_clamd_address=address, media_clamd_timeout_seconds=timeout)


@pytest.fixture
def dead_socket(tmp_path: Path) -> str:
    return str(tmp_path / "no-clamd-here.sock")


class TestClamdClient:
    def test_clamd_with_a_tiny_database_starts_in_well_under_a_few_seconds(
            self, clamd: Clamd) -> None:
        assert clamd.started_in < 3.0
        assert scanning.ping(clamd.socket) and scanning.ping(clamd.tcp)

    @pytest.mark.parametrize("transport", ["socket", "tcp"])
    def test_clean_bytes_pass_and_the_signature_is_named(self, clamd: Clamd,
                                                         transport: str) -> None:
        settings = scanning_at(getattr(clamd, transport))
        clean = samples.pdf("invoice 4411")
        found = scanning.scan(settings, clean)
        assert found is not None and len(found.sha256) == 64
        with pytest.raises(scanning.FileInfected) as caught:
            scanning.scan(settings, b"%PDF-1.4\n" + MARKER + b"\n%%EOF\n")
        assert caught.value.signature == FOUND_AS
        assert caught.value.status == 422 and caught.value.to_dict() == {
            "code": "file_infected", "message": caught.value.message,
            "details": {"signature": FOUND_AS}}

    def test_the_marker_is_found_past_the_first_chunk(self, clamd: Clamd) -> None:
        data = b"a" * (scanning.CHUNK + 1000) + MARKER
        with pytest.raises(scanning.FileInfected):
            scanning.scan(scanning_at(clamd.socket), data)

    def test_a_file_larger_than_clamd_takes_is_refused_not_passed(self,
                                                                  clamd: Clamd) -> None:
        with pytest.raises(scanning.FileNotScannable) as caught:
            scanning.scan(scanning_at(clamd.socket), b"x" * (STREAM_MAX_BYTES + 4096))
        assert caught.value.status == 413 and caught.value.code == "file_not_scannable"

    def test_not_configured_scans_nothing(self) -> None:
        assert scanning.scan(Settings(), MARKER) is None
        scanning.ensure_clean(Settings(), MARKER, None)  # no error: scanning is off

    def test_proof_of_a_scan_covers_only_the_same_bytes(self, clamd: Clamd,
                                                        dead_socket: str) -> None:
        settings = scanning_at(clamd.socket)
        proof = scanning.scan(settings, b"clean words")
        assert proof is not None
        scanning.ensure_clean(scanning_at(dead_socket), b"clean words", proof)  # not again
        with pytest.raises(scanning.FileInfected):
            scanning.ensure_clean(settings, MARKER, proof)  # other bytes: scanned

    def test_unreachable_clamd_is_unavailable(self, dead_socket: str) -> None:
        closed_port = socket.socket()
        closed_port.bind(("127.0.0.1", 0))
        port = closed_port.getsockname()[1]
        closed_port.close()
        for address in (dead_socket, f"127.0.0.1:{port}"):
            with pytest.raises(scanning.ScannerUnavailable) as caught:
                scanning.scan(scanning_at(address), b"hello")
            assert caught.value.status == 503 and caught.value.code == "scanner_unavailable"

    def test_a_daemon_that_never_answers_times_out(self, tmp_path: Path) -> None:
        path = str(tmp_path / "silent.sock")
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        server.listen(1)
        held: list[socket.socket] = []
        thread = threading.Thread(target=lambda: held.append(server.accept()[0]), daemon=True)
        thread.start()
        try:
            with pytest.raises(scanning.ScannerUnavailable) as caught:
                scanning.scan(scanning_at(path, timeout=0.5), b"hello")
            assert "no answer" in caught.value.message
        finally:
            thread.join(2)
            for conn in held:
                conn.close()
            server.close()

    def test_a_daemon_answering_nonsense_is_unavailable_not_clean(self,
                                                                  tmp_path: Path) -> None:
        path = str(tmp_path / "liar.sock")
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        server.listen(1)

        def answer() -> None:
            conn = server.accept()[0]
            conn.recv(65536)
            conn.sendall(b"stream: OKAY maybe\0")
            conn.close()
        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        try:
            with pytest.raises(scanning.ScannerUnavailable):
                scanning.scan(scanning_at(path), b"hello")
        finally:
            thread.join(2)
            server.close()


class TestSetting:
    @pytest.mark.parametrize(("given", "read"), [
        ("/run/clamav/clamd.ctl", "/run/clamav/clamd.ctl"),
        ("unix:/run/clamav/clamd.ctl", "/run/clamav/clamd.ctl"),
        ("clamav:3310", "clamav:3310"), ("tcp://10.0.0.5:3310", "10.0.0.5:3310"),
        ("[::1]:3310", "[::1]:3310"), ("", None), ("  ", None),
    ])
    def test_address_forms(self, given: str, read: str | None) -> None:
        assert Settings(media_clamd_address=given).media_clamd_address == read

    @pytest.mark.parametrize("given", ["clamav", "clamav:0", "clamav:99999", "clamav:33a",
                                       "relative/clamd.sock", "http://x/y:3310", ":3310"])
    def test_a_malformed_address_is_refused_at_start(self, given: str) -> None:
        with pytest.raises(ValidationError):
            Settings(media_clamd_address=given)


# --- uploads -----------------------------------------------------------------------------------


def upload(client: TestClient, conv: str, data: bytes, name: str = "photo.jpg",
           ctype: str = "image/jpeg") -> httpx.Response:
    return client.post(f"/api/v1/conversations/{conv}/attachments",
                       files={"file": (name, data, ctype)})


def stored_state(runtime: Runtime, conv: str) -> tuple[int, int]:
    """(attachment rows of the conversation, blob files in the local store)."""
    with runtime.db.session(write=False) as session:
        rows = session.scalar(select(func.count()).select_from(MediaFile).where(
            MediaFile.conversation_id == uuid.UUID(conv))) or 0
    folder = runtime.settings.data_dir / "media"
    blobs = sum(1 for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0
    return rows, blobs


@pytest.fixture
def conv(client: TestClient, worker: Worker) -> str:
    return whatsapp_conversation(client, worker)[0]


@pytest.fixture
def scanning_on(runtime: Runtime, clamd: Clamd,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[Clamd]:
    monkeypatch.setattr(runtime.settings, "media_clamd_address", clamd.socket)
    yield clamd


class TestUploads:
    def test_a_clean_photo_is_stored(self, client: TestClient, conv: str,
                                     scanning_on: Clamd) -> None:
        answer = upload(client, conv, samples.jpeg(80, 60))
        assert answer.status_code == 201, answer.text

    def test_an_infected_photo_is_refused_with_its_signature_and_nothing_stored(
            self, client: TestClient, conv: str, runtime: Runtime,
            scanning_on: Clamd) -> None:
        before = stored_state(runtime, conv)
        answer = upload(client, conv, INFECTED_PHOTO, "cute-cat.jpg")
        assert answer.status_code == 422
        error = answer.json()["error"]
        assert error["code"] == "file_infected" and error["details"] == {"signature": FOUND_AS}
        assert stored_state(runtime, conv) == before  # no row, no blob, no thumbnail

    def test_an_infected_file_with_a_harmless_name_and_type_is_still_refused(
            self, client: TestClient, conv: str, scanning_on: Clamd) -> None:
        answer = upload(client, conv, b"%PDF-1.4\n" + MARKER + b"\n%%EOF\n",
                        "../../invoice.pdf", "application/pdf")
        assert answer.status_code == 422
        assert answer.json()["error"]["code"] == "file_infected"

    def test_clamd_unreachable_answers_503_and_stores_nothing(
            self, client: TestClient, conv: str, runtime: Runtime, dead_socket: str,
            monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(runtime.settings, "media_clamd_address", dead_socket)
        before = stored_state(runtime, conv)
        answer = upload(client, conv, samples.jpeg(80, 60))
        assert answer.status_code == 503
        assert answer.json()["error"]["code"] == "scanner_unavailable"
        assert stored_state(runtime, conv) == before

    def test_the_desktop_composer_refuses_an_infected_file_and_sends_nothing(
            self, client: TestClient, worker: Worker, app: Any, runtime: Runtime,
            workspace_id: uuid.UUID, scanning_on: Clamd) -> None:
        conv, account = whatsapp_conversation(client, worker)
        desk = desk_for(app, runtime, workspace_id, "agent")
        answer = desk.post(f"/conversations/{conv}/reply",
                           {"text": "our label", "kind": "message", "visibility": "private",
                            "account_id": account}, htmx=True,
                           files={"file": ("label.jpg", INFECTED_PHOTO, "image/jpeg")})
        assert answer.status_code == 422
        assert 'data-code="file_infected"' in answer.text
        assert stored_state(runtime, conv)[0] == 0
        timeline = desk.get(f"/conversations/{conv}/timeline")
        assert "our label" not in timeline.text  # the reply was not posted either

    def test_without_scanning_configured_the_same_bytes_are_taken(
            self, client: TestClient, conv: str) -> None:
        # the refusal above comes from clamd, not from the bytes' shape
        assert upload(client, conv, INFECTED_PHOTO).status_code == 201


# --- inbound -----------------------------------------------------------------------------------


class TestInbound:
    def test_an_infected_dm_photo_is_kept_as_removed_and_audited(
            self, e2e: E2E, runtime: Runtime, app: Any, workspace_id: uuid.UUID,
            scanning_on: Clamd) -> None:
        _, event_id, media_id, _ = dm_with_photo(e2e, INFECTED_PHOTO)
        conv, message, item = settled_attachment(e2e, event_id)
        assert message["text"].startswith("the box")  # the message itself is kept
        assert not item.get("attachment_id")
        assert item["media_error"] == f"file removed: infected ({FOUND_AS})"
        assert item["refused"] == "infected" and item["signature"] == FOUND_AS
        with runtime.db.session(write=False) as session:
            assert session.scalar(select(func.count()).select_from(MediaFile).where(
                MediaFile.provider_media_id == media_id)) == 0
            audit = session.scalar(select(AuditEvent).where(
                AuditEvent.workspace_id == workspace_id,
                AuditEvent.action == "message.attachment_refused"))
        assert audit is not None and audit.data["signature"] == FOUND_AS
        page = desk_for(app, runtime, workspace_id, "agent").get(
            f"/conversations/{conv['id']}/timeline")
        assert 'data-role="attachment-refused"' in page.text
        assert f"file removed: infected ({FOUND_AS})" in page.text
        assert "/media/" not in page.text

    def test_clamd_away_means_retry_later_then_the_photo_is_stored(
            self, e2e: E2E, runtime: Runtime, clamd: Clamd, dead_socket: str,
            monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(runtime.settings, "media_clamd_address", dead_socket)
        monkeypatch.setattr(runtime.settings, "max_attempts", 1000)
        _, event_id, media_id, _ = dm_with_photo(e2e, samples.jpeg(90, 70))
        _, message = e2e.wait_message(event_id)

        def retrying() -> OutboxJob | None:
            with runtime.db.session(write=False) as session:
                for job in session.scalars(select(OutboxJob).where(
                        OutboxJob.name == FETCH_JOB)):
                    if job.payload.get("message_id") == message["id"] and job.attempts >= 2:
                        return job
            return None
        job = wait_for(retrying, timeout=30, what="media job retried")
        assert job.status == "pending" and "virus scanner" in (job.last_error or "")
        with runtime.db.session(write=False) as session:  # never stored unscanned
            assert session.scalar(select(func.count()).select_from(MediaFile).where(
                MediaFile.provider_media_id == media_id)) == 0
        _, current = e2e.wait_message(event_id)
        assert not current["attachments"][0].get("media_error")

        monkeypatch.setattr(runtime.settings, "media_clamd_address", clamd.socket)
        _, _, item = settled_attachment(e2e, event_id)
        assert item.get("attachment_id") and item["mime_type"] == "image/jpeg"
