"""The Celery application. Workers start with: celery -A arena.config worker -Q default,score."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.config.settings.local")

app = Celery("arena")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _ensure_broker_folders() -> None:
    """The file-system broker needs its folders before a producer or consumer connects."""
    from django.conf import settings

    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        for key in ("data_folder_in", "data_folder_out", "control_folder"):
            os.makedirs(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key], exist_ok=True)


app.on_after_configure.connect(lambda sender, **kwargs: _ensure_broker_folders(), weak=False)


@worker_ready.connect(weak=False)
def _sweep_sandbox_leftovers(sender, **kwargs) -> None:
    """A worker of a sandbox queue starts by removing what runs of a crashed worker left on its host."""
    if set(sender.app.amqp.queues.consume_from or {}) & {"sandbox", "sandbox-gpu"}:
        from arena.submissions.services.sandbox_run import sandbox_host_sweep

        sandbox_host_sweep()
