"""The database-specific halves of the index: one writer and one query per database,
behind `write`, `delete` and `run` (decision 0329).

SQLite: `search_fts`, an FTS5 table over `search_documents` (external content, kept in
step by the triggers of migration 0032), tokenizer `porter unicode61 remove_diacritics 2`;
bm25 ranks, the title weighing four times the body.

PostgreSQL: `search_documents.tsv`, `setweight(to_tsvector(cfg, title), 'A') ||
to_tsvector(cfg, body)` with the document language's configuration ('simple' when
PostgreSQL has none), under a GIN index; ts_rank ranks, ts_headline highlights.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Float, Uuid, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from threadline.db.base import UTCDateTime
from threadline.search.models import SearchDocument
from threadline.search.schemas import SearchFilters
from threadline.search.syntax import (
    MARK_END,
    MARK_START,
    POSTGRES_CONFIGS,
    Query,
    Term,
    postgres_config,
)

COLUMNS = ("workspace_id", "kind", "ref_id", "conversation_id", "customer_id", "title", "body",
           "language", "channel", "visibility", "author_type", "version", "created_at",
           "indexed_at")
_UPDATED = tuple(c for c in COLUMNS if c not in ("workspace_id", "kind", "ref_id"))
def _pg_config_sql() -> str:
    """The text search configuration of a row's `language`, in SQL ('simple' by default)."""
    pairs = ", ".join(f"('{code}', '{cfg}')" for code, cfg in sorted(POSTGRES_CONFIGS.items()))
    return ("CAST(COALESCE((SELECT m.cfg FROM (VALUES " + pairs + ") AS m(code, cfg) "
            "WHERE m.code = lower(split_part(search_documents.language, '-', 1))), 'simple') "
            "AS regconfig)")


_PG_CFG = _pg_config_sql()
# the tsvector of the rows just written, computed by PostgreSQL in one statement per batch
_PG_TSV = text(
    f"UPDATE search_documents SET tsv = setweight(to_tsvector({_PG_CFG}, title), 'A') || "
    f"to_tsvector({_PG_CFG}, body) "
    "WHERE workspace_id = :ws AND kind = :kind AND ref_id = ANY(:refs)").bindparams(
    bindparam("ws", type_=Uuid()), bindparam("refs", type_=ARRAY(Uuid())))


def dialect_of(session: Session) -> str:
    return str(session.get_bind().dialect.name)


