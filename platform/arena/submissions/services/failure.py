"""The one way a submission fails for good: marked failed, its team told, its organisers alerted when
the cause is the phase's configuration rather than the team's submission."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from enum import StrEnum

from django.db import transaction

from arena.submissions.services import lifecycle
from arena.submissions.services.notify import notify_organisers_of_misconfiguration, notify_team_of_result

log = logging.getLogger(__name__)


class FailureCause(StrEnum):
    #: The team's file or model is at fault; the message says what to change.
    SUBMISSION = "submission"
    #: The phase or track is misconfigured (reference, scorer options, assets, inputs): the organisers' problem.
    CONFIGURATION = "configuration"
    #: The platform could not finish it (attempts used up, no sandbox host); the team may submit again.
    PLATFORM = "platform"


def submission_fail(
    *, submission_id: int, message: str, detail: str = "", cause: FailureCause = FailureCause.SUBMISSION,
    sources: Iterable[str] | None = None, token=lifecycle.UNGUARDED,
) -> bool:
    """Fail the submission (if it is still in one of ``sources`` and, with ``token``, still held with it),
    then notify on commit. True when it moved to failed."""
    with transaction.atomic():
        if not lifecycle.submission_mark_failed(submission_id=submission_id, message=message, detail=detail,
                                                sources=sources, token=token):
            return False
        notify_team_of_result(submission_id=submission_id)
        if cause == FailureCause.CONFIGURATION:
            log.error("submission %s failed on the phase's configuration: %s", submission_id, detail)
            notify_organisers_of_misconfiguration(submission_id=submission_id, detail=detail)
    return True
