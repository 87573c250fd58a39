"""The public help centre over HTTP: pages per workspace and language, only published
articles, a strict policy, the sitemap, views and votes (and the forgeries a vote must
resist), and the web chat widget's JSON."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.knowledge.helpers import make_article
from threadline.conversations.service import SYSTEM
from threadline.jobs.runtime import Runtime
from threadline.knowledge import service
from threadline.workspace.service import create_channel_account

TOKEN = re.compile(r'name="token" value="([0-9a-f]{64})"')


@pytest.fixture
def visitor(app: Any) -> Iterator[TestClient]:
    """A browser of its own address (rate limits are per client address)."""
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    with TestClient(app, client=(address, 50000)) as client:
        yield client


def _stored(runtime: Runtime, workspace_id: uuid.UUID, article_id: uuid.UUID) -> Any:
    with runtime.db.session(write=False) as session:
        return service.get_article(session, workspace_id, article_id)


def test_pages_show_published_articles_only(runtime: Runtime, workspace_id: uuid.UUID,
                                            visitor: TestClient) -> None:
    published = make_article(runtime, workspace_id, title="Change your address",
                             category="Shipping & delivery", body="Go to **Addresses**.")
    draft = make_article(runtime, workspace_id, title="Secret draft plans", publish=False)
    archived = make_article(runtime, workspace_id, title="Old returns policy")
    with runtime.db.session() as session:
        service.archive_article(session, workspace_id, archived.id, SYSTEM)
    spanish = make_article(runtime, workspace_id, title="Cambiar tu dirección",
                           category="Envíos", language="es")

    root = visitor.get(f"/help/{workspace_id}", follow_redirects=False)
    assert root.status_code == 303 and root.headers["location"].endswith(f"{workspace_id}/en")
    home = visitor.get(f"/help/{workspace_id}/en")
    assert home.status_code == 200
    assert "Change your address" in home.text and "Shipping &amp; delivery" in home.text
    assert "Secret draft" not in home.text and "Old returns" not in home.text
    assert "Cambiar" not in home.text and 'hreflang="es"' in home.text
    csp = home.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "<script" not in home.text
    assert "https://" not in home.text.split("<body")[0]  # nothing from a CDN

    category = visitor.get(f"/help/{workspace_id}/en/categories/shipping-delivery")
    assert category.status_code == 200 and "Change your address" in category.text
    page = visitor.get(f"/help/{workspace_id}/en/articles/{published.slug}")
    assert page.status_code == 200 and "<strong>Addresses</strong>" in page.text
    es = visitor.get(f"/help/{workspace_id}/es/articles/{spanish.slug}")
    assert es.status_code == 200 and '<html lang="es">' in es.text

    for path in (f"/help/{workspace_id}/en/articles/{draft.slug}",
                 f"/help/{workspace_id}/en/articles/{archived.slug}",
                 f"/help/{workspace_id}/es/articles/{published.slug}",
                 f"/help/{workspace_id}/en/categories/nothing-here",
                 f"/help/{workspace_id}/klingon", f"/help/{workspace_id}/EN",
                 f"/help/{uuid.uuid4()}/en", "/help/not-a-uuid/en"):
        missing = visitor.get(path)
        assert missing.status_code in (404, 422), path
        assert "Secret draft" not in missing.text

    found = visitor.get(f"/help/{workspace_id}/en/search", params={"q": "address"})
    assert found.status_code == 200 and "Change your address" in found.text
    assert "<mark>" in found.text
    assert "Secret draft" not in visitor.get(f"/help/{workspace_id}/en/search",
                                             params={"q": "secret"}).text
    bad = visitor.get(f"/help/{workspace_id}/en/search", params={"q": '"unclosed'})
    assert bad.status_code == 422 and 'id="help-search-error"' in bad.text
    hostile = visitor.get(f"/help/{workspace_id}/en/search",
                          params={"q": "<script>alert(1)</script>"})
    assert "<script>alert(1)" not in hostile.text


def test_another_workspace_sees_none_of_these_articles(runtime: Runtime,
                                                       workspace_id: uuid.UUID,
                                                       visitor: TestClient) -> None:
    article = make_article(runtime, workspace_id, title="Only ours")
    from threadline.workspace import service as workspace_service

    with runtime.db.session() as session:
        other = workspace_service.create_workspace(session, "Other",
                                                   f"o-{uuid.uuid4().hex[:12]}").id
    assert visitor.get(f"/help/{other}/en/articles/{article.slug}").status_code == 404
    assert "Only ours" not in visitor.get(f"/help/{other}/en").text
    assert "Only ours" not in visitor.get(f"/help/{other}/en/search",
                                          params={"q": "ours"}).text


def test_sitemap_lists_every_published_page(runtime: Runtime, workspace_id: uuid.UUID,
                                            visitor: TestClient) -> None:
    en = make_article(runtime, workspace_id, title="Billing & invoices")
    es = make_article(runtime, workspace_id, title="Facturas", language="es")
    draft = make_article(runtime, workspace_id, title="Draft one", publish=False)
    answer = visitor.get(f"/help/{workspace_id}/sitemap.xml")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/xml")
    locs = re.findall(r"<loc>([^<]+)</loc>", answer.text)
    assert f"http://testserver/help/{workspace_id}/en/articles/{en.slug}" in locs
    assert f"http://testserver/help/{workspace_id}/es/articles/{es.slug}" in locs
    assert f"http://testserver/help/{workspace_id}/en" in locs
    assert not any(draft.slug in loc for loc in locs)


def test_views_count_once_per_client_and_never_for_prefetch(
        runtime: Runtime, workspace_id: uuid.UUID, app: Any) -> None:
    article = make_article(runtime, workspace_id)
    path = f"/help/{workspace_id}/en/articles/{article.slug}"
    with TestClient(app, client=("10.250.1.1", 1)) as one, \
            TestClient(app, client=("10.250.1.2", 1)) as two:
        for _ in range(3):
            assert one.get(path).status_code == 200
        assert two.get(path, headers={"Sec-Purpose": "prefetch"}).status_code == 200
        assert two.get(path).status_code == 200
    assert _stored(runtime, workspace_id, article.id).views == 2


def _vote_form(client: TestClient, path: str) -> str:
    page = client.get(path)
    match = TOKEN.search(page.text)
    assert match, page.text
    return match.group(1)


def test_a_browser_votes_once_and_may_change_its_mind(runtime: Runtime,
                                                     workspace_id: uuid.UUID,
                                                     visitor: TestClient) -> None:
    article = make_article(runtime, workspace_id)
    path = f"/help/{workspace_id}/en/articles/{article.slug}"
    token = _vote_form(visitor, path)
    cookie = visitor.cookies.get("tl_help")
    assert cookie and len(cookie) >= 32
    for _ in range(3):
        voted = visitor.post(path + "/vote", data={"token": token, "helpful": "yes"},
                             follow_redirects=False)
        assert voted.status_code == 303 and voted.headers["location"].endswith(
            "?voted=yes#feedback")
    stored = _stored(runtime, workspace_id, article.id)
    assert (stored.helpful_yes, stored.helpful_no) == (1, 0)
    visitor.post(path + "/vote", data={"token": token, "helpful": "no"})
    stored = _stored(runtime, workspace_id, article.id)
    assert (stored.helpful_yes, stored.helpful_no) == (0, 1)
    thanks = visitor.get(path + "?voted=no")
    assert 'id="vote-thanks"' in thanks.text


def test_forged_votes_are_refused_and_count_nothing(runtime: Runtime, workspace_id: uuid.UUID,
                                                    visitor: TestClient, app: Any) -> None:
    article = make_article(runtime, workspace_id)
    other = make_article(runtime, workspace_id, title="Another article")
    path = f"/help/{workspace_id}/en/articles/{article.slug}"
    token = _vote_form(visitor, path)
    # a cross-site form: the SameSite=Strict cookie is not sent, only the token it copied
    with TestClient(app, client=("10.251.0.9", 1)) as attacker:
        assert attacker.post(path + "/vote", data={"token": token, "helpful": "no"}
                             ).status_code == 403
    # a foreign Origin, even with the cookie and the token
    assert visitor.post(path + "/vote", data={"token": token, "helpful": "no"},
                        headers={"Origin": "https://evil.example"}).status_code == 403
    # no token, a wrong one, another article's token
    assert visitor.post(path + "/vote", data={"helpful": "no"}).status_code == 403
    assert visitor.post(path + "/vote", data={"token": "0" * 64, "helpful": "no"}
                        ).status_code == 403
    other_token = _vote_form(visitor, f"/help/{workspace_id}/en/articles/{other.slug}")
    assert visitor.post(path + "/vote", data={"token": other_token, "helpful": "no"}
                        ).status_code == 403
    # nonsense values store nothing
    odd = visitor.post(path + "/vote", data={"token": token, "helpful": "maybe"},
                       follow_redirects=False)
    assert odd.status_code == 303 and "vote_error=1" in odd.headers["location"]
    stored = _stored(runtime, workspace_id, article.id)
    assert (stored.helpful_yes, stored.helpful_no) == (0, 0)
    # a draft cannot be voted on even with a token of the right shape
    draft = make_article(runtime, workspace_id, title="Draft", publish=False)
    assert visitor.post(f"/help/{workspace_id}/en/articles/{draft.slug}/vote",
                        data={"token": token, "helpful": "yes"}).status_code == 404


def test_votes_are_rate_limited_per_client(runtime: Runtime, workspace_id: uuid.UUID,
                                           visitor: TestClient) -> None:
    article = make_article(runtime, workspace_id)
    path = f"/help/{workspace_id}/en/articles/{article.slug}"
    token = _vote_form(visitor, path)
    codes = [visitor.post(path + "/vote", data={"token": token, "helpful": "yes"},
                          follow_redirects=False).status_code for _ in range(25)]
    assert codes[:20] == [303] * 20 and set(codes[20:]) == {429}
    limited = visitor.post(path + "/vote", data={"token": token, "helpful": "no"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert _stored(runtime, workspace_id, article.id).helpful_no == 0


def test_the_widget_lists_and_searches_published_articles(runtime: Runtime,
                                                          workspace_id: uuid.UUID,
                                                          visitor: TestClient) -> None:
    with runtime.db.session() as session:
        account = create_channel_account(session, workspace_id, kind="webchat",
                                         name="Chat", config={})
        email = create_channel_account(session, workspace_id, kind="email", name="Mail",
                                       config={})
    make_article(runtime, workspace_id, title="Track a parcel", body="Use the tracking page.")
    make_article(runtime, workspace_id, title="Hidden draft parcel", publish=False)
    listed = visitor.get(f"/help/widget/{account.id}/articles")
    assert listed.status_code == 200 and listed.headers["access-control-allow-origin"] == "*"
    titles = [a["title"] for a in listed.json()["articles"]]
    assert titles == ["Track a parcel"]
    assert listed.json()["articles"][0]["url"].endswith("/en/articles/track-a-parcel")
    found = visitor.get(f"/help/widget/{account.id}/articles", params={"q": "parcel"}).json()
    assert [a["title"] for a in found["articles"]] == ["Track a parcel"]
    bad = visitor.get(f"/help/widget/{account.id}/articles", params={"q": '"open'}).json()
    assert bad["articles"] == [] and bad["error"]["code"] == "search_syntax"
    for wrong in (str(email.id), str(uuid.uuid4()), "nope"):
        missing = visitor.get(f"/help/widget/{wrong}/articles")
        assert missing.status_code == 404
        assert missing.headers["access-control-allow-origin"] == "*"
