"""Reads of datasets as a given person may see them."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from arena.challenges.models import Challenge
from arena.challenges.permissions import is_organiser
from arena.challenges.selectors import challenges_visible_to
from arena.datasets.models import Dataset, DatasetFile


def dataset_files_visible_to(user: Any) -> QuerySet[DatasetFile]:
    """Files of challenges ``user`` can see. Hidden files, and files whose ``release_at`` is still to
    come, only for the challenge's organisers: to everyone else they do not exist."""
    files = DatasetFile.objects.filter(dataset__challenge__in=challenges_visible_to(user).values("pk"))
    if getattr(user, "is_superuser", False):
        return files
    for_participants = Q(hidden_from_participants=False) & (
        Q(release_at__isnull=True) | Q(release_at__lte=timezone.now())
    )
    if getattr(user, "is_authenticated", False):
        return files.filter(for_participants | Q(dataset__challenge__organisers=user)).distinct()
    return files.filter(for_participants)


def datasets_for(challenge: Challenge, user: Any) -> list[Dataset]:
    """The challenge's datasets, each with ``visible_files`` holding what ``user`` may see (in order).

    For participants, a dataset none of whose files they may see yet is omitted altogether.
    """
    files = dataset_files_visible_to(user).order_by("name")
    datasets = list(
        Dataset.objects.filter(challenge=challenge).order_by("order", "id")
        .annotate(file_count=Count("files"))
        .prefetch_related(Prefetch("files", queryset=files, to_attr="visible_files"))
    )
    if is_organiser(user, challenge):
        return datasets
    return [d for d in datasets if d.visible_files or d.file_count == 0]
