"""Outbound media end to end: an image and a PDF uploaded through the API go out with a
reply on WhatsApp and Messenger (by signed link, which the sandbox fetches like the
platforms do), Telegram (sendPhoto / sendDocument, multipart upload) and email (MIME
attachments over real SMTP); the sandbox and the SMTP server got the very bytes."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import E2E, wait_for
from tests.mailservers import DovecotServer, SmtpServer, dovecot_server, smtp_server
from tests.media import samples
from tests.media.test_media_in import mail_with_pdf
from threadline.jobs.runtime import Runtime
from threadline.sandbox.providers import meta as sm
from threadline.sandbox.providers import telegram as stg

PAGE_ID = "1234567890"
PHONE_ID = "106540352242922"
BOT_TOKEN = "123456:sandbox-media-bot"


@pytest.fixture
def public(e2e: E2E, runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> E2E:
    """Signed links point at the live server (THREADLINE_PUBLIC_URL in production)."""
    monkeypatch.setattr(runtime, "settings", runtime.settings.model_copy(
        update={"public_url": e2e.server.url}))
    return e2e


def upload(e2e: E2E, conv: str, data: bytes, name: str, mime: str) -> dict[str, Any]:
    answer = e2e.api.post(f"/conversations/{conv}/attachments",
                          files={"file": (name, data, mime)})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def served_sha(e2e: E2E, attachment: dict[str, Any]) -> str:
    """SHA-256 of the stored bytes (what we serve; images are re-encoded on the way in)."""
    return hashlib.sha256(httpx.get(e2e.server.url + attachment["url"]).content).hexdigest()


def fetched(e2e: E2E, url_part: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        items = e2e.http.get(e2e.sandbox_url("/meta/_sandbox/fetched")).json()["fetched"]
        return next((f for f in items if url_part in f["url"]), None)
    return wait_for(probe, what="the sandbox fetching the link")


def send_both(e2e: E2E, conv: str, **reply: Any) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Upload a photo and a PDF, send each with a reply; [(attachment, sent message)]."""
    out = []
    for data, name, mime, text in ((samples.jpeg(300, 200), "photo.jpg", "image/jpeg",
                                    f"Here is the photo {e2e.tag}"),
                                   (samples.pdf(e2e.tag), "label.pdf", "application/pdf",
                                    f"Your return label {e2e.tag}")):
        attachment = upload(e2e, conv, data, name, mime)
        body = {"visibility": "private", "attachment_ids": [attachment["id"]], **reply}
        answer = e2e.api.post(f"/conversations/{conv}/messages",
                              json={"text": body.pop("text", text), **body})
        assert answer.status_code == 201, answer.text
        message = answer.json()
        assert message["attachments"][0]["attachment_id"] == attachment["id"]
        e2e.wait_delivery(conv, message["id"])
        out.append((attachment, message))
    return out


class TestWhatsAppOut:
    def test_image_and_pdf_by_signed_link(self, public: E2E) -> None:
        e2e = public
        config = {"app_secret": "sandbox_app_secret", "verify_token": "vt",
                  "access_token": "EAAG-token", "api_base_url": e2e.sandbox_url("/meta"),
                  "phone_number_id": PHONE_ID}
        account = e2e.account("whatsapp", config)
        wamid = f"wamid.IN{random.randrange(10**14, 10**15)}"
        e2e.post(sm.whatsapp_message_webhook(account, config, text="photo please",
                                             wa_id=f"1650{random.randrange(10**7)}",
                                             wamid=wamid))
        conv, _ = e2e.wait_message(wamid)
        (image, _), (pdf, _) = send_both(e2e, conv["id"])
        [photo_call] = e2e.calls("meta", method="POST", path_contains=f"/{PHONE_ID}/messages",
                                 text=f"Here is the photo {e2e.tag}")
        body = photo_call["json"]
        assert body["type"] == "image" and body["image"]["caption"].startswith("Here is")
        link = body["image"]["link"]
        assert link.startswith(e2e.server.url + "/media/")
        seen = fetched(e2e, link.split("/media/")[1].split("/")[0])
        assert seen["status"] == 200 and seen["content_type"] == "image/jpeg"
        assert seen["sha256"] == served_sha(e2e, image)
        [doc_call] = e2e.calls("meta", method="POST", path_contains=f"/{PHONE_ID}/messages",
                               text="Your return label")
        document = doc_call["json"]["document"]
        assert doc_call["json"]["type"] == "document" and document["filename"] == "label.pdf"
        seen = fetched(e2e, document["link"].split("/media/")[1].split("/")[0])
        assert seen["content_type"] == "application/pdf"
        assert seen["disposition"].startswith("attachment;")
        assert seen["sha256"] == served_sha(e2e, pdf)

    def test_a_30_mb_video_is_refused_naming_the_limit(self, public: E2E) -> None:
        e2e = public
        config = {"app_secret": "sandbox_app_secret", "verify_token": "vt",
                  "access_token": "EAAG-token", "api_base_url": e2e.sandbox_url("/meta"),
                  "phone_number_id": PHONE_ID}
        account = e2e.account("whatsapp", config)
        wamid = f"wamid.IN{random.randrange(10**14, 10**15)}"
        e2e.post(sm.whatsapp_message_webhook(account, config, text="video?",
                                             wa_id=f"1650{random.randrange(10**7)}",
                                             wamid=wamid))
        conv, _ = e2e.wait_message(wamid)
        answer = e2e.api.post(f"/conversations/{conv['id']}/attachments",
                              files={"file": ("clip.mp4", samples.mp4(30 * 1024 * 1024),
                                              "video/mp4")})
        assert answer.status_code == 422
        error = answer.json()["error"]
        assert error["code"] == "media_too_large" and "16 MB" in error["message"]
        assert error["details"]["channel"] == "whatsapp"
        exe = e2e.api.post(f"/conversations/{conv['id']}/attachments",
                           files={"file": ("kitten.jpg", samples.EXE, "image/jpeg")})
        assert exe.status_code == 422 and exe.json()["error"]["code"] == "media_type_refused"


