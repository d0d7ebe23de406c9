"""Organiser actions on challenges, tracks and phases."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

import scorers
from arena.accounts.permissions import can_host_challenges
from arena.audit.services import audit_record
from arena.challenges.models import Announcement, Challenge, Phase
from arena.challenges.permissions import ensure_organiser
from arena.challenges.protocol_checks import phase_protocol_problem
from arena.core.errors import Conflict, DomainError, PermissionDenied
from arena.core.mail import send_notice_on_commit
from arena.teams.selectors import announcement_recipients


def track_validate_scorer_config(
    *, scorer_key: str, scorer_options: Any, tie_break_metrics: Any
) -> dict[str, Any]:
    """Check a track's scorer, options and tie-break columns; return the options as stored.

    Raises DomainError with ``details['field']`` naming the field to fix.
    """
    try:
        scorer = scorers.get_scorer(scorer_key)
    except scorers.ScorerError as exc:
        raise DomainError(str(exc), code="unknown_scorer", details={"field": "scorer_key"}) from None
    if scorer_options is None:
        scorer_options = {}
    if not isinstance(scorer_options, dict):
        raise DomainError(
            'Scorer options must be a JSON object such as {"level": "level2"}.',
            code="invalid_options", details={"field": "scorer_options"},
        )
    try:
        scorer.validate_options(scorer_options)
    except scorers.ScorerError as exc:
        raise DomainError(str(exc), code="invalid_options", details={"field": "scorer_options"}) from None
    if not isinstance(tie_break_metrics, list) or not all(isinstance(m, str) for m in tie_break_metrics):
        raise DomainError(
            'Tie-break metrics must be a JSON list of metric names such as ["mse"].',
            code="invalid_tie_break", details={"field": "tie_break_metrics"},
        )
    unknown = [m for m in tie_break_metrics if m not in scorer.metric_names]
    if unknown:
        raise DomainError(
            f"Unknown tie-break metric(s) {', '.join(unknown)} for scorer {scorer_key}; "
            f"choose from: {', '.join(scorer.metric_names)}.",
            code="invalid_tie_break", details={"field": "tie_break_metrics"},
        )
    return dict(scorer_options)


def phase_validate_files(*, track, reference_public, reference_private, candidates) -> None:
    """Check a phase's reference files with its track's scorer, and that its candidate list (if any) covers
    them. The files are uploaded or stored files (or None). Raises DomainError naming the field, with the
    scorer's own message."""
    scorer = scorers.get_scorer(track.scorer_key)
    fields = {"reference_public": reference_public, "reference_private": reference_private}
    data = {name: _read_all(value) for name, value in fields.items() if value}
    pool = _read_all(candidates) if candidates else None
    for name, gold in data.items():
        try:
            scorer.check_references([gold], options=track.scorer_options)
        except scorers.ScorerError as exc:
            raise DomainError(f"The reference does not parse with scorer {track.scorer_key}: {exc}",
                              code="invalid_reference", details={"field": name}) from None
    if pool is not None:
        try:
            scorer.check_references(list(data.values()), options=track.scorer_options, candidates=pool)
        except scorers.ScorerError as exc:
            raise DomainError(f"The candidate list does not fit the references: {exc}",
                              code="invalid_candidates", details={"field": "candidates"}) from None


def track_validate_assets(*, track, files: dict[str, object]) -> None:
    """Check a track's asset files as they will be (file name -> stored or uploaded file) with its scorer;
    raise with the scorer's own message. No files: nothing to check (the readiness check says what is missing).
    """
    try:
        scorer = scorers.get_scorer(track.scorer_key)
        options = scorer.validate_options(track.scorer_options)
    except scorers.ScorerError:
        return  # the track form reports the scorer and its options
    if not files or not scorer.needs_assets:
        return
    with tempfile.TemporaryDirectory(prefix="arena-assets-") as tmp:
        folder = Path(tmp)
        for name, file in files.items():
            with (folder / Path(name).name).open("wb") as out:
                for chunk in file.chunks():
                    out.write(chunk)
            file.seek(0)
        try:
            scorer.validate_assets(folder, options)
        except scorers.ScorerError as exc:
            message = str(exc).replace(f"'{folder}'", "of the track").replace(str(folder), "assets")
            raise DomainError(f"The scorer {track.scorer_key} cannot use these files: {message}. Upload the "
                              "complete set at once.", code="invalid_assets", details={"field": "assets"}) from None


def _read_all(file) -> bytes:
    file.open("rb")
    try:
        file.seek(0)
        return file.read()
    finally:
        file.seek(0)


@transaction.atomic
def phase_reveal_results(*, actor, phase: Phase) -> bool:
    """Reveal a phase's results: the private board, and for hidden or frozen boards the scores and the
    live public board. False when they were already revealed."""
    ensure_organiser(actor, phase.track.challenge)
    updated = Phase.objects.filter(pk=phase.pk, private_revealed_at__isnull=True).update(
        private_revealed_at=timezone.now()
    )
    if updated:
        phase.refresh_from_db(fields=["private_revealed_at"])
        audit_record(actor=actor, action="phase.reveal_results", target=phase, challenge=phase.track.challenge)
    return bool(updated)


@transaction.atomic
def phase_hide_results(*, actor, phase: Phase) -> bool:
    """Hide revealed results again (e.g. revealed by mistake); this also stops an automatic reveal at
    the close, which would otherwise show them again."""
    ensure_organiser(actor, phase.track.challenge)
    updated = Phase.objects.filter(pk=phase.pk).filter(
        Q(private_revealed_at__isnull=False) | Q(reveal_at_close=True)
    ).update(private_revealed_at=None, reveal_at_close=False)
    if updated:
        phase.refresh_from_db(fields=["private_revealed_at", "reveal_at_close"])
        audit_record(actor=actor, action="phase.hide_results", target=phase, challenge=phase.track.challenge)
    return bool(updated)


