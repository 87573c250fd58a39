"""Inbound media end to end: a WhatsApp photo (Graph media id -> URL -> bytes, bearer token
on both calls, through the sandbox over real HTTP) and an email PDF (a MIME part of a mail
polled from a real Dovecot) are stored by the worker after the event is stored, once each,
and shown in the desktop timeline (thumbnail; file name, size and download link)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.desktop.conftest import desk_for
from tests.e2e.conftest import E2E, wait_for
from tests.mailservers import DovecotServer, SmtpServer, dovecot_server, smtp_server
from tests.media import samples
from threadline.jobs.runtime import Runtime
from threadline.media.models import MediaFile
from threadline.sandbox.providers import meta as sm

PHONE_ID = "106540352242922"


def wa_config(e2e: E2E) -> dict[str, Any]:
    return {"app_secret": "sandbox_app_secret", "verify_token": "vt",
            "access_token": "EAAG-media-token", "api_base_url": e2e.sandbox_url("/meta"),
            "phone_number_id": PHONE_ID}


def phone_uploads(e2e: E2E, data: bytes, mime: str, name: str) -> str:
    """The customer's phone puts the photo on WhatsApp (the sandbox's media upload API)."""
    answer = e2e.http.post(e2e.sandbox_url(f"/meta/v25.0/{PHONE_ID}/media"),
                           headers={"authorization": "Bearer customer-phone"},
                           data={"messaging_product": "whatsapp", "type": mime},
                           files={"file": (name, data, mime)})
    assert answer.status_code == 200, answer.text
    media_id: str = answer.json()["id"]
    return media_id


def stored_attachment(e2e: E2E, provider_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(conversation, attachment entry) once the worker has stored the file."""
    def probe() -> tuple[dict[str, Any], dict[str, Any]] | None:
        conv, message = e2e.wait_message(provider_id)
        found = [a for a in message["attachments"] if a.get("attachment_id")]
        return (conv, found[0]) if found else None
    return wait_for(probe, what="stored attachment")


class TestWhatsAppPhotoIn:
    def test_the_photo_is_fetched_stored_once_and_shown(self, e2e: E2E, runtime: Runtime,
                                                        app: Any, workspace_id: uuid.UUID,
                                                        ) -> None:
        config = wa_config(e2e)
        account = e2e.account("whatsapp", config)
        photo = samples.jpeg(640, 480, exif_gps=True)
        media_id = phone_uploads(e2e, photo, "image/jpeg", "IMG_0001.jpg")
        wamid = f"wamid.IN{random.randrange(10**14, 10**15)}"
        hook = sm.whatsapp_media_webhook(account, config, media_id=media_id,
                                         caption=f"broken on arrival {e2e.tag}",
                                         wa_id=f"1650{random.randrange(10**7)}", wamid=wamid)
        assert e2e.post(hook).status_code == 200
        conv, item = stored_attachment(e2e, wamid)
        assert item["type"] == "image" and item["mime_type"] == "image/jpeg"
        assert item["thumbnail"] is True and (item["width"], item["height"]) == (480, 640)

        # both Graph calls carried the account's bearer token, nothing else did
        [info] = e2e.calls("meta", method="GET", path_contains=f"/v25.0/{media_id}")
        [download] = e2e.calls("meta", method="GET", path_contains="/whatsapp-media/")
        for call in (info, download):
            assert call["headers"]["authorization"] == "Bearer EAAG-media-token"

        facts = e2e.api.get(f"/attachments/{item['attachment_id']}").json()
        served = e2e.http.get(e2e.server.url + facts["url"])
        assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
        assert served.content.startswith(b"\xff\xd8\xff") and b"SpyCam" not in served.content

        # redelivery of the webhook: still one stored file
        assert e2e.post(hook).status_code == 200
        with runtime.db.session(write=False) as session:
            count = session.scalar(select(func.count()).select_from(MediaFile).where(
                MediaFile.provider_media_id == media_id))
        assert count == 1

        desk = desk_for(app, runtime, workspace_id, "agent")
        page = desk.get(f"/conversations/{conv['id']}/timeline")
        assert page.status_code == 200
        assert 'data-role="attachment-image"' in page.text
        assert "/media/" in page.text and "thumbnail.jpg" in page.text

    def test_a_program_sent_as_a_photo_is_not_stored(self, e2e: E2E) -> None:
        config = wa_config(e2e)
        account = e2e.account("whatsapp", config)
        media_id = phone_uploads(e2e, samples.EXE, "image/jpeg", "cat.jpg")
        wamid = f"wamid.IN{random.randrange(10**14, 10**15)}"
        e2e.post(sm.whatsapp_media_webhook(account, config, media_id=media_id, wamid=wamid,
                                           wa_id=f"1650{random.randrange(10**7)}"))

        def refused() -> dict[str, Any] | None:
            _, message = e2e.wait_message(wamid)
            return next((a for a in message["attachments"] if a.get("media_error")), None)
        item = wait_for(refused, what="refusal noted")
        assert "program" in item["media_error"] and not item.get("attachment_id")

    def test_an_unknown_media_id_is_noted_not_stored(self, e2e: E2E) -> None:
        config = wa_config(e2e)
        account = e2e.account("whatsapp", config)
        wamid = f"wamid.IN{random.randrange(10**14, 10**15)}"
        e2e.post(sm.whatsapp_media_webhook(account, config, media_id="999000111",
                                           wamid=wamid, wa_id=f"1650{random.randrange(10**7)}"))

        def noted() -> dict[str, Any] | None:
            _, message = e2e.wait_message(wamid)
            return next((a for a in message["attachments"] if a.get("media_error")), None)
        assert "EAAG-media-token" not in wait_for(noted, what="error noted")["media_error"]


