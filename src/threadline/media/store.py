"""Blob stores: where the bytes of attachments live, addressed by their SHA-256.

`LocalBlobStore` keeps them under the data folder (embedded mode); `S3BlobStore` in any
S3-compatible object storage through boto3 (scaled mode: every web process and worker sees
the same bytes). Keys are made here from a hex digest only, so no name from outside ever
becomes a path.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol

from threadline.config import Settings

_KEY = re.compile(r"^(blobs|thumbs)/[0-9a-f]{2}/[0-9a-f]{64}$")


class BlobMissing(Exception):
    """No blob under that key."""


def blob_key(digest: str, *, folder: str = "blobs") -> str:
    key = f"{folder}/{digest[:2]}/{digest}"
    check_key(key)
    return key


def check_key(key: str) -> None:
    if not _KEY.match(key):
        raise ValueError("not a blob key")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...


class LocalBlobStore:
    """Files under `root` (settings.data_dir / "media"), written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        check_key(key)
        return self.root / key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        if path.exists():
            return  # content-addressed: the same key holds the same bytes
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise BlobMissing(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3BlobStore:
    """One bucket of an S3-compatible service (AWS S3, MinIO, Ceph, Garage...)."""

    def __init__(self, *, bucket: str, endpoint_url: str | None, region: str,
                 access_key_id: str | None, secret_access_key: str | None,
                 create_bucket: bool = False) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.client: Any = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region,
            aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key,
            config=Config(retries={"max_attempts": 3, "mode": "standard"},
                          s3={"addressing_style": "path"}, connect_timeout=5,
                          read_timeout=30))
        if create_bucket:
            self._ensure_bucket()

    def _ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        check_key(key)
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data,
                               ContentType=content_type,
                               ChecksumSHA256=_b64_sha256(data))

    def get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        check_key(key)
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise BlobMissing(key) from None
            raise
        body: bytes = answer["Body"].read()
        return body

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        check_key(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError:
            return False
        return True

    def delete(self, key: str) -> None:
        check_key(key)
        self.client.delete_object(Bucket=self.bucket, Key=key)


def _b64_sha256(data: bytes) -> str:
    import base64

    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def make_store(settings: Settings) -> BlobStore:
    if settings.media_store == "s3":
        if not settings.media_s3_bucket:
            raise ValueError("THREADLINE_MEDIA_S3_BUCKET is required with media_store=s3")
        return S3BlobStore(bucket=settings.media_s3_bucket,
                           endpoint_url=settings.media_s3_endpoint_url,
                           region=settings.media_s3_region,
                           access_key_id=settings.media_s3_access_key_id,
                           secret_access_key=settings.media_s3_secret_access_key,
                           create_bucket=settings.media_s3_create_bucket)
    return LocalBlobStore(Path(settings.data_dir) / "media")


_STORES: dict[int, tuple[Settings, BlobStore]] = {}


def store_for(settings: Settings) -> BlobStore:
    """The process's blob store for these settings (one boto3 client per process)."""
    found = _STORES.get(id(settings))
    if found is None or found[0] is not settings:
        found = (settings, make_store(settings))
        _STORES[id(settings)] = found
    return found[1]
