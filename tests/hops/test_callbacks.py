"""Acceptance 3: a callback link -> the form -> a Callback task -> the call is placed through
the sandbox's Twilio `Calls.json` -> the call record appears in the timeline with its outcome.
Acceptance 4 (second half): a callback to a number without consent is refused with a typed
error; a revoked consent is honoured before dialling."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.hops.conftest import Hops, wait_for
from threadline.sandbox.providers import twilio as stw

ACCOUNT_SID = "AC" + "2" * 32


def voice_config(hop: Hops) -> dict[str, Any]:
    return {"account_sid": ACCOUNT_SID, "auth_token": "sandbox-token",
            "from_number": "+15559870000", "api_base_url": hop.sandbox_url("/twilio")}


def phone() -> str:
    return f"+1415{random.randrange(10**7):07d}"


def callbacks_of(hop: Hops, conversation_id: str) -> list[dict[str, Any]]:
    answer = hop.api.get("/callbacks", params={"conversation_id": conversation_id})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()
    return items


def wait_state(hop: Hops, conversation_id: str, state: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        found = [c for c in callbacks_of(hop, conversation_id) if c["state"] == state]
        return found[0] if found else None
    return wait_for(probe, what=f"a callback {state}")


def scheduled_callback(hop: Hops, text: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """A complaint, a callback form offered, and the customer's request for a call in two
    hours: (the conversation, the scheduled callback, the number)."""
    _, conv, _ = hop.x_complaint(f"{text} {hop.tag}")
    hop.account("voice", voice_config(hop))
    offer = hop.offer(conv["id"], "callback_form")
    number = phone()
    later = datetime.now(UTC) + timedelta(hours=2)
    done = hop.customer.post(hop.path(offer["url"]), data={
        "phone": number, "consent": "yes", "tz_offset": "0",
        "window_start": later.strftime("%Y-%m-%dT%H:%M"),
        "window_end": (later + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")})
    assert done.status_code == 200, done.text
    [scheduled] = callbacks_of(hop, conv["id"])
    assert scheduled["state"] == "scheduled"
    return conv, scheduled, number


class TestCallbackForm:
    def test_form_to_call_record_in_the_timeline(self, hop: Hops) -> None:
        _, conv, _ = hop.x_complaint(f"@acme I need to talk to someone {hop.tag}")
        config = voice_config(hop)
        voice = hop.account("voice", config)
        offer = hop.offer(conv["id"], "callback_form", reason="practicality")
        hop.wait_delivery(conv["id"], offer["message"]["id"])
        form = hop.customer.get(hop.path(offer["url"]))
        assert form.status_code == 200 and 'name="phone"' in form.text

        number = phone()
        local = number[:2] + " " + number[2:5] + " " + number[5:]  # typed with spaces
        done = hop.customer.post(hop.path(offer["url"]), data={
            "phone": local, "window_start": "", "window_end": "", "tz_offset": "0",
            "consent": "yes"})
        assert done.status_code == 200 and "We will call you" in done.text

        placed = wait_state(hop, conv["id"], "placed")
        assert placed["phone"] == number and placed["call_provider_id"].startswith("CA")
        [call] = [c for c in hop.calls("twilio", method="POST", path_contains="/Calls.json")
                  if c["form"].get("To") == number]
        assert call["form"]["From"] == "+15559870000" and "<Say>" in call["form"]["Twiml"]

        sid = placed["call_provider_id"]
        _, record = hop.wait_message(sid)
        assert record["kind"] == "call" and record["channel"] == "voice"
        assert record["direction"] == "outbound" and record["visibility"] == "private"
        assert record["channel_account_id"] == voice

        # Twilio's status callbacks give the outcome, in the timeline and on the callback.
        for status in ("in-progress", "completed"):
            assert hop.post(stw.call_webhook(voice, config, number, call_sid=sid, status=status,
                                             duration=95 if status == "completed" else None,
                                             direction="outbound-api",
                                             base_url=hop.server.url)).status_code == 200
        done_state = wait_state(hop, conv["id"], "completed")
        assert done_state["outcome"] == "completed"
        final = hop.message(conv["id"], record["id"])
        assert final["delivery"] == "delivered"

        [record_hop] = hop.hops(conv["id"])
        assert record_hop["taken_at"] and record_hop["to_channel"] == "voice"
        # The consent stays with whoever submitted the form (a pending taker, his own
        # customer: the callback's), not with the public author (decision 0103).
        taker = hop.api.get(f"/customers/{done_state['customer_id']}").json()
        assert [(c["kind"], c["address"], c["purpose"]) for c in taker["consents"]] == [
            ("phone", number, "callback")]
        author = hop.api.get(f"/customers/{hop.conversation(conv['id'])['customer']['id']}")
        assert author.json()["consents"] == [] and done_state["customer_id"] != author.json()["id"]

    def test_without_consent_a_callback_is_refused_with_a_typed_error(self, hop: Hops) -> None:
        _, conv, _ = hop.x_complaint(f"@acme call me {hop.tag}")
        hop.account("voice", voice_config(hop))
        before = hop.snapshot()
        answer = hop.api.post(f"/conversations/{conv['id']}/callbacks",
                              json={"phone": phone()})
        assert answer.status_code == 422
        error = answer.json()["error"]
        assert error["code"] == "consent_required"
        assert error["details"]["allowed"] == ["callback_form"]
        assert hop.snapshot() == before

    def test_revoked_consent_is_honoured_before_dialling(self, hop: Hops) -> None:
        conv, scheduled, number = scheduled_callback(hop, "@acme please call")
        customer_id = scheduled["customer_id"]  # the taker's own customer
        [consent] = hop.api.get(f"/customers/{customer_id}").json()["consents"]
        revoked = hop.api.post(f"/customers/{customer_id}/consents/{consent['id']}/revoke")
        assert revoked.status_code == 200
        wait_for(lambda: hop.api.get(f"/customers/{customer_id}").json()["consents"][0][
            "revoked_at"], what="the revocation committed")
        # An agent now asks for a call to that number: refused; the scheduled one is dropped.
        again = hop.api.post(f"/conversations/{conv['id']}/callbacks", json={"phone": number})
        assert again.json()["error"]["code"] == "consent_required"
        assert hop.api.post(f"/callbacks/{scheduled['id']}/place").status_code == 200
        canceled = wait_state(hop, conv["id"], "canceled")
        assert canceled["outcome"] == "consent revoked"
        assert not [c for c in hop.calls("twilio", path_contains="/Calls.json")
                    if c["form"].get("To") == number]


class TestRescheduleAndCancelThroughTheApi:
    def test_reschedule_then_cancel(self, hop: Hops) -> None:
        _, scheduled, number = scheduled_callback(hop, "@acme call me tomorrow")
        start = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
        moved = hop.api.post(f"/callbacks/{scheduled['id']}/reschedule", json={
            "window_start": start.isoformat(),
            "window_end": (start + timedelta(hours=1)).isoformat()})
        assert moved.status_code == 200, moved.text
        assert datetime.fromisoformat(moved.json()["window_start"]) == start
        canceled = hop.api.post(f"/callbacks/{scheduled['id']}/cancel",
                                json={"note": "customer called us himself"})
        assert canceled.status_code == 200 and canceled.json()["state"] == "canceled"
        assert canceled.json()["outcome"] == "canceled: customer called us himself"
        # a canceled callback is neither moved nor canceled again, and nothing is dialled
        again = hop.api.post(f"/callbacks/{scheduled['id']}/reschedule",
                             json={"window_start": start.isoformat()})
        assert again.status_code == 422
        assert again.json()["error"]["code"] == "callback_not_scheduled"
        assert hop.api.post(f"/callbacks/{scheduled['id']}/cancel",
                            json={}).json()["error"]["code"] == "callback_not_scheduled"
        assert not [c for c in hop.calls("twilio", path_contains="/Calls.json")
                    if c["form"].get("To") == number]

    def test_bad_bodies_and_unknown_ids_are_typed_and_change_nothing(self, hop: Hops) -> None:
        conv, scheduled, _ = scheduled_callback(hop, "@acme call me tomorrow")
        before = hop.snapshot()
        for body in ({}, {"window_start": "not a time"}, {"window_start": "x" * 100},
                     {"window_start": "2999-01-01T00:00:00Z", "extra": 1}):
            answer = hop.api.post(f"/callbacks/{scheduled['id']}/reschedule", json=body)
            assert answer.status_code == 422, (body, answer.text)
        assert hop.api.post(f"/callbacks/{scheduled['id']}/cancel",
                            json={"note": "x" * 2001}).status_code == 422
        unknown = "01900000-0000-7000-8000-000000000000"
        assert hop.api.post(f"/callbacks/{unknown}/cancel", json={}).status_code == 404
        assert hop.snapshot() == before
        [still] = callbacks_of(hop, conv["id"])
        assert still["state"] == "scheduled"
