"""Media: files that come in and go out with messages (docs/media.md, decision 0323).

Bytes live in a blob store (the data folder in embedded mode, S3-compatible storage in
scaled mode), content-addressed by SHA-256; an `attachments` row names them for one
workspace with the sniffed type, the size, the original name and a thumbnail. Types are
decided from the bytes (never the name or the declared type), each channel's size and type
limits are data (`limits.py`), and files are served only through signed expiring URLs.
"""