def phases_reveal_closed(*, now=None) -> int:
    """Stamp the reveal of every phase that has closed with "reveal at close" on; returns how many.

    The results are visible from the close whether or not this has run (``Phase.is_revealed``); this
    records the moment and leaves an audit entry.
    """
    now = now or timezone.now()
    revealed = 0
    due = Phase.objects.filter(reveal_at_close=True, private_revealed_at__isnull=True, closes_at__lte=now)
    for phase in due.select_related("track__challenge"):
        with transaction.atomic():
            if Phase.objects.filter(pk=phase.pk, private_revealed_at__isnull=True).update(
                    private_revealed_at=phase.closes_at):
                revealed += 1
                audit_record(actor=None, action="phase.reveal_results", target=phase,
                             challenge=phase.track.challenge, details={"automatic": True})
    return revealed


@transaction.atomic
def challenge_add_organiser(*, actor, challenge: Challenge, user) -> bool:
    """Make ``user`` an organiser of ``challenge`` (and let them into the organiser admin).

    False when they organise it already.
    """
    ensure_organiser(actor, challenge)
    if challenge.organisers.filter(pk=user.pk).exists():
        return False
    challenge.organisers.add(user)
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    audit_record(
        actor=actor, action="challenge.add_organiser", target=challenge, challenge=challenge,
        details={"user": user.username},
    )
    return True


def slug_taken_error(slug: str) -> Conflict:
    return Conflict(f"The address '{slug}' is taken by another challenge; choose another slug.",
                    code="slug_taken", details={"field": "slug"})


@transaction.atomic
def challenge_create(*, actor, challenge: Challenge) -> Challenge:
    """Store a new challenge (built, unsaved, by the admin form or the cloning service) and make its
    creator its organiser. Only people who may host challenges (and superusers) create them."""
    if not can_host_challenges(actor):
        raise PermissionDenied("Only hosts may create challenges: ask for hosting rights on your account's "
                               "hosting page.", code="not_host")
    if challenge.pk is not None:
        raise DomainError("This challenge exists already.", code="challenge_exists")
    if Challenge.objects.filter(slug=challenge.slug).exists():
        raise slug_taken_error(challenge.slug)
    try:
        with transaction.atomic():
            challenge.save()
    except IntegrityError:
        if Challenge.objects.filter(slug=challenge.slug).exists():  # taken between the check and the save
            raise slug_taken_error(challenge.slug) from None
        raise
    challenge.organisers.add(actor)
    if not actor.is_staff:
        actor.is_staff = True
        actor.save(update_fields=["is_staff"])
    audit_record(actor=actor, action="challenge.create", target=challenge, challenge=challenge,
                 details={"slug": challenge.slug})
    return challenge


@transaction.atomic
def announcement_publish(*, actor, challenge: Challenge, title: str, body: str) -> Announcement:
    """Publish an organisers' announcement on the challenge page and, once committed, e-mail it to every
    member of every team who has not turned announcement e-mails off (one message per team, so that
    teams do not see each other's addresses)."""
    ensure_organiser(actor, challenge)
    title = " ".join(title.split())
    if not title:
        raise DomainError("Give the announcement a title.", code="invalid", details={"field": "title"})
    if len(title) > Announcement._meta.get_field("title").max_length:
        raise DomainError("The title is too long: at most 200 characters.", code="invalid",
                          details={"field": "title"})
    if not body.strip():
        raise DomainError("Write the announcement's text.", code="invalid", details={"field": "body"})
    announcement = Announcement.objects.create(challenge=challenge, title=title, body=body, created_by=actor)
    recipients = announcement_recipients(challenge)
    page = f"{settings.SITE_URL}{reverse('challenge-detail', args=[challenge.slug])}"
    team_page = f"{settings.SITE_URL}{reverse('team-page', args=[challenge.slug])}"
    for team, emails in recipients:
        send_notice_on_commit(
            subject=f"[{challenge.title}] {title}",
            body=f"{body.strip()}\n\n-- \nAnnouncement of the organisers of {challenge.title}: {page}\n"
                 f"You get it as a member of team {team.name}; to stop these e-mails, turn them off on your "
                 f"team page: {team_page}\n",
            to=emails,
        )
    audit_record(actor=actor, action="announcement.publish", target=announcement, challenge=challenge,
                 details={"title": title, "recipients": sum(len(emails) for _team, emails in recipients)})
    return announcement


@transaction.atomic
def phase_set_robustness_protocol(*, actor, phase: Phase, protocol: dict[str, Any] | None) -> bool:
    """Give ``phase`` the robustness ``protocol`` (empty or None: none), checked by the rules
    ``Phase.clean`` applies; audited. False when it already has it.

    Raises DomainError (code ``invalid_protocol``, ``details['field']`` ``robustness_protocol``) naming
    the mistake, and changes nothing then."""
    ensure_organiser(actor, phase.track.challenge)
    protocol = protocol or {}
    locked = Phase.objects.select_for_update().select_related("track__challenge").get(pk=phase.pk)
    if locked.robustness_protocol == protocol:
        return False
    before, locked.robustness_protocol = locked.robustness_protocol, protocol
    problem = phase_protocol_problem(locked)
    if problem is not None:
        raise DomainError(problem, code="invalid_protocol", details={"field": "robustness_protocol"})
    locked.save(update_fields=["robustness_protocol"])
    phase.robustness_protocol = protocol
    audit_record(actor=actor, action="phase.robustness_protocol", target=locked, challenge=locked.track.challenge,
                 details={"before": before, "after": protocol})
    return True
