"""Data-subject requests (GDPR articles 15, 17 and 20): export everything Threadline holds
about one customer as a JSON archive, and erase it.

`subject.collect` finds what belongs to a customer (every customer merged into him, his
identities, consents, conversations, messages, hops, links, callbacks, merges); `export` and
`erase` both work from it. `erasers` is the registry that says, for every table and every
column that can hold text, what erasure does with it (docs/decisions/0108).
"""
