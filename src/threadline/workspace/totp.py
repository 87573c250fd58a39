"""TOTP second factor (RFC 6238, 30 s steps, 6 digits) and the sealing of its secret.

The secret is sealed with Fernet (AES-128-CBC + HMAC-SHA256, the `cryptography` library)
under a key derived from the instance's secret key with HKDF, so the database alone does not
give the codes away. Only this module reads `Agent.totp_secret`."""

from __future__ import annotations

import hmac
import re
from datetime import datetime

import pyotp
from cryptography.fernet import Fernet, InvalidToken

from threadline.db.crypto import derive_key

ISSUER = "Threadline"
STEP_SECONDS = 30
DRIFT_STEPS = 1  # a code of the previous or next step is accepted (clock drift)
CODE = re.compile(r"[0-9]{6}")


def _fernet(secret_key: str) -> Fernet:
    return Fernet(derive_key(secret_key, purpose=b"threadline totp secret"))


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits


def seal(secret: str, secret_key: str) -> str:
    return _fernet(secret_key).encrypt(secret.encode()).decode()


def unseal(sealed: str, secret_key: str) -> str | None:
    """The secret, or None when it was sealed under another key (the secret key changed)."""
    try:
        return _fernet(secret_key).decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None


def provisioning_uri(secret: str, email: str, workspace: str) -> str:
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=email, issuer_name=f"{ISSUER} ({workspace})")


def matching_step(secret: str, code: str, now: datetime, after: int | None) -> int | None:
    """The time step `code` belongs to (within the drift), if it is later than `after` (the
    last step used: a code is good once); None otherwise."""
    code = code.strip().replace(" ", "")
    if not CODE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None

