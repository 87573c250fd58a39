"""Credentials go only where they belong (docs/decisions/0102-provider-hosts.md).

Unit tests of the URL and host checks, then end to end over real HTTP: Threadline under
uvicorn, the provider sandbox for inbound webhooks, and a capture server on 127.0.0.1 that
records every request it gets (the attacker's listener).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from tests.conftest import make_token
from tests.desktop.conftest import desk_for
from tests.e2e.conftest import E2E
from tests.factories import api_account, message_event, post_events
from threadline.channels.base import (
    MAX_REASON_CHARS,
    AccountConfig,
    ChannelError,
    PermanentSendError,
)
from threadline.channels.urls import (
    ProviderHosts,
    UrlPolicy,
    UrlRefused,
    check_endpoint,
    check_host,
    check_provider_base,
)
from threadline.channels.x.outbound import X_API
from threadline.events.models import AuditEvent
from threadline.jobs.runtime import Runtime
from threadline.sandbox.providers import telegram as stg
from threadline.sandbox.providers import x as sx
from threadline.workspace.models import ChannelAccount

CUSTOM = UrlPolicy(allow_custom=True)
STRICT = UrlPolicy()
OWN_X_ID = "2244994945"
X_TOKEN = f"{OWN_X_ID}-Zq8sEcReTaCcEsStOkEn"
BOT_TOKEN = "7000001:AAH-sEcReT_bOt-ToKeN-0123456789"
MIB = 1024 * 1024


def public(*addresses: str) -> Callable[[str], list[str]]:
    return lambda host: list(addresses)


# --- unit: the checks -------------------------------------------------------------------------


class TestProviderBase:
    @pytest.mark.parametrize(("value", "expected"), [
        (None, "https://api.x.com"), ("", "https://api.x.com"),
        ("https://api.x.com", "https://api.x.com"), ("https://api.x.com/", "https://api.x.com"),
        ("https://api.twitter.com", "https://api.twitter.com"),
        ("HTTPS://API.X.COM", "https://api.x.com"),  # DNS names are case-insensitive
    ])
    def test_official_hosts_are_accepted(self, value: str | None, expected: str) -> None:
        assert check_provider_base(value, X_API, STRICT) == expected

    @pytest.mark.parametrize("value", [
        "http://api.x.com",  # no TLS
        "https://evil.example", "https://api.x.com.evil.example", "https://evilapi.x.com",
        "file:///etc/passwd", "gopher://api.x.com/", "ftp://api.x.com", "//api.x.com",
        "https://api.x.com@evil.example", "https://user:pw@api.x.com",  # user info
        "https://evil.example#@api.x.com", "https://evil.example?@api.x.com",
        "https://api.x.com\\@evil.example", "https://api.x.com%2f@evil.example",
        "https://api.x.com:8443", "https://api.x.com:443", "https://api.x.com:99999",
        "https://api.x.com.",  # trailing dot
        "https://api.x.com/2/../../evil", "https://api.x.com/x", "https://api.x.com?a=1",
        "https://аpi.x.com",  # Cyrillic "а"
        "https://xn--pi-7ld.x.com", "https://api.x.com\u3002", "https://api.x\uff0ecom",
        " https://api.x.com", "https://api.x.com\n", "https://api.x.com\x00.evil",
        "https://127.0.0.1", "https://[::1]", "https://2130706433",
        "x" * 3000, 42, ["https://api.x.com"],
    ])
    def test_anything_else_is_refused(self, value: Any) -> None:
        with pytest.raises(UrlRefused):
            check_provider_base(value, X_API, STRICT)

    def test_the_setting_allows_a_sandbox_but_never_another_scheme(self) -> None:
        assert check_provider_base("http://127.0.0.1:8001/x/", X_API, CUSTOM) == (
            "http://127.0.0.1:8001/x")
        for value in ("file:///etc/passwd", "gopher://127.0.0.1:6379/_x",
                      "http://user:pw@127.0.0.1/x"):
            with pytest.raises(UrlRefused):
                check_provider_base(value, X_API, CUSTOM)

    def test_each_provider_knows_its_hosts(self) -> None:
        from threadline.channels.registry import get_adapter

        official = {kind: getattr(get_adapter(kind), "provider_hosts", None)
                    for kind in ("x", "facebook", "messenger", "instagram", "whatsapp", "sms",
                                 "voice", "telegram")}
        assert {k: v.default for k, v in official.items() if v} == {
            "x": "https://api.x.com", "facebook": "https://graph.facebook.com",
            "messenger": "https://graph.facebook.com",
            "instagram": "https://graph.facebook.com",
            "whatsapp": "https://graph.facebook.com", "sms": "https://api.twilio.com",
            "voice": "https://api.twilio.com", "telegram": "https://api.telegram.org"}
        instagram = official["instagram"]
        assert isinstance(instagram, ProviderHosts)
        assert check_provider_base("https://graph.instagram.com", instagram, STRICT)
        facebook = official["facebook"]
        assert isinstance(facebook, ProviderHosts)
        with pytest.raises(UrlRefused):
            check_provider_base("https://graph.instagram.com", facebook, STRICT)


class TestEndpoint:
    def test_public_https_is_accepted(self) -> None:
        url = "https://crm.example.com:8443/threadline/out?x=1"
        assert check_endpoint(url, STRICT, resolve=public("93.184.216.34")) == url

    @pytest.mark.parametrize("address", [
        "127.0.0.1", "127.8.9.10", "10.0.0.5", "172.16.0.1", "192.168.1.1", "0.0.0.0",
        "169.254.169.254",  # cloud metadata
        "100.100.100.200",  # Alibaba metadata (shared address space)
        "::1", "::", "fe80::1", "fd00:ec2::254", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "224.0.0.1", "198.18.0.1", "203.0.113.9", "not-an-address",
    ])
    def test_private_addresses_are_refused(self, address: str) -> None:
        with pytest.raises(UrlRefused):
            check_endpoint("https://crm.example.com/out", STRICT, resolve=public(address))

    def test_one_private_address_among_public_ones_is_enough_to_refuse(self) -> None:
        with pytest.raises(UrlRefused):
            check_endpoint("https://crm.example.com/out", STRICT,
                           resolve=public("93.184.216.34", "127.0.0.1"))

    @pytest.mark.parametrize("url", [
        "http://crm.example.com/out", "file:///etc/passwd", "gopher://crm.example.com/",
        "https://u:p@crm.example.com/", "https://crm.example.com./out",
        "https://localhost/out", "https://127.0.0.1/out", "https://[::1]/out",
        "https://2130706433/out", "https://0x7f.0.0.1/out", "https://169.254.169.254/latest",
    ])
    def test_schemes_user_info_and_literal_private_hosts_are_refused(self, url: str) -> None:
        with pytest.raises(UrlRefused):
            check_endpoint(url, STRICT)

    def test_trusted_internal_host_and_the_setting(self) -> None:
        trusted = UrlPolicy(trusted_hosts=frozenset({"crm.corp.internal"}))
        url = "https://crm.corp.internal/out"
        assert check_endpoint(url, trusted, resolve=public("10.1.2.3")) == url
        with pytest.raises(UrlRefused):  # still https only
            check_endpoint("http://crm.corp.internal/out", trusted)
        assert check_endpoint("http://127.0.0.1:9000/out", CUSTOM) == (
            "http://127.0.0.1:9000/out")
        with pytest.raises(UrlRefused):
            check_endpoint("file:///etc/passwd", CUSTOM)


class TestMailHost:
    @pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "169.254.169.254", "::1",
                                      "10.0.0.25", "mail.example.com/x", "a@mail.example.com",
                                      "imap://mail.example.com", "mail.example.com.", ""])
    def test_private_or_malformed_hosts_are_refused(self, host: str) -> None:
        with pytest.raises(UrlRefused):
            check_host(host, STRICT)

    def test_public_trusted_and_custom(self) -> None:
        assert check_host("imap.example.com", STRICT,
                          resolve=public("93.184.216.34")) == "imap.example.com"
        trusted = UrlPolicy(trusted_hosts=frozenset({"mail.corp.internal"}))
        assert check_host("mail.corp.internal", trusted) == "mail.corp.internal"
        assert check_host("127.0.0.1", CUSTOM) == "127.0.0.1"


class TestReasons:
    def test_reasons_are_one_bounded_line(self) -> None:
        error = PermanentSendError("provider answered 400: \x1b[31mred\x1b[0m\r\nline2\u202e"
                                   + "A" * MIB)
        assert len(error.message) <= MAX_REASON_CHARS and str(error) == error.message
        assert "\x1b" not in error.message and "\n" not in error.message
        assert "\u202e" not in error.message and "red [0m line2 A" in error.message

    def test_the_accounts_credentials_are_redacted(self) -> None:
        account = AccountConfig("a", "sms", "n", {
            "account_sid": "AC" + "1" * 32, "auth_token": "tw-auth-token-123456",
            "bot_token": BOT_TOKEN, "access_token": "EAAG token/with+chars"})
        import base64
        basic = base64.b64encode(f"{'AC' + '1' * 32}:tw-auth-token-123456".encode()).decode()
        echoed = (f"you sent tw-auth-token-123456 to /bot{BOT_TOKEN}/x and "
                  f"/bot{BOT_TOKEN.replace(':', '%3A')}/y with Basic {basic} and "
                  "Bearer EAAG%20token%2Fwith%2Bchars and EAAG+token%2Fwith%2Bchars")
        redacted = ChannelError(account.redact(echoed)).message
        for secret in ("tw-auth-token-123456", BOT_TOKEN, "AAH-sEcReT", basic, "EAAG"):
            assert secret not in redacted, redacted
        assert "[redacted]" in redacted

    def test_a_credential_cut_by_the_bound_leaves_no_prefix(self) -> None:
        account = AccountConfig("a", "telegram", "n", {"bot_token": BOT_TOKEN})
        for at in range(MAX_REASON_CHARS - 30, MAX_REASON_CHARS + 1):
            error = PermanentSendError("x" * at + BOT_TOKEN + " tail").redacted(account)
            assert BOT_TOKEN[:6] not in error.message, at
            assert len(error.message) <= MAX_REASON_CHARS


# --- end to end -------------------------------------------------------------------------------


class Capture:
    """A real HTTP server on 127.0.0.1 that records every request (the attacker's)."""

    def __init__(self, answer: Callable[[BaseHTTPRequestHandler, bytes],
                                        tuple[int, dict[str, str], bytes]]) -> None:
        self.requests: list[dict[str, Any]] = []
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                capture.requests.append({"method": self.command, "path": self.path,
                                         "headers": dict(self.headers), "body": body})
                status, headers, content = answer(self, body)
                self.send_response(status)
                for name, value in {**headers, "content-length": str(len(content))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_DELETE = _any

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def ok(handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, str], bytes]:
    return 200, {"content-type": "application/json"}, b'{"data": {"id": "1"}, "ok": true}'


@pytest.fixture
def capture() -> Iterator[Capture]:
    server = Capture(ok)
    yield server
    server.close()


@pytest.fixture
def strict(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    """The production default: no custom provider URLs (the test suite otherwise allows them
    for the sandbox)."""
    monkeypatch.setattr(runtime, "settings", runtime.settings.model_copy(
        update={"allow_custom_provider_urls": False}))
    return runtime


@pytest.fixture
def e2e(live_server: Any, sandbox: Any, token: str) -> Iterator[E2E]:
    harness = E2E(live_server, sandbox, token)
    yield harness
    harness.close()


def x_config(**extra: Any) -> dict[str, Any]:
    return {"consumer_key": "ck-consumer", "consumer_secret": "sandbox_secret",
            "access_token": X_TOKEN, "access_token_secret": "ats-secret-value",
            "user_id": OWN_X_ID, **extra}


def tg_config(**extra: Any) -> dict[str, Any]:
    return {"bot_token": BOT_TOKEN, "secret_token": "sandbox_secret-1", **extra}


def accounts_of(runtime: Runtime, workspace_id: uuid.UUID) -> list[tuple[str, dict[str, Any]]]:
    with runtime.db.session(write=False) as session:
        rows = session.scalars(select(ChannelAccount).where(
            ChannelAccount.workspace_id == workspace_id))
        return sorted((a.name, dict(a.config)) for a in rows)


def force_config(runtime: Runtime, account_id: str, **changes: Any) -> None:
    """Write a row as an old version (or a hand edit) would have: no validation."""
    with runtime.db.session() as session:
        account = session.get(ChannelAccount, uuid.UUID(account_id))
        assert account is not None
        session.execute(update(ChannelAccount).where(ChannelAccount.id == account.id)
                        .values(config={**account.config, **changes}))


def x_dm(e2e: E2E, account: str, config: dict[str, Any]) -> dict[str, Any]:
    event_id = str(1_850_000_000_000_000_000 + random.randrange(10**15))
    sender = str(random.randrange(10**9, 10**10))
    assert e2e.post(sx.dm_webhook(account, config, event_id, sender, "jane",
                                  f"where is my parcel {e2e.tag}")).status_code == 200
    conv, _ = e2e.wait_message(event_id)
    return conv


def tg_chat(e2e: E2E, account: str, config: dict[str, Any]) -> dict[str, Any]:
    chat, message_id = random.randrange(10**8, 10**9), random.randrange(1000, 10**6)
    assert e2e.post(stg.telegram_message_webhook(
        account, config, chat_id=chat, user_id=chat, text=f"hello bot {e2e.tag}",
        message_id=message_id)).status_code == 200
    conv, _ = e2e.wait_message(f"{chat}:{message_id}")
    return conv


def failed_reply(e2e: E2E, conv: dict[str, Any]) -> dict[str, Any]:
    reply = e2e.sent(conv["id"], f"On it {e2e.tag}", visibility="private")
    return e2e.wait_delivery(conv["id"], reply["id"], states=("failed",))


class TestAdminCannotRedirectCredentials:
    @pytest.mark.parametrize("kind, config", [
        ("x", x_config(api_base_url="{capture}/x")),
        ("x", x_config(api_base_url="https://api.x.com@127.0.0.1")),
        ("x", x_config(api_base_url="file:///etc/passwd")),
        ("telegram", tg_config(api_base_url="{capture}")),
        ("facebook", {"access_token": "t" * 20, "api_base_url": "https://graph.facebook.com.evil.example"}),
        ("sms", {"account_sid": "AC" + "0" * 32, "auth_token": "t" * 32,
                 "api_base_url": "http://api.twilio.com"}),
        ("api", {"secret": "s" * 20, "outbound_url": "{capture}/out"}),
        ("api", {"secret": "s" * 20, "outbound_url": "https://169.254.169.254/latest/meta-data"}),
        ("api", {"secret": "s" * 20, "outbound_url": "file:///etc/passwd"}),
        ("email", {"address": "care@acme.example", "imap_host": "127.0.0.1"}),
        ("email", {"address": "care@acme.example", "smtp_host": "169.254.169.254"}),
    ])
    def test_creating_an_account_pointed_at_a_local_server_is_refused(
            self, strict: Runtime, e2e: E2E, capture: Capture, workspace_id: uuid.UUID,
            kind: str, config: dict[str, Any]) -> None:
        config = json.loads(json.dumps(config).replace("{capture}", capture.url))
        before = accounts_of(strict, workspace_id)
        answer = e2e.api.post("/channel-accounts",
                              json={"kind": kind, "name": "evil", "config": config})
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "unsafe_url"
        assert accounts_of(strict, workspace_id) == before
        assert capture.requests == []

    def test_changing_api_base_url_is_refused_and_nothing_changes(
            self, strict: Runtime, e2e: E2E, capture: Capture, workspace_id: uuid.UUID) -> None:
        account = e2e.account("x", x_config(), name="Acme on X")
        before = accounts_of(strict, workspace_id)
        answer = e2e.api.patch(f"/channel-accounts/{account}", json={
            "name": "renamed", "config": {"api_base_url": capture.url + "/x"}})
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "unsafe_url"
        assert accounts_of(strict, workspace_id) == before
        # the official host is accepted
        answer = e2e.api.patch(f"/channel-accounts/{account}",
                               json={"config": {"api_base_url": "https://api.twitter.com"}})
        assert answer.status_code == 200, answer.text

    def test_desktop_settings_refuse_it_too(self, strict: Runtime, app: Any,
                                            capture: Capture, workspace_id: uuid.UUID) -> None:
        desk = desk_for(app, strict, workspace_id, "admin")
        before = accounts_of(strict, workspace_id)
        answer = desk.post("/settings/accounts", {
            "name": "evil", "kind": "telegram",
            "config": json.dumps(tg_config(api_base_url=capture.url))})
        assert answer.status_code == 422 and "unsafe_url" in answer.text
        assert accounts_of(strict, workspace_id) == before

    def test_the_sandbox_setting_allows_it(self, e2e: E2E, capture: Capture) -> None:
        assert e2e.account("telegram", tg_config(api_base_url=capture.url))


class TestStoredRowNeverLeaksACredential:
    def test_x_reply_is_not_sent_to_a_forced_base_url(self, strict: Runtime, e2e: E2E,
                                                      capture: Capture) -> None:
        config = x_config()
        account = e2e.account("x", config)
        conv = x_dm(e2e, account, config)
        force_config(strict, account, api_base_url=capture.url)
        failed = failed_reply(e2e, conv)
        assert capture.requests == []
        assert "refused" in failed["delivery_error"] and X_TOKEN not in failed["delivery_error"]

    def test_telegram_bot_token_never_reaches_a_forced_base_url(
            self, strict: Runtime, e2e: E2E, capture: Capture) -> None:
        config = tg_config()
        account = e2e.account("telegram", config)
        conv = tg_chat(e2e, account, config)
        for forced in (capture.url, capture.url.replace("http://", "https://api.telegram.org@")):
            force_config(strict, account, api_base_url=forced)
            failed = failed_reply(e2e, conv)
            assert capture.requests == []
            assert "refused" in failed["delivery_error"]
            assert BOT_TOKEN not in failed["delivery_error"]

    def test_a_stored_api_endpoint_on_loopback_is_not_called(
            self, strict: Runtime, e2e: E2E, capture: Capture,
            workspace_id: uuid.UUID) -> None:
        account = api_account(strict, workspace_id, outbound_url=capture.url + "/out")
        pid = f"crm-{e2e.tag}"
        with httpx.Client(base_url=e2e.server.url, timeout=10) as http:
            assert post_events(http, account, [message_event(pid)]).status_code == 200
        conv, _ = e2e.wait_message(pid)
        failed = failed_reply(e2e, conv)
        assert capture.requests == [] and "refused" in failed["delivery_error"]
        assert account.config["secret"] not in failed["delivery_error"]

    def test_redirects_are_not_followed(self, e2e: E2E) -> None:
        target = Capture(ok)

        def redirect(handler: BaseHTTPRequestHandler,
                     body: bytes) -> tuple[int, dict[str, str], bytes]:
            return 307, {"location": f"{target.url}{handler.path}"}, b""

        first = Capture(redirect)
        try:
            config = tg_config(api_base_url=first.url)
            account = e2e.account("telegram", config)
            failed_reply(e2e, tg_chat(e2e, account, config))
            assert len(first.requests) == 1 and target.requests == []
        finally:
            first.close()
            target.close()


class TestProviderErrorBodies:
    def test_a_mebibyte_error_echoing_our_credentials_is_bounded_and_redacted(
            self, e2e: E2E, runtime: Runtime, workspace_id: uuid.UUID) -> None:
        def echo(handler: BaseHTTPRequestHandler,
                 body: bytes) -> tuple[int, dict[str, str], bytes]:
            echoed = f"{handler.command} {handler.path} {handler.headers.get('authorization')}"
            text = f"\x1b[2J\x07\u202e{echoed}\r\n" + "\x00A" * (MIB // 2)
            return 400, {"content-type": "text/plain"}, text.encode()

        server = Capture(echo)
        try:
            for kind, config, starter in (("x", x_config(api_base_url=server.url), x_dm),
                                          ("telegram", tg_config(api_base_url=server.url),
                                           tg_chat)):
                account = e2e.account(kind, config)
                failed = failed_reply(e2e, starter(e2e, account, config))
                error = failed["delivery_error"]
                assert 0 < len(error) <= MAX_REASON_CHARS, len(error)
                assert not any(ord(c) < 32 or c == "\u202e" for c in error), error
                assert X_TOKEN not in error and BOT_TOKEN not in error, error
                assert "[redacted]" in error, error
                with runtime.db.session(write=False) as session:
                    audits = list(session.scalars(select(AuditEvent).where(
                        AuditEvent.workspace_id == workspace_id,
                        AuditEvent.subject_id == failed["id"],
                        AuditEvent.action == "message.failed")))
                assert [a.data["error"] for a in audits] == [error]
            assert len(server.requests) == 2
        finally:
            server.close()


def test_a_supervisor_cannot_change_the_base_url(runtime: Runtime, workspace_id: uuid.UUID,
                                                  live_server: Any) -> None:
    admin = httpx.Client(base_url=live_server.url + "/api/v1", timeout=10, headers={
        "Authorization": f"Bearer {make_token(runtime, workspace_id, 'admin')}"})
    supervisor = httpx.Client(base_url=live_server.url + "/api/v1", timeout=10, headers={
        "Authorization": f"Bearer {make_token(runtime, workspace_id, 'supervisor')}"})
    with admin, supervisor:
        created = admin.post("/channel-accounts", json={"kind": "telegram", "name": "bot",
                                                        "config": tg_config()})
        assert created.status_code == 201
        answer = supervisor.patch(f"/channel-accounts/{created.json()['id']}",
                                  json={"config": {"api_base_url": "https://api.telegram.org"}})
        assert answer.status_code == 403


def test_cli_accounts_create_refuses_a_local_base_url(tmp_path: Path) -> None:
    env = dict(os.environ, THREADLINE_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}",
               THREADLINE_DATA_DIR=str(tmp_path))
    env.pop("THREADLINE_REDIS_URL", None)
    env.pop("THREADLINE_ALLOW_CUSTOM_PROVIDER_URLS", None)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "threadline.cli", *args], env=env,
                              capture_output=True, text=True, timeout=120, check=False)

    out = cli("accounts", "create", "--kind", "telegram", "--name", "bot", "--config",
              json.dumps(tg_config(api_base_url="http://127.0.0.1:9/")))
    assert out.returncode != 0 and "refused to send credentials" in out.stderr + out.stdout
    out = cli("accounts", "create", "--kind", "telegram", "--name", "bot", "--config",
              json.dumps(tg_config()))
    assert out.returncode == 0, out.stderr
    assert BOT_TOKEN not in out.stdout + out.stderr