@pytest.fixture(scope="module")
def dovecot() -> Iterator[DovecotServer]:
    with dovecot_server() as server:
        yield server


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


def mail_with_pdf(subject: str, pdf: bytes) -> tuple[bytes, str]:
    msg = EmailMessage()
    msg["From"] = "Jane Doe <jane.doe@example.org>"
    msg["To"] = "support@acme-support.com"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    message_id = make_msgid(domain="example.org")
    msg["Message-ID"] = message_id
    msg.set_content("My invoice is attached.")
    msg.add_attachment(pdf, maintype="application", subtype="pdf",
                       filename="facture-4411.pdf")
    return msg.as_bytes(), message_id


class TestEmailPdfIn:
    def test_the_pdf_part_is_stored_and_served_as_a_download(
            self, e2e: E2E, dovecot: DovecotServer, smtp: SmtpServer, runtime: Runtime,
            app: Any, workspace_id: uuid.UUID) -> None:
        mailbox = dovecot.create_mailbox()
        config = {**dovecot.account_config(mailbox), **smtp.account_config(),
                  "poll_interval_seconds": 30}
        account = e2e.account("email", config)
        pdf = samples.pdf(f"invoice {e2e.tag}")
        raw, message_id = mail_with_pdf(f"Invoice {e2e.tag}", pdf)
        dovecot.append(raw, mailbox)
        assert e2e.api.post(f"/channel-accounts/{account}/poll").status_code == 202
        conv, item = stored_attachment(e2e, message_id)
        assert item["mime_type"] == "application/pdf" and item["name"] == "facture-4411.pdf"
        assert item["size"] == len(pdf) and item["thumbnail"] is False
        facts = e2e.api.get(f"/attachments/{item['attachment_id']}").json()
        served = httpx.get(e2e.server.url + facts["url"])
        assert served.content == pdf
        assert served.headers["content-disposition"].startswith("attachment;")
        desk = desk_for(app, runtime, workspace_id, "agent")
        page = desk.get(f"/conversations/{conv['id']}/timeline")
        assert 'data-role="attachment-file"' in page.text and "facture-4411.pdf" in page.text


class TestTelegramFileIn:
    def test_a_photo_is_fetched_with_get_file(self, e2e: E2E) -> None:
        from threadline.sandbox.providers import telegram as stg

        config = {"bot_token": "123456:ABC-media_bot", "secret_token": "sandbox_secret-1",
                  "api_base_url": e2e.sandbox_url("/telegram")}
        account = e2e.account("telegram", config)
        chat = random.randrange(10**8, 10**9)
        file_id = stg.put_file(samples.png(120, 80), "image/png", "pic.png")
        message_id = random.randrange(1000, 10**6)
        e2e.post(stg.telegram_file_webhook(account, config, chat, chat, file_id,
                                           caption=f"see {e2e.tag}", message_id=message_id))
        _, item = stored_attachment(e2e, f"{chat}:{message_id}")
        assert item["mime_type"] == "image/png" and (item["width"], item["height"]) == (120, 80)
        [call] = e2e.calls("telegram", method="POST", path_contains="/getFile", text=file_id)
        assert call["json"] == {"file_id": file_id}


class TestMmsIn:
    def test_an_mms_picture_is_fetched_with_basic_auth_and_the_redirect(self,
                                                                        e2e: E2E) -> None:
        from threadline.sandbox.providers import twilio as stw

        account_sid = "AC" + "2" * 32
        config = {"account_sid": account_sid, "auth_token": "sandbox-token",
                  "from_number": "+15559870000", "api_base_url": e2e.sandbox_url("/twilio")}
        account = e2e.account("sms", config)
        url = stw.put_mms_media(e2e.sandbox.url, samples.jpeg(200, 100), "image/jpeg",
                                account_sid)
        sid = f"MM{random.randrange(16**32):032x}"
        hook = stw.sms_webhook(account, config, f"+1415{random.randrange(10**7):07d}",
                               f"the dent {e2e.tag}", message_sid=sid,
                               base_url=e2e.server.url, media=[(url, "image/jpeg")])
        assert e2e.post(hook).status_code == 200
        _, item = stored_attachment(e2e, sid)
        assert item["mime_type"] == "image/jpeg" and item["width"] == 200
        [media_call] = e2e.calls("twilio", method="GET", path_contains=url.split("/twilio")[1])
        assert media_call["headers"]["authorization"].startswith("Basic ")
        [storage] = e2e.calls("twilio", method="GET", path_contains="/storage/")
        assert "authorization" not in storage["headers"]

    def test_credentials_never_go_to_another_url(self) -> None:
        import httpx

        from threadline.channels.base import AccountConfig, Attachment, PermanentSendError
        from threadline.channels.twilio.adapter import SmsAdapter

        account = AccountConfig(id="a", kind="sms", name="sms", config={
            "account_sid": "AC" + "3" * 32, "auth_token": "secret-token"})
        for url in ("https://evil.example/2010-04-01/Accounts/AC" + "3" * 32 + "/Messages/MM"
                    + "0" * 32 + "/Media/ME" + "0" * 32,
                    "https://api.twilio.com/2010-04-01/Accounts/AC" + "4" * 32 + "/Messages/MM"
                    + "0" * 32 + "/Media/ME" + "0" * 32,
                    "https://api.twilio.com/2010-04-01/Accounts/AC" + "3" * 32 + "/../x"):
            with httpx.Client() as http, pytest.raises(PermanentSendError) as refused:
                SmsAdapter().fetch_media(account, Attachment(type="image", url=url), http,
                                         max_bytes=1000)
            assert refused.value.code == "unsafe_url"
