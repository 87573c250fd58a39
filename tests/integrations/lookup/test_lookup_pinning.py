"""The endpoint's name is resolved once and the call goes to an address that was checked
(reference 5.4): no second resolution can point it elsewhere (DNS rebinding). Over real TLS
with a test certificate authority: the connection goes to the address, while the `Host`
header and the certificate check use the name."""

from __future__ import annotations

import datetime
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.integrations.lookup.receiver import Receiver, ReceiverServer
from threadline.channels.urls import STRICT, UrlPolicy, UrlRefused
from threadline.integrations.lookup.client import call, new_secret, pinned
from threadline.integrations.lookup.models import Outcome

PUBLIC = "93.184.215.14"
ALLOWED = UrlPolicy(allow_custom=True)


class TestPinned:
    def test_the_checked_address_is_the_one_called(self) -> None:
        asked: list[str] = []

        def resolve(host: str) -> list[str]:
            asked.append(host)
            return [PUBLIC]

        target = pinned("https://shop.example:8443/lookup?x=1", STRICT, resolve)
        assert target.url == f"https://{PUBLIC}:8443/lookup?x=1"
        assert target.headers == {"host": "shop.example:8443", "connection": "close"}
        assert target.extensions == {"sni_hostname": "shop.example"}
        assert asked == ["shop.example"]  # resolved once

    def test_one_internal_address_among_public_ones_is_refused(self) -> None:
        with pytest.raises(UrlRefused):
            pinned("https://shop.example/lookup", STRICT, lambda _h: [PUBLIC, "10.0.0.7"])

    def test_ipv6_is_bracketed_and_ipv4_preferred(self) -> None:
        v6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"
        assert pinned("https://shop.example/", STRICT, lambda _h: [v6]).url == f"https://[{v6}]/"
        assert pinned("https://shop.example/", STRICT,
                      lambda _h: [v6, PUBLIC]).url == f"https://{PUBLIC}/"

    def test_an_address_in_the_url_is_checked_as_it_is(self) -> None:
        assert pinned(f"https://{PUBLIC}/x", STRICT).url == f"https://{PUBLIC}/x"
        with pytest.raises(UrlRefused):
            pinned("https://169.254.169.254/x", STRICT)


def _cert(name: str, issuer: x509.Name, issuer_key: ec.EllipticCurvePrivateKey,
          key: ec.EllipticCurvePrivateKey, *, ca: bool) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
               .issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(hours=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]),
                                        critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, x509.Name,
                                                                  ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Threadline test CA")])
    cert = _cert("Threadline test CA", name, key, key, ca=True)
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path, name, key


def _server_context(tmp: Path, authority: tuple[Path, x509.Name, ec.EllipticCurvePrivateKey],
                    name: str) -> ssl.SSLContext:
    _, issuer, issuer_key = authority
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _cert(name, issuer, issuer_key, key, ca=False)
    (tmp / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp / "cert.pem", tmp / "key.pem")
    return context


@pytest.fixture
def http(authority: tuple[Path, x509.Name, ec.EllipticCurvePrivateKey]) -> Iterator[httpx.Client]:
    with httpx.Client(verify=ssl.create_default_context(cafile=str(authority[0]))) as client:
        yield client


def _tls_receiver(tmp_path: Path, authority: tuple[Path, x509.Name, ec.EllipticCurvePrivateKey],
                  name: str) -> ReceiverServer:
    return ReceiverServer(tls=_server_context(tmp_path, authority, name))


def _lookup(http: httpx.Client, receiver: Receiver) -> object:
    receiver.secret = new_secret()
    return call(http, f"{receiver.url}/ok", receiver.secret, b'{"type":"lookup.customer"}',
                "lkp_tls", timeout_seconds=3, policy=ALLOWED)


class TestOverTls:
    def test_the_name_is_verified_and_sent_while_the_address_is_called(
            self, tmp_path: Path, authority: tuple[Path, x509.Name, ec.EllipticCurvePrivateKey],
            http: httpx.Client) -> None:
        with _tls_receiver(tmp_path, authority, "localhost") as receiver:
            answer = _lookup(http, receiver)
            assert getattr(answer, "outcome", None) == Outcome.OK, answer
            [received] = receiver.received
            port = receiver.url.rsplit(":", 1)[-1]
            assert received.signed and received.headers["host"] == f"localhost:{port}"
            assert received.headers["connection"] == "close"  # never pooled by address

    def test_a_certificate_for_another_name_is_refused(
            self, tmp_path: Path, authority: tuple[Path, x509.Name, ec.EllipticCurvePrivateKey],
            http: httpx.Client) -> None:
        with _tls_receiver(tmp_path, authority, "elsewhere.example") as receiver:
            answer = _lookup(http, receiver)
            assert getattr(answer, "outcome", None) == Outcome.FAILED
            assert getattr(answer, "error_code", None) == "lookup_unreachable"
            assert receiver.received == []
