"""Encryption at rest for personal data, and keyed hashes ("blind indexes") for exact lookup.

Phone numbers, ID numbers and addresses are stored as Fernet tokens, so a raw dump of the database shows
none of them. Exact search (a phone number at login or at registration) goes through an HMAC of the
normalised value, stored beside the ciphertext and indexed. Both keys are derived from KANGLE_FIELD_KEY;
it may hold several comma-separated keys — the first encrypts, all decrypt, the last (the original)
keys the hashes — so keys can be rotated by putting a new key in front.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

TOKEN_PREFIX = "enc1:"  # noqa: S105 - a format marker, not a secret


def _derive(secret: str, purpose: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), purpose, hashlib.sha256).digest()


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet(
        [Fernet(base64.urlsafe_b64encode(_derive(key, b"kangle-field-encryption"))) for key in keys]
    )


@cache
def _hash_key(original_key: str) -> bytes:
    return _derive(original_key, b"kangle-blind-index")


def _keys() -> tuple[str, ...]:
    return tuple(key.strip() for key in settings.KANGLE_FIELD_KEYS if key.strip())


def encrypt(plaintext: str) -> str:
    return TOKEN_PREFIX + _fernet(_keys()).encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(stored: str) -> str:
    if not stored.startswith(TOKEN_PREFIX):
        raise ValueError("value is not an encrypted token")
    try:
        return _fernet(_keys()).decrypt(stored[len(TOKEN_PREFIX) :].encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise ValueError("encrypted value cannot be decrypted with the configured KANGLE_FIELD_KEY") from exc


def blind_index(normalised: str) -> str:
    """A keyed hash of an already normalised value (same input → same hash; useless without the key).

    The hash key comes from the LAST key of KANGLE_FIELD_KEY — the original one. A rotation puts the new key
    first (it encrypts from then on) and keeps the old one at the end, so every stored hash stays valid and
    phone lookups keep working without re-hashing anything.
    """
    return hmac.new(_hash_key(_keys()[-1]), normalised.encode("utf-8"), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A text column holding a Fernet token; Python code sees the plaintext.

    It cannot be filtered on (the ciphertext is randomised): pair it with a ``blind_index`` column.
    """

    description = "Text encrypted at rest"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))
