"""The Celery application. Workers start with: celery -A arena.config worker -Q default,score."""

import os

from celery import Celery
from celery.signals import worker_init, worker_process_init

from scorers.allocator import retain_freed_memory

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


@worker_init.connect(weak=False)
@worker_process_init.connect(weak=False)
def _retain_freed_memory(**kwargs) -> None:
    """Workers score large files: they keep freed memory for the next step (see
    ``scorers.allocator``)."""
    retain_freed_memory()
