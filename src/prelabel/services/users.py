"""Users, their API tokens, and their passwords for the web pages."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prelabel.errors import AuthenticationError, ConflictError, ValidationError
from prelabel.store import ApiToken, User
from prelabel.store.types import utcnow

TOKEN_USE_RESOLUTION = timedelta(minutes=1)
PASSWORD_MIN_LENGTH = 8
#: Longer passwords are refused rather than hashed: hashing megabytes would be a cheap way
#: to keep a server busy.
PASSWORD_MAX_LENGTH = 1024
#: scrypt's cost: 16 MiB and some 50 ms per hash, so a stolen database is slow to guess at.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


@dataclass(frozen=True)
class IssuedToken:
    """A new API token: ``key`` is shown to its owner once and never stored."""

    token: ApiToken
    key: str


def create_user(
    session: Session, *, email: str, is_admin: bool = False, is_active: bool = True
) -> User:
    email = normalize_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise ConflictError(f"a user with e-mail {email} already exists")
    user = User(email=email, is_admin=is_admin, is_active=is_active)
    session.add(user)
    session.flush()
    return user


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or not domain or len(email) > 254 or any(c.isspace() for c in email):
        raise ValidationError(f"{email!r} is not an e-mail address")
    return email


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def count_users(session: Session) -> int:
    return session.scalar(select(func.count(User.id))) or 0


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def create_token(session: Session, user: User, *, name: str = "") -> IssuedToken:
    key = secrets.token_hex(20)
    token = ApiToken(user_id=user.id, name=name, key_digest=_digest(key), key_prefix=key[:8])
    session.add(token)
    session.flush()
    return IssuedToken(token=token, key=key)


def authenticate_token(session: Session, key: str) -> User:
    """The active user owning API key ``key``; the key is compared by its digest only."""
    token = session.scalar(select(ApiToken).where(ApiToken.key_digest == _digest(key)))
    user = session.get(User, token.user_id) if token else None
    if token is None or user is None or not user.is_active:
        raise AuthenticationError("invalid API token")
    now = utcnow()
    # Recorded to the minute: writing on every request would make every read a write.
    if token.last_used_at is None or token.last_used_at < now - TOKEN_USE_RESOLUTION:
        token.last_used_at = now
    return user


def _digest(key: str) -> str:
    """SHA-256 suffices: keys are 160 random bits, so there is nothing to brute-force."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_first_admin(session: Session, *, email: str) -> IssuedToken | None:
    """The first admin and their API token on an empty store; None if users already exist."""
    if count_users(session) > 0:
        return None
    user = create_user(session, email=email, is_admin=True)
    return create_token(session, user, name="created by prelabel init")


def first_admin(session: Session) -> User | None:
    return session.scalar(select(User).where(User.is_admin.is_(True)).order_by(User.id).limit(1))


def set_password(session: Session, user: User, password: str) -> None:
    """Give ``user`` a password for the web pages (replacing any former one).

    Stored as a salted scrypt hash; the web signs a user out everywhere when it changes.
    """
    if len(password) < PASSWORD_MIN_LENGTH:
        raise ValidationError(f"password: at least {PASSWORD_MIN_LENGTH} characters")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise ValidationError(f"password: at most {PASSWORD_MAX_LENGTH} characters")
    user.password_hash = hash_password(password)
    session.flush()


def authenticate_password(session: Session, email: str, password: str) -> User:
    """The active user with this e-mail and password; one AuthenticationError otherwise.

    The error does not say which of the two was wrong, and an unknown address costs the same
    hashing as a known one, so neither the message nor the timing tells which addresses exist.
    """
    try:
        user = find_user_by_email(session, email)
    except ValidationError:
        user = None
    stored = user.password_hash if user is not None and user.is_active else None
    matches = verify_password(stored or _decoy_hash(), password)
    if user is None or stored is None or not matches:
        raise AuthenticationError("wrong e-mail or password")
    return user


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$<salt hex>$<hash hex>``: the parameters travel with the hash, so they can
    be raised later without making stored hashes unreadable."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` hashes to ``stored``, compared in constant time; False for a
    malformed hash or a password past the length limit."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt" or len(password) > PASSWORD_MAX_LENGTH:
            return False
        computed = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(computed.hex(), digest)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)


@cache
def _decoy_hash() -> str:
    """A hash to check a password against when there is no user's to check it against."""
    return hash_password(secrets.token_hex(16))