def write(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace documents (each a dict of `COLUMNS`), by (workspace, kind, ref)."""
    if not rows:
        return
    table: Any = SearchDocument.__table__
    if dialect_of(session) == "postgresql":
        pg = postgresql.insert(table)
        session.execute(pg.on_conflict_do_update(
            index_elements=["workspace_id", "kind", "ref_id"],
            set_={c: pg.excluded[c] for c in _UPDATED}), list(rows))
        groups: dict[tuple[uuid.UUID, str], list[uuid.UUID]] = {}
        for r in rows:
            groups.setdefault((r["workspace_id"], r["kind"]), []).append(r["ref_id"])
        for (ws, kind), refs in groups.items():
            session.execute(_PG_TSV, {"ws": ws, "kind": kind, "refs": refs})
        return
    lite = sqlite.insert(table)
    session.execute(lite.on_conflict_do_update(
        index_elements=["workspace_id", "kind", "ref_id"],
        set_={c: lite.excluded[c] for c in _UPDATED}), list(rows))


def delete(session: Session, workspace_id: uuid.UUID, kind: str,
           ref_ids: Sequence[uuid.UUID]) -> None:
    if not ref_ids:
        return
    table: Any = SearchDocument.__table__
    session.execute(table.delete().where(
        table.c.workspace_id == workspace_id, table.c.kind == kind,
        table.c.ref_id.in_(list(ref_ids))))


# --- queries ----------------------------------------------------------------------------------


def _fts5_string(words: Sequence[str]) -> str:
    # words are runs of letters and digits (syntax._WORD): no quote can be inside
    return '"' + " ".join(words) + '"'


def _fts5_term(term: Term, stem_by_prefix: bool) -> str:
    phrase = _fts5_string(term.words)
    if term.prefix or (stem_by_prefix and len(term.words) == 1 and len(term.words[0]) >= 4):
        return phrase + " *"
    return phrase


def fts5_expression(query: Query, language: str | None) -> str:
    """The MATCH expression: the query's words quoted (never FTS5 syntax of the user's). For
    a language other than English, single words also match as prefixes, which stands in for
    stemming the porter tokenizer does not do for it."""
    by_prefix = language is not None and language != "en"
    positive = " AND ".join(_fts5_term(t, by_prefix) for t in query.positive)
    if not query.negative:
        return positive
    negative = " OR ".join(_fts5_term(t, False) for t in query.negative)
    return f"({positive}) NOT ({negative})"


def _pg_term(term: Term, index: int, params: dict[str, Any]) -> str:
    key = f"w{index}"
    if term.prefix:
        # prefix of the last word; words hold only letters and digits, so no operator can
        # be smuggled into to_tsquery
        params[key] = " <-> ".join(term.words) + ":*"
        return f"to_tsquery('simple', :{key})"
    # the term as typed: PostgreSQL's parser splits it as it split the documents (an email
    # address stays one token); phraseto_tsquery reads no operators
    params[key] = term.raw or " ".join(term.words)
    fn = "phraseto_tsquery" if len(term.words) > 1 else "plainto_tsquery"
    stemmed = f"{fn}(CAST(:cfg AS regconfig), :{key})"
    # a stop word of the language drops out; otherwise the stemmed form or the exact word
    # (documents in other languages, or 'simple' ones like customers, hold the exact word)
    return (f"(CASE WHEN numnode({stemmed}) = 0 THEN ''::tsquery "
            f"ELSE {stemmed} || {fn}('simple', :{key}) END)")


def pg_tsquery(query: Query, params: dict[str, Any]) -> str:
    parts = [_pg_term(t, i, params) for i, t in enumerate(query.terms)
             if not t.negated]
    expr = " && ".join(parts)
    negatives = [_pg_term(t, i, params) for i, t in enumerate(query.terms) if t.negated]
    if negatives:
        expr = f"({expr}) && !!({' || '.join(negatives)})"
    return expr


def _filters(filters: SearchFilters, kinds: Sequence[str] | None, language: str | None,
             params: dict[str, Any]) -> tuple[str, str]:
    """The extra join and WHERE clauses (with bind parameters) both databases share."""
    where: list[str] = []
    join = ""
    if kinds:
        where.append("d.kind IN :kinds")
        params["kinds"] = list(kinds)
    if language:
        where.append("(d.language IS NULL OR d.language = :lang OR d.language LIKE :lang_tag)")
        params["lang"] = language
        params["lang_tag"] = f"{language}-%"
    if filters.channel:
        where.append("d.channel = :channel")
        params["channel"] = filters.channel
    if not filters.include_notes:
        where.append("(d.visibility IS NULL OR d.visibility <> 'note')")
    if filters.customer_id is not None:
        where.append("d.customer_id = :customer_id")
        params["customer_id"] = filters.customer_id
    if filters.conversation_id is not None:
        where.append("d.conversation_id = :conversation_id")
        params["conversation_id"] = filters.conversation_id
    if filters.created_from is not None:
        where.append("d.created_at >= :created_from")
        params["created_from"] = filters.created_from
    if filters.created_to is not None:
        where.append("d.created_at < :created_to")
        params["created_to"] = filters.created_to
    if filters.needs_conversation:
        join = "JOIN conversations c ON c.id = d.conversation_id "
        if filters.status:
            where.append("c.status = :status")
            params["status"] = filters.status
        if filters.assignee_id is not None:
            where.append("c.assignee_id = :assignee_id")
            params["assignee_id"] = filters.assignee_id
        if filters.team_id is not None:
            where.append("c.team_id = :team_id")
            params["team_id"] = filters.team_id
    return join, "".join(f" AND {w}" for w in where)


_SELECTED = ("d.kind, d.ref_id, d.conversation_id, d.customer_id, d.title, d.created_at, "
             "d.language, d.channel, d.visibility, d.author_type")


_UUID_PARAMS = ("ws", "customer_id", "conversation_id", "assignee_id", "team_id")
_TIME_PARAMS = ("created_from", "created_to")


def _statement(sql: str, params: dict[str, Any]) -> Any:
    binds: list[Any] = [bindparam(k, type_=Uuid()) for k in _UUID_PARAMS if k in params]
    binds += [bindparam(k, type_=UTCDateTime()) for k in _TIME_PARAMS if k in params]
    if "kinds" in params:
        binds.append(bindparam("kinds", expanding=True))
    return text(sql).bindparams(*binds).columns(
        ref_id=Uuid(), conversation_id=Uuid(), customer_id=Uuid(), created_at=UTCDateTime(),
        score=Float())


def run(session: Session, workspace_id: uuid.UUID, query: Query, *,
        kinds: Sequence[str] | None, language: str | None, filters: SearchFilters,
        limit: int, offset: int) -> list[dict[str, Any]]:
    """The matching documents, best first (`limit` + `offset` rows at most), each with its
    highlighted title (`title_marked`), snippet (`snippet_marked`) and score (higher better)."""
    params: dict[str, Any] = {"ws": workspace_id, "limit": limit, "offset": offset}
    join, where = _filters(filters, kinds, language, params)
    if dialect_of(session) == "postgresql":
        params["cfg"] = postgres_config(language or "en")
        tsq = pg_tsquery(query, params)
        sql = (
            f"WITH q AS (SELECT {tsq} AS q), "
            f"top AS (SELECT d.id, ts_rank(d.tsv, q.q) AS score FROM search_documents d "
            f"CROSS JOIN q {join}WHERE d.workspace_id = :ws AND d.tsv @@ q.q{where} "
            "ORDER BY score DESC, d.id DESC LIMIT :limit OFFSET :offset) "
            f"SELECT {_SELECTED}, top.score, "
            "ts_headline(CAST(:cfg AS regconfig), d.title, q.q, :hl_title) AS title_marked, "
            "ts_headline(CAST(:cfg AS regconfig), d.body, q.q, :hl_body) AS snippet_marked "
            "FROM top JOIN search_documents d ON d.id = top.id CROSS JOIN q "
            "ORDER BY top.score DESC, d.id DESC")
        marks = f"StartSel={MARK_START}, StopSel={MARK_END}"
        params["hl_title"] = f"{marks}, HighlightAll=true"
        params["hl_body"] = f"{marks}, MaxWords=30, MinWords=12, MaxFragments=2, " \
                            "FragmentDelimiter=\" … \""
        rows = session.execute(_statement(sql, params), params).mappings().all()
        return [dict(r) for r in rows]
    params["match"] = fts5_expression(query, language)
    sql = (
        "WITH top AS (SELECT search_fts.rowid AS id, bm25(search_fts, 4.0, 1.0) AS rank "
        "FROM search_fts JOIN search_documents d ON d.id = search_fts.rowid "
        f"{join}WHERE search_fts MATCH :match AND d.workspace_id = :ws{where} "
        "ORDER BY rank, d.id DESC LIMIT :limit OFFSET :offset) "
        f"SELECT {_SELECTED}, -top.rank AS score, "
        f"highlight(search_fts, 0, '{MARK_START}', '{MARK_END}') AS title_marked, "
        f"snippet(search_fts, 1, '{MARK_START}', '{MARK_END}', ' … ', 30) AS snippet_marked "
        "FROM top JOIN search_fts ON search_fts.rowid = top.id "
        "JOIN search_documents d ON d.id = top.id "
        "WHERE search_fts MATCH :match ORDER BY top.rank, d.id DESC")
    rows = session.execute(_statement(sql, params), params).mappings().all()
    return [dict(r) for r in rows]
