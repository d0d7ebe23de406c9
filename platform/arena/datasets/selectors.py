"""Reads of datasets as a given person may see them."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from arena.challenges.models import Challenge
from arena.challenges.permissions import is_organiser
from arena.challenges.selectors import challenges_visible_to
from arena.datasets.models import Dataset, DatasetFile


def dataset_files_visible_to(user: Any) -> QuerySet[DatasetFile]:
    """Files of challenges ``user`` can see; hidden files only for the challenge's organisers."""
    files = DatasetFile.objects.filter(dataset__challenge__in=challenges_visible_to(user).values("pk"))
    if getattr(user, "is_superuser", False):
        return files
    if getattr(user, "is_authenticated", False):
        return files.filter(Q(hidden_from_participants=False) | Q(dataset__challenge__organisers=user)).distinct()
    return files.filter(hidden_from_participants=False)


def datasets_for(challenge: Challenge, user: Any) -> list[Dataset]:
    """The challenge's datasets, each with ``files`` holding what ``user`` may see (in order).

    For participants, a dataset whose files are all hidden is omitted altogether.
    """
    show_hidden = is_organiser(user, challenge)
    files = DatasetFile.objects.order_by("name")
    if not show_hidden:
        files = files.filter(hidden_from_participants=False)
    datasets = list(
        Dataset.objects.filter(challenge=challenge).order_by("order", "id")
        .annotate(file_count=Count("files"))
        .prefetch_related(Prefetch("files", queryset=files, to_attr="visible_files"))
    )
    if show_hidden:
        return datasets
    return [d for d in datasets if d.visible_files or d.file_count == 0]
