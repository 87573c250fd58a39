"""The interface other packages index through: put_document / remove_document, and
search() over them, on the suite's database (SQLite, then PostgreSQL)."""

from __future__ import annotations

import uuid

import pytest

from threadline.jobs.runtime import Runtime
from threadline.search.documents import put_document, remove_document
from threadline.search.query import search
from threadline.search.syntax import SearchError


def _put(runtime: Runtime, ws: uuid.UUID, title: str, body: str,
         language: str | None = "en") -> uuid.UUID:
    ref = uuid.uuid4()
    with runtime.db.session() as session:
        put_document(session, ws, kind="article", ref_id=ref, title=title, body=body,
                     language=language)
    return ref


def _find(runtime: Runtime, ws: uuid.UUID, text: str, **kw: object) -> list[uuid.UUID]:
    with runtime.db.session(write=False) as session:
        return [h.ref_id for h in search(session, ws, text, **kw).hits]  # type: ignore[arg-type]


class TestPutAndRemove:
    def test_an_article_put_is_found_and_removed_is_not(self, runtime: Runtime,
                                                        workspace_id: uuid.UUID) -> None:
        ref = _put(runtime, workspace_id, "Refund policy",
                   "How to ask for a refund of a damaged parcel.")
        assert _find(runtime, workspace_id, "damaged parcel") == [ref]
        with runtime.db.session() as session:
            remove_document(session, workspace_id, kind="article", ref_id=ref)
        assert _find(runtime, workspace_id, "damaged parcel") == []

    def test_putting_again_replaces_the_text(self, runtime: Runtime,
                                            workspace_id: uuid.UUID) -> None:
        ref = _put(runtime, workspace_id, "Shipping", "Parcels leave within a day.")
        with runtime.db.session() as session:
            put_document(session, workspace_id, kind="article", ref_id=ref, title="Shipping",
                         body="Pallets leave within a week.", language="en")
        assert _find(runtime, workspace_id, "parcels") == []
        assert _find(runtime, workspace_id, "pallets") == [ref]

    def test_hits_carry_kind_title_score_and_a_marked_snippet(
            self, runtime: Runtime, workspace_id: uuid.UUID) -> None:
        ref = _put(runtime, workspace_id, "Gift cards", "Gift cards never expire.")
        with runtime.db.session(write=False) as session:
            [hit] = search(session, workspace_id, "expire").hits
        assert (hit.kind, hit.ref_id, hit.title) == ("article", ref, "Gift cards")
        assert "<mark>expire</mark>" in hit.snippet_html
        assert hit.score > 0

    def test_another_workspaces_articles_are_never_found(
            self, runtime: Runtime, workspace_id: uuid.UUID) -> None:
        from threadline.workspace import service as workspace_service
        with runtime.db.session() as session:
            other = workspace_service.create_workspace(session, "Other",
                                                       f"o-{uuid.uuid4().hex[:12]}").id
        _put(runtime, other, "Secret pricing", "Zanzibar discount for partners.")
        assert _find(runtime, workspace_id, "zanzibar") == []
        assert len(_find(runtime, other, "zanzibar")) == 1

    def test_a_bad_kind_is_refused(self, runtime: Runtime, workspace_id: uuid.UUID) -> None:
        with runtime.db.session() as session, pytest.raises(Exception) as info:
            put_document(session, workspace_id, kind="Robert'); DROP", ref_id=uuid.uuid4(),
                         title="t", body="b", language=None)
        assert getattr(info.value, "code", "") == "search_kind"

    def test_an_empty_query_is_a_typed_error(self, runtime: Runtime,
                                             workspace_id: uuid.UUID) -> None:
        with runtime.db.session() as session, pytest.raises(SearchError) as info:
            search(session, workspace_id, "   ")
        assert (info.value.status, info.value.code) == (422, "search_empty")
