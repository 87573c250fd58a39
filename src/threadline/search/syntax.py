"""The search box's syntax, parsed in Python: the database never sees the user's text as
query syntax (decision 0329).

    refund card          both words (AND), stemmed in the query's language
    "card declined"      a phrase
    refun*               a prefix (of three letters or more)
    -paypal              without this word (needs at least one word without a minus)
    jane@example.com     punctuation inside a word makes a phrase of its parts

Everything else (parentheses, colons, NEAR, OR, operators of FTS5 or tsquery) is plain text:
a word is a run of letters and digits, anything else separates words. Bad input is a typed
422 with a stable code, never a database error.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from threadline.errors import ValidationFailed

MAX_QUERY_CHARS = 200
MAX_TERMS = 12
MIN_PREFIX = 3
MAX_WORDS = 24
# a word as both engines split text: letters and digits (FTS5's unicode61 and PostgreSQL's
# parser both break at underscores and punctuation)
_WORD = re.compile(r"[^\W_]+")
_CHUNK = re.compile(r'"[^"]*"|[^\s"]+|"')
_LANGUAGE = re.compile(r"^([a-z]{2,3})(?:[-_][A-Za-z0-9]{2,4})?$")


class SearchError(ValidationFailed):
    """A search the box cannot run; `code` says why and `details.field` names the field."""

    def __init__(self, message: str, code: str, field: str = "q") -> None:
        super().__init__(message, code=code, details={"field": field})


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # casefolded; more than one: a phrase
    raw: str = ""  # the term as typed (no quotes, minus or star): PostgreSQL parses it
    prefix: bool = False
    negated: bool = False


@dataclass(frozen=True)
class Query:
    terms: tuple[Term, ...]

    @property
    def positive(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if not t.negated)

    @property
    def negative(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.negated)


def _check_characters(text: str) -> None:
    for char in text:
        if char in "\t\n\r":
            continue
        if unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn"):
            raise SearchError("the query holds a control or unassigned character",
                              "search_bad_character")


def parse(text: str | None) -> Query:
    """The query in `text`, or a `SearchError` (empty, too long, bad characters, unbalanced
    quotes, nothing to search for)."""
    raw = (text or "").strip()
    if not raw:
        raise SearchError("type something to search for", "search_empty")
    if len(raw) > MAX_QUERY_CHARS:
        raise SearchError(f"a search is at most {MAX_QUERY_CHARS} characters",
                          "search_too_long")
    _check_characters(raw)
    raw = unicodedata.normalize("NFC", raw)
    if raw.count('"') % 2:
        raise SearchError("a quote is not closed", "search_syntax")
    terms: list[Term] = []
    for chunk in _CHUNK.findall(raw):
        negated = chunk.startswith("-") and len(chunk) > 1
        body = chunk[1:] if negated else chunk
        quoted = body.startswith('"')
        prefix = body.endswith("*") and not quoted
        words = tuple(w.casefold() for w in _WORD.findall(body))
        if not words:
            continue
        raw_term = body.strip('"').rstrip("*").strip()
        if prefix and len(words[-1]) < MIN_PREFIX:
            prefix = False  # "a*" would read most of the index: a whole word instead
        terms.append(Term(words=words, raw=raw_term, prefix=prefix, negated=negated))
    if not terms:
        raise SearchError("the query has no letters or digits to search for", "search_empty")
    if len(terms) > MAX_TERMS or sum(len(t.words) for t in terms) > MAX_WORDS:
        raise SearchError(f"a search has at most {MAX_TERMS} words or phrases",
                          "search_too_many_terms")
    query = Query(terms=tuple(terms))
    if not query.positive:
        raise SearchError("say what to look for, not only what to leave out",
                          "search_only_exclusions")
    return query


def language_code(language: str | None) -> str | None:
    """The base language of a tag ("pt-BR" -> "pt"), None for none, or a 422 when it is not
    a language tag at all."""
    if language is None or not language.strip():
        return None
    match = _LANGUAGE.match(language.strip().lower())
    if match is None:
        raise SearchError("not a language tag (like en, fr or pt-BR)", "search_language",
                          field="language")
    return match.group(1)


# PostgreSQL's text search configurations by ISO 639-1 code; a language without one is
# indexed with 'simple' (no stemming).
POSTGRES_CONFIGS = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "da": "danish",
    "nl": "dutch", "en": "english", "fi": "finnish", "fr": "french", "de": "german",
    "el": "greek", "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ga": "irish",
    "it": "italian", "lt": "lithuanian", "ne": "nepali", "no": "norwegian", "nb": "norwegian",
    "nn": "norwegian", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian",
    "es": "spanish", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}


def postgres_config(language: str | None) -> str:
    code = (language or "").split("-")[0].split("_")[0].lower()
    return POSTGRES_CONFIGS.get(code, "simple")


# Characters that mark a match in the engines' highlighted output; stripped from every
# document when it is indexed, so a document cannot forge a highlight.
MARK_START = "\x02"
MARK_END = "\x03"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_document_text(text: str | None) -> str:
    return _CONTROL.sub(" ", text or "")
