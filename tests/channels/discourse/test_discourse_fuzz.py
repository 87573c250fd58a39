"""Hypothesis: the Discourse parser (split + normalize) raises only typed channel errors."""

from __future__ import annotations

import contextlib
import copy
import json
from typing import Any

from discourse_helpers import ACCOUNT, fixture, signed, webhook_fixtures
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from threadline.channels.base import ChannelError
from threadline.channels.discourse.adapter import DiscourseAdapter

ADAPTER = DiscourseAdapter()
TEXT = st.text(max_size=30)
SCALAR = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
          | st.floats(allow_nan=False) | TEXT)
JSONISH = st.recursive(
    SCALAR, lambda c: st.lists(c, max_size=4) | st.dictionaries(TEXT, c, max_size=4),
    max_leaves=20)
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEADERS = fixture("post_created_first.json")["headers"]


def _run(body: bytes, headers: dict[str, str] = HEADERS) -> None:
    with contextlib.suppress(ChannelError):
        for event in ADAPTER.split(ACCOUNT, signed(body, headers)):
            json.dumps(event.payload)
            ADAPTER.normalize(ACCOUNT, event.payload)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*prefix, i))
    return found


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(body: bytes) -> None:
    _run(body)


@FUZZ
@given(st.sampled_from(webhook_fixtures()), st.data())
def test_one_field_replaced(name: str, data: st.DataObject) -> None:
    sample = fixture(name)
    body = copy.deepcopy(sample["body"])
    paths = _paths(body)
    path = data.draw(st.sampled_from(paths)) if paths else ()
    value = data.draw(JSONISH)
    if path:
        target = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    _run(json.dumps(body).encode(), sample["headers"])


@FUZZ
@given(st.sampled_from(webhook_fixtures()), TEXT, TEXT)
def test_any_event_headers(name: str, event_type: str, event: str) -> None:
    sample = fixture(name)
    headers = {**sample["headers"], "X-Discourse-Event-Type": event_type,
               "X-Discourse-Event": event}
    _run(json.dumps(sample["body"]).encode(), headers)
