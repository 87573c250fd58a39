"""Password policy: what a password chosen by an agent must be, and one-time passwords."""

from __future__ import annotations

import secrets

from threadline.errors import ValidationFailed

MIN_LENGTH = 12
MAX_LENGTH = 256  # hashing cost grows with the input; nobody types more
MIN_DISTINCT = 5
# Passwords of 12+ characters that lead the public breach lists, lower case (a candidate is
# compared lower-cased, spaces removed). Shorter ones are refused by their length already.
_COMMON_TEXT = """
123456789012 1234567890123 12345678901234 123456789123 111111111111 000000000000
123123123123 qwertyuiopas qwerty123456 qwertyuiop123 qwertyuiop1234 1q2w3e4r5t6y
1qaz2wsx3edc 1qaz2wsx3edc4rfv qazwsxedcrfv zaq12wsxcde3 abc123456789 abcdefghijkl
abcd1234abcd password1234 password12345 password123456 passwordpassword password1!23
p@ssw0rd1234 p@ssword1234 passw0rd1234 iloveyou1234 iloveyou123456 letmein12345
letmeinletmein welcome12345 welcome123456 welcome@1234 changeme1234 changemenow!
administrator admin1234567 adminadmin12 trustno1trustno1 sunshine1234 princess1234
football1234 baseball1234 superman1234 starwars1234 monkey123456 dragon123456
threadline12 threadline123 threadline1234 customercare customerservice support12345
helpdesk1234 summer2024!! winter2024!! summer2025!! winter2025!! summer2026!! winter2026!!
"""
COMMON = frozenset(_COMMON_TEXT.split())


def check_strength(password: str, email: str) -> None:
    """Refuse a password an agent chooses that is short, huge, common or his email."""
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(f"the password needs at least {MIN_LENGTH} characters",
                               code="password_too_short")
    if len(password) > MAX_LENGTH:
        raise ValidationFailed(f"the password may have at most {MAX_LENGTH} characters",
                               code="password_too_long")
    folded = password.lower().replace(" ", "")
    local = email.strip().lower().split("@")[0]
    if folded in COMMON or len(set(folded)) < MIN_DISTINCT:
        raise ValidationFailed("this password is too common or too simple; choose another",
                               code="password_common")
    if folded in (email.strip().lower(), local):
        raise ValidationFailed("the password must not be your email address",
                               code="password_is_email")


def one_time_password() -> str:
    """16 URL-safe random characters (96 bits), for an admin to hand over once."""
    return secrets.token_urlsafe(12)
