"""The incident's desktop pages without a browser: the inbox carries the card's live slot, the
card fragment and the incident's page show the count, the samples (masked like any public
message) and the actions a supervisor may take; an agent sees no action."""

from __future__ import annotations

from tests.desktop.conftest import desk_for
from tests.factories import text_tag
from tests.incidents.helpers import api_account, incidents, post_texts
from threadline.incidents.samples import outage_posts


def test_the_card_and_the_page(runtime, worker, workspace_id, app) -> None:
    account = api_account(runtime, workspace_id)
    post_texts(runtime, account, outage_posts(20, seed=41), prefix=text_tag(6))
    worker.drain()
    [incident] = incidents(runtime, workspace_id)
    boss = desk_for(app, runtime, workspace_id, "supervisor")
    inbox = boss.get("/inbox").text
    assert 'hx-get="/incidents/cards"' in inbox and "tl:incident.updated" in inbox
    cards = boss.get("/incidents/cards").text
    assert f'href="/incidents/{incident.id}"' in cards and "Suggested burst" in cards
    assert f"{incident.member_count} posts" in cards
    page = boss.get(f"/incidents/{incident.id}").text
    assert 'id="confirm-incident"' in page and 'id="incident-count"' in page
    assert "login" in page.lower()  # the sample posts
    assert 'id="supervisor-incidents"' in boss.get("/supervisor").text
    agent = desk_for(app, runtime, workspace_id, "agent")
    assert 'id="confirm-incident"' not in agent.get(f"/incidents/{incident.id}").text
