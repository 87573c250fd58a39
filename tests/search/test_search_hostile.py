"""Hostile and malformed queries: typed 422s with stable codes or plain-text matching, never
a database error, on both databases; the query parser on its own."""

from __future__ import annotations

import uuid

import pytest

from threadline.jobs.runtime import Runtime
from threadline.search.documents import put_document
from threadline.search.query import search
from threadline.search.syntax import SearchError, parse

HOSTILE = [
    'NEAR(refund card)', 'refund NEAR/2 card', 'title:refund', 'body : refund', '{title}: x',
    'refund AND', 'OR refund', 'NOT refund card', '^refund', 'refund +card', '(refund',
    'refund)', "refund'; DROP TABLE messages; --", "' OR 1=1 --", 'refund & card | !x',
    'refund <-> card', "refund:* & 'x'", 'refund:*A', '\\"refund', 'refund -', '- refund',
    '"" refund', '*', 'r*', 'refund***', '%_%', 'refund\\', '\u202erefund', 'ｒｅｆｕｎｄ',
    'refund 🙂', '\u0000refund',
]


@pytest.fixture
def indexed(runtime: Runtime, workspace_id: uuid.UUID) -> uuid.UUID:
    with runtime.db.session() as session:
        put_document(session, workspace_id, kind="article", ref_id=uuid.uuid4(),
                     title="Refund to a card", body="A refund reaches the card in five days.",
                     language="en")
    return workspace_id


class TestParser:
    def test_words_phrases_prefixes_and_exclusions(self) -> None:
        q = parse('Refund "gift card" deliv* -paypal')
        assert [(t.words, t.prefix, t.negated) for t in q.terms] == [
            (("refund",), False, False), (("gift", "card"), False, False),
            (("deliv",), True, False), (("paypal",), False, True)]

    def test_punctuation_joins_the_parts_of_an_address_into_a_phrase(self) -> None:
        [term] = parse("jane.doe@example.com").terms
        assert term.words == ("jane", "doe", "example", "com")
        assert term.raw == "jane.doe@example.com"

    @pytest.mark.parametrize(("text", "code"), [
        ("", "search_empty"), ("   ", "search_empty"), ("()*:-", "search_empty"),
        ("x" * 201, "search_too_long"), ("a" * 10_000, "search_too_long"),
        ('"unbalanced', "search_syntax"), ('a "b" "c', "search_syntax"),
        ("refund\x07", "search_bad_character"), ("re\x1bfund", "search_bad_character"),
        ("-paypal", "search_only_exclusions"),
        (" ".join(f"w{i}" for i in range(13)), "search_too_many_terms"),
    ])
    def test_bad_input_is_a_typed_422(self, text: str, code: str) -> None:
        with pytest.raises(SearchError) as info:
            parse(text)
        assert (info.value.status, info.value.code) == (422, code)
        assert info.value.details["field"] == "q"

    def test_a_short_prefix_is_a_whole_word(self) -> None:
        [term] = parse("r*").terms
        assert term.prefix is False


class TestHostileQueriesOnTheDatabase:
    @pytest.mark.parametrize("text", HOSTILE)
    def test_operator_syntax_is_plain_text_or_a_typed_error(
            self, runtime: Runtime, indexed: uuid.UUID, text: str) -> None:
        with runtime.db.session(write=False) as session:
            try:
                results = search(session, indexed, text)
            except SearchError as exc:
                assert exc.status == 422 and exc.code.startswith("search_")
                return
        for hit in results.hits:
            assert "<script" not in hit.snippet_html

    def test_column_filters_and_near_match_as_words(self, runtime: Runtime,
                                                    indexed: uuid.UUID) -> None:
        with runtime.db.session(write=False) as session:
            assert len(search(session, indexed, "NEAR(refund card)").hits) == 0  # no "near"
            assert len(search(session, indexed, "refund: card").hits) == 1
            assert len(search(session, indexed, "refund'; DROP TABLE x; --").hits) == 0
        with runtime.db.session(write=False) as session:  # the tables are still there
            assert len(search(session, indexed, "refund card").hits) == 1

    def test_a_10_kb_query_is_refused_before_the_database(self, runtime: Runtime,
                                                          indexed: uuid.UUID) -> None:
        with runtime.db.session(write=False) as session, pytest.raises(SearchError) as info:
            search(session, indexed, "refund " * 1500)
        assert info.value.code == "search_too_long"

    def test_stop_words_alone_find_nothing_and_do_not_fail(self, runtime: Runtime,
                                                           indexed: uuid.UUID) -> None:
        with runtime.db.session(write=False) as session:
            results = search(session, indexed, "the a of")
        assert results.hits == [] or all(h.kind == "article" for h in results.hits)

    @pytest.mark.parametrize(("kw", "code"), [
        ({"kinds": ["message", "secret"]}, "search_kind"),
        ({"language": "english; drop"}, "search_language"),
        ({"limit": 0}, "search_limit"), ({"limit": 101}, "search_limit"),
        ({"offset": -1}, "search_offset"), ({"offset": 10_000}, "search_offset"),
    ])
    def test_bad_options_are_typed_errors(self, runtime: Runtime, indexed: uuid.UUID,
                                          kw: dict[str, object], code: str) -> None:
        with runtime.db.session(write=False) as session, pytest.raises(SearchError) as info:
            search(session, indexed, "refund", **kw)  # type: ignore[arg-type]
        assert info.value.code == code