class TestWhatsAppUploadMode:
    def test_without_a_public_url_the_file_is_uploaded_and_sent_by_id(self, e2e: E2E) -> None:
        config = {"app_secret": "sandbox_app_secret", "verify_token": "vt",
                  "access_token": "EAAG-token", "api_base_url": e2e.sandbox_url("/meta"),
                  "phone_number_id": PHONE_ID}
        account = e2e.account("whatsapp", config)
        wamid = f"wamid.IN{random.randrange(10**14, 10**15)}"
        e2e.post(sm.whatsapp_message_webhook(account, config, text="invoice?",
                                             wa_id=f"1650{random.randrange(10**7)}",
                                             wamid=wamid))
        conv, _ = e2e.wait_message(wamid)
        pdf = upload(e2e, conv["id"], samples.pdf(e2e.tag), "invoice.pdf", "application/pdf")
        answer = e2e.api.post(f"/conversations/{conv['id']}/messages", json={
            "text": f"Your invoice {e2e.tag}", "visibility": "private",
            "attachment_ids": [pdf["id"]]})
        assert answer.status_code == 201, answer.text
        e2e.wait_delivery(conv["id"], answer.json()["id"])
        [send] = e2e.calls("meta", method="POST", path_contains=f"/{PHONE_ID}/messages",
                           text=f"Your invoice {e2e.tag}")
        document = send["json"]["document"]
        assert "link" not in document and document["filename"] == "invoice.pdf"
        facts = e2e.http.get(e2e.sandbox_url(f"/meta/v25.0/{document['id']}"),
                             headers={"authorization": "Bearer EAAG-token"}).json()
        assert facts["sha256"] == served_sha(e2e, pdf)
        assert facts["mime_type"] == "application/pdf"


class TestSmsOut:
    def test_an_image_goes_as_media_url(self, public: E2E) -> None:
        from threadline.sandbox.providers import twilio as stw

        e2e = public
        config = {"account_sid": "AC" + "5" * 32, "auth_token": "sandbox-token",
                  "from_number": "+15559870000", "api_base_url": e2e.sandbox_url("/twilio")}
        account = e2e.account("sms", config)
        sid = f"SM{random.randrange(16**32):032x}"
        e2e.post(stw.sms_webhook(account, config, f"+1415{random.randrange(10**7):07d}",
                                 f"photo? {e2e.tag}", message_sid=sid,
                                 base_url=e2e.server.url))
        conv, _ = e2e.wait_message(sid)
        image = upload(e2e, conv["id"], samples.jpeg(), "dent.jpg", "image/jpeg")
        answer = e2e.api.post(f"/conversations/{conv['id']}/messages", json={
            "text": f"Like this? {e2e.tag}", "visibility": "private",
            "attachment_ids": [image["id"]]})
        assert answer.status_code == 201, answer.text
        e2e.wait_delivery(conv["id"], answer.json()["id"])
        [call] = e2e.calls("twilio", method="POST", path_contains="/Messages.json",
                           text=e2e.tag)
        link = call["form"]["MediaUrl"]
        assert link.startswith(e2e.server.url + "/media/")
        fetched_by_twilio = httpx.get(link)
        assert fetched_by_twilio.headers["content-type"] == "image/jpeg"


