from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

import scorers
from arena.challenges.activity import challenge_counts, challenge_next_deadline, challenge_timeline
from arena.challenges.models import Challenge
from arena.challenges.permissions import is_organiser
from arena.challenges.readiness import challenge_readiness
from arena.challenges.selectors import (
    challenge_announcements,
    challenge_current_licence,
    challenge_with_tracks,
    challenges_visible_to,
)
from arena.submissions.charts import phase_timeline
from arena.teams.selectors import team_of

#: Announcements shown in full on the challenge page; older ones are folded away under them.
LATEST_ANNOUNCEMENTS = 3


def _visible_challenge(request, slug: str):
    return get_object_or_404(challenges_visible_to(request.user), slug=slug)


def challenge_list(request):
    challenges = challenges_visible_to(request.user).order_by("-starts_at", "title")
    return render(request, "challenges/list.html", {"challenges": challenges, "now": timezone.now()})


def challenge_detail(request, slug: str):
    # Visibility first: nothing below (counts included) is read for a challenge the reader may not see.
    challenge = challenge_with_tracks(_visible_challenge(request, slug))
    now = timezone.now()
    timeline = challenge_timeline(challenge, now)
    announcements = list(challenge_announcements(challenge))
    return render(request, "challenges/detail.html", {
        "challenge": challenge,
        "licence": challenge_current_licence(challenge),
        "announcements": announcements[:LATEST_ANNOUNCEMENTS],
        "older_announcements": announcements[LATEST_ANNOUNCEMENTS:],
        "team": team_of(request.user, challenge),
        "is_organiser": is_organiser(request.user, challenge),
        "timeline": timeline,
        "timeline_chart": phase_timeline(timeline, now_iso=now.isoformat()),
        "deadline": challenge_next_deadline(challenge, now),
        "counts": challenge_counts(challenge, now),
        "now": now,
    })


def challenge_readiness_page(request, slug: str):
    """The readiness check, for the challenge's organisers; 404 for everyone else, as for an unknown slug."""
    challenge = Challenge.objects.filter(slug=slug).first()
    if challenge is None or not is_organiser(request.user, challenge):
        raise Http404("No such challenge.")
    return render(request, "challenges/readiness.html", {
        "challenge": challenge, "readiness": challenge_readiness(challenge), "now": timezone.now()})


def _option_text(value: object) -> str:
    """A scorer option's value as a reader writes it: lists joined by commas, yes/no for flags."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "(none)"
    return str(value)


def track_detail(request, slug: str, track_slug: str):
    challenge = _visible_challenge(request, slug)
    track = get_object_or_404(challenge.tracks.prefetch_related("phases"), slug=track_slug)
    try:
        scorer = scorers.get_scorer(track.scorer_key)
    except scorers.ScorerError:
        raise Http404("This track's scorer is not available.") from None
    values = scorer.validate_options(track.scorer_options)
    options = [(option.name, option.help, _option_text(values[option.name])) for option in scorer.options]
    return render(request, "challenges/track.html", {
        "challenge": challenge,
        "track": track,
        "phases": track.phases.order_by("order", "opens_at"),
        "scorer": scorer,
        "options": options,
        "team": team_of(request.user, challenge),
        "now": timezone.now(),
    })
