"""WhatsApp message templates at the adapter: the listing follows `paging.next` on the
Graph host only, maps unknown statuses and categories to UNKNOWN, leaves unreadable entries
out; variables are read, filled and sent with their names; the template status webhook
becomes one stored event and one notice item (never a customer message)."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from tests.channels.whatsapp.wa_helpers import BASE, account, adapter, fixture_bytes, parse, post
from threadline.channels.base import InboundMessage, PermanentSendError, RetryableSendError
from threadline.channels.whatsapp import templates as wa
from threadline.channels.whatsapp.adapter import TEMPLATE_NOTICE

WABA = "102290129340398"
LIST = f"{BASE}/v25.0/{WABA}/message_templates"


def _account():  # the helpers' account with its business account id
    acc = account()
    return type(acc)(id=acc.id, kind=acc.kind, name=acc.name,
                     config={**acc.config, "waba_id": WABA}, urls=acc.urls)


def _page() -> dict:
    data: dict = json.loads(fixture_bytes("answers/message_templates_page.json"))
    return data


class TestListing:
    def test_pages_are_followed_and_statuses_mapped(self) -> None:
        first = _page()
        second = {"data": [{"name": "late_one", "language": "es", "status": "approved",
                            "category": "UTILITY", "id": "42",
                            "components": [{"type": "BODY", "text": "Hola"}]},
                           {"name": "No Name!", "language": "es"}, "junk"]}
        with respx.mock(assert_all_called=True) as mock:
            route = mock.get(LIST).mock(side_effect=[httpx.Response(200, json=first),
                                                     httpx.Response(200, json=second)])
            found = wa.list_templates(_account(), httpx.Client())
        assert route.call_count == 2
        assert route.calls[0].request.headers["authorization"] == "Bearer EAAG-sys-token"
        assert "after=MgZDZD" in str(route.calls[1].request.url)
        assert [(t.name, t.language, t.status, t.category) for t in found] == [
            ("order_update", "en_US", "APPROVED", "UTILITY"),
            ("welcome_back", "pt_BR", "PAUSED", "MARKETING"),
            ("otp_code", "en", "UNKNOWN", "AUTHENTICATION"),
            ("late_one", "es", "APPROVED", "UTILITY")]
        assert found[0].provider_id == "1134982641564203"

    def test_a_next_page_elsewhere_is_not_followed(self) -> None:
        page = {**_page(), "paging": {"next": "https://evil.example/steal?after=1"}}
        with respx.mock(assert_all_called=False) as mock:
            mock.get(LIST).respond(json=page)
            evil = mock.get("https://evil.example/steal")
            with pytest.raises(PermanentSendError) as refused:
                wa.list_templates(_account(), httpx.Client())
        assert refused.value.code == "unsafe_url" and not evil.called

    def test_endless_paging_stops(self) -> None:
        page = {"data": [], "paging": {"next": LIST + "?after=again"}}
        with respx.mock() as mock:
            mock.get(LIST).respond(json=page)
            with pytest.raises(PermanentSendError) as refused:
                wa.list_templates(_account(), httpx.Client())
        assert refused.value.code == "too_many_pages"

    @pytest.mark.parametrize(("answer", "error"), [
        (httpx.Response(500), RetryableSendError),
        (httpx.Response(429), RetryableSendError),
        (httpx.Response(400, json={"error": {"code": 100, "message": "bad"}}),
         PermanentSendError),
        (httpx.Response(200, json={"no": "data"}), PermanentSendError),
        (httpx.Response(200, text="not json"), PermanentSendError),
    ])
    def test_failures_are_typed(self, answer: httpx.Response, error: type) -> None:
        with respx.mock() as mock:
            mock.get(LIST).mock(return_value=answer)
            with pytest.raises(error):
                wa.list_templates(_account(), httpx.Client())

    def test_the_waba_id_is_numeric(self) -> None:
        acc = _account()
        bad = type(acc)(id=acc.id, kind=acc.kind, name=acc.name,
                        config={**acc.config, "waba_id": "../me"}, urls=acc.urls)
        with pytest.raises(PermanentSendError):
            wa.list_templates(bad, httpx.Client())


class TestVariables:
    def test_positional_and_named(self) -> None:
        body = "Hi {{1}}, order {{2}}; again {{1}}. {{ first_name }}"
        assert wa.variables(body) == ["1", "2", "first_name"]
        assert wa.fill(body, {"1": "Jo", "2": "#9"}) == \
            "Hi Jo, order #9; again Jo. {{ first_name }}"
        assert wa.body_parameters(["1", "first_name"], {"1": "a", "first_name": "b"}) == [
            {"type": "text", "text": "a"},
            {"type": "text", "text": "b", "parameter_name": "first_name"}]

    def test_body_of_either_case(self) -> None:
        assert wa.body_text([{"type": "body", "text": "x"}]) == "x"
        assert wa.body_text([{"type": "HEADER", "text": "h"}]) == ""


class TestStatusWebhook:
    def test_one_event_and_a_notice(self) -> None:
        [event] = adapter.split(account(), post(fixture_bytes("template_status_update.json")))
        assert event.provider_event_id == "template:1689556908129835:REJECTED:1751247548.0"
        [item] = parse(fixture_bytes("template_status_update.json"))
        assert isinstance(item, InboundMessage) and item.text == ""
        assert item.meta[TEMPLATE_NOTICE] == {
            "provider_id": "1689556908129835", "name": "abandoned_cart", "language": "en",
            "status": "REJECTED", "reason": "INVALID_FORMAT"}

    def test_an_unknown_event_is_unknown(self) -> None:
        body = fixture_bytes("template_status_update.json").replace(b'"REJECTED"',
                                                                     b'"SOMETHING_NEW"')
        [item] = parse(body)
        assert isinstance(item, InboundMessage)
        assert item.meta[TEMPLATE_NOTICE]["status"] == "UNKNOWN"
