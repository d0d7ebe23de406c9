"""One JSON object per log line (``ARENA_LOG_FORMAT=json``), for log collectors.

Each line has ``time`` (ISO 8601, UTC, milliseconds), ``level``, ``logger`` and ``message``; then
whatever the call passed in ``extra`` (``log.info("...", extra={"submission_id": 5})``); inside a
Celery task, ``task`` and ``task_id``, and ``submission_id`` when the task takes one as its first
argument; and ``exception`` with the traceback when there is one.
"""

from __future__ import annotations

import inspect
import json
import logging
from datetime import UTC, datetime
from functools import cache
from typing import Any

#: Attributes every LogRecord has; anything else on a record came from ``extra``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


@cache
def _submission_argument(task_name: str, run: Any) -> int | None:
    """The position of a task's ``submission_id`` parameter (``self`` of bound tasks excluded), or None."""
    try:
        names = list(inspect.signature(run).parameters)
    except (TypeError, ValueError):
        return None
    return names.index("submission_id") if "submission_id" in names else None


def _task_fields() -> dict[str, Any]:
    """``task``, ``task_id`` and ``submission_id`` of the Celery task this line is logged from, if any."""
    try:
        from celery import current_task
    except ImportError:  # pragma: no cover - Celery is a dependency; kept optional for tools
        return {}
    task = current_task
    request = getattr(task, "request", None)
    if not task or request is None or not getattr(request, "id", None):
        return {}
    fields: dict[str, Any] = {"task": task.name, "task_id": request.id}
    kwargs = request.kwargs or {}
    if "submission_id" in kwargs:
        fields["submission_id"] = kwargs["submission_id"]
    else:
        position = _submission_argument(task.name, task.run)
        args = request.args or ()
        if position is not None and position < len(args):
            fields["submission_id"] = args[position]
    return fields


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON; values JSON cannot hold are written as their ``str``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_task_fields())
        entry.update({key: value for key, value in vars(record).items()
                      if key not in _RECORD_ATTRIBUTES and not key.startswith("_")})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)
