"""The one way a submission fails for good: marked failed, its team told, its organisers alerted when
the cause is the phase's configuration rather than the team's submission."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction

from arena.submissions.models import FailureCause
from arena.submissions.services import lifecycle
from arena.submissions.services.misconfiguration import misconfiguration_alert_record
from arena.submissions.services.notify import notify_team_of_result

__all__ = ["FailureCause", "submission_fail"]

log = logging.getLogger(__name__)


def submission_fail(
    *, submission_id: int, message: str, detail: str = "", cause: FailureCause = FailureCause.SUBMISSION,
    sources: Iterable[str] | None = None, token=lifecycle.UNGUARDED,
) -> bool:
    """Fail the submission (if it is still in one of ``sources`` and, with ``token``, still held with it),
    recording the ``cause``, then notify on commit. A failure caused by the configuration is summarised to
    the organisers (at most one e-mail an hour per phase) and re-queued once the phase is ready again.
    True when it moved to failed."""
    with transaction.atomic():
        if not lifecycle.submission_mark_failed(submission_id=submission_id, message=message, detail=detail,
                                                sources=sources, token=token, cause=cause):
            return False
        notify_team_of_result(submission_id=submission_id)
        if cause == FailureCause.CONFIGURATION:
            log.error("submission %s failed on the phase's configuration: %s", submission_id, detail)
            misconfiguration_alert_record(submission_id=submission_id, detail=detail)
    return True
