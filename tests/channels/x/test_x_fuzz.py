"""Hypothesis fuzzing of the X parser: split + normalize only ever raise typed ChannelErrors."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from x_helpers import ADAPTER, OWN_ID, fixture_bytes, inbound_fixture_names, make_account

from threadline.channels.base import ChannelError, WebhookRequest

ACCOUNT = make_account()
LOOSE = make_account(user_id="")  # accepts any for_user_id, so mutations reach deeper
FIXTURES = [json.loads(fixture_bytes(name)) for name in inbound_fixture_names()]
EVENT_KEYS = ["tweet_create_events", "direct_message_events", "tweet_delete_events",
              "direct_message_mark_read_events", "favorite_events", "follow_events",
              "unfollow_events", "users"]
FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=30), st.sampled_from(["", "1", OWN_ID, "message_create",
                                                           "1741169700000", "true"]))
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=12) | st.sampled_from(
                                   ["id", "id_str", "user", "text", "type", "target",
                                    "message_create", "sender_id", "status", "timestamp_ms",
                                    "extended_tweet", "full_text", "edit_history",
                                    "retweeted_status", "message_data", "attachment"]),
                                   children, max_size=5)),
    max_leaves=25)


def run(body: bytes) -> None:
    request = WebhookRequest(method="POST", url="https://t/webhooks/x/a", headers={},
                             query={}, body=body)
    for account in (ACCOUNT, LOOSE):
        try:
            events = ADAPTER.split(account, request)
        except ChannelError:
            continue
        for event in events:
            json.dumps(event.payload)
            with contextlib.suppress(ChannelError):
                ADAPTER.normalize(account, event.payload)


def mutate(value: Any, data: st.DataObject, depth: int = 0) -> Any:
    """Replace, drop or keep parts of a fixture, recursively."""
    choice = data.draw(st.integers(0, 9))
    if choice == 0 or depth > 6:
        return data.draw(json_values)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if data.draw(st.integers(0, 7)) == 0:
                continue
            out[key] = mutate(item, data, depth + 1)
        return out
    if isinstance(value, list):
        return [mutate(item, data, depth + 1) for item in value]
    return value


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(body: bytes) -> None:
    run(body)


@FUZZ
@given(json_values)
def test_random_json(value: Any) -> None:
    run(json.dumps(value).encode())


@FUZZ
@given(st.dictionaries(st.sampled_from(EVENT_KEYS), json_values, max_size=3),
       st.sampled_from([OWN_ID, "1", ""]))
def test_random_events_in_a_real_envelope(events: dict[str, Any], user: str) -> None:
    run(json.dumps({"for_user_id": user, **events}).encode())


@FUZZ
@given(st.sampled_from(FIXTURES), st.data())
def test_mutated_fixtures(fixture: dict[str, Any], data: st.DataObject) -> None:
    run(json.dumps(mutate(fixture, data)).encode())


@FUZZ
@given(st.sampled_from(FIXTURES), st.data())
def test_mutated_stored_payloads(fixture: dict[str, Any], data: st.DataObject) -> None:
    payload = mutate(fixture, data)
    if isinstance(payload, dict):
        with contextlib.suppress(ChannelError):
            ADAPTER.normalize(ACCOUNT, payload)
