"""Inbound media in X DMs. The adapter's fetch (respx, this adapter alone): a DM's file on
ton.twitter.com is fetched with an OAuth 1.0a signature made for that URL, a tweet's public
photo with no credential, anything else refused before a byte is sent. End to end (the
sandbox over real HTTP, the worker, the desktop): a DM with a photo arrives and the photo is
in the timeline, once."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import respx
from sqlalchemy import func, select
from x_helpers import ADAPTER, make_account

from tests.channels.x.dm_media import dm_with_photo, settled_attachment, snowflake, x_config
from tests.desktop.conftest import desk_for
from tests.e2e import conftest as e2e_fixtures
from tests.e2e.conftest import E2E
from tests.media import samples
from threadline.channels.base import (
    Attachment,
    PermanentSendError,
    RetryableSendError,
    UrlPolicy,
)
from threadline.channels.x import oauth
from threadline.jobs.runtime import Runtime
from threadline.media.models import MediaFile

TON = "https://ton.twitter.com/1.1/ton/data/dm/1897000000000000700/1897000000000000701/Fake2.jpg"
PHOTO = samples.jpeg(64, 48)
e2e = e2e_fixtures.e2e  # the end-to-end fixture, for this module


def params_of(header: str) -> dict[str, str]:
    assert header.startswith("OAuth ")
    return {k: unquote(v) for k, v in re.findall(r'(\w+)="([^"]*)"', header)}


def signature_ok(header: str, url: str, consumer_secret: str, token_secret: str) -> bool:
    params = params_of(header)
    given = params.pop("oauth_signature")
    base = oauth.signature_base_string("GET", url, params.items())
    return given == oauth.hmac_sha1_signature(base, consumer_secret, token_secret)


def fetch(url: str, **config: object) -> Any:
    account = make_account(**config)
    with httpx.Client() as http:
        return ADAPTER.fetch_media(account, Attachment(type="image", url=url),
                                   http, max_bytes=1024 * 1024)


class TestFetch:
    @respx.mock
    def test_a_dm_file_is_fetched_with_an_oauth1_signature_for_its_url(self) -> None:
        route = respx.get(TON).mock(return_value=httpx.Response(
            200, content=PHOTO, headers={"content-type": "image/jpeg"}))
        got = fetch(TON)
        assert got.data == PHOTO and got.mime_type == "image/jpeg" and got.name == "Fake2.jpg"
        header = route.calls.last.request.headers["authorization"]
        assert params_of(header)["oauth_token"] == "2244994945-at"
        assert signature_ok(header, TON, "test_consumer_secret", "ats")

    @respx.mock
    def test_a_tweet_photo_is_public_and_gets_no_credential(self) -> None:
        url = "https://pbs.twimg.com/media/Fake1.jpg"
        route = respx.get(url).mock(return_value=httpx.Response(200, content=PHOTO))
        assert fetch(url).data == PHOTO
        assert "authorization" not in route.calls.last.request.headers

    @pytest.mark.parametrize("url", [
        "http://ton.twitter.com/1.1/ton/data/dm/1/2/a.jpg",  # not https
        "https://ton.twitter.com:8443/1.1/ton/data/dm/1/2/a.jpg",  # a port
        "https://user@ton.twitter.com/1.1/ton/data/dm/1/2/a.jpg",  # user info
        "https://ton.twitter.com.evil.example/1.1/ton/a.jpg",  # look-alike host
        "https://169.254.169.254/latest/meta-data/",  # metadata address
        "https://api.x.com/2/users/me",  # X, but not a media host
        "file:///etc/passwd", "", "https://[::1/a.jpg",
    ])
    def test_any_other_url_is_refused_before_a_byte_is_sent(self, url: str) -> None:
        with respx.mock(assert_all_called=False) as router:
            router.route().mock(return_value=httpx.Response(200, content=PHOTO))
            with pytest.raises(PermanentSendError) as caught:
                fetch(url)
        assert caught.value.code == "unsafe_url"
        assert not router.calls

    def test_an_account_without_oauth1_keys_cannot_fetch_dm_media(self) -> None:
        with respx.mock(assert_all_called=False) as router:
            router.route().mock(return_value=httpx.Response(200, content=PHOTO))
            with pytest.raises(PermanentSendError) as caught:
                fetch(TON, consumer_key="", access_token="", access_token_secret="",
                      bearer_token="AAAA-bearer")
        assert caught.value.code == "account_misconfigured"
        assert "missing consumer_key, access_token" in caught.value.message
        assert not router.calls

    @respx.mock
    def test_a_file_not_there_yet_is_retried(self) -> None:
        respx.get(TON).mock(return_value=httpx.Response(404))
        with pytest.raises(RetryableSendError):
            fetch(TON)

    def test_the_sandbox_origin_is_signed_only_when_custom_urls_are_allowed(self) -> None:
        url = "http://127.0.0.1:9/x/1.1/ton/data/dm/1/2/a.jpg"
        strict = make_account(api_base_url="https://api.x.com")
        custom = make_account(api_base_url="http://127.0.0.1:9/x")
        custom = type(custom)(id=custom.id, kind=custom.kind, name=custom.name,
                              config=custom.config, urls=UrlPolicy(allow_custom=True))
        with respx.mock(assert_all_called=False) as router:
            route = router.get(url).mock(return_value=httpx.Response(200, content=PHOTO))
            with httpx.Client() as http:
                with pytest.raises(PermanentSendError):
                    ADAPTER.fetch_media(strict, Attachment(type="image", url=url), http,
                                        max_bytes=99_999)
                assert not route.called
                got = ADAPTER.fetch_media(custom, Attachment(type="image", url=url), http,
                                          max_bytes=99_999)
        assert got.data == PHOTO
        assert route.calls.last.request.headers["authorization"].startswith("OAuth ")


class TestDmPhotoEndToEnd:
    def test_a_dm_photo_arrives_and_is_in_the_timeline(
            self, e2e: E2E, runtime: Runtime, app: Any, workspace_id: uuid.UUID) -> None:
        photo = samples.jpeg(320, 240, exif_gps=True)
        account, event_id, media_id, config = dm_with_photo(e2e, photo)
        conv, message, item = settled_attachment(e2e, event_id)
        assert message["visibility"] == "private" and message["text"].startswith("the box")
        assert item.get("attachment_id"), item
        assert item["type"] == "image" and item["mime_type"] == "image/jpeg"
        assert item["thumbnail"] is True and (item["width"], item["height"]) == (240, 320)

        # one GET on the ton path, signed with the account's OAuth 1.0a user context
        [call] = e2e.calls("x", method="GET", path_contains=f"/1.1/ton/data/dm/{event_id}/")
        url = e2e.sandbox_url("/x") + call["path"]
        header = call["headers"]["authorization"]
        assert params_of(header)["oauth_token"] == config["access_token"]
        assert signature_ok(header, url, config["consumer_secret"],
                            config["access_token_secret"])

        facts = e2e.api.get(f"/attachments/{item['attachment_id']}").json()
        served = e2e.http.get(e2e.server.url + facts["url"])
        assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
        assert b"SpyCam" not in served.content  # EXIF (GPS, camera) removed

        desk = desk_for(app, runtime, workspace_id, "agent")
        page = desk.get(f"/conversations/{conv['id']}/timeline")
        assert page.status_code == 200
        assert 'data-role="attachment-image"' in page.text and "thumbnail.jpg" in page.text

        # X redelivers the event: still one stored file, no second download
        hook_again = e2e.post(_redelivery(e2e, account, config, event_id, media_id))
        assert hook_again.status_code == 200
        with runtime.db.session(write=False) as session:
            count = session.scalar(select(func.count()).select_from(MediaFile).where(
                MediaFile.provider_media_id == media_id))
        assert count == 1

    def test_an_account_with_only_a_bearer_token_notes_why(self, e2e: E2E) -> None:
        config = x_config(e2e, consumer_key="", access_token="", access_token_secret="",
                          bearer_token="AAAA-sandbox-bearer")
        _, event_id, _, _ = dm_with_photo(e2e, PHOTO, config=config)
        _, _, item = settled_attachment(e2e, event_id)
        assert not item.get("attachment_id")
        assert "missing consumer_key, access_token" in item["media_error"]
        assert "AAAA-sandbox-bearer" not in item["media_error"]
        assert not e2e.calls("x", method="GET", path_contains=f"/1.1/ton/data/dm/{event_id}/")


    def test_a_dm_whose_media_url_points_elsewhere_is_noted_and_not_fetched(
            self, e2e: E2E) -> None:
        from threadline.sandbox.providers import x as sx

        config = x_config(e2e)
        account = e2e.account("x", config)
        event_id, media_id = snowflake(), snowflake()
        hostile = {"id_str": media_id, "type": "photo",  # Threadline itself, not X's media host
                   "media_url_https": e2e.server.url + "/api/v1/channel-accounts"}
        hook = sx.dm_webhook(account, config, event_id, "987654321", "mallory",
                             f"look {e2e.tag}", media=hostile)
        assert e2e.post(hook).status_code == 200
        _, message, item = settled_attachment(e2e, event_id)
        assert not item.get("attachment_id") and "not an X media URL" in item["media_error"]
        assert message["text"] == f"look {e2e.tag}"


class TestSandboxTon:
    def test_dm_media_is_served_only_to_an_oauth1_signed_get(self, e2e: E2E) -> None:
        from threadline.sandbox.providers import x as sx

        media_id = snowflake()
        sx.put_dm_media(PHOTO, "image/jpeg", media_id)
        url = sx.dm_media(e2e.sandbox.url, snowflake(), media_id)["media_url_https"]
        assert e2e.http.get(url).status_code == 401
        assert e2e.http.get(url, headers={"authorization": "Bearer AAAA"}).status_code == 401
        signed = oauth.oauth1_header("GET", url, consumer_key="ck", consumer_secret="cs",
                                     token="1-t", token_secret="ts")
        answer = e2e.http.get(url, headers={"authorization": signed})
        assert answer.status_code == 200 and answer.content == PHOTO
        gone = url.replace(media_id, snowflake())
        assert e2e.http.get(gone, headers={"authorization": signed}).status_code == 404


def _redelivery(e2e: E2E, account: str, config: dict[str, Any], event_id: str,
                media_id: str) -> Any:
    from threadline.sandbox.providers import x as sx

    media = sx.dm_media(e2e.sandbox.url, event_id, media_id, "IMG_2211.jpg")
    return sx.dm_webhook(account, config, event_id, "123456789", "jane_doe", "again",
                         media=media)
