from __future__ import annotations

from django.db import transaction

from arena.accounts.models import User
from arena.audit.services import audit_record


@transaction.atomic
def user_sign_up(*, username: str, email: str, password: str, affiliation: str = "") -> User:
    user = User.objects.create_user(
        username=username, email=email.strip(), password=password, affiliation=affiliation.strip()
    )
    audit_record(actor=user, action="account.sign_up", target=user)
    return user
