"""A customer's surveys in his data-subject requests: the export carries them (comment
included, the link's hash not); erasing him clears his comments, kills his link, forgets who
may answer and hashes the answer's provider id, and keeps the score for the figures."""

from __future__ import annotations

from tests.csat.conftest import PUBLIC_URL, Flow
from threadline.csat.models import CsatSurvey, CsatSurveyDetails


def test_export_and_erase(flow: Flow, linked: None) -> None:
    flow.enable()
    author = f"cust-{flow.tag}"
    conv = flow.conversation_of(flow.writes("broken", author=author))
    flow.resolve(conv["id"])
    [out] = [o for o in flow.outbound() if "/r/" in o["text"]]
    code = out["text"].rsplit(f"{PUBLIC_URL}/r/", 1)[1]
    assert flow.client.get(f"/r/{code}").status_code == 200
    answer_id = flow.writes("2 - call me, Ann", author=author)  # a typed rating
    assert flow.surveys()[0].status == "answered"
    customer_id = conv["customer"]["id"]
    archive = flow.client.get(f"/api/v1/customers/{customer_id}/export").json()
    [exported] = archive["csat_surveys"]
    assert (exported["score"], exported["comment"], exported["method"]) == (
        2, "call me, Ann", "link")
    assert "token_hash" not in exported
    erased = flow.client.post(f"/api/v1/customers/{customer_id}/erase")
    assert erased.status_code == 200, erased.text
    assert erased.json()["counts"]["csat_surveys"] == 1
    with flow.runtime.db.session(write=False) as s:
        [survey] = s.query(CsatSurvey).filter(CsatSurvey.workspace_id == flow.workspace_id)
        details = s.get(CsatSurveyDetails, survey.id)
        assert (survey.score, survey.comment, survey.token_hash) == (2, None, None)
        assert details is not None and details.identity_id is None
        assert details.answer_provider_id is not None
        assert details.answer_provider_id.startswith("erased:")
        assert answer_id not in details.answer_provider_id
    assert flow.client.get(f"/r/{code}").status_code == 404  # the link is dead