class TestHighlighting:
    def test_a_document_cannot_forge_markup_or_marks(self, runtime: Runtime,
                                                     workspace_id: uuid.UUID) -> None:
        with runtime.db.session() as session:
            put_document(session, workspace_id, kind="article", ref_id=uuid.uuid4(),
                         title='<img src=x onerror="alert(1)"> parcel',
                         body="<script>steal()</script> parcel \x02forged\x03 </mark>",
                         language="en")
        with runtime.db.session(write=False) as session:
            [hit] = search(session, workspace_id, "parcel").hits
        # escaped on SQLite; PostgreSQL's headline leaves tags out altogether
        assert "<img" not in hit.title_html and "<script" not in hit.snippet_html
        assert "onerror" not in hit.title_html or "&lt;img" in hit.title_html
        assert "steal()" not in hit.snippet_html or "&lt;script&gt;" in hit.snippet_html
        assert hit.snippet_html.count("<mark>") == hit.snippet_html.count("</mark>") == 1
        assert "<mark>parcel</mark>" in hit.snippet_html
        assert "<mark>forged" not in hit.snippet_html

    def test_stemmed_forms_are_highlighted(self, runtime: Runtime,
                                           workspace_id: uuid.UUID) -> None:
        with runtime.db.session() as session:
            put_document(session, workspace_id, kind="article", ref_id=uuid.uuid4(),
                         title="Deliveries", body="We delivered the parcels yesterday.",
                         language="en")
        with runtime.db.session(write=False) as session:
            [hit] = search(session, workspace_id, "deliver parcel").hits
        assert "<mark>delivered</mark>" in hit.snippet_html
        assert "<mark>parcels</mark>" in hit.snippet_html


class TestLanguages:
    def test_a_french_query_finds_french_inflections(self, runtime: Runtime,
                                                     workspace_id: uuid.UUID) -> None:
        ref = uuid.uuid4()
        with runtime.db.session() as session:
            put_document(session, workspace_id, kind="article", ref_id=ref,
                         title="Remboursements", body="Les commandes annulées sont remboursées.",
                         language="fr")
            put_document(session, workspace_id, kind="article", ref_id=uuid.uuid4(),
                         title="Refunds", body="Cancelled orders are refunded.", language="en")
        with runtime.db.session(write=False) as session:
            hits = search(session, workspace_id, "commande annulée", language="fr").hits
            assert [h.ref_id for h in hits] == [ref]  # plural and feminine found
            assert [h.ref_id for h in search(session, workspace_id, "remboursement",
                                             language="fr").hits] == [ref]
            if session.get_bind().dialect.name == "sqlite":  # FTS5 folds diacritics
                hits = search(session, workspace_id, "commande annulee", language="fr").hits
                assert [h.ref_id for h in hits] == [ref]

    def test_an_unknown_but_well_formed_language_is_searched_without_stemming(
            self, runtime: Runtime, workspace_id: uuid.UUID) -> None:
        with runtime.db.session() as session:
            put_document(session, workspace_id, kind="article", ref_id=uuid.uuid4(),
                         title="Tere", body="Tellimus on teel.", language="et")
        with runtime.db.session(write=False) as session:
            assert len(search(session, workspace_id, "tellimus", language="et").hits) == 1
