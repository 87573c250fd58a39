"""The knowledge base: articles, revisions, the public help centre, votes and views
(docs/knowledge-base.md)."""
