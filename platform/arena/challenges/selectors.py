"""Reads of challenges, tracks and phases as a given person may see them."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from arena.challenges.models import Announcement, Challenge, Licence, Phase, Track


def challenges_visible_to(user) -> QuerySet[Challenge]:
    """Published challenges, plus unpublished ones the user organises."""
    qs = Challenge.objects.all()
    if getattr(user, "is_superuser", False):
        return qs
    if getattr(user, "is_authenticated", False):
        return qs.filter(Q(is_published=True) | Q(organisers=user)).distinct()
    return qs.filter(is_published=True)


def challenge_is_visible_to(challenge: Challenge, user) -> bool:
    """The single-challenge form of ``challenges_visible_to`` (no query for published ones)."""
    if challenge.is_published:
        return True
    from arena.challenges.permissions import is_organiser

    return is_organiser(user, challenge)


def challenges_organised_by(user) -> QuerySet[Challenge]:
    if getattr(user, "is_superuser", False):
        return Challenge.objects.all()
    return Challenge.objects.filter(organisers=user)


def challenge_current_licence(challenge: Challenge) -> Licence | None:
    """The challenge licence (not a dataset's own) in its highest version."""
    return challenge.licences.filter(dataset__isnull=True).order_by("-version").first()


def dataset_current_licence(dataset: Any) -> Licence | None:
    """The dataset's own licence in its highest version, or None when only the challenge licence applies."""
    return Licence.objects.filter(dataset=dataset).order_by("-version").first()


def challenge_with_tracks(challenge: Challenge) -> Challenge:
    tracks = Track.objects.order_by("order", "id").prefetch_related(
        Prefetch("phases", queryset=Phase.objects.order_by("order", "opens_at"))
    )
    return Challenge.objects.prefetch_related(Prefetch("tracks", queryset=tracks)).get(pk=challenge.pk)


def phase_visible_by_slugs(*, user, slug: str, track_slug: str, phase_slug: str) -> Phase | None:
    """The phase a page URL names, if its challenge is visible to ``user``."""
    return Phase.objects.select_related("track__challenge").filter(
        track__challenge__in=challenges_visible_to(user),
        track__challenge__slug=slug, track__slug=track_slug, slug=phase_slug,
    ).first()


def candidate_lists_visible_to(user, challenge: Challenge) -> QuerySet[Phase]:
    """The challenge's phases whose published candidate list ``user`` may download: from the phase's
    opening (organisers: always), like the pool it lists."""
    from arena.challenges.permissions import is_organiser

    phases = Phase.objects.filter(track__challenge=challenge).exclude(candidates="").select_related("track")
    if not is_organiser(user, challenge):
        phases = phases.filter(opens_at__lte=timezone.now())
    return phases.order_by("track__order", "track_id", "order", "opens_at")


def challenge_announcements(challenge: Challenge) -> QuerySet[Announcement]:
    """The organisers' published announcements of ``challenge``, newest first."""
    return challenge.announcements.filter(published_at__lte=timezone.now()).order_by("-published_at", "-id")
