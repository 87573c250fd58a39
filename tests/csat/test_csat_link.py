"""The survey link's public page under attack: a forged or truncated code, a POST without the
form's token or with another survey's, a cross-site POST, scores 0, 6 and "abc", an oversized
comment, a replayed answer, a closed survey, a flood of POSTs. Each gets its page and status,
and none changes the survey; a page view records nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.csat.conftest import PUBLIC_URL, Flow
from threadline.csat.models import CsatSurveyDetails
from threadline.db.base import utcnow

TOKEN = re.compile(r'name="form_token" value="([0-9a-f]{64})"')


def surveyed(flow: Flow, who: str) -> str:
    """A resolved conversation of `who` whose survey link went out: the link's code."""
    conv = flow.conversation_of(flow.writes("a question", author=f"{who}-{flow.tag}"))
    flow.resolve(conv["id"])
    [out] = [o for o in flow.outbound() if o["recipient"] == f"{who}-{flow.tag}"
             and "/r/" in o["text"]]
    return str(out["text"].rsplit(f"{PUBLIC_URL}/r/", 1)[1])


def token_of(flow: Flow, code: str) -> str:
    page = flow.client.get(f"/r/{code}")
    assert page.status_code == 200, page.text
    return TOKEN.search(page.text).group(1)  # type: ignore[union-attr]


def state(flow: Flow) -> list[tuple[str, int | None, str | None]]:
    return [(s.status, s.score, s.comment) for s in flow.surveys()]


@pytest.fixture
def code(flow: Flow, linked: None) -> str:
    flow.enable()
    return surveyed(flow, "cust")


class TestLinkPage:
    def test_a_view_records_nothing_and_is_not_cached(self, flow: Flow, code: str) -> None:
        page = flow.client.get(f"/r/{code}")
        assert page.status_code == 200 and 'name="score"' in page.text
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "a question" not in page.text  # nothing about the conversation
        assert state(flow) == [("sent", None, None)]

    @pytest.mark.parametrize("forged", ["AAAAAAAAAAAAAAAAAAAAAAAA", "x" * 200, "%00",
                                        "a' OR 1=1--"])
    def test_forged_codes(self, flow: Flow, code: str, forged: str) -> None:
        assert flow.client.get(f"/r/{forged}").status_code == 404
        answer = flow.client.post(f"/r/{forged}", data={"score": "5", "form_token": "0" * 64})
        assert answer.status_code == 404 and "not valid" in answer.text
        assert flow.client.post(f"/r/{code[:-1]}", data={"score": "5"}).status_code == 404
        assert state(flow) == [("sent", None, None)]

    def test_csrf_the_token_and_the_origin(self, flow: Flow, code: str) -> None:
        other = surveyed(flow, "other")
        token = token_of(flow, code)
        assert flow.client.post(f"/r/{code}", data={"score": "5"}).status_code == 403
        wrong = flow.client.post(f"/r/{code}", data={"score": "5",
                                                     "form_token": token_of(flow, other)})
        assert wrong.status_code == 403
        cross = flow.client.post(f"/r/{code}", data={"score": "5", "form_token": token},
                                 headers={"origin": "https://evil.example"})
        assert cross.status_code == 403
        assert state(flow) == [("sent", None, None), ("sent", None, None)]
        same = flow.client.post(f"/r/{code}", data={"score": "5", "form_token": token},
                                headers={"origin": PUBLIC_URL})
        assert same.status_code == 200

    @pytest.mark.parametrize("score", ["0", "6", "abc", "", "4.5", "-1", "\u0663", "55"])
    def test_bad_scores_show_the_form_again(self, flow: Flow, code: str, score: str) -> None:
        answer = flow.client.post(f"/r/{code}", data={"score": score, "comment": "kept",
                                                      "form_token": token_of(flow, code)})
        assert answer.status_code == 422
        assert "choose a score" in answer.text and ">kept</textarea>" in answer.text
        assert state(flow) == [("sent", None, None)]

    def test_an_oversized_comment_then_the_answer_then_a_replay(self, flow: Flow,
                                                                code: str) -> None:
        token = token_of(flow, code)
        long = flow.client.post(f"/r/{code}", data={"score": "2", "comment": "y" * 1001,
                                                    "form_token": token})
        assert long.status_code == 422 and "under 1000 characters" in long.text
        assert state(flow) == [("sent", None, None)]
        done = flow.client.post(f"/r/{code}", data={"score": "2", "comment": "<b>slow</b>",
                                                    "form_token": token})
        assert done.status_code == 200 and "You rated us 2 out of 5" in done.text
        replay = flow.client.post(f"/r/{code}", data={"score": "5", "form_token": token})
        assert replay.status_code == 409 and "answered already" in replay.text
        assert state(flow) == [("answered", 2, "<b>slow</b>")]
        view = flow.client.get(f"/r/{code}")
        assert view.status_code == 200 and "We have your answer" in view.text
        assert "<b>slow</b>" not in view.text

    def test_a_closed_survey_takes_nothing(self, flow: Flow, code: str) -> None:
        token = token_of(flow, code)
        with flow.runtime.db.session() as s:
            s.execute(update(CsatSurveyDetails).where(
                CsatSurveyDetails.workspace_id == flow.workspace_id).values(
                expires_at=utcnow() - timedelta(seconds=1)))
        assert flow.client.get(f"/r/{code}").status_code == 410
        late = flow.client.post(f"/r/{code}", data={"score": "5", "form_token": token})
        assert late.status_code == 410 and "closed" in late.text
        assert state(flow) == [("sent", None, None)]

    def test_a_flood_of_posts_is_slowed_down(self, flow: Flow, code: str) -> None:
        statuses = [flow.client.post(f"/r/{code}", data={"score": "9"}).status_code
                    for _ in range(12)]
        assert statuses[:10] == [403] * 10 and statuses[10:] == [429, 429]
        assert state(flow) == [("sent", None, None)]
