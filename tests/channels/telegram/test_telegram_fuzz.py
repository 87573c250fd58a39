"""Hypothesis: the Telegram parser (split + normalize) raises only typed channel errors."""

from __future__ import annotations

import contextlib
import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram_helpers import ACCOUNT, fixture, request, update_fixtures

from threadline.channels.base import ChannelError
from threadline.channels.telegram.adapter import TelegramAdapter

ADAPTER = TelegramAdapter()
TEXT = st.text(max_size=30)
SCALAR = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
          | st.floats(allow_nan=False) | TEXT)
JSONISH = st.recursive(
    SCALAR, lambda c: st.lists(c, max_size=4) | st.dictionaries(TEXT, c, max_size=4),
    max_leaves=20)
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _run(body: bytes) -> None:
    with contextlib.suppress(ChannelError):
        for event in ADAPTER.split(ACCOUNT, request(body)):
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
@given(JSONISH)
def test_random_json(value: Any) -> None:
    _run(json.dumps(value).encode())
    _run(json.dumps({"update_id": 1, "message": value}).encode())
    with contextlib.suppress(ChannelError):
        ADAPTER.normalize(ACCOUNT, {"update": value})


@FUZZ
@given(st.sampled_from(update_fixtures()), st.data())
def test_mutated_fixtures(name: str, data: st.DataObject) -> None:
    update = copy.deepcopy(fixture(name))
    paths = _paths(update)
    for path in data.draw(st.lists(st.sampled_from(paths), max_size=3)):
        parent: Any = update
        try:
            for key in path[:-1]:
                parent = parent[key]
            if data.draw(st.booleans()):
                parent[path[-1]] = data.draw(JSONISH)
            elif isinstance(parent, dict):
                parent.pop(path[-1], None)
        except (KeyError, IndexError, TypeError):
            continue
    _run(json.dumps(update).encode())
