"""Prometheus metrics, computed when ``/metrics`` is scraped.

Every value is read from the database or the broker at scrape time, not counted in process memory:
gunicorn runs several web processes, a scrape reaches one of them, and the work being measured
(scoring, sandbox runs, the reconciler) happens in Celery worker processes on other hosts, which
serve no HTTP at all. What the rows already record needs no hook in the workers and is the same
whichever process answers:

- ``arena_submissions{status}``: submissions by status (one GROUP BY).
- ``arena_queue_depth{queue}``: messages waiting in each Celery queue (Redis brokers only).
- ``arena_scoring_duration_seconds``: histogram of ``finished_at - scoring_started_at`` of scored
  submissions; ``arena_sandbox_run_duration_seconds``: of ``scoring_started_at - started_at`` of
  container submissions whose model finished (the run ends where scoring starts). Both are over all
  time (one aggregate query each), so they only grow, as Prometheus expects of a histogram; a re-run
  replaces a submission's timings, so the sum may, rarely, step back.
- ``arena_reconciler_actions_total{action}``: submissions the reconciler took back from a stopped
  worker (``requeued``) or failed after their last attempt (``failed``), from its audit entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import timedelta

import redis
from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from arena.core.health import DEFAULT_TIMEOUT

#: Bucket bounds in seconds. Scoring a file takes seconds to minutes; a model run minutes to hours.
SCORING_BUCKETS = (1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
SANDBOX_RUN_BUCKETS = (10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600)
#: The audit actions the reconciler records (arena.submissions.services.reconcile), by metric label.
RECONCILER_ACTIONS = {"requeued": "submission_requeued_by_reconciler", "failed": "submission_failed_by_reconciler"}
#: kombu's Redis transport keeps a queue's messages of priority p > 0 under "<queue>\x06\x16<p>".
_REDIS_PRIORITY_SEPARATOR = "\x06\x16"
_REDIS_PRIORITY_STEPS = (0, 3, 6, 9)


def celery_queue_names() -> list[str]:
    return [queue.name for queue in settings.CELERY_TASK_QUEUES]


def redis_queue_depths(url: str, queues: Iterable[str], *, timeout: float = DEFAULT_TIMEOUT) -> dict[str, int]:
    """Messages waiting in each queue of a Redis broker: LLEN of the queue's list at every priority step.

    Messages a worker has taken but not acknowledged are not waiting, and are not counted.
    """
    prefix = (settings.CELERY_BROKER_TRANSPORT_OPTIONS or {}).get("global_keyprefix", "")
    queues = list(queues)
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        with client.pipeline(transaction=False) as pipe:
            for queue in queues:
                for step in _REDIS_PRIORITY_STEPS:
                    pipe.llen(f"{prefix}{queue}{_REDIS_PRIORITY_SEPARATOR}{step}" if step else f"{prefix}{queue}")
            lengths = pipe.execute()
    finally:
        client.close()
    steps = len(_REDIS_PRIORITY_STEPS)
    return {queue: sum(lengths[i * steps:(i + 1) * steps]) for i, queue in enumerate(queues)}


def _duration_histogram(name: str, documentation: str, rows: QuerySet, start: str, end: str,
                        buckets: tuple[float, ...]) -> HistogramMetricFamily:
    """A histogram of ``end - start`` over ``rows`` (both set, end not before start), in one query."""
    duration = ExpressionWrapper(F(end) - F(start), output_field=DurationField())
    rows = rows.filter(**{f"{start}__isnull": False, f"{end}__isnull": False, f"{end}__gte": F(start)})
    aggregates = {f"le_{i}": Count("pk", filter=Q(duration__lte=timedelta(seconds=bound)))
                  for i, bound in enumerate(buckets)}
    totals = rows.annotate(duration=duration).aggregate(count=Count("pk"), total=Sum("duration"), **aggregates)
    total_seconds = totals["total"].total_seconds() if totals["total"] else 0.0
    bucket_values = [(_bound_label(bound), totals[f"le_{i}"]) for i, bound in enumerate(buckets)]
    bucket_values.append(("+Inf", totals["count"]))
    return HistogramMetricFamily(name, documentation, buckets=bucket_values, sum_value=total_seconds)


def _bound_label(bound: float) -> str:
    return str(float(bound))


class ArenaCollector:
    """Collects every AffectArena metric from the database and the broker, at each scrape."""

    def collect(self) -> Iterator[Metric]:
        from arena.audit.models import AuditEntry
        from arena.challenges.models import SubmissionKind
        from arena.submissions.models import Submission, SubmissionStatus

        by_status = dict(Submission.objects.order_by().values_list("status").annotate(n=Count("pk")))
        submissions = GaugeMetricFamily("arena_submissions", "Submissions by status.", labels=["status"])
        for status in SubmissionStatus.values:
            submissions.add_metric([status], by_status.get(status, 0))
        yield submissions

        yield _duration_histogram(
            "arena_scoring_duration_seconds", "Time from the start of scoring to the score, of scored submissions.",
            Submission.objects.filter(status=SubmissionStatus.SCORED), "scoring_started_at", "finished_at",
            SCORING_BUCKETS)
        yield _duration_histogram(
            "arena_sandbox_run_duration_seconds",
            "Time a submitted model ran in the sandbox (start of the run to the start of scoring).",
            Submission.objects.filter(kind=SubmissionKind.CONTAINER), "started_at", "scoring_started_at",
            SANDBOX_RUN_BUCKETS)

        actions = dict(AuditEntry.objects.filter(action__in=RECONCILER_ACTIONS.values()).order_by()
                       .values_list("action").annotate(n=Count("pk")))
        reconciler = CounterMetricFamily(
            "arena_reconciler_actions", "Submissions the reconciler took back from a stopped worker.",
            labels=["action"])
        for label, action in RECONCILER_ACTIONS.items():
            reconciler.add_metric([label], actions.get(action, 0))
        yield reconciler

        yield from self._queue_depths()

    def _queue_depths(self) -> Iterator[Metric]:
        url = settings.CELERY_BROKER_URL
        # Only Redis is asked here. RabbitMQ exports its queue depths itself (the rabbitmq_prometheus
        # plugin), and the file-system broker of a one-machine site has no one to scale out for.
        if not url.startswith(("redis://", "rediss://", "unix://")):
            return
        depth = GaugeMetricFamily("arena_queue_depth", "Messages waiting in each Celery queue.", labels=["queue"])
        up = GaugeMetricFamily("arena_broker_up", "Whether the broker answered this scrape (1) or not (0).")
        try:
            depths = redis_queue_depths(url, celery_queue_names())
        except (redis.RedisError, OSError):  # the broker did not answer this scrape
            up.add_metric([], 0)
            yield up
            return
        for queue, value in depths.items():
            depth.add_metric([queue], value)
        up.add_metric([], 1)
        yield depth
        yield up


def metrics_exposition() -> bytes:
    """The metrics in Prometheus' text format, collected now."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ArenaCollector())
    return generate_latest(registry)
