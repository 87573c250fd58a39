"""Uploading a file for a conversation and serving it back by signed URL, with the attacks:
oversized streams, programs named .jpg, SVG and HTML, forged and expired links, another
workspace's ids, hostile names."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_token
from tests.media import samples
from tests.media.conftest import whatsapp_conversation
from threadline.jobs.runtime import Runtime
from threadline.jobs.worker import Worker
from threadline.media import tokens


def upload(client: TestClient, conv: str, data: bytes, name: str = "file.bin",
           ctype: str = "application/octet-stream", **params: str) -> httpx.Response:
    return client.post(f"/api/v1/conversations/{conv}/attachments", params=params,
                       files={"file": (name, data, ctype)})


@pytest.fixture
def conv(client: TestClient, worker: Worker) -> str:
    return whatsapp_conversation(client, worker)[0]


class TestUpload:
    def test_an_image_is_stored_with_a_thumbnail_and_served_inline(
            self, client: TestClient, conv: str) -> None:
        answer = upload(client, conv, samples.jpeg(800, 600), "holiday photo.jpg",
                        "image/jpeg")
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert body["type"] == "image" and body["mime_type"] == "image/jpeg"
        assert (body["width"], body["height"]) == (800, 600)
        served = client.get(body["url"])
        assert served.status_code == 200
        assert served.headers["content-type"] == "image/jpeg"
        assert served.headers["x-content-type-options"] == "nosniff"
        assert served.headers["content-disposition"].startswith("inline;")
        assert "sandbox" in served.headers["content-security-policy"]
        assert served.headers["cache-control"] == "private, no-store"
        thumb = client.get(body["thumbnail_url"])
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
        assert len(thumb.content) < len(served.content)
        again = client.get(f"/api/v1/attachments/{body['id']}")
        assert again.status_code == 200 and again.json()["name"] == "holiday photo.jpg"

    def test_a_pdf_is_served_as_a_download(self, client: TestClient, conv: str) -> None:
        answer = upload(client, conv, samples.pdf(), "facture été.pdf", "application/pdf")
        assert answer.status_code == 201, answer.text
        served = client.get(answer.json()["url"])
        assert served.headers["content-type"] == "application/pdf"
        disposition = served.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        assert "filename*=UTF-8''facture%20%C3%A9t%C3%A9.pdf" in disposition

    def test_a_30_mb_video_on_whatsapp_is_refused_naming_the_limit(
            self, client: TestClient, conv: str) -> None:
        answer = upload(client, conv, samples.mp4(30 * 1024 * 1024), "clip.mp4", "video/mp4")
        assert answer.status_code == 422
        error = answer.json()["error"]
        assert error["code"] == "media_too_large"
        assert "16 MB" in error["message"] and error["details"]["channel"] == "whatsapp"
        assert error["details"]["allowed"] == ["video of at most 16 MB"]

    @pytest.mark.parametrize(("data", "name", "ctype"), [
        (samples.EXE, "cute-cat.jpg", "image/jpeg"),
        (samples.SVG, "logo.svg", "image/svg+xml"),
        (samples.HTML, "photo.png", "image/png"),
        (b"\x00\x01garbage", "data.pdf", "application/pdf"),
    ])
    def test_dangerous_or_unknown_content_is_refused_whatever_the_name(
            self, client: TestClient, conv: str, data: bytes, name: str, ctype: str) -> None:
        answer = upload(client, conv, data, name, ctype)
        assert answer.status_code == 422
        assert answer.json()["error"]["code"] == "media_type_refused"

    def test_a_type_the_channel_does_not_take(self, client: TestClient, conv: str) -> None:
        gif = samples.png()  # PNG is fine on WhatsApp; a WebP sticker of 1 MB is not
        assert upload(client, conv, gif, "a.png").status_code == 201
        answer = upload(client, conv, b"order 4411\n" * 10, "notes.txt", "text/plain")
        assert answer.status_code == 201  # text/plain is a WhatsApp document

    def test_an_oversized_stream_is_cut_with_413(self, client: TestClient, runtime: Runtime,
                                                conv: str) -> None:
        cap = runtime.settings.media_upload_max_bytes
        runtime.settings.media_upload_max_bytes = 200_000
        try:
            def chunks() -> Any:
                yield (b"--b\r\nContent-Disposition: form-data; name=\"file\"; "
                       b"filename=\"big.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4")
                for _ in range(100):
                    yield b"\x00" * 65536
                yield b"\r\n--b--\r\n"
            answer = client.post(f"/api/v1/conversations/{conv}/attachments",
                                 content=chunks(),
                                 headers={"content-type": "multipart/form-data; boundary=b"})
            assert answer.status_code == 413
            assert answer.json()["error"]["code"] == "upload_too_large"
            declared = upload(client, conv, b"%PDF-1.4" + b"\x00" * 300_000, "x.pdf")
            assert declared.status_code == 413
        finally:
            runtime.settings.media_upload_max_bytes = cap

    def test_bad_requests_are_typed(self, client: TestClient, conv: str) -> None:
        assert client.post(f"/api/v1/conversations/{conv}/attachments",
                           json={"file": "x"}).json()["error"]["code"] == "not_multipart"
        empty = upload(client, conv, b"", "e.pdf")
        assert empty.status_code == 422 and empty.json()["error"]["code"] == "empty_file"
        missing = client.post(f"/api/v1/conversations/{conv}/attachments",
                              files={"other": ("a", b"x")})
        assert missing.status_code == 422
        bad_account = upload(client, conv, samples.png(), channel_account_id="nope")
        assert bad_account.status_code == 422
        other_account = upload(client, conv, samples.png(),
                               channel_account_id=str(uuid.uuid4()))
        assert other_account.status_code == 404

    def test_hostile_names_are_cleaned(self, client: TestClient, conv: str) -> None:
        answer = upload(client, conv, samples.pdf(), "../../../etc/passwd.jpg", "image/jpeg")
        assert answer.status_code == 201
        assert answer.json()["name"] == "passwd.jpg.pdf"
        assert answer.json()["mime_type"] == "application/pdf"

    def test_no_token_no_upload(self, app: Any, conv: str) -> None:
        with TestClient(app) as anonymous:
            assert upload(anonymous, conv, samples.png()).status_code == 401


class TestIsolation:
    def test_another_workspace_sees_nothing(self, client: TestClient, app: Any,
                                            runtime: Runtime, conv: str) -> None:
        body = upload(client, conv, samples.png()).json()
        other_ws = _workspace(runtime)
        with TestClient(app) as other:
            other.headers["Authorization"] = f"Bearer {make_token(runtime, other_ws)}"
            assert other.get(f"/api/v1/attachments/{body['id']}").status_code == 404
            assert upload(other, conv, samples.png()).status_code == 404

    def test_forged_expired_and_cross_workspace_links(self, client: TestClient,
                                                      runtime: Runtime, conv: str,
                                                      workspace_id: uuid.UUID) -> None:
        body = upload(client, conv, samples.png()).json()
        token = body["url"].split("/")[2]
        forged = token[:-3] + ("abc" if not token.endswith("abc") else "xyz")
        assert client.get(f"/media/{forged}/x.png").status_code == 403
        assert client.get("/media/not-a-token").status_code == 403
        settings = runtime.settings
        file_id = uuid.UUID(body["id"])
        expired = tokens.sign(settings, file_id, workspace_id, seconds=10,
                              now=time.time() - 60)
        assert client.get(f"/media/{expired}/x.png").status_code == 403
        # a validly signed token naming another workspace for this file: no file there
        wrong_ws = tokens.sign(settings, file_id, uuid.uuid4(), seconds=60)
        assert client.get(f"/media/{wrong_ws}/x.png").status_code == 404
        unknown = tokens.sign(settings, uuid.uuid4(), workspace_id, seconds=60)
        assert client.get(f"/media/{unknown}").status_code == 404

    def test_a_text_file_never_renders_as_a_page(self, client: TestClient, conv: str) -> None:
        body = upload(client, conv, b"<b>hello</b> plain words", "page.html",
                      "text/html").json()
        served = client.get(body["url"])
        assert served.headers["content-type"] == "text/plain; charset=utf-8"
        assert served.headers["content-disposition"].startswith("attachment;")
        assert served.headers["x-content-type-options"] == "nosniff"


def _workspace(runtime: Runtime) -> uuid.UUID:
    from threadline.workspace import service as workspace_service

    with runtime.db.session() as session:
        return workspace_service.create_workspace(session, "Other",
                                                  f"o-{uuid.uuid4().hex[:12]}").id


class TestServingRules:
    def test_svg_or_html_that_got_stored_anyway_is_a_download(
            self, client: TestClient, runtime: Runtime, workspace_id: uuid.UUID) -> None:
        """Defence in depth: whatever is in the store, only raster images are inline."""
        from threadline.media.models import MediaFile
        from threadline.media.store import blob_key, sha256, store_for

        for data, mime in ((samples.SVG, "image/svg+xml"), (samples.HTML, "text/html")):
            key = blob_key(sha256(data))
            store_for(runtime.settings).put(key, data, mime)
            with runtime.db.session() as session:
                row = MediaFile(workspace_id=workspace_id, source="upload", sha256=sha256(data),
                                mime_type=mime, kind="document", size=len(data), name="x",
                                storage_key=key, flags={})
                session.add(row)
                session.flush()
                file_id = row.id
            token = tokens.sign(runtime.settings, file_id, workspace_id, seconds=60)
            served = client.get(f"/media/{token}/x")
            assert served.status_code == 200
            assert served.headers["content-disposition"].startswith("attachment;")
            assert served.headers["content-security-policy"].startswith("sandbox;")
            assert served.headers["x-content-type-options"] == "nosniff"

    def test_head_answers_the_type_like_get(self, client: TestClient, conv: str) -> None:
        body = upload(client, conv, samples.png(), "a.png", "image/png").json()
        head = client.head(body["url"])
        assert head.status_code == 200 and head.headers["content-type"] == "image/png"
        assert head.content == b""


class TestErasure:
    def test_erasing_the_customer_removes_his_files(self, client: TestClient, runtime: Runtime,
                                                    conv: str) -> None:
        from sqlalchemy import select

        from threadline.media.models import MediaFile

        body = upload(client, conv, samples.png(), "his-id-card.png", "image/png").json()
        customer = client.get(f"/api/v1/conversations/{conv}").json()["customer_id"]
        answer = client.post(f"/api/v1/customers/{customer}/erase")
        assert answer.status_code == 200, answer.text
        with runtime.db.session(write=False) as session:
            assert session.scalar(select(MediaFile).where(
                MediaFile.id == uuid.UUID(body["id"]))) is None
        assert client.get(body["url"]).status_code == 404
