"""Users and their API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prelabel.errors import AuthenticationError, ConflictError, ValidationError
from prelabel.store import ApiToken, User
from prelabel.store.types import utcnow

TOKEN_USE_RESOLUTION = timedelta(minutes=1)


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
