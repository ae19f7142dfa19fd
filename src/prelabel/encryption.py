"""Encryption of provider API keys at rest, with a server secret.

The secret comes from ``PRELABEL_SECRET_KEY`` (required when several machines share a
database) or, on a single machine, from ``<data_dir>/secret.key``, created on first use and
readable by its owner only. Fernet (from ``cryptography``) authenticates as it encrypts, so a
key encrypted under another secret is refused rather than decrypted into garbage.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from prelabel.errors import PrelabelError
from prelabel.settings import Settings


class SecretBox:
    """Encrypts and decrypts short secrets with one server secret."""

    def __init__(self, secret: str) -> None:
        digest = hashlib.sha256(secret.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def __repr__(self) -> str:
        return "SecretBox(<secret hidden>)"

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken as exc:
            raise PrelabelError(
                "a stored API key cannot be decrypted: the server secret changed "
                "(PRELABEL_SECRET_KEY or <data_dir>/secret.key); add the key again"
            ) from exc


def open_secret_box(settings: Settings) -> SecretBox:
    """The box for this deployment's secret, creating the local secret file if needed."""
    return SecretBox(server_secret(settings))


def server_secret(settings: Settings) -> str:
    """This deployment's secret: ``PRELABEL_SECRET_KEY``, else the local secret file (created
    if needed). Other uses (the web's session signing) derive their own key from it, so no
    two purposes share a key."""
    if settings.secret_key:
        return settings.secret_key.get_secret_value()
    return _local_secret(settings.data_dir / "secret.key")


def _local_secret(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = Fernet.generate_key().decode()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret + "\n")
    return secret
