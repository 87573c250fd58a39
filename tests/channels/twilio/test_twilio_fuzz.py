"""Hypothesis: the Twilio parsers (split + normalize) raise only typed channel errors."""

from __future__ import annotations

import contextlib
import json
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio_helpers import SMS, VOICE, fixture, fixture_names

from threadline.channels.base import ChannelError, WebhookRequest
from threadline.channels.twilio.adapter import SmsAdapter, VoiceAdapter

ADAPTERS = [(SmsAdapter(), SMS), (VoiceAdapter(), VOICE)]
EVENT_FIXTURES = [n for n in fixture_names() if "params" in fixture(n) and "url" in fixture(n)]
TEXT = st.text(max_size=40)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children,
                                                                       max_size=4),
    max_leaves=20)
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _run(body: bytes, content_type: str = "application/x-www-form-urlencoded") -> None:
    request = WebhookRequest("POST", "https://e.com/w", {"content-type": content_type}, {}, body)
    for adapter, account in ADAPTERS:
        try:
            for event in adapter.split(account, request):
                json.dumps(event.payload)
                adapter.normalize(account, event.payload)
        except ChannelError:
            pass


def _normalize(payload: Any) -> None:
    for adapter, account in ADAPTERS:
        with contextlib.suppress(ChannelError):
            adapter.normalize(account, payload)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(body: bytes) -> None:
    _run(body)
    _run(body, "application/json")


@FUZZ
@given(JSONISH)
def test_random_json(value: Any) -> None:
    _run(json.dumps(value).encode(), "application/json")
    _normalize(value)
    _normalize({"type": "message", "params": value, "received_at": value})


@FUZZ
@given(st.sampled_from(EVENT_FIXTURES), st.data())
def test_mutated_fixtures(name: str, data: st.DataObject) -> None:
    params: dict[str, str] = dict(fixture(name)["params"])
    for key in data.draw(st.lists(st.sampled_from(sorted(params)), max_size=4)):
        params.pop(key, None)
    for key in data.draw(st.lists(st.sampled_from(sorted(fixture(name)["params"])), max_size=4)):
        params[key] = data.draw(TEXT | st.integers().map(str))
    _run(urlencode(params).encode())
    _run(json.dumps(params).encode(), "application/json")
    for stored_type in ("message", "status", "call"):
        _normalize({"type": stored_type, "params": params, "received_at": data.draw(
            st.sampled_from(["2025-03-05T10:00:00Z", "2025-03-05T10:00:00", "nonsense"]))})
