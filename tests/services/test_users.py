"""Users and API tokens: keys are shown once and stored only as digests."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from prelabel.errors import AuthenticationError, ConflictError, ValidationError
from prelabel.services.users import (
    authenticate_token,
    create_first_admin,
    create_token,
    create_user,
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
