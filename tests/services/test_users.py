"""Users, API tokens and passwords: keys are shown once and stored only as digests,
passwords only as salted hashes."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from prelabel.errors import AuthenticationError, ConflictError, ValidationError
from prelabel.services.users import (
    authenticate_password,
    authenticate_token,
    create_first_admin,
    create_token,
    create_user,
    set_password,
    verify_password,
)
from prelabel.store import ApiToken


def test_token_authenticates_its_user_and_is_not_stored_in_clear(session: Session) -> None:
    user = create_user(session, email="Ann@Example.org")
    issued = create_token(session, user)
    assert authenticate_token(session, issued.key).id == user.id
    stored = session.scalars(select(ApiToken)).one()
    assert issued.key not in {stored.key_digest, stored.key_prefix, stored.name}
    assert stored.last_used_at is not None


@pytest.mark.parametrize("key", ["", "nope", "0" * 40])
def test_unknown_token_is_refused(session: Session, key: str) -> None:
    create_token(session, create_user(session, email="a@b.c"))
    with pytest.raises(AuthenticationError):
        authenticate_token(session, key)


def test_token_of_an_inactive_user_is_refused(session: Session) -> None:
    user = create_user(session, email="gone@b.c", is_active=False)
    issued = create_token(session, user)
    with pytest.raises(AuthenticationError):
        authenticate_token(session, issued.key)


def test_emails_are_unique_case_insensitively(session: Session) -> None:
    create_user(session, email="ann@x.org")
    with pytest.raises(ConflictError):
        create_user(session, email=" ANN@x.org ")


@pytest.mark.parametrize("email", ["", "ann", "@x.org", "ann@", "a b@x.org"])
def test_malformed_email_is_refused(session: Session, email: str) -> None:
    with pytest.raises(ValidationError):
        create_user(session, email=email)


def test_first_admin_is_created_only_on_an_empty_store(session: Session) -> None:
    issued = create_first_admin(session, email="admin@localhost")
    assert issued is not None
    assert create_first_admin(session, email="other@localhost") is None


def test_a_password_is_stored_salted_and_checked(session: Session) -> None:
    user = create_user(session, email="ann@example.com")
    set_password(session, user, "correct horse")
    first = user.password_hash
    assert first is not None and first.startswith("scrypt$") and "correct horse" not in first
    assert authenticate_password(session, "ANN@example.com ", "correct horse") is user
    set_password(session, user, "correct horse")
    assert user.password_hash != first, "a new salt each time"


@pytest.mark.parametrize(
    ("email", "password"),
    [
        pytest.param("ann@example.com", "wrong horse", id="wrong-password"),
        pytest.param("bob@example.com", "correct horse", id="unknown-email"),
        pytest.param("no address", "correct horse", id="malformed-email"),
        pytest.param("ann@example.com", "x" * 5000, id="too-long"),
    ],
)
def test_a_wrong_email_or_password_is_one_error(
    session: Session, email: str, password: str
) -> None:
    set_password(session, create_user(session, email="ann@example.com"), "correct horse")
    with pytest.raises(AuthenticationError, match="^wrong e-mail or password$"):
        authenticate_password(session, email, password)


def test_without_a_password_or_when_inactive_a_user_cannot_log_in(session: Session) -> None:
    create_user(session, email="token-only@example.com")
    with pytest.raises(AuthenticationError):
        authenticate_password(session, "token-only@example.com", "")
    gone = create_user(session, email="gone@example.com", is_active=False)
    set_password(session, gone, "correct horse")
    with pytest.raises(AuthenticationError):
        authenticate_password(session, "gone@example.com", "correct horse")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        pytest.param("short", "at least 8", id="too-short"),
        pytest.param("x" * 1025, "at most 1024", id="too-long"),
    ],
)
def test_a_password_must_have_a_sensible_length(
    session: Session, password: str, message: str
) -> None:
    user = create_user(session, email="ann@example.com")
    with pytest.raises(ValidationError, match=message):
        set_password(session, user, password)
    assert user.password_hash is None


@pytest.mark.parametrize("stored", ["", "md5$abc", "scrypt$x$8$1$00$00", "scrypt$16384$8$1$zz$00"])
def test_a_malformed_stored_hash_matches_nothing(stored: str) -> None:
    assert verify_password(stored, "anything at all") is False
