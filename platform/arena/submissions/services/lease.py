"""Keeping a claimed submission's lease alive while a worker works on it."""

from __future__ import annotations

import logging
import threading
import uuid
from contextlib import contextmanager

from django.conf import settings
from django.db import DatabaseError, connection

from arena.submissions.services import lifecycle

log = logging.getLogger(__name__)


@contextmanager
def lease_kept(*, submission_id: int, token: uuid.UUID | None):
    """Renew the lease every third of its length until the block ends.

    A worker that dies stops renewing, so the reconciler takes the submission back within one lease
    length instead of waiting for the task's time limit. Renewal uses its own database connection.
    """
    stop = threading.Event()
    interval = max(1.0, settings.ARENA_LEASE_SECONDS / 3)

    def renew() -> None:
        try:
            while not stop.wait(interval):
                try:
                    if not lifecycle.submission_renew_lease(submission_id=submission_id, token=token):
                        return  # taken back or finished: the holder's next step will find out
                except DatabaseError as exc:  # the database is away; the lease may lapse, which is safe
                    log.warning("could not renew the lease of submission %s: %s", submission_id, exc)
        finally:
            connection.close()

    thread = threading.Thread(target=renew, name=f"lease-{submission_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=interval)
