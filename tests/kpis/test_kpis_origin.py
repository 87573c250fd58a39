"""An off-platform origin recorded on a conversation: checked, audited, kept by a rebuild."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from tests.kpis.story import Story
from threadline.conversations.service import Actor
from threadline.db.base import utcnow
from threadline.errors import NotFound, ValidationFailed
from threadline.kpis.origin import clean_origin_source, set_origin_source, source_of_utm
from threadline.kpis.tracking import recompute
from threadline.workspace.service import create_workspace

AGENT = Actor("agent", str(uuid.uuid4()))


class TestOriginSource:
    def test_recorded_and_kept_by_a_rebuild(self, runtime, workspace_id):
        story = Story.begin(runtime, workspace_id, utcnow() - timedelta(hours=2))
        with runtime.db.session() as session:
            set_origin_source(session, workspace_id, story.conversation_id, " Order_Page ",
                              AGENT)
        assert story.facts().origin_source == "order_page"
        with runtime.db.session() as session:
            recompute(session, story.conversation_id)
        assert story.facts().origin_source == "order_page"

    @pytest.mark.parametrize("bad", ["", "billboard", "campaign:", "campaign:Spring Sale!",
                                     "campaign:" + "x" * 40, "store'; --"])
    def test_bad_values_are_refused(self, bad):
        with pytest.raises(ValidationFailed):
            clean_origin_source(bad)

    def test_campaigns_and_links(self):
        assert clean_origin_source("campaign:spring-26") == "campaign:spring-26"
        assert source_of_utm("Newsletter") == "campaign:newsletter"
        assert source_of_utm("website") == "website"
        assert source_of_utm("<script>") is None and source_of_utm(None) is None

    def test_another_workspaces_conversation_is_not_found(self, runtime, workspace_id):
        with runtime.db.session() as session:
            other = create_workspace(session, "Other", f"o-{uuid.uuid4().hex[:10]}").id
        story = Story.begin(runtime, other, utcnow() - timedelta(hours=2))
        with runtime.db.session() as session, pytest.raises(NotFound):
            set_origin_source(session, workspace_id, story.conversation_id, "store", AGENT)
        assert story.facts().origin_source is None
