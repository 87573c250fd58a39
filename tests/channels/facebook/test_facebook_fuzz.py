"""Hypothesis fuzzing of the Facebook parser: only typed ChannelErrors may escape."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from fb_helpers import account, adapter, fixture_bytes, fixture_names, json_values, mutate, post
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from threadline.channels.base import ChannelError

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(body: bytes) -> None:
    acc = account()
    try:
        events = adapter.split(acc, post(body))
    except ChannelError:
        return
    for event in events:
        json.dumps(event.payload)
        with contextlib.suppress(ChannelError):
            adapter.normalize(acc, event.payload)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(body: bytes) -> None:
    run(body)


@FUZZ
@given(json_values)
def test_random_json(value: Any) -> None:
    run(json.dumps(value).encode())


@FUZZ
@given(st.sampled_from(fixture_names()), st.data())
def test_mutated_fixtures(name: str, data: st.DataObject) -> None:
    run(json.dumps(mutate(json.loads(fixture_bytes(name)), data)).encode())


@FUZZ
@given(json_values)
def test_normalize_random_payloads(value: Any) -> None:
    for payload in ({"messaging": value}, {"field": "feed", "value": value}, value):
        with contextlib.suppress(ChannelError):
            adapter.normalize(account(), payload if isinstance(payload, dict) else {"x": payload})
