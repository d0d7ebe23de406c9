"""Cloning a challenge as a new edition: its set-up, never its data.

Copied: tracks (scorer, options, tie-breaks, limits, container limits) with copies of their scorer
files, phases with their dates shifted and their board, entry-rule and limit settings, fact-sheet
questions, the current challenge licence and each dataset's current licence as version 1, datasets'
titles and descriptions, and the participation settings. Not copied: references, candidate lists and
container inputs of phases, and dataset files (the new edition's data), reveals, announcements, teams
and entries. The clone starts unpublished, with the actor as its only organiser.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import validate_slug
from django.db import models, transaction

from arena.audit.services import audit_record
from arena.challenges.models import Challenge, Licence, Phase, Track, TrackAsset
from arena.challenges.permissions import ensure_organiser
from arena.challenges.selectors import challenge_current_licence, dataset_current_licence
from arena.challenges.services import challenge_create
from arena.core.errors import DomainError
from arena.datasets.models import Dataset
from arena.factsheets.models import Question

#: Challenge settings copied as they are; the dates are shifted; the rest is the new edition's own.
CHALLENGE_COPIED = ("summary", "overview", "rules", "requires_approval", "requires_signed_agreement",
                    "max_team_size")
CHALLENGE_SHIFTED = ("starts_at", "ends_at", "entry_deadline")
CHALLENGE_NOT_COPIED = ("id", "slug", "title", "is_published", "organisers", "created_at", "updated_at")

TRACK_COPIED = ("slug", "title", "summary", "description", "order", "scorer_key", "scorer_options",
                "tie_break_metrics", "board_resamples", "board_alpha", "accepts_files", "accepts_containers",
                "max_upload_mb", "allow_compressed",
                "max_per_day", "max_total", "max_in_flight", "container_wall_seconds", "container_memory_mb",
                "container_cpus", "container_gpus", "container_pids", "max_image_mb", "show_container_logs",
                "image_allowlist")
TRACK_NOT_COPIED = ("id", "challenge")

PHASE_COPIED = ("slug", "title", "kind", "order", "board_visibility", "reveal_at_close", "entry_rule",
                "max_selected", "max_per_day", "max_total", "max_in_flight", "max_refused_per_hour",
                "robustness_protocol")
PHASE_SHIFTED = ("opens_at", "closes_at", "frozen_at")
#: The new edition's data (uploaded afresh, checked against the track's scorer) and its own reveal.
PHASE_NOT_COPIED = ("id", "track", "reference_public", "reference_private", "candidates", "container_inputs",
                    "container_inputs_sha256", "container_inputs_media", "condition_map", "private_revealed_at")

DATASET_COPIED = ("slug", "title", "description", "order")
LICENCE_COPIED = ("title", "text", "requires_signed_agreement", "requires_approval")
#: Fact-sheet questions are part of a phase's set-up: every field but the phase.
QUESTION_COPIED = tuple(f.name for f in Question._meta.concrete_fields if f.name not in ("id", "phase"))


@transaction.atomic
def challenge_clone(*, actor, challenge: Challenge, slug: str, title: str, offset_days: int) -> Challenge:
    """Create a new, unpublished edition of ``challenge`` named ``slug`` and ``title``, every date
    shifted by ``offset_days``, organised by ``actor`` (who must organise ``challenge`` and may host).

    Raises DomainError (``details['field']`` naming the input) for a taken or malformed slug, and
    creates nothing then.
    """
    ensure_organiser(actor, challenge)
    slug, title = slug.strip(), title.strip()
    try:
        validate_slug(slug)
    except ValidationError:
        raise DomainError("A slug has letters, digits, hyphens and underscores only.", code="invalid_slug",
                          details={"field": "slug"}) from None
    if not title:
        raise DomainError("Give the new edition a title.", code="invalid_title", details={"field": "title"})
    offset = timedelta(days=offset_days)
    clone = Challenge(slug=slug, title=title, is_published=False,
                      **_copied(challenge, CHALLENGE_COPIED), **_shifted(challenge, CHALLENGE_SHIFTED, offset))
    challenge_create(actor=actor, challenge=clone)
    stored: list[models.FieldFile] = []
    try:
        _clone_licences_and_datasets(challenge, clone)
        for track in challenge.tracks.order_by("order", "id"):
            _clone_track(track, clone, offset, stored)
    except BaseException:
        # The rows roll back with the transaction; the files copied so far would stay behind.
        for file in stored:
            file.storage.delete(file.name)
        raise
    audit_record(actor=actor, action="challenge.clone", target=clone, challenge=clone,
                 details={"source": challenge.slug, "offset_days": offset_days})
    return clone


def _copied(obj: models.Model, names: tuple[str, ...]) -> dict:
    return {name: getattr(obj, name) for name in names}


def _shifted(obj: models.Model, names: tuple[str, ...], offset: timedelta) -> dict:
    return {name: None if getattr(obj, name) is None else getattr(obj, name) + offset for name in names}


def _clone_licences_and_datasets(source: Challenge, clone: Challenge) -> None:
    licence = challenge_current_licence(source)
    if licence is not None:
        Licence.objects.create(challenge=clone, dataset=None, version=1, **_copied(licence, LICENCE_COPIED))
    for dataset in source.datasets.order_by("order", "id"):
        copy = Dataset.objects.create(challenge=clone, **_copied(dataset, DATASET_COPIED))
        own = dataset_current_licence(dataset)
        if own is not None:
            Licence.objects.create(challenge=clone, dataset=copy, version=1, **_copied(own, LICENCE_COPIED))


def _clone_track(track: Track, clone: Challenge, offset: timedelta, stored: list) -> None:
    copy = Track.objects.create(challenge=clone, **_copied(track, TRACK_COPIED))
    for asset in track.assets.order_by("path"):
        # A new file under a new key: the editions' scorer files can then change independently.
        new = TrackAsset(track=copy, path=asset.path, size=asset.size, sha256=asset.sha256)
        with asset.file.open("rb") as source:
            new.file.save(asset.file.name.rsplit("/", 1)[-1], File(source), save=False)
        stored.append(new.file)
        new.save()
    for phase in track.phases.order_by("order", "opens_at", "id"):
        new_phase = Phase.objects.create(track=copy, **_copied(phase, PHASE_COPIED),
                                         **_shifted(phase, PHASE_SHIFTED, offset))
        Question.objects.bulk_create(
            Question(phase=new_phase, **_copied(question, QUESTION_COPIED))
            for question in phase.questions.order_by("order", "id")
        )
