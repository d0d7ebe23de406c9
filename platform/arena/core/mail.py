"""Notices by e-mail. A mail server that is down must never fail the action that sent the notice."""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

log = logging.getLogger(__name__)


def send_notice_on_commit(*, subject: str, body: str, to: list[str]) -> None:
    """Send once the surrounding transaction commits; log (not raise) delivery failures."""
    if not to:
        return

    def deliver() -> None:
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
        except (smtplib.SMTPException, OSError) as exc:
            log.warning("could not send notice %r to %d recipient(s): %s", subject, len(to), exc)

    transaction.on_commit(deliver)
