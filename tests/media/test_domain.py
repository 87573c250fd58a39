"""The media domain's parts on their own: sniffing, channel limits, images, names, tokens
and both blob stores (the local folder; S3 on moto's real S3-compatible HTTP server)."""

from __future__ import annotations

import io
import time
import uuid
from pathlib import Path

import pytest
from PIL import Image

from tests.media import samples
from threadline.config import Settings
from threadline.media import images, limits, tokens
from threadline.media.service import safe_name
from threadline.media.sniff import sniff
from threadline.media.store import (
    BlobMissing,
    BlobStore,
    LocalBlobStore,
    S3BlobStore,
    blob_key,
    sha256,
)


class TestSniffing:
    @pytest.mark.parametrize(("data", "mime"), [
        (samples.jpeg(), "image/jpeg"), (samples.png(), "image/png"),
        (samples.pdf(), "application/pdf"), (samples.mp4(4096), "video/mp4"),
        (samples.EXE, "application/x-msdownload"), (samples.SVG, "image/svg+xml"),
        (samples.HTML, "text/html"), (b"order 4411, thanks", "text/plain"),
        (b"\x00\x01\x02garbage", "application/octet-stream"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "application/x-executable"),
    ])
    def test_the_type_comes_from_the_bytes(self, data: bytes, mime: str) -> None:
        assert sniff(data) == mime


class TestLimits:
    def test_a_30_mb_video_on_whatsapp_is_refused_naming_the_limit(self) -> None:
        with pytest.raises(limits.MediaRefused) as refused:
            limits.check("whatsapp", "video/mp4", 30 * limits.MB)
        assert refused.value.code == "media_too_large"
        assert "16 MB" in refused.value.message and refused.value.channel == "whatsapp"
        assert refused.value.allowed == ["video of at most 16 MB"]

    def test_a_type_the_channel_does_not_take(self) -> None:
        with pytest.raises(limits.MediaRefused) as refused:
            limits.check("instagram", "application/msword", 1000)
        assert refused.value.code == "media_type_refused"
        assert "application/pdf" in refused.value.allowed

    def test_overrides_change_a_cap(self) -> None:
        assert limits.check("whatsapp", "video/mp4", 20 * limits.MB,
                            {"whatsapp": {"video": 25 * limits.MB}}).kind == "video"

    def test_inbound_takes_what_any_channel_would(self) -> None:
        assert limits.check(None, "application/pdf", 30 * limits.MB).kind == "document"


class TestImages:
    def test_exif_is_stripped_and_orientation_applied(self) -> None:
        cleaned = images.clean(samples.jpeg(40, 20, exif_gps=True), "image/jpeg")
        image = Image.open(io.BytesIO(cleaned))
        assert image.size == (20, 40)
        assert not image.getexif()

    def test_thumbnail_is_small(self) -> None:
        thumb, width, height = images.thumbnail(samples.png(1000, 500))
        assert (width, height) == (1000, 500)
        assert Image.open(io.BytesIO(thumb)).size == (320, 160)

    def test_a_decompression_bomb_is_refused(self) -> None:
        with pytest.raises(images.BadImage, match="pixels"):
            images.thumbnail(samples.bomb_png(), max_pixels=40_000_000)

    def test_a_truncated_image_is_refused(self) -> None:
        with pytest.raises(images.BadImage):
            images.clean(samples.jpeg()[:60], "image/jpeg")


class TestNames:
    @pytest.mark.parametrize(("name", "mime", "expected"), [
        ("../../etc/passwd.pdf", "application/pdf", "passwd.pdf"),
        ("..\\..\\win.ini.jpg", "image/jpeg", "win.ini.jpg"),
        ("invoice.jpg", "application/pdf", "invoice.jpg.pdf"),
        ("photo.JPEG", "image/jpeg", "photo.JPEG"),
        ("a\x00b\u202ec.png", "image/png", "abc.png"),
        (None, "image/png", "file.png"),
        ("<script>.pdf", "application/pdf", "_script_.pdf"),
        ("x" * 300 + ".pdf", "application/pdf", "x" * 116 + ".pdf"),
    ])
    def test_names_are_made_safe(self, name: str | None, mime: str, expected: str) -> None:
        assert safe_name(name, mime) == expected


class TestTokens:
    def settings(self, secret: str = "media-secret-one") -> Settings:
        return Settings(secret_key=secret)

    def test_round_trip(self) -> None:
        file_id, ws = uuid.uuid4(), uuid.uuid4()
        token = tokens.sign(self.settings(), file_id, ws, seconds=60)
        grant = tokens.verify(self.settings(), token)
        assert (grant.file_id, grant.workspace_id, grant.variant) == (file_id, ws, "file")

    def test_expired_forged_and_other_secret_are_refused(self) -> None:
        token = tokens.sign(self.settings(), uuid.uuid4(), uuid.uuid4(), seconds=60,
                            now=time.time() - 3600)
        with pytest.raises(tokens.BadMediaToken, match="expired"):
            tokens.verify(self.settings(), token)
        fresh = tokens.sign(self.settings(), uuid.uuid4(), uuid.uuid4(), seconds=60)
        with pytest.raises(tokens.BadMediaToken):
            tokens.verify(self.settings("another-secret"), fresh)
        with pytest.raises(tokens.BadMediaToken):
            tokens.verify(self.settings(), fresh[:-2] + ("AA" if fresh[-2:] != "AA" else "BB"))
        with pytest.raises(tokens.BadMediaToken):
            tokens.verify(self.settings(), "x" * 1000)


# --- blob stores ------------------------------------------------------------------------------


def s3_store(endpoint: str, bucket: str = "threadline-media") -> S3BlobStore:
    return S3BlobStore(bucket=bucket, endpoint_url=endpoint, region="us-east-1",
                       access_key_id="testing", secret_access_key="testing",
                       create_bucket=True)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "media")
    endpoint: str = request.getfixturevalue("s3_endpoint")
    return s3_store(endpoint)


class TestBlobStores:
    def test_put_get_exists_delete(self, store: BlobStore) -> None:
        data = samples.pdf(uuid.uuid4().hex)
        key = blob_key(sha256(data))
        assert not store.exists(key)
        store.put(key, data, "application/pdf")
        store.put(key, data, "application/pdf")  # content-addressed: harmless again
        assert store.exists(key) and store.get(key) == data
        store.delete(key)
        assert not store.exists(key)
        with pytest.raises(BlobMissing):
            store.get(key)

    @pytest.mark.parametrize("key", ["../../etc/passwd", "blobs/aa/../../x",
                                     "blobs/ab/" + "g" * 64, "/abs/path", ""])
    def test_keys_from_outside_are_refused(self, store: BlobStore, key: str) -> None:
        with pytest.raises(ValueError):
            store.get(key)
        with pytest.raises(ValueError):
            store.put(key, b"x", "text/plain")

    def test_two_clients_of_one_bucket_see_the_same_bytes(self, s3_endpoint: str) -> None:
        one, two = s3_store(s3_endpoint), s3_store(s3_endpoint)
        data = samples.jpeg()
        key = blob_key(sha256(data))
        one.put(key, data, "image/jpeg")
        assert two.get(key) == data
