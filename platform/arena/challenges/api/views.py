"""The challenge catalogue over the API: challenges with tracks and phases, one phase, my team."""

from __future__ import annotations

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from arena.challenges.api.serializers import ChallengeOut, ChallengeSummaryOut, PhaseOut, TeamOut
from arena.challenges.models import Phase, Track
from arena.challenges.selectors import challenge_current_licence, challenges_visible_to
from arena.core.errors import NotFound
from arena.leaderboards.selectors import leaderboard_visible_splits
from arena.participation.api.serializers import ErrorSerializer
from arena.participation.api.views import visible_challenge
from arena.participation.selectors import data_access, licence_acceptance_of
from arena.submissions.selectors import submission_limits_of
from arena.teams.selectors import team_of

NOT_FOUND = {404: ErrorSerializer}


def _tracks_with_phases() -> Prefetch:
    return Prefetch("tracks", queryset=Track.objects.order_by("order", "id").prefetch_related(
        Prefetch("phases", queryset=Phase.objects.order_by("order", "opens_at"))))


class ChallengeListView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(operation_id="challenges_list", tags=["challenges"], responses=ChallengeSummaryOut(many=True),
                   summary="Challenges you can see, with their tracks and phases (phase ids are what you submit to)")
    def get(self, request):
        challenges = (challenges_visible_to(request.user).order_by("-starts_at", "title")
                      .prefetch_related(_tracks_with_phases()))
        return Response(ChallengeSummaryOut(challenges, many=True, context={"request": request}).data)


class ChallengeDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(operation_id="challenge_detail", tags=["challenges"], responses={200: ChallengeOut, **NOT_FOUND},
                   summary="One challenge: rules, tracks with their metric and limits, phases")
    def get(self, request, slug: str):
        challenge = visible_challenge(request.user, slug)
        challenge = type(challenge).objects.prefetch_related(_tracks_with_phases()).get(pk=challenge.pk)
        context = {"request": request, "licence": challenge_current_licence(challenge)}
        return Response(ChallengeOut(challenge, context=context).data)


class PhaseDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(operation_id="phase_detail", tags=["challenges"], responses={200: PhaseOut, **NOT_FOUND},
                   summary="One phase: its window, its track's metric and limits, the leaderboards you may read")
    def get(self, request, phase_id: int):
        phase = get_object_or_404(Phase.objects.select_related("track__challenge"), pk=phase_id,
                                  track__challenge__in=challenges_visible_to(request.user))
        team = team_of(request.user, phase.track.challenge) if request.user.is_authenticated else None
        context = {"request": request, "visible_splits": leaderboard_visible_splits(phase, request.user),
                   "limits": submission_limits_of(team=team, phase=phase) if team else None}
        return Response(PhaseOut(phase, context=context).data)


class MyTeamView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="challenge_my_team", tags=["challenges"], responses={200: TeamOut, **NOT_FOUND},
                   summary="Your team in a challenge: members, invite code, approval and licence standing")
    def get(self, request, slug: str):
        challenge = visible_challenge(request.user, slug)
        team = team_of(request.user, challenge)
        if team is None:
            raise NotFound(
                f"You are not in a team for '{challenge.title}'; create one or join one with an invite code at "
                f"{request.build_absolute_uri(reverse('team-page', args=[challenge.slug]))}.", code="no_team")
        members = list(team.memberships.select_related("user").order_by("joined_at", "id"))
        licence = challenge_current_licence(challenge)
        participation = getattr(team, "participation", None)
        access = data_access(request.user, challenge)
        return Response(TeamOut({
            "team": team, "challenge": challenge, "members": members,
            "role": next(m.role for m in members if m.user_id == request.user.pk),
            "participation_status": participation.status if participation else None,
            "licence_version": licence.version if licence else None,
            "licence_accepted": licence is None or licence_acceptance_of(team, licence) is not None,
            "can_download": access.can_download,
            "refusal": access.refusal.message if access.refusal else None,
        }).data)