class TestMessengerOut:
    def test_image_and_pdf_by_signed_link(self, public: E2E) -> None:
        e2e = public
        config = {"app_secret": "sandbox_app_secret", "verify_token": "vt",
                  "access_token": "EAAG-token", "api_base_url": e2e.sandbox_url("/meta"),
                  "page_id": PAGE_ID}
        account = e2e.account("facebook", config)
        psid, mid = str(random.randrange(10**14, 10**15)), f"m_{random.randrange(10**9)}"
        e2e.post(sm.messenger_message_webhook(account, config, text=f"hi {e2e.tag}",
                                              psid=psid, mid=mid))
        conv, _ = e2e.wait_message(mid)
        (image, _), (pdf, _) = send_both(e2e, conv["id"], text="")
        calls = e2e.calls("meta", method="POST", path_contains=f"/{PAGE_ID}/messages",
                          text=psid)
        kinds = {c["json"]["message"]["attachment"]["type"]: c["json"]["message"]["attachment"]
                 for c in calls if "attachment" in c["json"]["message"]}
        assert set(kinds) == {"image", "file"}
        for kind, attachment in (("image", image), ("file", pdf)):
            url = kinds[kind]["payload"]["url"]
            seen = fetched(e2e, url.split("/media/")[1].split("/")[0])
            assert seen["status"] == 200 and seen["sha256"] == served_sha(e2e, attachment)

    def test_text_and_attachment_together_is_refused_with_what_is_allowed(
            self, public: E2E) -> None:
        e2e = public
        config = {"app_secret": "sandbox_app_secret", "verify_token": "vt",
                  "access_token": "EAAG-token", "api_base_url": e2e.sandbox_url("/meta"),
                  "page_id": PAGE_ID}
        account = e2e.account("facebook", config)
        psid, mid = str(random.randrange(10**14, 10**15)), f"m_{random.randrange(10**9)}"
        e2e.post(sm.messenger_message_webhook(account, config, text="hi", psid=psid, mid=mid))
        conv, _ = e2e.wait_message(mid)
        image = upload(e2e, conv["id"], samples.png(), "a.png", "image/png")
        answer = e2e.reply(conv["id"], "look", visibility="private",
                           attachment_ids=[image["id"]])
        assert answer.status_code == 422
        assert answer.json()["error"]["code"] == "attachment_with_text"


class TestTelegramOut:
    def test_send_photo_and_send_document(self, public: E2E) -> None:
        e2e = public
        config = {"bot_token": BOT_TOKEN, "secret_token": "sandbox_secret-1",
                  "api_base_url": e2e.sandbox_url("/telegram")}
        account = e2e.account("telegram", config)
        chat = random.randrange(10**8, 10**9)
        message_id = random.randrange(1000, 10**6)
        e2e.post(stg.telegram_message_webhook(account, config, chat_id=chat, user_id=chat,
                                              text=f"hello bot {e2e.tag}",
                                              message_id=message_id))
        conv, _ = e2e.wait_message(f"{chat}:{message_id}")
        (image, _), (pdf, _) = send_both(e2e, conv["id"])
        files = [f for f in e2e.http.get(e2e.sandbox_url("/telegram/_sandbox/files"))
                 .json()["files"] if f["chat_id"] == chat]
        by_method = {f["method"]: f for f in files}
        assert by_method["photo"]["sha256"] == served_sha(e2e, image)
        assert by_method["photo"]["caption"] == f"Here is the photo {e2e.tag}"
        assert by_method["document"]["sha256"] == served_sha(e2e, pdf)
        assert by_method["document"]["file_name"] == "label.pdf"
        assert by_method["document"]["mime_type"] == "application/pdf"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[DovecotServer]:
    with dovecot_server() as server:
        yield server


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


class TestEmailOut:
    def test_image_and_pdf_as_mime_attachments(self, public: E2E, dovecot: DovecotServer,
                                               smtp: SmtpServer) -> None:
        e2e = public
        mailbox = dovecot.create_mailbox()
        account = e2e.account("email", {**dovecot.account_config(mailbox),
                                        **smtp.account_config(), "poll_interval_seconds": 30})
        raw, message_id = mail_with_pdf(f"Return {e2e.tag}", samples.pdf())
        dovecot.append(raw, mailbox)
        assert e2e.api.post(f"/channel-accounts/{account}/poll").status_code == 202
        conv, _ = e2e.wait_message(message_id)
        (image, _), (pdf, _) = send_both(e2e, conv["id"])
        for attachment, marker in ((image, "Here is the photo"), (pdf, "Your return label")):
            mail = wait_for(lambda marker=marker: next(
                (m for m in smtp.messages if marker.encode() in m.data
                 and e2e.tag.encode() in m.data), None), what="SMTP delivery")
            parts = list(mail.parsed.iter_attachments())
            assert len(parts) == 1
            data = parts[0].get_payload(decode=True)
            assert hashlib.sha256(data).hexdigest() == served_sha(e2e, attachment)
            assert parts[0].get_filename() == attachment["name"]
            assert parts[0].get_content_type() == attachment["mime_type"]
