"""Acceptance 4: expired, forged and reused links show a clear page and change nothing (every
hop-related table of the workspace is compared before and after); bad form values show the
form again and change nothing; a stranger who reads the public post cannot use its code to
write into the case once it has been taken."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from tests.hops.conftest import Hops, wait_for
from threadline.db.base import utcnow
from threadline.hops.records.links import hash_code
from threadline.hops.records.models import ShortLink
from threadline.webchat import tokens

CHAT_FORM = {"name": "Jane", "email": "", "question": "", "consent": "yes"}


def chat_offer(hop: Hops) -> tuple[dict[str, Any], str, str]:
    _, conv, _ = hop.x_complaint(f"@acme my order {hop.tag}")
    chat = hop.account("webchat", {}, name="chat")
    offer = hop.offer(conv["id"], "chat_link")
    hop.wait_delivery(conv["id"], offer["message"]["id"])
    return conv, hop.path(offer["url"]), chat


def assert_refused(hop: Hops, path: str, status: int, heading: str,
                   form: dict[str, str] | None = None) -> None:
    before = hop.snapshot()
    for answer in (hop.customer.get(path), hop.customer.post(path, data=form or CHAT_FORM)):
        assert answer.status_code == status, answer.text
        assert heading in answer.text and 'name="consent"' not in answer.text
        assert answer.headers["cache-control"] == "no-store"
    assert hop.snapshot() == before


class TestRefusedLinks:
    def test_forged_link(self, hop: Hops) -> None:
        chat_offer(hop)
        assert_refused(hop, f"/s/{secrets.token_urlsafe(18)}", 404, "This link is not valid")
        assert_refused(hop, "/s/" + "A" * 300, 404, "This link is not valid")

    def test_expired_link(self, hop: Hops) -> None:
        _, path, _ = chat_offer(hop)
        code = path.rsplit("/", 1)[1]
        with hop.runtime.db.session() as session:
            session.execute(update(ShortLink).where(ShortLink.code_hash == hash_code(code))
                            .values(expires_at=utcnow() - timedelta(minutes=1)))
        assert_refused(hop, path, 410, "This link has expired")

    def test_reused_link(self, hop: Hops) -> None:
        conv, path, _ = chat_offer(hop)
        first = hop.customer.post(path, data={**CHAT_FORM, "question": f"hello {hop.tag}"})
        assert first.status_code == 200
        wait_for(lambda: any(m["text"] == f"hello {hop.tag}"
                             for m in hop.conversation(conv["id"])["messages"]),
                 what="the question in the conversation")
        assert_refused(hop, path, 410, "This link has been used already")

    def test_the_private_session_code_opens_no_page(self, hop: Hops) -> None:
        _, path, chat = chat_offer(hop)
        answer = hop.customer.post(path, data=CHAT_FORM)
        visitor_token, _ = hop.handoff(answer.text)
        visitor = tokens.read(hop.runtime.settings.resolved_secret_key(), visitor_token, chat,
                              max_age=3600)
        assert visitor.link_token and visitor.link_token != path.rsplit("/", 1)[1]
        assert_refused(hop, f"/s/{visitor.link_token}", 404, "This link is not valid")


class TestBadForms:
    def test_missing_consent_or_bad_phone_shows_the_form_again(self, hop: Hops) -> None:
        _, conv, _ = hop.x_complaint(f"@acme call me {hop.tag}")
        hop.account("voice", {"account_sid": "AC" + "3" * 32, "auth_token": "t",
                              "from_number": "+15559870000",
                              "api_base_url": hop.sandbox_url("/twilio")})
        offer = hop.offer(conv["id"], "callback_form")
        hop.wait_delivery(conv["id"], offer["message"]["id"])  # nothing left in flight
        path = hop.path(offer["url"])
        before = hop.snapshot()
        for form, words in (({"phone": "+14155550100"}, "tick the box"),
                            ({"phone": "not a phone", "consent": "yes"}, "country code"),
                            ({"phone": "+14155550100", "consent": "yes",
                              "window_start": "2020-01-01T10:00",
                              "window_end": "2020-01-01T09:00"}, "time window")):
            answer = hop.customer.post(path, data=form)
            assert answer.status_code == 422 and words in answer.text
            assert 'name="phone"' in answer.text  # the form again, with what he typed
        assert hop.snapshot() == before
        assert hop.customer.get(path).status_code == 200  # still usable


class TestStranger:
    def test_public_code_after_it_was_taken_cannot_write_into_the_case(self,
                                                                       hop: Hops) -> None:
        conv, path, chat = chat_offer(hop)
        code = path.rsplit("/", 1)[1]
        assert hop.customer.post(path, data=CHAT_FORM).status_code == 200
        # A stranger reads the public reply and goes to the web chat API with the code.
        session = hop.http.post(f"{hop.server.url}/webchat/{chat}/session",
                                json={"link_token": code,
                                      "question": f"stranger here {hop.tag}"})
        if session.status_code == 201:
            def elsewhere() -> str | None:
                for item in hop.conversations():
                    detail = hop.conversation(item["id"])
                    if any(m["text"] == f"stranger here {hop.tag}"
                           for m in detail["messages"]):
                        return str(item["id"])
                return None
            assert wait_for(elsewhere, what="the stranger's message") != conv["id"]
        else:  # the web chat refuses a used code outright
            assert session.status_code in (404, 410, 422)
        assert all(m["text"] != f"stranger here {hop.tag}"
                   for m in hop.conversation(conv["id"])["messages"])
